/**
 * An S3 latency model for the bench: a small HTTP proxy in front of moto that makes S3 calls cost
 * roughly what they cost on real S3, so every S3 figure can be reported twice, raw moto and
 * modeled. For the bench only; never for tests of behaviour.
 *
 * moto serves every AWS service on one port, path-style S3 included. Requests whose SigV4
 * credential scope (`…/<region>/<service>/aws4_request`) names a service other than `s3` — DynamoDB,
 * STS, moto's own API — pass through untouched and undelayed. An S3 request is classified (the
 * ops below), charged against S3's request-rate limits, forwarded to moto, and its answer held
 * until
 *
 *     release = max(arrival + modeled latency, moto's own answer)
 *
 * — the maximum, not the sum. moto is single-threaded and slow at listing (it deep-copies every
 * version of a bucket for each ListObjectVersions page); real S3 is neither, and the modeled figure
 * should be S3's, not moto's plus S3's. Where moto is slower than the model, its own time shows
 * through; stats() says how much (`motoOverMs`), and keeps the pure modeled sum apart (`modeledMs`).
 *
 * What the model is: a first-byte time per request (AWS's published figure), plus a per-unit term
 * where the work grows with the request — list entries, DeleteObjects keys, bytes put, got or
 * copied — and token buckets for the published per-prefix request rates, answering SlowDown 503s
 * as S3 does. Every figure and its source is in S3_MODEL below; the ones no public source gives are
 * marked "assumed", with the reason.
 *
 * What it is not: no per-partition auto-scaling (S3 splits a hot prefix into more partitions after
 * sustained load, answering SlowDown meanwhile; here a partition's rate is fixed), no network
 * variance, no tail latency (every call costs one typical figure; nothing is jittered), no
 * slow-down of versioned listings over runs of delete markers (reported, no figure), no 5xx other
 * than SlowDown, no bandwidth limit shared between concurrent requests. A token bucket holding one
 * second's worth admits up to twice the rate in a one-second window straight after an idle second
 * (the full bucket, then its refill): the peaks in stats() are what was admitted, not a proof that
 * a client never exceeded the rate.
 *
 * Partitions: a partition is the bucket plus the key's first path segment, up to and including the
 * first `/` (keys without one share the bucket's root); a list uses the first segment of its
 * `prefix` (a prefix without `/` counts against the root). Real S3 partitions by observed load,
 * not by `/`; this is the common layout drbot's buckets have.
 *
 * One call at a time: for a client that waits for each answer before it asks again, a model on a
 * SkippingClock adds each hold to a running total instead of sleeping through it; its wall time on
 * the sleeping model is its own wall time plus that total. The bench times its one-call-at-a-time
 * anchors so (a 270-second plain script takes ~40), and refuses the figure if any two of their S3
 * requests overlapped.
 *
 * A CopyObject's size is not in its request. The proxy takes it from the last ListObjectsV2 page
 * that named the source key (drbot and `aws s3 sync` both list the source before they copy), and
 * a write to that key through the proxy forgets it; a copy of a key no listing named, or of a
 * given version, is sized by a HEAD to moto of the proxy's own, alongside the copy (not counted as
 * S3 traffic). Not a HEAD for every copy: on moto a HEAD costs about half a copy, and moto
 * serves one request at a time, so the HEADs alone held drbot's concurrent copies to moto's pace.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

// ---- the figures -------------------------------------------------------------------------------

const AWS_PERFORMANCE = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html';
const AWS_DESIGN_PATTERNS = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-design-patterns.html';
const HADOOP_BULK_DELETE = 'https://hadoop.apache.org/docs/current/hadoop-project-dist/hadoop-common/filesystem/bulkdelete.html';

/**
 * First byte of any S3 request. AWS: latency-sensitive applications "can achieve consistent small
 * object latencies (and first-byte-out latencies for larger objects) of roughly 100–200
 * milliseconds" (AWS_PERFORMANCE); the low end is taken. The design-patterns page also says medians
 * for requests under 512 KB are "often in the tens of milliseconds", so this is a consistent
 * figure, not an optimistic median: run with `scale` below 1 for the median view.
 */
