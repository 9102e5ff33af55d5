/**
 * The copy-back runbook (src/runbooks/restore-s3/replica.ts, `/dr restore s3 --from-replica`) on its
 * own, against moto: what its plan counts and says, what its execution copies (and never deletes),
 * the verify listing after it, and AWS refusing, throttling or failing a copy or a listing. The
 * flows through Slack and approval, and steps over thousands of keys, are in runbooks.test.ts,
 * copy-back-faults and test/long/copy-back-2000; these need no local stack, so `npm run mutate`
 * can run them for each mutant.
 */
import { GetObjectCommand, type ListObjectsV2CommandOutput, PutObjectCommand } from '@aws-sdk/client-s3';
import { compareKeys } from '../../src/aws/s3';
import { motoAt } from '../../src/local/moto';
import type { RestoreS3Input } from '../../src/runbooks/restore-s3';
import { type ReplicaPlan, replicaRunbook } from '../../src/runbooks/restore-s3/replica';
import { runbook as restoreS3 } from '../../src/runbooks/restore-s3/runbook';
import { undeleteRunbook } from '../../src/runbooks/restore-s3/undelete';
import type { AnyRunInput } from '../../src/runbooks/types';
import { fail, patchInput, rewrite, sdkError, stub, undoFaults } from '../helpers/faults';
import { listAllVersions, nextSecond } from '../helpers/flow';
import { savedResult, useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
// a test that fails before its undo() must not leave its fault on the file's clients
afterEach(undoFaults);
let n = 0;

/** A primary bucket in the config and its replica in us-west-2 (both versioned). */
async function pair(): Promise<{ b: string; r: string }> {
  const r = `replica-${++n}`;
  await rig.makeBucket(r, 'us-west-2');
  const b = await rig.bucket({ replica: { bucket: r, region: 'us-west-2' } });
  return { b, r };
}

const putP = (b: string, key: string, body: string) => rig.s3().send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
const putR = (r: string, key: string, body: string) => rig.s3('us-west-2').send(new PutObjectCommand({ Bucket: r, Key: key, Body: body }));

async function read(b: string, key: string): Promise<string | undefined> {
  try {
    const o = await rig.s3().send(new GetObjectCommand({ Bucket: b, Key: key }));
    return await o.Body?.transformToString();
  } catch (e) {
    if ((e as Error).name === 'NoSuchKey') return undefined;
    throw e;
  }
}

function input(b: string, over: Partial<RestoreS3Input> = {}): RestoreS3Input & AnyRunInput {
  return { kind: 'restore-s3', runId: `c${++n}`, requester: 'UALICE', channel: 'C1', commandText: '/dr restore s3 --from-replica', requestedAt: new Date().toISOString(), bucket: b, fromReplica: true, dryRun: false, ...over } as RestoreS3Input & AnyRunInput;
}

const plan = (i: RestoreS3Input) => replicaRunbook.plan(rig.deps(), i);
const execute = (i: RestoreS3Input & AnyRunInput, data: ReplicaPlan) => rig.execute(replicaRunbook, i, data);
const executeWatched = (i: RestoreS3Input & AnyRunInput, data: ReplicaPlan) => rig.executeWatched(replicaRunbook, i, data);

/** An object as a listing shows it. */
interface Held {
  size: number;
  etag: string;
}

/** The index of the first of `keys` (in key order) after `after`: `keys.length` when none is. */
function firstAfter(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(keys[mid] ?? '', after) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The two buckets of a pair answered from memory (moto lists 50,000 keys far too slowly for a file
 * `npm run mutate` runs per mutant): their listings, 1,000 keys a page after StartAfter or the
 * ContinuationToken as S3 takes them (no prefix), and the copies into the primary, which land in
 * its map so the verify lists them; a key `deny` names has its copy refused. The keys copied, in
 * the order the copies were answered.
 */
function inMemory(b: string, r: string, primary: Map<string, Held>, replica: Map<string, Held>, deny: (key: string) => boolean = () => false): string[] {
  const sorted = new Map([primary, replica].map((m) => [m, [...m.keys()].sort(compareKeys)]));
  const list = (x: Record<string, unknown>): Omit<ListObjectsV2CommandOutput, '$metadata'> | undefined => {
    const objects = x.Bucket === b ? primary : x.Bucket === r ? replica : undefined;
    if (!objects) return undefined;
    const keys = sorted.get(objects) ?? [];
    const after = (x.ContinuationToken ?? x.StartAfter) as string | undefined;
    const from = after === undefined ? 0 : firstAfter(keys, after);
    const page = keys.slice(from, from + 1000);
    const truncated = from + 1000 < keys.length;
    return {
      Contents: page.map((k) => ({ Key: k, Size: objects.get(k)?.size, ETag: objects.get(k)?.etag })),
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: page.at(-1) } : {}),
    };
  };
  stub(rig.s3(), 'ListObjectsV2Command', list);
  stub(rig.s3('us-west-2'), 'ListObjectsV2Command', list);
  const copied: string[] = [];
  stub(rig.s3(), 'CopyObjectCommand', (x) => {
    const key = x.Key as string;
    const o = replica.get(key);
    if (x.Bucket !== b || !o) return undefined;
    if (deny(key)) throw sdkError({ name: 'AccessDenied', message: 'Access Denied' });
    const keys = sorted.get(primary) ?? [];
    if (!primary.has(key)) keys.splice(firstAfter(keys, key), 0, key);
    primary.set(key, o);
    copied.push(key);
    return { CopyObjectResult: { ETag: o.etag } };
  });
  return copied;
}

