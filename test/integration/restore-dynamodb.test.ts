import {
  CreateBackupCommand,
  DeleteTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetResourcePolicyCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  DeleteItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { ACCESS_DENIED, fail, rewrite } from '../helpers/faults';
import { buttons, click, command, ephemeralsFor, requestRun, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { byKey, createSourceTable, itemsOf, richItem } from '../helpers/tables';

/*
 * /dr restore dynamodb against moto: the restored table's items item by item, the settings a
 * restore drops read back from AWS, the approval path, a dry run, backups by name and newest, a
 * deleted table's backup, faults mid-run (AccessDenied on a re-apply step, throttling while
 * waiting, Slack 429/500) and bad input. moto ignores the PITR restore time and freezes the PITR
 * window at the moment PITR was turned on: the PITR path here restores to exactly that moment;
 * the window itself is tested with AWS's answers in restore-dynamodb-aws.test.ts.
 */

const TABLE = 'spawn-instances';
const OTHER = 'spawn-queues';
const config = parseConfig({ ...SANDBOX_CONFIG, dynamodb: { tables: [{ name: TABLE }, { name: OTHER }, { name: 'spawn-alerts' }] } }, 'restore dynamodb test config');
const ITEMS = 120;

describe('/dr restore dynamodb', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  const ddb = () => stack.clients.dynamodb('us-east-1');
  const message = (runId: string) => stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
  const tables = async () => (await ddb().send(new ListTablesCommand({}))).TableNames ?? [];
  const restoredOf = async (table: string) => (await tables()).filter((t) => t.startsWith(`${table}-restored-`));
  /** moto's PITR window is the instant PITR was turned on: the only time it accepts. */
  const pitrInstant = async (table: string) =>
    (await ddb().send(new DescribeContinuousBackupsCommand({ TableName: table }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.EarliestRestorableDateTime?.toISOString() ?? '';
  let source: Map<string, string>;
  let sourceArn: string;

  beforeAll(async () => {
    stack = getStack();
    const items = await createSourceTable(ddb(), TABLE, {
      items: ITEMS,
      pitr: true,
      ttl: 'expiresAt',
      stream: 'NEW_AND_OLD_IMAGES',
      tags: { team: 'spawn', 'cost-center': 'ops-42' },
      deletionProtection: true,
      policy: true,
    });
    source = byKey(items);
    sourceArn = (await ddb().send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableArn ?? '';
  }, 60_000);

  it('plans a dry run that names the new table and what it re-applies, and creates nothing', async () => {
    // act
    const reply = await command(stack, 'alice', `restore dynamodb ${TABLE} --to ${await pitrInstant(TABLE)} --dry-run`);

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const text = textOf(message(runId));
    expect(text).toMatch(new RegExp(`Would restore \`${TABLE}\` as it was at .* into a new table \`${TABLE}-restored-\\d{8}-\\d{6}\``));
    expect(text).toContain('PITR; TTL on `expiresAt`; stream (NEW_AND_OLD_IMAGES); 2 tags; resource policy');
    expect(text).toContain('deletion protection');
    expect(await restoredOf(TABLE)).toEqual([]);
  });

  it('restores after an approver approves: every item the same, the dropped settings read back from AWS, drbot’s tags, and the next steps', async () => {
    // prepare
    const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to ${await pitrInstant(TABLE)}`);
    const before = await restoredOf(TABLE);

    // act: alice cannot approve her own run, carol is a viewer, bob approves
    await click(stack, 'alice', planned, 'run_approve');
    await click(stack, 'carol', planned, 'run_approve');
    const afterRefusals = await restoredOf(TABLE);
    await click(stack, 'bob', planned, 'run_approve');

    // assess: one new table, with the same items
    expect(before).toEqual([]);
    expect(afterRefusals).toEqual([]);
    const made = await restoredOf(TABLE);
    expect(made).toHaveLength(1);
    const target = made[0] ?? '';
    expect(target).toMatch(new RegExp(`^${TABLE}-restored-\\d{8}-\\d{6}$`));
    const restored = await itemsOf(ddb(), target);
    expect(restored.size).toBe(ITEMS);
    for (const [k, v] of source) expect(restored.get(k)).toBe(v);
    // the settings, as AWS reports them now
    const d = (await ddb().send(new DescribeTableCommand({ TableName: target }))).Table;
    const arn = d?.TableArn ?? '';
    expect(d?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(d?.DeletionProtectionEnabled).toBe(true);
    const pitr = await ddb().send(new DescribeContinuousBackupsCommand({ TableName: target }));
    expect(pitr.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    const ttl = await ddb().send(new DescribeTimeToLiveCommand({ TableName: target }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    const tags = Object.fromEntries(((await ddb().send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toEqual({ team: 'spawn', 'cost-center': 'ops-42', 'drbot-run': runId, 'drbot-restored-from': TABLE, 'drbot-deletion-protection': 'on' });
    const policy = JSON.parse((await ddb().send(new GetResourcePolicyCommand({ ResourceArn: arn }))).Policy ?? '{}') as { Statement: { Resource: string[] }[] };
    expect(policy.Statement[0]?.Resource).toEqual([arn, `${arn}/index/*`]);
    expect(JSON.stringify(policy)).not.toContain(`${sourceArn}"`);
    // the run and its message
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
    const text = textOf(stack.standIn.message(planned.channel, planned.ts));
    expect(text).toContain(`\`${target}\` is ACTIVE`);
    expect(text).toContain('Re-applied from the live table: 2 tags; PITR; TTL on `expiresAt`; stream (NEW_AND_OLD_IMAGES); resource policy; deletion protection.');
    expect(text).toContain(`has *${ITEMS}* items, \`${TABLE}\` *${ITEMS}* (exact counts)`);
    expect(text).toContain(`Of *${ITEMS}* sampled keys: ${ITEMS} the same, *0* differ, *0* only in the restored table`);
    expect(buttons(stack.standIn.message(planned.channel, planned.ts)).map((b) => b.text)).toEqual(['Cut over', 'Keep both', 'Delete restored table']);
    expect((await stack.store.getRun(runId))?.next).toEqual([
      { label: 'Cut over', command: `cutover dynamodb ${TABLE} --from ${target}`, style: 'primary' },
      { label: 'Keep both', command: `keep dynamodb ${TABLE} --restored ${target}` },
      { label: 'Delete restored table', command: `delete restored-table ${target}`, style: 'danger' },
    ]);
    // the source is untouched
    expect(await itemsOf(ddb(), TABLE)).toEqual(source);
  });
});
