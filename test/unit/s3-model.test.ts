import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  classify,
  type Clock,
  deleteObjectsKeys,
  modeledLatencyMs,
  partitionOf,
  RateLimiter,
  S3_MODEL,
  type S3Model,
  SkippingClock,
  startS3Model,
  TokenBucket,
} from '../../bench/s3-model';
import { copySource } from '../../src/aws/s3';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const BUCKET = 'drbot-bench-undelete';

// ---- real SDK requests, captured after signing -------------------------------------------------

interface Captured {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

interface SdkRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function targetOf(r: SdkRequest): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(r.query ?? {})) {
    if (v === null) parts.push(encodeURIComponent(k));
    else for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `${r.path}?${parts.join('&')}` : r.path;
}

/** A request handler that records the signed request the SDK would send, and sends nothing. */
function capturing() {
  const seen: Captured[] = [];
  const requestHandler = {
    handle: async (r: SdkRequest) => {
      seen.push({ method: r.method, url: targetOf(r), headers: r.headers, body: r.body });
      throw new Error('captured, not sent');
    },
  };
  return { seen, requestHandler };
}

async function s3Request(send: (s3: S3Client) => Promise<unknown>): Promise<Captured> {
  const { seen, requestHandler } = capturing();
  const s3 = new S3Client({ region: 'us-east-1', credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:5000', forcePathStyle: true, maxAttempts: 1, requestHandler });
  await send(s3).catch(() => undefined);
  s3.destroy();
  const r = seen[0];
  if (!r) throw new Error('the SDK sent no request');
  return r;
}

// ---- a fake clock and a stand-in for moto ------------------------------------------------------

/** Time stands still until advance(); sleepers wake when their deadline has passed. */
class FakeClock implements Clock {
  t = 0;
  sleepers: { at: number; wake: () => void }[] = [];
  now = (): number => this.t;
  sleep = (ms: number): Promise<void> => new Promise((wake) => this.sleepers.push({ at: this.t + ms, wake }));
  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.wake();
  }
}

/** Waits (by event-loop turns, not by time) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Answers at once, like a fast moto: DeleteObjects, HeadObject, and anything else with an echo. */
async function standInMoto(): Promise<{ endpoint: string; seen: Seen[]; answered: string[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const answered: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.on('finish', () => answered.push(`${req.method} ${req.url}`));
      if (req.method === 'POST' && req.url?.includes('?delete')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>');
      } else if (req.method === 'GET' && req.url?.includes('list-type=2')) {
        // a page naming one key of 170 MB (two seconds at the modeled copy rate), URL-encoded when asked
        const key = req.url.includes('encoding-type=url') ? 'bin/big+file%26.tar' : 'bin/big file&amp;.tar';
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>primary</Name><Contents><Key>${key}</Key><Size>170000000</Size></Contents><IsTruncated>false</IsTruncated></ListBucketResult>`);
      } else if (req.method === 'HEAD') {
        // 85 MB for a key with "big" in it: one second at the modeled copy rate
        res.writeHead(200, { 'content-length': req.url?.includes('big') ? '85000000' : '5', etag: '"5d41402abc4b2a76b9719d911017c592"', 'last-modified': 'Tue, 01 Jul 2025 00:00:00 GMT' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-echo-host': req.headers.host ?? '' });
        res.end(body);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    answered,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function rawRequest(
  endpoint: string,
  opts: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${opts.path}`, { method: opts.method, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const S3_AUTH = 'AWS4-HMAC-SHA256 Credential=testing/20250701/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000';
const DYNAMODB_AUTH = 'AWS4-HMAC-SHA256 Credential=testing/20250701/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000';

function deleteBody(keys: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}<Quiet>true</Quiet></Delete>`;
}

function thousandKeys(prefix: string): { Key: string }[] {
  return Array.from({ length: 1000 }, (_, i) => ({ Key: `${prefix}obj-${String(i).padStart(4, '0')}` }));
}

// ---- classification ----------------------------------------------------------------------------

describe('classify', () => {
  it('recognises ListObjectVersions with its prefix as a read', async () => {
    // prepare
    const r = await s3Request((s3) => s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'data/part-1/' })));

    // act
    const c = classify(r.method, r.url, r.headers);

    // assess
    expect(c).toMatchObject({ service: 's3', op: 'ListObjectVersions', bucket: BUCKET, prefix: 'data/part-1/', class: 'read', maxKeys: 1000 });
    expect(partitionOf(BUCKET, c.prefix)).toBe(`${BUCKET}/data/`);
  });

  it('recognises ListObjectsV2 and reads its max-keys', async () => {
    // prepare
    const r = await s3Request((s3) => s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'logs', MaxKeys: 250 })));

    // act
    const c = classify(r.method, r.url, r.headers);

    // assess
    expect(c).toMatchObject({ service: 's3', op: 'ListObjectsV2', bucket: BUCKET, prefix: 'logs', class: 'read', maxKeys: 250 });
    expect(partitionOf(BUCKET, c.prefix)).toBe(`${BUCKET}/`);
  });

  it('recognises DeleteObjects as a write, and reads every key of its body', async () => {
    // prepare
    const objects = [{ Key: 'data/a & b.bin' }, { Key: 'data/c.bin', VersionId: 'v1' }, { Key: 'root.bin' }];
    const r = await s3Request((s3) => s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects, Quiet: true } })));

    // act
    const c = classify(r.method, r.url, r.headers);
    const keys = deleteObjectsKeys(String(r.body));

    // assess
    expect(c).toMatchObject({ service: 's3', op: 'DeleteObjects', bucket: BUCKET, class: 'write' });
    expect(keys).toEqual(['data/a & b.bin', 'data/c.bin', 'root.bin']);
    expect(keys.map((k) => partitionOf(BUCKET, k))).toEqual([`${BUCKET}/data/`, `${BUCKET}/data/`, `${BUCKET}/`]);
  });

  it('recognises CopyObject and decodes its source', async () => {
    // prepare
    const r = await s3Request((s3) => s3.send(new CopyObjectCommand({ Bucket: 'backup', Key: 'bin/a b.tar', CopySource: copySource('primary', 'bin/a b.tar') })));

    // act
    const c = classify(r.method, r.url, r.headers);

    // assess
    expect(c).toMatchObject({ service: 's3', op: 'CopyObject', bucket: 'backup', key: 'bin/a b.tar', class: 'write', copySource: { bucket: 'primary', key: 'bin/a b.tar' } });
    expect(c.bytes).toBeUndefined();
  });

  it('recognises UploadPartCopy and sizes it from its copy-source range', async () => {
    // prepare
    const r = await s3Request(
      (s3) => s3.send(new UploadPartCopyCommand({ Bucket: 'backup', Key: 'big.bin', CopySource: copySource('primary', 'big.bin'), CopySourceRange: 'bytes=0-536870911', PartNumber: 1, UploadId: 'up-1' })),
    );

    // act
    const c = classify(r.method, r.url, r.headers);

    // assess
    expect(c).toMatchObject({ service: 's3', op: 'UploadPartCopy', key: 'big.bin', class: 'write', bytes: 536_870_912 });
  });

  it('recognises PutObject and UploadPart and sizes them from content-length or the decoded length', async () => {
    // prepare
    const put = await s3Request((s3) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/x.bin', Body: 'hello world' })));
    const part = await s3Request((s3) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'data/x.bin', PartNumber: 2, UploadId: 'up-1', Body: 'hello' })));
    const chunked = { authorization: S3_AUTH, 'content-encoding': 'aws-chunked', 'content-length': '9999', 'x-amz-decoded-content-length': '4096' };

    // act
    const cPut = classify(put.method, put.url, put.headers);
    const cPart = classify(part.method, part.url, part.headers);
    const cChunked = classify('PUT', `/${BUCKET}/data/y.bin?x-id=PutObject`, chunked);

    // assess
    expect(cPut).toMatchObject({ service: 's3', op: 'PutObject', key: 'data/x.bin', class: 'write', bytes: 11 });
    expect(cPart).toMatchObject({ op: 'UploadPart', bytes: 5 });
    expect(cChunked).toMatchObject({ op: 'PutObject', bytes: 4096 });
  });

  it('recognises HeadObject and GetObject as reads, and object subresources as other', async () => {
    // prepare
    const head = await s3Request((s3) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/x.bin', VersionId: 'v1' })));
    const get = await s3Request((s3) => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'data/x.bin' })));
    const tagging = await s3Request((s3) => s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'data/x.bin' })));
    const create = await s3Request((s3) => s3.send(new CreateBucketCommand({ Bucket: 'new-bucket' })));

    // act
    const [cHead, cGet, cTagging, cCreate] = [head, get, tagging, create].map((r) => classify(r.method, r.url, r.headers));

    // assess
    expect(cHead).toMatchObject({ service: 's3', op: 'HeadObject', key: 'data/x.bin', class: 'read' });
    expect(cGet).toMatchObject({ service: 's3', op: 'GetObject', key: 'data/x.bin', class: 'read' });
    expect(cTagging).toMatchObject({ service: 's3', op: 'other', class: 'read' });
    expect(cCreate).toMatchObject({ service: 's3', op: 'other', bucket: 'new-bucket', class: 'write' });
  });

  it('passes a DynamoDB request, or an unsigned one, as another service', async () => {
    // prepare
    const { seen, requestHandler } = capturing();
    const ddb = new DynamoDBClient({ region: 'us-east-1', credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:5000', maxAttempts: 1, requestHandler });
    await ddb.send(new GetItemCommand({ TableName: 'drbot-state', Key: { pk: { S: 'run#1' } } })).catch(() => undefined);
    ddb.destroy();
    const r = seen[0] as Captured;

    // act
    const c = classify(r.method, r.url, r.headers);
    const unsigned = classify('POST', '/moto-api/reset', {});

    // assess
    expect(r.headers.authorization ?? r.headers.Authorization).toMatch(/\/dynamodb\/aws4_request/);
    expect(c).toEqual({ service: 'other', op: 'other', class: 'write' });
    expect(unsigned.service).toBe('other');
  });
});

// ---- latency -----------------------------------------------------------------------------------

describe('modeledLatencyMs', () => {
  it('charges a first byte, plus entries, keys or bytes where the work grows', () => {
    // prepare
    const mb = 85_000_000;

    // act
    const got = {
      head: modeledLatencyMs('HeadObject'),
      fullPage: modeledLatencyMs('ListObjectVersions'),
      shortPage: modeledLatencyMs('ListObjectsV2', { entries: 100 }),
      deletes: modeledLatencyMs('DeleteObjects', { keys: 1000 }),
      put: modeledLatencyMs('PutObject', { bytes: mb }),
      copy: modeledLatencyMs('CopyObject', { bytes: 2 * mb }),
      get: modeledLatencyMs('GetObject', { bytes: mb }),
      other: modeledLatencyMs('other'),
      scaled: modeledLatencyMs('DeleteObjects', { keys: 1000 }, 0.5),
    };

    // assess
    expect(got).toEqual({ head: 100, fullPage: 200, shortPage: 110, deletes: 2100, put: 1100, copy: 2100, get: 1100, other: 100, scaled: 1050 });
  });

  it('caps a list at one page of 1,000 entries', () => {
    // act
    const ms = modeledLatencyMs('ListObjectsV2', { entries: 5000 });

    // assess
    expect(ms).toBe(200);
  });

  it('has a source for every figure in the table', () => {
    // assess
    expect(S3_MODEL.length).toBeGreaterThan(5);
    for (const row of S3_MODEL) expect(row.source).toMatch(/https?:\/\/|assumed|\.com\/|out of the model/);
  });
});

// ---- rate limits -------------------------------------------------------------------------------

describe('TokenBucket', () => {
  it('admits a second’s worth, refuses the next, and refills continuously', () => {
    // prepare
    let t = 0;
    const bucket = new TokenBucket(3500, () => t);

    // act
    let admitted = 0;
    while (bucket.tryTake()) admitted++;
    const refusedAtOnce = !bucket.tryTake();
    t += 100;
    let afterTenth = 0;
    while (bucket.tryTake()) afterTenth++;
    t += 10_000;
    const capped = bucket.available();

    // assess
    expect(admitted).toBe(3500);
    expect(refusedAtOnce).toBe(true);
    expect(afterTenth).toBe(350);
    expect(capped).toBe(3500);
  });
});

describe('RateLimiter', () => {
  it('keeps partitions and classes apart, and admits a multi-partition request whole or not at all', () => {
    // prepare
    let t = 0;
    const limiter = new RateLimiter(() => t);
    const data = `${BUCKET}/data/`;
    const logs = `${BUCKET}/logs/`;

    // act
    const fillData = limiter.tryAdmit([{ partition: data, class: 'write', count: 3500 }]);
    const moreData = limiter.tryAdmit([{ partition: data, class: 'write', count: 1 }]);
    const readData = limiter.tryAdmit([{ partition: data, class: 'read', count: 5500 }]);
    const spanning = limiter.tryAdmit([
      { partition: logs, class: 'write', count: 500 },
      { partition: data, class: 'write', count: 500 },
    ]);
    const logsAfter = limiter.tryAdmit([{ partition: logs, class: 'write', count: 3500 }]);
    t += 1000;
    const refilled = limiter.tryAdmit([{ partition: data, class: 'write', count: 3500 }]);

    // assess
    expect([fillData, moreData, readData, spanning, logsAfter, refilled]).toEqual([true, false, true, false, true, true]);
  });
});

// ---- the proxy, end to end ---------------------------------------------------------------------

describe('startS3Model', () => {
  let moto: Awaited<ReturnType<typeof standInMoto>>;
  let model: S3Model;
  let clock: FakeClock;
  let s3: S3Client;

  beforeEach(async () => {
    moto = await standInMoto();
    clock = new FakeClock();
    model = await startS3Model({ target: moto.endpoint }, { clock });
    s3 = new S3Client({ region: 'us-east-1', credentials: CREDENTIALS, endpoint: model.endpoint, forcePathStyle: true, maxAttempts: 1 });
  });

  afterEach(async () => {
    s3.destroy();
    clock.advance(1_000_000);
    await model.close();
    await moto.close();
  });

  it('answers a DeleteObjects burst over the rate with SlowDown 503s, which never reach moto', async () => {
    // prepare: four 1,000-key requests on one partition; 3,500 keys a second are admitted
    const burst = Array.from({ length: 4 }, () => thousandKeys('data/'));

    // act
    const outcomes = burst.map((Objects) =>
      s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects, Quiet: true } })).then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    await until(() => clock.sleepers.length === 3, 'three admitted requests held');
    const raw = await rawRequest(model.endpoint, {
      method: 'POST',
      path: `/${BUCKET}?delete`,
      headers: { authorization: S3_AUTH, 'content-type': 'application/xml' },
      body: deleteBody(thousandKeys('data/').map((o) => o.Key)),
    });
    clock.advance(2100);
    const settled = await Promise.all(outcomes);
    const refused = settled.filter((s) => s !== 'ok');

    // assess
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(S3ServiceException);
    expect((refused[0] as S3ServiceException).name).toBe('SlowDown');
    expect((refused[0] as S3ServiceException).$metadata.httpStatusCode).toBe(503);
    expect(raw.status).toBe(503);
    expect(raw.headers['content-type']).toBe('application/xml');
    expect(raw.body).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?><Error><Code>SlowDown<\/Code><Message>Please reduce your request rate\.<\/Message><RequestId>[0-9A-F]+<\/RequestId><HostId>[A-Za-z0-9+/=]+<\/HostId><\/Error>$/,
    );
    expect(moto.seen.filter((s) => s.method === 'POST')).toHaveLength(3);
    const stats = model.stats();
    expect(stats.ops.DeleteObjects).toMatchObject({ calls: 5, slowDowns: 2, modeledMs: 3 * 2100 });
    expect(stats.partitions).toEqual([{ partition: `${BUCKET}/data/`, class: 'write', admitted: 3000, slowDowns: 2000, peakPerSecond: 3000, limitPerSecond: 3500 }]);
    expect(stats.overlapped).toBeGreaterThanOrEqual(3);
    // and none of the burst, answered or refused, is still counted in flight
    model.reset();
    const lone = s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/lone.bin' }));
    await until(() => clock.sleepers.length === 1, 'the lone request held');
    clock.advance(100);
    await lone;
    expect(model.stats().overlapped).toBe(0);
  });

  it('holds an answer until the modeled latency has passed, though moto answered at once', async () => {
    // prepare
    const events: string[] = [];

    // act
    const head = s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/x.bin' })).then((r) => {
      events.push(`client answered at ${clock.now()} ms`);
      return r;
    });
    await until(() => moto.answered.length === 1 && clock.sleepers.length === 1, 'moto answered and the proxy holding');
    events.push(`moto answered at ${clock.now()} ms`);
    const heldUntil = clock.sleepers[0]?.at;
    clock.advance(99);
    const stillHeld = clock.sleepers.length;
    clock.advance(1);
    const answer = await head;

    // assess
    expect(heldUntil).toBe(100);
    expect(stillHeld).toBe(1);
    expect(events).toEqual(['moto answered at 0 ms', 'client answered at 100 ms']);
    expect(answer.ContentLength).toBe(5);
    expect(model.stats().ops.HeadObject).toEqual({ calls: 1, slowDowns: 0, modeledMs: 100, motoMs: 0, heldMs: 100, motoOverMs: 0 });
  });

  it('sizes a CopyObject by a HEAD of its source and charges the bytes at the copy rate', async () => {
    // prepare
    const source = copySource('primary', 'bin/big file.tar');

    // act
    const copy = rawRequest(model.endpoint, { method: 'PUT', path: `/backup/bin/big%20file.tar?x-id=CopyObject`, headers: { authorization: S3_AUTH, 'x-amz-copy-source': source } });
    await until(() => clock.sleepers.length === 1, 'the copy held');
    const heldUntil = clock.sleepers[0]?.at;
    clock.advance(1100);
    const answer = await copy;

    // assess
    expect(answer.status).toBe(200);
    expect(heldUntil).toBe(1100);
    expect(moto.seen.map((s) => `${s.method} ${s.url}`).sort()).toEqual(['HEAD /primary/bin/big%20file.tar', 'PUT /backup/bin/big%20file.tar?x-id=CopyObject']);
    expect(moto.seen.find((s) => s.method === 'HEAD')?.headers.authorization).toBe(S3_AUTH);
    expect(model.stats().ops.CopyObject).toMatchObject({ calls: 1, modeledMs: 1100 });
  });

  it.each([false, true])('sizes a CopyObject by the listing page that named its source (URL-encoded: %s), and by a HEAD once the source was written', async (urlEncoded) => {
    // prepare: a page of the source bucket lists the key at 170 MB; the HEAD would say 85 MB
    const source = copySource('primary', 'bin/big file&.tar');
    const copy = async () => {
      const answer = rawRequest(model.endpoint, { method: 'PUT', path: `/backup/bin/big%20file%26.tar?x-id=CopyObject`, headers: { authorization: S3_AUTH, 'x-amz-copy-source': source } });
      await until(() => clock.sleepers.length === 1, 'the copy held');
      const heldFor = (clock.sleepers[0]?.at ?? 0) - clock.now();
      clock.advance(heldFor);
      return { status: (await answer).status, heldFor };
    };
    const list = rawRequest(model.endpoint, { method: 'GET', path: `/primary?list-type=2${urlEncoded ? '&encoding-type=url' : ''}`, headers: { authorization: S3_AUTH } });
    await until(() => clock.sleepers.length === 1, 'the listing held');
    clock.advance(200);
    await list;

    // act
    const fromListing = await copy();
    const put = rawRequest(model.endpoint, { method: 'PUT', path: '/primary/bin/big%20file%26.tar', headers: { authorization: S3_AUTH, 'content-length': '0' } });
    await until(() => clock.sleepers.length === 1, 'the put held');
    clock.advance(100);
    await put;
    const afterWrite = await copy();

    // assess: 100 ms + 2 s, then 100 ms + 1 s; one HEAD, the second copy's
    expect(fromListing).toEqual({ status: 200, heldFor: 2100 });
    expect(afterWrite).toEqual({ status: 200, heldFor: 1100 });
    expect(moto.seen.filter((s) => s.method === 'HEAD')).toHaveLength(1);
    expect(model.stats().copySizes).toEqual({ listed: 1, head: 1 });
  });

  it('does not learn a size from a listing that was under way when the key was written, and forgets every size on reset()', async () => {
    // prepare: a listing admitted and held; a PUT of the listed key admitted while it is held
    const copy = async () => {
      const answer = rawRequest(model.endpoint, { method: 'PUT', path: `/backup/bin/big%20file%26.tar?x-id=CopyObject`, headers: { authorization: S3_AUTH, 'x-amz-copy-source': copySource('primary', 'bin/big file&.tar') } });
      await until(() => clock.sleepers.length === 1, 'the copy held');
      const heldFor = (clock.sleepers[0]?.at ?? 0) - clock.now();
      clock.advance(heldFor);
      await answer;
      return heldFor;
    };
    const listing = async () => {
      const list = rawRequest(model.endpoint, { method: 'GET', path: '/primary?list-type=2', headers: { authorization: S3_AUTH } });
      await until(() => clock.sleepers.length === 1, 'the listing held');
      return { list };
    };
    const { list: stale } = await listing();
    const put = rawRequest(model.endpoint, { method: 'PUT', path: '/primary/bin/big%20file%26.tar', headers: { authorization: S3_AUTH, 'content-length': '0' } });
    await until(() => clock.sleepers.length === 2, 'the put held too');
    clock.advance(200);
    await Promise.all([stale, put]);

    // act
    const afterStaleListing = await copy();
    clock.advance(1000);
    const { list: fresh } = await listing();
    clock.advance(200);
    await fresh;
    const afterFreshListing = await copy();
    model.reset();
    const afterReset = await copy();

    // assess: a HEAD (85 MB, 1 s), the listing's 170 MB (2 s), a HEAD again
    expect([afterStaleListing, afterFreshListing, afterReset]).toEqual([1100, 2100, 1100]);
    expect(moto.seen.filter((s) => s.method === 'HEAD')).toHaveLength(2);
  });

  it('passes a non-S3 request through untouched and unheld, its host header as sent', async () => {
    // prepare
    const body = JSON.stringify({ TableName: 'drbot-state', Key: { pk: { S: 'run#1' } } });

    // act
    const r = await rawRequest(model.endpoint, {
      method: 'POST',
      path: '/',
      headers: { authorization: DYNAMODB_AUTH, host: 'dynamodb.us-east-1.amazonaws.com', 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-type': 'application/x-amz-json-1.0' },
      body,
    });

    // assess
    expect(r.status).toBe(200);
    expect(r.body).toBe(body);
    expect(r.headers['x-echo-host']).toBe('dynamodb.us-east-1.amazonaws.com');
    expect(moto.seen[0]?.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(clock.sleepers).toHaveLength(0);
    expect(model.stats()).toEqual({ ops: {}, partitions: [], passedThrough: 1, copySizes: { listed: 0, head: 0 }, overlapped: 0 });
  });

  it('survives a client that goes away while its answer is held, and reset() zeroes the stats', async () => {
    // prepare
    const aborted = http.request(`${model.endpoint}/${BUCKET}/data/x.bin`, { method: 'HEAD', headers: { authorization: S3_AUTH } });
    aborted.on('error', () => {});
    aborted.end();
    await until(() => clock.sleepers.length === 1, 'the proxy holding');

    // act
    aborted.destroy();
    await until(() => aborted.destroyed, 'the client gone');
    clock.advance(100);
    model.reset();
    const next = s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/y.bin' }));
    await until(() => clock.sleepers.length === 1, 'the next request held');
    clock.advance(100);
    const answer = await next;

    // assess: the request gone is no longer in flight (else the next, alone, would count as an overlap)
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(model.stats().ops).toEqual({ HeadObject: { calls: 1, slowDowns: 0, modeledMs: 100, motoMs: 0, heldMs: 100, motoOverMs: 0 } });
    expect(model.stats().overlapped).toBe(0);
  });
});

describe('startS3Model on skipped time (the one-call-at-a-time anchors)', () => {
  let moto: Awaited<ReturnType<typeof standInMoto>>;
  let model: S3Model;
  let clock: SkippingClock;
  let s3: S3Client;

  beforeEach(async () => {
    moto = await standInMoto();
    clock = new SkippingClock();
    model = await startS3Model({ target: moto.endpoint }, { clock });
    s3 = new S3Client({ region: 'us-east-1', credentials: CREDENTIALS, endpoint: model.endpoint, forcePathStyle: true, maxAttempts: 1 });
  });

  afterEach(async () => {
    s3.destroy();
    await model.close();
    await moto.close();
  });

  it('resolves a sleep at once, adding it up', async () => {
    // act
    let woke = false;
    const slept = clock.sleep(3_600_000).then(() => {
      woke = true;
    });
    await Promise.resolve();
    await Promise.resolve();

    // assess: an hour counted, not waited (the next turn of the microtask queue has it resolved)
    expect(woke).toBe(true);
    expect(clock.skippedMs).toBe(3_600_000);
    await slept;
  });

  it('adds each hold up instead of sleeping, and limits rates on that timeline', async () => {
    // prepare: four 1,000-key DeleteObjects on one partition, one after another. Each holds 2.1 s,
    // so a client that waits for each sends 1,000 keys per 2.1 s, under the 3,500 a second; on the
    // system clock alone (nothing slept) the fourth would come within the same second and be refused.
    const startedAt = clock.now();

    // act
    for (let i = 0; i < 4; i++) await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: thousandKeys('data/'), Quiet: true } }));
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/x.bin' }));

    // assess: every hold was added up, none slept away, and the timeline moved by at least the model's time
    const stats = model.stats();
    expect(stats.ops.DeleteObjects).toMatchObject({ calls: 4, slowDowns: 0, modeledMs: 4 * 2100 });
    expect(stats.ops.HeadObject).toMatchObject({ calls: 1, slowDowns: 0, modeledMs: 100 });
    const held = (stats.ops.DeleteObjects?.heldMs ?? 0) + (stats.ops.HeadObject?.heldMs ?? 0);
    expect(clock.skippedMs).toBeCloseTo(held, 6);
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(4 * 2100 + 100);
    expect(stats.partitions).toEqual([
      { partition: `${BUCKET}/data/`, class: 'write', admitted: 4000, slowDowns: 0, peakPerSecond: 1000, limitPerSecond: 3500 },
      { partition: `${BUCKET}/data/`, class: 'read', admitted: 1, slowDowns: 0, peakPerSecond: 1, limitPerSecond: 5500 },
    ]);
    expect(stats.overlapped).toBe(0);
  });

  it('counts S3 requests sent while another is in flight, which skipped time cannot serve', async () => {
    // act: three at once, then one alone
    await Promise.all([0, 1, 2].map((i) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `data/${i}.bin` }))));
    const afterBurst = model.stats().overlapped;
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/alone.bin' }));

    // assess
    expect(afterBurst).toBeGreaterThanOrEqual(1);
    expect(model.stats().overlapped).toBe(afterBurst);
    model.reset();
    expect(model.stats().overlapped).toBe(0);
  });
});
