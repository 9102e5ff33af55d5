import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { wrapAws } from '../errors';
import { isoDate, jsonText, readItem } from '../store/item';
import {
  ALARM_STATES,
  type AlarmKind,
  type AlarmMetric,
  type AlarmModel,
  type AlarmState,
  type AlarmThread,
  type DigestData,
  type DigestRecord,
  type NoticeSummary,
  type ThreadData,
} from './model';

/** One SNS notification as the state table records it (every one, alarm or not). */
export interface NotificationRecord {
  messageId: string;
  type: 'alarm' | 'notice';
  topicArn: string;
  receivedAt: Date;
  alarmArn?: string;
  alarmName?: string;
  state?: AlarmState;
  stateChangeTime?: Date;
  subject?: string;
  reason?: string;
  /** A notice's raw message: whole up to RAW_KEEP_BYTES (SNS allows 256 KB), else its start. */
  raw?: string;
  rawBytes?: number;
  rawTruncated?: boolean;
}

/** Raw notice content kept in the table: the whole of any SNS message, well inside DynamoDB's 400 KB item. */
export const RAW_KEEP_BYTES = 300_000;

export type ClaimResult = 'claimed' | 'duplicate';

/** Something with its own Slack message, rendered by one lease holder at a time. */
export type RenderTarget = { kind: 'thread'; arn: string } | { kind: 'digest'; channel: string };

/** What the lease holder writes after a Slack call: the version it showed and where. */
export interface RenderPatch {
  version: number;
  ts?: string;
  tsChannel?: string;
  /** Threads: the episode `ts` belongs to. */
  tsEpisode?: number;
  /** Threads: resolutions announced in the thread so far. */
  repliedResolutions?: number;
  /** Digests: the storm id `ts` belongs to. */
  tsId?: string;
}

export interface DigestDelta {
  members: string[];
  notifications: number;
  notices: NoticeSummary[];
  /** Storm activity keeps the digest open; a member resolving after the storm does not. */
  activity: boolean;
}

/** Newest first; the digest shows a few, the table keeps a few more. */
export const DIGEST_RECENT_NOTICES = 20;

export interface Change<T> {
  before?: T;
  after?: T;
  changed: boolean;
}

/**
 * The alarm state the service keeps. Implementations must make `claimNotification` and the
 * `update*` functions atomic across processes (concurrent Lambda invocations): `update*` are
 * read-modify-write with optimistic concurrency, so `fn` may run more than once and must be pure.
 */
export interface AlarmStore {
  /** Records a notification once per MessageId; `duplicate` for an SNS redelivery (unless the first attempt failed or went stale). */
  claimNotification(rec: NotificationRecord, now: Date): Promise<ClaimResult>;
  /** `failed` lets a redelivery of this MessageId be processed again. */
  finishNotification(messageId: string, outcome: 'done' | 'failed', now: Date): Promise<void>;
  getThread(arn: string): Promise<AlarmThread | undefined>;
  getThreads(arns: readonly string[]): Promise<AlarmThread[]>;
  /** `fn` returns the new data, or undefined for no change. Bumps `version` on change. */
  updateThread(arn: string, fn: (prev: AlarmThread | undefined) => ThreadData | undefined, now: Date): Promise<Change<AlarmThread>>;
  getDigest(channel: string): Promise<DigestRecord | undefined>;
  updateDigest(channel: string, fn: (prev: DigestRecord | undefined) => DigestData | undefined, now: Date): Promise<Change<DigestRecord>>;
  /**
   * Adds members, notification counts and recent notices to the channel's digest `id` atomically
   * (no read-modify-write: a storm hits this item hard) and bumps its version. False when the
   * channel's digest is no longer `id`.
   */
  touchDigest(channel: string, id: string, delta: DigestDelta, now: Date): Promise<boolean>;
  /** Adds `n` would-be posts to the channel's rate window; returns the posts in this and the previous window. */
  addPosts(channel: string, n: number, now: Date, windowMs: number): Promise<number>;
  /** Takes the render lease of a target (free, expired, or already ours). False when someone else holds it or it does not exist. */
  claimRender(target: RenderTarget, owner: string, now: Date, leaseMs: number): Promise<boolean>;
  /** Records what Slack now shows; false when the lease was lost. */
  markRendered(target: RenderTarget, owner: string, patch: RenderPatch, now: Date): Promise<boolean>;
  releaseRender(target: RenderTarget, owner: string): Promise<void>;
}

