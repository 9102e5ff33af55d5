import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  assertVersioned,
  copyObjectServerSide,
  deleteVersions,
  getBucketPosture,
  listObjectsIndex,
  listVersionsPage,
  type VersionsPage,
} from '../../src/aws/s3';
import { PreconditionError } from '../../src/errors';
import { motoAt } from '../../src/local/moto';
import { useMoto } from '../helpers/moto';

const moto = useMoto();

function s3(): S3Client {
  return moto().clients.s3();
}

async function bucket(name: string, versioned: boolean): Promise<string> {
  await s3().send(new CreateBucketCommand({ Bucket: name }));
  if (versioned) await s3().send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  return name;
}

async function put(b: string, key: string, body: string): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
}

async function allPages(b: string, prefix?: string, maxKeys?: number): Promise<VersionsPage[]> {
  const pages: VersionsPage[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await listVersionsPage(s3(), {
      bucket: b,
      ...(prefix ? { prefix } : {}),
      ...(keyMarker ? { keyMarker } : {}),
      ...(versionIdMarker ? { versionIdMarker } : {}),
      ...(maxKeys ? { maxKeys } : {}),
    });
    pages.push(page);
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
    if (!page.truncated) break;
  } while (pages.length < 100);
  return pages;
}

describe('getBucketPosture', () => {
  it('reads versioning, noncurrent expiry, Glacier transitions and replication with RTC', async () => {
    // prepare
    const b = await bucket('posture-full', true);
    await bucket('posture-full-replica', true);
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: b,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'expire', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
            {
              ID: 'archive',
              Status: 'Enabled',
              Filter: { Prefix: 'results/' },
              Transitions: [
                { Days: 30, StorageClass: 'GLACIER' },
                { Days: 90, StorageClass: 'DEEP_ARCHIVE' },
              ],
            },
            { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'x/' }, Transitions: [{ Days: 1, StorageClass: 'GLACIER' }] },
          ],
        },
      }),
    );
    await s3().send(
      new PutBucketReplicationCommand({
        Bucket: b,
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::123456789012:role/s3-replication-role',
          Rules: [
            {
              ID: 'all',
              Priority: 1,
              Status: 'Enabled',
              Filter: { Prefix: '' },
              DeleteMarkerReplication: { Status: 'Enabled' },
              Destination: {
                Bucket: 'arn:aws:s3:::posture-full-replica',
                ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
                Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
              },
            },
          ],
        },
      }),
    );

    // act
    const p = await getBucketPosture(s3(), b);

    // assess
    expect(p).toEqual({
      bucket: b,
      exists: true,
      versioning: 'Enabled',
      noncurrentExpirationDays: 90,
      transitions: [
        { days: 30, storageClass: 'GLACIER', prefix: 'results/' },
        { days: 90, storageClass: 'DEEP_ARCHIVE', prefix: 'results/' },
      ],
      replication: {
        ruleId: 'all',
        enabled: true,
        destinationBucket: 'posture-full-replica',
        rtc: true,
        metrics: true,
        // moto always answers DeleteMarkerReplication Disabled, whatever was put.
        deleteMarkerReplication: false,
      },
    });
  });

  it('treats a missing lifecycle and replication configuration as not configured, not as an error', async () => {
    // prepare
    const b = await bucket('posture-bare', true);

    // act
    const p = await getBucketPosture(s3(), b);

    // assess
    expect(p).toEqual({ bucket: b, exists: true, versioning: 'Enabled', transitions: [] });
  });

  it('reports versioning Off for a bucket never versioned and Suspended after suspension', async () => {
    // prepare
    const off = await bucket('posture-off', false);
    const suspended = await bucket('posture-suspended', true);
    await s3().send(new PutBucketVersioningCommand({ Bucket: suspended, VersioningConfiguration: { Status: 'Suspended' } }));

    // act
    const [pOff, pSuspended] = await Promise.all([getBucketPosture(s3(), off), getBucketPosture(s3(), suspended)]);

    // assess
    expect(pOff.versioning).toBe('Off');
    expect(pSuspended.versioning).toBe('Suspended');
    expect(pOff.error).toBeUndefined();
  });

  it('reports exists false for a bucket that does not exist', async () => {
    // act
    const p = await getBucketPosture(s3(), 'posture-no-such-bucket');

    // assess
    expect(p).toEqual({ bucket: 'posture-no-such-bucket', exists: false, versioning: 'Off', transitions: [] });
  });
});

