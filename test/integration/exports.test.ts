/**
 * What the export verbs share (src/runbooks/exports.ts) on their own, against moto's S3: where an
 * export goes, how it is written and read back by checksum, what a read-back that did not verify
 * says, HeadObject and `latest.json` pointers, and AWS refusing each. The verbs' tests reach these
 * through whole runs; here each rule is asserted once, directly, so `npm run mutate` can judge this
 * module by tests that take a second.
 *
 * moto enforces no IAM policy: AccessDenied is SDK middleware (test/helpers/faults.ts) on the client
 * under test; so is an answer without metadata or a date, which moto always sends.
 */
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { backupTarget, getText, headObject, noBackupBucket, putObject, readBack, readBackFailure, readBackLine, readLatest, requireBackupBucket, sha256Hex, ymd } from '../../src/runbooks/exports';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { useMoto } from '../helpers/moto';

const moto = useMoto();
afterEach(undoFaults);
const BUCKET = 'exports-test';
let n = 0;
const s3 = (region = 'us-east-1'): S3Client => moto().clients.s3(region);
const key = () => `k/${++n}.json`;
const raw = (body: string, k = key()) => s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: body, ContentLength: Buffer.byteLength(body) })).then(() => k);

beforeAll(async () => {
  await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
});

describe('where an export goes', () => {
  const NO_BUCKET = {
    code: 'no_backup_bucket',
    message: 'No backup bucket is configured, so there is nowhere to write the export.',
    hint: 'Set `backupBucket` in the drbot config (a versioned bucket; `/dr setup` can create it).',
  };

  it('no backup bucket configured: refused, saying where to set one; configured: that bucket', () => {
    // act / assess
    expect(noBackupBucket()).toMatchObject(NO_BUCKET);
    expect(() => requireBackupBucket({ ...SANDBOX_CONFIG, backupBucket: undefined })).toThrow(expect.objectContaining(NO_BUCKET));
    expect(() => requireBackupBucket({ ...SANDBOX_CONFIG, backupBucket: '' })).toThrow(expect.objectContaining(NO_BUCKET));
    expect(requireBackupBucket({ ...SANDBOX_CONFIG, backupBucket: 'spawn-backups' })).toBe('spawn-backups');
  });

  it("the backup bucket with the primary region's client, whatever other regions the config has", async () => {
    // prepare
    const clients = moto().clients;
    const asked = jest.spyOn(clients, 's3');
    const config = { ...SANDBOX_CONFIG, backupBucket: 'spawn-backups', regions: { ...SANDBOX_CONFIG.regions, primary: 'eu-west-1', backup: 'us-west-2' } };

    // act
    const t = backupTarget({ config, clients });

    // assess
    expect(t.bucket).toBe('spawn-backups');
    expect(asked.mock.calls).toEqual([['eu-west-1']]);
    expect(await t.s3.config.region()).toBe('eu-west-1');
    expect(() => backupTarget({ config: { ...config, backupBucket: undefined }, clients })).toThrow(expect.objectContaining({ code: 'no_backup_bucket' }));
    asked.mockRestore();
  });
});

