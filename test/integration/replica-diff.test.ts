import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { compareBuckets } from '../../src/runbooks/restore-s3/replica';
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
});