export const RETENTION = {
  notificationDays: 30,
  threadDays: 90,
  digestDays: 14,
  rateSeconds: 3600,
} as const;
/**
 * A claim still `processing` after this long belongs to a crashed or timed-out invocation, and a
 * redelivery may take it over. Lambda retries an async (SNS) invocation 1 minute after it fails,
 * so this must stay under a minute plus the function's timeout; a thread remembers the MessageIds
 * it applied, so a takeover never counts twice.
 */
export const STALE_CLAIM_MS = 60_000;

const DAY = 86_400;
const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

function toData(t: AlarmThread): ThreadData {
  const {
    version: _v,
    ts: _ts,
    tsEpisode: _te,
    tsChannel: _tc,
    repliedResolutions: _rr,
    renderedVersion: _rv,
    renderedAt: _ra,
    ...data
  } = t;
  return data;
}

/** The reducer's view of a thread: only the data the service decides. */
export function threadData(t: AlarmThread): ThreadData {
  return toData(t);
}

export function digestData(d: DigestRecord): DigestData {
  const { version: _v, ts: _ts, tsId: _ti, renderedVersion: _rv, renderedAt: _ra, ...data } = d;
  return data;
}

// ---- DynamoDB -----------------------------------------------------------------------------

type Item = Record<string, unknown>;

export interface DynamoAlarmStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Optimistic-concurrency attempts before giving up (default 40). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

const THREAD_SK = 'THREAD';
const DIGEST_SK = 'DIGEST';
const NOTIFICATION_SK = 'NOTIFICATION';

function iso(d: Date | undefined): string | undefined {
  return d ? d.toISOString() : undefined;
}

/** `pk / sk` of an item, for errors. */
function keyOf(item: Item): string {
  return `${String(item['pk'])} / ${String(item['sk'])}`;
}

/** AlarmModel <-> JSON text: dates as ISO strings, dimensions as pairs (a `__proto__` dimension stays data). */
function alarmToJson(a: AlarmModel): string {
  return JSON.stringify({
    ...a,
    stateChangeTime: a.stateChangeTime.toISOString(),
    metric: a.metric ? { ...a.metric, dimensions: Object.entries(a.metric.dimensions) } : undefined,
  });
}

const ALARM_KINDS = ['replication-lag', 'replication-failed', 'backup-failure', 'other'] as const satisfies readonly AlarmKind[];
const alarmState = z.enum(ALARM_STATES);
/**
 * An optional number in the alarm JSON: `JSON.stringify` writes a non-finite number (a threshold
 * of 1e999 from CloudWatch) as null, which reads as absent, as it did before the schema.
 */
const jsonNumber = z.optional(z.pipe(z.nullable(z.number()), z.transform((v: number | null) => v ?? undefined)));

const metricJsonShape = {
  namespace: z.string(),
  name: z.string(),
  statistic: z.optional(z.string()),
  /** Pairs, so a dimension named `__proto__` stays data. */
  dimensions: z.array(z.tuple([z.string(), z.string()])),
  period: jsonNumber,
  evaluationPeriods: jsonNumber,
  threshold: jsonNumber,
  comparison: z.optional(z.string()),
  unit: z.optional(z.string()),
  treatMissingData: z.optional(z.string()),
};
const alarmJsonShape = {
  arn: z.string(),
  name: z.string(),
  description: z.optional(z.string()),
  state: alarmState,
  previousState: z.optional(alarmState),
  reason: z.string(),
  stateChangeTime: isoDate,
  region: z.string(),
  regionName: z.optional(z.string()),
  accountId: z.string(),
  metric: z.optional(z.object(metricJsonShape)),
  composite: z.boolean(),
  rule: z.optional(z.string()),
  children: z.optional(z.array(z.object({ arn: z.string(), state: z.optional(z.string()) }))),
  kind: z.enum(ALARM_KINDS),
  bucket: z.optional(z.string()),
  functionName: z.optional(z.string()),
};
// A field added to AlarmModel (or its metric) must be added to the schema too, or it would be dropped on read.
const alarmShapeIsComplete: [Exclude<keyof AlarmModel, keyof typeof alarmJsonShape>, Exclude<keyof AlarmMetric, keyof typeof metricJsonShape>] extends [never, never] ? true : false = true;
void alarmShapeIsComplete;

