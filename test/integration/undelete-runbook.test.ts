/**
 * The undelete runbook (src/runbooks/restore-s3/undelete.ts) on its own, against moto: its plan
 * (which delete markers, how many bytes, what it leaves alone), its execution as a durable function
 * on the SDK's local runner, and the verify listing after it. The flows through Slack, approval
 * and faults are in runbooks.test.ts, undelete-faults and undelete-plan-once; these need no local
 * stack, so `npm run mutate` can run them for each mutant.
 */
import { DeleteObjectCommand, type DeleteObjectsCommandOutput, type ListObjectVersionsCommandOutput, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { motoAt } from '../../src/local/moto';
import type { RestoreS3Input } from '../../src/runbooks/restore-s3';
import { type MarkerRef, SLICE_BYTES, type UndeletePlan, undeleteRunbook } from '../../src/runbooks/restore-s3/undelete';
import type { AnyRunInput } from '../../src/runbooks/types';
import { fail, patchInput, sdkError, stub, undoFaults } from '../helpers/faults';
import { deleteKeys, listAllVersions, nextSecond, realNow } from '../helpers/flow';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
// a test that fails before its undo() must not leave its fault on the file's clients
afterEach(undoFaults);
const s3 = () => rig.s3();
const bucket = () => rig.bucket();
let n = 0;

const put = (b: string, key: string, body = key) => s3().send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
const del = (b: string, key: string) => s3().send(new DeleteObjectCommand({ Bucket: b, Key: key }));

function input(b: string, over: Partial<RestoreS3Input> = {}): RestoreS3Input & AnyRunInput {
  return { kind: 'restore-s3', runId: `r${++n}`, requester: 'UALICE', channel: 'C1', commandText: '/dr restore s3', requestedAt: new Date().toISOString(), bucket: b, fromReplica: false, dryRun: false, ...over } as RestoreS3Input & AnyRunInput;
}

/** The plan, each listing checkpointed as its own step would be (here inline), with the progress it reported. */
async function plan(i: RestoreS3Input) {
  const steps: string[] = [];
  const listed: number[] = [];
  const p = await undeleteRunbook.plan(rig.deps(), i, {
    step: (name, fn) => {
      steps.push(name);
      return fn();
    },
    progress: {
      report: async (done, total, label) => {
        expect({ total, label }).toEqual({ total: 0, label: 'Versions listed so far:' });
        listed.push(done);
      },
    },
  });
  return { ...p, steps, listed };
}

const execute = (i: RestoreS3Input & AnyRunInput, data: UndeletePlan) => rig.execute(undeleteRunbook, i, data);

/** Each key's history: its newest version (`v:<size>` or `marker`), then the sizes of its other versions and how many other markers it has. */
async function history(b: string): Promise<Record<string, { latest: string; older: number[]; markers: number }>> {
  const { markers, versions } = await listAllVersions(s3(), b);
  const out: Record<string, { latest: string; older: number[]; markers: number }> = {};
  const of = (k: string | undefined) => (out[k ?? ''] ??= { latest: '', older: [], markers: 0 });
  for (const v of versions) {
    if (v.IsLatest) of(v.Key).latest = `v:${v.Size}`;
    else of(v.Key).older.push(v.Size ?? -1);
  }
  for (const m of markers) {
    if (m.IsLatest) of(m.Key).latest = 'marker';
    else of(m.Key).markers++;
  }
  for (const h of Object.values(out)) h.older.sort((x, y) => x - y);
  return out;
}

/** A bucket of 1,001 deleted objects `bin/00000`… (1 byte each): two DeleteObjects batches, of 1,000 and of 1. */
async function thousandAndOne(): Promise<{ b: string; keys: string[] }> {
  const b = await bucket();
  const keys = Array.from({ length: 1001 }, (_, i) => `bin/${String(i).padStart(5, '0')}`);
  await motoAt(rig.moto().endpoint).putMany?.(b, keys.map((key) => ({ key, body: 'b' })));
  await deleteKeys(s3(), b, keys);
  return { b, keys };
}

const batchOfOne = (x: Record<string, unknown>) => (x.Delete as { Objects: unknown[] }).Objects.length === 1;

describe('undelete plan', () => {
  it('lists the newest delete markers at the top and under each first-level prefix, counting the bytes of what each hides', async () => {
    // prepare
    const b = await bucket();
    await put(b, 'top.txt', 'x'.repeat(10));
    await put(b, 'docs/a.md', 'old');
    await put(b, 'docs/a.md', 'y'.repeat(2000));
    await put(b, 'docs/kept.md');
    await put(b, 'bin/back');
    await put(b, 'logs/2026/z.log', 'z'.repeat(300));
    for (const k of ['top.txt', 'docs/a.md', 'bin/back', 'logs/2026/z.log']) await del(b, k);
    // deleted, then written again: its marker is not the newest version, and it is not deleted
    await put(b, 'bin/back', 'again');

    // act
    const p = await plan(input(b));

    // assess
    expect(p.empty).toBe(false);
    expect(p.data).toMatchObject({ count: 3, bytes: 10 + 2000 + 300, olderSkipped: 0 });
    expect(p.data.slices.flat().map((m) => m[0]).sort()).toEqual(['docs/a.md', 'logs/2026/z.log', 'top.txt']);
    expect([...p.data.sample].sort()).toEqual(['docs/a.md', 'logs/2026/z.log', 'top.txt']);
    for (const [, versionId, at] of p.data.slices.flat()) {
      expect(versionId).toMatch(/\S/);
      expect(Math.abs(at * 1000 - realNow())).toBeLessThan(60_000);
    }
    // one roll-up of the bucket, then its first-level prefixes side by side, in one step
    expect(p.steps).toEqual(['versioning', 'list-0', 'list-1']);
    // every version and marker listed once: 7 versions and 4 markers
    expect(p.listed.at(-1)).toBe(11);
    expect(p.lines).toEqual([
      `Bucket \`${b}\``,
      '*3* deleted objects will be restored (2.3 KB) by removing their delete markers',
      expect.stringMatching(/^e\.g\. `[^`]+`, `[^`]+`, `[^`]+`$/),
      'Not touched: objects that are not deleted, and older versions (nothing is overwritten or removed)',
    ]);
  });

  it('says "would be" for a dry run, names the prefix, shows five keys of more and an ellipsis', async () => {
    // prepare
    const b = await bucket();
    const keys = ['k/1', 'k/2', 'k/3', 'k/4', 'k/5', 'k/6', 'other'];
    for (const k of keys) await put(b, k);
    for (const k of keys) await del(b, k);

    // act
    const p = await plan(input(b, { prefix: 'k/', dryRun: true }));

    // assess
    expect(p.data.count).toBe(6);
    expect(p.data.sample).toHaveLength(5);
    expect(p.lines[0]).toBe(`Bucket \`${b}\` under \`k/\``);
    expect(p.lines[1]).toBe('*6* deleted objects would be restored (18 B) by removing their delete markers');
    expect(p.lines[2]).toMatch(/^e\.g\. (`k\/\d`, ){4}`k\/\d`, …$/);
  });

  it('a partition\'s listing refused: the plan fails saying so, and does not go round again', async () => {
    const b = await bucket();
    await put(b, 'logs/a');
    await del(b, 'logs/a');
    // the first page (rolled up by "/") answers; the partition's own listing is refused
    fail(s3(), 'ListObjectVersionsCommand', { name: 'AccessDenied', message: 'Access Denied' }, { when: (x) => x.Delimiter === undefined });
    await expect(plan(input(b))).rejects.toThrow(/ListObjectVersions.*Access Denied/);
  });

  it('is empty, and says so, when nothing is deleted; names Suspended versioning', async () => {
    // prepare
    const b = await bucket();
    await put(b, 'live');
    await s3().send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));

    // act
    const p = await plan(input(b));

    // assess
    expect(p.empty).toBe(true);
    expect(p.data).toEqual({ count: 0, bytes: 0, olderSkipped: 0, sample: [], slices: [] });
    expect(p.lines).toEqual([
      `Bucket \`${b}\``,
      '*0* deleted objects will be restored (0 B) by removing their delete markers',
      'Not touched: objects that are not deleted, and older versions (nothing is overwritten or removed)',
      ':warning: Versioning is *Suspended* on this bucket: deletions made from now on cannot be undone until it is re-enabled.',
    ]);
  });

  it('with --since takes the markers made at or after it, counts the older ones it leaves, and verifies only what it planned', async () => {
    // prepare
    const b = await bucket();
    for (const k of ['old/1', 'old/2', 'new/1']) await put(b, k);
    await del(b, 'old/1');
    await del(b, 'old/2');
    await nextSecond();
    await del(b, 'new/1');
    const { markers } = await listAllVersions(s3(), b, 'new/');
    const since = markers[0]?.LastModified?.toISOString() ?? '';
    const i = input(b, { since });

    // act
    const p = await plan(i);
    const out = await execute(i, p.data);

    // assess: the boundary is inclusive; the older markers left alone are not "remaining"
    expect(p.data.slices.flat().map((m) => m[0])).toEqual(['new/1']);
    expect(p.data.olderSkipped).toBe(2);
    expect(p.lines[0]).toBe(`Bucket \`${b}\` deleted since ${since}`);
    expect(p.lines).toContain('Not touched: 2 delete markers older than --since');
    expect(await history(b)).toEqual({
      'old/1': { latest: 'marker', older: [5], markers: 0 },
      'old/2': { latest: 'marker', older: [5], markers: 0 },
      'new/1': { latest: 'v:5', older: [], markers: 0 },
    });
    expect(out).toMatchObject({ ok: true, lines: [`Restored *1* objects in \`${b}\` deleted since ${since} (5 B planned).`, ':mag: Verified by listing: no restorable delete markers remain.'] });
  });

  it('lists more than 100 first-level prefixes as one sequence, every marker once', async () => {
    // prepare
    const b = await bucket();
    const keys = Array.from({ length: 101 }, (_, i) => `p${String(i).padStart(3, '0')}/k`);
    await motoAt(rig.moto().endpoint).putMany?.(b, keys.map((key) => ({ key, body: 'b' })));
    await deleteKeys(s3(), b, keys);

    // act
    const p = await plan(input(b));

    // assess: one roll-up page, then the bucket from its start (no partition per prefix)
    expect(p.data.count).toBe(101);
    expect(p.data.bytes).toBe(101);
    expect(p.data.slices.flat().map((m) => m[0])).toEqual(keys);
    expect(p.steps).toEqual(['versioning', 'list-0', 'list-1']);
  });

  it('cuts the plan into slices within SLICE_BYTES of JSON, each marker in exactly one, and restores them all', async () => {
    // prepare: 260 keys of 900 bytes under one prefix: about 240 KB of markers
    const b = await bucket();
    const keys = Array.from({ length: 260 }, (_, i) => `long/${String(i).padStart(4, '0')}-${'é'.repeat(445)}`);
    await motoAt(rig.moto().endpoint).putMany?.(b, keys.map((key) => ({ key, body: 'b' })));
    await deleteKeys(s3(), b, keys);

    // act
    const p = await plan(input(b));
    const out = await execute(input(b), p.data);

    // assess
    // a slice is cut after the marker that fills SLICE_BYTES (the step's cursors count too): never
    // more than one marker over it, never far short of it but for the last
    const marker = Math.max(...p.data.slices.flat().map((m) => Buffer.byteLength(JSON.stringify(m)) + 1));
    const sizes = p.data.slices.map((slice) => Buffer.byteLength(JSON.stringify(slice)));
    expect(sizes.length).toBe(2);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(SLICE_BYTES + marker);
    expect(sizes[0]).toBeGreaterThan(SLICE_BYTES - 2 * marker);
    expect(p.data.slices.flat().map((m) => m[0])).toEqual(keys);
    expect(p.data.count).toBe(260);
    expect(p.listed.at(-1)).toBe(520);
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toBe(`Restored *260* objects in \`${b}\` (260 B planned).`);
    expect(Object.values(await history(b)).every((h) => h.latest === 'v:1' && h.markers === 0)).toBe(true);
  });

  it('with listing pages of 40, still cuts each slice at SLICE_BYTES: a step takes no page once the slice is full', async () => {
    const b = await bucket();
    const keys = Array.from({ length: 260 }, (_, i) => `long/${String(i).padStart(4, '0')}-${'é'.repeat(445)}`);
    await motoAt(rig.moto().endpoint).putMany?.(b, keys.map((key) => ({ key, body: 'b' })));
    await deleteKeys(s3(), b, keys);
    patchInput(s3(), 'ListObjectVersionsCommand', { MaxKeys: 40 });

    const p = await plan(input(b));

    const marker = Math.max(...p.data.slices.flat().map((m) => Buffer.byteLength(JSON.stringify(m)) + 1));
    const sizes = p.data.slices.map((slice) => Buffer.byteLength(JSON.stringify(slice)));
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(SLICE_BYTES + marker);
    expect(p.data.slices.flat().map((m) => m[0])).toEqual(keys);
  });
});