export const FIRST_BYTE_MS = 100;
/**
 * Per-connection transfer rate, bytes per ms (85 MB/s). AWS: "Make one concurrent request for each
 * 85–90 MB/s of desired network throughput" (AWS_DESIGN_PATTERNS, said of GETs from EC2; the low
 * end, applied to PUT bodies too on the assumption that one connection moves data at the same rate
 * both ways).
 */
export const TRANSFER_BYTES_PER_MS = 85_000;
/**
 * Server-side copy rate, bytes per ms. Assumed: AWS publishes no throughput for CopyObject or
 * UploadPartCopy; the per-connection rate above is reused (the copy is a read and a write inside
 * S3, with no client network in between).
 */
export const COPY_BYTES_PER_MS = TRANSFER_BYTES_PER_MS;
/** S3's page size for ListObjectsV2 and ListObjectVersions (the API's MaxKeys cap). */
export const LIST_PAGE_MAX = 1000;
/**
 * Per list entry, ms, charged on the entries asked for (max-keys, default and cap 1,000): the count
 * returned is only known from the body, which the proxy streams rather than buffers, so a short
 * last page is charged as a full one. Assumed: no published figure. 0.1 ms makes a full page 200 ms,
 * the top of AWS's 100–200 ms; the one public measurement found (blog.rasc.ch/2025/07/s3-fast-list:
 * 25,000 keys in 25 pages, about 11 s, about 440 ms a page measured from outside AWS, so with an
 * internet round trip in it) says this is not pessimistic.
 */
export const LIST_PER_ENTRY_MS = 0.1;
/**
 * Per DeleteObjects key, ms. Assumed: no published figure. From one public data point
 * (github.com/ekristen/aws-nuke/pull/662: 50,000 objects deleted in about 2 minutes with
 * 1,000-key batches, about 2.4 s a batch including the tool's own listing), rounded down: 2 ms a
 * key, a full 1,000-key request about 2.1 s.
 */
export const DELETE_PER_KEY_MS = 2;
/** S3: "at least 3,500 PUT/COPY/POST/DELETE … requests per second per partitioned Amazon S3 prefix" (AWS_PERFORMANCE). */
export const WRITE_PER_SECOND = 3500;
/** S3: "… or 5,500 GET/HEAD requests per second per partitioned Amazon S3 prefix" (AWS_PERFORMANCE); a LIST is a GET. */
export const READ_PER_SECOND = 5500;

/** The table of figures, each with its source, printed by the bench and the README. */
export const S3_MODEL: readonly { op: string; latency: string; source: string }[] = [
  { op: 'HeadObject', latency: `${FIRST_BYTE_MS} ms`, source: `${AWS_PERFORMANCE} ("roughly 100–200 milliseconds", low end)` },
  {
    op: 'GetObject',
    latency: `${FIRST_BYTE_MS} ms + body at 85 MB/s (size from moto's content-length)`,
    source: `first byte: ${AWS_PERFORMANCE}; rate: ${AWS_DESIGN_PATTERNS} ("one concurrent request for each 85–90 MB/s", low end)`,
  },
  {
    op: 'PutObject, UploadPart',
    latency: `${FIRST_BYTE_MS} ms + body at 85 MB/s (content-length or x-amz-decoded-content-length)`,
    source: `first byte: ${AWS_PERFORMANCE}; rate: ${AWS_DESIGN_PATTERNS} (a GET figure; assumed: the same rate for PUT)`,
  },
  {
    op: 'CopyObject, UploadPartCopy',
    latency: `${FIRST_BYTE_MS} ms + bytes copied at 85 MB/s (copy-source-range, else the source's size from the last listing that named it, else by HEAD)`,
    source: `first byte: ${AWS_PERFORMANCE}; rate assumed: no published server-side copy throughput, the per-connection rate is reused`,
  },
  {
    op: 'ListObjectsV2, ListObjectVersions',
    latency: `${FIRST_BYTE_MS} ms + ${LIST_PER_ENTRY_MS} ms per entry asked for (max-keys ≤ 1,000): 200 ms a full page`,
    source: 'assumed: no published figure; the top of AWS\'s 100–200 ms; one public measurement (blog.rasc.ch/2025/07/s3-fast-list) is ~440 ms a page from outside AWS',
  },
  {
    op: 'DeleteObjects',
    latency: `${FIRST_BYTE_MS} ms + ${DELETE_PER_KEY_MS} ms per key: ~2.1 s for 1,000 keys`,
    source: 'assumed: no published figure; from github.com/ekristen/aws-nuke/pull/662 (50,000 objects in ~2 min in 1,000-key batches)',
  },
  { op: 'other S3 calls', latency: `${FIRST_BYTE_MS} ms`, source: `${AWS_PERFORMANCE} (small requests)` },
  { op: 'non-S3 calls (DynamoDB, STS, …)', latency: 'passed through, not delayed', source: 'out of the model' },
  {
    op: 'rate: PUT/COPY/POST/DELETE',
    latency: `${WRITE_PER_SECOND.toLocaleString('en-US')}/s per partitioned prefix, then 503 SlowDown`,
    source: AWS_PERFORMANCE,
  },
  { op: 'rate: GET/HEAD/LIST', latency: `${READ_PER_SECOND.toLocaleString('en-US')}/s per partitioned prefix, then 503 SlowDown`, source: AWS_PERFORMANCE },
  {
    op: 'rate: DeleteObjects',
    latency: 'each key counts as one DELETE against its own key\'s partition; the request is admitted whole or refused whole',
    source: `${HADOOP_BULK_DELETE} ("Every entry in a bulk delete request counts as one write operation"; HADOOP-16823); AWS says nothing either way`,
  },
];

