import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { listObjectsIndex } from '../../src/aws/s3';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { approvedRun, deleteKeys, latestMarkerKeys, runSummary, useLocalStack } from '../helpers/flow';

/**
 * The undelete runbook on the durable SDK's local runner against moto, driven through the real
 * Bolt app (alice requests, bob approves), at 5,000 objects: every one restored, verified by
 * listing, with progress in the run's own message. In `npm test` (issue 13): the scale benchmark
 * (`npm run bench -- scale`) times 100,000, and this proves the same path correct on every change.
 */

const BIG = 'drbot-it-undelete-5k';
const BIG_COUNT = 5000;

const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: BIG }] } }, 'undelete 5,000 test config');

describe('restore s3 (undelete) at 5,000 objects', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  const s3 = (region = 'us-east-1'): S3Client => stack.clients.s3(region);

  // A correctness proof, not a timing (the bench times the same path at 100,000).
  it('restores and verifies 5,000 deleted objects, reporting progress in the run message', async () => {
    // prepare
    const keys = Array.from({ length: BIG_COUNT }, (_, i) => `objects/${String(i).padStart(5, '0')}.bin`);
    await s3().send(new CreateBucketCommand({ Bucket: BIG }));
    await s3().send(new PutBucketVersioningCommand({ Bucket: BIG, VersioningConfiguration: { Status: 'Enabled' } }));
    // Written through moto's own backend in batches (the seed's bulk call), not 5,000 PutObjects.
    const putMany = stack.moto?.putMany;
    if (!putMany) throw new Error('the sandbox moto has no bulk put');
    for (let i = 0; i < keys.length; i += 1000) await putMany(BIG, keys.slice(i, i + 1000).map((key) => ({ key, body: `body of ${key}` })));
    await deleteKeys(s3(), BIG, keys);
    expect(await latestMarkerKeys(s3(), BIG)).toHaveLength(BIG_COUNT);

    // act
    const { runId, plan, result, ts } = await approvedRun(stack, `restore s3 ${BIG}`);

    // assess: the plan, the bucket, the message
    expect(plan).toMatch(/\*5,000\* deleted objects will be restored/);
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(await latestMarkerKeys(s3(), BIG)).toEqual([]);
    const listed = await listObjectsIndex(s3(), BIG);
    expect([...listed.keys()].sort()).toEqual(keys);
    expect(result).toContain('Done');
    expect(result).toMatch(/Restored \*5,000\* objects/);
    expect(result).toContain('Verified by listing: no restorable delete markers remain');

    // assess: progress went into the same message, including a count part way through
    const progress = stack.standIn
      .callsOf('chat.update')
      .filter((c) => c.args.ts === ts)
      .map((c) => JSON.stringify(c.args.blocks ?? ''))
      .map((b) => /restored ([\d,]+) \/ 5,000/.exec(b)?.[1])
      .filter((n): n is string => n !== undefined)
      .map((n) => Number(n.replace(/,/g, '')));
    expect(progress).toContain(BIG_COUNT);
    expect(progress.some((n) => n > 0 && n < BIG_COUNT)).toBe(true);
  }, 600_000);

});