describe('undelete plan and verify over paged listings', () => {
  it('a key whose newest real version is on the page after its marker still counts its bytes (pages of one)', async () => {
    // prepare: keys before "S" (a made-up last key must not end the pages early); B2's newest real
    // version is two pages after its marker
    const b = await bucket();
    await put(b, 'A1', 'x'.repeat(7));
    await del(b, 'A1');
    await put(b, 'B2', 'x'.repeat(3));
    await put(b, 'B2', 'x'.repeat(5));
    await del(b, 'B2');
    await del(b, 'B2');
    patchInput(s3(), 'ListObjectVersionsCommand', { MaxKeys: 1 });

    // act
    const p = await plan(input(b));

    // assess: the newest real version of each (7 and 5 bytes), not the older 3
    expect(p.data.slices.flat().map((m) => m[0])).toEqual(['A1', 'B2']);
    expect(p.data.bytes).toBe(12);
    expect(p.listed.every((x) => x > 0)).toBe(true);
  });

  it('a prefix whose roll-up does not fit one page is listed as one sequence under it, and verified the same way', async () => {
    // prepare: three first-level prefixes under in/ with listing pages of two, and a deleted key outside
    const b = await bucket();
    for (const k of ['in/a/1', 'in/b/1', 'in/c/1', 'in/c/2', 'outside/x']) await put(b, k);
    for (const k of ['in/a/1', 'in/b/1', 'in/c/1', 'outside/x']) await del(b, k);
    patchInput(s3(), 'ListObjectVersionsCommand', { MaxKeys: 2 });
    const p = await plan(input(b, { prefix: 'in/' }));
    await nextSecond();
    // deleted after the plan, under the third prefix (on the roll-up's second page)
    await del(b, 'in/c/2');

    // act
    const out = await execute(input(b, { prefix: 'in/' }), p.data);

    // assess: all three under in/, nothing outside; the verify finds the one deleted since, and no other
    expect(p.data.slices.flat().map((m) => m[0])).toEqual(['in/a/1', 'in/b/1', 'in/c/1']);
    expect(out.ok).toBe(true);
    expect(out.lines).toEqual([
      `Restored *3* objects in \`${b}\` under \`in/\` (18 B planned).`,
      ':mag: Verified by listing: every planned delete marker is gone.',
      ':warning: 1 object was deleted after the plan was made and is still deleted: run the command again to plan its restore.',
    ]);
    expect((await history(b))['outside/x']?.latest).toBe('marker');
  });

  it('verifies a prefix split by first-level prefixes under it only: markers elsewhere are not "deleted since"', async () => {
    // prepare
    const b = await bucket();
    for (const k of ['in/a/1', 'in/b/1', 'outside/x', 'top']) await put(b, k);
    for (const k of ['in/a/1', 'in/b/1', 'outside/x', 'top']) await del(b, k);
    const p = await plan(input(b, { prefix: 'in/' }));

    // act
    const out = await execute(input(b, { prefix: 'in/' }), p.data);

    // assess
    expect(p.data.slices.flat().map((m) => m[0]).sort()).toEqual(['in/a/1', 'in/b/1']);
    // the roll-up of in/ has no keys of its own: no progress line of 0 before the prefixes are listed
    expect(p.listed.every((x) => x > 0)).toBe(true);
    expect(out.lines).toEqual([`Restored *2* objects in \`${b}\` under \`in/\` (12 B planned).`, ':mag: Verified by listing: no restorable delete markers remain.']);
  });

  it('a flat bucket listed in its one roll-up page reports its progress once', async () => {
    const b = await bucket();
    for (const k of ['a', 'b', 'c']) await put(b, k);
    for (const k of ['a', 'b', 'c']) await del(b, k);

    const p = await plan(input(b));

    expect(p.data.count).toBe(3);
    expect(p.listed).toEqual([6]);
  });

  it('a slice whose markers reach exactly SLICE_BYTES is cut there, in the roll-up\'s first page, and the rest is listed after it', async () => {
    // prepare: 201 deleted keys at the top and one under zz/. Each marker takes the JSON of its key,
    // a 36-character version id and a 10-digit second, and 1 byte of separator; the roll-up's
    // prefixes (["zz/"]) count too. The first 200 make exactly SLICE_BYTES.
    const b = await bucket();
    const start = Buffer.byteLength(JSON.stringify(['zz/']));
    const each = (key: string) => Buffer.byteLength(JSON.stringify([key, 'v'.repeat(36), 1_000_000_000])) + 1;
    const keys = Array.from({ length: 199 }, (_, i) => `k${String(i).padStart(3, '0')}-${'x'.repeat(920)}`);
    const used = start + keys.reduce((sum, k) => sum + each(k), 0);
    const last = `k199-${'x'.repeat(SLICE_BYTES - used - each('k199-'))}`;
    keys.push(last, `k200-${'x'.repeat(920)}`);
    await motoAt(rig.moto().endpoint).putMany?.(b, [...keys, 'zz/1'].map((key) => ({ key, body: 'b' })));
    await deleteKeys(s3(), b, [...keys, 'zz/1']);

    // act
    const p = await plan(input(b));

    // assess: the precondition (this test's arithmetic matches what the plan measures), then the cut
    const first = p.data.slices[0] ?? [];
    expect(start + first.slice(0, 200).reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)) + 1, 0)).toBe(SLICE_BYTES);
    expect(first.map((m) => m[0])).toEqual(keys.slice(0, 200));
    // after the cut, the top's next page and zz/ are listed side by side: their markers come in the order the pages land
    expect(p.data.slices.flat().map((m) => m[0]).sort()).toEqual([...keys, 'zz/1'].sort());
    // the cut key's own version (1 byte, like every key's) is listed after the cut, by the next step: still counted
    expect(p.data.bytes).toBe(keys.length + 1);
  });

  it('a step that lists its 40 pages before it has taken every prefix hands the prefixes it did not take to the next step', async () => {
    // prepare: 45 first-level prefixes, each one deleted key; the roll-up lists them in one page, the
    // prefixes' own listings come in pages of one (a marker, then a version: more than 40 pages in all)
    const b = await bucket();
    const keys = Array.from({ length: 45 }, (_, i) => `p${String(i).padStart(2, '0')}/k`);
    for (const k of keys) await put(b, k);
    await deleteKeys(s3(), b, keys);
    const pageSizes = { name: 'undelete-partition-pages-of-one', step: 'initialize' as const };
    let partitionPages = 0;
    s3().middlewareStack.add(
      (next, context) => async (args) => {
        const x = args.input as { Delimiter?: string; MaxKeys?: number };
        if (context.commandName !== 'ListObjectVersionsCommand' || x.Delimiter) return next(args);
        partitionPages++;
        return next({ ...args, input: { ...x, MaxKeys: 1 } as typeof args.input });
      },
      pageSizes,
    );
    const perStep: number[] = [];
    let p: Awaited<ReturnType<typeof undeleteRunbook.plan>>;
    try {
      // act: each listing step counted by the partition pages it asked for
      p = await undeleteRunbook.plan(rig.deps(), input(b), {
        step: async (name, fn) => {
          const before = partitionPages;
          const r = await fn();
          if (name.startsWith('list-')) perStep.push(partitionPages - before);
          return r;
        },
        progress: { report: async () => undefined },
      });
    } finally {
      s3().middlewareStack.remove(pageSizes.name);
    }

    // assess: the roll-up step, then steps of exactly 40 pages while prefixes are left, and every key planned once
    // (45 prefixes of two pages each: 90 pages)
    expect(perStep).toEqual([0, 40, 40, 10]);
    expect(p.data.slices.flat().map((m) => m[0]).sort()).toEqual(keys);
    expect(p.data.count).toBe(45);
  });
});

