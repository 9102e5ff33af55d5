import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { fail } from '../helpers/faults';
import { click, deletedObjects, latestMarkerKeys, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Faults in the middle of an undelete, injected as SDK middleware on the runbook's own S3 client
 * (moto neither throttles nor enforces IAM): the run must end in a final state that tells the
 * truth, the process must see no unobserved rejection, and the counts must be exact.
 */

const DENIED = 'drbot-it-denied';
const FLAKY = 'drbot-it-flaky';
const ONCE = 'drbot-it-once';
const PARTIAL = 'drbot-it-partial';
const THROTTLED = 'drbot-it-throttled';
// 2,400 versions: three pages of ListObjectVersions, and 1,200 markers: two DeleteObjects calls (1,000 and 200).
const COUNT = 1200;
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: DENIED }, { name: FLAKY }, { name: ONCE }, { name: PARTIAL }, { name: THROTTLED }] } }, 'undelete faults config');

describe('undelete when AWS fails mid-run', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  const unhandled: unknown[] = [];
  const record = (e: unknown) => unhandled.push(e);
  beforeAll(() => {
    stack = getStack();
    process.on('unhandledRejection', record);
  });
  afterAll(() => {
    process.off('unhandledRejection', record);
  });
  const bulk = () => (stack.moto?.putMany ? { putMany: stack.moto.putMany } : {});

  it('deleteobjects-denied-while-listing: the run fails saying DeleteObjects was denied, with no unobserved rejection, and nothing is restored', async () => {
    // prepare
    const s3 = stack.clients.s3('us-east-1');
    const keys = await deletedObjects(s3, DENIED, COUNT, bulk());
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${DENIED} --prefix bin/`);
    const undo = fail(s3, 'DeleteObjectsCommand', { name: 'AccessDenied', message: 'Access Denied', status: 403 });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain(`DeleteObjects on \`${DENIED}\` failed: Access Denied`);
    expect(final).toContain("Grant the bot's role permission for `DeleteObjects`");
    expect(await latestMarkerKeys(s3, DENIED)).toEqual(keys);
  });

  it('listing-fails-once-while-planning: the plan step retries, and the run restores every object with the exact count', async () => {
    // prepare
    const s3 = stack.clients.s3('us-east-1');
    await deletedObjects(s3, FLAKY, COUNT, bulk());
    // the plan's second page fails once
    let listings = 0;
    const undo = fail(s3, 'ListObjectVersionsCommand', { name: 'InternalError', status: 500, message: 'We encountered an internal error. Please try again.' }, { when: () => ++listings === 2 });
    let runId: string;
    let message;
    try {
      ({ runId, message } = await requestRun(stack, 'alice', `restore s3 ${FLAKY}`));
    } finally {
      undo();
    }

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(listings).toBeGreaterThan(2);
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await latestMarkerKeys(s3, FLAKY)).toEqual([]);
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain(`Restored *${COUNT.toLocaleString('en-US')}* objects`);
    expect(final).toContain('no restorable delete markers remain');
  });

  it('deleteobjects-fails-once-mid-undelete: the failed batch goes again in a new step, and the count is exact (not 1,000 counted twice)', async () => {
    // prepare: 1,200 markers are two DeleteObjects calls, of 1,000 and 200; the second fails once with a 500
    const s3 = stack.clients.s3('us-east-1');
    await deletedObjects(s3, ONCE, COUNT, bulk());
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${ONCE}`);
    const sizes: number[] = [];
    let failed = false;
    const undo = fail(s3, 'DeleteObjectsCommand', { name: 'InternalError', status: 500, message: 'We encountered an internal error. Please try again.' }, {
      when: (i) => {
        const n = (i.Delete as { Objects: unknown[] }).Objects.length;
        sizes.push(n);
        if (n !== 200 || failed) return false;
        failed = true;
        return true;
      },
    });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess: the 200 were sent twice, the 1,000 once
    expect(sizes.sort((a, b) => a - b)).toEqual([200, 200, 1000]);
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await latestMarkerKeys(s3, ONCE)).toEqual([]);
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain(`Restored *${COUNT.toLocaleString('en-US')}* objects`);
    expect(final).toContain('no restorable delete markers remain');
  });

  it('deleteobjects-throttled: SlowDown on every call at first; the run backs off, goes on, and restores every object once', async () => {
    // prepare: the first three DeleteObjects calls of the run answer SlowDown (503)
    const s3 = stack.clients.s3('us-east-1');
    await deletedObjects(s3, THROTTLED, COUNT, bulk());
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${THROTTLED}`);
    const undo = fail(s3, 'DeleteObjectsCommand', { name: 'SlowDown', status: 503, message: 'Please reduce your request rate.' }, { times: 3 });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
    expect(await latestMarkerKeys(s3, THROTTLED)).toEqual([]);
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain(`Restored *${COUNT.toLocaleString('en-US')}* objects`);
    expect(final).toContain('no restorable delete markers remain');
  });

  it('deleteobjects-denied-after-one-batch: the run fails with the exact count restored, and the verify listing names what is left', async () => {
    // prepare: the batch of 200 is denied, every time
    const s3 = stack.clients.s3('us-east-1');
    const keys = await deletedObjects(s3, PARTIAL, COUNT, bulk());
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${PARTIAL}`);
    const undo = fail(s3, 'DeleteObjectsCommand', { name: 'AccessDenied', message: 'Access Denied', status: 403 }, { when: (i) => (i.Delete as { Objects: unknown[] }).Objects.length === 200 });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess: AWS's end state, and the message telling it exactly
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(await latestMarkerKeys(s3, PARTIAL)).toEqual(keys.slice(1000));
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain('Restored *1,000* objects');
    expect(final).toContain(`❌ Stopped: DeleteObjects on \`${PARTIAL}\` failed: Access Denied`);
    expect(final).toContain('Verified by listing: 200 of the planned delete markers still hide objects');
  });
});
