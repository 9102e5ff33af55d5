/**
 * Section 6 (issue 4): an alarm storm through the alarm service, if it is built.
 *
 * 500 SNS notifications across 20 CloudWatch alarms (built from the canonical fixtures in
 * test/fixtures/events, each with its own MessageId, alarm name/ARN and state change time),
 * delivered at once the way SNS does: one single-record event per invocation, all 500 invocations
 * concurrent, each parsed with parseSnsEvent() and handled by the service over the store that runs
 * in production, DynamoAlarmStore, on a state table in dynalite (DynamoDB in process), and a
 * counting fake SlackPoster. Reports notifications handled per second, Slack calls per
 * notification (and posts per channel), that all 500 were recorded, that every alarm ends in the
 * state of its newest notification, and that a redelivery of all 500 (same MessageIds) makes no
 * Slack call. The figure includes dynalite's own cost (one process, HTTP on loopback), so it is a
 * floor for what the service does, not DynamoDB's latency.
 *
 * The alarm modules are loaded at run time: when they are missing (or lack the exports read
 * here) the section says "not built yet" instead of failing the bench.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { REPO_ROOT, EXAMPLE_CONFIG_FILE } from '../scripts/build';
import { parseConfigText } from '../src/config/load';
import type { SlackMessage, SlackPoster } from '../src/slack/poster';
import { BENCH_CREDENTIALS, BENCH_REGION, startDynamo } from './fakes';

export const STORM_NOTIFICATIONS = 500;
export const STORM_ALARMS = 20;
const HANDLE_TIMEOUT_MS = 300_000;
const ALARM_TABLE = 'drbot-bench-alarms';

/** The figure this section measured over the in-memory twin of the store, before it was removed (README, earlier runs). */
export const EARLIER_IN_MEMORY = { perSecond: 4_400, slackCallsPerNotification: 0.004 } as const;

type Counts = Record<string, number>;

interface ServiceLike {
  handle(notifications: unknown[]): Promise<Counts>;
  getThread?(id: string): Promise<{ state?: string } | undefined>;
}

interface AlarmModules {
  createAlarmService: (deps: Record<string, unknown>) => ServiceLike;
  DynamoAlarmStore: new (opts: { client: DynamoDBDocumentClient; tableName: string }) => {
    getDigest?(channel: string): Promise<{ version?: number; renderedVersion?: number } | undefined>;
    getThread?(arn: string): Promise<{ version?: number; renderedVersion?: number } | undefined>;
  };
  parseSnsEvent: (event: unknown, opts?: { now?: Date }) => { records: unknown[]; rejected: unknown[] };
}

export type AlarmStormResult =
  | { built: false; reason: string }
  | {
      built: true;
      notifications: number;
      alarms: number;
      seconds: number;
      perSecond: number;
      slackCalls: number;
      slackCallsPerNotification: number;
      /** New messages (not thread replies) per channel; Slack takes about one a second per channel. */
      postsPerChannel: Record<string, number>;
      calls: { post: number; threadReply: number; update: number; ephemeral: number };
      recorded: number;
      finalStatesRight: number | 'unknown';
      /** Messages (digests and alarm threads) whose Slack rendering is behind the stored state after the storm. */
      staleMessages: number | 'unknown';
      handleTotals: Counts;
      redelivery: { duplicates: number; slackCalls: number };
    };

function load(): AlarmModules | string {
  const files = ['service', 'store', 'parse'].map((f) => join(REPO_ROOT, 'src', 'alarms', `${f}.ts`));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) return `missing ${missing.map((f) => f.slice(REPO_ROOT.length + 1)).join(', ')}`;
  // Loaded at run time (tsx compiles them) so the bench builds and runs whether or not they exist.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const [service, store, parse] = files.map((f) => require(f) as Record<string, unknown>);
  const m = { createAlarmService: service?.createAlarmService, DynamoAlarmStore: store?.DynamoAlarmStore, parseSnsEvent: parse?.parseSnsEvent };
  const absent = Object.entries(m)
    .filter(([, v]) => typeof v !== 'function')
    .map(([k]) => k);
  if (absent.length) return `src/alarms does not export ${absent.join(', ')} yet`;
  return m as AlarmModules;
}

