/**
 * The cut-over's table work (src/runbooks/cutover-dynamodb/diff.ts and apply.ts) called directly
 * against moto DynamoDB: the full diff of a restored table against the live one, the write phase
 * (what differs is put, nothing else), the delete phase (only what the restored table lacks), run
 * in small chunks from their cursors as the runbook's steps do, again from the same cursors, and
 * with DynamoDB refusing or throttling a write. The runbook's flow through Slack, approval and its
 * safety backup is in cutover-dynamodb.test.ts; these need no local stack, so `npm run mutate`
 * can run them for each mutant.
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Item, KeyAttribute, RetryOptions } from '../../src/aws/dynamodb-items';
import { allDone, type ChunkContext, type ChunkResult, type Cursor, deleteChunk, loadKey, startCursors, storeKey, writeChunk } from '../../src/runbooks/cutover-dynamodb/apply';
import { diffTables } from '../../src/runbooks/cutover-dynamodb/diff';
import { createTable, putItems } from '../helpers/cutover-tables';
import { fail, THROUGHPUT_EXCEEDED, undoFaults } from '../helpers/faults';
import { useMoto } from '../helpers/moto';

const moto = useMoto();
// a test that fails before its undo() must not leave its fault on the file's clients
afterEach(undoFaults);
const KEY: KeyAttribute[] = [
  { name: 'pk', role: 'HASH', type: 'S' },
  { name: 'sk', role: 'RANGE', type: 'N' },
];
/** No waits between retries, two attempts: a refused call comes back at once. */
const RETRY: RetryOptions = { attempts: 2, baseMs: 1, capMs: 1, sleep: async () => {} };
let n = 0;

const ddb = (): DynamoDBClient => moto().clients.dynamodb('us-east-1');

/** A table keyed pk (string) and sk (number), holding `items`. */
async function table(items: Item[]): Promise<string> {
  const name = `cutover-${++n}`;
  await createTable(ddb(), name, { range: true });
  await putItems(ddb(), name, items);
  return name;
}

const item = (pk: string, sk: number, v: string, extra: Item = {}): Item => ({ pk: { S: pk }, sk: { N: String(sk) }, v: { S: v }, ...extra });

/** Every item of a table, as `pk/sk=v`, sorted. */
async function contents(name: string): Promise<string[]> {
  const r = await ddb().send(new ScanCommand({ TableName: name }));
  return (r.Items ?? []).map((i) => `${i.pk?.S}/${i.sk?.N}=${i.v?.S}`).sort();
}

/**
 * The restored table: a0..a5 as they were. The live one: a0, a1 the same; a2, a3 changed; a4, a5
 * gone; x0, x1, x2 written since (the restored table lacks them).
 */
async function pairOfTables(): Promise<{ live: string; restored: string }> {
  const restoredItems = [0, 1, 2, 3, 4, 5].map((i) => item('a', i, `old-${i}`));
  const liveItems = [item('a', 0, 'old-0'), item('a', 1, 'old-1'), item('a', 2, 'new-2'), item('a', 3, 'new-3', { more: { S: 'x'.repeat(1500) } }), ...[0, 1, 2].map((i) => item('x', i, `since-${i}`))];
  return { restored: await table(restoredItems), live: await table(liveItems) };
}

/** The live table of pairOfTables() as it makes it, in contents() form: what a chunk that writes nothing leaves. */
const LIVE_AS_MADE = ['a/0=old-0', 'a/1=old-1', 'a/2=new-2', 'a/3=new-3', 'x/0=since-0', 'x/1=since-1', 'x/2=since-2'];

/** Runs a phase chunk by chunk from fresh cursors to the end, as the runbook's steps do; the chunks' results. */
async function runPhase(phase: (ctx: ChunkContext, c: Cursor[]) => Promise<ChunkResult>, ctx: ChunkContext, segments: number): Promise<ChunkResult[]> {
  const out: ChunkResult[] = [];
  for (let cursors = startCursors(segments); !allDone(cursors); ) {
    const r = await phase(ctx, cursors);
    out.push(r);
    if (r.failure) break;
    cursors = r.cursors;
  }
  return out;
}

const sum = (rs: ChunkResult[], k: 'compared' | 'written' | 'deleted' | 'unchanged' | 'units') => rs.reduce((x, r) => x + r[k], 0);

