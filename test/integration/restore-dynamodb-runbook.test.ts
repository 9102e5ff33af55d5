/**
 * The DynamoDB restore runbook (src/runbooks/restore-dynamodb/runbook.ts and the plan's reads in
 * plan.ts, `/dr restore dynamodb`) on its own, against moto: what its plan reads, refuses and shows,
 * and what its execution restores, waits for, re-applies, compares and reports, with AWS refusing on
 * the way. Each test has its own source table. The flows through Slack and approval are
 * restore-dynamodb.test.ts, and where moto differs from AWS (the PITR window, a deleted table's
 * system backup, CREATING for minutes) restore-dynamodb-aws.test.ts; these need no local stack, so
 * `npm run mutate` can run them for each mutant.
 *
 * moto ignores the PITR restore time and freezes the PITR window at the moment PITR was turned on:
 * the PITR restores here ask for exactly that moment. Refusals, throttling and a table moto never
 * shows (not ACTIVE, gone) are SDK middleware on the runbook's own client (test/helpers/faults.ts).
 */
import {
  CreateBackupCommand,
  DeleteTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetResourcePolicyCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  RestoreTableFromBackupCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import type { RestoreDynamodbInput } from '../../src/runbooks/restore-dynamodb';
import { type RestorePlan, runbook } from '../../src/runbooks/restore-dynamodb/runbook';
import { restoredTableName } from '../../src/runbooks/restored-tables';
import type { AnyRunInput } from '../../src/runbooks/types';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { ACCESS_DENIED, fail, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';
import { byKey, createSourceTable, itemsOf, policyFor, richItem } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const ddb = () => rig.moto().clients.dynamodb('us-east-1');
const THROTTLED = { name: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.', status: 400 };
const at = /<!date\^\d+\^\{date_short_pretty\} \{time_secs\}\|[^>]+>/.source;

/** A source table of its own, set up as an SRE would have it, and the config listing it. */
async function table(opts: { bare?: boolean; items?: number } = {}): Promise<{ name: string; arn: string; items: Map<string, string> }> {
  const name = `rd-${++n}`;
  const items = await createSourceTable(
    ddb(),
    name,
    opts.bare ? { items: opts.items ?? 5 } : { items: opts.items ?? 30, pitr: true, ttl: 'expiresAt', stream: 'NEW_AND_OLD_IMAGES', tags: { team: 'spawn' }, deletionProtection: true, policy: true },
  );
  rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name }] } });
  const arn = (await ddb().send(new DescribeTableCommand({ TableName: name }))).Table?.TableArn ?? '';
  return { name, arn, items: byKey(items) };
}

