import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
  type DeleteObjectsCommandInput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  COPY_OBJECT_MAX_BYTES,
  DELETE_OBJECTS_MAX,
  copyObjectServerSide,
  deleteVersions,
  type VersionRef,
} from '../../src/aws/s3';
import { AwsCallError } from '../../src/errors';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const BUCKET = 'spawn-binaries-us-east-1';

function items(n: number): VersionRef[] {
  return Array.from({ length: n }, (_, i) => ({ key: `bin/obj-${String(i).padStart(5, '0')}`, versionId: `v${i}` }));
}

function objects(refs: VersionRef[]) {
  return refs.map((r) => ({ Key: r.key, VersionId: r.versionId }));
}

/** The exact inputs of every DeleteObjects call, in call order. */
function deleteInputs() {
  return s3Mock.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input);
}

function accessDenied(): S3ServiceException {
  return new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' });
}

beforeEach(() => {
  s3Mock.reset();
});

describe('deleteVersions', () => {
  it('sends 2,500 items as three quiet DeleteObjects calls of at most 1,000 keys', async () => {
    // prepare
    const all = items(2500);
    s3Mock.on(DeleteObjectsCommand).resolves({});
    const progress: number[] = [];

    // act
    const result = await deleteVersions(s3, BUCKET, all, { onProgress: (n) => progress.push(n) });

    // assess
    expect(DELETE_OBJECTS_MAX).toBe(1000);
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 3);
    expect(deleteInputs()).toEqual([
      { Bucket: BUCKET, Delete: { Objects: objects(all.slice(0, 1000)), Quiet: true } },
      { Bucket: BUCKET, Delete: { Objects: objects(all.slice(1000, 2000)), Quiet: true } },
      { Bucket: BUCKET, Delete: { Objects: objects(all.slice(2000)), Quiet: true } },
    ]);
    const sizes = deleteInputs().map((i) => i.Delete?.Objects?.length);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(result).toEqual({ deleted: 2500, errors: [] });
    expect(progress).toHaveLength(3);
    expect(progress[progress.length - 1]).toBe(2500);
  });

  it('never has more than `concurrency` DeleteObjects calls in flight', async () => {
    // prepare
    let inFlight = 0;
    let peak = 0;
    s3Mock.on(DeleteObjectsCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return {};
    });

    // act
    const result = await deleteVersions(s3, BUCKET, items(7500), { concurrency: 2 });

    // assess
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 8);
    expect(peak).toBe(2);
    expect(result.deleted).toBe(7500);
  });

  it('retries only the keys that failed with InternalError, after a backoff, until they succeed', async () => {
    // prepare
    const all = items(10);
    const failing = [all[3], all[7]] as VersionRef[];
    s3Mock
      .on(DeleteObjectsCommand)
      .resolvesOnce({
        Errors: failing.map((f) => ({ Key: f.key, VersionId: f.versionId, Code: 'InternalError', Message: 'We encountered an internal error.' })),
      })
      .resolves({});
    const sleep = jest.fn(async (_ms: number) => undefined);

    // act
    const result = await deleteVersions(s3, BUCKET, all, { sleep });

    // assess
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 2);
    expect(deleteInputs()).toEqual([
      { Bucket: BUCKET, Delete: { Objects: objects(all), Quiet: true } },
      { Bucket: BUCKET, Delete: { Objects: objects(failing), Quiet: true } },
    ]);
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(sleep).toHaveBeenCalledWith(100);
    expect(result).toEqual({ deleted: 10, errors: [] });
  });

  it('reports a key that keeps failing after maxRetries and deletes the rest', async () => {
    // prepare
    const all = items(5);
    const bad = all[2] as VersionRef;
    s3Mock.on(DeleteObjectsCommand).callsFake((input: DeleteObjectsCommandInput) => ({
      Errors: (input.Delete?.Objects ?? [])
        .filter((o) => o.Key === bad.key)
        .map((o) => ({ Key: o.Key, VersionId: o.VersionId, Code: 'InternalError', Message: 'still broken' })),
    }));
    const sleep = jest.fn(async (_ms: number) => undefined);

    // act
    const result = await deleteVersions(s3, BUCKET, all, { maxRetries: 3, sleep });

    // assess
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 4);
    expect(sleep.mock.calls.map((c) => c[0])).toEqual([100, 200, 400]);
    expect(s3Mock).toHaveReceivedNthSpecificCommandWith(1, DeleteObjectsCommand, {
      Bucket: BUCKET,
      Delete: { Objects: objects(all), Quiet: true },
    });
    for (const n of [2, 3, 4]) {
      expect(s3Mock).toHaveReceivedNthSpecificCommandWith(n, DeleteObjectsCommand, {
        Bucket: BUCKET,
        Delete: { Objects: objects([bad]), Quiet: true },
      });
    }
    expect(result).toEqual({
      deleted: 4,
      errors: [{ key: bad.key, versionId: bad.versionId, code: 'InternalError', message: 'still broken' }],
    });
  });

  it('reports a per-key AccessDenied at once without retrying it', async () => {
    // prepare
    const all = items(3);
    const denied = all[0] as VersionRef;
    s3Mock.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: denied.key, VersionId: denied.versionId, Code: 'AccessDenied', Message: 'Access Denied' }],
    });
    const sleep = jest.fn(async (_ms: number) => undefined);

    // act
    const result = await deleteVersions(s3, BUCKET, all, { sleep });

    // assess
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 1);
    expect(sleep).not.toHaveBeenCalled();
    expect(result.deleted).toBe(2);
    expect(result.errors).toEqual([{ key: denied.key, versionId: denied.versionId, code: 'AccessDenied', message: 'Access Denied' }]);
  });

  it('throws aws_access_denied naming the bucket when a whole call is denied, and sends no more batches', async () => {
    // prepare
    s3Mock.on(DeleteObjectsCommand).rejects(accessDenied());

    // act
    const run = deleteVersions(s3, BUCKET, items(2500), { concurrency: 1 });

    // assess
    await expect(run).rejects.toBeInstanceOf(AwsCallError);
    await expect(run).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'DeleteObjects', resource: BUCKET });
    await expect(run).rejects.toThrow(BUCKET);
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 1);
  });

  it('tells each answer to the adaptive window: throttled when a key got SlowDown, when the SDK retried, or when the call was throttled (aws-sdk-client-mock: moto never throttles)', async () => {
    // prepare: call 1 clean; call 2 a per-key SlowDown (then the retry, clean); call 3 answered after SDK retries; call 4 throttled as a whole
    const answers: boolean[] = [];
    s3Mock
      .on(DeleteObjectsCommand)
      .resolvesOnce({ $metadata: { attempts: 1 } })
      .resolvesOnce({ $metadata: { attempts: 1 }, Errors: [{ Key: 'bin/obj-01000', VersionId: 'v1000', Code: 'SlowDown', Message: 'Please reduce your request rate.' }] })
      .resolvesOnce({ $metadata: { attempts: 1 } })
      .resolvesOnce({ $metadata: { attempts: 3 } })
      .rejectsOnce(Object.assign(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' })));

    // act
    const r = await deleteVersions(s3, BUCKET, items(3000), { concurrency: 1, sleep: async () => undefined, onAnswer: (t) => answers.push(t) });
    const refused = await deleteVersions(s3, BUCKET, items(1), { onAnswer: (t) => answers.push(t) }).catch((e: unknown) => e);

    // assess
    expect(r.deleted).toBe(3000);
    expect(answers).toEqual([false, true, false, true, true]);
    expect(refused).toBeInstanceOf(AwsCallError);
  });

  it('makes no call for an empty list', async () => {
    // act
    const result = await deleteVersions(s3, BUCKET, []);

    // assess
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectsCommand, 0);
    expect(result).toEqual({ deleted: 0, errors: [] });
  });
});

