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
// 2,400 versions: three pages of ListObjectVersions, so DeleteObjects runs while pages are still to be listed.
const COUNT = 1200;
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: DENIED }, { name: FLAKY }] } }, 'undelete faults config');

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

  it('listing-fails-once-mid-undelete: the run retries, restores every object, and reports the exact count', async () => {
    // prepare
    const s3 = stack.clients.s3('us-east-1');
    await deletedObjects(s3, FLAKY, COUNT, bulk());
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${FLAKY}`);
    // the plan has listed; the second listing of the execution (after one page was deleted) fails once
    let listings = 0;
    const undo = fail(s3, 'ListObjectVersionsCommand', { name: 'InternalError', status: 500, message: 'We encountered an internal error. Please try again.' }, { when: () => ++listings === 2 });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await latestMarkerKeys(s3, FLAKY)).toEqual([]);
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain(`Restored *${COUNT.toLocaleString('en-US')}* objects`);
    expect(final).toContain('no restorable delete markers remain');
  });
});
