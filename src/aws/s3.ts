import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  UploadPartCopyCommand,
  type CompletedPart,
  type LifecycleRule,
  type ReplicationRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PreconditionError, isErrorLike, wasThrottled, wrapAws } from '../errors';
import { mapLimit } from '../util/limit';
import { retryWait } from './retry-wait';

/** AWS's limit on keys in one DeleteObjects call (moto accepts more; we never send more). */
export const DELETE_OBJECTS_MAX = 1000;
/** The largest object a single CopyObject can copy; above it, a multipart copy is needed. */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;
/** Part size of a multipart copy: 512 MiB, so even a 5 TiB object stays within 10,000 parts. */
export const COPY_PART_BYTES = 512 * 1024 ** 2;

const GLACIER_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR']);
/** Storage classes that count as "archived to Glacier" for the runbook's archive rule. */
export function isGlacierClass(storageClass: string): boolean {
  return GLACIER_CLASSES.has(storageClass);
}

export type Versioning = 'Enabled' | 'Suspended' | 'Off';

export interface BucketTransition {
  days: number;
  storageClass: string;
  prefix?: string;
}

export interface BucketReplication {
  ruleId?: string;
  enabled: boolean;
  /** Bucket name (the ARN prefix `arn:aws:s3:::` removed). */
  destinationBucket: string;
  /** S3 Replication Time Control (15-minute SLA) is on. */
  rtc: boolean;
  metrics: boolean;
  deleteMarkerReplication: boolean;
}

export interface BucketPosture {
  bucket: string;
  exists: boolean;
  versioning: Versioning;
  /** NoncurrentDays of the enabled noncurrent-version expiration rule (a bucket-wide rule preferred). */
  noncurrentExpirationDays?: number;
  /** Day-based transitions of enabled lifecycle rules. */
  transitions: BucketTransition[];
  /** The enabled replication rule if there is one, else the first rule; absent when none is configured. */
  replication?: BucketReplication;
  /** Set when a call failed for a reason other than "not configured"; the rest is what we could read. */
  error?: string;
}

function errorName(e: unknown): string {
  if (!isErrorLike(e)) return '';
  return (e as { Code?: string }).Code ?? e.name;
}

function isNoSuchBucket(e: unknown): boolean {
  return errorName(e) === 'NoSuchBucket';
}


function rulePrefix(rule: LifecycleRule): string | undefined {
  const p = rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix;
  return p ? p : undefined;
}

function bucketFromArn(arn: string): string {
  return arn.startsWith('arn:aws:s3:::') ? arn.slice('arn:aws:s3:::'.length) : arn;
}

function toReplication(rule: ReplicationRule): BucketReplication {
  return {
    ...(rule.ID ? { ruleId: rule.ID } : {}),
    enabled: rule.Status === 'Enabled',
    destinationBucket: bucketFromArn(rule.Destination?.Bucket ?? ''),
    rtc: rule.Destination?.ReplicationTime?.Status === 'Enabled',
    metrics: rule.Destination?.Metrics?.Status === 'Enabled',
    deleteMarkerReplication: rule.DeleteMarkerReplication?.Status === 'Enabled',
  };
}

/**
 * Versioning, lifecycle and replication of one bucket. Never throws for the bucket's own state:
 * a missing bucket is `exists: false`, an unconfigured lifecycle or replication is simply absent,
 * and any other failure is reported in `error` (wrapped, naming the bucket).
 */
export async function getBucketPosture(s3: S3Client, bucket: string): Promise<BucketPosture> {
  const posture: BucketPosture = { bucket, exists: true, versioning: 'Off', transitions: [] };
  const errors: string[] = [];
  let missing = false;

  const fail = (e: unknown, operation: string) => {
    if (isNoSuchBucket(e)) missing = true;
    else errors.push(wrapAws(e, operation, bucket).message);
  };

  await Promise.all([
    s3.send(new GetBucketVersioningCommand({ Bucket: bucket })).then(
      (r) => {
        posture.versioning = r.Status === 'Enabled' ? 'Enabled' : r.Status === 'Suspended' ? 'Suspended' : 'Off';
      },
      (e: unknown) => fail(e, 'GetBucketVersioning'),
    ),
    s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })).then(
      (r) => {
        const rules = (r.Rules ?? []).filter((rule) => rule.Status === 'Enabled');
        const expiring = rules.filter((rule) => rule.NoncurrentVersionExpiration?.NoncurrentDays !== undefined);
        const chosen = expiring.find((rule) => rulePrefix(rule) === undefined) ?? expiring[0];
        const days = chosen?.NoncurrentVersionExpiration?.NoncurrentDays;
        if (days !== undefined) posture.noncurrentExpirationDays = days;
        for (const rule of rules) {
          const prefix = rulePrefix(rule);
          for (const t of rule.Transitions ?? []) {
            if (t.Days === undefined || !t.StorageClass) continue;
            posture.transitions.push({ days: t.Days, storageClass: t.StorageClass, ...(prefix ? { prefix } : {}) });
          }
        }
      },
      (e: unknown) => {
        if (errorName(e) !== 'NoSuchLifecycleConfiguration') fail(e, 'GetBucketLifecycleConfiguration');
      },
    ),
    s3.send(new GetBucketReplicationCommand({ Bucket: bucket })).then(
      (r) => {
        const rules = r.ReplicationConfiguration?.Rules ?? [];
        const chosen = rules.find((rule) => rule.Status === 'Enabled') ?? rules[0];
        if (chosen) posture.replication = toReplication(chosen);
      },
      (e: unknown) => {
        if (errorName(e) !== 'ReplicationConfigurationNotFoundError') fail(e, 'GetBucketReplication');
      },
    ),
  ]);

  if (missing) return { bucket, exists: false, versioning: 'Off', transitions: [] };
  if (errors.length) posture.error = errors.join('; ');
  return posture;
}

