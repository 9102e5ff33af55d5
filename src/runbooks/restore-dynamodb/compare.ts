import type { DynamoDBClient, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { canonical, countItems, getItems, type Item, keyOf, sampleItems } from '../../aws/dynamodb-restore';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';

/*
 * Restored vs live at a bounded cost: exact item counts (a keys-only Scan, up to COUNT_PAGES pages of
 * 1 MB a table, DynamoDB's approximate ItemCount beyond that) and an item-by-item comparison of a
 * sample: SEGMENTS × PER_SEGMENT items scanned from each table (spread over the key space by
 * parallel-scan segments), each looked up in the other table by key (BatchGetItem, ≤ 100 keys a
 * call). At most 1,000 keys in all. The cut-over does the full diff; this tells a person whether
 * the restore looks like what they wanted before they approve anything else.
 */

export const SEGMENTS = 10;
export const PER_SEGMENT = 50;
export const COUNT_PAGES = 100;
const EXAMPLES = 3;

export interface Count {
  count: number;
  exact: boolean;
}

export interface Comparison {
  restored: Count;
  live: Count;
  sampled: number;
  same: number;
  differ: number;
  /** In the restored table, not in the live one: deleted from the live table since. */
  onlyRestored: number;
  /** In the live table, not in the restored one: written to the live table since. */
  onlyLive: number;
  /** Sampled keys a BatchGetItem left unprocessed after its retries: counted in no kind above. */
  unread: number;
  /** A few keys of each kind, as `name=value` text. */
  examples: { differ: string[]; onlyRestored: string[]; onlyLive: string[] };
}

/** `pk=i-0123, sk=2026` (the key's own values, unescaped: render with code()). */
export function keyText(key: Item): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${v.S ?? v.N ?? (v.B ? Buffer.from(v.B).toString('base64') : '?')}`)
    .join(', ');
}

/**
 * `scanLive: false` (a live table on provisioned capacity) counts the live table by DynamoDB's own
 * ItemCount instead of scanning it: a scan would spend the read capacity the application is using.
 */
export async function compareTables(
  ddb: DynamoDBClient,
  restored: string,
  live: string,
  schema: readonly KeySchemaElement[],
  /** `sleep`: between BatchGetItem's rounds of unprocessed keys (tests pass one that returns at once). */
  opts: { scanLive: boolean; sleep?: (ms: number) => Promise<void> },
): Promise<Comparison> {
  const keyNames = schema.map((k) => k.AttributeName ?? '').filter(Boolean);
  const [rc, lc] = await Promise.all([countItems(ddb, restored, keyNames, COUNT_PAGES), countItems(ddb, live, keyNames, opts.scanLive ? COUNT_PAGES : 0)]);
  const [rs, ls] = await Promise.all([sampleItems(ddb, restored, SEGMENTS, PER_SEGMENT), sampleItems(ddb, live, SEGMENTS, PER_SEGMENT)]);
  const byKey = (items: Item[]) => new Map(items.map((it) => [canonical(keyOf(it, schema)), it]));
  const inRestored = byKey(rs);
  const inLive = byKey(ls);
  const keys = new Map<string, Item>();
  for (const it of [...rs, ...ls]) {
    const k = keyOf(it, schema);
    keys.set(canonical(k), k);
  }
  const missingIn = (side: Map<string, Item>) => [...keys].filter(([k]) => !side.has(k)).map(([, key]) => key);
  const [fromLive, fromRestored] = await Promise.all([getItems(ddb, live, missingIn(inLive), { sleep: opts.sleep }), getItems(ddb, restored, missingIn(inRestored), { sleep: opts.sleep })]);
  for (const it of fromLive.items.values()) inLive.set(canonical(keyOf(it, schema)), it);
  for (const it of fromRestored.items.values()) inRestored.set(canonical(keyOf(it, schema)), it);
  // A key DynamoDB left unprocessed is neither found nor absent in that table: counted apart, not as only in the other.
  const unread = new Set([...fromLive.unread, ...fromRestored.unread].map(canonical));

  const c: Comparison = {
    restored: rc,
    live: lc,
    sampled: keys.size,
    same: 0,
    differ: 0,
    onlyRestored: 0,
    onlyLive: 0,
    unread: unread.size,
    examples: { differ: [], onlyRestored: [], onlyLive: [] },
  };
  const note = (kind: 'differ' | 'onlyRestored' | 'onlyLive', key: Item) => {
    c[kind]++;
    if (c.examples[kind].length < EXAMPLES) c.examples[kind].push(keyText(key));
  };
  // Sorted: the same sample reads the same in every report.
  for (const [k, key] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
    if (unread.has(k)) continue;
    const r = inRestored.get(k);
    const l = inLive.get(k);
    if (r && l) {
      if (canonical(r) === canonical(l)) c.same++;
      else note('differ', key);
    } else if (r) note('onlyRestored', key);
    else if (l) note('onlyLive', key);
  }
  return c;
}

const count = (c: Count) => `${c.exact ? '' : '~'}${formatCount(c.count)}`;

/** The comparison in a few lines, user data (keys) in code spans. */
export function comparisonLines(c: Comparison, restored: string, live: string): string[] {
  const exact = c.restored.exact && c.live.exact ? 'exact counts' : '~ is DynamoDB’s own count, refreshed about every six hours: a provisioned live table is not scanned to count, nor is a table over 100 MB';
  const lines = [
    `*Compared with the live table:* ${code(restored)} has *${count(c.restored)}* items, ${code(live)} *${count(c.live)}* (${exact}).`,
    `Of *${formatCount(c.sampled)}* sampled keys: ${formatCount(c.same)} the same, *${formatCount(c.differ)}* differ, *${formatCount(c.onlyRestored)}* only in the restored table (deleted from the live one since), *${formatCount(c.onlyLive)}* only in the live table (written since)${c.unread ? `; ${formatCount(c.unread)} could not be read` : ''}.`,
  ];
  const ex = (label: string, keys: string[]) => (keys.length ? [`${label}: ${keys.map((k) => code(k, 80)).join(', ')}`] : []);
  lines.push(...ex('Differ, e.g.', c.examples.differ), ...ex('Only in the restored table, e.g.', c.examples.onlyRestored), ...ex('Only in the live table, e.g.', c.examples.onlyLive));
  return lines;
}
