import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MiddlewareStack } from '@smithy/types';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { SLICE_BYTES } from '../../src/runbooks/restore-s3/undelete';
import { countTries } from '../helpers/faults';
import { click, deletedObjects, deleteKeys, executionOf, latestMarkerKeys, nextSecond, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 13: the undelete lists the bucket once to plan. The plan's markers are the work list,
 * kept in checkpointed slices; execute deletes from them and verifies with one listing, which
 * reports what changed between the plan and the approval.
 */

const ONCE = 'drbot-it-plan-once';
const CHANGED = 'drbot-it-plan-changed';
const LONG = 'drbot-it-plan-long-keys';
const PARTS = 'drbot-it-plan-partitions';
const COUNT = 1200;
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: ONCE }, { name: CHANGED }, { name: LONG }, { name: PARTS }] } }, 'undelete plan-once config');
type Stacked = { middlewareStack: MiddlewareStack<object, object> };
/** The durable SDK's limit on one checkpoint. */
const CHECKPOINT_LIMIT = 256 * 1024;

describe('undelete: the plan is the work list', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  const bulk = () => (stack.moto?.putMany ? { putMany: stack.moto.putMany } : {});

  it('lists the bucket once to plan and once to verify, and shows the listing in the message while planning', async () => {
    // prepare: 1,200 objects and their markers are 2,400 versions, three pages a listing
    const s3 = stack.clients.s3('us-east-1');
    await deletedObjects(s3, ONCE, COUNT, bulk());
    const lists = countTries(s3, 'ListObjectVersionsCommand');

    // act
    let message;
    let runId: string;
    let planned: number;
    try {
      ({ runId, message } = await requestRun(stack, 'alice', `restore s3 ${ONCE}`));
      planned = lists.tries();
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      lists.undo();
    }

    // assess: to plan, one page rolled up by '/' (bin/ is one partition) and bin/'s three pages (2,400 versions);
    // to verify, the same roll-up and two pages (the 1,200 objects left); none in between
    expect(planned).toBe(1 + 3);
    expect(lists.tries()).toBe(1 + 3 + 1 + 2);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await latestMarkerKeys(s3, ONCE)).toEqual([]);
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('Restored *1,200* objects');
    // assess: while planning, the message counted what was listed
    const counts = stack.standIn
      .callsOf('chat.update')
      .filter((c) => c.args.ts === message.ts)
      .map((c) => /Versions listed so far: ([\d,]+)…/.exec(JSON.stringify(c.args.blocks ?? ''))?.[1])
      .filter((n): n is string => n !== undefined);
    expect(counts).toEqual(['1,000', '2,000', '2,400']);
  });

  it('lists first-level prefixes side by side, and the keys directly under the bucket, restoring each object once', async () => {
    // prepare: 1,500 deleted objects under each of a/, b/ and c/, and 20 at the bucket's root
    const s3 = stack.clients.s3('us-east-1');
    const keys = ['a/', 'b/', 'c/'].flatMap((p) => Array.from({ length: 1500 }, (_, i) => `${p}${String(i).padStart(5, '0')}`));
    const rootKeys = Array.from({ length: 20 }, (_, i) => `root-${i}`);
    await deletedObjects(s3, PARTS, 0);
    const putMany = stack.moto?.putMany;
    if (!putMany) throw new Error('the sandbox moto has no bulk put');
    await putMany(PARTS, [...keys, ...rootKeys].map((key) => ({ key, body: key })));
    await deleteKeys(s3, PARTS, [...keys, ...rootKeys]);
    const prefixes: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const id = 'parts-probe';
    (s3 as unknown as Stacked).middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string; Prefix?: string; Delimiter?: string };
        if (context.commandName !== 'ListObjectVersionsCommand' || input.Bucket !== PARTS) return next(args);
        prefixes.push(`${input.Prefix ?? ''}${input.Delimiter ? ' (rolled up)' : ''}`);
        peak = Math.max(peak, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: id },
    );

    // act
    let runId: string;
    let message;
    try {
      ({ runId, message } = await requestRun(stack, 'alice', `restore s3 ${PARTS}`));
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      (s3 as unknown as Stacked).middlewareStack.remove(id);
    }

    // assess: each partition listed on its own, at the same time as others
    expect(new Set(prefixes)).toEqual(new Set([' (rolled up)', 'a/', 'b/', 'c/']));
    expect(peak).toBeGreaterThanOrEqual(2);
    // assess: every object back, counted once
    expect(textOf(message)).toContain('*4,520* deleted objects will be restored');
    expect(await latestMarkerKeys(s3, PARTS)).toEqual([]);
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain('Restored *4,520* objects');
    expect(final).toContain('no restorable delete markers remain');
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
  });

  it('reports what changed between the plan and the approval: a key written again stays as written, a key deleted after the plan stays deleted', async () => {
    // prepare: ten deleted objects, planned
    const s3 = stack.clients.s3('us-east-1');
    const keys = await deletedObjects(s3, CHANGED, 10, bulk());
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${CHANGED}`);
    expect(textOf(message)).toContain('*10* deleted objects will be restored');
    // after the plan: bin/00003 is written again; a new object is written and deleted
    await nextSecond();
    await s3.send(new PutObjectCommand({ Bucket: CHANGED, Key: 'bin/00003', Body: 'written after the plan' }));
    await s3.send(new PutObjectCommand({ Bucket: CHANGED, Key: 'bin/late', Body: 'late' }));
    await deleteKeys(s3, CHANGED, ['bin/late']);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: AWS's end state
    expect(await latestMarkerKeys(s3, CHANGED)).toEqual(['bin/late']);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: CHANGED, Key: 'bin/00003' }))).Body?.transformToString();
    expect(body).toBe('written after the plan');
    const restored = await (await s3.send(new GetObjectCommand({ Bucket: CHANGED, Key: keys[0] }))).Body?.transformToString();
    expect(restored).toBe(keys[0]);
    // assess: the message says both, and the run did what was approved
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain('Restored *10* objects');
    expect(final).toContain('Verified by listing: every planned delete marker is gone.');
    expect(final).toContain('1 object was deleted after the plan was made and is still deleted: run the command again to plan its restore.');
    expect(final).toContain('1 key got a newer version after the plan was made, which stays current');
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
  });

  it('keeps a plan larger than one checkpoint in several slices, each within the limit in UTF-8 bytes, and restores them all', async () => {
    // prepare: 400 keys of 300 CJK characters (~910 bytes of UTF-8, 305 UTF-16 units) are ~370 KB of markers, more than one 256 KB checkpoint
    const s3 = stack.clients.s3('us-east-1');
    const keys = Array.from({ length: 400 }, (_, i) => `long/${'鍵'.repeat(300)}-${String(i).padStart(4, '0')}`);
    await deletedObjects(s3, LONG, 0);
    const putMany = stack.moto?.putMany;
    if (putMany) await putMany(LONG, keys.map((key) => ({ key, body: 'x' })));
    else for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: LONG, Key, Body: 'x' }));
    for (let i = 0; i < keys.length; i += 200) {
      await s3.send(new DeleteObjectsCommand({ Bucket: LONG, Delete: { Objects: keys.slice(i, i + 200).map((Key) => ({ Key })), Quiet: true } }));
    }
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${LONG}`);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: the plan's slices
    const ops = executionOf(stack, runId)?.getOperations() ?? [];
    const slices = ops.filter((o) => /^plan-list-\d+$/.test(o.getName() ?? ''));
    const sizes = slices.map((o) => Buffer.byteLength(JSON.stringify(o.getStepDetails()?.result)));
    expect(slices.length).toBeGreaterThanOrEqual(2);
    for (const size of sizes) expect(size).toBeLessThan(CHECKPOINT_LIMIT);
    expect(Math.max(...sizes)).toBeGreaterThan(SLICE_BYTES * 0.9);
    // assess: every key restored
    expect(await latestMarkerKeys(s3, LONG)).toEqual([]);
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('Restored *400* objects');
  });
});
