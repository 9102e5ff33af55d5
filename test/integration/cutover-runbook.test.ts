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
import { CreateBackupCommand, type CreateBackupCommandOutput, type DescribeBackupCommandOutput, type DescribeTableCommandOutput, DeleteItemCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { CutoverDynamodbInput } from '../../src/runbooks/cutover-dynamodb';
import { chunkItems, cutoverBackupName, type CutoverPlan, runbook } from '../../src/runbooks/cutover-dynamodb/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { createTable, type Item, putItems, restoredTags, scanItems } from '../helpers/cutover-tables';
import { ACCESS_DENIED, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';

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
      backupName: `${t.live}-before-cutover-20261204-112233`,
      counts: { restoredItems: 5, liveItems: 4, missing: 2, different: 1, extra: 1, unchanged: 2, minUnits: expect.any(Number), fullCopyUnits: expect.any(Number) },
      chunkItems: 500,
    });
    expect(p.lines).toEqual([
      `Make \`${t.live}\` hold the data of \`${t.restored}\` (restored by run \`r-0123456789ab\`), item by item: the table keeps its name, ARN, stream, alarms and IAM.`,
      'Full diff of both tables (5 restored items, 4 live): *3* to write (2 missing, 1 different), *1* to delete, 2 unchanged.',
      expect.stringMatching(/^e\.g\. missing `pk=a[34]`, `pk=a[34]`; different `pk=a2`; to delete `pk=x0`$/),
      `First it takes an on-demand safety backup of \`${t.live}\`, \`${t.live}-before-cutover-20261204-112233\`, and writes only once it is AVAILABLE.`,
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
    });
    const other = await pair({ tags: [{ Key: 'drbot-restored-from', Value: 'payments' }, { Key: 'drbot-run', Value: 'r-0123456789ab' }] });
    await expect(plan(input(other.live, other.restored))).rejects.toMatchObject({ message: `\`${other.restored}\` is not drbot's restored copy of \`${other.live}\`: it is tagged \`drbot-restored-from\`=\`payments\`.` });
    const noRun = await pair({ tags: [{ Key: 'drbot-restored-from', Value: `co-${n + 1}` }] });
    await expect(plan(input(noRun.live, noRun.restored))).rejects.toMatchObject({ message: `\`${noRun.restored}\` is not drbot's restored copy of \`${noRun.live}\`: it is tagged \`drbot-restored-from\`=\`${noRun.live}\` but no \`drbot-run\` tag.` });

    const named = await pair({ restoredName: (t) => `${t}-copy` });
    await expect(plan(input(named.live, named.restored))).rejects.toMatchObject({ code: 'not_a_restored_table', message: `\`${named.restored}\` is not named like a restored copy of \`${named.live}\`.` });

    const keys = await pair({ range: true });
    await expect(plan(input(keys.live, keys.restored))).rejects.toMatchObject({
      code: 'key_schema_mismatch',
      message: `The key schemas differ: \`${keys.live}\` has pk (S, HASH); \`${keys.restored}\` has pk (S, HASH), sk (N, RANGE).`,
    });

    rig.configure({ dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: 'co-none' }] } });
    await expect(plan(input('co-none', 'co-none-restored-20261204-101500'))).rejects.toMatchObject({ code: 'table_missing', message: 'Table `co-none` does not exist in us-east-1.' });
    const t = await pair();
    await expect(plan(input(t.live, `${t.live}-restored-20261204-999999`))).rejects.toMatchObject({ code: 'restored_table_missing', message: `There is no table \`${t.live}-restored-20261204-999999\` in us-east-1.` });

    const status = (table: string, s: string) => rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (o, x) => (x.TableName === table && o.Table ? { ...o, Table: { ...o.Table, TableStatus: s as 'ACTIVE' } } : o));
    const undo = status(t.restored, 'CREATING');
    await expect(plan(input(t.live, t.restored))).rejects.toMatchObject({ code: 'restored_table_not_active', message: `\`${t.restored}\` is CREATING, not ACTIVE.` });
    undo();
    status(t.live, 'DELETING');
    await expect(plan(input(t.live, t.restored))).rejects.toMatchObject({ code: 'table_not_active', message: `\`${t.live}\` is DELETING.` });
    undoFaults();
    status(t.live, 'UPDATING');
    expect((await plan(input(t.live, t.restored))).data.counts.missing).toBe(2);
    expect(await contents(t.live)).toEqual(BEFORE);
  });

  it('names, sizes, title and resources', () => {
    expect(cutoverBackupName('spawn orders', new Date('2026-01-02T03:04:05.678Z'))).toBe('spawn_orders-before-cutover-20260102-030405');
    expect(cutoverBackupName('t'.repeat(300), new Date('2026-01-02T03:04:05Z'))).toHaveLength(255);
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

    const out = await execute(i, p.data);

    expect(checks).toBe(3);
    expect(await contents(t.live)).toEqual(AFTER);
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
  });

  it('a backup CREATING for 30 minutes of checks: nothing written', async () => {
    const t = await pair();
    const i = input(t.live, t.restored);
    const p = await plan(i);
    rewrite<CreateBackupCommandOutput>(ddb(), 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails!, BackupStatus: 'CREATING' } }));
    let checks = 0;
    rewrite<DescribeBackupCommandOutput>(ddb(), 'DescribeBackupCommand', (o) => (checks++, { ...o, BackupDescription: { ...o.BackupDescription, BackupDetails: { ...o.BackupDescription!.BackupDetails!, BackupStatus: 'CREATING' } } }));

    const out = await execute(i, p.data);

    expect(checks).toBe(180);
    expect(await contents(t.live)).toEqual(BEFORE);
    expect(out.lines).toEqual([`Nothing was changed: the safety backup \`${p.data.backupName}\` is still CREATING after 30 min, so no item was written.`]);
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
    expect(out.lines[0]).toMatch(new RegExp(`^Wrote \\*3\\* of 3 items and deleted \\*1\\* of 1 in \`${t.live}\`; 2 were already the same \\(\\d+ chunks? done again after a passing failure\\)\\.$`));
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
    expect(out.lines[0]).toBe(`Wrote *3* of 3 items and deleted *1* of 1 in \`${t.live}\`; 2 were already the same.`);
    expect(out.next?.map((s) => s.label)).toEqual(['Cut over again', 'Delete restored table']);
  });
});
