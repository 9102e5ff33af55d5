import { randomUUID } from 'node:crypto';
import type { DrConfig } from '../config/schema';
import { UnknownResourceError } from '../errors';
import type { SlackPoster } from '../slack/poster';
import { mapLimit } from '../util/limit';
import type {
  AlarmNotification,
  AlarmThread,
  DigestModel,
  DigestRecord,
  Notification,
  NoticeNotification,
  NoticeSummary,
  ThreadData,
} from './model';
import type { AlarmStore, NotificationRecord, RenderPatch, RenderTarget } from './store';
import { RAW_KEEP_BYTES, threadData } from './store';
import { renderAlarm, renderAlarmResolvedReply, renderDigest, renderNotice, type AlarmViewOptions } from './views';

export interface HandleResult {
  /** Notifications recorded for the first time (alarms and notices). */
  recorded: number;
  /** SNS redeliveries (a MessageId already recorded), ignored. */
  duplicates: number;
  /** New Slack messages: alarm messages and notices (not thread replies, not digests). */
  posted: number;
  /** Alarm messages updated in place. */
  updated: number;
  /** Thread replies (an alarm resolved). */
  replies: number;
  /** Digest messages posted or updated. */
  digests: number;
  /** Notifications that are not CloudWatch alarms (posted, or counted in a digest). */
  notices: number;
  /** Notifications whose Slack message could not be written; marked so a redelivery retries them. */
  failed: number;
}

export interface AlarmServiceDeps {
  store: AlarmStore;
  slack: SlackPoster;
  config: DrConfig;
  clock: () => Date;
  log: (msg: string, extra?: Record<string, unknown>) => void;
  /** More new posts than this in one channel (one call, or the rate window) starts a digest. Default 5. */
  stormThreshold?: number;
  views?: AlarmViewOptions;
  /** The window new posts are counted over (default 60 s; the current and previous window count). */
  stormWindowMs?: number;
  /** A digest stays open until it has been quiet this long (default 10 min). */
  stormQuietMs?: number;
  /** An ALARM this soon after a resolution reopens the same message instead of posting (default 30 min). */
  reopenWindowMs?: number;
  /** How long one invocation may hold a message's render lease (default 30 s). */
  leaseMs?: number;
}

export interface AlarmService {
  handle(notifications: Notification[]): Promise<HandleResult>;
  /** Records who acknowledged and when (first click wins) and updates the message. */
  acknowledge(threadId: string, userId: string): Promise<AlarmThread>;
  getThread(threadId: string): Promise<AlarmThread | undefined>;
}

const RECENT_IDS = 50;
const CONCURRENCY = 8;

/** Where an alarm goes: critical topics and critical kinds to the critical channel, the rest to alerts. */
export function channelFor(n: AlarmNotification, config: DrConfig): string {
  const { alerts, critical } = config.slack.channels;
  const isCritical = /-critical$/.test(n.topicArn) || n.alarm.kind === 'backup-failure' || n.alarm.kind === 'replication-failed';
  return isCritical ? (critical ?? alerts) : alerts;
}

interface ReduceContext {
  channelFor: (n: AlarmNotification) => string;
  reopenWindowMs: number;
  /** The open digest of a channel, if it is in a storm; new messages there join it instead. */
  activeDigest: (channel: string) => string | undefined;
  /** The current digest id of a channel (open or quiet); a thread keeps membership only in it. */
  currentDigest: (channel: string) => string | undefined;
}

/**
 * True when Slack must get a new message for this thread's episode: it has none (and no digest
 * stands in for it) and there is something to show — an OK that never followed an ALARM is not news.
 */
export function needsOwnPost(t: ThreadData & { ts?: string | undefined; tsEpisode?: number | undefined }): boolean {
  return (t.state !== 'OK' || t.count > 0) && !(t.ts && t.tsEpisode === t.episode) && !t.digest;
}

