/**
 * The DynamoDB cut-over runbook (src/runbooks/cutover-dynamodb/runbook.ts, `/dr cutover dynamodb`)
 * on its own, against moto: which tables its plan refuses (only drbot's restored copy of this very
 * table, with the same keys, is ever copied over it), what it counts and shows, and what its
 * execution does in order: the safety backup AVAILABLE first, then the writes and deletes, then a
 * verifying diff; with DynamoDB refusing or throttling on the way. The chunk work itself is
 * cutover-apply.test.ts, the flow through Slack and approval cutover-dynamodb.test.ts; these need
 * no local stack, so `npm run mutate` can run them for each mutant. Each test has its own pair of tables.
 *
 * moto makes a backup AVAILABLE at once and never throttles: a backup still CREATING (or failed),
 * refusals and throttling are SDK middleware on the runbook's own client (test/helpers/faults.ts).
 */
import { CreateBackupCommand, type CreateBackupCommandOutput, CreateTableCommand, type DescribeBackupCommandOutput, type DescribeTableCommandOutput, DeleteItemCommand, ListBackupsCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { StepInterruptedError } from '@aws/durable-execution-sdk-js';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { CutoverDynamodbInput } from '../../src/runbooks/cutover-dynamodb';
import type { ChunkResult } from '../../src/runbooks/cutover-dynamodb/apply';
import { chunkItems, cutoverBackupName, type CutoverPlan, runbook } from '../../src/runbooks/cutover-dynamodb/runbook';
import type { Progress } from '../../src/runbooks/driver';
import type { AnyRunInput } from '../../src/runbooks/types';
import { createTable, type Item, putItems, restoredTags, scanItems } from '../helpers/cutover-tables';
import { ACCESS_DENIED, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig, watchSteps } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const ddb = () => rig.moto().clients.dynamodb('us-east-1');
const THROTTLED = { name: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.', status: 400 };
const item = (pk: string, v: string): Item => ({ pk: { S: pk }, v: { S: v } });

/** The live table's items as `pk=v`, sorted. */
async function contents(table: string): Promise<string[]> {
  return (await scanItems(ddb(), table)).map((i) => `${i.pk?.S}=${i.v?.S}`).sort();
}

/**
 * A live table and drbot's restored copy of it: the copy holds a0..a4 as they were; the live one
 * a0, a1 the same, a2 changed, a3 and a4 gone, x0 written since. The config lists the live one.
 */
async function pair(opts: { tags?: NonNullable<Parameters<typeof createTable>[2]>['tags']; restoredName?: (t: string) => string; range?: boolean } = {}): Promise<{ live: string; restored: string }> {
  const live = `co-${++n}`;
  const restored = opts.restoredName?.(live) ?? `${live}-restored-20261204-101500`;
  await createTable(ddb(), live);
  await createTable(ddb(), restored, { tags: opts.tags ?? restoredTags(live), ...(opts.range ? { range: true } : {}) });
  if (!opts.range) await putItems(ddb(), restored, [0, 1, 2, 3, 4].map((i) => item(`a${i}`, `old-${i}`)));
  await putItems(ddb(), live, [item('a0', 'old-0'), item('a1', 'old-1'), item('a2', 'new-2'), item('x0', 'since-0')]);
  rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: live }] } });
  return { live, restored };
}

function input(live: string, from: string, over: Partial<CutoverDynamodbInput> = {}): CutoverDynamodbInput & AnyRunInput {
  return { kind: 'cutover-dynamodb', runId: `r-co${String(++n).padStart(10, '0')}`, requester: 'UALICE', channel: 'C1', commandText: `/dr cutover dynamodb ${live} --from ${from}`, requestedAt: new Date().toISOString(), table: live, from, dryRun: false, ...over } as CutoverDynamodbInput & AnyRunInput;
}

const plan = (i: CutoverDynamodbInput, now?: Date) => runbook.plan({ ...rig.deps(), ...(now ? { now: () => now } : {}) }, i);
const execute = (i: CutoverDynamodbInput & AnyRunInput, p: CutoverPlan) => rig.execute(runbook, i, p);

/**
 * As execute(), also naming the run's checkpoints in order: its steps, and its durable waits with
 * their length. A deployed run replays them by name, so a renamed one breaks the runs in flight.
 * `answer` gives a step's result instead of running it (undefined: run it).
 */
