import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { listObjectsIndex } from '../../src/aws/s3';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { fail, rewrite } from '../helpers/faults';
import { click, executionOf, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 13: copy-back walks both listings once, merged by key, and checkpoints where it got to.
 * Faults in the middle of it, injected as SDK middleware on the runbook's own S3 clients (moto
 * neither throttles nor enforces IAM): the counts stay exact, nothing is copied twice, and the
 * run ends in a final state that tells the truth.
 */

const FLAKY = 'drbot-it-cb-flaky';
const FLAKY_REPLICA = 'drbot-it-cb-flaky-replica';
const DENIED = 'drbot-it-cb-denied';
const DENIED_REPLICA = 'drbot-it-cb-denied-replica';
const COUNT = 1200;
const config = parseConfig(
  {
    ...SANDBOX_CONFIG,
    s3: {
      buckets: [
        ...SANDBOX_CONFIG.s3.buckets,
        { name: FLAKY, replica: { bucket: FLAKY_REPLICA, region: 'us-west-2' } },
        { name: DENIED, replica: { bucket: DENIED_REPLICA, region: 'us-west-2' } },
      ],
    },
  },
  'copy-back faults config',
);

describe('copy-back when AWS fails mid-run', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  /** A versioned primary that is empty, and its replica holding `n` objects. */
  async function emptied(primary: string, replica: string, n: number): Promise<string[]> {
    const east = stack.clients.s3('us-east-1');
    const west = stack.clients.s3('us-west-2');
    await east.send(new CreateBucketCommand({ Bucket: primary }));
    await east.send(new PutBucketVersioningCommand({ Bucket: primary, VersioningConfiguration: { Status: 'Enabled' } }));
    await west.send(new CreateBucketCommand({ Bucket: replica, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    const keys = Array.from({ length: n }, (_, i) => `data/${String(i).padStart(5, '0')}`);
    const putMany = stack.moto?.putMany;
    if (!putMany) throw new Error('the sandbox moto has no bulk put');
    await putMany(replica, keys.map((key) => ({ key, body: `replica ${key}` })));
    return keys;
  }

  it('listing-fails-mid-copy-back: the step keeps what it copied, the run goes on after the last key, and each object is copied once', async () => {
    // prepare: the replica's second page (after 1,000 keys) fails once, during the approved run
    const keys = await emptied(FLAKY, FLAKY_REPLICA, COUNT);
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${FLAKY} --from-replica`);
    const west = stack.clients.s3('us-west-2');
    const east = stack.clients.s3('us-east-1');
    const undo = fail(west, 'ListObjectsV2Command', { name: 'InternalError', status: 500, message: 'We encountered an internal error. Please try again.' }, {
      when: (i) => i.Bucket === FLAKY_REPLICA && i.ContinuationToken !== undefined,
      times: 1,
    });
    const copies = new Map<string, number>();
    const unrecord = rewrite<object>(east, 'CopyObjectCommand', (out, input) => {
      const k = String((input as { Key?: string }).Key);
      copies.set(k, (copies.get(k) ?? 0) + 1);
      return out;
    });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
      unrecord();
    }

    // assess: the first step stopped at the failed page with its 1,000 copies kept; a second went on after them
    const steps = (executionOf(stack, runId)?.getOperations() ?? []).filter((o) => /^copy-\d+$/.test(o.getName() ?? ''));
    const copied = steps.map((o) => (o.getStepDetails()?.result as { value: { copied: number; last: string } }).value);
    expect(copied.map((c) => [c.copied, c.last])).toEqual([
      [1000, keys[999]],
      [200, keys[1199]],
    ]);
    // assess: AWS's end state, each key copied once
    expect([...copies.keys()].sort()).toEqual(keys);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect([...(await listObjectsIndex(east, FLAKY)).keys()].sort()).toEqual(keys);
    // assess: the message and the record
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain('Copied *1,200* objects');
    expect(final).toContain('every replica object is present and identical in the primary');
  });

  it('copyobject-denied: the run fails saying so, nothing is copied, and it stops instead of trying every key', async () => {
    // prepare: 3,000 objects are two steps' worth; every copy is denied
    const keys = await emptied(DENIED, DENIED_REPLICA, 3000);
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${DENIED} --from-replica`);
    const east = stack.clients.s3('us-east-1');
    let tried = 0;
    const undo = fail(east, 'CopyObjectCommand', { name: 'AccessDenied', message: 'Access Denied', status: 403 }, {
      when: () => {
        tried++;
        return true;
      },
    });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess: one step's copies were tried, none made
    expect(tried).toBe(2000);
    expect((await listObjectsIndex(east, DENIED)).size).toBe(0);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain('Copied *0* objects');
    expect(final).toContain('Stopped after 2,000 copies failed and none succeeded in the last step.');
    expect(final).toContain(`Verified by listing both buckets: ${keys.length.toLocaleString('en-US')} still missing, 0 still different.`);
    expect(final).toContain('2,000 copies failed; the first 200 are listed.');
    expect(final).toContain(`${keys[0]}: CopyObject on \`${DENIED}/${keys[0]}\` failed: Access Denied`);
  });
});