function maxDate(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

function startThread(n: AlarmNotification, ctx: ReduceContext, episode: number): ThreadData {
  const a = n.alarm;
  const t: ThreadData = {
    id: a.arn,
    arn: a.arn,
    alarm: a,
    state: a.state,
    kind: a.kind,
    channel: ctx.channelFor(n),
    topicArn: n.topicArn,
    episode,
    episodeStart: a.stateChangeTime,
    count: a.state === 'ALARM' ? 1 : 0,
    notifications: 1,
    firstSeen: n.receivedAt,
    lastSeen: n.receivedAt,
    resolutions: 0,
    recentMessageIds: [n.messageId],
  };
  if (a.state === 'OK') t.resolvedAt = a.stateChangeTime;
  return t;
}

/**
 * Applies one alarm's notifications (any order) to its thread: state by state change time, a
 * count of ALARMs, resolution and reopening, a new episode after a long quiet, and digest
 * membership during a storm. Pure; the store may call it more than once. Undefined: no change.
 */
export function reduceThread(prev: AlarmThread | undefined, group: AlarmNotification[], ctx: ReduceContext): ThreadData | undefined {
  const ordered = [...group].sort((x, y) => x.alarm.stateChangeTime.getTime() - y.alarm.stateChangeTime.getTime());
  let t: ThreadData | undefined = prev ? threadData(prev) : undefined;
  let changed = false;
  for (const n of ordered) {
    const a = n.alarm;
    if (!t) {
      t = startThread(n, ctx, 1);
      changed = true;
      continue;
    }
    if (t.recentMessageIds.includes(n.messageId)) continue; // applied before (a retried delivery)
    changed = true;
    const recent = [...t.recentMessageIds, n.messageId].slice(-RECENT_IDS);
    if (a.stateChangeTime.getTime() < t.alarm.stateChangeTime.getTime()) {
      // out of order: older than what we show; count it, change nothing else
      t = { ...t, notifications: t.notifications + 1, lastSeen: maxDate(t.lastSeen, n.receivedAt), recentMessageIds: recent };
      continue;
    }
    if (t.state === 'OK' && a.state !== 'OK') {
      const resolvedAt = t.resolvedAt ?? t.alarm.stateChangeTime;
      if (a.stateChangeTime.getTime() - resolvedAt.getTime() > ctx.reopenWindowMs) {
        // a new problem: a new episode, a new message
        t = { ...startThread(n, ctx, t.episode + 1), recentMessageIds: recent };
        continue;
      }
      // flapping: reopen the same message
      const { resolvedAt: _r, acknowledgedBy: _b, acknowledgedAt: _a, ...open } = t;
      t = { ...open, state: a.state, episodeStart: a.stateChangeTime, count: t.count + (a.state === 'ALARM' ? 1 : 0) };
    } else if (a.state === 'OK') {
      if (t.state !== 'OK') t = { ...t, state: 'OK', resolvedAt: a.stateChangeTime, resolutions: t.resolutions + 1 };
    } else {
      t = { ...t, state: a.state, count: t.count + (a.state === 'ALARM' ? 1 : 0) };
    }
    t = { ...t, alarm: a, kind: a.kind, topicArn: n.topicArn, notifications: t.notifications + 1, lastSeen: maxDate(t.lastSeen, n.receivedAt), recentMessageIds: recent };
  }
  if (!t) return undefined;

  // digest membership: a thread stays in the digest of the storm that took it in, while that
  // digest is the channel's current one; once the storm is over, a still-firing alarm gets its own message
  if (t.digest) {
    // no known digest means our read predates it (another invocation opened it): keep membership
    const current = ctx.currentDigest(t.digest.channel);
    const replaced = current !== undefined && current !== t.digest.id;
    const over = current === t.digest.id && ctx.activeDigest(t.digest.channel) !== t.digest.id && t.state !== 'OK';
    if (replaced || over) {
      const { digest: _d, ...rest } = t;
      t = rest;
      changed = true;
    }
  }
  const digestId = ctx.activeDigest(t.channel);
  if (digestId && needsOwnPost({ ...t, ts: prev?.ts, tsEpisode: prev?.tsEpisode })) {
    t = { ...t, digest: { channel: t.channel, id: digestId } };
    changed = true;
  }
  return changed ? t : undefined;
}

function noticeRecord(n: NoticeNotification): NotificationRecord {
  const rec: NotificationRecord = {
    messageId: n.messageId,
    type: 'notice',
    topicArn: n.topicArn,
    receivedAt: n.receivedAt,
    reason: n.reason,
    rawBytes: Buffer.byteLength(n.raw, 'utf8'),
  };
  if (n.subject) rec.subject = n.subject;
  // every SNS message fits whole; anything bigger keeps a start that cannot exceed the limit (≤ 4 bytes a character)
  const whole = (rec.rawBytes ?? 0) <= RAW_KEEP_BYTES;
  rec.raw = whole ? n.raw : n.raw.slice(0, Math.floor(RAW_KEEP_BYTES / 4));
  rec.rawTruncated = !whole;
  return rec;
}

function alarmRecord(n: AlarmNotification): NotificationRecord {
  const rec: NotificationRecord = {
    messageId: n.messageId,
    type: 'alarm',
    topicArn: n.topicArn,
    receivedAt: n.receivedAt,
    alarmArn: n.alarm.arn,
    alarmName: n.alarm.name,
    state: n.alarm.state,
    stateChangeTime: n.alarm.stateChangeTime,
  };
  if (n.subject) rec.subject = n.subject;
  return rec;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

export function createAlarmService(deps: AlarmServiceDeps): AlarmService {
  const { store, slack, config, clock, log } = deps;
  const threshold = deps.stormThreshold ?? 5;
  const windowMs = deps.stormWindowMs ?? 60_000;
  const quietMs = deps.stormQuietMs ?? 10 * 60_000;
  const reopenWindowMs = deps.reopenWindowMs ?? 30 * 60_000;
  const leaseMs = deps.leaseMs ?? 30_000;
  const viewOpts: AlarmViewOptions = deps.views ?? {};
  const alertsChannel = config.slack.channels.alerts;

  const route = (n: AlarmNotification) => channelFor(n, config);
  const isActive = (d: DigestRecord | undefined, now: Date): d is DigestRecord =>
    !!d && now.getTime() - d.lastActivity.getTime() < quietMs;

  // ---- rendering under a lease --------------------------------------------------------------

  /** Writes what a thread's message should show; returns what Slack now shows. */
  async function writeThread(t: AlarmThread, result: HandleResult): Promise<Omit<RenderPatch, 'version'>> {
    const own = t.ts !== undefined && t.tsEpisode === t.episode;
    if (!own) {
      if (!needsOwnPost(t)) return {}; // a digest shows it, or there is nothing to say
      const posted = await slack.post(t.channel, renderAlarm(t, viewOpts));
      result.posted += 1;
      return { ts: posted.ts, tsChannel: posted.channel, tsEpisode: t.episode, repliedResolutions: t.resolutions };
    }
    const channel = t.tsChannel ?? t.channel;
    await slack.update(channel, t.ts as string, renderAlarm(t, viewOpts));
    result.updated += 1;
    if (t.state === 'OK' && (t.repliedResolutions ?? 0) < t.resolutions) {
      await slack.post(channel, renderAlarmResolvedReply(t), { threadTs: t.ts as string });
      result.replies += 1;
      return { repliedResolutions: t.resolutions };
    }
    return {};
  }

  async function writeDigest(d: DigestRecord, result: HandleResult): Promise<Omit<RenderPatch, 'version'>> {
    const members = await store.getThreads(d.members);
    const model: DigestModel = {
      channel: d.channel,
      openedAt: d.openedAt,
      updatedAt: d.lastActivity,
      notifications: d.notifications,
      notices: d.notices,
      recentNotices: d.recentNotices,
      alarms: members.map((m) => ({
        id: m.id,
        arn: m.arn,
        name: m.alarm.name,
        region: m.alarm.region,
        state: m.state,
        kind: m.kind,
        count: m.count,
        lastSeen: m.lastSeen,
      })),
    };
    const msg = renderDigest(model);
    if (d.ts && d.tsId === d.id) {
      await slack.update(d.channel, d.ts, msg);
      result.digests += 1;
      return {};
    }
    const posted = await slack.post(d.channel, msg);
    result.digests += 1;
    return { ts: posted.ts, tsId: d.id, tsChannel: posted.channel };
  }

  /**
   * Brings one message up to date. One invocation at a time holds the lease and renders the
   * newest version until nothing newer is left; the others only bumped the version and leave.
   */
  async function render(target: RenderTarget, result: HandleResult): Promise<void> {
    const owner = randomUUID();
    const read = async () => (target.kind === 'thread' ? store.getThread(target.arn) : store.getDigest(target.channel));
    for (let round = 0; round < 3; round++) {
      if (!(await store.claimRender(target, owner, clock(), leaseMs))) return;
      try {
        for (let i = 0; i < 5; i++) {
          const cur = await read();
          if (!cur || cur.renderedVersion >= cur.version) break;
          const patch =
            target.kind === 'thread' ? await writeThread(cur as AlarmThread, result) : await writeDigest(cur as DigestRecord, result);
          if (!(await store.markRendered(target, owner, { version: cur.version, ...patch }, clock()))) return;
        }
      } finally {
        await store.releaseRender(target, owner);
      }
      const after = await read();
      if (!after || after.renderedVersion >= after.version) return;
    }
  }

  // ---- handle ---------------------------------------------------------------------------------

  /** Steps 2-7 of handle(), for notifications recorded for the first time. */
  async function processFresh(fresh: Notification[], result: HandleResult, now: Date): Promise<HandleResult> {
    const notices = fresh.filter((n): n is NoticeNotification => n.type === 'notice');
    result.notices = notices.length;
    for (const n of notices) {
      log('alarm.notice', { messageId: n.messageId, topicArn: n.topicArn, subject: n.subject, reason: n.reason, bytes: Buffer.byteLength(n.raw, 'utf8') });
    }

    // 2. group alarms per thread, in order of arrival
    const groups = new Map<string, AlarmNotification[]>();
    for (const n of fresh) {
      if (n.type !== 'alarm') continue;
      const g = groups.get(n.alarm.arn);
      if (g) g.push(n);
      else groups.set(n.alarm.arn, [n]);
    }
    const arns = [...groups.keys()];
    const existing = new Map((await store.getThreads(arns)).map((t) => [t.arn, t]));

    // 3. storms: would this call (or the window) create more new posts in a channel than Slack takes?
    const digests = new Map<string, DigestRecord | undefined>();
    const channelsOf = new Set<string>(notices.length ? [alertsChannel] : []);
    for (const [arn, g] of groups) channelsOf.add(existing.get(arn)?.channel ?? route(g[0] as AlarmNotification));
    await Promise.all([...channelsOf].map(async (c) => digests.set(c, await store.getDigest(c))));

    const baseCtx = (active: (c: string) => string | undefined): ReduceContext => ({
      channelFor: route,
      reopenWindowMs,
      activeDigest: active,
      currentDigest: (c) => digests.get(c)?.id,
    });
    const predictCtx = baseCtx((c) => {
      const d = digests.get(c);
      return isActive(d, now) ? d.id : undefined;
    });
    const wouldPost = new Map<string, number>();
    for (const [arn, g] of groups) {
      const prev = existing.get(arn);
      const next = reduceThread(prev, g, predictCtx);
      const view = next ? { ...next, ts: prev?.ts, tsEpisode: prev?.tsEpisode } : undefined;
      if (view && needsOwnPost(view) && !(prev && needsOwnPost(prev))) wouldPost.set(view.channel, (wouldPost.get(view.channel) ?? 0) + 1);
    }
    if (notices.length && !isActive(digests.get(alertsChannel), now)) {
      wouldPost.set(alertsChannel, (wouldPost.get(alertsChannel) ?? 0) + notices.length);
    }
    const storm = new Set<string>();
    for (const c of channelsOf) if (isActive(digests.get(c), now)) storm.add(c);
    for (const [c, n] of wouldPost) {
      if (storm.has(c) || n === 0) continue;
      const inWindow = await store.addPosts(c, n, now, windowMs);
      if (n > threshold || inWindow > threshold) storm.add(c);
    }
    // open (or join) a digest where a storm starts
    for (const c of storm) {
      if (isActive(digests.get(c), now)) continue;
      const opened = await store.updateDigest(
        c,
        (prev) => {
          if (isActive(prev, now)) return undefined; // someone else opened it meanwhile
          return { channel: c, id: `${now.toISOString()}#${randomUUID().slice(0, 8)}`, openedAt: now, lastActivity: now, members: [], notifications: 0, notices: 0, recentNotices: [] };
        },
        now,
      );
      digests.set(c, opened.after);
      if (opened.changed) log('alarm.storm', { channel: c, digest: opened.after?.id, wouldPost: wouldPost.get(c) ?? 0, threshold });
    }

    // 4. apply each alarm's notifications to its thread, atomically
    const ctx = baseCtx((c) => (storm.has(c) ? digests.get(c)?.id : undefined));
    const changes = await mapLimit(arns, CONCURRENCY, async (arn) => {
      const g = groups.get(arn) as AlarmNotification[];
      return store.updateThread(arn, (prev) => reduceThread(prev, g, ctx), now);
    });

    // 5. digests: members, counts, and a version bump so their message is re-rendered
    const touched = new Map<string, { members: Set<string>; notifications: number; notices: NoticeNotification[] }>();
    const touch = (c: string) => {
      let t = touched.get(c);
      if (!t) touched.set(c, (t = { members: new Set(), notifications: 0, notices: [] }));
      return t;
    };
    changes.forEach((ch, i) => {
      const after = ch.after;
      const g = groups.get(arns[i] as string) as AlarmNotification[];
      if (!after) return;
      if (after.digest) {
        const t = touch(after.digest.channel);
        t.members.add(after.arn);
        t.notifications += g.length;
      } else if (storm.has(after.channel)) {
        touch(after.channel).notifications += g.length;
      }
    });
    if (storm.has(alertsChannel) && notices.length) {
      const t = touch(alertsChannel);
      t.notices.push(...notices);
      t.notifications += notices.length;
    }
    for (const [c, t] of touched) {
      const id = digests.get(c)?.id ?? changes.find((ch) => ch.after?.digest?.channel === c)?.after?.digest?.id;
      if (!id) continue;
      const notices: NoticeSummary[] = t.notices.map((n) => ({ messageId: n.messageId, reason: n.reason, receivedAt: n.receivedAt, ...(n.subject ? { subject: n.subject } : {}) }));
      const ok = await store.touchDigest(c, id, { members: [...t.members], notifications: t.notifications, notices, activity: storm.has(c) }, now);
      if (!ok) log('alarm.digest_rolled_over', { channel: c, digest: id });
    }

    // 6. Slack: one write per changed thread (its latest state), one per digest, one per notice
    const failedIds = new Set<string>();
    const fail = (ids: string[], target: string, e: unknown) => {
      for (const id of ids) failedIds.add(id);
      log('alarm.slack_failed', { target, error: errorText(e), messageIds: ids.slice(0, 20) });
    };
    const stale = arns.filter((_, i) => {
      const after = changes[i]?.after;
      return after !== undefined && after.renderedVersion < after.version;
    });
    await mapLimit(stale, CONCURRENCY, async (arn) => {
      const g = groups.get(arn) as AlarmNotification[];
      try {
        await render({ kind: 'thread', arn }, result);
      } catch (e) {
        fail(g.map((n) => n.messageId), arn, e);
      }
    });
    for (const c of touched.keys()) {
      try {
        await render({ kind: 'digest', channel: c }, result);
      } catch (e) {
        const ids = c === alertsChannel && storm.has(c) ? notices.map((n) => n.messageId) : [];
        fail(ids, `digest ${c}`, e);
      }
    }
    if (!storm.has(alertsChannel)) {
      for (const n of notices) {
        try {
          await slack.post(alertsChannel, renderNotice(n));
          result.posted += 1;
        } catch (e) {
          fail([n.messageId], `notice ${n.messageId}`, e);
        }
      }
    }

    // 7. done; failures stay claimable so SNS's retry gets another go
    await mapLimit(fresh, CONCURRENCY, (n) => store.finishNotification(n.messageId, failedIds.has(n.messageId) ? 'failed' : 'done', clock()));
    result.failed = failedIds.size;
    return result;
  }

  async function handle(notifications: Notification[]): Promise<HandleResult> {
    const result: HandleResult = { recorded: 0, duplicates: 0, posted: 0, updated: 0, replies: 0, digests: 0, notices: 0, failed: 0 };
    const now = clock();

    // 1. record every notification once (SNS redelivery and in-batch repeats are duplicates)
    const seen = new Set<string>();
    const fresh: Notification[] = [];
    const claims = await mapLimit(notifications, CONCURRENCY, async (n) => {
      if (seen.has(n.messageId)) return 'duplicate' as const;
      seen.add(n.messageId);
      return store.claimNotification(n.type === 'alarm' ? alarmRecord(n) : noticeRecord(n), now);
    });
    notifications.forEach((n, i) => {
      if (claims[i] === 'claimed') {
        result.recorded += 1;
        fresh.push(n);
      } else {
        result.duplicates += 1;
        log('alarm.duplicate', { messageId: n.messageId, topicArn: n.topicArn });
      }
    });
    if (fresh.length === 0) return result;
    try {
      return await processFresh(fresh, result, now);
    } catch (e) {
      // the state table or Slack failed outright: release the claims so SNS's retry is processed
      log('alarm.handle_failed', { error: errorText(e), notifications: fresh.length });
      await Promise.allSettled(fresh.map((n) => store.finishNotification(n.messageId, 'failed', clock())));
      throw e;
    }
  }

  // ---- buttons --------------------------------------------------------------------------------

  async function acknowledge(threadId: string, userId: string): Promise<AlarmThread> {
    const now = clock();
    const change = await store.updateThread(
      threadId,
      (prev) => {
        if (!prev || prev.acknowledgedBy) return undefined; // first acknowledgement wins; double clicks are no-ops
        return { ...threadData(prev), acknowledgedBy: userId, acknowledgedAt: now };
      },
      now,
    );
    if (!change.before) throw new UnknownResourceError('alarm', threadId);
    if (change.changed) {
      log('alarm.acknowledged', { thread: threadId, user: userId });
      try {
        await render({ kind: 'thread', arn: threadId }, { recorded: 0, duplicates: 0, posted: 0, updated: 0, replies: 0, digests: 0, notices: 0, failed: 0 });
      } catch (e) {
        log('alarm.slack_failed', { target: threadId, error: errorText(e) });
      }
    }
    return (await store.getThread(threadId)) as AlarmThread;
  }

  return {
    handle,
    acknowledge,
    getThread: (threadId) => store.getThread(threadId),
  };
}
