import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { listObjectsIndex } from '../../src/aws/s3';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { rewrite } from '../helpers/faults';
import { approvedRun, eachLimit, runSummary, useLocalStack } from '../helpers/flow';

/*
 * Copy-back of more than one step (the runbook starts at most 2,000 copies a step, then goes on
 * after the last key it dealt with): every missing and different object copied exactly once, the
 * counts exact, the primary equal to the replica afterwards. Against moto.
 */

const PRIMARY = 'drbot-it-copyback-big';
const REPLICA = 'drbot-it-copyback-big-replica';
const MISSING = 2100;
const DIFFERENT = 40;
const SAME = 60;
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: PRIMARY, replica: { bucket: REPLICA, region: 'us-west-2' } }] } }, 'copy-back 2000 config');

describe('restore s3 --from-replica of more than 2,000 objects', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 1000 });
  let stack: LocalStack;

  beforeAll(async () => {
    stack = getStack();
    const east = stack.clients.s3('us-east-1');
    const west = stack.clients.s3('us-west-2');
    await east.send(new CreateBucketCommand({ Bucket: PRIMARY }));
    await east.send(new PutBucketVersioningCommand({ Bucket: PRIMARY, VersioningConfiguration: { Status: 'Enabled' } }));
    await west.send(new CreateBucketCommand({ Bucket: REPLICA, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    await west.send(new PutBucketVersioningCommand({ Bucket: REPLICA, VersioningConfiguration: { Status: 'Enabled' } }));
    const key = (i: number) => `data/${String(i).padStart(5, '0')}`;
    const all = Array.from({ length: MISSING + DIFFERENT + SAME }, (_, i) => i);
    await eachLimit(all, 32, async (i) => {
      await west.send(new PutObjectCommand({ Bucket: REPLICA, Key: key(i), Body: `replica ${i}` }));
    });
    // the primary has the last DIFFERENT + SAME keys: DIFFERENT of them with other bytes of the same size
    await eachLimit(all.slice(MISSING), 32, async (i) => {
      await east.send(new PutObjectCommand({ Bucket: PRIMARY, Key: key(i), Body: i < MISSING + DIFFERENT ? `primary ${i}` : `replica ${i}` }));
    });
  }, 180_000);

  it('copies each of the 2,140 objects once (more than the 2,000 one round copies), and the primary then equals the replica', async () => {
    // prepare: count the copies that reach S3, by key
    const copies = new Map<string, number>();
    const undo = rewrite<object>(stack.clients.s3('us-east-1'), 'CopyObjectCommand', (out, input) => {
      const k = String((input as { Key?: string }).Key);
      copies.set(k, (copies.get(k) ?? 0) + 1);
      return out;
    });

    // act
    let run: Awaited<ReturnType<typeof approvedRun>>;
    try {
      run = await approvedRun(stack, `restore s3 ${PRIMARY} --from-replica`);
    } finally {
      undo();
    }

    // assess
    expect(run.plan).toMatch(/\*2,100\* missing and \*40\* different objects will be copied/);
    expect(runSummary(stack, run.runId)?.status).toBe('succeeded');
    expect(copies.size).toBe(MISSING + DIFFERENT);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(run.result).toMatch(/Copied \*2,140\* objects/);
    const primary = await listObjectsIndex(stack.clients.s3('us-east-1'), PRIMARY);
    const replica = await listObjectsIndex(stack.clients.s3('us-west-2'), REPLICA);
    expect([...primary.entries()].map(([k, o]) => [k, o.etag, o.size])).toEqual([...replica.entries()].map(([k, o]) => [k, o.etag, o.size]));
  }, 300_000);
});