describe('assertVersioned', () => {
  it('passes for a versioned bucket', async () => {
    // prepare
    const b = await bucket('assert-versioned', true);

    // act + assess
    await expect(assertVersioned(s3(), b)).resolves.toBe('Enabled');
  });

  it('throws bucket_not_versioned with a hint to enable versioning', async () => {
    // prepare
    const b = await bucket('assert-unversioned', false);

    // act
    const run = assertVersioned(s3(), b);

    // assess
    await expect(run).rejects.toBeInstanceOf(PreconditionError);
    await expect(run).rejects.toMatchObject({ code: 'bucket_not_versioned' });
    const err = (await run.catch((e: unknown) => e)) as PreconditionError;
    expect(err.message).toContain(b);
    expect(err.hint).toContain('put-bucket-versioning');
    expect(err.hint).toContain('--from-replica');
  });

  it('accepts a Suspended bucket (its delete markers can still be removed) and says so', async () => {
    // prepare
    const b = await bucket('assert-suspended', true);
    await s3().send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));

    // act + assess
    await expect(assertVersioned(s3(), b)).resolves.toBe('Suspended');
  });

  it('throws aws_not_found naming a bucket that does not exist', async () => {
    // act + assess
    await expect(assertVersioned(s3(), 'assert-missing')).rejects.toMatchObject({ code: 'aws_not_found', resource: 'assert-missing' });
  });
});

describe('listVersionsPage', () => {
  it('pages through versions and delete markers with the next markers', async () => {
    // prepare
    const b = await bucket('versions-paged', true);
    for (let i = 0; i < 6; i++) await put(b, `bin/f${i}`, `v1-${i}`);
    await put(b, 'bin/f0', 'v2-0');
    await s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'bin/f1' }));
    await s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'bin/f2' }));
    await put(b, 'other/x', 'not under the prefix');

    // act
    const pages = await allPages(b, 'bin/', 3);

    // assess
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.slice(0, -1).every((p) => p.truncated && p.nextKeyMarker)).toBe(true);
    expect(pages[pages.length - 1]?.truncated).toBe(false);
    const versions = pages.flatMap((p) => p.versions);
    const markers = pages.flatMap((p) => p.deleteMarkers);
    expect(versions).toHaveLength(7);
    expect(new Set(versions.map((v) => `${v.key}@${v.versionId}`)).size).toBe(7);
    expect(markers.map((m) => m.key).sort()).toEqual(['bin/f1', 'bin/f2']);
    expect(markers.every((m) => m.isLatest && m.lastModified instanceof Date)).toBe(true);
    const f0 = versions.filter((v) => v.key === 'bin/f0');
    expect(f0.map((v) => v.isLatest).sort()).toEqual([false, true]);
    expect(f0.every((v) => v.size === 4 && typeof v.etag === 'string')).toBe(true);
    expect(versions.some((v) => v.key.startsWith('other/'))).toBe(false);
  });
});