describe('writing and reading back', () => {
  it('sha256Hex is the SHA-256 of the bytes, in hex, the same for a string and its UTF-8 bytes', () => {
    // act / assess
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    fc.assert(fc.property(fc.string(), (s) => sha256Hex(s) === sha256Hex(new TextEncoder().encode(s)) && /^[0-9a-f]{64}$/.test(sha256Hex(s))));
  });

  it('putObject writes the body with its metadata and content type (JSON unless told)', async () => {
    // prepare
    const [a, b] = [key(), key()];

    // act
    await putObject(s3(), BUCKET, a, '{"x":1}', { sha256: sha256Hex('{"x":1}'), count: '1' });
    await putObject(s3(), BUCKET, b, new Uint8Array([1, 2, 3]), {}, 'application/zip');

    // assess
    const ha = await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: a }));
    expect(ha.ContentType).toBe('application/json');
    expect(ha.Metadata).toEqual({ sha256: sha256Hex('{"x":1}'), count: '1' });
    expect(await getText(s3(), BUCKET, a)).toBe('{"x":1}');
    const hb = await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: b }));
    expect(hb.ContentType).toBe('application/zip');
    expect(await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: b }))).Body?.transformToByteArray()).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("putObject refused (AccessDenied): AWS's refusal with the operation and the bucket/key, and nothing written", async () => {
    // prepare
    const k = key();
    fail(s3(), 'PutObjectCommand', ACCESS_DENIED);

    // act / assess
    await expect(putObject(s3(), BUCKET, k, '{}', {})).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'PutObject', resource: `${BUCKET}/${k}` });
    undoFaults();
    expect(await getText(s3(), BUCKET, k)).toBeUndefined();
  });

  it('getText: the text, an empty object as empty text, no such key as undefined', async () => {
    // prepare
    const [full, empty] = [await raw('héllo'), await raw('')];

    // act / assess
    expect(await getText(s3(), BUCKET, full)).toBe('héllo');
    expect(await getText(s3(), BUCKET, empty)).toBe('');
    expect(await getText(s3(), BUCKET, 'k/never.json')).toBeUndefined();
  });

  it('getText: NoSuchKey, or a 404 without that name (as S3 can answer), is no such key; AccessDenied and a 500 are errors naming GetObject and the key', async () => {
    // prepare
    const k = await raw('{}');
    const noSuchKey = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    const bare404 = Object.assign(new Error('Not Found'), { name: 'Unknown', $metadata: { httpStatusCode: 404 } });
    const bare500 = Object.assign(new Error('Internal'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });

    // act / assess: NoSuchKey by its name alone (an error that lost its HTTP status on the way)
    fail(s3(), 'GetObjectCommand', noSuchKey, { times: 1 });
    expect(await getText(s3(), BUCKET, k)).toBeUndefined();
    fail(s3(), 'GetObjectCommand', bare404, { times: 1 });
    expect(await getText(s3(), BUCKET, k)).toBeUndefined();
    fail(s3(), 'GetObjectCommand', bare500, { times: 1 });
    await expect(getText(s3(), BUCKET, k)).rejects.toMatchObject({ code: 'aws_error', operation: 'GetObject', resource: `${BUCKET}/${k}` });
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED, { times: 1 });
    await expect(getText(s3(), BUCKET, k)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'GetObject', resource: `${BUCKET}/${k}` });
    expect(await getText(s3(), BUCKET, k)).toBe('{}');
  });

  it('getText: an answer with no body is empty text', async () => {
    // prepare: moto always sends a body
    const k = await raw('x');
    rewrite(s3(), 'GetObjectCommand', (o: object) => ({ ...o, Body: undefined }));

    // act / assess
    expect(await getText(s3(), BUCKET, k)).toBe('');
  });
});

describe('readBack', () => {
  const entries = (doc: Record<string, unknown>) => (Array.isArray(doc['items']) ? doc['items'].length : undefined);

  it('the bytes written: found, the same checksum, the count its document gives', async () => {
    // prepare
    const body = JSON.stringify({ items: [1, 2, 3] });
    const k = await raw(body);

    // act / assess
    expect(await readBack(s3(), BUCKET, k, sha256Hex(body), entries)).toEqual({ found: true, same: true, count: 3 });
    expect(await readBack(s3(), BUCKET, k, sha256Hex(body), () => 0)).toEqual({ found: true, same: true, count: 0 });
  });

  it('other bytes: found, not the same; gone: not found and no count', async () => {
    // prepare
    const k = await raw(JSON.stringify({ items: [1] }));

    // act / assess
    expect(await readBack(s3(), BUCKET, k, sha256Hex(JSON.stringify({ items: [1, 2] })), entries)).toEqual({ found: true, same: false, count: 1 });
    expect(await readBack(s3(), BUCKET, 'k/gone.json', sha256Hex('{}'), entries)).toEqual({ found: false, same: false, count: -1 });
  });

  it('a body that is not JSON, or a count that is not a number or throws: found, no entries readable (-1), not a crash', async () => {
    // prepare
    const truncated = '{"items": [1, 2';
    const bad = await raw(truncated);
    const good = await raw(JSON.stringify({ items: [1] }));

    // act / assess
    expect(await readBack(s3(), BUCKET, bad, sha256Hex(truncated), entries)).toEqual({ found: true, same: true, count: -1 });
    expect(await readBack(s3(), BUCKET, good, 'x', () => '1')).toEqual({ found: true, same: false, count: -1 });
    expect(
      await readBack(s3(), BUCKET, good, 'x', () => {
        throw new Error('no items');
      }),
    ).toEqual({ found: true, same: false, count: -1 });
    expect(await readBack(s3(), BUCKET, await raw('null'), 'x', entries)).toEqual({ found: true, same: false, count: -1 });
  });

  it('a read-back refused by S3 is its error, not "not there"', async () => {
    // prepare
    const k = await raw('{}');
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED);

    // act / assess
    await expect(readBack(s3(), BUCKET, k, sha256Hex('{}'), () => 0)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'GetObject' });
  });

  it("what a read-back that did not verify says: the run's failure and the report's line", () => {
    // act / assess
    expect(readBackFailure({ found: false, same: false, count: -1 })).toBe('the export was not there when it was read back');
    expect(readBackFailure({ found: true, same: false, count: 2 })).toBe('the export read back differs from what was written');
    expect(readBackLine({ found: false, same: false, count: -1 }, 'record set')).toBe(':warning: The export was not there when it was read back.');
    expect(readBackLine({ found: true, same: false, count: 2 }, 'record set')).toBe(':warning: Read back a different checksum with 2 record sets.');
    expect(readBackLine({ found: true, same: true, count: 1 }, 'record set')).toBe(':warning: Read back the same checksum with 1 record set.');
    expect(readBackLine({ found: true, same: true, count: 0 }, 'record set')).toBe(':warning: Read back the same checksum with 0 record sets.');
    expect(readBackLine({ found: true, same: false, count: -1 }, 'record set')).toBe(':warning: Read back a different checksum with no record sets readable.');
    expect(readBackLine({ found: true, same: false, count: -1 }, 'policy', 'policies')).toBe(':warning: Read back a different checksum with no policies readable.');
    expect(readBackLine({ found: true, same: false, count: 3 }, 'policy', 'policies')).toBe(':warning: Read back a different checksum with 3 policies.');
  });
});