const executeWatched = (i: CutoverDynamodbInput & AnyRunInput, p: CutoverPlan, answer?: (step: string) => ChunkResult | undefined) => rig.executeWatched(runbook, i, p, answer);

const backups = async (table: string) => ((await ddb().send(new ListBackupsCommand({ TableName: table }))).BackupSummaries ?? []).map((b) => b.BackupName);
const AFTER = ['a0=old-0', 'a1=old-1', 'a2=old-2', 'a3=old-3', 'a4=old-4'];
const BEFORE = ['a0=old-0', 'a1=old-1', 'a2=new-2', 'x0=since-0'];

describe('the plan', () => {
  it('the full diff, the safety backup it takes first, the write units, and the warning to pause writers; a dry run says would', async () => {
    const t = await pair();
    const when = new Date('2026-12-04T11:22:33Z');
    const i = input(t.live, t.restored);

    const p = await plan(i, when);
    const dry = await plan(input(t.live, t.restored, { dryRun: true }), when);

    expect(p.empty).toBeUndefined();
    expect(p.data).toEqual({
      region: 'us-east-1',
      key: [{ name: 'pk', role: 'HASH', type: 'S' }],
      backupName: `${t.live}-before-cutover-20261204-112233-${i.runId}`,
      counts: { restoredItems: 5, liveItems: 4, missing: 2, different: 1, extra: 1, unchanged: 2, minUnits: expect.any(Number), fullCopyUnits: expect.any(Number) },
      chunkItems: 500,
    });
    expect(p.lines).toEqual([
      `Make \`${t.live}\` hold the data of \`${t.restored}\` (restored by run \`r-0123456789ab\`), item by item: the table keeps its name, ARN, stream, alarms and IAM.`,
      'Full diff of both tables (5 restored items, 4 live): *3* to write (2 missing, 1 different), *1* to delete, 2 unchanged.',
      expect.stringMatching(/^e\.g\. missing `pk=a[34]`, `pk=a[34]`; different `pk=a2`; to delete `pk=x0`$/),
      `First it takes an on-demand safety backup of \`${t.live}\`, \`${t.live}-before-cutover-20261204-112233-${i.runId}\`, and writes only once it is AVAILABLE.`,
      `Only the differing items are written: ${p.data.counts.minUnits} write units (copying every item would take ${p.data.counts.fullCopyUnits}).`,
      `:warning: Pause the writers of \`${t.live}\` first: what they write during the cut-over may be overwritten or deleted.`,
    ]);
    expect(dry.lines[3]).toMatch(/^First it would take an on-demand safety backup/);
    expect(await contents(t.live)).toEqual(BEFORE);
  });

  it('the live table holding the restored data already: nothing to do', async () => {
    const t = await pair();
    await putItems(ddb(), t.live, [0, 1, 2, 3, 4].map((i) => item(`a${i}`, `old-${i}`)));
    await ddb().send(new DeleteItemCommand({ TableName: t.live, Key: { pk: { S: 'x0' } } }));
    const p = await plan(input(t.live, t.restored));
    expect(p).toMatchObject({ empty: true, lines: [`\`${t.live}\` already holds the data of \`${t.restored}\`: all *5* items are the same (full diff of both tables). Nothing to do.`] });
  });

  it('refuses a --from that is not drbot\'s restored copy of this table, a missing or busy table, and other keys; reads no item', async () => {
    const untagged = await pair({ tags: [] });
    await expect(plan(input(untagged.live, untagged.restored))).rejects.toMatchObject({
      code: 'not_a_restored_table',
      message: `\`${untagged.restored}\` is not drbot's restored copy of \`${untagged.live}\`: it has no \`drbot-restored-from\` tag.`,
      hint: `A cut-over only copies from a table \`/dr restore dynamodb ${untagged.live}\` made (tagged \`drbot-restored-from=${untagged.live}\` and \`drbot-run\`), so a table of other data is never copied over this one.`,
    });
    const other = await pair({ tags: [{ Key: 'drbot-restored-from', Value: 'payments' }, { Key: 'drbot-run', Value: 'r-0123456789ab' }] });
    await expect(plan(input(other.live, other.restored))).rejects.toMatchObject({ message: `\`${other.restored}\` is not drbot's restored copy of \`${other.live}\`: it is tagged \`drbot-restored-from\`=\`payments\`.` });
    const noRun = await pair({ tags: [{ Key: 'drbot-restored-from', Value: `co-${n + 1}` }] });
    await expect(plan(input(noRun.live, noRun.restored))).rejects.toMatchObject({ message: `\`${noRun.restored}\` is not drbot's restored copy of \`${noRun.live}\`: it is tagged \`drbot-restored-from\`=\`${noRun.live}\` but no \`drbot-run\` tag.` });

    const named = await pair({ restoredName: (t) => `${t}-copy` });
    await expect(plan(input(named.live, named.restored))).rejects.toMatchObject({
      code: 'not_a_restored_table',
      message: `\`${named.restored}\` is not named like a restored copy of \`${named.live}\`.`,
      hint: `drbot names them \`${named.live}-restored-<UTC yyyymmdd-HHMMSS>\`.`,
    });

    const keys = await pair({ range: true });
    await expect(plan(input(keys.live, keys.restored))).rejects.toMatchObject({
      code: 'key_schema_mismatch',
      message: `The key schemas differ: \`${keys.live}\` has pk (S, HASH); \`${keys.restored}\` has pk (S, HASH), sk (N, RANGE).`,
      hint: 'Items are copied by their key, so both tables need the same key attributes and types. Restore again from a backup of this table.',
    });

    rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: 'co-none' }] } });
    await expect(plan(input('co-none', 'co-none-restored-20261204-101500'))).rejects.toMatchObject({
      code: 'table_missing',
      message: 'Table `co-none` does not exist in us-east-1.',
      hint: 'Check the table name and region in the drbot config; to bring back a deleted table, restore it with `/dr restore dynamodb`.',
    });
    const t = await pair();
    await expect(plan(input(t.live, `${t.live}-restored-20261204-999999`))).rejects.toMatchObject({
      code: 'restored_table_missing',
      message: `There is no table \`${t.live}-restored-20261204-999999\` in us-east-1.`,
      hint: `Restore one first with \`/dr restore dynamodb ${t.live} --to TIME\` (or --backup, --latest-backup); its message offers the cut-over.`,
    });

    const status = (table: string, s: string) => rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (o, x) => (x.TableName === table && o.Table ? { ...o, Table: { ...o.Table, TableStatus: s as 'ACTIVE' } } : o));
    const undo = status(t.restored, 'CREATING');
    await expect(plan(input(t.live, t.restored))).rejects.toMatchObject({
      code: 'restored_table_not_active',
      message: `\`${t.restored}\` is CREATING, not ACTIVE.`,
      hint: 'Wait for the restore to finish, then run the cut-over again.',
    });
    undo();
    status(t.live, 'DELETING');
    await expect(plan(input(t.live, t.restored))).rejects.toMatchObject({ code: 'table_not_active', message: `\`${t.live}\` is DELETING.`, hint: 'A cut-over writes into the table: wait until it is ACTIVE.' });
    undoFaults();
    status(t.live, 'UPDATING');
    expect((await plan(input(t.live, t.restored))).data.counts.missing).toBe(2);
    expect(await contents(t.live)).toEqual(BEFORE);
  });

  it('refuses keys of another name, or of another type in the same place', async () => {
    const typed = `co-${++n}`;
    await createTable(ddb(), typed, { range: true });
    await createTable(ddb(), `${typed}-restored-20261204-101500`, { range: true, rangeType: 'B', tags: restoredTags(typed) });
    const named = `co-${++n}`;
    await createTable(ddb(), named);
    await ddb().send(
      new CreateTableCommand({
        TableName: `${named}-restored-20261204-101500`,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        Tags: restoredTags(named),
      }),
    );
    rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: typed }, { name: named }] } });

    const byType = await plan(input(typed, `${typed}-restored-20261204-101500`)).catch((e: unknown) => e);
    const byName = await plan(input(named, `${named}-restored-20261204-101500`)).catch((e: unknown) => e);

    expect(byType).toMatchObject({
      code: 'key_schema_mismatch',
      message: `The key schemas differ: \`${typed}\` has pk (S, HASH), sk (N, RANGE); \`${typed}-restored-20261204-101500\` has pk (S, HASH), sk (B, RANGE).`,
    });
    expect(byName).toMatchObject({
      code: 'key_schema_mismatch',
      message: `The key schemas differ: \`${named}\` has pk (S, HASH); \`${named}-restored-20261204-101500\` has id (S, HASH).`,
    });
  });

  it('shows samples of only the kinds of change found, every sample of a kind', async () => {
    // a0, a3, a4 the same, a1 and a2 different, x0 and x1 to delete: as many to write as to delete
    const t = await pair();
    await putItems(ddb(), t.live, [item('a1', 'new-1'), item('a3', 'old-3'), item('a4', 'old-4'), item('x1', 'since-1')]);
    const p = await plan(input(t.live, t.restored));
    // a3 and a4 missing, nothing else
    const u = await pair();
    await putItems(ddb(), u.live, [item('a2', 'old-2')]);
    await ddb().send(new DeleteItemCommand({ TableName: u.live, Key: { pk: { S: 'x0' } } }));
    const q = await plan(input(u.live, u.restored));

    expect(p.empty).toBeUndefined();
    expect(p.lines.slice(1, 3)).toEqual([
      'Full diff of both tables (5 restored items, 7 live): *2* to write (0 missing, 2 different), *2* to delete, 3 unchanged.',
      expect.stringMatching(/^e\.g\. different `pk=a[12]`, `pk=a[12]`; to delete `pk=x[01]`, `pk=x[01]`$/),
    ]);
    expect(q.lines.slice(1, 3)).toEqual([
      'Full diff of both tables (5 restored items, 3 live): *2* to write (2 missing, 0 different), *0* to delete, 3 unchanged.',
      expect.stringMatching(/^e\.g\. missing `pk=a[34]`, `pk=a[34]`$/),
    ]);
  });

  it('sizes its chunks by the bigger table', async () => {
    // 2,001 restored items, none live: a quarter of the bigger table is 501 items, above the least chunk (500)
    const live = `co-${++n}`;
    const restored = `${live}-restored-20261204-101500`;
    await createTable(ddb(), live);
    await createTable(ddb(), restored, { tags: restoredTags(live) });
    await putItems(ddb(), restored, Array.from({ length: 2001 }, (_, i) => item(`b${i}`, 'old')));
    rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: live }] } });

    const p = await plan(input(live, restored));

    expect(p.data.counts).toMatchObject({ restoredItems: 2001, liveItems: 0, missing: 2001, extra: 0 });
    expect(p.data.chunkItems).toBe(501);
  });

  it('names, sizes, title and resources', () => {
    expect(cutoverBackupName('spawn orders', new Date('2026-01-02T03:04:05.678Z'), 'r-0a1b2c3d4e5f')).toBe('spawn_orders-before-cutover-20260102-030405-r-0a1b2c3d4e5f');
    expect(cutoverBackupName('t'.repeat(300), new Date('2026-01-02T03:04:05Z'), 'r-0a1b2c3d4e5f')).toHaveLength(255);
    // a run id holding characters a backup name may not: each one replaced, never dropped
    expect(cutoverBackupName('t', new Date('2026-01-02T03:04:05Z'), 'r/1 2')).toBe('t-before-cutover-20260102-030405-r_1_2');
    expect([0, 2_000, 4_000, 40_000, 4_000_000, 40_000_000].map(chunkItems)).toEqual([500, 500, 1_000, 5_000, 5_000, 20_000]);
    expect(runbook.title(input('a', 'a-restored-20260101-000000'))).toBe('Cut over a to the data of a-restored-20260101-000000');
    expect(runbook.resources?.(input('a', 'a-restored-20260101-000000'))).toEqual(['dynamodb:a', 'dynamodb:a-restored-20260101-000000']);
  });
});