describe('undelete plan: partitions listed at once', () => {
  it('pages of other partitions that land after one partition filled the slice are not taken: the next step lists them again, every marker once', async () => {
    // prepare: a/ holds 10 short keys, then 200 of about 1 KB (more than SLICE_BYTES of markers); b/, c/, d/ two short keys each
    const b = await bucket();
    const long = Array.from({ length: 200 }, (_, i) => `a/1-${String(i).padStart(3, '0')}-${'x'.repeat(1000)}`);
    const keys = [...Array.from({ length: 10 }, (_, i) => `a/0-${i}`), ...long, ...['b', 'c', 'd'].flatMap((p) => [`${p}/0`, `${p}/1`])];
    await motoAt(rig.moto().endpoint).putMany?.(b, keys.map((key) => ({ key, body: 'b' })));
    await deleteKeys(s3(), b, keys);
    // a/'s first page is its 10 short keys; b/, c/ and d/'s first pages are held until a/'s second page (which fills the slice) has landed
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    let aPages = 0;
    const late = { name: 'undelete-late-partitions', step: 'initialize' as const };
    s3().middlewareStack.add(
      (next, context) => async (args) => {
        const x = args.input as { Delimiter?: string; Prefix?: string; MaxKeys?: number };
        if (context.commandName !== 'ListObjectVersionsCommand' || x.Delimiter) return next(args);
        if (x.Prefix === 'a/') {
          const n = ++aPages;
          const r = await next(n === 1 ? { ...args, input: { ...x, MaxKeys: 10 } as typeof args.input } : args);
          if (n === 2) setTimeout(release, 0);
          return r;
        }
        await released;
        return next(args);
      },
      late,
    );
    // if a/'s second page is never asked for, the held pages go after half a second and the assertions say why
    const backstop = setTimeout(release, 500);
    let p: Awaited<ReturnType<typeof plan>>;
    try {
      // act
      p = await plan(input(b));
    } finally {
      clearTimeout(backstop);
      s3().middlewareStack.remove(late.name);
    }

    // assess: the first partition step's slice is a/'s alone (b/, c/, d/ listed by a later step), within SLICE_BYTES and the one marker that crossed it
    const marker = Math.max(...p.data.slices.flat().map((m) => Buffer.byteLength(JSON.stringify(m)) + 1));
    for (const slice of p.data.slices) expect(Buffer.byteLength(JSON.stringify(slice))).toBeLessThanOrEqual(SLICE_BYTES + marker);
    expect(p.data.slices[0]?.every((m) => m[0].startsWith('a/'))).toBe(true);
    expect(p.data.slices.flat().map((m) => m[0]).sort()).toEqual([...keys].sort());
  });
});