describe('headObject', () => {
  it('its metadata and date; no such key: undefined', async () => {
    // prepare
    const k = key();
    await putObject(s3(), BUCKET, k, '{}', { sha256: 'abc' });

    // act
    const h = await headObject(s3(), BUCKET, k);

    // assess
    expect(h?.metadata).toEqual({ sha256: 'abc' });
    expect(h?.lastModified).toBeInstanceOf(Date);
    expect(Math.abs((h?.lastModified?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(await headObject(s3(), BUCKET, 'k/never.json')).toBeUndefined();
  });

  it('an answer without metadata or a date: empty metadata and no date key at all', async () => {
    // prepare: moto always sends both
    const k = await raw('{}');
    rewrite<HeadObjectCommandOutput>(s3(), 'HeadObjectCommand', (o) => ({ ...o, Metadata: undefined, LastModified: undefined }));

    // act
    const h = await headObject(s3(), BUCKET, k);

    // assess
    expect(h).toEqual({ metadata: {} });
    expect(h && 'lastModified' in h).toBe(false);
  });

  it('a 404 named NotFound, or not named: undefined; AccessDenied and a 500: errors naming HeadObject and the key', async () => {
    // prepare
    const k = await raw('{}');
    const notFound = Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 400 } });
    const bare404 = Object.assign(new Error(''), { name: '404', $metadata: { httpStatusCode: 404 } });
    const bare500 = Object.assign(new Error('Internal'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });

    // act / assess
    fail(s3(), 'HeadObjectCommand', notFound, { times: 1 });
    expect(await headObject(s3(), BUCKET, k)).toBeUndefined();
    fail(s3(), 'HeadObjectCommand', bare404, { times: 1 });
    expect(await headObject(s3(), BUCKET, k)).toBeUndefined();
    fail(s3(), 'HeadObjectCommand', bare500, { times: 1 });
    await expect(headObject(s3(), BUCKET, k)).rejects.toMatchObject({ code: 'aws_error', operation: 'HeadObject', resource: `${BUCKET}/${k}` });
    fail(s3(), 'HeadObjectCommand', ACCESS_DENIED, { times: 1 });
    await expect(headObject(s3(), BUCKET, k)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'HeadObject', resource: `${BUCKET}/${k}` });
    expect(await headObject(s3(), BUCKET, k)).toEqual(expect.objectContaining({ metadata: {} }));
  });
});

describe('readLatest', () => {
  it('the pointer as written; none: undefined', async () => {
    // prepare
    const pointer = { key: 'route53/Z1/2026-12-01/r-0123456789ab.json', runId: 'r-0123456789ab', exportedAt: '2026-12-01T10:15:00.000Z', sha256: sha256Hex('x'), count: 4 };
    const k = await raw(JSON.stringify(pointer));

    // act / assess
    expect(await readLatest(s3(), BUCKET, k)).toEqual(pointer);
    expect(await readLatest(s3(), BUCKET, 'k/latest-never.json')).toBeUndefined();
  });

  it('a pointer that is not JSON, is null, or names no key: refused as unreadable, saying which object', async () => {
    for (const body of ['{"key": "route53/', 'null', '[]', '"route53/x.json"', JSON.stringify({ key: 7 }), JSON.stringify({ key: '' }), JSON.stringify({ runId: 'r-1' }), '']) {
      // prepare
      const k = await raw(body);

      // act / assess
      await expect(readLatest(s3(), BUCKET, k)).rejects.toMatchObject({
        code: 'bad_export_pointer',
        message: `\`s3://${BUCKET}/${k}\` is not a pointer drbot can read: it names no export.`,
        hint: 'Run the backup again to rewrite it, or name an export with `--backup KEY`.',
      });
    }
  });

  it("a pointer S3 refuses is S3's error", async () => {
    // prepare
    const k = await raw('{"key":"a"}');
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED);

    // act / assess
    await expect(readLatest(s3(), BUCKET, k)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'GetObject' });
  });
});

describe('ymd', () => {
  it("an ISO time's UTC date as yyyymmdd", () => {
    // act / assess
    expect(ymd('2026-12-01T10:15:00.000Z')).toBe('20261201');
    expect(ymd('2027-01-09T23:59:59.999Z')).toBe('20270109');
    fc.assert(fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => ymd(d.toISOString()) === d.toISOString().slice(0, 10).split('-').join('')));
  });
});
