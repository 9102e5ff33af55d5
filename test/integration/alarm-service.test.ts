import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { AlarmNotification, NoticeNotification } from '../../src/alarms/model';
import { createAlarmService } from '../../src/alarms/service';
import { ALARM_ACTIONS } from '../../src/alarms/views';
import { DrbotError } from '../../src/errors';
import { alarm, alarmServiceSetup, ALERTS, at, buttonIds, config, CRITICAL, expectFinalStates, fixture, storm, STORM_TIMEOUT_MS, textOf } from '../helpers/alarm-service';
import { useDynalite } from '../helpers/dynalite';

const db = useDynalite();
const setup = alarmServiceSetup(db);

describe('createAlarmService', () => {
  describe('one message per alarm', () => {
    it('posts on ALARM, updates in place on a repeated ALARM, resolves on OK with one thread reply', async () => {
      // prepare
      const { service, slack, setNow } = await setup();
      const first = fixture('sns-cloudwatch-alarm.json');
      const again = alarm({ at: at(15) });
      const ok = fixture('sns-cloudwatch-ok.json');

      // act
      const r1 = await service.handle([first]);
      setNow(at(15));
      const r2 = await service.handle([again]);
      setNow(at(45));
      const r3 = await service.handle([ok]);

      // assess
      expect(r1).toMatchObject({ recorded: 1, posted: 1, updated: 0, replies: 0 });
      expect(r2).toMatchObject({ recorded: 1, posted: 0, updated: 1, replies: 0 });
      expect(r3).toMatchObject({ recorded: 1, posted: 0, updated: 1, replies: 1 });
      const posts = slack.posts();
      expect(posts).toHaveLength(1);
      const ts = posts[0]?.ts as string;
      expect(posts[0]?.channel).toBe(ALERTS);
      expect(textOf(posts[0]?.msg)).toContain(':red_circle: *ALARM* *spawn-s3-replication-lag*');
      expect(slack.updates().map((u) => u.ts)).toEqual([ts, ts]);
      expect(textOf(slack.updates()[0]?.msg)).toContain('(×2)');
      expect(textOf(slack.updates()[0]?.msg)).toContain('Seen 2 times');
      expect(textOf(slack.latest(ts))).toContain(':large_green_circle: *Resolved* after 45m');
      expect(buttonIds(slack.latest(ts))).toEqual([ALARM_ACTIONS.checkReplication, ALARM_ACTIONS.ack]);
      const replies = slack.replies();
      expect(replies).toHaveLength(1);
      expect(replies[0]?.threadTs).toBe(ts);
      expect(replies[0]?.msg.text).toMatch(/resolved after 45m/);
    });

    it('gives the first message the buttons of its kind, with the thread id as value', async () => {
      // prepare
      const { service, slack } = await setup();
      const n = fixture('sns-cloudwatch-alarm.json') as AlarmNotification;

      // act
      await service.handle([n]);

      // assess
      const msg = slack.posts()[0]?.msg;
      expect(buttonIds(msg)).toEqual([ALARM_ACTIONS.checkReplication, ALARM_ACTIONS.restoreReplica, ALARM_ACTIONS.ack]);
      const values = ((msg?.blocks ?? []) as KnownBlock[])
        .filter((b): b is ActionsBlock => b.type === 'actions')
        .flatMap((b) => b.elements.map((e) => (e as Button).value));
      expect(new Set(values)).toEqual(new Set([n.alarm.arn]));
      expect((await service.getThread(n.alarm.arn))?.ts).toBe(slack.posts()[0]?.ts);
    });

    it('shows INSUFFICIENT_DATA amber on the existing message', async () => {
      // prepare
      const { service, slack } = await setup();
      await service.handle([fixture('sns-cloudwatch-alarm.json')]);

      // act
      const r = await service.handle([fixture('sns-cloudwatch-insufficient.json')]);

      // assess
      expect(r).toMatchObject({ posted: 0, updated: 1 });
      const ts = slack.posts()[0]?.ts as string;
      const shown = textOf(slack.latest(ts));
      expect(shown).toContain(':large_orange_circle: *INSUFFICIENT DATA*');
      expect(shown).not.toContain(':red_circle:');
      expect((await service.getThread('arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag'))?.state).toBe('INSUFFICIENT_DATA');
    });

    it('posts an amber message when INSUFFICIENT_DATA is the first thing heard', async () => {
      // prepare
      const { service, slack } = await setup();

      // act
      const r = await service.handle([fixture('sns-cloudwatch-insufficient.json')]);

      // assess
      expect(r.posted).toBe(1);
      expect(textOf(slack.posts()[0]?.msg)).toContain(':large_orange_circle: *INSUFFICIENT DATA*');
    });

    it('records an OK it never saw alarm but posts nothing', async () => {
      // prepare
      const { service, slack, stored } = await setup();

      // act
      const r = await service.handle([fixture('sns-cloudwatch-ok.json')]);

      // assess
      expect(r).toMatchObject({ recorded: 1, posted: 0, updated: 0 });
      expect(slack.calls).toHaveLength(0);
      expect((await stored.notification('0c9a7b5e-3d1f-5e2a-8b4c-6d7e8f9a0b1c'))?.['state']).toBe('OK');
    });

    it('writes once per alarm for a batch (the last state), ordering by state change time', async () => {
      // prepare
      const { service, slack } = await setup();
      const ok = alarm({ state: 'OK', at: at(30) });
      const a1 = alarm({ at: at(0) });
      const a2 = alarm({ at: at(10) });

      // act
      const r = await service.handle([ok, a1, a2]); // delivered out of order

      // assess
      expect(slack.calls).toHaveLength(1);
      expect(r).toMatchObject({ recorded: 3, posted: 1, updated: 0 });
      expect(textOf(slack.calls[0]?.msg)).toContain('*Resolved* after 30m');
      const t = await service.getThread(a1.alarm.arn);
      expect(t).toMatchObject({ state: 'OK', count: 2, notifications: 3 });
    });

    it('ignores an ALARM older than the OK it already shows', async () => {
      // prepare
      const { service, slack } = await setup();
      await service.handle([alarm({ at: at(0) })]);
      await service.handle([alarm({ state: 'OK', at: at(20) })]);

      // act
      await service.handle([alarm({ at: at(10) })]); // late delivery

      // assess
      const t = await service.getThread('arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag');
      expect(t?.state).toBe('OK');
      expect(slack.posts()).toHaveLength(1);
    });

    it('reopens the same message when the alarm flaps, and posts a new one after a long quiet', async () => {
      // prepare
      const { service, slack } = await setup();
      await service.handle([alarm({ at: at(0) })]);
      await service.handle([alarm({ state: 'OK', at: at(20) })]);

      // act
      await service.handle([alarm({ at: at(25) })]); // 5 min later: flapping
      const afterFlap = slack.posts().length;
      await service.handle([alarm({ state: 'OK', at: at(40) })]);
      await service.handle([alarm({ at: at(40 + 180) })]); // 3 h later: a new problem

      // assess
      expect(afterFlap).toBe(1);
      expect(slack.replies()).toHaveLength(2);
      expect(slack.posts()).toHaveLength(2);
      const t = await service.getThread('arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag');
      expect(t).toMatchObject({ episode: 2, count: 1, state: 'ALARM', ts: slack.posts()[1]?.ts });
    });
  });

  describe('concurrent invocations', () => {
    it('renders a change made while another invocation is writing the message before letting go', async () => {
      // prepare
      const { service, slack } = await setup();
      await service.handle([alarm({ at: at(0) })]);
      let open!: () => void;
      let waiting = false;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const update = slack.update.bind(slack);
      slack.update = async (channel, ts, msg) => {
        waiting = true;
        await gate;
        return update(channel, ts, msg);
      };

      // act
      const a = service.handle([alarm({ at: at(5) })]); // holds the message while Slack is slow
      while (!waiting) await new Promise((r) => setImmediate(r));
      const b = await service.handle([alarm({ state: 'OK', at: at(10) })]); // finds the message busy
      open();
      const ra = await a;

      // assess
      expect(b).toMatchObject({ recorded: 1, updated: 0 });
      expect(ra.updated).toBe(2);
      const ts = slack.posts()[0]?.ts as string;
      expect(textOf(slack.latest(ts))).toContain('*Resolved* after 10m');
      expect(slack.replies()).toHaveLength(1);
    });
  });

  describe('SNS redelivery', () => {
    it('handles a MessageId once', async () => {
      // prepare
      const { service, slack, stored } = await setup();
      const n = fixture('sns-cloudwatch-alarm.json');

      // act
      const r1 = await service.handle([n]);
      const r2 = await service.handle([n]);
      const r3 = await service.handle([fixture('sns-cloudwatch-alarm.json'), fixture('sns-cloudwatch-alarm.json')]);

      // assess
      expect(r1).toMatchObject({ recorded: 1, duplicates: 0, posted: 1 });
      expect(r2).toMatchObject({ recorded: 0, duplicates: 1, posted: 0, updated: 0 });
      expect(r3).toMatchObject({ recorded: 0, duplicates: 2 });
      expect(slack.calls).toHaveLength(1);
      expect((await service.getThread(n.type === 'alarm' ? n.alarm.arn : ''))?.count).toBe(1);
      expect(await stored.notificationCount()).toBe(1);
    });

    it('counts a repeat inside one batch as a duplicate', async () => {
      // prepare
      const { service } = await setup();
      const n = fixture('sns-cloudwatch-alarm.json');

      // act
      const r = await service.handle([n, n]);

      // assess
      expect(r).toMatchObject({ recorded: 1, duplicates: 1, posted: 1 });
    });

    it('lets a redelivery retry a notification whose Slack message failed', async () => {
      // prepare
      const { service, slack, stored, logs } = await setup();
      const n = fixture('sns-cloudwatch-alarm.json');
      slack.failNext = 1;

      // act
      const r1 = await service.handle([n]);
      const r2 = await service.handle([n]);

      // assess
      expect(r1).toMatchObject({ recorded: 1, posted: 0, failed: 1 });
      expect(logs.some((l) => l.msg === 'alarm.slack_failed')).toBe(true);
      expect(r2).toMatchObject({ recorded: 1, duplicates: 0, posted: 1, failed: 0 });
      expect(slack.posts()).toHaveLength(1);
      expect((await stored.notification(n.messageId))?.['status']).toBe('done');
      expect((await service.getThread(n.type === 'alarm' ? n.alarm.arn : ''))?.count).toBe(1);
    });
  });

  describe('routing', () => {
    it('sends backup failures and critical topics to the critical channel, the rest to alerts', async () => {
      // prepare
      const { service, slack } = await setup();

      // act
      await service.handle([
        fixture('sns-lambda-errors-alarm.json'),
        fixture('sns-cloudwatch-composite.json'),
        fixture('sns-cloudwatch-alarm.json'),
        alarm({ name: 'spawn-s3-replication-failed', metric: 'OperationsFailedReplication', at: at(1) }),
        alarm({ name: 'spawn-s3-replication-lag-2', topic: 'spawn-critical', at: at(1) }),
      ]);

      // assess
      const byName = Object.fromEntries(slack.posts().map((p) => [/\*(spawn-[a-z0-9-]+)\*/.exec(textOf(p.msg))?.[1], p.channel]));
      expect(byName).toEqual({
        'spawn-backup-failures': CRITICAL,
        'spawn-dr-health': CRITICAL,
        'spawn-s3-replication-lag': ALERTS,
        'spawn-s3-replication-failed': CRITICAL,
        'spawn-s3-replication-lag-2': CRITICAL,
      });
    });

    it('falls back to alerts when no critical channel is configured', async () => {
      // prepare
      const { service, slack } = await setup({ config: config({ ops: 'COPS', alerts: ALERTS }) });

      // act
      await service.handle([fixture('sns-lambda-errors-alarm.json')]);

      // assess
      expect(slack.posts()[0]?.channel).toBe(ALERTS);
    });
  });

  describe('notices', () => {
    it.each(['sns-backup-job-event.json', 'sns-eventbridge-event.json', 'sns-plain-text.json', 'sns-malformed-json.json', 'sns-oversized.json'])(
      'posts %s to alerts as a notice, records and logs it',
      async (file) => {
        // prepare
        const { service, slack, stored, logs } = await setup();
        const n = fixture(file) as NoticeNotification;

        // act
        const r = await service.handle([n]);

        // assess
        expect(r).toMatchObject({ recorded: 1, notices: 1, posted: 1 });
        expect(slack.posts(ALERTS)).toHaveLength(1);
        expect(textOf(slack.posts()[0]?.msg)).toContain(file === 'sns-backup-job-event.json' ? '*AWS Backup job FAILED*' : '*Notice*');
        const rec = await stored.notification(n.messageId);
        expect(rec).toMatchObject({ type: 'notice', reason: n.reason, rawBytes: Buffer.byteLength(n.raw, 'utf8') });
        expect(rec).toMatchObject({ raw: n.raw, rawTruncated: false });
        expect(logs.find((l) => l.msg === 'alarm.notice')?.extra).toMatchObject({ messageId: n.messageId, reason: n.reason });
      },
    );
  });

  it('keeps the start of a message too big for SNS (and the table) and says so', async () => {
    // prepare
    const { service, stored } = await setup();
    const n = { ...(fixture('sns-plain-text.json') as NoticeNotification), raw: '€'.repeat(200_000) };

    // act
    await service.handle([n]);

    // assess
    const rec = await stored.notification(n.messageId);
    expect(rec).toMatchObject({ rawTruncated: true, rawBytes: 600_000 });
    expect(typeof rec?.['raw']).toBe('string');
    expect(Buffer.byteLength(rec?.['raw'] as string, 'utf8')).toBeLessThanOrEqual(300_000);
  });

  describe('storms', () => {

    it('turns 500 notifications across 20 alarms delivered at once into a digest per channel', async () => {
      // prepare
      const { service, slack, stored, logs } = await setup();
      const { notifications, expected } = storm();

      // act
      const r = await service.handle(notifications);

      // assess
      expect(r.recorded).toBe(500);
      expect(await stored.notificationCount()).toBe(500);
      expect(slack.posts(ALERTS).length).toBeLessThanOrEqual(5);
      expect(slack.posts(CRITICAL).length).toBeLessThanOrEqual(5);
      expect(slack.calls.length).toBeLessThanOrEqual(4);
      expect(r.digests).toBeGreaterThanOrEqual(2);
      await expectFinalStates(service, expected);
      const digest = slack.latest(slack.posts(CRITICAL)[0]?.ts as string);
      expect(textOf(digest)).toContain('*Alarm storm*: 10 alarms, *250 notifications recorded*');
      expect(logs.filter((l) => l.msg === 'alarm.storm').map((l) => l.extra?.['channel']).sort()).toEqual([ALERTS, CRITICAL]);
    }, STORM_TIMEOUT_MS);

    it('shows every alarm final state in the digest', async () => {
      // prepare
      const { service, slack } = await setup();
      const { notifications, expected } = storm();

      // act
      await service.handle(notifications);

      // assess
      const counts = { ALARM: 0, OK: 0, INSUFFICIENT_DATA: 0 };
      for (const s of expected.values()) counts[s] += 1;
      const shown = [ALERTS, CRITICAL].map((c) => textOf(slack.latest(slack.posts(c)[0]?.ts as string))).join('\n');
      const sum = (re: RegExp) => [...shown.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
      expect(sum(/:red_circle: \*ALARM\*\n(\d+)/g)).toBe(counts.ALARM);
      expect(sum(/:large_green_circle: \*Resolved\*\n(\d+)/g)).toBe(counts.OK);
      expect(sum(/:large_orange_circle: \*INSUFFICIENT DATA\*\n(\d+)/g)).toBe(counts.INSUFFICIENT_DATA);
    }, STORM_TIMEOUT_MS);

    it('keeps posting individually below the threshold', async () => {
      // prepare
      const { service, slack } = await setup({ stormThreshold: 5 });
      const five = Array.from({ length: 5 }, (_, i) => alarm({ name: `quiet-${i}`, at: at(i) }));

      // act
      const r = await service.handle(five);

      // assess
      expect(r.posted).toBe(5);
      expect(r.digests).toBe(0);
      expect(slack.posts(ALERTS)).toHaveLength(5);
    });

    it('counts new posts across invocations in the rate window', async () => {
      // prepare
      const { service, slack } = await setup({ stormThreshold: 3 });

      // act
      for (let i = 0; i < 6; i++) await service.handle([alarm({ name: `rolling-${i}`, at: at(0) })]);

      // assess
      expect(slack.posts(ALERTS)).toHaveLength(4); // three alarms, then one digest
      expect(textOf(slack.latest(slack.posts(ALERTS)[3]?.ts as string))).toContain('*Alarm storm*: 3 alarms');
    });

    it('puts notices into the digest during a storm and still records them', async () => {
      // prepare
      const { service, slack, stored } = await setup({ stormThreshold: 2 });
      const notices = ['sns-plain-text.json', 'sns-backup-job-event.json', 'sns-eventbridge-event.json'].map(fixture);

      // act
      const r = await service.handle(notices);

      // assess
      expect(r).toMatchObject({ recorded: 3, notices: 3, posted: 0, digests: 1 });
      expect(await stored.notificationCount()).toBe(3);
      expect(textOf(slack.posts(ALERTS)[0]?.msg)).toContain('*3 other notices* (not alarms)');
    });

    it('gives a still-firing digest member its own message once the storm is over', async () => {
      // prepare
      const { service, slack, setNow } = await setup({ stormThreshold: 2, stormQuietMs: 10 * 60_000 });
      await service.handle(Array.from({ length: 3 }, (_, i) => alarm({ name: `wave-${i}`, at: at(0) })));
      expect(slack.posts(ALERTS)).toHaveLength(1); // the digest

      // act
      setNow(at(30));
      await service.handle([alarm({ name: 'wave-0', at: at(30) })]);

      // assess
      expect(slack.posts(ALERTS)).toHaveLength(2);
      expect(textOf(slack.posts(ALERTS)[1]?.msg)).toContain('*ALARM* *wave-0* (×2)');
    });
  });

  describe('acknowledge', () => {
    it('records who and when, and shows it on the message', async () => {
      // prepare
      const { service, slack, setNow } = await setup();
      const n = fixture('sns-cloudwatch-alarm.json') as AlarmNotification;
      await service.handle([n]);
      setNow(at(3));

      // act
      const t = await service.acknowledge(n.alarm.arn, 'UCAROL');

      // assess
      expect(t.acknowledgedBy).toBe('UCAROL');
      expect(t.acknowledgedAt?.toISOString()).toBe(at(3).toISOString());
      const ts = slack.posts()[0]?.ts as string;
      expect(textOf(slack.latest(ts))).toContain('Acknowledged by <@UCAROL>');
      expect(buttonIds(slack.latest(ts))).not.toContain(ALARM_ACTIONS.ack);
    });

    it('keeps the first acknowledgement on a double click or a second person', async () => {
      // prepare
      const { service, slack, setNow } = await setup();
      const n = fixture('sns-cloudwatch-alarm.json') as AlarmNotification;
      await service.handle([n]);
      await service.acknowledge(n.alarm.arn, 'UCAROL');
      const updates = slack.updates().length;
      setNow(at(9));

      // act
      const t = await service.acknowledge(n.alarm.arn, 'UALICE');

      // assess
      expect(t.acknowledgedBy).toBe('UCAROL');
      expect(t.acknowledgedAt?.toISOString()).toBe(at(0).toISOString());
      expect(slack.updates()).toHaveLength(updates);
    });

    it('keeps the acknowledgement across a repeated ALARM and clears it when the alarm reopens', async () => {
      // prepare
      const { service, slack } = await setup();
      const arn = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag';
      await service.handle([alarm({ at: at(0) })]);
      await service.acknowledge(arn, 'UCAROL');

      // act
      await service.handle([alarm({ at: at(5) })]);
      const repeated = await service.getThread(arn);
      await service.handle([alarm({ state: 'OK', at: at(10) })]);
      await service.handle([alarm({ at: at(12) })]);

      // assess
      expect(repeated?.acknowledgedBy).toBe('UCAROL');
      expect((await service.getThread(arn))?.acknowledgedBy).toBeUndefined();
      expect(buttonIds(slack.latest(slack.posts()[0]?.ts as string))).toContain(ALARM_ACTIONS.ack);
    });

    it('refuses an unknown thread with unknown_alarm', async () => {
      // prepare
      const { service } = await setup();

      // act
      const err = await service.acknowledge('arn:aws:cloudwatch:us-east-1:123456789012:alarm:nope', 'UCAROL').catch((e: unknown) => e);

      // assess
      expect(err).toBeInstanceOf(DrbotError);
      expect((err as DrbotError).code).toBe('unknown_alarm');
    });
  });
});