// ---- classification ----------------------------------------------------------------------------

export type S3Op =
  | 'ListObjectVersions'
  | 'ListObjectsV2'
  | 'DeleteObjects'
  | 'CopyObject'
  | 'UploadPartCopy'
  | 'PutObject'
  | 'UploadPart'
  | 'HeadObject'
  | 'GetObject'
  | 'other';

export type RequestClass = 'read' | 'write';

export interface Classified {
  service: 's3' | 'other';
  op: S3Op;
  bucket?: string;
  key?: string;
  /** A list's `prefix` ('' when it has none). */
  prefix?: string;
  class: RequestClass;
  /** A list's max-keys (default and cap 1,000). */
  maxKeys?: number;
  /** Bytes the request moves when its headers say: a PUT's body, an UploadPartCopy's range. */
  bytes?: number;
  /** A copy's source, decoded. */
  copySource?: { bucket: string; key: string; versionId?: string };
  /** A ListObjectsV2 that asked `encoding-type=url`: its answer's keys are URL-encoded. */
  urlEncoded?: true;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function byteCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** The service of a SigV4 (or SigV4a) credential scope: `AKID/date[/region]/service/aws4_request`. */
function scopeService(credential: string | undefined): string | undefined {
  const parts = credential?.split('/');
  return parts && parts.length >= 4 && parts[parts.length - 1] === 'aws4_request' ? parts[parts.length - 2] : undefined;
}

function signedService(headers: Headers, query: URLSearchParams): string | undefined {
  const auth = header(headers, 'authorization');
  const fromHeader = auth ? /Credential=([^,\s]+)/.exec(auth)?.[1] : undefined;
  return scopeService(fromHeader ?? query.get('X-Amz-Credential') ?? undefined);
}

/** Query parameters an object GET/HEAD/PUT may carry and still be GetObject/HeadObject/PutObject. */
function plainObjectQuery(query: URLSearchParams): boolean {
  for (const name of query.keys()) {
    if (name === 'versionId' || name === 'x-id' || name === 'partNumber') continue;
    if (name.startsWith('response-') || name.startsWith('X-Amz-')) continue;
    return false;
  }
  return true;
}

function parseCopySource(value: string): Classified['copySource'] {
  const [path = '', search = ''] = value.replace(/^\//, '').split('?', 2);
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  const versionId = new URLSearchParams(search).get('versionId') ?? undefined;
  return { bucket: safeDecode(path.slice(0, slash)), key: safeDecode(path.slice(slash + 1)), ...(versionId ? { versionId } : {}) };
}

function rangeBytes(value: string | undefined): number | undefined {
  const m = value ? /^bytes=(\d+)-(\d+)$/.exec(value.trim()) : null;
  return m ? Number(m[2]) - Number(m[1]) + 1 : undefined;
}

/**
 * What a request is, from its method, request target (path and query, path-style:
 * `/<bucket>/<key>`) and headers. Not S3 (by the signature's credential scope, or unsigned): service
 * 'other', passed through. S3 ops not named here are 'other' on S3, a GET/HEAD reading and anything
 * else writing.
 */
export function classify(method: string, url: string, headers: Headers): Classified {
  const parsed = new URL(url, 'http://s3-model.invalid');
  const query = parsed.searchParams;
  const m = method.toUpperCase();
  const cls: RequestClass = m === 'GET' || m === 'HEAD' ? 'read' : 'write';
  if (signedService(headers, query) !== 's3') return { service: 'other', op: 'other', class: cls };

  const path = parsed.pathname.replace(/^\//, '');
  const slash = path.indexOf('/');
  const bucket = safeDecode(slash < 0 ? path : path.slice(0, slash));
  const key = slash < 0 ? '' : safeDecode(path.slice(slash + 1));
  const base = { service: 's3' as const, ...(bucket ? { bucket } : {}) };

  if (bucket && !key) {
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Math.min(LIST_PAGE_MAX, byteCount(query.get('max-keys') ?? undefined) ?? LIST_PAGE_MAX);
    if (m === 'GET' && query.has('versions')) return { ...base, op: 'ListObjectVersions', prefix, maxKeys, class: 'read' };
    if (m === 'GET' && query.get('list-type') === '2') return { ...base, op: 'ListObjectsV2', prefix, maxKeys, class: 'read', ...(query.get('encoding-type') === 'url' ? { urlEncoded: true as const } : {}) };
    if (m === 'POST' && query.has('delete')) return { ...base, op: 'DeleteObjects', class: 'write' };
    return { ...base, op: 'other', class: cls };
  }
  if (!key) return { ...base, op: 'other', class: cls };

  const withKey = { ...base, key };
  const copyHeader = header(headers, 'x-amz-copy-source');
  const upload = query.has('partNumber') && query.has('uploadId');
  if (m === 'PUT' && copyHeader) {
    const copySource = parseCopySource(copyHeader);
    const op = upload ? 'UploadPartCopy' : 'CopyObject';
    const bytes = upload ? rangeBytes(header(headers, 'x-amz-copy-source-range')) : undefined;
    return { ...withKey, op, class: 'write', ...(copySource ? { copySource } : {}), ...(bytes !== undefined ? { bytes } : {}) };
  }
  if (m === 'PUT' && (upload || plainObjectQuery(query))) {
    const bytes = byteCount(header(headers, 'x-amz-decoded-content-length')) ?? byteCount(header(headers, 'content-length'));
    return { ...withKey, op: upload ? 'UploadPart' : 'PutObject', class: 'write', ...(bytes !== undefined ? { bytes } : {}) };
  }
  if (m === 'HEAD' && plainObjectQuery(query)) return { ...withKey, op: 'HeadObject', class: 'read' };
  if (m === 'GET' && plainObjectQuery(query)) return { ...withKey, op: 'GetObject', class: 'read' };
  return { ...withKey, op: 'other', class: cls };
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return XML_ENTITIES[e] ?? whole;
  });
}

/** The keys of a DeleteObjects body, one per `<Object>` entry (a key-less entry counts as ''). */
export function deleteObjectsKeys(xml: string): string[] {
  const keys: string[] = [];
  for (const m of xml.matchAll(/<Object(?:\s[^>]*)?>([\s\S]*?)<\/Object>/g)) {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1] ?? '')?.[1];
    keys.push(key === undefined ? '' : xmlText(key));
  }
  return keys;
}

