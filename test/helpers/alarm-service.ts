import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { AlarmNotification, AlarmState, Notification } from '../../src/alarms/model';
import { parseSnsEvent } from '../../src/alarms/parse';
import { createAlarmService, type AlarmServiceDeps } from '../../src/alarms/service';
import { DynamoAlarmStore } from '../../src/alarms/store';
import { parseConfig } from '../../src/config/load';
import type { DrConfig } from '../../src/config/schema';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import { alarmTable } from './alarm-table';
import type { DynaliteContext } from './dynalite';

/*
 * The alarm service's fixtures, shared by its suite (test/integration/alarm-service.test.ts) and
 * the long storm proofs (test/long/alarm-storm.test.ts): a recording Slack, notifications built
 * from the real SNS fixtures, the service over the DynamoDB store on dynalite, and the storm.
 */

type AlarmService = ReturnType<typeof createAlarmService>;

export const ALERTS = 'CALERTS';
export const CRITICAL = 'CCRITICAL';
export const ACCOUNT = '123456789012';

export function config(channels: { alerts: string; ops: string; critical?: string } = { ops: 'COPS', alerts: ALERTS, critical: CRITICAL }): DrConfig {
  return parseConfig({
    regions: { primary: 'us-east-1', backup: 'us-west-2' },
    s3: { buckets: [{ name: 'spawn-binaries-us-east-1', replica: { bucket: 'spawn-binaries-us-west-2-backup', region: 'us-west-2' } }] },
    dynamodb: { tables: [] },
    slack: { channels, roles: { viewer: ['UCAROL'], operator: ['UALICE'], approver: ['UBOB'] } },
  });
}

// ---- a recording SlackPoster ----------------------------------------------------------------

export interface SlackCall {
  method: 'post' | 'update' | 'ephemeral';
  channel: string;
  ts?: string;
  threadTs?: string;
  msg: SlackMessage;
}

export class RecordingSlack implements SlackPoster {
  readonly calls: SlackCall[] = [];
  failNext = 0;
  private seq = 0;

  private maybeFail() {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw Object.assign(new Error('An API error occurred: ratelimited'), { code: 'slack_webapi_platform_error' });
    }
  }

  async post(channel: string, msg: SlackMessage, opts: { threadTs?: string } = {}) {
    this.maybeFail();
    this.seq += 1;
    const ts = `1790000000.${String(this.seq).padStart(6, '0')}`;
    this.calls.push({ method: 'post', channel, ts, ...(opts.threadTs ? { threadTs: opts.threadTs } : {}), msg });
    return { channel, ts };
  }

  async update(channel: string, ts: string, msg: SlackMessage) {
    this.maybeFail();
    this.calls.push({ method: 'update', channel, ts, msg });
  }

  async ephemeral(channel: string, _user: string, msg: SlackMessage) {
    this.calls.push({ method: 'ephemeral', channel, msg });
  }

  /** New top-level messages (not thread replies). */
  posts(channel?: string) {
    return this.calls.filter((c) => c.method === 'post' && !c.threadTs && (!channel || c.channel === channel));
  }
  replies() {
    return this.calls.filter((c) => c.method === 'post' && c.threadTs);
  }
  updates() {
    return this.calls.filter((c) => c.method === 'update');
  }
  /** What a message shows now: its last post or update. */
  latest(ts: string): SlackMessage | undefined {
    const last = [...this.calls].reverse().find((c) => c.ts === ts && c.method !== 'ephemeral' && !c.threadTs);
    return last?.msg;
  }
}

/** Every piece of mrkdwn/plain text in the blocks: sections (text and fields) and contexts. */
export function blockTexts(blocks: readonly KnownBlock[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'section') {
      const s = b as SectionBlock;
      if (s.text) out.push(s.text.text);
      for (const f of s.fields ?? []) out.push(f.text);
    } else if (b.type === 'context') {
      for (const e of (b as ContextBlock).elements) if ('text' in e) out.push(e.text);
    }
  }
  return out;
}

export function textOf(msg: SlackMessage | undefined): string {
  return [msg?.text ?? '', ...blockTexts((msg?.blocks ?? []) as KnownBlock[])].join('\n');
}

export function buttonIds(msg: SlackMessage | undefined): string[] {
  return ((msg?.blocks ?? []) as KnownBlock[])
    .filter((b): b is ActionsBlock => b.type === 'actions')
    .flatMap((b) => b.elements.filter((e): e is Button => e.type === 'button').map((e) => e.action_id ?? ''));
}

// ---- notifications built from the real fixtures ---------------------------------------------

export const FIXTURES = join(__dirname, '..', 'fixtures', 'events');
const raw = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as { Records: { Sns: Record<string, unknown> }[] };

