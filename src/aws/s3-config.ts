import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type BucketLocationConstraint,
  type LifecycleRule,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type ReplicationRule,
  type S3Client,
  type TransitionDefaultMinimumObjectSize,
} from '@aws-sdk/client-s3';
import { isErrorLike, wrapAws } from '../errors';
import type { Versioning } from './s3';

/*
 * Bucket settings as AWS holds them, read and written whole. PutBucketLifecycleConfiguration and
 * PutBucketReplication replace the entire configuration, so callers read these, merge their own
 * rules in by ID and write back everything (see src/runbooks/setup/merge.ts).
 */

function errorName(e: unknown): string {
  if (!isErrorLike(e)) return '';
  return (e as { Code?: string }).Code ?? e.name;
}

export interface Lifecycle {
  rules: LifecycleRule[];
  /** Kept as read when written back (AWS adds it to every configuration since 2024). */
  minimumObjectSize?: TransitionDefaultMinimumObjectSize;
}

export interface Replication {
  role: string;
  rules: ReplicationRule[];
}

export async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (e) {
    const n = errorName(e);
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (n === 'NotFound' || n === 'NoSuchBucket' || status === 404) return false;
    throw wrapAws(e, 'HeadBucket', bucket);
  }
}

export async function getVersioning(s3: S3Client, bucket: string): Promise<Versioning> {
  const r = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket })).catch((e: unknown) => {
    throw wrapAws(e, 'GetBucketVersioning', bucket);
  });
  return r.Status === 'Enabled' ? 'Enabled' : r.Status === 'Suspended' ? 'Suspended' : 'Off';
}

export async function enableVersioning(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } })).catch((e: unknown) => {
    throw wrapAws(e, 'PutBucketVersioning', bucket);
  });
}

export async function getLifecycle(s3: S3Client, bucket: string): Promise<Lifecycle> {
  try {
    const r = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return { rules: r.Rules ?? [], ...(r.TransitionDefaultMinimumObjectSize ? { minimumObjectSize: r.TransitionDefaultMinimumObjectSize } : {}) };
  } catch (e) {
    if (errorName(e) === 'NoSuchLifecycleConfiguration') return { rules: [] };
    throw wrapAws(e, 'GetBucketLifecycleConfiguration', bucket);
  }
}

/** Writes the whole lifecycle configuration: pass every rule that should remain, not only yours. */
export async function putLifecycle(s3: S3Client, bucket: string, lc: Lifecycle): Promise<void> {
  await s3
    .send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: lc.rules },
        ...(lc.minimumObjectSize ? { TransitionDefaultMinimumObjectSize: lc.minimumObjectSize } : {}),
      }),
    )
    .catch((e: unknown) => {
      throw wrapAws(e, 'PutBucketLifecycleConfiguration', bucket);
    });
}

export async function getReplication(s3: S3Client, bucket: string): Promise<Replication | undefined> {
  try {
    const r = await s3.send(new GetBucketReplicationCommand({ Bucket: bucket }));
    const c = r.ReplicationConfiguration;
    return c ? { role: c.Role ?? '', rules: c.Rules ?? [] } : undefined;
  } catch (e) {
    if (errorName(e) === 'ReplicationConfigurationNotFoundError') return undefined;
    throw wrapAws(e, 'GetBucketReplication', bucket);
  }
}

/** Writes the whole replication configuration: pass every rule that should remain, not only yours. */
export async function putReplication(s3: S3Client, bucket: string, c: Replication): Promise<void> {
  await s3.send(new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: { Role: c.role, Rules: c.rules } })).catch((e: unknown) => {
    throw wrapAws(e, 'PutBucketReplication', bucket);
  });
}

export async function createBucket(s3: S3Client, bucket: string, region: string): Promise<void> {
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 takes no location constraint; every other region needs its own.
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
  } catch (e) {
    // A retried step finds the bucket it made.
    if (errorName(e) === 'BucketAlreadyOwnedByYou') return;
    throw wrapAws(e, 'CreateBucket', bucket);
  }
}

/** All four public-access settings on. */
export async function publicAccessBlocked(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    const c = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
    return Boolean(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets);
  } catch (e) {
    if (errorName(e) === 'NoSuchPublicAccessBlockConfiguration') return false;
    throw wrapAws(e, 'GetPublicAccessBlock', bucket);
  }
}

export async function blockPublicAccess(s3: S3Client, bucket: string): Promise<void> {
  await s3
    .send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
    )
    .catch((e: unknown) => {
      throw wrapAws(e, 'PutPublicAccessBlock', bucket);
    });
}

/** The default encryption algorithm (AES256, aws:kms, …), or undefined when none is set. */
export async function defaultEncryption(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const r = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    return r.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
  } catch (e) {
    if (errorName(e) === 'ServerSideEncryptionConfigurationNotFoundError') return undefined;
    throw wrapAws(e, 'GetBucketEncryption', bucket);
  }
}

/** SSE-S3 as the default; only called when the bucket has no default encryption at all. */
export async function encryptByDefault(s3: S3Client, bucket: string): Promise<void> {
  await s3
    .send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }] } }))
    .catch((e: unknown) => {
      throw wrapAws(e, 'PutBucketEncryption', bucket);
    });
}