/**
 * Throws PreconditionError `bucket_not_versioned` when versioning was never enabled. A Suspended
 * bucket still holds its delete markers and older versions, so it is returned for the plan to warn.
 */
export async function assertVersioned(s3: S3Client, bucket: string): Promise<'Enabled' | 'Suspended'> {
  let status: string | undefined;
  try {
    status = (await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status;
  } catch (e) {
    throw wrapAws(e, 'GetBucketVersioning', bucket);
  }
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new PreconditionError(
      'bucket_not_versioned',
      `Bucket \`${bucket}\` was never versioned, so deleted objects cannot be recovered from it.`,
      `Enable versioning now so future deletions can be undone: \`aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled\`. For what is already gone, try \`--from-replica\` if the bucket has one.`,
    );
  }
  return status;
}

export interface DeleteMarkerItem {
  key: string;
  versionId: string;
  isLatest: boolean;
  lastModified: Date;
}

export interface VersionItem extends DeleteMarkerItem {
  size: number;
  etag?: string;
}

export interface VersionsPage {
  deleteMarkers: DeleteMarkerItem[];
  versions: VersionItem[];
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
  truncated: boolean;
  /** With a delimiter: the prefixes rolled up (each one entry of the page). */
  commonPrefixes: string[];
}

export interface ListVersionsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys?: number;
}

/**
 * One page of ListObjectVersions. Callers loop on `truncated` with the next markers, so a
 * checkpointed runbook step can handle one page at a time.
 */
export async function listVersionsPage(s3: S3Client, input: ListVersionsInput): Promise<VersionsPage> {
  let r;
  try {
    r = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: input.bucket,
        ...(input.prefix ? { Prefix: input.prefix } : {}),
        ...(input.delimiter ? { Delimiter: input.delimiter } : {}),
        ...(input.keyMarker ? { KeyMarker: input.keyMarker } : {}),
        ...(input.versionIdMarker ? { VersionIdMarker: input.versionIdMarker } : {}),
        ...(input.maxKeys ? { MaxKeys: input.maxKeys } : {}),
      }),
    );
  } catch (e) {
    throw wrapAws(e, 'ListObjectVersions', input.bucket);
  }
  const page: VersionsPage = {
    deleteMarkers: (r.DeleteMarkers ?? []).map((m) => ({
      key: m.Key ?? '',
      versionId: m.VersionId ?? 'null',
      isLatest: m.IsLatest === true,
      lastModified: m.LastModified ?? new Date(0),
    })),
    versions: (r.Versions ?? []).map((v) => ({
      key: v.Key ?? '',
      versionId: v.VersionId ?? 'null',
      isLatest: v.IsLatest === true,
      lastModified: v.LastModified ?? new Date(0),
      size: v.Size ?? 0,
      ...(v.ETag ? { etag: v.ETag } : {}),
    })),
    truncated: r.IsTruncated === true,
    commonPrefixes: (r.CommonPrefixes ?? []).flatMap((c) => (c.Prefix !== undefined ? [c.Prefix] : [])),
  };
  if (r.IsTruncated) {
    if (r.NextKeyMarker) page.nextKeyMarker = r.NextKeyMarker;
    if (r.NextVersionIdMarker) page.nextVersionIdMarker = r.NextVersionIdMarker;
  }
  return page;
}

export interface VersionRef {
  key: string;
  versionId: string;
}

