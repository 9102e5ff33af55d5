import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ListBackupsCommand,
  ListTagsOfResourceCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { isErrorLike, wrapAws } from '../errors';
import { limiter } from '../util/limit';
import { retryWait } from './retry-wait';

/**
 * Item-level DynamoDB: describe a table's key schema and tags, scan it by parallel segments page by
 * page, read items by key and write or delete them in batches, within AWS's own limits (not moto's:
 * moto takes 26 items in a BatchWriteItem and never answers with UnprocessedItems or throttling).
 */

export type Item = Record<string, AttributeValue>;

/** BatchWriteItem takes at most 25 put or delete requests a call. */
export const BATCH_WRITE_MAX = 25;
/** BatchGetItem takes at most 100 keys a call. */
export const BATCH_GET_MAX = 100;
/** Scan's TotalSegments may be up to 1,000,000; a parallel scan of a few segments is what one Lambda can use. */
export const SCAN_SEGMENTS_MAX = 1_000_000;

export interface KeyAttribute {
  name: string;
  role: 'HASH' | 'RANGE';
  /** The attribute's scalar type from AttributeDefinitions. */
  type: string;
}

export interface TableShape {
  name: string;
  arn: string;
  status: string;
  /** The hash key first, then the range key when there is one. */
  key: KeyAttribute[];
  /** DescribeTable's ItemCount (updated by AWS about every six hours: an estimate). */
  itemCount?: number;
}

/** Backoff between retries of unprocessed items, unprocessed keys and throttling. */
export interface RetryOptions {
  /** Attempts before giving up (the first call included). */
  attempts: number;
  baseMs: number;
  capMs: number;
  /** Waits (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 10, baseMs: 50, capMs: 5_000 };

/** Exponential backoff with jitter in its upper half: attempt n waits between ½ and 1 × min(cap, base·2ⁿ). */
export function backoffMs(attempt: number, opts: RetryOptions): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** attempt);
  return Math.round(ceiling * (0.5 + 0.5 * (opts.random ?? Math.random)()));
}

function errorName(e: unknown): string {
  return isErrorLike(e) ? ((e as { Code?: string }).Code ?? e.name) : '';
}

/** DynamoDB's answers that mean "slow down": retried here with backoff, like UnprocessedItems. */
export function isThrottle(e: unknown): boolean {
  return /ProvisionedThroughputExceeded|Throttl|RequestLimitExceeded/.test(errorName(e));
}

/** Runs one call, retrying throttling with backoff; the last throttle (or any other error) is thrown wrapped. */
async function call<T>(operation: string, resource: string, retry: RetryOptions, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isThrottle(e) || attempt + 1 >= retry.attempts) throw wrapAws(e, operation, resource);
      await (retry.sleep ?? retryWait)(backoffMs(attempt, retry));
    }
  }
}

/** The table's key schema, status and ARN; undefined when there is no such table. */
export async function describeTableShape(ddb: DynamoDBClient, table: string): Promise<TableShape | undefined> {
  let t;
  try {
    t = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (e) {
    if (/ResourceNotFound|TableNotFound/.test(errorName(e))) return undefined;
    throw wrapAws(e, 'DescribeTable', table);
  }
  const types = new Map((t?.AttributeDefinitions ?? []).map((a) => [a.AttributeName ?? '', a.AttributeType ?? '']));
  const key = (t?.KeySchema ?? [])
    .map((k) => ({ name: k.AttributeName ?? '', role: k.KeyType === 'RANGE' ? ('RANGE' as const) : ('HASH' as const), type: types.get(k.AttributeName ?? '') ?? '' }))
    .sort((a, b) => (a.role === b.role ? 0 : a.role === 'HASH' ? -1 : 1));
  return {
    name: t?.TableName ?? table,
    arn: t?.TableArn ?? '',
    status: t?.TableStatus ?? 'UNKNOWN',
    key,
    ...(t?.ItemCount !== undefined ? { itemCount: t.ItemCount } : {}),
  };
}

/** Every tag of a table (ListTagsOfResource, paginated). */
export async function listTableTags(ddb: DynamoDBClient, arn: string, table: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let token: string | undefined;
  try {
    do {
      const r = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn, ...(token ? { NextToken: token } : {}) }));
      for (const t of r.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
      token = r.NextToken;
    } while (token);
  } catch (e) {
    throw wrapAws(e, 'ListTagsOfResource', table);
  }
  return tags;
}

export interface ScanPageOptions {
  segment: number;
  totalSegments: number;
  /** Items evaluated at most (DynamoDB stops at 1 MB in any case). */
  limit?: number;
  start?: Item;
  retry?: RetryOptions;
}

/** One page of one segment of a parallel scan, strongly consistent; `next` is where the next page starts. */
export async function scanPage(ddb: DynamoDBClient, table: string, opts: ScanPageOptions): Promise<{ items: Item[]; next?: Item }> {
  const r = await call('Scan', table, opts.retry ?? DEFAULT_RETRY, () =>
    ddb.send(
      new ScanCommand({
        TableName: table,
        Segment: opts.segment,
        TotalSegments: opts.totalSegments,
        ...(opts.limit ? { Limit: opts.limit } : {}),
        ConsistentRead: true,
        ...(opts.start ? { ExclusiveStartKey: opts.start } : {}),
      }),
    ),
  );
  return { items: r.Items ?? [], ...(r.LastEvaluatedKey ? { next: r.LastEvaluatedKey } : {}) };
}

