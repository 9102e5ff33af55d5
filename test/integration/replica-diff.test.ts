import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { compareKeys } from '../../src/aws/s3';
import { compareBuckets, verifyCopy } from '../../src/runbooks/restore-s3/replica';
import { nextSecond } from '../helpers/flow';
import { useMoto } from '../helpers/moto';

describe('compareBuckets', () => {
  const moto = useMoto();

  it('counts the different objects whose primary copy is newer than the replica (copy-back would make them older)', async () => {
    // Prepare: "lagging" is older in the replica; "stale" is older in the primary; "same" matches
    const s3 = moto().clients.s3();
    for (const b of ['diff-primary', 'diff-replica']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    const put = (b: string, key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
    await put('diff-replica', 'lagging', 'v1');
    await put('diff-primary', 'stale', 'v1');
    await put('diff-primary', 'same', 'x');
    await put('diff-primary', 'only-mine', 'z');
    await put('diff-replica', 'same', 'x');
    await put('diff-replica', 'gone', 'y');
    // same size, different bytes: only the ETag tells them apart (the primary's written first, so
    // it is never the newer, whichever second each lands in)
    await put('diff-primary', 'same-size', 'ba');
    await put('diff-replica', 'same-size', 'ab');
    await nextSecond(); // S3 LastModified has one-second resolution
    await put('diff-primary', 'lagging', 'v2-newer');
    await put('diff-replica', 'stale', 'v2-newer');

    // Act
    const d = await compareBuckets({ primary: s3, replicaClient: s3, bucket: 'diff-primary', replica: 'diff-replica' }, 10);

    // Assess: in key order, one pass
    expect(d.sample).toEqual([
      { key: 'gone', verdict: 'missing' },
      { key: 'lagging', verdict: 'different' },
      { key: 'same-size', verdict: 'different' },
      { key: 'stale', verdict: 'different' },
    ]);
    expect(d).toMatchObject({ missing: 1, different: 3, newerInPrimary: 1, same: 1, onlyInPrimary: 1, bytes: 1 + 2 + 2 + 8 });
  });

  it('counts the same, cut into key ranges at any bounds, as in one pass (the copy-back verify)', async () => {
    // Prepare: 40 keys of every verdict, two of them outside the BMP (S3 orders by UTF-8 bytes)
    const s3 = moto().clients.s3();
    for (const b of ['ranges-primary', 'ranges-replica']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = Array.from({ length: 38 }, (_, i) => `k/${String(i).padStart(2, '0')}`).concat(['k/\u{1F600}', 'k/\uFFFD']);
    await Promise.all(
      keys.map(async (key, i) => {
        const kind = i % 4; // 0 same, 1 missing, 2 different, 3 only in the primary
        if (kind !== 3) await s3.send(new PutObjectCommand({ Bucket: 'ranges-replica', Key: key, Body: `r${i}` }));
        if (kind !== 1) await s3.send(new PutObjectCommand({ Bucket: 'ranges-primary', Key: key, Body: kind === 2 ? `p${i}!` : `r${i}` }));
      }),
    );
    const sides = { primary: s3, replicaClient: s3, bucket: 'ranges-primary', replica: 'ranges-replica' };
    const whole = await compareBuckets(sides, 0);
    expect(whole).toMatchObject({ same: 10, missing: 10, different: 10, onlyInPrimary: 10 });
    // Bounds: keys of the buckets and names between them, before the first and after the last
    const candidates = [...keys, 'a', 'k/', 'k/05x', 'k/17~', 'z'];

    // Act / assess: any ascending set of bounds gives the one pass's counts
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...candidates), { maxLength: 12 }), async (picked) => {
        const bounds = [...picked].sort(compareKeys);
        const cut = await verifyCopy(sides, bounds);
        expect(cut).toEqual({ ...whole, sample: [] });
      }),
      { numRuns: 30 },
    );
  });
});