/** The `alarm` attribute: the AlarmModel as JSON text (alarmToJson). */
const alarmJson = z.pipe(
  jsonText,
  z.pipe(
    z.object(alarmJsonShape),
    z.transform(({ metric, ...rest }): AlarmModel => {
      const model: AlarmModel = withoutUndefined(rest);
      if (metric) {
        const dimensions = Object.create(null) as Record<string, string>;
        for (const [k, v] of metric.dimensions) dimensions[k] = v;
        model.metric = { ...withoutUndefined(metric), dimensions };
      }
      return model;
    }),
  ),
);

/** Drops keys whose value is undefined, so an absent field stays absent (as the item had it). */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The top-level attributes of a thread item the reducer owns (undefined -> REMOVE). */
function threadAttributes(d: ThreadData, now: Date): Record<string, unknown> {
  return {
    id: d.id,
    arn: d.arn,
    name: d.alarm.name,
    alarm: alarmToJson(d.alarm),
    state: d.state,
    kind: d.kind,
    channel: d.channel,
    topicArn: d.topicArn,
    episode: d.episode,
    episodeStart: iso(d.episodeStart),
    count: d.count,
    notifications: d.notifications,
    firstSeen: iso(d.firstSeen),
    lastSeen: iso(d.lastSeen),
    acknowledgedBy: d.acknowledgedBy,
    acknowledgedAt: iso(d.acknowledgedAt),
    resolvedAt: iso(d.resolvedAt),
    resolutions: d.resolutions,
    digestChannel: d.digest?.channel,
    digestId: d.digest?.id,
    recentMessageIds: d.recentMessageIds,
    ttl: epochSeconds(now) + RETENTION.threadDays * DAY,
  };
}

/**
 * A thread item (`ALARM#<arn>` / `THREAD`) as threadAttributes and markRendered write it. Every
 * field has been written since threads were first stored, so none is defaulted: an item without
 * one is broken, not old. Other attributes (pk, sk, ttl, name, the lease) are not read.
 */
const threadItem = z.object({
  id: z.string(),
  arn: z.string(),
  alarm: alarmJson,
  state: alarmState,
  kind: z.enum(ALARM_KINDS),
  channel: z.string(),
  topicArn: z.string(),
  episode: z.number(),
  episodeStart: isoDate,
  count: z.number(),
  notifications: z.number(),
  firstSeen: isoDate,
  lastSeen: isoDate,
  acknowledgedBy: z.optional(z.string()),
  acknowledgedAt: z.optional(isoDate),
  resolvedAt: z.optional(isoDate),
  resolutions: z.number(),
  digestChannel: z.optional(z.string()),
  digestId: z.optional(z.string()),
  recentMessageIds: z.array(z.string()),
  version: z.number(),
  renderedVersion: z.number(),
  ts: z.optional(z.string()),
  tsEpisode: z.optional(z.number()),
  tsChannel: z.optional(z.string()),
  repliedResolutions: z.optional(z.number()),
  renderedAt: z.optional(isoDate),
});

function threadFromItem(item: Item): AlarmThread {
  const { digestChannel, digestId, ...rest } = readItem(threadItem, item, keyOf(item));
  const t: AlarmThread = withoutUndefined(rest);
  if (digestChannel && digestId) t.digest = { channel: digestChannel, id: digestId };
  return t;
}

function noticeToItem(n: NoticeSummary): Item {
  return { messageId: n.messageId, reason: n.reason, receivedAt: n.receivedAt.toISOString(), ...(n.subject !== undefined ? { subject: n.subject } : {}) };
}
const noticeItem = z.pipe(
  z.object({ messageId: z.string(), subject: z.optional(z.string()), reason: z.string(), receivedAt: isoDate }),
  z.transform((n): NoticeSummary => withoutUndefined(n)),
);

function digestAttributes(d: DigestData, now: Date): Record<string, unknown> {
  return {
    channel: d.channel,
    id: d.id,
    openedAt: iso(d.openedAt),
    lastActivity: iso(d.lastActivity),
    // a string set, so concurrent ADDs merge (DynamoDB has no empty sets)
    members: d.members.length ? new Set(d.members) : undefined,
    notifications: d.notifications,
    notices: d.notices,
    recentNotices: d.recentNotices.slice(0, DIGEST_RECENT_NOTICES).map(noticeToItem),
    ttl: epochSeconds(now) + RETENTION.digestDays * DAY,
  };
}