export interface DeleteVersionsOptions {
  /** DeleteObjects calls in flight at once (default 4). */
  concurrency?: number;
  /** Retries of keys that failed with a transient per-key error (default 3). */
  maxRetries?: number;
  /** Called after each DeleteObjects call with the number of items settled so far (deleted or given up). */
  onProgress?: (doneCount: number) => void;
  /** Backoff sleeper; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** Each DeleteObjects answer: throttled (a SlowDown, or a success the SDK got only by retrying) or not; for an adaptive window. */
  onAnswer?: (throttled: boolean) => void;
}

export interface DeleteVersionError extends VersionRef {
  code: string;
  message: string;
}

export interface DeleteVersionsResult {
  deleted: number;
  errors: DeleteVersionError[];
}

/** Per-key DeleteObjects error codes worth retrying; anything else (AccessDenied, …) is reported at once. */
const RETRYABLE_KEY_ERRORS = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout', 'OperationAborted', 'Throttling']);
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5000;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Permanently deletes the given object versions (or delete markers) with DeleteObjects, at most
 * DELETE_OBJECTS_MAX keys a call, Quiet, `concurrency` calls at a time. Keys that fail with a
 * transient per-key error are retried with exponential backoff up to `maxRetries` times, then
 * reported in `errors`, as are keys failing for any other reason. A failure of a whole call
 * (AccessDenied, NoSuchBucket, …) stops further calls and throws the wrapped error.
 */
export async function deleteVersions(
  s3: S3Client,
  bucket: string,
  items: readonly VersionRef[],
  opts: DeleteVersionsOptions = {},
): Promise<DeleteVersionsResult> {
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const maxRetries = Math.max(0, opts.maxRetries ?? 3);
  const sleep = opts.sleep ?? retryWait;
  const result: DeleteVersionsResult = { deleted: 0, errors: [] };
  let done = 0;
  let fatal: Error | undefined;

  const deleteBatch = async (batch: VersionRef[]): Promise<void> => {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (fatal) return;
      if (attempt > 0) await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)));
      let r;
      try {
        r = await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: pending.map((i) => ({ Key: i.key, VersionId: i.versionId })), Quiet: true },
          }),
        );
      } catch (e) {
        opts.onAnswer?.(wasThrottled(undefined, e));
        fatal ??= wrapAws(e, 'DeleteObjects', bucket);
        return;
      }
      opts.onAnswer?.(wasThrottled(r) || (r.Errors ?? []).some((err) => err.Code === 'SlowDown'));
      const failed = new Map<string, { code: string; message: string }>();
      for (const err of r.Errors ?? []) {
        failed.set(`${err.Key ?? ''}\u0000${err.VersionId ?? ''}`, { code: err.Code ?? 'Unknown', message: err.Message ?? '' });
      }
      const retry: VersionRef[] = [];
      for (const item of pending) {
        // An error entry without a VersionId names the key alone.
        const err = failed.get(`${item.key}\u0000${item.versionId}`) ?? failed.get(`${item.key}\u0000`);
        if (!err) {
          result.deleted++;
          done++;
        } else if (RETRYABLE_KEY_ERRORS.has(err.code) && attempt < maxRetries) {
          retry.push(item);
        } else {
          result.errors.push({ key: item.key, versionId: item.versionId, code: err.code, message: err.message });
          done++;
        }
      }
      opts.onProgress?.(done);
      pending = retry;
    }
  };

  await mapLimit(chunk(items, DELETE_OBJECTS_MAX), concurrency, deleteBatch);
  if (fatal) throw fatal;
  return result;
}

export interface ObjectIndexEntry {
  size: number;
  /** As S3 returns it, quotes included. */
  etag: string;
  /** Epoch milliseconds. */
  lastModified: number;
}

/**
 * S3's listing order: keys by their UTF-8 bytes, which is code point order. JavaScript's `<`
 * compares UTF-16 code units, which differs for keys holding characters above U+FFFF (their
 * surrogates sort below U+E000–U+FFFF in UTF-16, above them in UTF-8).
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    // A surrogate stands for a code point above U+FFFF: after every character of the BMP.
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

export interface ListedObject extends ObjectIndexEntry {
  key: string;
}

/**
 * Every current object under `prefix` after `startAfter`, in S3's key order, one page held at a
 * time: the next page is fetched while the caller works through the current one.
 */
export async function* listObjects(s3: S3Client, bucket: string, opts: { prefix?: string; startAfter?: string } = {}): AsyncGenerator<ListedObject> {
  const page = async (token?: string): Promise<ListObjectsV2CommandOutput> => {
    try {
      return await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(opts.prefix ? { Prefix: opts.prefix } : {}),
          ...(token ? { ContinuationToken: token } : opts.startAfter ? { StartAfter: opts.startAfter } : {}),
        }),
      );
    } catch (e) {
      throw wrapAws(e, 'ListObjectsV2', bucket);
    }
  };
  let next: Promise<ListObjectsV2CommandOutput> | undefined = page();
  while (next) {
    const r: ListObjectsV2CommandOutput = await next;
    const token: string | undefined = r.IsTruncated ? r.NextContinuationToken : undefined;
    next = token ? page(token) : undefined;
    // A prefetched page the caller never asks for must not become an unhandled rejection.
    next?.catch(() => undefined);
    for (const o of r.Contents ?? []) {
      if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified?.getTime() ?? 0 };
    }
  }
}