/** moto's PITR window is the instant PITR was turned on: the only time it accepts. */
const pitrInstant = async (t: string) =>
  (await ddb().send(new DescribeContinuousBackupsCommand({ TableName: t }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.EarliestRestorableDateTime?.toISOString() ?? '';

function input(t: string, over: Partial<RestoreDynamodbInput> = {}): RestoreDynamodbInput & AnyRunInput {
  return { kind: 'restore-dynamodb', runId: `r-rd${String(++n).padStart(10, '0')}`, requester: 'UALICE', channel: 'C1', commandText: `/dr restore dynamodb ${t}`, requestedAt: new Date().toISOString(), table: t, latestBackup: false, dryRun: false, ...over } as RestoreDynamodbInput & AnyRunInput;
}

const plan = (i: RestoreDynamodbInput, now?: Date) => runbook.plan({ ...rig.deps(), ...(now ? { now: () => now } : {}) }, i);
const execute = (i: RestoreDynamodbInput & AnyRunInput, p: RestorePlan) => rig.execute(runbook, i, p);
const isTarget = (p: RestorePlan) => (x: Record<string, unknown>) => x.TableName === p.target;

describe('the plan', () => {
  it('a point in time: the source, what it re-applies from the live table, what it does not, the tags, the comparison, what it costs', async () => {
    const t = await table();
    const when = new Date('2026-12-04T10:00:00Z');
    const i = input(t.name, { to: await pitrInstant(t.name) });

    const p = await plan(i, when);
    const dry = await plan(input(t.name, { to: i.to, dryRun: true }), when);

    const target = restoredTableName(t.name, when);
    expect(p.data).toMatchObject({ table: t.name, region: 'us-east-1', target, live: true, sourceArn: t.arn, source: { kind: 'pitr', at: i.to }, reapply: { from: 'source', tags: [{ Key: 'team', Value: 'spawn' }] } });
    expect(p.lines[0]).toMatch(new RegExp(`^Restores \`${t.name}\` as it was at \\*${at}\\* \\(point-in-time recovery; its window is ${at} to ${at}\\) into a new table \`${target}\`\\.$`));
    expect(dry.lines[0]).toMatch(/^Would restore `/);
    expect(p.lines.slice(1)).toEqual([
      'Then re-applies what a restore drops, from the live table: PITR; TTL on `expiresAt`; stream (NEW_AND_OLD_IMAGES); 1 tag; resource policy (the source’s ARN replaced by the restored table’s); deletion protection.',
      'Not re-applied: nothing (auto scaling is not used: on-demand capacity).',
      `Tags the new table \`drbot-run=${i.runId}\` and \`drbot-restored-from=${t.name}\`.`,
      'Then compares it with the live table: item counts, and up to 1,000 sampled items one by one.',
      `Nothing existing changes: \`${t.name}\` is not touched. The new table is billed (storage) until it is deleted.`,
    ]);
  });

  it('a provisioned table with nothing to re-apply: says so, and that its count is DynamoDB\'s own', async () => {
    const t = await table({ bare: true });
    await ddb().send(new UpdateTableCommand({ TableName: t.name, BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }));
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'nightly' }));

    const p = await plan(input(t.name, { latestBackup: true }));

    expect(p.lines[0]).toMatch(new RegExp(`^Restores \`${t.name}\` from its newest AVAILABLE backup \`nightly\` \\(USER, taken ${at}`));
    expect(p.lines[1]).toBe('Nothing to re-apply: the live table has no PITR, TTL, stream, tags, resource policy or deletion protection.');
    expect(p.lines[2]).toMatch(/^Not re-applied: auto scaling: drbot does not copy scaling targets/);
    expect(p.lines[4]).toBe(`Then compares it with the live table: item counts, and up to 1,000 sampled items one by one (the live table’s count is DynamoDB’s own: scanning \`${t.name}\` would spend its provisioned read capacity).`);
    expect(p.lines[5]).toBe(`Nothing existing changes: \`${t.name}\` is not touched. The new table is billed (storage and provisioned capacity) until it is deleted.`);
  });

  it('a deleted table, from its backup: no comparison, and nothing of the live table to re-apply', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'before-delete' }));
    await ddb().send(new DeleteTableCommand({ TableName: t.name }));

    const p = await plan(input(t.name, { backup: 'before-delete' }));

    expect(p.data).toMatchObject({ live: false, reapply: { from: 'backup' } });
    expect(p.data.sourceArn).toBeUndefined();
    expect(p.lines[0]).toMatch(new RegExp(`^Restores \`${t.name}\` from backup \`before-delete\``));
    expect(p.lines.some((l) => l.startsWith('Then compares'))).toBe(false);
    expect(p.lines.at(-1)).toBe('Nothing existing changes: the deleted table stays deleted. The new table is billed (storage and provisioned capacity) until it is deleted.');
  });

  it('the new table\'s name taken already: refused, nothing made', async () => {
    const t = await table({ bare: true });
    const when = new Date();
    await createSourceTable(ddb(), restoredTableName(t.name, when));
    await expect(plan(input(t.name, { latestBackup: true }), when)).rejects.toMatchObject({ code: 'target_exists', message: `A table named \`${restoredTableName(t.name, when)}\` already exists.` });
  });

  it('title and resources', () => {
    expect(runbook.title(input('spawn-orders'))).toBe('Restore of spawn-orders into a new table');
    expect(runbook.resources?.(input('spawn-orders'))).toEqual(['dynamodb:spawn-orders']);
  });
});