describe('deleteVersions', () => {
  it('removes delete markers so the objects come back', async () => {
    // prepare
    const b = await bucket('undelete', true);
    const keys = Array.from({ length: 30 }, (_, i) => `lib/k${i}`);
    await Promise.all(keys.map((k) => put(b, k, `body ${k}`)));
    await Promise.all(keys.slice(0, 20).map((k) => s3().send(new DeleteObjectCommand({ Bucket: b, Key: k }))));
    const markers = (await allPages(b)).flatMap((p) => p.deleteMarkers);
    expect(markers).toHaveLength(20);

    // act
    const result = await deleteVersions(
      s3(),
      b,
      markers.map((m) => ({ key: m.key, versionId: m.versionId })),
    );

    // assess
    expect(result).toEqual({ deleted: 20, errors: [] });
    expect((await allPages(b)).flatMap((p) => p.deleteMarkers)).toHaveLength(0);
    const index = await listObjectsIndex(s3(), b);
    expect(index.size).toBe(30);
    const body = await (await s3().send(new GetObjectCommand({ Bucket: b, Key: 'lib/k3' }))).Body?.transformToString();
    expect(body).toBe('body lib/k3');
  });

  it('throws aws_not_found naming the bucket when the bucket is gone', async () => {
    // act + assess
    await expect(deleteVersions(s3(), 'undelete-missing', [{ key: 'a', versionId: 'null' }])).rejects.toMatchObject({
      code: 'aws_not_found',
      resource: 'undelete-missing',
    });
  });
});

describe('listObjectsIndex', () => {
  it('indexes every current object across ListObjectsV2 pages (more than 1,000 keys)', async () => {
    // prepare
    const b = await bucket('index-big', false);
    const keys = Array.from({ length: 1105 }, (_, i) => `bin/${String(i).padStart(4, '0')}`);
    // one bulk write through moto's own S3 backend (as PutObject writes), not 1,105 requests
    await motoAt(moto().endpoint).putMany?.(b, keys.map((key) => ({ key, body: 'x'.repeat(3) })));
    await put(b, 'elsewhere/y', 'yy');

    // act
    const all = await listObjectsIndex(s3(), b);
    const bin = await listObjectsIndex(s3(), b, 'bin/');

    // assess
    expect(all.size).toBe(1106);
    expect(bin.size).toBe(1105);
    expect(bin.get('bin/1104')).toEqual({ size: 3, etag: expect.stringMatching(/^"?[0-9a-f]{32}"?$/), lastModified: expect.any(Number) });
    expect(bin.has('elsewhere/y')).toBe(false);
  });
});

describe('copyObjectServerSide', () => {
  it('copies an object whose key needs URL encoding between buckets', async () => {
    // prepare
    const src = await bucket('copy-src', true);
    const dst = await bucket('copy-dst', true);
    const key = 'bin/spawn tool+v1 ü.bin';
    await put(src, key, 'replica content');
    const etag = (await listObjectsIndex(s3(), src)).get(key)?.etag;

    // act
    const result = await copyObjectServerSide(s3(), { sourceBucket: src, destBucket: dst, key, size: 15, ...(etag ? { etag } : {}) });

    // assess
    expect(result).toEqual({ key, bytes: 15, multipart: false });
    const body = await (await s3().send(new GetObjectCommand({ Bucket: dst, Key: key }))).Body?.transformToString();
    expect(body).toBe('replica content');
  });

  it('copies back from a replica bucket in another region with the destination-region client', async () => {
    // prepare (moto ignores CopySourceIfMatch, so the stale-ETag guard is covered in test/unit/s3-batching.test.ts)
    const west = moto().clients.s3('us-west-2');
    await west.send(new CreateBucketCommand({ Bucket: 'copy-west-replica', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    await west.send(new PutObjectCommand({ Bucket: 'copy-west-replica', Key: 'lib/libspawn.so', Body: 'from the west' }));
    const dst = await bucket('copy-east-primary', true);

    // act
    const result = await copyObjectServerSide(s3(), { sourceBucket: 'copy-west-replica', destBucket: dst, key: 'lib/libspawn.so', size: 13 });

    // assess
    expect(result.multipart).toBe(false);
    const body = await (await s3().send(new GetObjectCommand({ Bucket: dst, Key: 'lib/libspawn.so' }))).Body?.transformToString();
    expect(body).toBe('from the west');
  });
});