/** A partition: the bucket and the first path segment of the key (or list prefix), `/` included. */
export function partitionOf(bucket: string, keyOrPrefix = ''): string {
  const slash = keyOrPrefix.indexOf('/');
  return `${bucket}/${slash < 0 ? '' : keyOrPrefix.slice(0, slash + 1)}`;
}

// ---- latency -----------------------------------------------------------------------------------

export interface Units {
  /** Bytes put, got or copied. */
  bytes?: number;
  /** DeleteObjects keys. */
  keys?: number;
  /** List entries asked for (max-keys); a full page when absent. */
  entries?: number;
}

/** Modeled latency of one S3 call, in ms (see S3_MODEL), times `scale`. */
export function modeledLatencyMs(op: S3Op, units: Units = {}, scale = 1): number {
  let ms = FIRST_BYTE_MS;
  switch (op) {
    case 'ListObjectVersions':
    case 'ListObjectsV2':
      ms += LIST_PER_ENTRY_MS * Math.min(LIST_PAGE_MAX, Math.max(0, units.entries ?? LIST_PAGE_MAX));
      break;
    case 'DeleteObjects':
      ms += DELETE_PER_KEY_MS * Math.max(0, units.keys ?? 0);
      break;
    case 'CopyObject':
    case 'UploadPartCopy':
      ms += Math.max(0, units.bytes ?? 0) / COPY_BYTES_PER_MS;
      break;
    case 'PutObject':
    case 'UploadPart':
    case 'GetObject':
      ms += Math.max(0, units.bytes ?? 0) / TRANSFER_BYTES_PER_MS;
      break;
    case 'HeadObject':
    case 'other':
      break;
  }
  return ms * scale;
}