describe('diffTables', () => {
  it('counts missing, different, extra and unchanged items, their write units, and names a few of each', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    const progress: number[] = [];

    // act
    const d = await diffTables(ddb(), live, restored, KEY, { segments: 2, retry: RETRY, onProgress: (c) => progress.push(c) });

    // assess
    expect(d).toMatchObject({ restoredItems: 6, liveItems: 7, missing: 2, different: 2, extra: 3, unchanged: 2 });
    // a3's live copy is over 1 KB: replacing it costs 2 units; every other write 1
    expect(d.minUnits).toBe(2 + (1 + 2) + 3);
    expect(d.fullCopyUnits).toBe(2 + (1 + 2) + 3 + 2);
    expect([...d.samples.missing].sort()).toEqual(['pk=a, sk=4', 'pk=a, sk=5']);
    expect([...d.samples.different].sort()).toEqual(['pk=a, sk=2', 'pk=a, sk=3']);
    expect([...d.samples.extra].sort()).toEqual(['pk=x, sk=0', 'pk=x, sk=1', 'pk=x, sk=2']);
    expect(progress.at(-1)).toBe(13);
  });

  it('names at most three of each kind', async () => {
    // prepare
    const restored = await table([0, 1, 2, 3, 4].map((i) => item('m', i, 'v')));
    const live = await table([]);

    // act
    const d = await diffTables(ddb(), live, restored, KEY, { segments: 1, retry: RETRY });

    // assess
    expect(d.missing).toBe(5);
    expect(d.samples.missing).toHaveLength(3);
  });
});

