import type { DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { batchGet, batchWrite, type Item, type KeyAttribute, type RetryOptions, scanPage, stableJson } from '../../aws/dynamodb-items';
import { DrbotError } from '../../errors';
import { type StepFailure, stepFailure } from '../driver';
import { itemHash, itemSize, keyItem, keyOf, writeUnits } from './diff';

/**
 * One chunk of the cut-over: the next page of every unfinished scan segment of one table, compared
 * with the other table by key, and only what differs written. A chunk is one checkpointed step:
 * what it returns is small (where each segment stands, and counts), and running it again from the
 * same cursors writes the same values (puts of the restored items, deletes by key), skipping what
 * an earlier attempt already wrote, because it compares again first.
 */

/**
 * A key as a checkpoint can hold it: step results cross the durable SDK as JSON, where a binary
 * value (a Uint8Array) would come back as a plain object, and four times the size.
 */
export type StoredKey = Record<string, { S: string } | { N: string } | { B64: string }>;

export function storeKey(key: Item): StoredKey {
  const out: StoredKey = {};
  for (const [name, v] of Object.entries(key)) {
    if (v.S !== undefined) out[name] = { S: v.S };
    else if (v.N !== undefined) out[name] = { N: v.N };
    else if (v.B !== undefined) out[name] = { B64: Buffer.from(v.B).toString('base64') };
    else throw new Error(`key attribute ${name} is not a string, number or binary`);
  }
  return out;
}

export function loadKey(key: StoredKey): Item {
  const out: Item = {};
  for (const [name, v] of Object.entries(key)) out[name] = 'B64' in v ? { B: new Uint8Array(Buffer.from(v.B64, 'base64')) } : 'S' in v ? { S: v.S } : { N: v.N };
  return out;
}

/** Where one scan segment stands: the key to start after, or done. */
export interface Cursor {
  start?: StoredKey;
  done: boolean;
}

export interface ChunkResult {
  /** Where to go on from (unchanged when the chunk failed: it is done again on a retry). */
  cursors: Cursor[];
  compared: number;
  written: number;
  deleted: number;
  /** Write phase: restored items the live table already held as they are. */
  unchanged: number;
  /** Write units of the writes and deletes DynamoDB processed. */
  units: number;
  /** A failure we understand: the chunk is to be done again (transient) or the run stops, saying what was done. */
  failure?: StepFailure;
}

export interface ChunkContext {
  ddb: DynamoDBClient;
  live: string;
  restored: string;
  key: readonly KeyAttribute[];
  /** Items to scan in this chunk, over every unfinished segment. */
  budget: number;
  writeConcurrency: number;
  retry?: RetryOptions;
  onWritten?: (done: number) => void;
}

export function startCursors(segments: number): Cursor[] {
  return Array.from({ length: segments }, () => ({ done: false }));
}

export function allDone(cursors: readonly Cursor[]): boolean {
  return cursors.every((c) => c.done);
}

/** The next pages of the unfinished segments of `table`, scanned at once. */
async function nextPages(ddb: DynamoDBClient, table: string, cursors: readonly Cursor[], budget: number, retry?: RetryOptions): Promise<{ items: Item[]; cursors: Cursor[] }> {
  const active = cursors.filter((c) => !c.done).length;
  const limit = Math.max(1, Math.ceil(budget / Math.max(1, active)));
  const pages = await Promise.all(
    cursors.map(async (c, segment) => {
      if (c.done) return { items: [] as Item[], cursor: c };
      const p = await scanPage(ddb, table, { segment, totalSegments: cursors.length, limit, ...(c.start ? { start: loadKey(c.start) } : {}), ...(retry ? { retry } : {}) });
      return { items: p.items, cursor: p.next ? { start: storeKey(p.next), done: false } : { done: true } };
    }),
  );
  return { items: pages.flatMap((p) => p.items), cursors: pages.map((p) => p.cursor) };
}

/**
 * Runs a chunk. A failure we understand comes back with what was done before it (so the counts
 * stay exact) and the cursors the chunk started from (so it can be done again): `failure.transient`
 * says whether trying again may work (throttling that outlasted the backoff, a 5xx, the network).
 * Anything unexpected is thrown, and the step's own retries take over.
 */
async function chunk(cursors: Cursor[], work: (r: ChunkResult) => Promise<Cursor[]>): Promise<ChunkResult> {
  const r: ChunkResult = { cursors, compared: 0, written: 0, deleted: 0, unchanged: 0, units: 0 };
  try {
    r.cursors = await work(r);
    return r;
  } catch (e) {
    if (!(e instanceof DrbotError)) throw e;
    return { ...r, cursors, failure: stepFailure(e) };
  }
}

async function write(ctx: ChunkContext, r: ChunkResult, requests: { req: WriteRequest; units: number }[], kind: 'written' | 'deleted'): Promise<void> {
  // Unprocessed requests come back from DynamoDB as copies: their units are found by content.
  const units = new Map(requests.map((x) => [stableJson(x.req), x.units]));
  await batchWrite(
    ctx.ddb,
    ctx.live,
    requests.map((x) => x.req),
    {
      concurrency: ctx.writeConcurrency,
      ...(ctx.retry ? { retry: ctx.retry } : {}),
      onWritten: (done) => {
        r[kind] += done.length;
        for (const w of done) r.units += units.get(stableJson(w)) ?? 1;
        ctx.onWritten?.(done.length);
      },
    },
  );
}

/** Write phase: restored items missing from the live table or different there are put into it. */
export function writeChunk(ctx: ChunkContext, cursors: Cursor[]): Promise<ChunkResult> {
  return chunk(cursors, async (r) => {
    const page = await nextPages(ctx.ddb, ctx.restored, cursors, ctx.budget, ctx.retry);
    r.compared = page.items.length;
    const live = new Map(
      (await batchGet(ctx.ddb, ctx.live, page.items.map((i) => keyItem(i, ctx.key)), ctx.retry ? { retry: ctx.retry } : {})).map((i) => [keyOf(i, ctx.key), { hash: itemHash(i), size: itemSize(i) }]),
    );
    const puts: { req: WriteRequest; units: number }[] = [];
    for (const item of page.items) {
      const now = live.get(keyOf(item, ctx.key));
      if (now && now.hash === itemHash(item)) {
        r.unchanged++;
        continue;
      }
      puts.push({ req: { PutRequest: { Item: item } }, units: writeUnits(itemSize(item), now?.size ?? 0) });
    }
    await write(ctx, r, puts, 'written');
    return page.cursors;
  });
}

/** Delete phase: live items whose key the restored table does not have are deleted. */
export function deleteChunk(ctx: ChunkContext, cursors: Cursor[]): Promise<ChunkResult> {
  return chunk(cursors, async (r) => {
    const page = await nextPages(ctx.ddb, ctx.live, cursors, ctx.budget, ctx.retry);
    r.compared = page.items.length;
    const keys = page.items.map((i) => keyItem(i, ctx.key));
    const present = new Set(
      (await batchGet(ctx.ddb, ctx.restored, keys, { attributes: ctx.key.map((k) => k.name), ...(ctx.retry ? { retry: ctx.retry } : {}) })).map((i) => keyOf(i, ctx.key)),
    );
    const deletes: { req: WriteRequest; units: number }[] = [];
    for (const item of page.items) {
      if (present.has(keyOf(item, ctx.key))) continue;
      deletes.push({ req: { DeleteRequest: { Key: keyItem(item, ctx.key) } }, units: writeUnits(itemSize(item)) });
    }
    await write(ctx, r, deletes, 'deleted');
    return page.cursors;
  });
}