// ---- rate limits -------------------------------------------------------------------------------

/** Time in ms, and waiting. The model's only clock; tests inject a fake one. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A clock for a client that waits for each answer before it asks again (the plain script, a
 * listing loop, the runbook's CLI loop, each one call at a time): the model's holds are added up
 * instead of slept, and now() runs that much ahead of the system clock. For such a client, its wall
 * time on the sleeping model is its wall time here plus skippedMs — nothing of its own runs while an
 * answer is held, and the rate limits and peaks see the same timeline, since now() includes what was
 * skipped — less the sleeping model's timer overshoot (a setTimeout fires a millisecond or so late:
 * ~1 s over the bench's 800 anchor calls, in the anchor's favour). Wrong for a concurrent client
 * (its holds overlap, and adding them up overstates its time): the model counts every S3 request
 * that arrives while another is in flight (stats().overlapped), and a figure taken with any is
 * refused (bench/scale.ts).
 */
export class SkippingClock implements Clock {
  skippedMs = 0;
  now = (): number => performance.now() + this.skippedMs;
  sleep = (ms: number): Promise<void> => {
    this.skippedMs += Math.max(0, ms);
    return Promise.resolve();
  };
}

/** Holds one second's worth of tokens, refilled continuously at `perSecond`; starts full. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  available(): number {
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
    return this.tokens;
  }

  /** Takes `n` tokens if there are that many; otherwise takes none. */
  tryTake(n = 1): boolean {
    if (this.available() < n) return false;
    this.tokens -= n;
    return true;
  }
}

export interface Demand {
  partition: string;
  class: RequestClass;
  count: number;
}

/**
 * S3's request rates, a token bucket per (partition, class). A request is admitted whole or
 * refused whole: a DeleteObjects whose keys span partitions takes from each only if all have
 * enough.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly now: () => number,
    readonly rates: Readonly<Record<RequestClass, number>> = { read: READ_PER_SECOND, write: WRITE_PER_SECOND },
  ) {}

  private bucket(partition: string, cls: RequestClass): TokenBucket {
    const id = `${cls} ${partition}`;
    let b = this.buckets.get(id);
    if (!b) this.buckets.set(id, (b = new TokenBucket(this.rates[cls], this.now)));
    return b;
  }

  tryAdmit(demands: readonly Demand[]): boolean {
    const merged = mergeDemands(demands);
    if (merged.some((d) => this.bucket(d.partition, d.class).available() < d.count)) return false;
    for (const d of merged) this.bucket(d.partition, d.class).tryTake(d.count);
    return true;
  }

  reset(): void {
    this.buckets.clear();
  }
}

function mergeDemands(demands: readonly Demand[]): Demand[] {
  const byId = new Map<string, Demand>();
  for (const d of demands) {
    const id = `${d.class} ${d.partition}`;
    const m = byId.get(id);
    if (m) m.count += d.count;
    else byId.set(id, { ...d });
  }
  return [...byId.values()];
}

/** The most admitted in any one-second window (t − 1000, t], over a sliding window. */
class SlidingPeak {
  private times: number[] = [];
  private counts: number[] = [];
  private head = 0;
  private sum = 0;
  peak = 0;
  total = 0;