/** `count` keys `k<n>` (n zero-padded to `width`), from `start`, each one byte with the same ETag. */
function held(count: number, width: number, start = 0): Map<string, Held> {
  return new Map(Array.from({ length: count }, (_, i) => [`k${String(start + i).padStart(width, '0')}`, { size: 1, etag: '"e"' }]));
}

/**
 * The usual damage: `gone` missing from the primary, `swapped` the same size with other bytes,
 * `grown` another size, `same` identical, `mine` only in the primary. With `primaryNewer` the
 * primary's copies are written a second after the replica's (S3 times are in seconds).
 */
async function damaged(opts: { primaryNewer?: boolean } = {}): Promise<{ b: string; r: string }> {
  const { b, r } = await pair();
  for (const [k, v] of [['gone', 'gone!!'], ['swapped', 'bbb'], ['grown', 'abcd'], ['same', 'same']] as const) await putR(r, k, v);
  if (opts.primaryNewer) await nextSecond();
  for (const [k, v] of [['swapped', 'aaa'], ['grown', 'a'], ['same', 'same'], ['mine', 'mine']] as const) await putP(b, k, v);
  return { b, r };
}

it('`/dr restore s3 BUCKET` is the undelete; with --from-replica it is this copy-back (restore-s3/runbook.ts)', () => {
  expect(restoreS3({ fromReplica: true } as RestoreS3Input)).toBe(replicaRunbook);
  expect(restoreS3({ fromReplica: false } as RestoreS3Input)).toBe(undeleteRunbook);
});