/** A digest item (`DIGEST#<channel>` / `DIGEST`) as digestAttributes, touchDigest and markRendered write it. */
const digestItem = z.object({
  channel: z.string(),
  id: z.string(),
  openedAt: isoDate,
  lastActivity: isoDate,
  // A string set; DynamoDB has no empty set, so an empty membership is stored as no attribute.
  members: z._default(z.set(z.string()), () => new Set<string>()),
  notifications: z.number(),
  notices: z.number(),
  recentNotices: z.array(noticeItem),
  version: z.number(),
  renderedVersion: z.number(),
  ts: z.optional(z.string()),
  tsId: z.optional(z.string()),
  renderedAt: z.optional(isoDate),
});

function digestFromItem(item: Item): DigestRecord {
  const { members, recentNotices, ...rest } = readItem(digestItem, item, keyOf(item));
  return {
    ...withoutUndefined(rest),
    members: [...members].sort(),
    // touchDigest may append past the cap before its condition sees the list full; show the newest few
    recentNotices: recentNotices.slice(0, DIGEST_RECENT_NOTICES),
  };
}

/** A post counter (`RATE#<channel>` / `<window>`). */
const rateItem = z.object({ posts: z.number() });

/** Builds `SET a = :a, … REMOVE b, …` with placeholder names (name, state, count and ttl are reserved words). */
function setRemove(attrs: Record<string, unknown>, extraSet: Record<string, unknown> = {}) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  let i = 0;
  for (const [k, v] of Object.entries({ ...attrs, ...extraSet })) {
    const n = `#a${i}`;
    names[n] = k;
    if (v === undefined) removes.push(n);
    else {
      values[`:a${i}`] = v;
      sets.push(`${n} = :a${i}`);
    }
    i += 1;
  }
  const expr = `${sets.length ? `SET ${sets.join(', ')}` : ''}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`.trim();
  return { expr, names, values };
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ConditionalCheckFailedException');
}

/**
 * The alarm state in the single state table (`pk`/`sk` strings, numeric `ttl`):
 * `ALARMMSG#<messageId>` / `NOTIFICATION` every notification (conditional put: SNS redelivery
 * dedupe); `ALARM#<arn>` / `THREAD` one item per alarm; `DIGEST#<channel>` / `DIGEST` the storm
 * digest; `RATE#<channel>` / `<window>` atomic post counters.
 */
export class DynamoAlarmStore implements AlarmStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: DynamoAlarmStoreOptions) {
    this.client = opts.client;
    this.table = opts.tableName;
    this.maxAttempts = opts.maxAttempts ?? 40;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private backoff(attempt: number): Promise<void> {
    return this.sleep(Math.random() * Math.min(100, 5 * 2 ** attempt));
  }