describe('copyObjectServerSide', () => {
  const SIX_GIB = 6 * 1024 ** 3;
  const key = 'bin/spawn tool+v1.bin';
  const encodedSource = 'spawn-binaries-us-west-2-backup/bin/spawn%20tool%2Bv1.bin';

  it('copies a 6 GiB object as twelve 512 MiB UploadPartCopy ranges and completes the upload', async () => {
    // prepare
    s3Mock.on(HeadObjectCommand).resolves({ ContentType: 'application/x-executable', Metadata: { build: '42' } });
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3Mock.on(UploadPartCopyCommand).callsFake((input: { PartNumber?: number }) => ({
      CopyPartResult: { ETag: `"etag-${input.PartNumber}"` },
    }));
    s3Mock.on(CompleteMultipartUploadCommand).resolves({});

    // act
    const result = await copyObjectServerSide(s3, {
      sourceBucket: 'spawn-binaries-us-west-2-backup',
      destBucket: 'spawn-binaries-us-east-1',
      key,
      size: SIX_GIB,
      etag: '"abc-12"',
    });

    // assess
    expect(result).toEqual({ key, bytes: SIX_GIB, multipart: true });
    expect(s3Mock).toHaveReceivedCommandTimes(CopyObjectCommand, 0);
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: 'spawn-binaries-us-east-1',
      Key: key,
      ContentType: 'application/x-executable',
      Metadata: { build: '42' },
    });
    const expectedRanges = [
      'bytes=0-536870911',
      'bytes=536870912-1073741823',
      'bytes=1073741824-1610612735',
      'bytes=1610612736-2147483647',
      'bytes=2147483648-2684354559',
      'bytes=2684354560-3221225471',
      'bytes=3221225472-3758096383',
      'bytes=3758096384-4294967295',
      'bytes=4294967296-4831838207',
      'bytes=4831838208-5368709119',
      'bytes=5368709120-5905580031',
      'bytes=5905580032-6442450943',
    ];
    const partCalls = s3Mock.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input);
    expect(partCalls).toEqual(
      expectedRanges.map((range, i) => ({
        Bucket: 'spawn-binaries-us-east-1',
        Key: key,
        UploadId: 'upload-1',
        PartNumber: i + 1,
        CopySource: encodedSource,
        CopySourceRange: range,
        CopySourceIfMatch: '"abc-12"',
      })),
    );
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Bucket: 'spawn-binaries-us-east-1',
      Key: key,
      UploadId: 'upload-1',
      MultipartUpload: { Parts: expectedRanges.map((_, i) => ({ PartNumber: i + 1, ETag: `"etag-${i + 1}"` })) },
    });
    expect(s3Mock).toHaveReceivedCommandTimes(AbortMultipartUploadCommand, 0);
  });

  it('aborts the multipart upload when a part copy fails and throws the wrapped error', async () => {
    // prepare
    s3Mock.on(HeadObjectCommand).resolves({});
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-2' });
    s3Mock.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"ok"' } });
    s3Mock.on(UploadPartCopyCommand, { PartNumber: 5 }).rejects(accessDenied());

    // act
    const run = copyObjectServerSide(s3, { sourceBucket: 'src', destBucket: 'dst', key: 'big.bin', size: SIX_GIB });

    // assess
    await expect(run).rejects.toMatchObject({ code: 'aws_access_denied' });
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { Bucket: 'dst', Key: 'big.bin', UploadId: 'upload-2' });
    expect(s3Mock).toHaveReceivedCommandTimes(CompleteMultipartUploadCommand, 0);
  });

  it('uses one CopyObject with a URL-encoded CopySource up to exactly 5 GiB', async () => {
    // prepare
    s3Mock.on(CopyObjectCommand).resolves({});

    // act
    const result = await copyObjectServerSide(s3, {
      sourceBucket: 'spawn-binaries-us-west-2-backup',
      destBucket: 'spawn-binaries-us-east-1',
      key,
      size: COPY_OBJECT_MAX_BYTES,
    });

    // assess
    expect(result).toEqual({ key, bytes: COPY_OBJECT_MAX_BYTES, multipart: false });
    expect(s3Mock).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(s3Mock).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: 'spawn-binaries-us-east-1',
      Key: key,
      CopySource: encodedSource,
    });
    expect(s3Mock).toHaveReceivedCommandTimes(CreateMultipartUploadCommand, 0);
  });

  it('tells the adaptive window whether the copy was throttled (aws-sdk-client-mock: moto never throttles)', async () => {
    // prepare
    const answers: boolean[] = [];
    s3Mock.on(CopyObjectCommand).resolvesOnce({ $metadata: { attempts: 1 } }).resolvesOnce({ $metadata: { attempts: 2 } }).rejectsOnce(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }));
    const copy = () => copyObjectServerSide(s3, { sourceBucket: 'replica', destBucket: BUCKET, key: 'bin/a', size: 1, onAnswer: (t) => answers.push(t) });

    // act
    await copy();
    await copy();
    const refused = await copy().catch((e: unknown) => e);

    // assess: each copy sent once, and its answer told
    expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(3);
    expect(answers).toEqual([false, true, true]);
    expect(refused).toBeInstanceOf(AwsCallError);
  });

  it('guards CopyObject with CopySourceIfMatch when the indexed ETag is given', async () => {
    // prepare
    s3Mock.on(CopyObjectCommand).resolves({});

    // act
    await copyObjectServerSide(s3, { sourceBucket: 'src', destBucket: 'dst', key: 'a.bin', size: 11, etag: '"0123"' });

    // assess
    expect(s3Mock.commandCalls(CopyObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'dst', Key: 'a.bin', CopySource: 'src/a.bin', CopySourceIfMatch: '"0123"' },
    ]);
  });

  it('throws the wrapped PreconditionFailed when the source changed since it was indexed', async () => {
    // prepare
    s3Mock
      .on(CopyObjectCommand)
      .rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' }));

    // act
    const run = copyObjectServerSide(s3, { sourceBucket: 'src', destBucket: 'dst', key: 'a.bin', size: 11, etag: '"0123"' });

    // assess
    await expect(run).rejects.toMatchObject({ code: 'aws_error', operation: 'CopyObject', resource: 'dst/a.bin', awsCode: 'PreconditionFailed' });
  });
});