describe('copy-back plan', () => {
  it('counts what is missing or different (by size or by content), what is the same and what only the primary has, and warns of newer primary copies', async () => {
    // prepare
    const { b, r } = await damaged({ primaryNewer: true });

    // act
    const p = await plan(input(b));

    // assess
    expect(p.empty).toBe(false);
    expect(p.data).toEqual({ replica: r, missing: 1, different: 2, bytes: 6 + 3 + 4, onlyInPrimary: 1, same: 1 });
    expect(p.lines).toEqual([
      `From \`${r}\` (us-west-2) into \`${b}\``,
      '*1* missing and *2* different objects will be copied (13 B), server-side',
      'e.g. `gone`, `grown`, `swapped`',
      'Not touched: 1 identical objects; 1 objects only in the primary are kept (nothing is deleted)',
      ":warning: 2 of the different objects are *newer in the primary* than in the replica (replication lag?): the replica's older copy becomes current, and the primary's stays as a noncurrent version you can restore. Narrow with --prefix if that is not wanted.",
    ]);
  });

  it('gives no warning when the replica copies are the newer ones', async () => {
    // prepare
    const { b, r } = await pair();
    await putP(b, 'k', 'old');
    await nextSecond();
    await putR(r, 'k', 'newer');

    // act
    const p = await plan(input(b));

    // assess
    expect(p.data).toMatchObject({ missing: 0, different: 1, bytes: 5 });
    expect(p.lines.some((l) => l.includes('newer in the primary'))).toBe(false);
  });

  it('with --prefix and --dry-run: "would be", names the prefix, five keys of more and an ellipsis; nothing outside the prefix', async () => {
    // prepare
    const { b, r } = await pair();
    for (const k of ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'p/6', 'q/outside']) await putR(r, k, 'x');

    // act
    const p = await plan(input(b, { prefix: 'p/', dryRun: true }));

    // assess
    expect(p.data).toMatchObject({ missing: 6, different: 0, bytes: 6, onlyInPrimary: 0, same: 0 });
    expect(p.lines).toEqual([
      `From \`${r}\` (us-west-2) into \`${b}\` under \`p/\``,
      '*6* missing and *0* different objects would be copied (6 B), server-side',
      'e.g. `p/1`, `p/2`, `p/3`, `p/4`, `p/5`, …',
      'Not touched: 0 identical objects; 0 objects only in the primary are kept (nothing is deleted)',
    ]);
  });

  it('is empty when the buckets agree, with no sample line', async () => {
    // prepare
    const { b, r } = await pair();
    await putR(r, 'k', 'v');
    await putP(b, 'k', 'v');

    // act
    const p = await plan(input(b));

    // assess
    expect(p.empty).toBe(true);
    expect(p.lines).toEqual([`From \`${r}\` (us-west-2) into \`${b}\``, '*0* missing and *0* different objects will be copied (0 B), server-side', 'Not touched: 1 identical objects; 0 objects only in the primary are kept (nothing is deleted)']);
  });

  it('is not empty when as many objects are missing as differ (the total is their sum); title and resources', async () => {
    const { b, r } = await pair();
    await putR(r, 'gone', 'g');
    await putR(r, 'swapped', 'bbb');
    await putP(b, 'swapped', 'aaa');
    const p = await plan(input(b));
    expect(p.data).toMatchObject({ missing: 1, different: 1 });
    expect(p.empty).toBe(false);
    expect(replicaRunbook.title(input(b))).toBe(`Copy back ${b} from its replica`);
    expect(replicaRunbook.title(input(b, { prefix: 'x/' }))).toBe(`Copy back ${b} (one prefix) from its replica`);
    expect(replicaRunbook.title(input(b, { prefix: '' }))).toBe(`Copy back ${b} (one prefix) from its replica`);
    expect(replicaRunbook.resources?.(input(b))).toEqual([`s3:${b}`]);
  });
});