  add(t: number, n: number): void {
    this.times.push(t);
    this.counts.push(n);
    this.sum += n;
    this.total += n;
    while (this.head < this.times.length && (this.times[this.head] as number) <= t - 1000) {
      this.sum -= this.counts[this.head] as number;
      this.head++;
    }
    this.peak = Math.max(this.peak, this.sum);
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.counts = this.counts.slice(this.head);
      this.head = 0;
    }
  }
}

// ---- the proxy ---------------------------------------------------------------------------------

export interface S3ModelOptions {
  /** moto's endpoint, e.g. http://127.0.0.1:5000 */
  target: string;
  /** Multiplies every modeled latency (default 1). */
  scale?: number;
  /** Enforce S3's request-rate limits with SlowDown 503s (default true). */
  limits?: boolean;
}

export interface S3OpStats {
  calls: number;
  slowDowns: number;
  /** Sum of the modeled latencies of the admitted calls. */
  modeledMs: number;
  /** Sum of moto's own times (arrival to moto's answer). */
  motoMs: number;
  /** Sum of the time answers were held after moto answered. */
  heldMs: number;
  /** Sum of how far moto was slower than the model, where it was: the part of the wall time that is moto's, not the model's. */
  motoOverMs: number;
}

export interface S3PartitionStats {
  partition: string;
  class: RequestClass;
  /** Admitted requests (DeleteObjects: keys), in all. */
  admitted: number;
  /** Refused with SlowDown (DeleteObjects: keys). */
  slowDowns: number;
  /** The most admitted in any one-second window. */
  peakPerSecond: number;
  limitPerSecond: number;
}

export interface S3ModelStats {
  ops: Partial<Record<S3Op, S3OpStats>>;
  partitions: S3PartitionStats[];
  /** Non-S3 requests passed through. */
  passedThrough: number;
  /** How copies were sized: from a listing's entry, or by a HEAD to moto. */
  copySizes: { listed: number; head: number };
  /** S3 requests that arrived while another S3 request was in flight through the model. */
  overlapped: number;
}

export interface S3Model {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  stats(): S3ModelStats;
  /** Zeroes the stats, refills every token bucket and forgets every listed size (between bench cases). */
  reset(): void;
  close(): Promise<void>;
}

/** Ports; the bench passes none. */
export interface S3ModelDeps {
  clock?: Clock;
}