/** A SlackPoster that answers at once and counts every call. */
class CountingPoster implements SlackPoster {
  readonly calls = { post: 0, threadReply: 0, update: 0, ephemeral: 0 };
  readonly postsPerChannel: Record<string, number> = {};
  private seq = 0;

  get total(): number {
    return this.calls.post + this.calls.threadReply + this.calls.update + this.calls.ephemeral;
  }

  async post(channel: string, _msg: SlackMessage, opts: { threadTs?: string } = {}) {
    if (opts.threadTs) this.calls.threadReply++;
    else {
      this.calls.post++;
      this.postsPerChannel[channel] = (this.postsPerChannel[channel] ?? 0) + 1;
    }
    this.seq++;
    return { channel, ts: `1700000000.${String(this.seq).padStart(6, '0')}` };
  }

  async update(): Promise<void> {
    this.calls.update++;
  }

  async ephemeral(): Promise<void> {
    this.calls.ephemeral++;
  }
}

interface Fixture {
  Records: { Sns: { MessageId: string; TopicArn: string; Subject?: string; Message: string; Timestamp: string } & Record<string, unknown> }[];
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'events', name), 'utf8')) as Fixture;
}

/** CloudWatch's StateChangeTime format: 2026-10-02T14:05:31.927+0000. */
function cwTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

export interface StormEvent {
  event: Fixture;
  arn: string;
  state: string;
}

/**
 * Notification i belongs to alarm i % 20 and is that alarm's (i / 20)th state change; even alarms
 * are S3 replication lag (spawn-alerts), odd ones Lambda errors on the backup function
 * (spawn-critical). Each alarm fires ALARM repeatedly, with an INSUFFICIENT_DATA now and then;
 * every third alarm's last notification is OK.
 */
export function stormEvents(n = STORM_NOTIFICATIONS, alarms = STORM_ALARMS): StormEvent[] {
  const lag = fixture('sns-cloudwatch-alarm.json');
  const errors = fixture('sns-lambda-errors-alarm.json');
  const perAlarm = Math.ceil(n / alarms);
  const base = Date.parse('2026-10-02T14:00:00.000Z');
  const out: StormEvent[] = [];
  for (let i = 0; i < n; i++) {
    const a = i % alarms;
    const seq = Math.floor(i / alarms);
    const template = a % 2 === 0 ? lag : errors;
    const rec = structuredClone(template.Records[0] as Fixture['Records'][number]);
    const msg = JSON.parse(rec.Sns.Message) as Record<string, unknown>;
    const name = `bench-storm-${a % 2 === 0 ? 'replication-lag' : 'backup-errors'}-${String(a).padStart(2, '0')}`;
    const arn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
    const last = seq === perAlarm - 1;
    const state = last && a % 3 === 0 ? 'OK' : seq % 7 === 3 ? 'INSUFFICIENT_DATA' : 'ALARM';
    const at = new Date(base + seq * 60_000 + a * 10);
    msg.AlarmName = name;
    msg.AlarmArn = arn;
    msg.OldStateValue = msg.NewStateValue;
    msg.NewStateValue = state;
    msg.StateChangeTime = cwTime(at);
    rec.Sns.Message = JSON.stringify(msg);
    rec.Sns.MessageId = `00000000-bench-4000-8000-${String(i).padStart(12, '0')}`;
    rec.Sns.Subject = `${state}: "${name}" in US East (N. Virginia)`;
    rec.Sns.Timestamp = new Date(at.getTime() + 80).toISOString();
    out.push({ event: { Records: [rec] }, arn, state });
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function addCounts(into: Counts, r: Counts): void {
  for (const [k, v] of Object.entries(r ?? {})) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
}

export async function benchAlarmStorm(): Promise<AlarmStormResult> {
  const mods = load();
  if (typeof mods === 'string') return { built: false, reason: mods };

  const dynamo = await startDynamo(ALARM_TABLE);
  const client = new DynamoDBClient({ region: BENCH_REGION, endpoint: dynamo.endpoint, credentials: BENCH_CREDENTIALS, maxAttempts: 1 });
  try {
    return await storm(mods, DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }));
  } finally {
    client.destroy();
    await dynamo.close();
  }
}

