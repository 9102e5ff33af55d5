import fc from 'fast-check';
import { wasThrottled } from '../../src/errors';
import { AdaptiveConcurrency, AdaptiveWindows, partitionOf } from '../../src/util/aimd';

/* Issue 13: S3 work backs off on SlowDown and climbs back (AIMD), per prefix. */

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AdaptiveConcurrency', () => {
  it('never has more tasks in flight than its limit, which starts at the initial window', async () => {
    // prepare
    const w = new AdaptiveConcurrency({ initial: 3, max: 10 });
    const gates = Array.from({ length: 8 }, deferred);
    let peak = 0;

    // act
    const all = gates.map((g) =>
      w.run(async () => {
        peak = Math.max(peak, w.inFlight);
        await g.promise;
      }),
    );
    await tick();
    const started = w.inFlight;
    for (const g of gates) g.resolve();
    await Promise.all(all);

    // assess
    expect(started).toBe(3);
    expect(peak).toBe(3);
    expect(w.inFlight).toBe(0);
  });

  it('halves on a throttled answer, once for a burst of them, and not below the floor', () => {
    // prepare
    const w = new AdaptiveConcurrency({ initial: 16, min: 2, max: 32 });

    // act: a burst of 16 SlowDowns from one overload
    const limits: number[] = [];
    for (let i = 0; i < 16; i++) {
      w.answered(true);
      limits.push(w.limit);
    }
    const afterBurst = w.limit;
    // then three more windows' worth of throttling
    for (let i = 0; i < 100; i++) {
      w.answered(true);
      limits.push(w.limit);
    }

    // assess
    expect(afterBurst).toBe(8);
    expect(w.limit).toBe(2);
    expect(Math.min(...limits)).toBe(2);
    expect(Math.max(...limits)).toBe(8);
  });

  it('climbs back by about one per window of answers, up to its ceiling', () => {
    // prepare
    const w = new AdaptiveConcurrency({ initial: 4, max: 6 });

    // act: five answers at a window of 4 (+1/4, +1/4.25, …) add a call
    for (let i = 0; i < 5; i++) w.answered(false);
    const oneWindow = w.limit;
    for (let i = 0; i < 1000; i++) w.answered(false);

    // assess
    expect(oneWindow).toBe(5);
    expect(w.limit).toBe(6);
  });

  it('lets waiting tasks in as the window widens', async () => {
    // prepare: a window of 1 with three tasks waiting on it
    const w = new AdaptiveConcurrency({ initial: 1, max: 4 });
    const first = deferred();
    const order: number[] = [];
    const running = [
      w.run(async () => {
        order.push(0);
        await first.promise;
      }),
      ...[1, 2].map((i) =>
        w.run(async () => {
          order.push(i);
        }),
      ),
    ];
    await tick();
    expect(order).toEqual([0]);

    // act: answers widen the window to 2 while the first is still in flight
    w.answered(false);
    w.answered(false);
    await tick();

    // assess
    expect(w.limit).toBe(2);
    expect(order).toEqual([0, 1, 2]);
    first.resolve();
    await Promise.all(running);
  });

  it('stays within its bounds for any sequence of answers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.array(fc.boolean(), { maxLength: 500 }), (a, b, answers) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const w = new AdaptiveConcurrency({ initial: max, min, max });
        for (const t of answers) {
          w.answered(t);
          if (w.limit < min || w.limit > max) return false;
        }
        return true;
      }),
    );
  });
});

describe('AdaptiveWindows', () => {
  it('keeps one window per prefix: throttling in one leaves the others alone', () => {
    // prepare
    const ws = new AdaptiveWindows({ initial: 8, max: 16 });

    // act
    for (let i = 0; i < 8; i++) ws.for('logs/').answered(true);
    ws.for('bin/').answered(false);

    // assess
    expect(ws.for('logs/').limit).toBe(4);
    expect(ws.for('bin/').limit).toBe(8);
    expect(ws.for('logs/')).toBe(ws.for('logs/'));
  });
});

describe('partitionOf and wasThrottled', () => {
  it('takes a key up to its first slash as its prefix', () => {
    expect(partitionOf('data/part-1/obj')).toBe('data/');
    expect(partitionOf('flat-key')).toBe('');
    expect(partitionOf('/lead')).toBe('/');
  });

  it('counts SlowDown, throttling and 503 errors, and successes the SDK retried, as throttled', () => {
    expect(wasThrottled(undefined, Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }))).toBe(true);
    expect(wasThrottled(undefined, { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(wasThrottled(undefined, { name: 'DrbotError', code: 'aws_throttled' })).toBe(true);
    expect(wasThrottled(undefined, { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(wasThrottled(undefined, { name: 'S3ServiceException', Code: 'SlowDown' })).toBe(true);
    expect(wasThrottled(undefined, { name: 'Error', code: 'SlowDown' })).toBe(true);
    expect(wasThrottled(undefined, { name: 'DrbotError', code: 'aws_access_denied' })).toBe(false);
    expect(wasThrottled(undefined, { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(wasThrottled({ $metadata: { attempts: 3 } })).toBe(true);
    expect(wasThrottled({ $metadata: { attempts: 1 } })).toBe(false);
    expect(wasThrottled({ $metadata: {} })).toBe(false);
  });
});