describe('undelete execute and verify', () => {
  it('removes exactly the planned markers, leaves every version and older marker, and verifies by listing', async () => {
    // prepare
    const b = await bucket();
    await put(b, 'a', 'one');
    await put(b, 'a', 'three');
    await del(b, 'a');
    await put(b, 'twice', '12');
    await del(b, 'twice');
    await put(b, 'twice', '1234');
    await del(b, 'twice');
    await put(b, 'live', 'here');
    await put(b, 'back', 'b');
    await del(b, 'back');
    await put(b, 'back', 'bb');
    const p = await plan(input(b));

    // act
    const out = await execute(input(b), p.data);

    // assess: each newest marker gone, nothing else touched
    expect(await history(b)).toEqual({
      a: { latest: 'v:5', older: [3], markers: 0 },
      twice: { latest: 'v:4', older: [2], markers: 1 },
      live: { latest: 'v:4', older: [], markers: 0 },
      back: { latest: 'v:2', older: [1], markers: 1 },
    });
    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(out.lines).toEqual([`Restored *2* objects in \`${b}\` (9 B planned).`, ':mag: Verified by listing: no restorable delete markers remain.']);
    expect(out.reports.at(-1)).toEqual([2, 2, 'restored']);
  });

  it('sends more than 1,000 markers as batches of at most 1,000 and counts each once', async () => {
    // prepare
    const { b } = await thousandAndOne();
    const p = await plan(input(b));
    const sizes: number[] = [];
    const undo = fail(s3(), 'DeleteObjectsCommand', { name: 'unused', message: 'unused' }, {
      when: (x) => {
        sizes.push((x.Delete as { Objects: unknown[] }).Objects.length);
        return false;
      },
    });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(p.data.count).toBe(1001);
    expect(p.listed.at(-1)).toBe(2002);
    expect(sizes.sort((x, y) => y - x)).toEqual([1000, 1]);
    expect(out.lines[0]).toBe(`Restored *1,001* objects in \`${b}\` (1001 B planned).`);
    expect(await listAllVersions(s3(), b).then((l) => l.markers.filter((m) => m.IsLatest))).toEqual([]);
    expect(out.reports.length).toBeGreaterThan(0);
    expect(out.reports.every(([done, total, label]) => done <= total && total === 1001 && label === 'restored')).toBe(true);
  });

  it('when one batch fails with a 500 after the other was deleted, sends that batch again in a new step and counts 1,001, not 2,001', async () => {
    // prepare
    const { b } = await thousandAndOne();
    const p = await plan(input(b));
    const undo = fail(s3(), 'DeleteObjectsCommand', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { when: batchOfOne, times: 1 });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out).toMatchObject({ ok: true, failures: [] });
    expect(out.lines).toEqual([`Restored *1,001* objects in \`${b}\` (1001 B planned).`, ':mag: Verified by listing: no restorable delete markers remain.']);
    expect(await listAllVersions(s3(), b).then((l) => l.markers.filter((m) => m.IsLatest))).toEqual([]);
  });

  it('when one batch is denied and the other deleted, stops with the exact count and names what is left', async () => {
    // prepare
    const { b, keys } = await thousandAndOne();
    const p = await plan(input(b));
    const undo = fail(s3(), 'DeleteObjectsCommand', { name: 'AccessDenied', message: 'Access Denied' }, { when: batchOfOne });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`Restored *1,000* objects in \`${b}\` (1001 B planned).`);
    expect(out.lines[1]).toMatch(/^:x: Stopped: .*denied/i);
    expect(out.lines[2]).toBe(':warning: Verified by listing: 1 of the planned delete markers still hide objects (failures below).');
    expect(out.failures[0]).toMatch(/denied/i);
    expect(await listAllVersions(s3(), b).then((l) => l.markers.filter((m) => m.IsLatest).map((m) => m.Key))).toEqual([keys.at(-1)]);
  });

  it('reports what changed between the plan and the execution: keys written again, keys deleted since (one, then two)', async () => {
    // prepare: one bucket with one change of each kind, one with two
    const one = await bucket();
    for (const k of ['x/a', 'x/b', 'x/c']) await put(one, k);
    await del(one, 'x/a');
    await del(one, 'x/b');
    const p1 = await plan(input(one));
    const two = await bucket();
    for (const k of ['a', 'b', 'c', 'd']) await put(two, k);
    await del(two, 'a');
    await del(two, 'b');
    const p2 = await plan(input(two));
    await nextSecond();
    await put(one, 'x/a', 'written again');
    await del(one, 'x/c');
    await put(two, 'a', 'again');
    await put(two, 'b', 'again');
    await del(two, 'c');
    await del(two, 'd');

    // act
    const out2 = await execute(input(two), p2.data);
    const out1 = await execute(input(one), p1.data);

    // assess
    expect(out1.ok).toBe(true);
    expect(out1.lines).toEqual([
      `Restored *2* objects in \`${one}\` (6 B planned).`,
      ':mag: Verified by listing: every planned delete marker is gone.',
      ':warning: 1 object was deleted after the plan was made and is still deleted: run the command again to plan its restore.',
      ':information_source: 1 key got a newer version after the plan was made, which stays current: removing the older delete marker changed nothing you can see.',
    ]);
    expect((await history(one))['x/c']?.latest).toBe('marker');
    expect(out2.ok).toBe(true);
    expect(out2.lines.slice(1)).toEqual([
      ':mag: Verified by listing: every planned delete marker is gone.',
      ':warning: 2 objects were deleted after the plan was made and are still deleted: run the command again to plan their restore.',
      ':information_source: 2 keys got a newer version after the plan was made, which stays current: removing the older delete marker changed nothing you can see.',
    ]);
  });

  it('when DeleteObjects is denied, stops, says so, fails the run and reports the planned markers still there', async () => {
    // prepare
    const b = await bucket();
    for (const k of ['d/1', 'd/2']) {
      await put(b, k);
      await del(b, k);
    }
    const p = await plan(input(b));
    const undo = fail(s3(), 'DeleteObjectsCommand', { name: 'AccessDenied', message: 'Access Denied' });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`Restored *0* objects in \`${b}\` (6 B planned).`);
    expect(out.lines[1]).toMatch(/^:x: Stopped: .*DeleteObjects.*denied/i);
    expect(out.lines[2]).toBe(':warning: Verified by listing: 2 of the planned delete markers still hide objects (failures below).');
    expect(out.failures[0]).toMatch(/denied/i);
    expect(await history(b)).toEqual({ 'd/1': { latest: 'marker', older: [3], markers: 0 }, 'd/2': { latest: 'marker', older: [3], markers: 0 } });
  });

  it('when DeleteObjects fails once with a 500, the batch goes again and every marker is removed once', async () => {
    // prepare
    const b = await bucket();
    for (const k of ['e/1', 'e/2']) {
      await put(b, k);
      await del(b, k);
    }
    const p = await plan(input(b));
    const undo = fail(s3(), 'DeleteObjectsCommand', { name: 'InternalError', message: 'We encountered an internal error', status: 500 }, { times: 1 });

    // act
    const out = await execute(input(b), p.data);
    undo();

    // assess
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toBe(`Restored *2* objects in \`${b}\` (6 B planned).`);
    expect(await history(b)).toEqual({ 'e/1': { latest: 'v:3', older: [], markers: 0 }, 'e/2': { latest: 'v:3', older: [], markers: 0 } });
  });

  it('delete markers S3 refuses one by one: counted, the first 50 of a step listed with their codes, the run failed; title and resources', async () => {
    // two batches (1,000 and 1) in one step: the step lists at most 50 of their failures together
    const { b } = await thousandAndOne();
    const p = await plan(input(b));
    // DeleteObjects answers every key with its own error (as S3 does for a key the role may not touch), nothing deleted
    stub(s3(), 'DeleteObjectsCommand', (x) => ({ Deleted: [], Errors: (x.Delete as { Objects: { Key: string; VersionId: string }[] }).Objects.map((o) => ({ Key: o.Key, VersionId: o.VersionId, Code: 'AccessDenied', Message: o.Key === 'bin/00001' ? `Access Denied: ${'x'.repeat(400)}` : 'Access Denied' })) }));

    const out = await execute(input(b), p.data);

    expect(out.ok).toBe(false);
    expect(out.failures).toHaveLength(50);
    expect(out.failures[0]).toBe('bin/00000: AccessDenied Access Denied');
    // a failure's line is cut at 300 characters
    expect(out.failures[1]).toBe(`bin/00001: AccessDenied Access Denied: ${'x'.repeat(400)}`.slice(0, 300));
    expect(out.lines).toEqual([
      `Restored *0* objects in \`${b}\` (1001 B planned).`,
      ':warning: Verified by listing: 1,001 of the planned delete markers still hide objects (failures below).',
      '1,001 delete markers could not be removed; the first 50 are listed.',
    ]);
    expect(undeleteRunbook.title(input(b))).toBe(`Undelete objects in ${b}`);
    expect(undeleteRunbook.title(input(b, { prefix: 'x/' }))).toBe(`Undelete objects in ${b} under a prefix`);
    expect(undeleteRunbook.title(input(b, { prefix: '' }))).toBe(`Undelete objects in ${b} under a prefix`);
    expect(undeleteRunbook.resources?.(input(b))).toEqual([`s3:${b}`]);
  });
});

