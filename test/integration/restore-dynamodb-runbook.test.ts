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
 * shows (not ACTIVE, gone) are SDK middleware on the runbook's own client (test/helpers/faults.ts),
 * and so is a deleted table's system backup (moto makes none): its ListBackups and DescribeBackup
 * answers rewritten, the restore from it moto's. Where the durable history matters (step names, the
 * waits between rounds and between checks) the run goes through traced() (the rig's
 * executeWatched()), which keeps it.
 */
import {
  CreateBackupCommand,
  DeleteTableCommand,
  type DescribeBackupCommandOutput,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetResourcePolicyCommand,
  type ListBackupsCommandOutput,
  ListTagsOfResourceCommand,
  PutItemCommand,
  RestoreTableFromBackupCommand,
  RestoreTableToPointInTimeCommand,
  type TableDescription,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DrbotError } from '../../src/errors';
import type { RestoreDynamodbInput } from '../../src/runbooks/restore-dynamodb';
import { pollDelay, type RestorePlan, runbook } from '../../src/runbooks/restore-dynamodb/runbook';
import { restoredTableName } from '../../src/runbooks/restored-tables';
import type { AnyRunInput } from '../../src/runbooks/types';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { ACCESS_DENIED, fail, rewrite, sdkError, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';
import { byKey, createSourceTable, itemsOf, policyFor, richItem, writeItems } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const ddb = () => rig.moto().clients.dynamodb('us-east-1');
const THROTTLED = { name: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.', status: 400 };
const at = /<!date\^\d+\^\{date_short_pretty\} \{time_secs\}\|[^>]+>/.source;

/** A source table of its own, set up as an SRE would have it, and the config listing it. */
async function table(opts: { bare?: boolean; items?: number; name?: string } = {}): Promise<{ name: string; arn: string; items: Map<string, string> }> {
  const name = opts.name ?? `rd-${++n}`;
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

/**
 * As execute(), also keeping what the run checkpointed: its durable operations in order (a wait with
 * its length), and the delays the wait for ACTIVE set between checks.
 */
async function traced(i: RestoreDynamodbInput & AnyRunInput, p: RestorePlan) {
  const out = await rig.executeWatched(runbook, i, p);
  const pollDelays = out.history.flatMap((e) => (e.Name === 'wait-active' && e.StepSucceededDetails?.RetryDetails?.NextAttemptDelaySeconds !== undefined ? [e.StepSucceededDetails.RetryDetails.NextAttemptDelaySeconds] : []));
  return { ...out, pollDelays };
}

/** DescribeTable of the restored table answering `status(k)` at its k-th check (k from 1; undefined: moto's own answer), as AWS does while a restore runs: a state moto never shows. The restore step's own look comes first and goes to moto. */
function checksSee(p: RestorePlan, status: (k: number) => 'CREATING' | 'MISSING' | 'THROTTLED' | 'ERROR' | undefined): () => number {
  let calls = 0;
  stub<{ Table: TableDescription }>(ddb(), 'DescribeTableCommand', (x) => {
    if (x.TableName !== p.target || ++calls === 1) return undefined;
    const seen = status(calls - 1);
    if (seen === 'MISSING') throw sdkError({ name: 'ResourceNotFoundException', message: `Requested resource not found: Table: ${p.target} not found`, status: 400 });
    if (seen === 'THROTTLED') throw sdkError(THROTTLED);
    if (seen === 'ERROR') throw sdkError({ name: 'InternalServerError', message: 'Internal server error', status: 500 });
    return seen ? { Table: { TableName: p.target, TableStatus: seen } } : undefined;
  });
  return () => calls - 1;
}

/**
 * moto makes no system backup when a table with PITR is deleted, and its DescribeBackup lists none of
 * the table's features: the backup `arn` is shown as AWS shows a deleted table's system backup (type
 * SYSTEM, TTL on `expiresAt` and a NEW_IMAGE stream in its description) by rewriting ListBackups and
 * DescribeBackup. The restore from it, and every setting re-applied, are moto's.
 */
function asSystemBackup(arn: string): void {
  rewrite<ListBackupsCommandOutput>(ddb(), 'ListBackupsCommand', (o) => ({ ...o, BackupSummaries: (o.BackupSummaries ?? []).map((b) => (b.BackupArn === arn ? { ...b, BackupType: 'SYSTEM' } : b)) }));
  rewrite<DescribeBackupCommandOutput>(ddb(), 'DescribeBackupCommand', (o, x) => {
    const details = o.BackupDescription?.BackupDetails;
    if (x.BackupArn !== arn || !details) return o;
    return {
      ...o,
      BackupDescription: {
        ...o.BackupDescription,
        BackupDetails: { ...details, BackupType: 'SYSTEM' },
        SourceTableFeatureDetails: { TimeToLiveDescription: { AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' }, StreamDescription: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } },
      },
    };
  });
}

/** A source table deleted after its backup `deleted`, which AWS would list as its system backup (see asSystemBackup); `deletedAt`, the backup's time. */
async function deletedWithSystemBackup(): Promise<{ name: string; items: Map<string, string>; deletedAt: string }> {
  const t = await table({ bare: true });
  const b = await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'deleted' }));
  await ddb().send(new DeleteTableCommand({ TableName: t.name }));
  asSystemBackup(b.BackupDetails?.BackupArn ?? '');
  return { ...t, deletedAt: b.BackupDetails?.BackupCreationDateTime?.toISOString() ?? '' };
}

const enablePitr = (name: string) => ddb().send(new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));

describe('the plan', () => {
  it('a point in time: the source, what it re-applies from the live table, what it does not, the tags, the comparison, what it costs', async () => {
    const t = await table();
    const when = new Date('2026-12-04T10:00:00Z');
    const i = input(t.name, { to: await pitrInstant(t.name) });

    const p = await plan(i, when);
    const dry = await plan(input(t.name, { to: i.to, dryRun: true }), when);

    const target = restoredTableName(t.name, when);
    expect(p.data).toMatchObject({ table: t.name, region: 'us-east-1', target, live: true, sourceArn: t.arn, source: { kind: 'pitr', at: i.to }, reapply: { from: 'source', tags: [{ Key: 'team', Value: 'spawn' }] }, waitHours: 12 });
    expect(p.lines[0]).toMatch(new RegExp(`^Restores \`${t.name}\` as it was at \\*${at}\\* \\(point-in-time recovery; its window is ${at} to ${at}\\) into a new table \`${target}\`\\.$`));
    expect(dry.lines[0]).toMatch(/^Would restore `/);
    expect(p.lines.slice(1)).toEqual([
      'Then re-applies what a restore drops, from the live table: PITR; TTL on `expiresAt`; stream (NEW_AND_OLD_IMAGES); 1 tag; resource policy (the source’s ARN replaced by the restored table’s); deletion protection.',
      'Not re-applied: nothing (auto scaling is not used: on-demand capacity).',
      `Tags the new table \`drbot-run=${i.runId}\` and \`drbot-restored-from=${t.name}\`.`,
      'Then compares it with the live table: item counts, and up to 1,000 sampled items one by one.',
      `Nothing existing changes: \`${t.name}\` is not touched. The new table is billed (storage) until it is deleted.`,
      'Waits up to 12 h for the new table to be ACTIVE (`dynamodb.restoreWaitHours`); past that the run says where the restore stands and stops waiting, while DynamoDB goes on with it.',
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
    const i = input(t.name, { backup: 'before-delete' });

    const p = await plan(i);

    expect(p.data).toMatchObject({ live: false, reapply: { from: 'backup' } });
    expect(p.data.sourceArn).toBeUndefined();
    expect(p.lines[0]).toMatch(new RegExp(`^Restores \`${t.name}\` from backup \`before-delete\``));
    // no comparison line: nothing live to compare with
    expect(p.lines.slice(1)).toEqual([
      'Nothing to re-apply: the backup’s description lists none of it.',
      // (and auto scaling: moto's backup description names no billing mode)
      expect.stringMatching(
        /^Not re-applied: tags, deletion protection and the resource policy: the source table is gone and a backup does not keep it; PITR: the source table is gone and a backup does not keep it; turn it on with `\/dr setup dynamodb` if the restored table is to stay; TTL and the stream: the backup’s description lists neither; /,
      ),
      `Tags the new table \`drbot-run=${i.runId}\` and \`drbot-restored-from=${t.name}\`.`,
      'Nothing existing changes: the deleted table stays deleted. The new table is billed (storage and provisioned capacity) until it is deleted.',
      'Waits up to 12 h for the new table to be ACTIVE (`dynamodb.restoreWaitHours`); past that the run says where the restore stands and stops waiting, while DynamoDB goes on with it.',
    ]);
  });

  it('the new table\'s name taken already: refused, nothing made', async () => {
    const t = await table({ bare: true });
    const when = new Date();
    await createSourceTable(ddb(), restoredTableName(t.name, when));
    await expect(plan(input(t.name, { latestBackup: true }), when)).rejects.toMatchObject({
      code: 'target_exists',
      message: `A table named \`${restoredTableName(t.name, when)}\` already exists.`,
      hint: 'Run the restore again in a second: the new table’s name carries the time.',
    });
  });

  it('a deleted table to a time: from its system backup, re-applying what the backup\'s description lists', async () => {
    const t = await deletedWithSystemBackup();
    const i = input(t.name, { to: t.deletedAt });

    const p = await plan(i);

    expect(p.data).toMatchObject({ live: false, source: { kind: 'backup', why: 'deleted', backup: { name: 'deleted', type: 'SYSTEM' } }, reapply: { from: 'backup', settings: { pitr: true, ttlAttribute: 'expiresAt', streamViewType: 'NEW_IMAGE' } } });
    expect(p.lines[0]).toMatch(new RegExp(`^\`${t.name}\` was deleted: restores its state just before the deletion, from its system backup \`deleted\` \\(SYSTEM, taken ${at}`));
    expect(p.lines[1]).toBe('Then re-applies what a restore drops, from the backup’s description (the table is gone): PITR; TTL on `expiresAt`; stream (NEW_IMAGE).');
  });

  it('title and resources', () => {
    expect(runbook.title(input('spawn-orders'))).toBe('Restore of spawn-orders into a new table');
    expect(runbook.resources?.(input('spawn-orders'))).toEqual(['dynamodb:spawn-orders']);
  });
});

describe('pollDelay', () => {
  it('10 s for the first six checks, 30 s up to the 26th, then a minute', () => {
    expect([1, 6, 7, 26, 27, 735].map(pollDelay)).toEqual([10, 10, 30, 30, 60, 60]);
  });
});

describe('the execution', () => {
  it('restores every item, re-applies each dropped setting (read back from AWS), tags it as drbot\'s, compares, and offers the next steps', async () => {
    const t = await table();
    const i = input(t.name, { to: await pitrInstant(t.name) });
    const p = await plan(i);

    const out = await traced(i, p.data);

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
    // the run's history (what an operator reads in the durable execution): each step under its own name
    expect(out.checkpoints).toEqual(['restore', 'wait-active', 'tag-drbot', 'reapply-tags', 'reapply-pitr', 'reapply-ttl', 'reapply-stream', 'reapply-policy', 'reapply-deletion-protection', 'compare']);
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
    // no comparison tried (nothing live to compare with), so none failed
    expect(out.failures).toEqual([]);
    expect(out.reports.map((r) => r[2])).toEqual([`restoring into ${p.data.target}: ACTIVE`, `restoring into ${p.data.target}: ACTIVE (check 1)`, 're-applying settings']);
  });

  it('a deleted table to a time: its system backup restored, and PITR, TTL and the stream re-applied from the backup\'s description', async () => {
    const t = await deletedWithSystemBackup();
    const i = input(t.name, { to: t.deletedAt });
    const p = await plan(i);

    const out = await execute(i, p.data);

    const target = p.data.target;
    expect(await itemsOf(ddb(), target)).toEqual(t.items);
    expect((await ddb().send(new DescribeContinuousBackupsCommand({ TableName: target }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    expect((await ddb().send(new DescribeTimeToLiveCommand({ TableName: target }))).TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    expect((await ddb().send(new DescribeTableCommand({ TableName: target }))).Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(out.failures).toEqual([]);
    expect(out.lines[0]).toBe(`:white_check_mark: \`${target}\` is ACTIVE: \`${t.name}\` as it was just before it was deleted (system backup \`deleted\`).`);
    expect(out.lines[2]).toBe('Re-applied from the backup’s description: PITR; TTL on `expiresAt`; stream (NEW_IMAGE).');
    expect(out.lines[4]).toBe('No live table to compare with: it was deleted.');
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

    const out = await traced(i, p.data);

    expect((await ddb().send(new DescribeContinuousBackupsCommand({ TableName: p.data.target }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    expect(out.lines[2]).toContain('; PITR;');
    // PITR: four rounds refused, the fifth applied; the stream and deletion protection (both UpdateTable): five rounds each
    expect([pitr, updates]).toEqual([5, 10]);
    expect(out.failures).toEqual([expect.stringMatching(/^stream \(NEW_AND_OLD_IMAGES\) not re-applied: /), expect.stringMatching(/^deletion protection not re-applied: /)]);
    // each round a step of its own, after a durable wait 15 s longer than the last
    const rounds = (name: string, n: number) => Array.from({ length: n }, (_, k) => (k ? [`${name}-wait-${k - 1} (wait ${15 * k} s)`, `${name}-${k}`] : [name])).flat();
    expect(out.checkpoints).toEqual([
      'restore',
      'wait-active',
      'tag-drbot',
      'reapply-tags',
      ...rounds('reapply-pitr', 5),
      'reapply-ttl',
      ...rounds('reapply-stream', 5),
      'reapply-policy',
      ...rounds('reapply-deletion-protection', 5),
      'compare',
    ]);
  });

  it('the new table never shows, or cannot be read: the run says the restore was started and how to take it from there', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    stub(ddb(), 'DescribeTableCommand', (x) => {
      if (x.TableName === p.data.target) throw sdkError({ name: 'ResourceNotFoundException', message: `Requested resource not found: Table: ${p.data.target} not found`, status: 400 });
      return undefined;
    });

    const out = await execute(i, p.data);

    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `:hourglass: The restore into \`${p.data.target}\` was started, but the table is not ACTIVE: DynamoDB does not show the new table.`,
      `Check it in the console; once it is ACTIVE, \`/dr keep dynamodb ${t.name} --restored ${p.data.target}\` or \`/dr delete restored-table ${p.data.target}\` take it from there.`,
    ]);
    expect(out.failures).toEqual([`${p.data.target}: not ACTIVE (MISSING)`]);
    // it gave up after the tenth check that did not find it
    expect(out.reports.map((r) => r[2])).toEqual([`restoring into ${p.data.target}: ACTIVE`, ...Array.from({ length: 10 }, (_, k) => `restoring into ${p.data.target}: MISSING (check ${k + 1})`)]);

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

  it('the new table not shown at first, then CREATING, then a check answered with a 5xx and one throttled: each waited through, ACTIVE at the sixth check', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    const seen = ['MISSING', 'MISSING', 'CREATING', 'ERROR', 'THROTTLED'] as const;
    const checks = checksSee(p.data, (k) => seen[k - 1]);

    const out = await execute(i, p.data);

    expect(checks()).toBe(7); // six checks, and the comparison's look at the restored table
    expect(out.ok).toBe(true);
    expect(out.failures).toEqual([]);
    expect(out.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${p.data.target}\` is ACTIVE: \`${t.name}\` from backup \`b\` \\(taken ${at}\\)\\.$`));
    expect(await itemsOf(ddb(), p.data.target)).toEqual(t.items);
    // a check that failed reports nothing, but counts
    expect(out.reports.map((r) => r[2])).toEqual([
      `restoring into ${p.data.target}: ACTIVE`,
      `restoring into ${p.data.target}: MISSING (check 1)`,
      `restoring into ${p.data.target}: MISSING (check 2)`,
      `restoring into ${p.data.target}: CREATING (check 3)`,
      `restoring into ${p.data.target}: ACTIVE (check 6)`,
      're-applying settings',
      'comparing with the live table',
    ]);
  });

  // The wait set to its shortest, 1 h (76 checks): the default 12 h is 736 checks, which take the
  // local runner about a minute (maxPolls' own test in test/unit/restore-dynamodb.test.ts counts them).
  it('still CREATING after the configured wait (1 h) of checks spaced 10 s, then 30 s, then a minute, the last one throttled: the wait gives up and says the status as last seen', async () => {
    const t = await table({ bare: true });
    rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: t.name }], restoreWaitHours: 1 } });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    expect(p.data.waitHours).toBe(1);
    expect(p.lines.at(-1)).toMatch(/^Waits up to 1 h for the new table to be ACTIVE /);
    const checks = checksSee(p.data, (k) => (k === 76 ? 'THROTTLED' : 'CREATING'));

    const out = await traced(i, p.data);

    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `:hourglass: The restore into \`${p.data.target}\` was started, but its status could not be confirmed (last seen CREATING): it was still CREATING after 1 h (the last check was throttled).`,
      `Check it in the console; once it is ACTIVE, \`/dr keep dynamodb ${t.name} --restored ${p.data.target}\` or \`/dr delete restored-table ${p.data.target}\` take it from there.`,
    ]);
    expect(out.failures).toEqual([`${p.data.target}: status unconfirmed (CREATING)`]);
    // 75 waits between 76 checks (3,600 s: the last check at the hour), then it stopped
    const runs = out.pollDelays.reduce<[number, number][]>((acc, d) => (acc.at(-1)?.[0] === d ? [...acc.slice(0, -1), [d, (acc.at(-1)?.[1] ?? 0) + 1]] : [...acc, [d, 1]]), []);
    expect(runs).toEqual([
      [10, 6],
      [30, 20],
      [60, 49],
    ]);
    expect(checks()).toBe(76);
    expect(out.reports.at(-1)?.[2]).toBe(`restoring into ${p.data.target}: CREATING (check 75)`);
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

  it('a table at the new name that this restore did not make (a table of its own, a restore of another backup): left alone, the run fails; one it made (a replayed step): taken as its own', async () => {
    const t = await table({ bare: true });
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    await createSourceTable(ddb(), p.data.target);
    await ddb().send(new PutItemCommand({ TableName: p.data.target, Item: richItem(999) }));

    // the error execute throws, as the driver catches it (its message and hint are what the run message shows)
    const r = await rig.run(
      (ctx, d, x) =>
        runbook.execute(ctx, d, x as RestoreDynamodbInput & AnyRunInput, p.data, { report: async () => {} }).then(
          () => undefined,
          (e: unknown) => {
            if (e instanceof DrbotError) return { code: e.code, message: e.message, hint: e.hint };
            throw e;
          },
        ),
      i,
    );

    expect(r.result).toEqual({ code: 'target_exists', message: `A table named \`${p.data.target}\` appeared that this restore did not make; it was left alone.`, hint: 'Run the restore again: the new table’s name carries the time.' });
    expect([...(await itemsOf(ddb(), p.data.target)).keys()]).toEqual(['i-00999']);

    // restored at that name from another backup of the same table: not this restore's either
    const v = await table({ bare: true, items: 2 });
    const older = await ddb().send(new CreateBackupCommand({ TableName: v.name, BackupName: 'older' }));
    await writeItems(ddb(), v.name, [richItem(500)]);
    await ddb().send(new CreateBackupCommand({ TableName: v.name, BackupName: 'b' }));
    const k = input(v.name, { backup: 'b' });
    const w = await plan(k);
    await ddb().send(new RestoreTableFromBackupCommand({ TargetTableName: w.data.target, BackupArn: older.BackupDetails?.BackupArn }));

    const other = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as RestoreDynamodbInput & AnyRunInput, w.data, { report: async () => {} }), k);

    expect(other).toEqual({ status: 'FAILED', error: `A table named \`${w.data.target}\` appeared that this restore did not make; it was left alone.` });
    expect([...(await itemsOf(ddb(), w.data.target)).keys()].sort()).toEqual(['i-00000', 'i-00001']);

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

  it('a point-in-time restore replayed: the table restored from this source taken as its own; one restored from another table at that name left alone', async () => {
    const t = await table({ bare: true });
    await enablePitr(t.name);
    const i = input(t.name, { to: await pitrInstant(t.name) });
    const p = await plan(i);
    // the step's first try started this restore, and the step ran again
    await ddb().send(new RestoreTableToPointInTimeCommand({ SourceTableName: t.name, TargetTableName: p.data.target, UseLatestRestorableTime: true }));

    const again = await execute(i, p.data);

    expect(again.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${p.data.target}\` is ACTIVE: \`${t.name}\` as it was at ${at} \\(point-in-time recovery\\)\\.$`));
    expect(again.reports[0]?.[2]).toBe(`restoring into ${p.data.target}: ACTIVE (check 1)`);
    expect(await itemsOf(ddb(), p.data.target)).toEqual(t.items);

    // a table whose name ends like the source's (`old-rd-N`), restored at the new name
    const u = await table({ bare: true });
    await enablePitr(u.name);
    const other = `old-${u.name}`;
    await createSourceTable(ddb(), other, { items: 1, pitr: true });
    const j = input(u.name, { to: await pitrInstant(u.name) });
    const q = await plan(j);
    await ddb().send(new RestoreTableToPointInTimeCommand({ SourceTableName: other, TargetTableName: q.data.target, UseLatestRestorableTime: true }));

    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as RestoreDynamodbInput & AnyRunInput, q.data, { report: async () => {} }), j);

    expect(r.status).toBe('FAILED');
    expect(r.error).toBe(`A table named \`${q.data.target}\` appeared that this restore did not make; it was left alone.`);
    expect([...(await itemsOf(ddb(), q.data.target)).keys()]).toEqual(['i-00000']);
  });

  it('a table whose name has a dot: its resource policy re-applied with the restored table\'s ARN in place of the source\'s', async () => {
    const t = await table({ name: `rd-${++n}.v2`, items: 3 });
    const i = input(t.name, { to: await pitrInstant(t.name) });
    const p = await plan(i);

    const out = await execute(i, p.data);

    const arn = (await ddb().send(new DescribeTableCommand({ TableName: p.data.target }))).Table?.TableArn ?? '';
    expect(JSON.parse((await ddb().send(new GetResourcePolicyCommand({ ResourceArn: arn }))).Policy ?? '')).toEqual(JSON.parse(policyFor(arn)));
    expect(out.failures).toEqual([]);
  });

  it('a provisioned live table: compared by DynamoDB\'s own count of it, not a scan that would spend its read capacity', async () => {
    const t = await table({ bare: true });
    await ddb().send(new UpdateTableCommand({ TableName: t.name, BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }));
    await ddb().send(new CreateBackupCommand({ TableName: t.name, BackupName: 'b' }));
    const i = input(t.name, { latestBackup: true });
    const p = await plan(i);
    const counted: string[] = [];
    stub(ddb(), 'ScanCommand', (x) => {
      if (x.Segment === undefined) counted.push(String(x.TableName));
      return undefined;
    });

    const out = await execute(i, p.data);

    expect(counted).toEqual([p.data.target]);
    expect(out.lines[4]).toBe(
      `*Compared with the live table:* \`${p.data.target}\` has *5* items, \`${t.name}\` *~5* (~ is DynamoDB’s own count, refreshed about every six hours: a provisioned live table is not scanned to count, nor is a table over 100 MB).`,
    );
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
    // no comparison lines, and no line in their place: the failure says it
    expect(out.lines.slice(1)).toEqual([
      expect.stringMatching(/^ARN `/),
      'Re-applied: nothing (nothing to copy, or every step was refused: see below).',
      'Not re-applied: nothing (auto scaling is not used: on-demand capacity).',
      expect.stringMatching(/^Next: \*Cut over\* writes the restored data into/),
    ]);
  });
});
