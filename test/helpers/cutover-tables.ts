import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type Tag,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { eachLimit } from './flow';

/**
 * DynamoDB tables for tests, written and read with plain SDK calls (not drbot's adapters, which
 * are what the tests check): a live table and a restored copy the way `/dr restore dynamodb`
 * leaves one, with some items changed, deleted and added in between.
 */

export type Item = Record<string, AttributeValue>;

export const RESTORE_STAMP = '20260127-101500';
export const restoredName = (table: string) => `${table}-restored-${RESTORE_STAMP}`;
export const restoredTags = (table: string): Tag[] => [
  { Key: 'drbot-run', Value: 'r-0123456789ab' },
  { Key: 'drbot-restored-from', Value: table },
];

export interface TableOptions {
  /** A range key `sk` besides the hash key `pk` (numeric unless rangeType says otherwise). */
  range?: boolean;
  rangeType?: 'N' | 'B';
  /** The hash key's type (S by default). */
  hashType?: 'S' | 'N' | 'B';
  stream?: boolean;
  tags?: Tag[];
}

export async function createTable(ddb: DynamoDBClient, name: string, opts: TableOptions = {}): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(opts.range ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: opts.hashType ?? 'S' }, ...(opts.range ? [{ AttributeName: 'sk', AttributeType: opts.rangeType ?? ('N' as const) }] : [])],
      ...(opts.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
      ...(opts.tags ? { Tags: opts.tags } : {}),
    }),
  );
}

/** Writes items in BatchWriteItem calls of 25, eight at once, until none are unprocessed. */
export async function putItems(ddb: DynamoDBClient, table: string, items: readonly Item[]): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
  await eachLimit(batches, 8, async (batch) => {
    let pending: WriteRequest[] = batch;
    while (pending.length) {
      const r = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = r.UnprocessedItems?.[table] ?? [];
    }
  });
}

export async function scanItems(ddb: DynamoDBClient, table: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Items as comparable text, sorted by key: binary as base64, sets sorted. */
export function canonicalItems(items: readonly Item[]): string[] {
  const norm = (v: AttributeValue): unknown =>
    v.B ? { B: Buffer.from(v.B).toString('base64') } : v.SS ? { SS: [...v.SS].sort() } : v.M ? { M: Object.fromEntries(Object.entries(v.M).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, norm(x)])) } : v;
  return items.map((i) => JSON.stringify(Object.fromEntries(Object.entries(i).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, norm(v)])))).sort();
}

/** A digest of a table's whole content, to show that nothing changed. */
export async function tableDigest(ddb: DynamoDBClient, table: string): Promise<string> {
  return createHash('sha256').update(canonicalItems(await scanItems(ddb, table)).join('\n')).digest('hex');
}

const pad = (i: number) => String(i).padStart(5, '0');

/**
 * One instance record. Every tenth has every kind of attribute (a set, binary, a map holding a
 * list); the others are strings and numbers only, because moto's scans cost several times more per
 * nested attribute and the tests scan thousands of items several times.
 */
export function instance(i: number, version = 'good'): Item {
  const plain: Item = {
    pk: { S: `i-${pad(i)}` },
    state: { S: i % 3 ? 'running' : 'stopped' },
    cpu: { N: String(2 + (i % 4)) },
    version: { S: version },
  };
  if (i % 10) return plain;
  return {
    ...plain,
    tags: { SS: ['spawn', `group-${i % 5}`] },
    blob: { B: Uint8Array.of(i % 256, (i >> 8) % 256, 7) },
    meta: { M: { az: { S: `us-east-1${'abc'[i % 3]}` }, ports: { L: [{ N: '22' }, { N: String(8000 + i) }] } } },
  };
}

export interface Scenario {
  live: string;
  restored: string;
  /** What the restored table holds: what the live table must hold after the cut-over. */
  good: Item[];
  missing: number;
  different: number;
  extra: number;
}

/**
 * A restored table of `count` good items, and the live table it came from after an incident:
 * `different` items overwritten, `missing` deleted, `extra` new ones added. The damaged items are
 * the first ones by key, or with `spread` every k-th one, so that they fall in every chunk of a scan.
 */
export async function corruptedPair(
  ddb: DynamoDBClient,
  live: string,
  opts: {
    count: number;
    different: number;
    missing: number;
    extra: number;
    spread?: boolean;
    table?: TableOptions;
    restoredTable?: TableOptions;
    /** Other keys for the i-th item (with `table`'s key schema for both tables). */
    rekey?: (item: Item, i: number) => Item;
  },
): Promise<Scenario> {
  const restored = restoredName(live);
  const rekey = opts.rekey ?? ((item: Item) => item);
  const instance_ = (i: number, version?: string) => rekey(instance(i, version), i);
  const good = Array.from({ length: opts.count }, (_, i) => instance_(i));
  const damaged = opts.different + opts.missing;
  // The j-th damaged item: the first `different` of them overwritten, the rest deleted.
  const step = opts.spread && damaged ? Math.floor(opts.count / damaged) : 1;
  const rank = (i: number) => (i % step === 0 && i / step < damaged ? i / step : -1);
  const corrupted: Item[] = [];
  good.forEach((g, i) => {
    const r = rank(i);
    if (r < 0) corrupted.push(g);
    else if (r < opts.different) corrupted.push({ ...instance_(i, 'corrupted'), state: { S: 'terminated' } });
  });
  corrupted.push(...Array.from({ length: opts.extra }, (_, i) => instance_(opts.count + i, 'spawned-by-mistake')));
  await Promise.all([
    createTable(ddb, live, { stream: true, ...opts.table }),
    createTable(ddb, restored, { tags: restoredTags(live), ...opts.table, ...opts.restoredTable }),
  ]);
  await Promise.all([putItems(ddb, restored, good), putItems(ddb, live, corrupted)]);
  return { live, restored, good, missing: opts.missing, different: opts.different, extra: opts.extra };
}