  async claimNotification(rec: NotificationRecord, now: Date): Promise<ClaimResult> {
    const item: Item = {
      pk: `ALARMMSG#${rec.messageId}`,
      sk: NOTIFICATION_SK,
      status: 'processing',
      claimedAt: now.getTime(),
      ttl: epochSeconds(now) + RETENTION.notificationDays * DAY,
      messageId: rec.messageId,
      type: rec.type,
      topicArn: rec.topicArn,
      receivedAt: rec.receivedAt.toISOString(),
    };
    const optional: Record<string, unknown> = {
      alarmArn: rec.alarmArn,
      alarmName: rec.alarmName,
      state: rec.state,
      stateChangeTime: iso(rec.stateChangeTime),
      subject: rec.subject,
      reason: rec.reason,
      raw: rec.raw,
      rawBytes: rec.rawBytes,
      rawTruncated: rec.rawTruncated,
    };
    for (const [k, v] of Object.entries(optional)) if (v !== undefined) item[k] = v;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :failed OR (#status = :processing AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': 'failed', ':processing': 'processing', ':stale': now.getTime() - STALE_CLAIM_MS },
        }),
      );
      return 'claimed';
    } catch (e) {
      if (isConditionFailure(e)) return 'duplicate';
      throw wrapAws(e, 'PutItem', `${this.table} ALARMMSG#${rec.messageId}`);
    }
  }

  async finishNotification(messageId: string, outcome: 'done' | 'failed', now: Date): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `ALARMMSG#${messageId}`, sk: NOTIFICATION_SK },
          UpdateExpression: 'SET #status = :s, finishedAt = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':s': outcome, ':t': now.toISOString() },
        }),
      );
    } catch (e) {
      if (isConditionFailure(e)) return;
      throw wrapAws(e, 'UpdateItem', `${this.table} ALARMMSG#${messageId}`);
    }
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    try {
      const res = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }));
      return res.Item as Item | undefined;
    } catch (e) {
      throw wrapAws(e, 'GetItem', `${this.table} ${pk}`);
    }
  }

  async getThread(arn: string): Promise<AlarmThread | undefined> {
    const item = await this.getItem(`ALARM#${arn}`, THREAD_SK);
    return item ? threadFromItem(item) : undefined;
  }

  async getThreads(arns: readonly string[]): Promise<AlarmThread[]> {
    const unique = [...new Set(arns)];
    const out: AlarmThread[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map((a) => ({ pk: `ALARM#${a}`, sk: THREAD_SK }));
      for (let attempt = 0; keys.length && attempt < 10; attempt++) {
        if (attempt) await this.backoff(attempt);
        let res;
        try {
          res = await this.client.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        } catch (e) {
          throw wrapAws(e, 'BatchGetItem', this.table);
        }
        for (const item of res.Responses?.[this.table] ?? []) out.push(threadFromItem(item as Item));
        keys = (res.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return out;
  }

  updateThread(arn: string, fn: (prev: AlarmThread | undefined) => ThreadData | undefined, now: Date): Promise<Change<AlarmThread>> {
    return this.optimisticUpdate(`ALARM#${arn}`, THREAD_SK, threadFromItem, (d) => threadAttributes(d, now), fn);
  }

  async getDigest(channel: string): Promise<DigestRecord | undefined> {
    const item = await this.getItem(`DIGEST#${channel}`, DIGEST_SK);
    return item ? digestFromItem(item) : undefined;
  }

  updateDigest(channel: string, fn: (prev: DigestRecord | undefined) => DigestData | undefined, now: Date): Promise<Change<DigestRecord>> {
    return this.optimisticUpdate(`DIGEST#${channel}`, DIGEST_SK, digestFromItem, (d) => digestAttributes(d, now), fn);
  }

  /**
   * Read-modify-write with optimistic concurrency on `version`: `fn` runs on the current record
   * and the write succeeds only if nobody changed it meanwhile, else it is retried with backoff.
   */
  private async optimisticUpdate<R extends { version: number }, D>(
    pk: string,
    sk: string,
    fromItem: (item: Item) => R,
    toAttributes: (data: D) => Record<string, unknown>,
    fn: (prev: R | undefined) => D | undefined,
  ): Promise<Change<R>> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (attempt) await this.backoff(attempt);
      const item = await this.getItem(pk, sk);
      const before = item ? fromItem(item) : undefined;
      const next = fn(before);
      if (!next) return { before, after: before, changed: false };
      const extra: Record<string, unknown> = { version: (before?.version ?? 0) + 1 };
      if (!before) extra['renderedVersion'] = 0;
      const { expr, names, values } = setRemove(toAttributes(next), extra);
      try {
        const res = await this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk, sk },
            UpdateExpression: expr,
            ConditionExpression: before ? '#v = :expected' : 'attribute_not_exists(pk)',
            ExpressionAttributeNames: { ...names, ...(before ? { '#v': 'version' } : {}) },
            ExpressionAttributeValues: { ...values, ...(before ? { ':expected': before.version } : {}) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { before, after: fromItem(res.Attributes as Item), changed: true };
      } catch (e) {
        if (isConditionFailure(e)) continue;
        throw wrapAws(e, 'UpdateItem', `${this.table} ${pk}`);
      }
    }
    throw wrapAws(new Error(`gave up after ${this.maxAttempts} conflicting updates`), 'UpdateItem', `${this.table} ${pk}`);
  }

  async touchDigest(channel: string, id: string, delta: DigestDelta, now: Date): Promise<boolean> {
    const pk = `DIGEST#${channel}`;
    const send = async (withNotices: boolean) => {
      const adds = ['#n :n', '#nc :nc', '#v :one'];
      const values: Record<string, unknown> = { ':n': delta.notifications, ':nc': delta.notices.length, ':one': 1, ':id': id };
      const names: Record<string, string> = { '#n': 'notifications', '#nc': 'notices', '#v': 'version', '#id': 'id' };
      if (delta.members.length) {
        adds.push('#m :m');
        names['#m'] = 'members';
        values[':m'] = new Set(delta.members);
      }
      const sets: string[] = [];
      if (delta.activity) {
        sets.push('#la = :now');
        names['#la'] = 'lastActivity';
        values[':now'] = now.toISOString();
      }
      let condition = '#id = :id';
      if (withNotices) {
        sets.push('#rn = list_append(:rn, if_not_exists(#rn, :empty))');
        names['#rn'] = 'recentNotices';
        values[':rn'] = delta.notices.slice(0, DIGEST_RECENT_NOTICES).map(noticeToItem);
        values[':empty'] = [];
        values[':cap'] = DIGEST_RECENT_NOTICES;
        condition += ' AND (attribute_not_exists(#rn) OR size(#rn) < :cap)';
      }
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: DIGEST_SK },
          UpdateExpression: `ADD ${adds.join(', ')}${sets.length ? ` SET ${sets.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    };
    try {
      await send(delta.notices.length > 0);
      return true;
    } catch (e) {
      if (!isConditionFailure(e)) throw wrapAws(e, 'UpdateItem', `${this.table} ${pk}`);
    }
    // either the digest rolled over, or its recent-notice list is full: keep counting without it
    const current = await this.getDigest(channel);
    if (current?.id !== id || delta.notices.length === 0) return false;
    try {
      await send(false);
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw wrapAws(e, 'UpdateItem', `${this.table} ${pk}`);
    }
  }

  async addPosts(channel: string, n: number, now: Date, windowMs: number): Promise<number> {
    const bucket = Math.floor(now.getTime() / windowMs);
    const pk = `RATE#${channel}`;
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: String(bucket) },
          UpdateExpression: 'ADD posts :n SET #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':n': n, ':ttl': epochSeconds(now) + RETENTION.rateSeconds },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const current = readItem(rateItem, res.Attributes, `${pk} / ${bucket}`).posts;
      const previous = await this.getItem(pk, String(bucket - 1));
      // no counter for the previous window: nothing was posted in it
      return current + (previous ? readItem(rateItem, previous, `${pk} / ${bucket - 1}`).posts : 0);
    } catch (e) {
      throw wrapAws(e, 'UpdateItem', `${this.table} ${pk}`);
    }
  }

  private targetKey(t: RenderTarget): { pk: string; sk: string } {
    return t.kind === 'thread' ? { pk: `ALARM#${t.arn}`, sk: THREAD_SK } : { pk: `DIGEST#${t.channel}`, sk: DIGEST_SK };
  }

  async claimRender(target: RenderTarget, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const key = this.targetKey(target);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET leaseOwner = :o, leaseUntil = :u',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(leaseOwner) OR leaseUntil < :now OR leaseOwner = :o)',
          ExpressionAttributeValues: { ':o': owner, ':u': now.getTime() + leaseMs, ':now': now.getTime() },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw wrapAws(e, 'UpdateItem', `${this.table} ${key.pk}`);
    }
  }

  async markRendered(target: RenderTarget, owner: string, patch: RenderPatch, now: Date): Promise<boolean> {
    const key = this.targetKey(target);
    const { version, ...rest } = patch;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const { expr, names, values } = setRemove({ ...defined, renderedAt: now.toISOString() });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          // only the lease holder writes render state, so renderedVersion only moves forward
          UpdateExpression: `${expr}, #rv = :rv`,
          ConditionExpression: 'leaseOwner = :o',
          ExpressionAttributeNames: { ...names, '#rv': 'renderedVersion' },
          ExpressionAttributeValues: { ...values, ':o': owner, ':rv': version },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw wrapAws(e, 'UpdateItem', `${this.table} ${key.pk}`);
    }
  }

  async releaseRender(target: RenderTarget, owner: string): Promise<void> {
    const key = this.targetKey(target);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :o',
          ExpressionAttributeValues: { ':o': owner },
        }),
      );
    } catch (e) {
      if (isConditionFailure(e)) return;
      throw wrapAws(e, 'UpdateItem', `${this.table} ${key.pk}`);
    }
  }
}
