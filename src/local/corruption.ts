import { type AttributeValue, BatchWriteItemCommand, DescribeTableCommand, ScanCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';
import { DrbotError, wrapAws } from '../errors';
import { tableRegion } from '../runbooks/resources';
import type { SlackMessage } from '../slack/poster';
import { code, slackDate } from '../slack/views/format';
import { formatCount } from '../slack/views/run';
import { mapLimit } from '../util/limit';

/*
 * `/dr simulate corruption TABLE` (sandbox only): a bad deploy's damage to a table, so a newcomer
 * can restore it and cut over. Some items are overwritten, others deleted, through the sandbox's
 * own DynamoDB client: its point-in-time stand-in (moto-gaps.ts) keeps the table's state from just
 * before, which a restore to an earlier time brings back.
 */

/** Shares of the items overwritten and deleted (at least one of each). */
export const OVERWRITE_SHARE = 0.05;
export const DELETE_SHARE = 0.03;
const BATCH_WRITE_MAX = 25;
const EXAMPLES = 3;

type Item = Record<string, AttributeValue>;

export interface CorruptionReport {
  table: string;
  total: number;
  /** Keys as text (`pk=…`), in the order written. */
  overwritten: string[];
  deleted: string[];
  /** ISO time just before the first write. */
  at: string;
}

const keyText = (key: Item) =>
  Object.entries(key)
    .map(([k, v]) => `${k}=${v.S ?? v.N ?? '?'}`)
    .join(', ');

async function allKeys(clients: AwsClients, region: string, table: string): Promise<{ keys: Item[]; names: string[] }> {
  const ddb = clients.dynamodb(region);
  const d = await ddb.send(new DescribeTableCommand({ TableName: table })).catch((e: unknown) => {
    throw wrapAws(e, 'DescribeTable', table);
  });
  const names = (d.Table?.KeySchema ?? []).map((k) => k.AttributeName ?? '').filter(Boolean);
  const attr = Object.fromEntries(names.map((n, i) => [`#k${i}`, n]));
  const keys: Item[] = [];
  let start: Item | undefined;
  do {
    const r = await ddb
      .send(new ScanCommand({ TableName: table, ProjectionExpression: Object.keys(attr).join(', '), ExpressionAttributeNames: attr, ...(start ? { ExclusiveStartKey: start } : {}) }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'Scan', table);
      });
    keys.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return { keys, names };
}

/** Overwrites OVERWRITE_SHARE of the table's items with garbage and deletes DELETE_SHARE of them. */
export async function corruptTable(clients: AwsClients, config: DrConfig, table: string, now: () => Date, random: () => number = Math.random): Promise<CorruptionReport> {
  const region = tableRegion(config, table);
  const { keys } = await allKeys(clients, region, table);
  if (!keys.length) throw new DrbotError('empty_table', `\`${table}\` has no items to corrupt.`, 'Start the sandbox again (`npm start`) to get its seeded items back.');
  // Fisher-Yates: a different handful each time.
  const shuffled = [...keys];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as Item, shuffled[i] as Item];
  }
  const nOver = Math.max(1, Math.round(keys.length * OVERWRITE_SHARE));
  const nDel = Math.min(keys.length - nOver, Math.max(1, Math.round(keys.length * DELETE_SHARE)));
  const over = shuffled.slice(0, nOver);
  const del = shuffled.slice(nOver, nOver + nDel);
  const at = now().toISOString();
  const writes: WriteRequest[] = [
    ...over.map((key) => ({ PutRequest: { Item: { ...key, state: { S: 'CORRUPTED' }, cpu: { N: '-1' }, note: { S: 'overwritten by /dr simulate corruption' } } } })),
    ...del.map((Key) => ({ DeleteRequest: { Key } })),
  ];
  const ddb = clients.dynamodb(region);
  const batches = Array.from({ length: Math.ceil(writes.length / BATCH_WRITE_MAX) }, (_, i) => writes.slice(i * BATCH_WRITE_MAX, (i + 1) * BATCH_WRITE_MAX));
  await mapLimit(batches, 4, async (batch) => {
    let left = batch;
    for (let round = 0; left.length; round++) {
      if (round >= 8) throw new DrbotError('corruption_incomplete', `DynamoDB left ${left.length} writes to \`${table}\` unprocessed.`, 'Run it again.');
      const r = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: left } })).catch((e: unknown) => {
        throw wrapAws(e, 'BatchWriteItem', table);
      });
      left = r.UnprocessedItems?.[table] ?? [];
    }
  });
  return { table, total: keys.length, overwritten: over.map(keyText), deleted: del.map(keyText), at };
}

/** What the channel sees: what was done, and how to get the data back. */
export function renderCorruption(r: CorruptionReport, user: string): SlackMessage {
  const before = `${r.at.slice(0, 19)}Z`;
  const examples = (keys: string[]) => keys.slice(0, EXAMPLES).map((k) => code(k, 80)).join(', ');
  const text = [
    `:boom: *Simulated corruption of \`${r.table}\`* (sandbox only), by <@${user}> at ${slackDate(r.at, { seconds: true })}: overwrote *${formatCount(r.overwritten.length)}* of its ${formatCount(r.total)} items and deleted *${formatCount(r.deleted.length)}*.`,
    `Overwritten, e.g. ${examples(r.overwritten)}; deleted, e.g. ${examples(r.deleted)}.`,
    `The sandbox kept the table as it was just before (its stand-in for point-in-time recovery). To get it back: \`/dr restore dynamodb ${r.table} --to 5m\` within five minutes, or \`--to ${before}\` any time; approve; then *Cut over*.`,
  ].join('\n');
  return { text: `Simulated corruption of ${r.table}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text, verbatim: true } }] };
}