describe('copy-back execute and verify', () => {
  it('copies what is missing or different, keeps what only the primary has and the overwritten copies as noncurrent versions, and verifies', async () => {
    // prepare
    const { b, r } = await damaged();
    const p = await plan(input(b));

    // act
    const out = await execute(input(b), p.data);

    // assess
    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(out.lines).toEqual([`Copied *3* objects (13 B) from \`${r}\` into \`${b}\`.`, ':mag: Verified by listing both buckets: every replica object is present and identical in the primary.']);
    expect({ gone: await read(b, 'gone'), swapped: await read(b, 'swapped'), grown: await read(b, 'grown'), same: await read(b, 'same'), mine: await read(b, 'mine') }).toEqual({ gone: 'gone!!', swapped: 'bbb', grown: 'abcd', same: 'same', mine: 'mine' });
    const { versions, markers } = await listAllVersions(rig.s3(), b);
    expect(markers).toEqual([]);
    expect(versions.filter((v) => !v.IsLatest).map((v) => [v.Key, v.Size]).sort()).toEqual([['grown', 1], ['swapped', 3]]);
    expect(out.reports.at(-1)).toEqual([3, 3, 'copied']);
  });

  it('copies only under --prefix', async () => {
    // prepare
    const { b, r } = await pair();
    for (const k of ['p/1', 'q/1']) await putR(r, k, 'x');
    const i = input(b, { prefix: 'p/' });
    const p = await plan(i);

    // act
    const out = await execute(i, p.data);

    // assess
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toBe(`Copied *1* objects (1 B) from \`${r}\` into \`${b}\`.`);
    expect([await read(b, 'p/1'), await read(b, 'q/1')]).toEqual(['x', undefined]);
  });

  it('retries a throttled copy in place, three times at most: a key throttled 3 times is copied, one throttled 4 times is reported', async () => {
    // prepare
    const { b, r } = await pair();
    await putR(r, 'slow', 'a');
    await putR(r, 'stuck', 'b');
    await putR(r, 'fine', 'c');
    const p = await plan(input(b));
    const throttled = { name: 'SlowDown', message: 'Please reduce your request rate.', status: 503 };
    const undoSlow = fail(rig.s3(), 'CopyObjectCommand', throttled, { when: (x) => x.Key === 'slow', times: 3 });
    const undoStuck = fail(rig.s3(), 'CopyObjectCommand', throttled, { when: (x) => x.Key === 'stuck', times: 4 });

    // act
    const out = await execute(input(b), p.data);
    undoSlow();
    undoStuck();

    // assess
    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([`Copied *2* objects (2 B) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 1 still missing, 0 still different.']);
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]).toMatch(/^stuck: /);
    expect([await read(b, 'slow'), await read(b, 'stuck'), await read(b, 'fine')]).toEqual(['a', undefined, 'c']);
  });

  it('retries a copy AWS fails with a 500 in place, and copies it', async () => {
    // prepare
    const { b, r } = await pair();
    await putR(r, 'flaky', 'f');
    const p = await plan(input(b));
    const undo = fail(rig.s3(), 'CopyObjectCommand', { name: 'InternalError', message: 'We encountered an internal error. Please try again.', status: 500 }, { times: 2 });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(await read(b, 'flaky')).toBe('f');
  });

  it('when a copy is denied, copies the rest, fails the run naming the key, and the verify counts what is still missing', async () => {
    // prepare
    const { b, r } = await pair();
    for (const k of ['a', 'locked', 'z']) await putR(r, k, k);
    await putP(b, 'z', 'other');
    const p = await plan(input(b));
    let tries = 0;
    const undo = fail(rig.s3(), 'CopyObjectCommand', { name: 'AccessDenied', message: 'Access Denied' }, { when: (x) => x.Key === 'locked' && ++tries > 0 });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([`Copied *2* objects (2 B) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 1 still missing, 0 still different.']);
    expect(out.failures).toEqual([expect.stringMatching(/^locked: .*denied/i)]);
    // a refusal is not retried (a throttled or failing copy is)
    expect(tries).toBe(1);
    expect([await read(b, 'a'), await read(b, 'locked'), await read(b, 'z')]).toEqual(['a', undefined, 'z']);
  });

  it('when the listing fails once with a 500, the step goes again and copies each object once', async () => {
    // prepare
    const { b, r } = await damaged();
    const p = await plan(input(b));
    const undo = fail(rig.s3('us-west-2'), 'ListObjectsV2Command', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { times: 1 });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(out.lines[0]).toBe(`Copied *3* objects (13 B) from \`${r}\` into \`${b}\`.`);
    const { versions } = await listAllVersions(rig.s3(), b);
    expect(versions.filter((v) => v.Key === 'gone')).toHaveLength(1);
  });

  it('when the listing is denied, stops saying so, copies nothing and fails the run', async () => {
    // prepare
    const { b, r } = await damaged();
    const p = await plan(input(b));
    const undo = fail(rig.s3(), 'ListObjectsV2Command', { name: 'AccessDenied', message: 'Access Denied' }, { times: 1 });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`Copied *0* objects (0 B) from \`${r}\` into \`${b}\`.`);
    expect(out.lines[1]).toMatch(/^:x: Stopped: .*denied/i);
    expect(out.lines[2]).toBe(':warning: Verified by listing both buckets: 1 still missing, 2 still different.');
    expect(out.failures[0]).toMatch(/denied/i);
    expect(await read(b, 'gone')).toBeUndefined();
  });

  it('reports progress as each copy lands, up to the planned total', async () => {
    const { b } = await damaged();
    const p = await plan(input(b));
    const out = await execute(input(b), p.data);
    expect(out.reports.map((x) => x[0]).sort()).toEqual([1, 2, 3]);
    expect(out.reports.every(([, total, label]) => total === 3 && label === 'copied')).toBe(true);
  });

  it('copies answered as done that did not land: the verify finds them, and the run fails though no copy failed', async () => {
    const { b, r } = await pair();
    await putR(r, 'swapped', 'bbb');
    await putP(b, 'swapped', 'aaa');
    const p = await plan(input(b));
    // CopyObject answered as S3 does, nothing copied
    stub(rig.s3(), 'CopyObjectCommand', () => ({ CopyObjectResult: { ETag: '"x"' } }));

    const out = await execute(input(b), p.data);

    expect(await read(b, 'swapped')).toBe('aaa');
    expect(out).toMatchObject({ ok: false, failures: [] });
    expect(out.lines).toEqual([`Copied *1* objects (3 B) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 0 still missing, 1 still different.']);
  });

  it('201 copies denied: the first 200 listed, the count of all, the run failed', async () => {
    const { b, r } = await pair();
    const keys = Array.from({ length: 201 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await motoAt(rig.moto().endpoint).putMany?.(r, keys.map((key) => ({ key, body: 'x' })));
    const p = await plan(input(b));
    fail(rig.s3(), 'CopyObjectCommand', { name: 'AccessDenied', message: 'Access Denied' });

    const out = await execute(input(b), p.data);

    expect(p.data.missing).toBe(201);
    expect(out.ok).toBe(false);
    expect(out.failures).toHaveLength(200);
    expect(out.failures.every((f) => /^k\d{3}: .*denied/i.test(f))).toBe(true);
    expect(out.lines).toEqual([`Copied *0* objects (0 B) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 201 still missing, 0 still different.', '201 copies failed; the first 200 are listed.']);
  });

  it('the listing fails after some keys were walked: the run goes on from the last key (three times at most); refused after some: stops, keeping what was copied', async () => {
    // prepare: listings of one key a page, so a failure can come after the first key
    const { b, r } = await pair();
    for (const k of ['a', 'b', 'c', 'd']) await putR(r, k, k);
    const p = await plan(input(b));
    patchInput(rig.s3('us-west-2'), 'ListObjectsV2Command', { MaxKeys: 1 });
    let lists = 0;
    // the 2nd listing call of the replica fails once with a 500 (after 'a' was walked)
    const undo = fail(rig.s3('us-west-2'), 'ListObjectsV2Command', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { when: () => ++lists === 2 });

    const out = await execute(input(b), p.data);
    undo();

    expect([await read(b, 'a'), await read(b, 'b'), await read(b, 'c'), await read(b, 'd')]).toEqual(['a', 'b', 'c', 'd']);
    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(out.lines[0]).toBe(`Copied *4* objects (4 B) from \`${r}\` into \`${b}\`.`);

    // a 500 after each step's first page, four times: three resumes, then it stops (the verify's listings answer)
    const again = await pair();
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) await putR(again.r, k, k);
    const q = await plan(input(again.b));
    patchInput(rig.s3('us-west-2'), 'ListObjectsV2Command', { MaxKeys: 1 });
    let calls = 0;
    fail(rig.s3('us-west-2'), 'ListObjectsV2Command', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { when: (x) => x.Bucket === again.r && ++calls % 2 === 0 && calls <= 8 });
    const resumed = await execute(input(again.b), q.data);
    expect(resumed.ok).toBe(false);
    expect(resumed.lines[0]).toBe(`Copied *4* objects (4 B) from \`${again.r}\` into \`${again.b}\`.`);
    expect(resumed.lines[1]).toMatch(/^:x: Stopped: .*internal error/i);
    expect(resumed.lines[2]).toBe(':warning: Verified by listing both buckets: 2 still missing, 0 still different.');
    undoFaults();

    // refused after the first key: stops at once
    const third = await pair();
    for (const k of ['a', 'b', 'c']) await putR(third.r, k, k);
    const t = await plan(input(third.b));
    patchInput(rig.s3('us-west-2'), 'ListObjectsV2Command', { MaxKeys: 1 });
    let n3 = 0;
    fail(rig.s3('us-west-2'), 'ListObjectsV2Command', { name: 'AccessDenied', message: 'Access Denied' }, { when: (x) => x.Bucket === third.r && ++n3 === 2 });
    const denied = await execute(input(third.b), t.data);
    expect(denied.ok).toBe(false);
    expect(denied.lines[0]).toBe(`Copied *1* objects (1 B) from \`${third.r}\` into \`${third.b}\`.`);
    expect(denied.lines[1]).toMatch(/^:x: Stopped: .*denied/i);
    expect(await read(third.b, 'a')).toBe('a');
  });

  it('a first page refused once is asked again within its step, and uses none of the three resumes', async () => {
    const { b, r } = await pair();
    for (const k of ['a', 'b', 'c', 'd', 'e']) await putR(r, k, k);
    const p = await plan(input(b));
    patchInput(rig.s3('us-west-2'), 'ListObjectsV2Command', { MaxKeys: 1 });
    let calls = 0;
    // calls 1 (the first page), then 3, 5, 7 (each after a key was walked) fail with a 500: one in-step retry and three resumes
    fail(rig.s3('us-west-2'), 'ListObjectsV2Command', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { when: (x) => x.Bucket === r && [1, 3, 5, 7].includes(++calls) });

    const out = await execute(input(b), p.data);

    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(out.lines[0]).toBe(`Copied *5* objects (5 B) from \`${r}\` into \`${b}\`.`);
  });

  it('failures of two steps (a resume between them) are listed together up to 200', async () => {
    const { b, r } = await pair();
    const keys = Array.from({ length: 201 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await motoAt(rig.moto().endpoint).putMany?.(r, keys.map((key) => ({ key, body: 'x' })));
    const p = await plan(input(b));
    fail(rig.s3(), 'CopyObjectCommand', { name: 'AccessDenied', message: 'Access Denied' });
    patchInput(rig.s3('us-west-2'), 'ListObjectsV2Command', { MaxKeys: 150 });
    let calls = 0;
    // the replica's second page fails once: the first step ends after 150 keys, the second takes the other 51
    fail(rig.s3('us-west-2'), 'ListObjectsV2Command', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { when: (x) => x.Bucket === r && ++calls === 2 });

    const out = await execute(input(b), p.data);

    expect(out.failures).toHaveLength(200);
    expect(out.lines.at(-1)).toBe('201 copies failed; the first 200 are listed.');
  });

  it('a failure is cut to 600 characters: a long key fills most of it', async () => {
    // prepare: a key of 550 characters (S3 takes up to 1,024 bytes)
    const { b, r } = await pair();
    const key = `long/${'x'.repeat(545)}`;
    await putR(r, key, 'v');
    const p = await plan(input(b));
    fail(rig.s3(), 'CopyObjectCommand', { name: 'AccessDenied', message: 'Access Denied' });

    // act
    const out = await execute(input(b), p.data);

    // assess
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`${key}: CopyObject on \`${b}/${key}\` failed: Access Denied`.slice(0, 600)]);
    expect(out.failures[0]).toHaveLength(600);
  });

  it('a copy that lands but is answered with an error each time: the verify finds it in place, and the run still fails for the failed copy', async () => {
    // prepare: S3 copied the object, then answered with an InternalError (as CopyObject can, in a 200)
    const { b, r } = await pair();
    await putR(r, 'k', 'v');
    const p = await plan(input(b));
    rewrite(rig.s3(), 'CopyObjectCommand', () => {
      throw sdkError({ name: 'InternalError', message: 'We encountered an internal error. Please try again.', status: 500 });
    });

    // act
    const out = await execute(input(b), p.data);

    // assess
    expect(await read(b, 'k')).toBe('v');
    expect(out).toMatchObject({ ok: false, failures: [`k: CopyObject on \`${b}/k\` failed: We encountered an internal error. Please try again.`] });
    expect(out.lines).toEqual([`Copied *0* objects (0 B) from \`${r}\` into \`${b}\`.`, ':mag: Verified by listing both buckets: every replica object is present and identical in the primary.']);
  });

  it('an object over 5 GiB is copied by a multipart copy, and the line says how many were', async () => {
    // prepare: the replica lists `big` at 6 GiB; the multipart copy's calls are answered as S3 does (moto cannot copy ranges past the object's end)
    const { b, r } = await pair();
    await putR(r, 'big', 'b');
    await putR(r, 'small', 's');
    rewrite<ListObjectsV2CommandOutput>(rig.s3('us-west-2'), 'ListObjectsV2Command', (o) => ({ ...o, Contents: o.Contents?.map((c) => (c.Key === 'big' ? { ...c, Size: 6 * 2 ** 30 } : c)) }));
    const p = await plan(input(b));
    const parts: string[] = [];
    stub(rig.s3(), 'CreateMultipartUploadCommand', () => ({ UploadId: 'u1' }));
    stub(rig.s3(), 'UploadPartCopyCommand', (x) => {
      parts.push(String(x.CopySourceRange));
      return { CopyPartResult: { ETag: `"p${parts.length}"` } };
    });
    stub(rig.s3(), 'CompleteMultipartUploadCommand', () => ({ ETag: '"m-12"' }));

    // act
    const out = await execute(input(b), p.data);

    // assess: 12 parts of 512 MiB; `big` never landed (the completion was answered, not done), so the verify finds it missing
    expect(parts).toHaveLength(12);
    expect(await read(b, 'small')).toBe('s');
    expect(out.lines).toEqual([`Copied *2* objects (6.0 GB) from \`${r}\` into \`${b}\`, 1 by multipart copy.`, ':warning: Verified by listing both buckets: 1 still missing, 0 still different.']);
  });
});

describe('copy-back steps of 2,000 copies and of 50,000 keys (both buckets answered from memory)', () => {
  it('a step starts 2,000 copies at most: 2,001 keys to copy take two steps, each key copied once; a refused copy among successes does not stop the run', async () => {
    // prepare: 2,001 keys missing from the primary; k0000's copy refused
    const { b, r } = await pair();
    const primary = new Map<string, Held>();
    const copied = inMemory(b, r, primary, held(2001, 4), (k) => k === 'k0000');
    const p = await plan(input(b));

    // act
    const out = await executeWatched(input(b), p.data);

    // assess
    expect(p.data.missing).toBe(2001);
    expect(out.checkpoints).toEqual(['copy-0', 'copy-1', 'verify']);
    expect([...copied].sort()).toEqual([...held(2000, 4, 1).keys()]);
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`k0000: CopyObject on \`${b}/k0000\` failed: Access Denied`]);
    expect(out.lines).toEqual([`Copied *2,000* objects (2.0 KB) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 1 still missing, 0 still different.']);
    expect(out.reports.at(-1)).toEqual([2000, 2001, 'copied']);
  });

  it('a full step of copies that all failed stops the run (copy_failing), its checkpoint holding the first 200 failures', async () => {
    // prepare: 2,001 keys missing, every copy refused
    const { b, r } = await pair();
    const copied = inMemory(b, r, new Map(), held(2001, 4), () => true);
    const p = await plan(input(b));

    // act
    const out = await executeWatched(input(b), p.data);

    // assess
    const stoppedBy = 'Stopped after 2,000 copies failed and none succeeded in the last step.';
    expect(copied).toEqual([]);
    expect(out.checkpoints).toEqual(['copy-0', 'verify']);
    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `Copied *0* objects (0 B) from \`${r}\` into \`${b}\`.`,
      `:x: Stopped: ${stoppedBy}`,
      ':warning: Verified by listing both buckets: 2,001 still missing, 0 still different.',
      '2,000 copies failed; the first 200 are listed.',
    ]);
    expect(out.failures).toHaveLength(201);
    expect(out.failures.slice(0, 2)).toEqual([stoppedBy, `k0000: CopyObject on \`${b}/k0000\` failed: Access Denied`]);
    // the step's checkpoint stays small: 200 failures kept of its 2,000
    const saved = savedResult<{ value?: { failed: number; failures: string[] } }>(out.history, 'copy-0');
    expect({ failed: saved?.value?.failed, kept: saved?.value?.failures.length }).toEqual({ failed: 2000, kept: 200 });
  });

  it('a step looks at 50,000 keys at most: the next step takes the rest', async () => {
    // prepare: 50,000 identical keys, then k50000 missing from the primary, its copy refused
    const { b, r } = await pair();
    const copied = inMemory(b, r, held(50_000, 5), held(50_001, 5), (k) => k === 'k50000');
    const p = await plan(input(b));

    // act
    const out = await executeWatched(input(b), p.data);

    // assess: the refused copy is the second step's, which ends the listing: no "copies failing" stop
    expect(p.data).toMatchObject({ missing: 1, same: 50_000 });
    expect(copied).toEqual([]);
    expect(out.checkpoints).toEqual(['copy-0', 'copy-1', 'verify']);
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`k50000: CopyObject on \`${b}/k50000\` failed: Access Denied`]);
    expect(out.lines).toEqual([`Copied *0* objects (0 B) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 1 still missing, 0 still different.']);
    // the first step ends on its 50,000th key, k49999: the refused k50000 is the second step's
    const saved = (name: string) => {
      const v = savedResult<{ value?: { last?: string; failed: number; end: boolean } }>(out.history, name)?.value;
      return v && { last: v.last, failed: v.failed, end: v.end };
    };
    expect([saved('copy-0'), saved('copy-1')]).toEqual([
      { last: 'k49999', failed: 0, end: false },
      { last: 'k50000', failed: 1, end: true },
    ]);
  });

  it('a step that ends on its 50,000 keys with its only copy refused does not stop the run: the keys after it are copied', async () => {
    // prepare: 50,002 keys; k00000 missing from the primary, its copy refused; k50000 and k50001 missing, after the first step's keys
    const { b, r } = await pair();
    const primary = held(50_002, 5);
    for (const k of ['k00000', 'k50000', 'k50001']) primary.delete(k);
    const copied = inMemory(b, r, primary, held(50_002, 5), (k) => k === 'k00000');
    const p = await plan(input(b));

    // act
    const out = await executeWatched(input(b), p.data);

    // assess: no "copies failing" stop after the first step; the second copies the two after it
    expect(p.data).toMatchObject({ missing: 3, same: 49_999 });
    expect(out.checkpoints).toEqual(['copy-0', 'copy-1', 'verify']);
    expect([...copied].sort()).toEqual(['k50000', 'k50001']);
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`k00000: CopyObject on \`${b}/k00000\` failed: Access Denied`]);
    expect(out.lines).toEqual([`Copied *2* objects (2 B) from \`${r}\` into \`${b}\`.`, ':warning: Verified by listing both buckets: 1 still missing, 0 still different.']);
  });
});
