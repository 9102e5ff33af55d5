import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlarmNotification, AlarmState, ThreadData } from '../../src/alarms/model';
import { parseSnsEvent } from '../../src/alarms/parse';
import { createAlarmService } from '../../src/alarms/service';
import { DynamoAlarmStore, threadData, type NotificationRecord } from '../../src/alarms/store';
import { parseConfig } from '../../src/config/load';
import { StateItemError } from '../../src/store/item';
import { threadFromNotification } from '../helpers/alarm-thread';
import { useDynalite } from '../helpers/dynalite';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';

const db = useDynalite();
/** Every test gets an empty table of its own. */
let table: string;
let doc: DynamoDBDocumentClient;
beforeEach(async () => {
  table = await db().freshTable('drbot-alarms-test');
  doc = db().doc;
});

const store = () => new DynamoAlarmStore({ client: doc, tableName: table });

const FIXTURES = join(__dirname, '..', 'fixtures', 'events');
let seq = 0;
function alarm(opts: { name: string; state?: AlarmState; at: Date }): AlarmNotification {
  const ev = JSON.parse(readFileSync(join(FIXTURES, 'sns-cloudwatch-alarm.json'), 'utf8')) as { Records: { Sns: Record<string, unknown> }[] };
  const sns = ev.Records[0]!.Sns;
  const msg = JSON.parse(sns['Message'] as string) as Record<string, unknown>;
  msg['AlarmName'] = opts.name;
  msg['AlarmArn'] = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${opts.name}`;
  if (opts.state) msg['NewStateValue'] = opts.state;
  msg['StateChangeTime'] = opts.at.toISOString().replace('Z', '+0000');
  sns['Message'] = JSON.stringify(msg);
  sns['MessageId'] = `it-${++seq}-${Math.random().toString(36).slice(2)}`;
  const n = parseSnsEvent(ev).records[0];
  if (n?.type !== 'alarm') throw new Error('not an alarm');
  return n;
}

const threadOf = threadFromNotification;

const T0 = new Date('2026-10-02T14:05:31.927Z');

describe('DynamoAlarmStore (dynalite)', () => {
  describe('notifications', () => {
    it('records a MessageId once: a redelivery is a duplicate, a failed one can be retried', async () => {
      // prepare
      const s = store();
      const rec: NotificationRecord = {
        messageId: 'dedupe-1',
        type: 'alarm',
        topicArn: 'arn:aws:sns:us-east-1:123456789012:spawn-alerts',
        receivedAt: T0,
        alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag',
        state: 'ALARM',
        stateChangeTime: T0,
      };

      // act
      const first = await s.claimNotification(rec, T0);
      const redelivered = await s.claimNotification(rec, new Date(T0.getTime() + 1000));
      await s.finishNotification(rec.messageId, 'failed', T0);
      const retried = await s.claimNotification(rec, new Date(T0.getTime() + 2000));
      await s.finishNotification(rec.messageId, 'done', T0);
      const afterDone = await s.claimNotification(rec, new Date(T0.getTime() + 3000));

      // assess
      expect([first, redelivered, retried, afterDone]).toEqual(['claimed', 'duplicate', 'claimed', 'duplicate']);
      const item = (await doc.send(new GetCommand({ TableName: table, Key: { pk: 'ALARMMSG#dedupe-1', sk: 'NOTIFICATION' } }))).Item;
      expect(item).toMatchObject({ status: 'done', state: 'ALARM', alarmArn: rec.alarmArn, receivedAt: T0.toISOString() });
      expect(typeof item?.['ttl']).toBe('number');
      expect(item?.['ttl']).toBe(Math.floor((T0.getTime() + 2000) / 1000) + 30 * 86_400); // from the retried claim
    });

    it('lets a redelivery take over a claim left processing by a crashed invocation', async () => {
      // prepare
      const s = store();
      const rec: NotificationRecord = { messageId: 'crashed-1', type: 'notice', topicArn: 't', receivedAt: T0, reason: 'plain text' };
      await s.claimNotification(rec, T0);

      // act
      const soon = await s.claimNotification(rec, new Date(T0.getTime() + 30_000)); // still running, perhaps
      const later = await s.claimNotification(rec, new Date(T0.getTime() + 90_000)); // Lambda's retry after a timeout

      // assess
      expect([soon, later]).toEqual(['duplicate', 'claimed']);
    });

    it('claims exactly once when the same MessageId arrives concurrently', async () => {
      // prepare
      const s = store();
      const rec: NotificationRecord = { messageId: 'race-1', type: 'notice', topicArn: 't', receivedAt: T0 };

      // act
      const results = await Promise.all(Array.from({ length: 10 }, () => s.claimNotification(rec, T0)));

      // assess
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r === 'duplicate')).toHaveLength(9);
    });
  });

  describe('threads', () => {
    it('round-trips a thread, including dates, dimensions named __proto__ and removed fields', async () => {
      // prepare
      const s = store();
      const n = alarm({ name: 'roundtrip', at: T0 });
      (n.alarm.metric as { dimensions: Record<string, string> }).dimensions['__proto__'] = 'data';
      const data = threadOf(n, { acknowledgedBy: 'UCAROL', acknowledgedAt: T0, digest: { channel: 'CALERTS', id: 'storm-1' } });

      // act
      const created = await s.updateThread(n.alarm.arn, () => data, T0);
      const { acknowledgedBy: _b, acknowledgedAt: _a, digest: _d, ...cleared } = data;
      const updated = await s.updateThread(n.alarm.arn, (prev) => (prev ? { ...cleared, count: prev.count + 1 } : undefined), T0);
      const read = await s.getThread(n.alarm.arn);

      // assess
      expect(created.changed).toBe(true);
      expect(created.after?.version).toBe(1);
      expect(created.after?.acknowledgedBy).toBe('UCAROL');
      expect(created.after?.digest).toEqual({ channel: 'CALERTS', id: 'storm-1' });
      expect(updated.after?.version).toBe(2);
      expect(read).toBeDefined();
      expect(threadData(read!)).toEqual({ ...cleared, count: 2 });
      expect(read?.alarm.stateChangeTime).toBeInstanceOf(Date);
      expect(read?.alarm.stateChangeTime.toISOString()).toBe(T0.toISOString());
      expect(Object.getOwnPropertyDescriptor(read?.alarm.metric?.dimensions, '__proto__')?.value).toBe('data');
      expect(read?.acknowledgedBy).toBeUndefined();
      expect(read?.digest).toBeUndefined();
      const item = (await doc.send(new GetCommand({ TableName: table, Key: { pk: `ALARM#${n.alarm.arn}`, sk: 'THREAD' } }))).Item;
      expect(item).toMatchObject({ state: 'ALARM', count: 2, channel: 'CALERTS', name: 'roundtrip', firstSeen: n.receivedAt.toISOString() });
      expect(typeof item?.['ttl']).toBe('number');
    });

    it('refuses a thread item that does not match its schema, naming the item and the fields', async () => {
      // prepare
      const s = store();
      const n = alarm({ name: 'broken', at: T0 });
      await s.updateThread(n.alarm.arn, () => threadOf(n), T0);
      const key = { pk: `ALARM#${n.alarm.arn}`, sk: 'THREAD' };
      await doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET #s = :s REMOVE #c', ExpressionAttributeNames: { '#s': 'state', '#c': 'count' }, ExpressionAttributeValues: { ':s': 'BROKEN' } }));

      // act
      const err = await s.getThread(n.alarm.arn).catch((e: unknown) => e);

      // assess
      expect(err).toBeInstanceOf(StateItemError);
      expect(err).toMatchObject({ code: 'state_item_invalid', key: `ALARM#${n.alarm.arn} / THREAD` });
      expect((err as StateItemError).issues).toMatch(/^state: .*; count: /);
    });

    it('loses no count when 25 invocations increment the same thread at once', async () => {
      // prepare
      const s = store();
      const n = alarm({ name: 'concurrent-count', at: T0 });
      await s.updateThread(n.alarm.arn, () => threadOf(n, { count: 0 }), T0);

      // act
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          s.updateThread(n.alarm.arn, (prev) => (prev ? { ...threadData(prev), count: prev.count + 1, recentMessageIds: [...prev.recentMessageIds, `m-${i}`] } : undefined), T0),
        ),
      );

      // assess
      const t = await s.getThread(n.alarm.arn);
      expect(t?.count).toBe(25);
      expect(t?.version).toBe(26);
      expect(new Set(t?.recentMessageIds).size).toBe(26);
    });

    it('creates a thread once when two invocations race to create it', async () => {
      // prepare
      const s = store();
      const n = alarm({ name: 'create-race', at: T0 });

      // act
      const results = await Promise.all(
        Array.from({ length: 5 }, () => s.updateThread(n.alarm.arn, (prev) => (prev ? { ...threadData(prev), count: prev.count + 1 } : threadOf(n)), T0)),
      );

      // assess
      expect(results.filter((r) => r.before === undefined)).toHaveLength(1);
      expect((await s.getThread(n.alarm.arn))?.count).toBe(5);
    });

    it('reads more than 100 threads in one getThreads call', async () => {
      // prepare
      const s = store();
      const arns: string[] = [];
      for (let i = 0; i < 120; i++) {
        const n = alarm({ name: `batch-${i}`, at: T0 });
        arns.push(n.alarm.arn);
        await s.updateThread(n.alarm.arn, () => threadOf(n), T0);
      }

      // act
      const threads = await s.getThreads([...arns, ...arns.slice(0, 5), 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:missing']);

      // assess
      expect(threads.map((t) => t.arn).sort()).toEqual([...arns].sort());
    });
  });

  describe('render lease', () => {
    it('lets one owner render at a time, and a lapsed lease be taken over', async () => {
      // prepare
      const s = store();
      const n = alarm({ name: 'lease', at: T0 });
      await s.updateThread(n.alarm.arn, () => threadOf(n), T0);
      const target = { kind: 'thread' as const, arn: n.alarm.arn };

      // act
      const a = await s.claimRender(target, 'owner-a', T0, 30_000);
      const b = await s.claimRender(target, 'owner-b', T0, 30_000);
      const marked = await s.markRendered(target, 'owner-a', { version: 1, ts: '1790000000.000001', tsEpisode: 1, tsChannel: 'CALERTS' }, T0);
      const markedByB = await s.markRendered(target, 'owner-b', { version: 1, ts: 'stolen' }, T0);
      const bLater = await s.claimRender(target, 'owner-b', new Date(T0.getTime() + 31_000), 30_000);
      await s.releaseRender(target, 'owner-b');
      const missing = await s.claimRender({ kind: 'thread', arn: 'arn:nope' }, 'owner-c', T0, 30_000);

      // assess
      expect({ a, b, marked, markedByB, bLater, missing }).toEqual({ a: true, b: false, marked: true, markedByB: false, bLater: true, missing: false });
      const t = await s.getThread(n.alarm.arn);
      expect(t).toMatchObject({ ts: '1790000000.000001', tsEpisode: 1, tsChannel: 'CALERTS', renderedVersion: 1 });
      expect(await s.claimRender(target, 'owner-c', T0, 30_000)).toBe(true);
    });
  });

  describe('storm counters and digests', () => {
    it('adds concurrent posts atomically and counts the previous window too', async () => {
      // prepare
      const s = store();
      const windowMs = 60_000;
      const minute = new Date(Math.floor(T0.getTime() / windowMs) * windowMs);

      // act
      const totals = await Promise.all(Array.from({ length: 20 }, () => s.addPosts('CRATE', 1, minute, windowMs)));
      const next = await s.addPosts('CRATE', 2, new Date(minute.getTime() + windowMs), windowMs);
      const later = await s.addPosts('CRATE', 1, new Date(minute.getTime() + 3 * windowMs), windowMs);

      // assess
      expect(Math.max(...totals)).toBe(20);
      expect(new Set(totals).size).toBe(20);
      expect(next).toBe(22);
      expect(later).toBe(1);
    });

    it('round-trips a digest and bumps its version on every change', async () => {
      // prepare
      const s = store();
      const base = { channel: 'CDIGEST', id: 'storm-1', openedAt: T0, lastActivity: T0, members: [] as string[], notifications: 0, notices: 0, recentNotices: [] };

      // act
      await s.updateDigest('CDIGEST', () => base, T0);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          s.updateDigest('CDIGEST', (prev) => (prev ? { ...base, members: [...prev.members, `arn-${i}`], notifications: prev.notifications + 1, recentNotices: [{ messageId: `m-${i}`, reason: 'plain text', receivedAt: T0 }] } : undefined), T0),
        ),
      );

      // assess
      const d = await s.getDigest('CDIGEST');
      expect(d?.version).toBe(11);
      expect(d?.notifications).toBe(10);
      expect(d?.members).toHaveLength(10);
      expect(d?.recentNotices[0]?.receivedAt).toBeInstanceOf(Date);
    });
  });

  describe('touchDigest', () => {
    it('adds members, counts and notices from concurrent invocations without losing any', async () => {
      // prepare
      const s = store();
      await s.updateDigest('CTOUCH', () => ({ channel: 'CTOUCH', id: 'storm-2', openedAt: T0, lastActivity: T0, members: [], notifications: 0, notices: 0, recentNotices: [] }), T0);
      const notice = (i: number) => ({ messageId: `n-${i}`, subject: `s-${i}`, reason: 'plain text', receivedAt: T0 });

      // act
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => s.touchDigest('CTOUCH', 'storm-2', { members: [`arn-${i % 12}`], notifications: 2, notices: [notice(i)], activity: true }, new Date(T0.getTime() + 1000))),
      );
      const wrongId = await s.touchDigest('CTOUCH', 'storm-1', { members: ['arn-x'], notifications: 1, notices: [], activity: true }, T0);
      const quiet = await s.touchDigest('CTOUCH', 'storm-2', { members: [], notifications: 1, notices: [], activity: false }, new Date(T0.getTime() + 3_600_000));

      // assess
      expect(results.every(Boolean)).toBe(true);
      expect(wrongId).toBe(false);
      expect(quiet).toBe(true);
      const d = await s.getDigest('CTOUCH');
      expect(d).toMatchObject({ notifications: 61, notices: 30, version: 32 });
      expect(d?.lastActivity.toISOString()).toBe(new Date(T0.getTime() + 1000).toISOString());
      expect(d?.members).toHaveLength(12);
      expect(d?.members).not.toContain('arn-x');
      expect(d?.recentNotices.length).toBeGreaterThan(0);
      expect(d?.recentNotices.length).toBeLessThanOrEqual(20);
    });
  });

  describe('the alarm service on the real engine', () => {
    class Recording implements SlackPoster {
      calls: { method: string; channel: string; ts: string; threadTs?: string; msg: SlackMessage }[] = [];
      private n = 0;
      async post(channel: string, msg: SlackMessage, opts: { threadTs?: string } = {}) {
        const ts = `1790000000.${String(++this.n).padStart(6, '0')}`;
        this.calls.push({ method: 'post', channel, ts, ...(opts.threadTs ? { threadTs: opts.threadTs } : {}), msg });
        return { channel, ts };
      }
      async update(channel: string, ts: string, msg: SlackMessage) {
        this.calls.push({ method: 'update', channel, ts, msg });
      }
      async ephemeral() {}
    }
    const config = parseConfig({
      regions: { primary: 'us-east-1', backup: 'us-west-2' },
      s3: { buckets: [] },
      dynamodb: { tables: [] },
      slack: { channels: { ops: 'COPS', alerts: 'CALERTS' }, roles: {} },
    });

    it('keeps one message through ALARM, ALARM, OK and ignores a redelivery', async () => {
      // prepare
      const slack = new Recording();
      const service = createAlarmService({ store: store(), slack, config, clock: () => T0, log: () => undefined });
      const first = alarm({ name: 'e2e-lag', at: T0 });
      const again = alarm({ name: 'e2e-lag', at: new Date(T0.getTime() + 60_000) });
      const ok = alarm({ name: 'e2e-lag', state: 'OK', at: new Date(T0.getTime() + 600_000) });

      // act
      const results = [await service.handle([first]), await service.handle([again]), await service.handle([first]), await service.handle([ok])];

      // assess
      expect(results.map((r) => [r.posted, r.updated, r.replies, r.duplicates])).toEqual([
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 1],
        [0, 1, 1, 0],
      ]);
      const t = await service.getThread(first.alarm.arn);
      expect(t).toMatchObject({ state: 'OK', count: 2, notifications: 3, ts: slack.calls[0]?.ts, repliedResolutions: 1 });
    });

    // 100 here; the 500-invocation storms are in test/long/alarm-storm.test.ts
    it('records a storm of 100 concurrent notifications across 10 alarms with few posts and right final states', async () => {
      // prepare
      const slack = new Recording();
      const s = store();
      const service = createAlarmService({ store: s, slack, config, clock: () => T0, log: () => undefined });
      const notifications: AlarmNotification[] = [];
      for (let k = 0; k < 10; k++) {
        for (let i = 0; i < 10; i++) {
          const state: AlarmState = k === 9 ? (i % 2 ? 'OK' : 'ALARM') : k % 2 ? 'OK' : 'ALARM';
          notifications.push(alarm({ name: `e2e-storm-${i}`, state, at: new Date(T0.getTime() + k * 1000) }));
        }
      }

      // act
      const results = await Promise.all(notifications.map((n) => service.handle([n])));

      // assess
      expect(results.reduce((n, r) => n + r.recorded, 0)).toBe(100);
      expect(results.reduce((n, r) => n + r.failed, 0)).toBe(0);
      expect(slack.calls.filter((c) => c.method === 'post' && !c.threadTs).length).toBeLessThanOrEqual(6);
      const threads = await s.getThreads(notifications.map((n) => n.alarm.arn));
      expect(threads).toHaveLength(10);
      for (const t of threads) {
        const i = Number(t.alarm.name.split('-').pop());
        expect({ name: t.alarm.name, state: t.state, notifications: t.notifications }).toEqual({ name: t.alarm.name, state: i % 2 ? 'OK' : 'ALARM', notifications: 10 });
      }
      for (const n of notifications) {
        const item = (await doc.send(new GetCommand({ TableName: table, Key: { pk: `ALARMMSG#${n.messageId}`, sk: 'NOTIFICATION' } }))).Item;
        expect(item?.['status']).toBe('done');
      }
      // the digest shows its members' final states; every other alarm's own message shows its own
      const latest = (ts: string) => [...slack.calls].reverse().find((c) => c.ts === ts && !c.threadTs)?.msg;
      const members = threads.filter((t) => t.digest);
      const digestPost = slack.calls.find((c) => c.method === 'post' && c.msg.text.startsWith('Alarm storm'));
      // 10 new alarms at once pass the storm threshold (5 new messages a window): a digest must exist
      expect(members.length).toBeGreaterThan(0);
      expect(digestPost).toBeDefined();
      expect(latest(digestPost?.ts as string)?.text).toBe(
        `Alarm storm: ${members.length} alarms (${members.filter((t) => t.state === 'ALARM').length} ALARM, 0 INSUFFICIENT_DATA, ` +
          `${members.filter((t) => t.state === 'OK').length} resolved), ${(await s.getDigest('CALERTS'))?.notifications} notifications recorded`,
      );
      for (const t of threads.filter((x) => x.ts)) {
        expect(latest(t.ts as string)?.text.startsWith(t.state === 'OK' ? 'Resolved:' : 'ALARM:')).toBe(true);
      }
    });
  });
});
