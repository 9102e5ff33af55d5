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
import { buttons, click, command, ephemeralsFor, recordedSlackWaits, requestRun, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';
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
  // The posters' waits are recorded, not slept: the Slack fault tests assert the ones their faults caused.
  const slackRetry = recordedSlackWaits({ attempts: 6, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0, slackRetry });
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
    // a double click, and a second approver late on the same (stale) message
    await click(stack, 'bob', planned, 'run_approve');
    await click(stack, 'dave', planned, 'run_approve');

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
    // executed once
    expect((await stack.store.listAudit(100)).filter((e) => e.runId === runId && e.action === 'result')).toMatchObject([{ result: 'succeeded' }]);
    // the source is untouched
    expect(await itemsOf(ddb(), TABLE)).toEqual(source);
  });

  /** Deletes a test's restored tables (deletion protection off first), so the next test starts clean. */
  async function dropRestored(table: string): Promise<void> {
    for (const t of await restoredOf(table)) {
      await ddb().send(new UpdateTableCommand({ TableName: t, DeletionProtectionEnabled: false }));
      await ddb().send(new DeleteTableCommand({ TableName: t }));
    }
  }
  afterEach(async () => {
    delete stack.standIn.fault;
    await dropRestored(TABLE);
  });

  describe('from backups', () => {
    const state = new Map<string, Map<string, string>>();
    const backupArn = new Map<string, string>();
    beforeAll(async () => {
      // three states of spawn-queues: a backup of the first two, the third live
      await createSourceTable(ddb(), OTHER, { items: 30 });
      state.set('first', await itemsOf(ddb(), OTHER));
      const b1 = await ddb().send(new CreateBackupCommand({ TableName: OTHER, BackupName: 'queues-first' }));
      backupArn.set('first', b1.BackupDetails?.BackupArn ?? '');
      await ddb().send(new DeleteItemCommand({ TableName: OTHER, Key: { pk: { S: 'i-00003' } } }));
      await ddb().send(new PutItemCommand({ TableName: OTHER, Item: { ...richItem(4), state: { S: 'changed' } } }));
      state.set('second', await itemsOf(ddb(), OTHER));
      await ddb().send(new CreateBackupCommand({ TableName: OTHER, BackupName: 'queues-second' }));
      await ddb().send(new PutItemCommand({ TableName: OTHER, Item: richItem(500) }));
    });
    afterEach(() => dropRestored(OTHER));

    it.each([
      ['--backup NAME', '--backup queues-first', 'first'],
      ['--backup ARN', 'ARN', 'first'],
      ['--latest-backup', '--latest-backup', 'second'],
    ])('%s restores that backup’s items, not the live ones, and compares them with the live table', async (_what, flagText, which) => {
      // prepare
      const flags = flagText === 'ARN' ? `--backup ${backupArn.get('first') ?? ''}` : flagText;
      const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${OTHER} ${flags}`);

      // act
      await click(stack, 'bob', planned, 'run_approve');

      // assess
      const [target] = await restoredOf(OTHER);
      expect(await itemsOf(ddb(), target ?? '')).toEqual(state.get(which));
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      const text = textOf(stack.standIn.message(planned.channel, planned.ts));
      expect(text).toContain(which === 'first' ? 'from backup `queues-first`' : 'from backup `queues-second`');
      expect(textOf(planned)).toContain(which === 'first' ? 'from backup `queues-first` (USER' : 'from its newest AVAILABLE backup `queues-second` (USER');
      // the live table has the item written after the backups; the first backup lacks item 3's deletion
      expect(text).toContain('*1* only in the live table (written since)');
    });

    it('restores a deleted table from its backup: settings it cannot know are named, and there is no cut-over', async () => {
      // prepare: spawn-alerts had items and a backup, then was deleted
      const items = await createSourceTable(ddb(), 'spawn-alerts', { items: 12, tags: { team: 'spawn' } });
      await ddb().send(new CreateBackupCommand({ TableName: 'spawn-alerts', BackupName: 'alerts-before' }));
      await ddb().send(new DeleteTableCommand({ TableName: 'spawn-alerts' }));
      const { runId, message: planned } = await requestRun(stack, 'alice', 'restore dynamodb spawn-alerts --latest-backup');

      // act
      await click(stack, 'bob', planned, 'run_approve');

      // assess
      const [target] = await restoredOf('spawn-alerts');
      expect(await itemsOf(ddb(), target ?? '')).toEqual(byKey(items));
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      const final = stack.standIn.message(planned.channel, planned.ts);
      const text = textOf(final);
      expect(text).toContain('Not re-applied: tags, deletion protection and the resource policy: the source table is gone and a backup does not keep it');
      expect(text).toContain('No live table to compare with: it was deleted.');
      expect(buttons(final).map((b) => b.text)).toEqual(['Keep both', 'Delete restored table']);
      await dropRestored('spawn-alerts');
    });

    it('refuses a backup name the table does not have, naming its newest backups, and creates nothing', async () => {
      // act
      const reply = await command(stack, 'alice', `restore dynamodb ${OTHER} --backup queues-third`);

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const text = textOf(message(runId));
      expect(text).toContain('`spawn-queues` has no backup named `queues-third`. Its newest: `queues-second`, `queues-first`.');
      expect(await restoredOf(OTHER)).toEqual([]);
    });

    it('refuses to restore a deleted table to a time: moto keeps no system backup, and drbot says so', async () => {
      // act
      const reply = await command(stack, 'alice', 'restore dynamodb spawn-alerts --to 5m');

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      expect(textOf(message(runId))).toContain('`spawn-alerts` does not exist, and DynamoDB keeps no system backup of it');
      expect(await restoredOf('spawn-alerts')).toEqual([]);
    });
  });

  describe('faults', () => {
    const isTarget = (i: Record<string, unknown>) => String(i.TableName ?? '').startsWith(`${TABLE}-restored-`);

    it('access-denied-on-ttl: the table is still restored with every other setting, and the report names what was refused', async () => {
      // prepare
      const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to ${await pitrInstant(TABLE)}`);
      const undo = fail(ddb(), 'UpdateTimeToLiveCommand', ACCESS_DENIED);

      // act
      try {
        await click(stack, 'bob', planned, 'run_approve');
      } finally {
        undo();
      }

      // assess: AWS
      const [target] = await restoredOf(TABLE);
      expect((await itemsOf(ddb(), target ?? '')).size).toBe(ITEMS);
      expect((await ddb().send(new DescribeTimeToLiveCommand({ TableName: target }))).TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
      const d = (await ddb().send(new DescribeTableCommand({ TableName: target }))).Table;
      expect(d?.StreamSpecification?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
      expect(d?.DeletionProtectionEnabled).toBe(true);
      // the run and its message
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 1 });
      const text = textOf(stack.standIn.message(planned.channel, planned.ts));
      expect(text).toContain('Re-applied from the live table: 2 tags; PITR; stream (NEW_AND_OLD_IMAGES); resource policy; deletion protection.');
      expect(text).toContain('1 failed:');
      expect(text).toContain('TTL on `expiresAt` not re-applied: UpdateTimeToLive on `' + (target ?? '') + '` failed: User is not authorized');
      expect(text).toContain("Grant the bot's role permission for `UpdateTimeToLive`");
    });

    it('throttled-while-waiting: DescribeTable throttles twice and the table is CREATING for two checks; the run waits it out, showing the status', async () => {
      // prepare
      const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to ${await pitrInstant(TABLE)}`);
      let calls = 0;
      let creating = 0;
      const undoFail = fail(ddb(), 'DescribeTableCommand', { name: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.', status: 400 }, { when: (i) => isTarget(i) && [2, 3].includes(++calls) });
      const undoRewrite = rewrite<{ Table?: { TableStatus?: string } }>(ddb(), 'DescribeTableCommand', (out, i) => (isTarget(i) && out.Table && creating++ < 2 ? { ...out, Table: { ...out.Table, TableStatus: 'CREATING' } } : out));
      const updatesBefore = stack.standIn.calls.length;

      // act
      try {
        await click(stack, 'bob', planned, 'run_approve');
      } finally {
        undoFail();
        undoRewrite();
      }

      // assess
      expect(calls).toBeGreaterThanOrEqual(6);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
      const [target] = await restoredOf(TABLE);
      expect((await itemsOf(ddb(), target ?? '')).size).toBe(ITEMS);
      const progress = stack.standIn.calls
        .slice(updatesBefore)
        .filter((c) => c.method === 'chat.update')
        .map((c) => JSON.stringify(c.args.blocks ?? ''))
        .filter((b) => b.includes('restoring into'));
      expect(progress.some((b) => b.includes(': CREATING'))).toBe(true);
      expect(progress.some((b) => b.includes(': ACTIVE'))).toBe(true);
      expect(textOf(stack.standIn.message(planned.channel, planned.ts))).toContain(`\`${target ?? ''}\` is ACTIVE`);
    });

    it('slack-429-on-final-update and 500 on progress: the table is restored and the record and message end Done', async () => {
      // prepare
      const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to ${await pitrInstant(TABLE)}`);
      let limited = 0;
      stack.standIn.fault = (method, args) => {
        if (method !== 'chat.update') return undefined;
        if (String(args.text).startsWith('Done') && limited++ < 2) return { status: 429, retryAfter: 1 };
        return String(args.text).startsWith('Running') ? { status: 500 } : undefined;
      };
      const waited = slackRetry.waits.length;

      // act
      await click(stack, 'bob', planned, 'run_approve');

      // assess: each refused progress update tried 6 times (backoff from 20 ms), then Retry-After (1 s) waited twice for the final one
      expect(limited).toBe(3);
      const waits = slackRetry.waits.slice(waited);
      expect(waits.slice(-2)).toEqual([1000, 1000]);
      const progress = waits.slice(0, -2);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress).toEqual(Array.from({ length: progress.length }, (_, i) => [20, 40, 80, 160, 320][i % 5]));
      expect(await restoredOf(TABLE)).toHaveLength(1);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(stack.standIn.message(planned.channel, planned.ts))).toMatch(/^✅ Done/);
    });
  });

  describe('bad input', () => {
    const refusedAtCommand = async (text: string) => {
      const before = stack.engine.names().length;
      const reply = await command(stack, 'alice', text);
      expect(stack.engine.names()).toHaveLength(before);
      return `${reply.json?.text ?? ''}\n${ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).join('\n')}`;
    };

    it('refuses an unknown table, a missing or doubled mode, and a backup of another table before any run starts', async () => {
      // act / assess
      expect(await refusedAtCommand('restore dynamodb spawn-nope --to 5m')).toContain('Unknown table `spawn-nope`');
      expect(await refusedAtCommand(`restore dynamodb ${TABLE}`)).toContain('say what to restore: `--to TIME|DURATION`, `--backup ARN|NAME` or `--latest-backup`.');
      expect(await refusedAtCommand(`restore dynamodb ${TABLE} --to 5m --latest-backup`)).toContain('--to and --latest-backup cannot be used together.');
      expect(await refusedAtCommand(`restore dynamodb ${TABLE} --backup arn:aws:dynamodb:us-east-1:123456789012:table/spawn-queues/backup/01700000000000-abcdef12`)).toContain(
        'that backup is of table `spawn-queues`, not `spawn-instances`.',
      );
    });

    it('refuses hostile values without echoing anything live', async () => {
      // act
      const said = [
        await refusedAtCommand(`restore dynamodb ${TABLE} --backup "x\` <@U123> <!channel>"`),
        await refusedAtCommand(`restore dynamodb ${TABLE} --to "<https://evil.example|5m>"`),
        await refusedAtCommand(`restore dynamodb ${TABLE} --to ${'9'.repeat(5000)}m`),
        await refusedAtCommand(`restore dynamodb ${TABLE} --backup ${'a'.repeat(300)}`),
        await refusedAtCommand('restore dynamodb `spawn-instances` --to 5m'),
      ].join('\n');

      // assess
      expect(said).not.toMatch(/<@U123>|<!channel>|<https:/);
      expect(said).toContain('is not a DynamoDB backup name or ARN');
      expect(await restoredOf(TABLE)).toEqual([]);
    });

    it('refuses a time outside the PITR window, giving the window, and creates nothing', async () => {
      // act
      const reply = await command(stack, 'alice', `restore dynamodb ${TABLE} --to 2h`);

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const instant = (await pitrInstant(TABLE)).slice(0, 19).replace('T', ' ');
      expect(textOf(message(runId))).toContain(`is outside the PITR window of \`${TABLE}\`: it can be restored to any time from ${instant} UTC to ${instant} UTC.`);
      expect(await restoredOf(TABLE)).toEqual([]);
    });
  });
});