export function fixture(name: string): Notification {
  const n = parseSnsEvent(raw(name)).records[0];
  if (!n) throw new Error(`no record in ${name}`);
  return n;
}

function cwTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

let seq = 0;
/** A CloudWatch notification as SNS would deliver it, from a fixture with name, state and time varied. */
export function alarm(opts: { base?: string; name?: string; bucket?: string; metric?: string; state?: AlarmState; at: Date; messageId?: string; topic?: string }): AlarmNotification {
  const ev = raw(opts.base ?? 'sns-cloudwatch-alarm.json');
  const sns = ev.Records[0]!.Sns;
  const msg = JSON.parse(sns['Message'] as string) as Record<string, unknown>;
  if (opts.name) {
    msg['AlarmName'] = opts.name;
    msg['AlarmArn'] = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${opts.name}`;
  }
  if (opts.bucket) {
    const trigger = msg['Trigger'] as { Dimensions: { name: string; value: string }[] };
    trigger.Dimensions = trigger.Dimensions.map((d) => (d.name === 'SourceBucket' ? { ...d, value: opts.bucket as string } : d));
  }
  if (opts.metric) (msg['Trigger'] as Record<string, unknown>)['MetricName'] = opts.metric;
  if (opts.state) {
    msg['OldStateValue'] = msg['NewStateValue'];
    msg['NewStateValue'] = opts.state;
  }
  msg['StateChangeTime'] = cwTime(opts.at);
  sns['Message'] = JSON.stringify(msg);
  sns['MessageId'] = opts.messageId ?? `msg-${++seq}`;
  sns['Timestamp'] = new Date(opts.at.getTime() + 500).toISOString();
  if (opts.topic) sns['TopicArn'] = `arn:aws:sns:us-east-1:${ACCOUNT}:${opts.topic}`;
  const n = parseSnsEvent(ev).records[0];
  if (n?.type !== 'alarm') throw new Error('not an alarm');
  return n;
}

export const T0 = new Date('2026-10-02T14:05:31.927Z');
export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** The service over the DynamoDB store on a table of its own, a recording Slack and a clock the test moves. */
export function alarmServiceSetup(db: () => DynaliteContext) {
  return async function setup(over: Partial<AlarmServiceDeps> = {}) {
    const table = await db().freshTable('drbot-alarm-service');
    const store = new DynamoAlarmStore({ client: db().doc, tableName: table });
    const stored = alarmTable(db().doc, table, store);
    const slack = new RecordingSlack();
    const logs: { msg: string; extra?: Record<string, unknown> }[] = [];
    let now = at(0);
    const service = createAlarmService({
      store,
      slack,
      config: config(),
      clock: () => now,
      log: (msg, extra) => logs.push({ msg, ...(extra ? { extra } : {}) }),
      ...over,
    });
    return { store, stored, slack, logs, service, setNow: (d: Date) => (now = d) };
  }
}

/**
 * 500 notifications make several thousand DynamoDB calls (optimistic retries on 20 hot threads
 * included), and dynalite serves them in this process's one event loop: a storm takes tens of
 * seconds on a busy 2-core machine.
 */
export const STORM_TIMEOUT_MS = 300_000;

/** 20 alarms, 10 replication lags (alerts) and 10 backup failures (critical), 25 notifications each. */
export function storm() {
  const alarms = Array.from({ length: 20 }, (_, i) =>
    i < 10
      ? { base: 'sns-cloudwatch-alarm.json', name: `spawn-s3-replication-lag-${i}`, bucket: `spawn-bucket-${i}` }
      : { base: 'sns-lambda-errors-alarm.json', name: `spawn-backup-failures-${i}` },
  );
  const finalState = (i: number): AlarmState => (['ALARM', 'OK', 'INSUFFICIENT_DATA', 'ALARM'] as const)[i % 4] as AlarmState;
  const notifications: AlarmNotification[] = [];
  for (let k = 0; k < 25; k++) {
    alarms.forEach((a, i) => {
      const state: AlarmState = k === 24 ? finalState(i) : k % 3 === 1 ? 'OK' : 'ALARM';
      notifications.push(alarm({ ...a, state, at: new Date(T0.getTime() + k * 1000 + i) }));
    });
  }
  const expected = new Map(alarms.map((a, i) => [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${a.name}`, finalState(i)]));
  return { notifications, expected };
}

export async function expectFinalStates(service: AlarmService, expected: Map<string, AlarmState>) {
  for (const [arn, state] of expected) {
    expect({ arn, state: (await service.getThread(arn))?.state }).toEqual({ arn, state });
  }
}