describe('the execution', () => {
  it('restores every item, re-applies each dropped setting (read back from AWS), tags it as drbot\'s, compares, and offers the next steps', async () => {
    const t = await table();
    const i = input(t.name, { to: await pitrInstant(t.name) });
    const p = await plan(i);

    const out = await execute(i, p.data);

    const target = p.data.target;
    expect(await itemsOf(ddb(), target)).toEqual(t.items);
    const d = (await ddb().send(new DescribeTableCommand({ TableName: target }))).Table;
    expect(d?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(d?.DeletionProtectionEnabled).toBe(true);
    expect((await ddb().send(new DescribeTimeToLiveCommand({ TableName: target }))).TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    expect((await ddb().send(new DescribeContinuousBackupsCommand({ TableName: target }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    const tags = Object.fromEntries(((await ddb().send(new ListTagsOfResourceCommand({ ResourceArn: d?.TableArn }))).Tags ?? []).map((x) => [x.Key, x.Value]));
    expect(tags).toEqual({ team: 'spawn', 'drbot-run': i.runId, 'drbot-restored-from': t.name, 'drbot-deletion-protection': 'on' });
    expect(JSON.parse((await ddb().send(new GetResourcePolicyCommand({ ResourceArn: d?.TableArn }))).Policy ?? '')).toEqual(JSON.parse(policyFor(d?.TableArn ?? '')));
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${target}\` is ACTIVE: \`${t.name}\` as it was at ${at} \\(point-in-time recovery\\)\\.$`));
    expect(out.lines.slice(1, 4)).toEqual([
      `ARN \`${d?.TableArn}\`; tagged \`drbot-run=${i.runId}\`, \`drbot-restored-from=${t.name}\`.`,
      'Re-applied from the live table: 1 tag; PITR; TTL on `expiresAt`; stream (NEW_AND_OLD_IMAGES); resource policy; deletion protection.',
      'Not re-applied: nothing (auto scaling is not used: on-demand capacity).',
    ]);
    expect(out.lines[4]).toBe(`*Compared with the live table:* \`${target}\` has *30* items, \`${t.name}\` *30* (exact counts).`);
    expect(out.lines[5]).toBe('Of *30* sampled keys: 30 the same, *0* differ, *0* only in the restored table (deleted from the live one since), *0* only in the live table (written since).');
    expect(out.lines[6]).toMatch(/^Next: \*Cut over\* writes the restored data into/);
    expect(out.next).toEqual([
      { label: 'Cut over', command: `cutover dynamodb ${t.name} --from ${target}`, style: 'primary' },
      { label: 'Keep both', command: `keep dynamodb ${t.name} --restored ${target}` },
      { label: 'Delete restored table', command: `delete restored-table ${target}`, style: 'danger' },
    ]);
    expect(out.reports.map((r) => r[2])).toEqual([`restoring into ${target}: ACTIVE`, `restoring into ${target}: ACTIVE (check 1)`, 're-applying settings', 'comparing with the live table']);
  });

  it('a deleted table from its backup: restored, no comparison, no cut-over', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'before-delete' }));
    await ddb().send(new DeleteTableCommand({ TableName: t.name }));
    const i = input(t.name, { backup: 'before-delete' });
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(await itemsOf(ddb(), p.data.target)).toEqual(t.items);
    expect(out.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${p.data.target}\` is ACTIVE: \`${t.name}\` from backup \`before-delete\` \\(taken ${at}\\)\\.$`));
    expect(out.lines[2]).toBe('Re-applied: nothing (nothing to copy, or every step was refused: see below).');
    expect(out.lines).toContain('No live table to compare with: it was deleted.');
    expect(out.lines.at(-1)).toMatch(/^Next: \*Keep both\* says how/);
    expect(out.next?.map((s) => s.label)).toEqual(['Keep both', 'Delete restored table']);
  });

  it('one setting refused: the others re-applied, the refused one named; drbot\'s tags refused: said what that breaks', async () => {
    const t = await table();
    const i = input(t.name, { to: await pitrInstant(t.name) });
    const p = await plan(i);
    fail(ddb(), 'UpdateTimeToLiveCommand', ACCESS_DENIED);
    fail(ddb(), 'TagResourceCommand', ACCESS_DENIED, { when: (x) => JSON.stringify(x.Tags).includes('drbot-run') });

    const out = await execute(i, p.data);

    expect((await ddb().send(new DescribeTimeToLiveCommand({ TableName: p.data.target }))).TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
    expect(out.lines[2]).toBe('Re-applied from the live table: 1 tag; PITR; stream (NEW_AND_OLD_IMAGES); resource policy; deletion protection.');
    expect(out.failures).toEqual([
      expect.stringMatching(/^drbot’s tags not set, so `\/dr delete restored-table` will refuse this table: .*not authorized/),
      expect.stringMatching(new RegExp(`^TTL on \`expiresAt\` not re-applied: UpdateTimeToLive on \`${p.data.target}\` failed: .*not authorized.*Grant the bot's role`)),
    ]);
  });

  it('a setting throttled four rounds running: tried again after durable waits, and applied in the fifth; one failing five rounds: reported', async () => {
    const t = await table();
    const i = input(t.name, { to: await pitrInstant(t.name) });
    const p = await plan(i);
    // fail() throws before the SDK's own retries: each refusal costs the step a round (and a durable wait)
    let pitr = 0;
    let updates = 0;
    fail(ddb(), 'UpdateContinuousBackupsCommand', THROTTLED, { when: () => ++pitr <= 4 });
    fail(ddb(), 'UpdateTableCommand', { name: 'InternalServerError', message: 'Internal server error', status: 500 }, { when: () => ++updates > 0 });

    const out = await execute(i, p.data);

    expect((await ddb().send(new DescribeContinuousBackupsCommand({ TableName: p.data.target }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    expect(out.lines[2]).toContain('; PITR;');
    // PITR: four rounds refused, the fifth applied; the stream and deletion protection (both UpdateTable): five rounds each
    expect([pitr, updates]).toEqual([5, 10]);
    expect(out.failures).toEqual([expect.stringMatching(/^stream \(NEW_AND_OLD_IMAGES\) not re-applied: /), expect.stringMatching(/^deletion protection not re-applied: /)]);
  });

  it('the new table never shows, or cannot be read: the run says the restore was started and how to take it from there', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    stub(ddb(), 'DescribeTableCommand', (x) => {
      if (x.TableName === p.data.target) throw Object.assign(new Error(`Requested resource not found: Table: ${p.data.target} not found`), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      return undefined;
    });

    const out = await execute(i, p.data);

    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `:hourglass: The restore into \`${p.data.target}\` was started, but the table is not ACTIVE: DynamoDB does not show the new table.`,
      `Check it in the console; once it is ACTIVE, \`/dr keep dynamodb ${t.name} --restored ${p.data.target}\` or \`/dr delete restored-table ${p.data.target}\` take it from there.`,
    ]);
    expect(out.failures).toEqual([`${p.data.target}: not ACTIVE (MISSING)`]);

    undoFaults();
    const u = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: u.name, BackupName: 'b' }));
    const j = input(u.name, { latestBackup: true });
    const q = await plan(j);
    let checks = 0;
    fail(ddb(), 'DescribeTableCommand', ACCESS_DENIED, { when: (x) => isTarget(q.data)(x) && ++checks > 1 });
    const denied = await execute(j, q.data);
    // moto's restore answered ACTIVE; the check after could not confirm it
    expect(denied.lines[0]).toBe(
      `:hourglass: The restore into \`${q.data.target}\` was started, but its status could not be confirmed (last seen ACTIVE): DescribeTable on \`${q.data.target}\` failed: User is not authorized to perform this action. Grant the bot's role permission for \`DescribeTable\` on this resource (see template.yaml).`,
    );
    expect(denied.failures).toEqual([`${q.data.target}: status unconfirmed (ACTIVE)`]);
  });

  it('checks throttled 20 times in a row: the wait gives up and says why', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    let checks = 0;
    fail(ddb(), 'DescribeTableCommand', THROTTLED, { when: (x) => isTarget(p.data)(x) && ++checks > 1 });

    const out = await execute(i, p.data);

    expect(out.lines[0]).toBe(
      `:hourglass: The restore into \`${p.data.target}\` was started, but its status could not be confirmed (last seen ACTIVE): checking on it failed 20 times in a row (DescribeTable on \`${p.data.target}\` failed: Rate of requests exceeds the allowed throughput.).`,
    );
    expect(out.failures).toEqual([`${p.data.target}: status unconfirmed (ACTIVE)`]);
  });

  it('a table at the new name that this restore did not make: left alone, the run fails; one it made (a replayed step): taken as its own', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    await createSourceTable(ddb(), p.data.target);
    await ddb().send(new PutItemCommand({ TableName: p.data.target, Item: richItem(999) }));

    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as RestoreDynamodbInput & AnyRunInput, p.data, { report: async () => {} }), i);

    expect(r.status).toBe('FAILED');
    expect(r.error).toContain(`A table named \`${p.data.target}\` appeared that this restore did not make; it was left alone.`);
    expect([...(await itemsOf(ddb(), p.data.target)).keys()]).toEqual(['i-00999']);

    const u = await table({ bare: true });
    const ub = await ddb().send(new CreateBackupCommand({ TableName: u.name, BackupName: 'b' }));
    const j = input(u.name, { latestBackup: true });
    const q = await plan(j);
    await ddb().send(new RestoreTableFromBackupCommand({ TargetTableName: q.data.target, BackupArn: ub.BackupDetails?.BackupArn }));
    const again = await execute(j, q.data);
    expect(again.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${q.data.target}\` is ACTIVE`));
    // the restore step found the table it made: no second restore, straight to the first check
    expect(again.reports[0]?.[2]).toBe(`restoring into ${q.data.target}: ACTIVE (check 1)`);
  });

  it('the comparison refused: the restore stands, the failure is named', async () => {
    const t = await table({ bare: true });
    const i = input(t.name, { latestBackup: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const p = await plan(i);
    fail(ddb(), 'ScanCommand', ACCESS_DENIED);
    const out = await execute(i, p.data);
    expect(out.lines[0]).toMatch(/is ACTIVE/);
    expect(out.failures).toEqual([expect.stringMatching(/^the comparison with the live table failed: .*not authorized/)]);
  });
});
