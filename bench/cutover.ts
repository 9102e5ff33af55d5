/**
 * Section 9 (issue 10): `/dr cutover dynamodb` of a 20,000-item table on moto, 10 % of its items
 * differing from the restored copy (overwritten, deleted, and added since the restore point).
 *
 * The whole product path in the local stack: a signed `/dr cutover dynamodb TABLE --from RESTORED`
 * from an operator, the plan (a full diff of both tables) posted and parked at its approval, then
 * an approver's signed Approve click; timed from the click to the runner idle (the safety backup,
 * the checkpointed write and delete chunks, Slack progress, the verifying full diff, the report).
 *
 * Reported: items/s (table items per second of the cut-over, and differing items written per
 * second), and write units: what drbot reports it spent, what the BatchWriteItem calls it sent
 * carried (recorded by middleware on its own client), the minimum (only the differing items), and
 * what copying every item would cost. Correctness first: both tables are scanned afterwards and
 * compared item by item, independently of drbot's own verify.
 *
 * Run alone with `npx tsx bench/cutover.ts`; BENCH_CUTOVER_ITEMS changes the size.
 */
import { type AttributeValue, BatchWriteItemCommand, CreateTableCommand, type DynamoDBClient, ScanCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../src/config/load';
import type { LocalStack } from '../src/local/stack';
import { itemSize, writeUnits } from '../src/runbooks/cutover-dynamodb/diff';
import { ACTION_APPROVE } from '../src/slack/views/run';
import { mapLimit } from '../src/util/limit';
import { benchStack } from './stack';

const TABLE = 'spawn-bench-cutover';
const RESTORED = `${TABLE}-restored-20260127-101500`;
const OPERATOR = 'UBENCHOPS';
const APPROVER = 'UBENCHAPPR';
const CHANNEL = 'CBENCHOPS';
const SEED_CONCURRENCY = 16;

type Item = Record<string, AttributeValue>;

export type CutoverBenchResult =
  | {
      skipped: false;
      items: number;
      missing: number;
      different: number;
      extra: number;
      seedSeconds: number;
      /** Command → plan (full diff of both tables) posted, not in the timed figure. */
      planSeconds: number;
      /** Approve click → runner idle. */
      seconds: number;
      itemsPerSecond: number;
      writesPerSecond: number;
      runStatus: string;
      /** drbot's own report (parsed from its message). */
      reportedUnits: number;
      reportedMinimum: number;
      /** What its BatchWriteItem calls carried: requests, units by item size, the largest call. */
      sent: { puts: number; deletes: number; units: number; calls: number; largestCall: number };
      minimumUnits: number;
      fullCopyUnits: number;
      /** Independent check after the run: items of the live table that differ from the restored copy. */
      differencesAfter: number;
      finalMessage: string;
    }
  | { skipped: true; reason: string };

function secondsSince(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const pk = (i: number) => `i-${String(i).padStart(6, '0')}`;
function record(i: number, version = 'good'): Item {
  return { pk: { S: pk(i) }, state: { S: i % 3 ? 'running' : 'stopped' }, cpu: { N: String(2 + (i % 4)) }, az: { S: `us-east-1${'abc'[i % 3]}` }, version: { S: version } };
}

async function createTable(ddb: DynamoDBClient, name: string, tags?: { Key: string; Value: string }[]): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      ...(tags ? { Tags: tags } : {}),
    }),
  );
}

/** Batched parallel writes: BatchWriteItem calls of 25, SEED_CONCURRENCY at once, until nothing is unprocessed. */
async function seed(ddb: DynamoDBClient, table: string, items: readonly Item[]): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
  await mapLimit(batches, SEED_CONCURRENCY, async (batch) => {
    let pending = batch;
    while (pending.length) pending = (await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }))).UnprocessedItems?.[table] ?? [];
  });
}

async function scanAll(ddb: DynamoDBClient, table: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let start: Item | undefined;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const i of r.Items ?? []) out.set(i.pk?.S ?? '', JSON.stringify(Object.entries(i).sort(([a], [b]) => a.localeCompare(b))));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

function findApprove(stack: LocalStack) {
  for (const m of stack.standIn.channelMessages(CHANNEL).reverse()) {
    for (const b of m.blocks) {
      if (b.type !== 'actions') continue;
      for (const el of b.elements) {
        if (el.type === 'button' && el.action_id === ACTION_APPROVE) {
          return { ts: m.ts, text: m.text, blocks: m.blocks, button: { action_id: el.action_id, value: el.value ?? '', text: el.text.text, ...(b.block_id ? { block_id: b.block_id } : {}) } };
        }
      }
    }
  }
  return undefined;
}