/** Notifications recorded in the table (`ALARMMSG#<messageId>` / `NOTIFICATION`). */
async function countNotifications(doc: DynamoDBDocumentClient): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new ScanCommand({
        TableName: ALARM_TABLE,
        ConsistentRead: true,
        FilterExpression: 'begins_with(pk, :p) AND sk = :sk',
        ExpressionAttributeValues: { ':p': 'ALARMMSG#', ':sk': 'NOTIFICATION' },
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    n += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return n;
}

async function storm(mods: AlarmModules, doc: DynamoDBDocumentClient): Promise<AlarmStormResult> {
  const config = parseConfigText(readFileSync(join(REPO_ROOT, EXAMPLE_CONFIG_FILE), 'utf8'), EXAMPLE_CONFIG_FILE);
  const store = new mods.DynamoAlarmStore({ client: doc, tableName: ALARM_TABLE });
  const slack = new CountingPoster();
  const service = mods.createAlarmService({ store, slack, config, clock: () => new Date(), log: () => {} });
  const events = stormEvents();

  const deliver = async (): Promise<Counts> => {
    const totals: Counts = {};
    const results = await withTimeout(
      Promise.all(events.map(async ({ event }) => service.handle(mods.parseSnsEvent(event).records))),
      HANDLE_TIMEOUT_MS,
      'the storm',
    );
    for (const r of results) addCounts(totals, r);
    return totals;
  };

  const t = process.hrtime.bigint();
  const handleTotals = await deliver();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const slackCalls = slack.total;
  const calls = { ...slack.calls };
  const postsPerChannel = { ...slack.postsPerChannel };

  // Every alarm should show the state of its newest notification.
  const expected = new Map<string, string>();
  for (const e of events) expected.set(e.arn, e.state); // events are in state-change order per alarm
  let finalStatesRight: number | 'unknown' = 'unknown';
  if (typeof service.getThread === 'function') {
    finalStatesRight = 0;
    for (const [arn, state] of expected) if ((await service.getThread(arn))?.state === state) finalStatesRight++;
  }
  const recorded = await countNotifications(doc);
  // What Slack shows must be the newest state: every digest and thread rendered at its latest version.
  let staleMessages: number | 'unknown' = 'unknown';
  if (typeof store.getDigest === 'function' && typeof store.getThread === 'function') {
    const items = [
      ...(await Promise.all(Object.values(config.slack.channels).map((c) => (c ? store.getDigest?.(c) : undefined)))),
      ...(await Promise.all([...expected.keys()].map((arn) => store.getThread?.(arn)))),
    ];
    staleMessages = items.filter((d) => d && typeof d.version === 'number' && typeof d.renderedVersion === 'number' && d.renderedVersion < d.version).length;
  }

  // SNS redelivers: the same 500 MessageIds again must change nothing in Slack.
  const redeliveryTotals = await deliver();

  return {
    built: true,
    notifications: events.length,
    alarms: expected.size,
    seconds,
    perSecond: events.length / seconds,
    slackCalls,
    slackCallsPerNotification: slackCalls / events.length,
    postsPerChannel,
    calls,
    recorded,
    finalStatesRight,
    staleMessages,
    handleTotals,
    redelivery: { duplicates: redeliveryTotals.duplicates ?? 0, slackCalls: slack.total - slackCalls },
  };
}
