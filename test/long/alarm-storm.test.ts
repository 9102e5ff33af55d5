import type { AlarmState } from '../../src/alarms/model';
import { ALERTS, CRITICAL, alarmServiceSetup, expectFinalStates, storm, STORM_TIMEOUT_MS, textOf } from '../helpers/alarm-service';
import { useDynalite } from '../helpers/dynalite';

/*
 * The alarm storm as Lambda delivers it: 500 concurrent invocations of the alarm service, over the
 * DynamoDB store on dynalite. Several thousand conditional writes on 20 hot threads take tens of
 * seconds, so these two proofs are in the long set; the one-batch storms stay in
 * test/integration/alarm-service.test.ts.
 */

const db = useDynalite();
const setup = alarmServiceSetup(db);

describe('alarm storms as concurrent invocations (long)', () => {

  it('survives the same storm as 500 concurrent invocations, as Lambda delivers it', async () => {
    // prepare
    const { service, slack, store, stored } = await setup();
    const { notifications, expected } = storm();

    // act
    const results = await Promise.all(notifications.map((n) => service.handle([n])));

    // assess
    expect(results.reduce((n, r) => n + r.recorded, 0)).toBe(500);
    expect(results.reduce((n, r) => n + r.failed, 0)).toBe(0);
    expect(await stored.notificationCount()).toBe(500);
    expect(slack.posts(ALERTS).length).toBeGreaterThan(0);
    expect(slack.posts(CRITICAL).length).toBeGreaterThan(0);
    expect(slack.posts(ALERTS).length).toBeLessThanOrEqual(6);
    expect(slack.posts(CRITICAL).length).toBeLessThanOrEqual(6);
    await expectFinalStates(service, expected);
    const threads = await stored.threads();
    // whatever got its own message shows its final state
    for (const t of threads) {
      if (!t.ts) continue;
      const shown = textOf(slack.latest(t.ts));
      const word = t.state === 'OK' ? '*Resolved*' : t.state === 'ALARM' ? '*ALARM*' : '*INSUFFICIENT DATA*';
      expect({ alarm: t.alarm.name, shows: shown.includes(word) }).toEqual({ alarm: t.alarm.name, shows: true });
    }
    // ten alarms a channel at once pass the threshold: each channel has a digest, posted and showing its members
    for (const channel of [ALERTS, CRITICAL]) {
      const digest = await store.getDigest(channel);
      const members = threads.filter((t) => t.digest?.channel === channel && t.digest.id === digest?.id);
      expect(members.length).toBeGreaterThan(0);
      expect(digest?.ts).toBeDefined();
      expect(slack.posts(channel).map((p) => p.ts)).toContain(digest?.ts);
      expect(textOf(slack.latest(digest?.ts as string))).toContain(`*Alarm storm*: ${members.length} alarms`);
    }
  }, STORM_TIMEOUT_MS);

  it('keeps every message right when concurrent invocations interleave at random', async () => {
    // prepare
    const { service, slack, stored } = await setup();
    const { notifications, expected } = storm();
    const ticks = (n: number) => new Promise<void>((resolve) => {
      const step = (left: number) => (left <= 0 ? resolve() : setImmediate(() => step(left - 1)));
      step(n);
    });

    // act
    // a fixed pseudo-random stagger, so invocations are not in lockstep
    await Promise.all(notifications.map(async (n, i) => {
      await ticks((i * 7919) % 97);
      return service.handle([n]);
    }));

    // assess
    expect(await stored.notificationCount()).toBe(500);
    expect(slack.posts(ALERTS).length).toBeLessThanOrEqual(6);
    expect(slack.posts(CRITICAL).length).toBeLessThanOrEqual(6);
    await expectFinalStates(service, expected);
    const threads = await stored.threads();
    for (const t of threads.filter((x) => x.ts)) {
      const word = t.state === 'OK' ? '*Resolved*' : t.state === 'ALARM' ? '*ALARM*' : '*INSUFFICIENT DATA*';
      expect({ alarm: t.alarm.name, shows: textOf(slack.latest(t.ts as string)).includes(word) }).toEqual({ alarm: t.alarm.name, shows: true });
    }
    for (const channel of [ALERTS, CRITICAL]) {
      const digest = slack.posts(channel).find((p) => textOf(p.msg).includes('*Alarm storm*'));
      const members = threads.filter((t) => t.digest?.channel === channel);
      const shown = textOf(slack.latest(digest?.ts as string));
      expect(shown).toContain(`*Alarm storm*: ${members.length} alarms`);
      expect(shown).toContain(`:red_circle: *ALARM*\n${members.filter((t) => t.state === 'ALARM').length}`);
      expect(shown).toContain(`:large_green_circle: *Resolved*\n${members.filter((t) => t.state === 'OK').length}`);
    }
  }, STORM_TIMEOUT_MS);
});