export async function benchCutover(items = 20_000, log: (l: string) => void = () => {}): Promise<CutoverBenchResult> {
  // 10 % differing: 5 % overwritten, 3 % deleted, 2 % added since the restore point.
  const different = Math.round(items * 0.05);
  const missing = Math.round(items * 0.03);
  const extra = Math.round(items * 0.02);
  const config = parseConfig(
    {
      name: 'bench',
      regions: { primary: 'us-east-1', backup: 'us-west-2' },
      s3: { buckets: [] },
      dynamodb: { tables: [{ name: TABLE }] },
      slack: { channels: { ops: CHANNEL, alerts: 'CBENCHALERT' }, roles: { viewer: [], operator: [OPERATOR], approver: [APPROVER] } },
      approvals: { required: 1, expiresMinutes: 30 },
    },
    'bench cutover config',
  );
  const started = await benchStack(config);
  if ('skipped' in started) return started;
  const stack = started;
  const ddb = stack.clients.dynamodb('us-east-1');

  // The restored copy holds the good data; the live table is it after an incident.
  let t = process.hrtime.bigint();
  const good = Array.from({ length: items }, (_, i) => record(i));
  const live = [
    ...Array.from({ length: different }, (_, i) => ({ ...record(i, 'corrupted'), state: { S: 'terminated' } })),
    ...good.slice(different + missing),
    ...Array.from({ length: extra }, (_, i) => record(items + i, 'spawned-by-mistake')),
  ];
  await Promise.all([createTable(ddb, TABLE), createTable(ddb, RESTORED, [{ Key: 'drbot-run', Value: 'r-bench' }, { Key: 'drbot-restored-from', Value: TABLE }])]);
  await Promise.all([seed(ddb, RESTORED, good), seed(ddb, TABLE, live)]);
  const seedSeconds = secondsSince(t);
  log(`  seeded ${items.toLocaleString('en-US')} restored + ${live.length.toLocaleString('en-US')} live items in ${seedSeconds.toFixed(1)} s`);
  const minimumUnits = [...good.slice(0, different + missing), ...live.slice(-extra)].reduce((n, i) => n + writeUnits(itemSize(i)), 0);
  const fullCopyUnits = good.reduce((n, i) => n + writeUnits(itemSize(i)), 0) + extra;

  // What the run's BatchWriteItem calls carry, on its own client.
  const sent = { puts: 0, deletes: 0, units: 0, calls: 0, largestCall: 0 };
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const r = await next(args);
      const reqs = Object.values((args.input as { RequestItems: Record<string, WriteRequest[]> }).RequestItems).flat();
      const left = new Set(Object.values((r.output as { UnprocessedItems?: Record<string, WriteRequest[]> }).UnprocessedItems ?? {}).flat().map((w) => JSON.stringify(w)));
      sent.calls++;
      sent.largestCall = Math.max(sent.largestCall, reqs.length);
      for (const w of reqs) {
        if (left.has(JSON.stringify(w))) continue;
        if (w.PutRequest?.Item) {
          sent.puts++;
          sent.units += writeUnits(itemSize(w.PutRequest.Item));
        } else {
          sent.deletes++;
          sent.units += 1;
        }
      }
      return r;
    },
    { step: 'build', name: 'bench-count-writes' },
  );

  t = process.hrtime.bigint();
  const ack = await stack.client.command({ user: OPERATOR, channel: CHANNEL, text: `cutover dynamodb ${TABLE} --from ${RESTORED}` });
  if (ack.status !== 200 || !/Started run/.test(ack.raw)) throw new Error(`cutover command was not started: HTTP ${ack.status} ${ack.raw.slice(0, 200)}`);
  await stack.engine.idle();
  const planSeconds = secondsSince(t);
  const approve = findApprove(stack);
  if (!approve) throw new Error(`no Approve button was posted; messages: ${stack.standIn.channelMessages(CHANNEL).map((m) => m.text.slice(0, 200)).join(' | ')}`);
  log(`  plan (full diff of both tables) posted in ${planSeconds.toFixed(1)} s`);

  t = process.hrtime.bigint();
  const click = await stack.client.click({ user: APPROVER, channel: CHANNEL, messageTs: approve.ts, messageText: approve.text, blocks: approve.blocks, button: approve.button });
  if (click.status !== 200) throw new Error(`approve click failed: HTTP ${click.status} ${click.raw.slice(0, 200)}`);
  await stack.engine.idle();
  const seconds = secondsSince(t);
  ddb.middlewareStack.remove('bench-count-writes');

  const name = stack.engine.names()[0];
  const result = name ? stack.engine.result(name) : undefined;
  const summary = result?.getResult() as { status?: string } | undefined;
  const message = stack.standIn.message(CHANNEL, approve.ts);
  const text = (message?.blocks ?? []).map((b) => (b.type === 'section' ? (b.text?.text ?? '') : '')).join('\n');
  const units = /Write units: \*([\d,]+)\* spent; the minimum for these changes was ([\d,]+)/.exec(text);
  const num = (s?: string) => Number((s ?? 'NaN').replace(/,/g, ''));

  // Correctness, independently of drbot's verify: the live table equals the restored one item by item.
  const [after, restored] = await Promise.all([scanAll(ddb, TABLE), scanAll(ddb, RESTORED)]);
  let differencesAfter = 0;
  for (const [k, v] of restored) if (after.get(k) !== v) differencesAfter++;
  for (const k of after.keys()) if (!restored.has(k)) differencesAfter++;

  return {
    skipped: false,
    items,
    missing,
    different,
    extra,
    seedSeconds,
    planSeconds,
    seconds,
    itemsPerSecond: items / seconds,
    writesPerSecond: (sent.puts + sent.deletes) / seconds,
    runStatus: `${result ? String(result.getStatus()) : 'no result'}${summary?.status ? ` / ${summary.status}` : ''}`,
    reportedUnits: num(units?.[1]),
    reportedMinimum: num(units?.[2]),
    sent,
    minimumUnits,
    fullCopyUnits,
    differencesAfter,
    finalMessage: text.replace(/\s+/g, ' ').slice(0, 400),
  };
}

if (require.main === module) {
  const n = Number(process.env.BENCH_CUTOVER_ITEMS ?? 20_000);
  benchCutover(n, console.log)
    .then(async (r) => {
      console.log(JSON.stringify(r, null, 2));
      const { cleanup } = await import('./util');
      await cleanup();
      process.exit(0);
    })
    .catch(async (e: unknown) => {
      console.error(e);
      const { cleanup } = await import('./util');
      await cleanup();
      process.exit(1);
    });
}