/** Every current object under `prefix` (ListObjectsV2, paginated): key -> size and ETag. */
export async function listObjectsIndex(s3: S3Client, bucket: string, prefix?: string): Promise<Map<string, ObjectIndexEntry>> {
  const index = new Map<string, ObjectIndexEntry>();
  for await (const { key, ...entry } of listObjects(s3, bucket, prefix ? { prefix } : {})) index.set(key, entry);
  return index;
}

export interface CopyInput {
  sourceBucket: string;
  destBucket: string;
  key: string;
  size: number;
  /** When given, the copy only happens if the source still has this ETag. */
  etag?: string;
  /** The CopyObject answer: throttled or not (see DeleteVersionsOptions.onAnswer). */
  onAnswer?: (throttled: boolean) => void;
}

export interface CopyResult {
  key: string;
  bytes: number;
  multipart: boolean;
}

/** `bucket/key` for CopySource, the key URL-encoded segment by segment (slashes kept). */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Copies one object between buckets without downloading it: CopyObject up to 5 GiB, a multipart
 * copy (512 MiB parts, 4 at a time) above; the multipart upload is aborted if any step fails.
 */
export async function copyObjectServerSide(s3: S3Client, input: CopyInput): Promise<CopyResult> {
  const { sourceBucket, destBucket, key, size, etag } = input;
  const source = copySource(sourceBucket, key);
  const ifMatch = etag ? { CopySourceIfMatch: etag } : {};
  const resource = `${destBucket}/${key}`;

  if (size <= COPY_OBJECT_MAX_BYTES) {
    try {
      // Sent first: an optional call's arguments are not evaluated when it is absent.
      const r = await s3.send(new CopyObjectCommand({ Bucket: destBucket, Key: key, CopySource: source, ...ifMatch }));
      input.onAnswer?.(wasThrottled(r));
    } catch (e) {
      input.onAnswer?.(wasThrottled(undefined, e));
      throw wrapAws(e, 'CopyObject', resource);
    }
    return { key, bytes: size, multipart: false };
  }

  // CreateMultipartUpload does not carry the source's headers over as CopyObject does: copy them.
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: sourceBucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
  } catch (e) {
    throw wrapAws(e, 'HeadObject', `${sourceBucket}/${key}`);
  }
  let uploadId: string | undefined;
  try {
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: destBucket,
        Key: key,
        ...(head.ContentType ? { ContentType: head.ContentType } : {}),
        ...(head.CacheControl ? { CacheControl: head.CacheControl } : {}),
        ...(head.ContentDisposition ? { ContentDisposition: head.ContentDisposition } : {}),
        ...(head.ContentEncoding ? { ContentEncoding: head.ContentEncoding } : {}),
        ...(head.ContentLanguage ? { ContentLanguage: head.ContentLanguage } : {}),
        ...(head.Metadata && Object.keys(head.Metadata).length ? { Metadata: head.Metadata } : {}),
      }),
    );
    uploadId = created.UploadId;
    if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    const id = uploadId;
    const ranges: { partNumber: number; range: string }[] = [];
    for (let start = 0, n = 1; start < size; start += COPY_PART_BYTES, n++) {
      ranges.push({ partNumber: n, range: `bytes=${start}-${Math.min(start + COPY_PART_BYTES, size) - 1}` });
    }
    const parts: CompletedPart[] = await mapLimit(ranges, 4, async ({ partNumber, range }) => {
      const r = await s3.send(
        new UploadPartCopyCommand({
          Bucket: destBucket,
          Key: key,
          UploadId: id,
          PartNumber: partNumber,
          CopySource: source,
          CopySourceRange: range,
          ...ifMatch,
        }),
      );
      return { PartNumber: partNumber, ETag: r.CopyPartResult?.ETag };
    });
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: destBucket, Key: key, UploadId: id, MultipartUpload: { Parts: parts } }),
    );
  } catch (e) {
    if (uploadId) {
      try {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: destBucket, Key: key, UploadId: uploadId }));
      } catch {
        // The original failure is what the user needs; an unaborted upload is reaped by lifecycle rules.
      }
    }
    throw wrapAws(e, 'multipart copy', resource);
  }
  return { key, bytes: size, multipart: true };
}