/** Connection-level headers, not forwarded either way; `expect` because the proxy streams the body at once. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer', 'expect']);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** S3's SlowDown error, as S3 answers it; the AWS SDK v3 classifies the code as throttling and retries. */
export function slowDownError(): { requestId: string; hostId: string; xml: string } {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const hostId = randomBytes(48).toString('base64');
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`;
  return { requestId, hostId, xml };
}

function answerSlowDown(res: http.ServerResponse): void {
  const { requestId, hostId, xml } = slowDownError();
  res.writeHead(503, 'Slow Down', {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amz-request-id': requestId,
    'x-amz-id-2': hostId,
  });
  res.end(xml);
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}

/** `<Key>`/`<Size>` of each `<Contents>` entry of a ListObjectsV2 answer (keys URL-decoded when the request asked `encoding-type=url`). */
export function listedSizes(xml: string, urlEncoded: boolean): { key: string; size: number }[] {
  const out: { key: string; size: number }[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const entry = m[1] ?? '';
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(entry)?.[1];
    const size = byteCount(/<Size>([\s\S]*?)<\/Size>/.exec(entry)?.[1]);
    if (key === undefined || size === undefined) continue;
    const text = xmlText(key);
    out.push({ key: urlEncoded ? safeDecode(text.replace(/\+/g, ' ')) : text, size });
  }
  return out;
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

export async function startS3Model(opts: S3ModelOptions, deps: S3ModelDeps = {}): Promise<S3Model> {
  const target = new URL(opts.target);
  if (target.protocol !== 'http:') throw new Error(`s3-model: target must be an http:// endpoint, got ${opts.target}`);
  const scale = opts.scale ?? 1;
  if (!Number.isFinite(scale) || scale < 0) throw new Error(`s3-model: scale must be a finite number ≥ 0, got ${String(opts.scale)}`);
  const limits = opts.limits ?? true;
  const clock = deps.clock ?? systemClock;
  const agent = new http.Agent({ keepAlive: true });
  const limiter = new RateLimiter(() => clock.now());

  let ops: Partial<Record<S3Op, S3OpStats>> = {};
  let partitions = new Map<string, { partition: string; class: RequestClass; slowDowns: number; window: SlidingPeak }>();
  let passedThrough = 0;
  let copySizes = { listed: 0, head: 0 };
  let inFlight = 0;
  let overlapped = 0;
  /** bucket + '\n' + key -> size, from the ListObjectsV2 answers that went through. */
  const sizes = new Map<string, number>();
  /** Writes through the proxy, numbered; a key's last one. A listing admitted before it must not teach the key's old size. */
  let writes = 0;
  const writtenAt = new Map<string, number>();
  const wrote = (id: string) => {
    writtenAt.set(id, ++writes);
    sizes.delete(id);
  };
  const sizeId = (bucket: string, key: string) => `${bucket}\n${key}`;

  const opStats = (op: S3Op): S3OpStats => (ops[op] ??= { calls: 0, slowDowns: 0, modeledMs: 0, motoMs: 0, heldMs: 0, motoOverMs: 0 });
  const partitionStats = (d: Demand) => {
    const id = `${d.class} ${d.partition}`;
    let p = partitions.get(id);
    if (!p) partitions.set(id, (p = { partition: d.partition, class: d.class, slowDowns: 0, window: new SlidingPeak() }));
    return p;
  };

  /** Forwards to moto; `onAnswer` gets moto's response and returns when it may be released. */
  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer | undefined,
    onAnswer: (answer: http.IncomingMessage) => Promise<void>,
    onBody?: (body: Buffer) => void,
  ): void => {
    const proxyReq = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: forwardable(req.headers),
      agent,
    });
    proxyReq.on('error', (e) => {
      if (res.headersSent || res.destroyed) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`s3-model: ${target.host} did not answer: ${e.message}`);
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) proxyReq.destroy();
    });
    proxyReq.on('response', (answer) => {
      answer.on('error', () => res.destroy());
      void onAnswer(answer).then(
        () => {
          if (res.destroyed || res.writableEnded) {
            answer.destroy();
            return;
          }
          const headers = forwardable(answer.headers);
          if (answer.statusMessage) res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
          else res.writeHead(answer.statusCode ?? 502, headers);
          if (onBody && answer.statusCode === 200) {
            const chunks: Buffer[] = [];
            answer.on('data', (c: Buffer) => chunks.push(c));
            answer.on('end', () => onBody(Buffer.concat(chunks)));
          }
          answer.pipe(res);
        },
        () => {
          answer.destroy();
          res.destroy();
        },
      );
    });
    if (body) proxyReq.end(body);
    else req.pipe(proxyReq);
  };

  /**
   * The size of a copy's source object, by a HEAD to moto; undefined when moto cannot say. It
   * carries the copy's own authorization and host: moto routes a request to a service by its
   * credential scope (an unsigned HEAD gets a 403) and does not check signatures.
   */
  const sourceSize = (source: NonNullable<Classified['copySource']>, copy: http.IncomingHttpHeaders): Promise<number | undefined> =>
    new Promise((resolve) => {
      const path = `/${encodeURIComponent(source.bucket)}/${encodeKey(source.key)}${source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ''}`;
      const headers: http.OutgoingHttpHeaders = {};
      for (const name of ['host', 'authorization', 'x-amz-date', 'x-amz-security-token']) if (copy[name] !== undefined) headers[name] = copy[name];
      const head = http.request({ protocol: target.protocol, hostname: target.hostname, port: target.port, method: 'HEAD', path, headers, agent }, (r) => {
        r.resume();
        r.on('error', () => resolve(undefined));
        resolve(r.statusCode === 200 ? byteCount(r.headers['content-length']) : undefined);
      });
      head.on('error', () => resolve(undefined));
      head.end();
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const arrival = clock.now();
    req.on('error', () => res.destroy());
    const c = classify(req.method ?? 'GET', req.url ?? '/', req.headers);
    if (c.service !== 's3') {
      passedThrough++;
      forward(req, res, undefined, async () => {});
      return;
    }
    const stats = opStats(c.op);
    stats.calls++;
    if (inFlight > 0) overlapped++;
    inFlight++;
    res.once('close', () => inFlight--);

    let body: Buffer | undefined;
    let keys: number | undefined;
    let deleting: string[] = [];
    let demands: Demand[];
    if (c.op === 'DeleteObjects') {
      body = await readBody(req);
      if (!body) return; // the client went away
      deleting = deleteObjectsKeys(body.toString('utf8'));
      keys = deleting.length;
      demands = deleting.map((k) => ({ partition: partitionOf(c.bucket ?? '', k), class: 'write' as const, count: 1 }));
    } else {
      demands = [{ partition: partitionOf(c.bucket ?? '', c.key ?? c.prefix ?? ''), class: c.class, count: 1 }];
    }

    if (limits && !limiter.tryAdmit(demands)) {
      stats.slowDowns++;
      for (const d of demands) partitionStats(d).slowDowns += d.count;
      answerSlowDown(res);
      return;
    }
    const admittedAt = clock.now();
    for (const d of mergeDemands(demands)) partitionStats(d).window.add(admittedAt, d.count);

    // A write makes what a listing said of the key stale.
    if (c.class === 'write' && c.bucket) {
      if (c.op === 'DeleteObjects') for (const k of deleting) wrote(sizeId(c.bucket, k));
      else if (c.key !== undefined) wrote(sizeId(c.bucket, c.key));
    }
    const copying = (c.op === 'CopyObject' || c.op === 'UploadPartCopy') && c.bytes === undefined ? c.copySource : undefined;
    const listed = copying && !copying.versionId ? sizes.get(sizeId(copying.bucket, copying.key)) : undefined;
    if (listed !== undefined) copySizes.listed++;
    else if (copying) copySizes.head++;
    const copyBytes = listed !== undefined ? Promise.resolve(listed) : copying ? sourceSize(copying, req.headers) : Promise.resolve(c.bytes);
    const listedAfter = writes;
    const learn =
      c.op === 'ListObjectsV2' && c.bucket
        ? (xml: Buffer) => {
            for (const e of listedSizes(xml.toString('utf8'), c.urlEncoded ?? false)) {
              const id = sizeId(c.bucket ?? '', e.key);
              if ((writtenAt.get(id) ?? 0) <= listedAfter) sizes.set(id, e.size);
            }
          }
        : undefined;
    forward(req, res, body, async (answer) => {
      const bytes =
        c.op === 'GetObject'
          ? answer.statusCode !== undefined && answer.statusCode < 300
            ? byteCount(answer.headers['content-length'])
            : undefined
          : await copyBytes;
      const answered = clock.now();
      const modeled = modeledLatencyMs(c.op, { bytes, keys, entries: c.maxKeys }, scale);
      const release = Math.max(arrival + modeled, answered);
      stats.modeledMs += modeled;
      stats.motoMs += answered - arrival;
      stats.heldMs += release - answered;
      stats.motoOverMs += Math.max(0, answered - arrival - modeled);
      if (release > answered) await clock.sleep(release - answered);
    }, learn);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({
      ops: Object.fromEntries(Object.entries(ops).map(([op, s]) => [op, { ...s }])) as Partial<Record<S3Op, S3OpStats>>,
      partitions: [...partitions.values()].map((p) => ({
        partition: p.partition,
        class: p.class,
        admitted: p.window.total,
        slowDowns: p.slowDowns,
        peakPerSecond: p.window.peak,
        limitPerSecond: limiter.rates[p.class],
      })),
      passedThrough,
      copySizes: { ...copySizes },
      overlapped,
    }),
    reset: () => {
      ops = {};
      partitions = new Map();
      passedThrough = 0;
      copySizes = { listed: 0, head: 0 };
      overlapped = 0;
      // The bench rewrites buckets on moto directly between cases, past the proxy.
      sizes.clear();
      writtenAt.clear();
      limiter.reset();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