/** Every item of a table, `segments` segments scanned in parallel in pages of up to 1 MB, each page handed to `onPage` as it arrives. */
export async function scanAll(ddb: DynamoDBClient, table: string, segments: number, onPage: (items: Item[]) => void, retry?: RetryOptions): Promise<void> {
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Item | undefined;
      do {
        const page = await scanPage(ddb, table, { segment, totalSegments: segments, ...(start ? { start } : {}), ...(retry ? { retry } : {}) });
        onPage(page.items);
        start = page.next;
      } while (start);
    }),
  );
}

export interface BatchGetOptions {
  /** Only these attributes (e.g. the key, to learn what exists). */
  attributes?: string[];
  concurrency?: number;
  retry?: RetryOptions;
}

/**
 * The items with the given keys that exist, strongly consistent: 100 keys a call, at most
 * `concurrency` calls at once, UnprocessedKeys asked again with backoff until none are left.
 */
export async function batchGet(ddb: DynamoDBClient, table: string, keys: readonly Item[], opts: BatchGetOptions = {}): Promise<Item[]> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  const names = opts.attributes?.length ? Object.fromEntries(opts.attributes.map((a, i) => [`#k${i}`, a])) : undefined;
  const projection = names ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {};
  const limit = limiter(opts.concurrency ?? 4);
  const found: Item[] = [];
  const batches: Item[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) batches.push(keys.slice(i, i + BATCH_GET_MAX));
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        let pending: Item[] = batch;
        for (let attempt = 0; pending.length; attempt++) {
          const r = await call('BatchGetItem', table, retry, () =>
            ddb.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true, ...projection } } })),
          );
          found.push(...(r.Responses?.[table] ?? []));
          pending = r.UnprocessedKeys?.[table]?.Keys ?? [];
          if (!pending.length) break;
          if (attempt + 1 >= retry.attempts) throw wrapAws(Object.assign(new Error(`${pending.length} keys still unprocessed after ${retry.attempts} attempts`), { name: 'ProvisionedThroughputExceededException' }), 'BatchGetItem', table);
          await (retry.sleep ?? retryWait)(backoffMs(attempt, retry));
        }
      }),
    ),
  );
  return found;
}

export interface BatchWriteOptions {
  concurrency?: number;
  retry?: RetryOptions;
  /** Called with the requests DynamoDB processed, after every call (unprocessed ones come again later). */
  onWritten?: (done: WriteRequest[]) => void;
}

/**
 * Puts and deletes in calls of at most 25 requests, at most `concurrency` calls at once.
 * UnprocessedItems are sent again with backoff until none are left (or the attempts run out);
 * throttling is retried the same way. On a failure no new call starts, the calls in flight finish
 * (and are reported through onWritten), and the first failure is thrown.
 */
export async function batchWrite(ddb: DynamoDBClient, table: string, requests: readonly WriteRequest[], opts: BatchWriteOptions = {}): Promise<void> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) batches.push(requests.slice(i, i + BATCH_WRITE_MAX));
  const limit = limiter(opts.concurrency ?? 4);
  let failed: { error: unknown } | undefined;
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        let pending: WriteRequest[] = batch;
        for (let attempt = 0; pending.length && !failed; attempt++) {
          try {
            const sent = pending;
            const r = await call('BatchWriteItem', table, retry, () => ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: sent } })));
            const left = r.UnprocessedItems?.[table] ?? [];
            // Unprocessed requests come back as new objects: match them by content.
            const leftIds = new Set(left.map(requestId));
            const done = left.length ? sent.filter((w) => !leftIds.has(requestId(w))) : sent;
            if (done.length) opts.onWritten?.(done);
            pending = left;
          } catch (e) {
            failed ??= { error: e };
            return;
          }
          if (!pending.length) return;
          if (attempt + 1 >= retry.attempts) {
            failed ??= { error: wrapAws(Object.assign(new Error(`${pending.length} items still unprocessed after ${retry.attempts} attempts`), { name: 'ProvisionedThroughputExceededException' }), 'BatchWriteItem', table) };
            return;
          }
          await (retry.sleep ?? retryWait)(backoffMs(attempt, retry));
        }
      }),
    ),
  );
  if (failed) throw failed.error;
}

/** A request's identity by content: its kind and its item or key, as JSON. */
function requestId(w: WriteRequest): string {
  return w.PutRequest ? `P${stableJson(w.PutRequest.Item)}` : `D${stableJson(w.DeleteRequest?.Key)}`;
}

/** JSON with object keys sorted (binary values as base64), so equal items give equal text. */
export function stableJson(v: unknown): string {
  if (v instanceof Uint8Array) return JSON.stringify({ $b: Buffer.from(v).toString('base64') });
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The newest on-demand backup of `table` with exactly this name that is CREATING or AVAILABLE, if
 * any: a retried step finds the backup its first attempt made instead of making a second one.
 */
export async function findBackupByName(ddb: DynamoDBClient, table: string, name: string): Promise<{ arn: string; status: string } | undefined> {
  let start: string | undefined;
  let found: { arn: string; status: string; at: number } | undefined;
  do {
    const r = await ddb.send(new ListBackupsCommand({ TableName: table, BackupType: 'USER', ...(start ? { ExclusiveStartBackupArn: start } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListBackups', table);
    });
    for (const b of r.BackupSummaries ?? []) {
      if (b.TableName !== table || b.BackupName !== name || !b.BackupArn || (b.BackupStatus !== 'CREATING' && b.BackupStatus !== 'AVAILABLE')) continue;
      const at = b.BackupCreationDateTime?.getTime() ?? 0;
      if (!found || at > found.at) found = { arn: b.BackupArn, status: b.BackupStatus, at };
    }
    start = r.LastEvaluatedBackupArn;
  } while (start);
  return found && { arn: found.arn, status: found.status };
}
