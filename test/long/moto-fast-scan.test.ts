import { type AttributeValue, BatchWriteItemCommand, CreateTableCommand, type DynamoDBClient, ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import type { MotoServer } from '../../src/local/moto';
import { motoClients, startMotoWithout, useMoto } from '../helpers/moto';

/**
 * The launcher's Scan (src/local/moto_launcher.py, _fast_table_scan) must answer exactly as moto's
 * own: the cut-over and restore tests read whole tables through it, so a page out of order, an item
 * skipped at a page boundary or a wrong LastEvaluatedKey would show as a false difference, or hide
 * a real one. Two servers hold the same tables, one with moto's scan (DRBOT_MOTO_FAST_SCAN=off),
 * and every page of every way drbot scans is compared: segments, limits, the 1 MB page limit, string,
 * numeric and binary keys, a filter.
 */

type Item = Record<string, AttributeValue>;

function tables(): { name: string; keys: { hash: 'S' | 'N'; range?: 'S' | 'N' | 'B' }; items: Item[] }[] {
  // deterministic pseudo-random values, so a failure reproduces
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const shuffled = Array.from({ length: 300 }, (_, i) => i).sort(() => rnd(3) - 1);
  return [
    {
      name: 'scan-hash-s',
      keys: { hash: 'S' },
      items: shuffled.map((i) => ({ pk: { S: `i-${String(i).padStart(5, '0')}` }, state: { S: i % 3 ? 'running' : 'stopped' }, n: { N: String(i) }, tags: { M: { a: { S: 'x' }, l: { L: [{ S: 'y' }, { N: '1' }] } } } })),
    },
    {
      name: 'scan-range-b',
      keys: { hash: 'S', range: 'B' },
      items: Array.from({ length: 300 }, (_, i) => ({ pk: { S: `instance-${i % 4}` }, sk: { B: Uint8Array.of(Math.floor(i / 4) >> 8, Math.floor(i / 4) & 0xff, 0) }, v: { N: String(i) } })),
    },
    {
      // items of 3-5 KB, 1.2 MB in all: a whole-table page stops at DynamoDB's 1 MB before any Limit
      name: 'scan-range-n',
      keys: { hash: 'N', range: 'N' },
      // keys unique: the 300 items are 300 rows
      items: Array.from({ length: 300 }, (_, i) => ({ pk: { N: String(i % 7) }, sk: { N: String(i - 200 + (i % 2 ? 0 : 0.25)) }, big: { S: 'x'.repeat(3000 + rnd(2000)) } })),
    },
  ];
}

async function load(ddb: DynamoDBClient, t: ReturnType<typeof tables>[number]): Promise<void> {
  const defs = [{ AttributeName: 'pk', AttributeType: t.keys.hash }, ...(t.keys.range ? [{ AttributeName: 'sk', AttributeType: t.keys.range }] : [])];
  const schema = [{ AttributeName: 'pk', KeyType: 'HASH' as const }, ...(t.keys.range ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])];
  await ddb.send(new CreateTableCommand({ TableName: t.name, AttributeDefinitions: defs, KeySchema: schema, BillingMode: 'PAY_PER_REQUEST' }));
  const batches = Array.from({ length: Math.ceil(t.items.length / 25) }, (_, i) => t.items.slice(i * 25, i * 25 + 25));
  for (const b of batches) await ddb.send(new BatchWriteItemCommand({ RequestItems: { [t.name]: b.map((Item) => ({ PutRequest: { Item } })) } }));
}

/** Every page of one scan, as the wire gave it. */
async function pages(ddb: DynamoDBClient, input: ScanCommandInput): Promise<unknown[]> {
  const out: unknown[] = [];
  let start: Item | undefined;
  do {
    const r = await ddb.send(new ScanCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push({ items: r.Items, count: r.Count, scanned: r.ScannedCount, last: r.LastEvaluatedKey });
    start = r.LastEvaluatedKey;
  } while (start && out.length < 2000);
  return out;
}

describe("moto's Scan in the launcher", () => {
  const getMoto = useMoto();
  let mine: MotoServer;
  beforeAll(async () => {
    mine = await startMotoWithout('DRBOT_MOTO_FAST_SCAN');
    const fast = motoClients(getMoto().endpoint).dynamodb();
    const moto = motoClients(mine.endpoint).dynamodb();
    for (const t of tables()) await Promise.all([load(fast, t), load(moto, t)]);
  }, 120_000);
  afterAll(async () => {
    await mine?.stop();
  });

  const ways: [string, Omit<ScanCommandInput, 'TableName'>][] = [
    ['whole table', {}],
    ['pages of 97', { Limit: 97 }],
    ['pages of 1,000', { Limit: 1000 }],
    ['4 segments of pages of 250', { TotalSegments: 4, Limit: 250 }],
    ['3 segments, no limit', { TotalSegments: 3 }],
    ['1 segment of pages of 33', { TotalSegments: 1, Limit: 33 }],
    ['a filter, pages of 50', { Limit: 50, FilterExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':s': { S: 'running' } } }],
  ];

  it.each(tables().flatMap((t) => ways.map(([how, input]) => [t.name, how, input] as const)))('%s, %s: every page the same as moto’s own', async (table, _how, input) => {
    // act
    const segments = input.TotalSegments ?? 0;
    const read = (ddb: DynamoDBClient) =>
      segments ? Promise.all(Array.from({ length: segments }, (_, Segment) => pages(ddb, { ...input, TableName: table, Segment }))) : pages(ddb, { ...input, TableName: table });
    const [fast, moto] = await Promise.all([read(motoClients(getMoto().endpoint).dynamodb()), read(motoClients(mine.endpoint).dynamodb())]);

    // assess: the same pages, and they are real pages (the comparison is not of two empty answers)
    expect(fast).toEqual(moto);
    const flat = (segments ? (moto as unknown[][]).flat() : moto) as { scanned?: number }[];
    expect(flat.reduce((n, p) => n + (p.scanned ?? 0), 0)).toBe(tables().find((t) => t.name === table)?.items.length);
  });

  it('stops a page at 1 MB, as DynamoDB does, before any Limit', async () => {
    const [first] = (await pages(motoClients(getMoto().endpoint).dynamodb(), { TableName: 'scan-range-n' })) as { items: Item[]; last?: Item }[];
    expect(first?.last).toBeDefined();
    expect(first?.items.length).toBeLessThan(300);
  });
});
