import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { diffBuckets } from '../../src/runbooks/restore-s3/replica';
import { nextSecond } from '../helpers/flow';
import { useMoto } from '../helpers/moto';

describe('diffBuckets', () => {
  const moto = useMoto();

  it('counts the different objects whose primary copy is newer than the replica (copy-back would make them older)', async () => {
    // Prepare: "lagging" is older in the replica; "stale" is older in the primary; "same" matches
    const s3 = moto().clients.s3();
    for (const b of ['diff-primary', 'diff-replica']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    const put = (b: string, key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
    await put('diff-replica', 'lagging', 'v1');
    await put('diff-primary', 'stale', 'v1');
    await put('diff-primary', 'same', 'x');
    await put('diff-replica', 'same', 'x');
    await put('diff-replica', 'gone', 'y');
    // same size, different bytes: only the ETag tells them apart
    await put('diff-replica', 'same-size', 'ab');
    await put('diff-primary', 'same-size', 'ba');
    await nextSecond(); // S3 LastModified has one-second resolution
    await put('diff-primary', 'lagging', 'v2-newer');
    await put('diff-replica', 'stale', 'v2-newer');

    // Act
    const d = await diffBuckets(s3, s3, 'diff-primary', 'diff-replica');

    // Assess
    expect(d.missing.map((o) => o.key)).toEqual(['gone']);
    expect(d.different.map((o) => o.key).sort()).toEqual(['lagging', 'same-size', 'stale']);
    expect(d.newerInPrimary).toBe(1);
    expect(d.same).toBe(1);
  });
});
