import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { type Item, type KeyAttribute, type RetryOptions, scanAll, stableJson } from '../../aws/dynamodb-items';

/**
 * Comparing two tables item by item without holding their items: each item becomes its key (as
 * text), a hash of its whole content, and its size by DynamoDB's item-size rules (what a write of
 * it costs in write units).
 */

/** An item's key attributes as canonical text: equal keys give equal text in both tables. */
export function keyOf(item: Item, key: readonly KeyAttribute[]): string {
  return stableJson(key.map((k) => item[k.name]));
}

/** The key attributes of an item (what a DeleteRequest or a BatchGetItem names). */
export function keyItem(item: Item, key: readonly KeyAttribute[]): Item {
  const out: Item = {};
  for (const k of key) {
    const v = item[k.name];
    if (v) out[k.name] = v;
  }
  return out;
}

/** `pk=i-0042, sk=7`, for showing a key in a plan (the caller code-spans it). */
export function showKey(item: Item, key: readonly KeyAttribute[]): string {
  return key
    .map((k) => {
      const v = item[k.name];
      const text = v?.S ?? v?.N ?? (v?.B ? Buffer.from(v.B).toString('base64') : '?');
      return `${k.name}=${text}`;
    })
    .join(', ');
}

/** The same, from keyOf's text (what a diff holds instead of items). */
export function showKeyText(text: string, key: readonly KeyAttribute[]): string {
  const values = JSON.parse(text) as ({ S?: string; N?: string; B?: { $b: string } } | null)[];
  return key.map((k, i) => `${k.name}=${values[i]?.S ?? values[i]?.N ?? values[i]?.B?.$b ?? '?'}`).join(', ');
}

/** Sets are unordered in DynamoDB: sorted here so the same set always hashes the same. */
function canonical(v: AttributeValue): unknown {
  if (v.SS) return { SS: [...v.SS].sort() };
  if (v.NS) return { NS: [...v.NS].sort() };
  if (v.BS) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')).sort() };
  if (v.L) return { L: v.L.map(canonical) };
  if (v.M) return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, canonical(x)])) };
  return v;
}

/** A digest of the whole item (every attribute, type included). */
export function itemHash(item: Item): string {
  const c = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, canonical(v)]));
  return createHash('sha1').update(stableJson(c)).digest('base64');
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** A number's size: 1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed). */
function numberSize(n: string): number {
  const digits = n.replace(/^[+-]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + utf8(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.length, 0);
  if (v.L) return 3 + v.L.reduce((n, x) => n + 1 + valueSize(x), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + utf8(k) + 1 + valueSize(x), 0);
  return 0;
}

/** An item's size by DynamoDB's rules: attribute names plus values, in bytes. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + utf8(k) + valueSize(v), 0);
}

/** Write units of a put or delete: 1 per KB started. A put that replaces an item is charged for the larger of the two. */
export function writeUnits(...sizes: number[]): number {
  return Math.max(1, Math.ceil(Math.max(0, ...sizes) / 1024));
}

export interface DiffCounts {
  restoredItems: number;
  liveItems: number;
  /** In the restored table, not in the live one: to put. */
  missing: number;
  /** In both, with different content: to put. */
  different: number;
  /** In the live table, not in the restored one: to delete. */
  extra: number;
  unchanged: number;
  /** Write units of writing only what differs. */
  minUnits: number;
  /** Write units of copying every restored item over (and deleting the extra ones). */
  fullCopyUnits: number;
}

export interface TableDiff extends DiffCounts {
  /** A few keys of each kind, for the plan. */
  samples: { missing: string[]; different: string[]; extra: string[] };
}

interface Seen {
  /** 0: the restored table, 1: the live one. */
  side: 0 | 1;
  hash: string;
  size: number;
}

const SAMPLES = 3;

/**
 * A full diff of the restored table against the live one: both scanned at once in parallel
 * segments; an item waits (as key, hash and size) only until its twin arrives from the other table.
 */
export async function diffTables(
  ddb: DynamoDBClient,
  live: string,
  restored: string,
  key: readonly KeyAttribute[],
  opts: { segments: number; retry?: RetryOptions; onProgress?: (compared: number) => void },
): Promise<TableDiff> {
  const d: TableDiff = { restoredItems: 0, liveItems: 0, missing: 0, different: 0, extra: 0, unchanged: 0, minUnits: 0, fullCopyUnits: 0, samples: { missing: [], different: [], extra: [] } };
  const pending = new Map<string, Seen>();
  const sample = (kind: keyof TableDiff['samples'], shown: string) => {
    if (d.samples[kind].length < SAMPLES) d.samples[kind].push(shown);
  };
  const take = (side: 0 | 1) => (items: Item[]) => {
    for (const item of items) {
      if (side === 0) d.restoredItems++;
      else d.liveItems++;
      const k = keyOf(item, key);
      const mine: Seen = { side, hash: itemHash(item), size: itemSize(item) };
      const twin = pending.get(k);
      if (!twin || twin.side === side) {
        pending.set(k, mine);
        continue;
      }
      pending.delete(k);
      const units = writeUnits(mine.size, twin.size);
      d.fullCopyUnits += units;
      if (mine.hash === twin.hash) d.unchanged++;
      else {
        d.different++;
        d.minUnits += units;
        sample('different', showKey(item, key));
      }
    }
    opts.onProgress?.(d.restoredItems + d.liveItems);
  };
  await Promise.all([scanAll(ddb, restored, opts.segments, take(0), opts.retry), scanAll(ddb, live, opts.segments, take(1), opts.retry)]);
  for (const [k, s] of pending) {
    const units = writeUnits(s.size);
    d.minUnits += units;
    d.fullCopyUnits += units;
    if (s.side === 0) {
      d.missing++;
      sample('missing', showKeyText(k, key));
    } else {
      d.extra++;
      sample('extra', showKeyText(k, key));
    }
  }
  return d;
}