describe('write and delete phases', () => {
  const ctx = (live: string, restored: string, over: Partial<ChunkContext> = {}): ChunkContext => ({ ddb: ddb(), live, restored, key: KEY, budget: 2, writeConcurrency: 2, retry: RETRY, ...over });

  it('puts what is missing or different, then deletes what the restored table lacks, in chunks, leaving the live table equal to the restored one', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    const written: number[] = [];

    // act
    const writes = await runPhase(writeChunk, ctx(live, restored, { onWritten: (k) => written.push(k) }), 2);
    const afterWrites = await contents(live);
    const deletes = await runPhase(deleteChunk, ctx(live, restored), 2);

    // assess
    expect(writes.length).toBeGreaterThan(1);
    expect({ compared: sum(writes, 'compared'), written: sum(writes, 'written'), unchanged: sum(writes, 'unchanged'), deleted: sum(writes, 'deleted') }).toEqual({ compared: 6, written: 4, unchanged: 2, deleted: 0 });
    // a2 1 unit, a3 2 (its live copy was over 1 KB), a4 and a5 1 each
    expect(sum(writes, 'units')).toBe(5);
    expect(written.reduce((a, b) => a + b, 0)).toBe(4);
    expect(afterWrites).toEqual([...[0, 1, 2, 3, 4, 5].map((i) => `a/${i}=old-${i}`), 'x/0=since-0', 'x/1=since-1', 'x/2=since-2']);
    expect({ compared: sum(deletes, 'compared'), deleted: sum(deletes, 'deleted'), written: sum(deletes, 'written'), units: sum(deletes, 'units') }).toEqual({ compared: 9, deleted: 3, written: 0, units: 3 });
    expect(await contents(live)).toEqual(await contents(restored));
    expect(await contents(restored)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `a/${i}=old-${i}`));
  });

  it('run again from the start, writes and deletes nothing: every item is found already as it should be', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    await runPhase(writeChunk, ctx(live, restored), 2);
    await runPhase(deleteChunk, ctx(live, restored), 2);

    // act
    const writes = await runPhase(writeChunk, ctx(live, restored), 2);
    const deletes = await runPhase(deleteChunk, ctx(live, restored), 2);

    // assess
    expect({ written: sum(writes, 'written'), unchanged: sum(writes, 'unchanged'), deleted: sum(deletes, 'deleted'), compared: sum(deletes, 'compared') }).toEqual({ written: 0, unchanged: 6, deleted: 0, compared: 6 });
  });

  it('scans no more than its budget a chunk, split over the unfinished segments, and hands on where each segment stands', async () => {
    // prepare
    const restored = await table([0, 1, 2, 3, 4, 5, 6, 7].map((i) => item('b', i, 'v')));
    const live = await table([]);

    // act
    const first = await writeChunk(ctx(live, restored, { budget: 3 }), startCursors(1));

    // assess: one segment: a page of 3 (moto scans a hash key's items in range-key order), and a cursor at its last key
    expect(first.compared).toBe(3);
    expect(first.cursors).toHaveLength(1);
    expect(first.cursors[0]?.done).toBe(false);
    expect(loadKey(first.cursors[0]?.start ?? {})).toEqual({ pk: { S: 'b' }, sk: { N: '2' } });
    const all = await runPhase(writeChunk, ctx(live, restored, { budget: 3 }), 1);
    expect(all.map((r) => r.compared)).toEqual([3, 3, 2]);
  });

  it('over three segments that finish at different chunks, reads each item once, splitting the budget over the segments still going', async () => {
    // prepare: ten hash keys, spread over the segments
    const restored = await table(Array.from({ length: 10 }, (_, i) => item(`c${i}`, 0, 'v')));
    const live = await table([]);

    // act
    const chunks = await runPhase(writeChunk, ctx(live, restored, { budget: 3 }), 3);

    // assess
    expect(sum(chunks, 'compared')).toBe(10);
    expect(sum(chunks, 'written')).toBe(10);
    expect(await contents(live)).toHaveLength(10);
    const going = [3, ...chunks.map((r) => r.cursors.filter((c) => !c.done).length)];
    // the segments do not all end together (or this test would not test the split)
    expect(new Set(going).size).toBeGreaterThan(2);
    chunks.forEach((r, i) => {
      const active = going[i] ?? 0;
      // a page of ceil(budget / segments going) from each
      expect(r.compared).toBeLessThanOrEqual(Math.ceil(3 / active) * active);
      // one segment left and more to come: it gets the whole budget
      if (active === 1 && i < chunks.length - 1) expect(r.compared).toBe(3);
    });
  });

  it('when the read of the other table is throttled past its retries (two tries, as told), either phase fails transiently and writes nothing', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    let tries = 0;
    const undo = fail(ddb(), 'BatchGetItemCommand', THROUGHPUT_EXCEEDED, { when: () => ++tries > 0 });

    // act
    const w = await writeChunk(ctx(live, restored, { budget: 10 }), startCursors(1));
    const afterWrite = tries;
    const d = await deleteChunk(ctx(live, restored, { budget: 10 }), startCursors(1));
    undo();

    // assess
    expect(w).toMatchObject({ written: 0, failure: { transient: true } });
    expect(d).toMatchObject({ deleted: 0, failure: { transient: true } });
    expect([afterWrite, tries - afterWrite]).toEqual([RETRY.attempts, RETRY.attempts]);
    expect(await contents(live)).toEqual(LIVE_AS_MADE);
  });

  it('when the scan of a table is throttled past its retries (two tries, as told), the chunk fails transiently and writes nothing', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    let tries = 0;
    const undo = fail(ddb(), 'ScanCommand', THROUGHPUT_EXCEEDED, { when: () => ++tries > 0 });

    // act
    const w = await writeChunk(ctx(live, restored, { budget: 10 }), startCursors(1));
    undo();

    // assess
    expect(w).toMatchObject({ written: 0, failure: { transient: true } });
    expect(tries).toBe(RETRY.attempts);
    expect(await contents(live)).toEqual(LIVE_AS_MADE);
  });

  it('the delete phase reads only the keys of the restored table', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    const asked: unknown[] = [];
    const undo = fail(ddb(), 'BatchGetItemCommand', { name: 'unused', message: 'unused' }, {
      when: (x) => {
        const r = (x.RequestItems as Record<string, { ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> }>)[restored];
        asked.push({ projection: r?.ProjectionExpression, names: r?.ExpressionAttributeNames });
        return false;
      },
    });

    // act
    await deleteChunk(ctx(live, restored, { budget: 10 }), startCursors(1));
    undo();

    // assess
    expect(asked).toEqual([{ projection: '#k0, #k1', names: { '#k0': 'pk', '#k1': 'sk' } }]);
  });

  it('when DynamoDB refuses the writes, comes back with the failure, what it did before, and the cursors it started from', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    const start = startCursors(1);
    const undo = fail(ddb(), 'BatchWriteItemCommand', { name: 'AccessDeniedException', message: 'User is not authorized to perform: dynamodb:BatchWriteItem', status: 400 });

    // act
    const r = await writeChunk(ctx(live, restored, { budget: 10 }), start);
    undo();

    // assess: nothing written, the chunk to be done again from the same place, not retried
    expect(r.cursors).toBe(start);
    expect(r).toMatchObject({ compared: 6, written: 0, unchanged: 2, failure: { transient: false } });
    expect(r.failure?.message).toMatch(/BatchWriteItem/);
    expect(await contents(live)).toContain('a/2=new-2');
  });

  it('when DynamoDB throttles the writes past the retries, says the failure is transient', async () => {
    // prepare
    const { live, restored } = await pairOfTables();
    const undo = fail(ddb(), 'BatchWriteItemCommand', THROUGHPUT_EXCEEDED);

    // act
    const r = await deleteChunk(ctx(live, restored, { budget: 10 }), startCursors(1));
    undo();

    // assess
    expect(r.failure).toMatchObject({ transient: true });
    expect(r.deleted).toBe(0);
    expect(await contents(live)).toContain('x/0=since-0');
  });
});

describe('checkpointed keys', () => {
  it('keeps string, number and binary keys through JSON, and refuses any other type', () => {
    const key: Item = { s: { S: 'a' }, n: { N: '1.5' }, b: { B: new Uint8Array([0, 255]) } };
    expect(loadKey(JSON.parse(JSON.stringify(storeKey(key))))).toEqual(key);
    expect(storeKey(key)).toEqual({ s: { S: 'a' }, n: { N: '1.5' }, b: { B64: 'AP8=' } });
    expect(() => storeKey({ flag: { BOOL: true } })).toThrow('key attribute flag is not a string, number or binary');
  });
});