describe('undelete execute over tens of thousands of markers: a batch that keeps failing beside batches that succeed, the batches a step, the failures listed (an in-memory bucket, as moto lists that many versions far too slowly for a run per mutant)', () => {
  /**
   * `count` planned markers `k00000`… in slices of 10,000, and DeleteObjects and ListObjectVersions
   * stubbed on the runbook's client over them: a batch whose first key is `bad` answers a 500 each
   * time; the others delete their markers, but for the keys `refused` names (a per-key AccessDenied,
   * the marker left). The batches sent, by their first key.
   */
  function inMemory(b: string, count: number, bad: string, refused: (key: string) => boolean = () => false): { data: UndeletePlan; sent: string[]; left: Set<string> } {
    const keys = Array.from({ length: count }, (_, i) => `k${String(i).padStart(5, '0')}`);
    const markers: MarkerRef[] = keys.map((k) => [k, `m-${k}`, 1_700_000_000]);
    const slices = Array.from({ length: Math.ceil(count / 10_000) }, (_, i) => markers.slice(i * 10_000, (i + 1) * 10_000));
    const data: UndeletePlan = { count, bytes: count, olderSkipped: 0, sample: keys.slice(0, 5), slices };
    const left = new Set(keys);
    const sent: string[] = [];
    stub<DeleteObjectsCommandOutput>(s3(), 'DeleteObjectsCommand', (x) => {
      if (x.Bucket !== b) return undefined;
      const objects = (x.Delete as { Objects: { Key: string; VersionId: string }[] }).Objects;
      sent.push(objects[0]?.Key ?? '');
      if (objects[0]?.Key === bad) throw sdkError({ name: 'InternalError', message: 'We encountered an internal error', status: 500 });
      const ok = objects.filter((o) => !refused(o.Key));
      for (const o of ok) left.delete(o.Key);
      const errors = objects.filter((o) => refused(o.Key)).map((o) => ({ Key: o.Key, VersionId: o.VersionId, Code: 'AccessDenied', Message: 'Access Denied' }));
      return { Deleted: ok.map((o) => ({ Key: o.Key, VersionId: o.VersionId, DeleteMarker: true })), ...(errors.length ? { Errors: errors } : {}) };
    });
    stub<ListObjectVersionsCommandOutput>(s3(), 'ListObjectVersionsCommand', (x) => {
      if (x.Bucket !== b) return undefined;
      const after = (x.KeyMarker as string | undefined) ?? '';
      const rest = [...left].filter((k) => k > after);
      const page = rest.slice(0, 1000);
      const truncated = rest.length > 1000;
      return {
        DeleteMarkers: page.map((k) => ({ Key: k, VersionId: `m-${k}`, IsLatest: true, LastModified: new Date(1_700_000_000_000) })),
        IsTruncated: truncated,
        ...(truncated ? { NextKeyMarker: page.at(-1), NextVersionIdMarker: `m-${page.at(-1)}` } : {}),
      };
    });
    return { data, sent, left };
  }

  it('sends it again three times, each in a new step with other batches, then stops: the count exact, batches not yet sent left, nothing sent twice but it', async () => {
    // prepare: 40 batches of 1,000; the first keeps failing with a 500
    const b = await bucket();
    const { data, sent, left } = inMemory(b, 40_000, 'k00000');

    // act
    const out = await rig.executeWatched(undeleteRunbook, input(b), data);

    // assess: the failing batch sent 4 times (once, then its 3 retries), each time in a step of its own
    // beside batches that succeeded; the ones queued behind it skipped once it failed (sent in a later
    // step, or never: the run stopped before them); no other batch sent twice
    expect(sent.filter((k) => k === 'k00000')).toHaveLength(4);
    expect(out.checkpoints).toEqual(['undelete-0', 'undelete-1', 'undelete-2', 'undelete-3', 'verify']);
    const others = sent.filter((k) => k !== 'k00000');
    expect(new Set(others).size).toBe(others.length);
    const beside = sent.join(' ').split('k00000').slice(1).map((x) => x.trim().split(' ').filter(Boolean).length);
    expect(beside.every((n) => n >= 1 && n < 16)).toBe(true);
    expect(others.length).toBeLessThan(39);
    const restored = others.length * 1000;
    expect(left.size).toBe(40_000 - restored);
    expect(out.ok).toBe(false);
    expect(out.lines.slice(0, 3)).toEqual([
      `Restored *${restored.toLocaleString('en-US')}* objects in \`${b}\` (39.1 KB planned).`,
      `:x: Stopped: DeleteObjects on \`${b}\` failed: We encountered an internal error. Check the AWS console or the bot logs with the correlation id.`,
      `:warning: Verified by listing: ${left.size.toLocaleString('en-US')} of the planned delete markers still hide objects (failures below).`,
    ]);
    expect(out.reports.at(-1)).toEqual([restored, 40_000, 'restored']);
  });

  it('sends at most 16 batches a step: 17 batches of 1,000 take two steps, 16 exactly one (no empty batch after the last full one)', async () => {
    for (const [count, checkpoints] of [
      [17_000, ['undelete-0', 'undelete-1', 'verify']],
      [16_000, ['undelete-0', 'verify']],
    ] as const) {
      // prepare: `count` markers, none failing
      const b = await bucket();
      const { data, sent, left } = inMemory(b, count, 'none');

      // act
      const out = await rig.executeWatched(undeleteRunbook, input(b), data);

      // assess: 16 batches a step, every marker removed once
      expect(out.checkpoints).toEqual(checkpoints);
      expect(sent).toHaveLength(count / 1000);
      expect(left.size).toBe(0);
      expect(out.ok).toBe(true);
    }
  });

  it('lists at most 200 refused markers over the whole run (50 a step), and counts them all', async () => {
    // prepare: 65,000 markers (5 steps of up to 16 batches); every key ending in 0 refused: 6,500
    const b = await bucket();
    const { data, left } = inMemory(b, 65_000, 'none', (k) => k.endsWith('0'));

    // act
    const out = await rig.executeWatched(undeleteRunbook, input(b), data);

    // assess: 5 steps of 50 failures each, cut to the first 200
    expect(out.checkpoints).toEqual(['undelete-0', 'undelete-1', 'undelete-2', 'undelete-3', 'undelete-4', 'verify']);
    expect(left.size).toBe(6_500);
    expect(out.failures).toHaveLength(200);
    expect(out.failures[0]).toBe('k00000: AccessDenied Access Denied');
    expect(out.lines).toContain('6,500 delete markers could not be removed; the first 200 are listed.');
    expect(out.ok).toBe(false);
  });
});