describe('the execution', () => {
  it('the safety backup first, then only what differs written and deleted, then a verifying diff finds nothing', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(await contents(t.live)).toEqual(AFTER);
    expect(await backups(t.live)).toEqual([p.data.backupName]);
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toBe(`Wrote *3* of 3 items and deleted *1* of 1 in \`${t.live}\`; 2 were already the same.`);
    expect(out.lines[1]).toMatch(/^Write units: \*\d+\* spent; the minimum for these changes was \d+ \(copying every item would have taken \d+\)\.$/);
    expect(out.lines.slice(2)).toEqual([
      `:mag: Verified by a full diff of both tables: *0* differences; \`${t.live}\` holds the 5 items of \`${t.restored}\`, item by item.`,
      expect.stringMatching(new RegExp(`^Safety backup \`${p.data.backupName}\` is AVAILABLE \\(\`arn:aws:dynamodb:[^\`]+\`\\): it holds \`${t.live}\` as it was before the cut-over\\.$`)),
      `\`${t.restored}\` is kept until someone presses Delete restored table.`,
    ]);
    expect(out.next).toEqual([{ label: 'Delete restored table', command: `delete restored-table ${t.restored}`, style: 'danger' }]);
    // the write chunk's own report, then the delete chunk's: each counts what was done before it too
    expect(out.reports.map((r) => r[2])).toContain('items compared, 3 written, 0 deleted:');
    expect(out.reports.at(-1)).toEqual([9, 9, 'items compared, 3 written, 1 deleted:']);
  });

  it('the safety backup refused: nothing written, Cut over again offered', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    fail(ddb(), 'CreateBackupCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out).toMatchObject({
      ok: false,
      lines: [`Nothing was changed: the safety backup \`${p.data.backupName}\` of \`${t.live}\` could not be made, so no item was written.`],
      failures: [expect.stringMatching(/^CreateBackup on .*not authorized.*\. Grant the bot's role/)],
      next: [{ label: 'Cut over again', command: `cutover dynamodb ${t.live} --from ${t.restored}`, style: 'primary' }],
    });
  });

  it('a backup still CREATING: waited for until AVAILABLE; one that fails, or cannot be checked: nothing written', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    rewrite<CreateBackupCommandOutput>(ddb(), 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails!, BackupStatus: 'CREATING' } }));
    let checks = 0;
    rewrite<DescribeBackupCommandOutput>(ddb(), 'DescribeBackupCommand', (o) => {
      const d = o.BackupDescription?.BackupDetails;
      return { ...o, BackupDescription: { ...o.BackupDescription, BackupDetails: { ...d!, BackupStatus: ++checks < 3 ? 'CREATING' : 'AVAILABLE' } } };
    });

    const out = await executeWatched(i, p.data);

    expect(checks).toBe(3);
    expect(await contents(t.live)).toEqual(AFTER);
    expect(out.checkpoints).toEqual([
      'safety-backup',
      'backup-wait-0 (wait 10 s)',
      'backup-check-0',
      'backup-wait-1 (wait 10 s)',
      'backup-check-1',
      'backup-wait-2 (wait 10 s)',
      'backup-check-2',
      'write-0',
      'delete-0',
      'verify',
    ]);
    expect(out.reports.slice(0, 3)).toEqual([
      [0, 9, 'waiting for the safety backup (CREATING); items compared'],
      [0, 9, 'waiting for the safety backup (CREATING); items compared'],
      [0, 9, 'waiting for the safety backup (AVAILABLE); items compared'],
    ]);

    undoFaults();
    const u = await pair();
    const j = input(u.live, u.restored);
    const q = await plan(j);
    rewrite<CreateBackupCommandOutput>(ddb(), 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails!, BackupStatus: 'CREATING' } }));
    rewrite<DescribeBackupCommandOutput>(ddb(), 'DescribeBackupCommand', (o) => ({ ...o, BackupDescription: { ...o.BackupDescription, BackupDetails: { ...o.BackupDescription!.BackupDetails!, BackupStatus: 'DELETED' } } }));
    const failed = await execute(j, q.data);
    expect(await contents(u.live)).toEqual(BEFORE);
    expect(failed.ok).toBe(false);
    expect(failed.lines).toEqual([`Nothing was changed: the safety backup \`${q.data.backupName}\` is DELETED, so no item was written.`]);
    expect(failed.failures).toEqual([expect.stringMatching(/^backup arn:aws:dynamodb:.*: DELETED$/)]);

    undoFaults();
    const v = await pair();
    const k = input(v.live, v.restored);
    const r = await plan(k);
    rewrite<CreateBackupCommandOutput>(ddb(), 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails!, BackupStatus: 'CREATING' } }));
    fail(ddb(), 'DescribeBackupCommand', ACCESS_DENIED);
    const unknown = await execute(k, r.data);
    expect(await contents(v.live)).toEqual(BEFORE);
    expect(unknown.lines).toEqual([`Nothing was changed: the safety backup \`${r.data.backupName}\` could not be checked, so no item was written.`]);
    expect(unknown.ok).toBe(false);
    expect(unknown.failures).toEqual([
      expect.stringMatching(new RegExp(`^DescribeBackup on \`arn:aws:dynamodb:us-east-1:\\d+:table/${v.live}/backup/[^\`]+\` failed: User is not authorized to perform this action\\. Grant the bot's role permission for \`DescribeBackup\` on this resource \\(see template\\.yaml\\)\\.$`)),
    ]);
  });

  it('a backup CREATING for 30 minutes of checks (every 10 s for a minute, then every 30 s): nothing written', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    rewrite<CreateBackupCommandOutput>(ddb(), 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails!, BackupStatus: 'CREATING' } }));
    let checks = 0;
    rewrite<DescribeBackupCommandOutput>(ddb(), 'DescribeBackupCommand', (o) => (checks++, { ...o, BackupDescription: { ...o.BackupDescription, BackupDetails: { ...o.BackupDescription!.BackupDetails!, BackupStatus: 'CREATING' } } }));

    const out = await executeWatched(i, p.data);

    expect(checks).toBe(64);
    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out.lines).toEqual([`Nothing was changed: the safety backup \`${p.data.backupName}\` is still CREATING after 30 min, so no item was written.`]);
    // 6 waits of 10 s and 58 of 30 s: 1,800 s, each followed by a check
    const waits = out.checkpoints.filter((c) => c.startsWith('backup-wait-'));
    expect(waits).toEqual(Array.from({ length: 64 }, (_, k) => `backup-wait-${k} (wait ${k < 6 ? 10 : 30} s)`));
    expect(out.checkpoints.filter((c) => c.startsWith('backup-check-'))).toHaveLength(64);
    expect(out.checkpoints.at(-1)).toBe('backup-check-63');
  });

  it('a retried run finds the safety backup it made, and makes no second one', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    await ddb().send(new CreateBackupCommand({ TableName: t.live, BackupName: p.data.backupName }));
    const out = await execute(i, p.data);
    expect(await backups(t.live)).toEqual([p.data.backupName]);
    expect(out.ok).toBe(true);
  });

  it('two cut-overs planned in the same second: the second takes a backup of its own, named for its run, and reports that one', async () => {
    const t = await pair();
    const when = new Date('2026-12-04T11:22:33Z');
    const first = input(t.live, t.restored);
    const second = input(t.live, t.restored);
    const p1 = await plan(first, when);
    const p2 = await plan(second, when);
    expect(p2.data.backupName).not.toBe(p1.data.backupName);
    expect(await execute(first, p1.data)).toMatchObject({ ok: true });
    // the first cut-over's table is changed again before the second runs
    await putItems(ddb(), t.live, [item('y0', 'between')]);

    const out = await execute(second, p2.data);

    expect(out.ok).toBe(true);
    expect((await backups(t.live)).sort()).toEqual([p1.data.backupName, p2.data.backupName].sort());
    const summaries = (await ddb().send(new ListBackupsCommand({ TableName: t.live }))).BackupSummaries ?? [];
    const own = summaries.find((b) => b.BackupName === p2.data.backupName);
    expect(out.lines).toContain(`Safety backup \`${p2.data.backupName}\` is AVAILABLE (\`${own?.BackupArn}\`): it holds \`${t.live}\` as it was before the cut-over.`);
    expect(await contents(t.live)).toEqual(AFTER);
  });

  it('writes refused: stopped part-way, saying what was written, the backup, and how to finish', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    fail(ddb(), 'BatchWriteItemCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`:x: Stopped part-way: wrote *0* of 3 items and deleted *0* of 1 in \`${t.live}\` before it failed.`);
    expect(out.lines[1]).toMatch(/^Safety backup `.*` is AVAILABLE/);
    expect(out.lines[2]).toBe('Fix the cause and press Cut over again: it diffs again and writes only what still differs.');
    expect(out.failures).toEqual([expect.stringMatching(/not authorized/)]);
    expect(out.next).toEqual([{ label: 'Cut over again', command: `cutover dynamodb ${t.live} --from ${t.restored}`, style: 'primary' }]);
  });

  it('writes throttled past the retries of a chunk: the chunk is done again after a durable wait, and the run ends verified', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    fail(ddb(), 'BatchWriteItemCommand', THROTTLED, { times: 12 });

    const out = await execute(i, p.data);

    expect(await contents(t.live)).toEqual(AFTER);
    expect(out.ok).toBe(true);
    // a chunk's ten tries of BatchWriteItem throttled, then two of its second attempt
    expect(out.lines[0]).toBe(`Wrote *3* of 3 items and deleted *1* of 1 in \`${t.live}\`; 2 were already the same (1 chunk done again after a passing failure).`);
  });

  it('writes throttled through two attempts of a chunk: it is done again after 5 s, then after 10 s, each attempt its own checkpoint', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    // each attempt of a chunk tries BatchWriteItem ten times
    fail(ddb(), 'BatchWriteItemCommand', THROTTLED, { times: 20 });

    const out = await executeWatched(i, p.data);

    expect(await contents(t.live)).toEqual(AFTER);
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toBe(`Wrote *3* of 3 items and deleted *1* of 1 in \`${t.live}\`; 2 were already the same (2 chunks done again after a passing failure).`);
    expect(out.checkpoints).toEqual(['safety-backup', 'write-0', 'write-0-backoff-0 (wait 5 s)', 'write-0-again-1', 'write-0-backoff-1 (wait 10 s)', 'write-0-again-2', 'delete-0', 'verify']);
  });

  it('writes throttled through every attempt of a chunk: four waits of 5 to 40 s, then stopped part-way', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    // five attempts of ten tries each are throttled; a sixth attempt would go through
    fail(ddb(), 'BatchWriteItemCommand', THROTTLED, { times: 60 });

    const out = await executeWatched(i, p.data);

    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`:x: Stopped part-way: wrote *0* of 3 items and deleted *0* of 1 in \`${t.live}\` before it failed.`);
    expect(out.failures).toEqual([`BatchWriteItem on \`${t.live}\` failed: Rate of requests exceeds the allowed throughput. AWS is throttling; wait a minute and run it again.`]);
    expect(out.checkpoints).toEqual([
      'safety-backup',
      'write-0',
      'write-0-backoff-0 (wait 5 s)',
      'write-0-again-1',
      'write-0-backoff-1 (wait 10 s)',
      'write-0-again-2',
      'write-0-backoff-2 (wait 20 s)',
      'write-0-again-3',
      'write-0-backoff-3 (wait 40 s)',
      'write-0-again-4',
    ]);
  });

  it('a chunk that keeps failing in a way not understood: stopped part-way at once, naming the step, the error cut short', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    // a scan cursor no key can have (a boolean), under a long name: drbot cannot keep it in a checkpoint
    const name = `k${'x'.repeat(399)}`;
    rewrite<ScanCommandOutput>(ddb(), 'ScanCommand', (o, x) => (x.TableName === t.restored ? { ...o, LastEvaluatedKey: { [name]: { BOOL: true } } } : o));

    const out = await executeWatched(i, p.data);

    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`:x: Stopped part-way: wrote *0* of 3 items and deleted *0* of 1 in \`${t.live}\` before it failed.`);
    expect(out.failures).toEqual([`write-0: ${`key attribute ${name} is not a string, number or binary`.slice(0, 300)}`]);
    expect(out.checkpoints).toEqual(['safety-backup', 'write-0']);
  });

  it("the SDK's own unwinding out of a chunk step is not taken for the chunk's failure: it ends the invocation", async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    const progress: Progress = { report: async () => undefined };

    // the chunk step interrupted, as the SDK interrupts a step whose earlier attempt never finished
    const r = await rig.run((ctx, d, x) => {
      const interrupted = watchSteps(ctx, (step) => (step === 'write-0' ? Promise.reject(new StepInterruptedError(step, step)) : undefined));
      return runbook.execute(interrupted.ctx, d, x as CutoverDynamodbInput, p.data, progress);
    }, i);

    expect(r).toEqual({ status: 'FAILED', error: 'The step execution process was initiated but failed to reach completion due to an interruption.' });
    expect(await contents(t.live)).toEqual(BEFORE);
  });

  it('a write phase whose scan never ends stops after 8,000 chunks; the deletes and the verifying diff still run, and say what still differs', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    // every write chunk answered as scanned nothing and not done (8,000 checkpointed steps on the local runner would take minutes)
    let chunks = 0;
    const endless: ChunkResult = { cursors: [0, 1, 2, 3].map(() => ({ start: { pk: { S: 'a0' } }, done: false })), compared: 0, written: 0, deleted: 0, unchanged: 0, units: 0 };
    // a phase that goes on past 8,001 chunks is ended here, so that the test ends
    const ended: ChunkResult = { ...endless, cursors: endless.cursors.map(() => ({ done: true })) };

    const out = await executeWatched(i, p.data, (step) => (step.startsWith('write-') ? (++chunks > 8001 ? ended : endless) : undefined));

    expect(chunks).toBe(8000);
    expect(out.checkpoints).toEqual(['safety-backup', ...Array.from({ length: 8000 }, (_, k) => `write-${k}`), 'delete-0', 'verify']);
    expect(await contents(t.live)).toEqual(['a0=old-0', 'a1=old-1', 'a2=new-2']);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`Wrote *0* of 3 items and deleted *1* of 1 in \`${t.live}\`; 0 were already the same.`);
    expect(out.lines[2]).toBe(':warning: Verified by a full diff of both tables: *3* items still differ and *0* are still to delete (written by something else meanwhile?). Cut over again to finish.');
  });

  it('deletes that do not land, the writes all done: the verifying diff counts the one still to delete, and the run is not ok', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    // a batch of deletes answered as done, nothing deleted; the writes go to moto
    stub(ddb(), 'BatchWriteItemCommand', (x: { RequestItems?: Record<string, { DeleteRequest?: unknown }[]> }) =>
      Object.values(x.RequestItems ?? {}).flat().every((r) => r.DeleteRequest) ? { UnprocessedItems: {} } : undefined,
    );

    const out = await execute(i, p.data);

    expect(out.ok).toBe(false);
    expect(out.lines[2]).toBe(':warning: Verified by a full diff of both tables: *0* items still differ and *1* are still to delete (written by something else meanwhile?). Cut over again to finish.');
    expect(out.next?.map((s) => s.label)).toEqual(['Cut over again', 'Delete restored table']);
  });

  it('writes that do not land (something else writing meanwhile): the verifying diff says what still differs and offers Cut over again', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    // BatchWriteItem answered as done, nothing written
    stub(ddb(), 'BatchWriteItemCommand', () => ({ UnprocessedItems: {} }));

    const out = await execute(i, p.data);

    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out.ok).toBe(false);
    expect(out.lines[2]).toBe(':warning: Verified by a full diff of both tables: *3* items still differ and *1* are still to delete (written by something else meanwhile?). Cut over again to finish.');
    expect(out.next).toEqual([
      { label: 'Cut over again', command: `cutover dynamodb ${t.live} --from ${t.restored}`, style: 'primary' },
      { label: 'Delete restored table', command: `delete restored-table ${t.restored}`, style: 'danger' },
    ]);
  });

  it('the verifying diff refused: the writes are reported, the check is said not to have run', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    let scans = 0;
    // the write and delete phases scan each of the four segments of one table; the verify scans both
    const undo = fail(ddb(), 'ScanCommand', ACCESS_DENIED, { when: () => ++scans > 8 });

    const out = await execute(i, p.data);
    undo();

    expect(await contents(t.live)).toEqual(AFTER);
    expect(out.ok).toBe(false);
    expect(out.lines.at(-1)).toBe(':warning: The verifying diff could not run.');
    // why, as the run's failure
    expect(out.failures).toEqual([expect.stringMatching(/^Scan on `co-\d+-restored-[\d-]+` failed: User is not authorized to perform this action\. Grant /)]);
    expect(out.lines[0]).toBe(`Wrote *3* of 3 items and deleted *1* of 1 in \`${t.live}\`; 2 were already the same.`);
    expect(out.next?.map((s) => s.label)).toEqual(['Cut over again', 'Delete restored table']);
  });
});
