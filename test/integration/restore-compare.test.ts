/**
 * The restored-vs-live comparison a DynamoDB restore reports before anything else is approved
 * (src/runbooks/restore-dynamodb/compare.ts), called directly against moto: counts, the sampled
 * keys by kind, a few of each named, and its lines. The restore's flow is in
 * restore-dynamodb.test.ts; this needs no local stack, so `npm run mutate` can run it per mutant.
 */
import type { BatchGetItemCommandOutput, KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import type { Item } from '../../src/aws/dynamodb-restore';
import { type Comparison, comparisonLines, compareTables, keyText } from '../../src/runbooks/restore-dynamodb/compare';
import { motoAt } from '../../src/local/moto';
import { createTable, putItems } from '../helpers/cutover-tables';
import { fail, rewrite, undoFaults } from '../helpers/faults';
import { useMoto } from '../helpers/moto';

const moto = useMoto();
afterEach(undoFaults);
const SCHEMA = [
  { AttributeName: 'pk', KeyType: 'HASH' as const },
  { AttributeName: 'sk', KeyType: 'RANGE' as const },
];
let n = 0;

/** A table keyed pk (string) and sk (number), holding `items`. */
async function table(items: Item[]): Promise<string> {
  const name = `compare-${++n}`;
  const ddb = moto().clients.dynamodb('us-east-1');
  await createTable(ddb, name, { range: true });
  await putItems(ddb, name, items);
  return name;
}

const item = (pk: string, v: string): Item => ({ pk: { S: pk }, sk: { N: '1' }, v: { S: v } });

describe('compareTables', () => {
  it('counts both tables and sorts every sampled key into same, different, only restored and only live, naming three of each', async () => {
    // prepare
    const restored = await table([item('a', '1'), item('b', '1'), item('c', 'old'), item('d', 'old'), item('e', 'old'), item('f', 'old'), item('g', '1'), item('h', '1'), item('i', '1'), item('j', '1')]);
    const live = await table([item('a', '1'), item('b', '1'), item('c', 'new'), item('d', 'new'), item('e', 'new'), item('f', 'new'), item('w', '1')]);

    // act
    const c = await compareTables(moto().clients.dynamodb('us-east-1'), restored, live, SCHEMA, { scanLive: true });

    // assess
    expect(c).toEqual({
      restored: { count: 10, exact: true },
      live: { count: 7, exact: true },
      sampled: 11,
      same: 2,
      differ: 4,
      onlyRestored: 4,
      onlyLive: 1,
      unread: 0,
      examples: { differ: ['pk=c, sk=1', 'pk=d, sk=1', 'pk=e, sk=1'], onlyRestored: ['pk=g, sk=1', 'pk=h, sk=1', 'pk=i, sk=1'], onlyLive: ['pk=w, sk=1'] },
    });
  });

  it('keys BatchGetItem leaves unprocessed through every round are counted unread, from both tables, and not sorted into a kind (moto processes every key: SDK middleware answers UnprocessedKeys)', async () => {
    // prepare: g and h only restored (looked up in the live table), w only live (looked up in the restored one)
    const restored = await table([item('a', '1'), item('g', '1'), item('h', '1')]);
    const live = await table([item('a', '1'), item('w', '1')]);
    const ddb = moto().clients.dynamodb('us-east-1');
    const rounds: string[] = [];
    rewrite<BatchGetItemCommandOutput>(ddb, 'BatchGetItemCommand', (_out, input) => {
      const asked = input.RequestItems as Record<string, KeysAndAttributes>;
      rounds.push(Object.keys(asked).join());
      return { $metadata: {}, Responses: {}, UnprocessedKeys: asked };
    });
    const slept: number[] = [];

    // act
    const c = await compareTables(ddb, restored, live, SCHEMA, { scanLive: true, sleep: async (ms) => void slept.push(ms) });

    // assess: 2 unread in the live table and 1 in the restored, after six rounds each with backoff between
    expect(c).toMatchObject({ sampled: 4, same: 1, differ: 0, onlyRestored: 0, onlyLive: 0, unread: 3 });
    expect(rounds.filter((t) => t === live)).toHaveLength(6);
    expect(rounds.filter((t) => t === restored)).toHaveLength(6);
    expect(slept.sort((a, b) => a - b)).toEqual([100, 100, 200, 200, 400, 400, 800, 800, 1600, 1600]);
  });

  it('looks up in the other table each sampled key its own sample missed: tables larger than the sample, sampled differently', async () => {
    // prepare: 600 items in both (a sample is at most 500 a table); the live table also 300 written since, whose keys sort first (moto samples each segment in key order)
    const items = Array.from({ length: 600 }, (_, i) => item(`k${String(i).padStart(3, '0')}`, 'same'));
    const since = Array.from({ length: 300 }, (_, i) => item(`a-new${String(i).padStart(3, '0')}`, 'since'));
    const restored = await table([]);
    const live = await table([]);
    await motoAt(moto().endpoint).putItems?.('us-east-1', restored, items);
    await motoAt(moto().endpoint).putItems?.('us-east-1', live, [...items, ...since]);

    const lookedUp: number[] = [];
    const undo = fail(moto().clients.dynamodb('us-east-1'), 'BatchGetItemCommand', { name: 'unused', message: 'unused' }, {
      when: (x) => {
        for (const t of Object.values(x.RequestItems as Record<string, { Keys: unknown[] }>)) lookedUp.push(t.Keys.length);
        return false;
      },
    });

    // act
    const c = await compareTables(moto().clients.dynamodb('us-east-1'), restored, live, SCHEMA, { scanLive: true });
    undo();

    // assess: every restored key sampled is found in the live table, looked up when the live sample missed it;
    // only keys one sample missed are looked up (the samples overlap: fewer than the keys sampled)
    expect(lookedUp.length).toBeGreaterThan(0);
    expect(lookedUp.reduce((a, b) => a + b, 0)).toBeLessThan(c.sampled);
    expect(c).toMatchObject({ restored: { count: 600, exact: true }, live: { count: 900, exact: true }, differ: 0, onlyRestored: 0, unread: 0 });
    expect(c.onlyLive).toBeGreaterThan(0);
    expect(c.same + c.onlyLive).toBe(c.sampled);
    expect(c.sampled).toBeGreaterThan(500);
  });

  it('does not count a live table it is told not to scan (provisioned): its count is DynamoDB\'s own, marked ~', async () => {
    // prepare
    const restored = await table([item('a', '1')]);
    const live = await table([item('a', '1')]);

    // act
    const c = await compareTables(moto().clients.dynamodb('us-east-1'), restored, live, SCHEMA, { scanLive: false });

    // assess
    expect(c.restored).toEqual({ count: 1, exact: true });
    expect(c.live.exact).toBe(false);
    expect(comparisonLines(c, restored, live)[0]).toBe(
      `*Compared with the live table:* \`${restored}\` has *1* items, \`${live}\` *~${c.live.count}* (~ is DynamoDB’s own count, refreshed about every six hours: a provisioned live table is not scanned to count, nor is a table over 100 MB).`,
    );
  });
});

describe('comparisonLines and keyText', () => {
  const base: Comparison = { restored: { count: 1200, exact: true }, live: { count: 1190, exact: true }, sampled: 500, same: 490, differ: 4, onlyRestored: 5, onlyLive: 1, unread: 0, examples: { differ: ['pk=a'], onlyRestored: ['pk=`b`'], onlyLive: [] } };

  it('says the counts, the sample by kind, and names examples of each kind there are', () => {
    expect(comparisonLines(base, 'spawn-restored', 'spawn')).toEqual([
      '*Compared with the live table:* `spawn-restored` has *1,200* items, `spawn` *1,190* (exact counts).',
      'Of *500* sampled keys: 490 the same, *4* differ, *5* only in the restored table (deleted from the live one since), *1* only in the live table (written since).',
      'Differ, e.g.: `pk=a`',
      'Only in the restored table, e.g.: `pk=ˋbˋ`',
    ]);
    expect(comparisonLines({ ...base, restored: { count: 5, exact: false }, same: 486, onlyLive: 2, unread: 3, examples: { differ: [], onlyRestored: [], onlyLive: ['x', 'y'] } }, 'r', 'l').slice(1)).toEqual([
      'Of *500* sampled keys: 486 the same, *4* differ, *5* only in the restored table (deleted from the live one since), *2* only in the live table (written since); 3 could not be read.',
      'Only in the live table, e.g.: `x`, `y`',
    ]);
    expect(comparisonLines({ ...base, restored: { count: 5, exact: false } }, 'r', 'l')[0]).toMatch(/has \*~5\* items, `l` \*1,190\* \(~ is DynamoDB’s own count/);
  });

  it('writes a key as name=value, binary as base64, another type as ?', () => {
    expect(keyText({ pk: { S: 'i-1' }, sk: { N: '7' } })).toBe('pk=i-1, sk=7');
    expect(keyText({ id: { B: new Uint8Array([1, 2, 3]) }, f: { BOOL: true } })).toBe('id=AQID, f=?');
  });
});
