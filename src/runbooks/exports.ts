import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DrConfig } from '../config/schema';
import { PreconditionError, wrapAws } from '../errors';
import { plural } from '../slack/views/run';
import type { RunbookDeps } from './types';

/**
 * What the export verbs (route53, lambda; IAM its writes and read-back) share: the backup bucket, JSON
 * documents with a checksum in their metadata, and `latest.json` pointers.
 */

export function noBackupBucket(): PreconditionError {
  return new PreconditionError('no_backup_bucket', 'No backup bucket is configured, so there is nowhere to write the export.', 'Set `backupBucket` in the drbot config (a versioned bucket; `/dr setup` can create it).');
}

/** Refuses at the command when there is nowhere to write. */
export function requireBackupBucket(config: DrConfig): string {
  if (!config.backupBucket) throw noBackupBucket();
  return config.backupBucket;
}

/** The backup bucket and the client that writes to it (the primary region's). */
export function backupTarget(deps: Pick<RunbookDeps, 'config' | 'clients'>): { bucket: string; s3: S3Client } {
  return { bucket: requireBackupBucket(deps.config), s3: deps.clients.s3(deps.config.regions.primary) };
}

export const sha256Hex = (body: string | Uint8Array): string => createHash('sha256').update(body).digest('hex');

export async function putObject(s3: S3Client, bucket: string, key: string, body: string | Uint8Array, metadata: Record<string, string>, contentType = 'application/json'): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata })).catch((e: unknown) => {
    throw wrapAws(e, 'PutObject', `${bucket}/${key}`);
  });
}

/** The object's text, or undefined when there is no such key. */
export async function getText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await r.Body?.transformToString()) ?? '';
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw wrapAws(e, 'GetObject', `${bucket}/${key}`);
  }
}

/** An export read back after it was written: there or not, its bytes the ones written (by checksum), and how many entries it holds (-1: none readable). */
export interface ReadBack {
  found: boolean;
  same: boolean;
  count: number;
}

/**
 * Reads an export back: `count` gives how many entries its JSON holds. A body that is not JSON (a
 * truncated or overwritten object) holds none: a failed verification, not a crashed step.
 */
export async function readBack(s3: S3Client, bucket: string, key: string, sha256: string, count: (doc: Record<string, unknown>) => unknown): Promise<ReadBack> {
  const body = await getText(s3, bucket, key);
  if (body === undefined) return { found: false, same: false, count: -1 };
  let n: unknown;
  try {
    n = count(JSON.parse(body) as Record<string, unknown>);
  } catch {
    // not JSON, or no entries its count can read: none readable
  }
  return { found: true, same: sha256Hex(body) === sha256, count: typeof n === 'number' ? n : -1 };
}

/** A read-back that did not verify, as the run's failure. */
export const readBackFailure = (r: ReadBack): string => (r.found ? 'the export read back differs from what was written' : 'the export was not there when it was read back');

/** A read-back that did not verify, as the report's line: `what` names the entries ("record sets"). */
export function readBackLine(r: ReadBack, one: string, many = `${one}s`): string {
  if (!r.found) return ':warning: The export was not there when it was read back.';
  return `:warning: Read back ${r.same ? 'the same checksum' : 'a different checksum'} with ${r.count < 0 ? `no ${many} readable` : plural(r.count, one, many)}.`;
}

/** HeadObject's metadata and date, or undefined when there is no such key. */
export async function headObject(s3: S3Client, bucket: string, key: string): Promise<{ metadata: Record<string, string>; lastModified?: Date } | undefined> {
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { metadata: r.Metadata ?? {}, ...(r.LastModified ? { lastModified: r.LastModified } : {}) };
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((e as { name?: string }).name === 'NotFound' || status === 404) return undefined;
    throw wrapAws(e, 'HeadObject', `${bucket}/${key}`);
  }
}

/** The pointer every export kind keeps beside its dated documents. */
export interface LatestPointer {
  key: string;
  runId: string;
  exportedAt: string;
  sha256: string;
  count: number;
}

/**
 * A `latest.json` pointer, or undefined when there is none. One that is not JSON, or names no key
 * (none, an empty one, or not a string), is refused (`bad_export_pointer`): what it points at
 * cannot be known, so nothing is read through it.
 */
export async function readLatest(s3: S3Client, bucket: string, key: string): Promise<LatestPointer | undefined> {
  const text = await getText(s3, bucket, key);
  if (text === undefined) return undefined;
  let pointer: unknown;
  try {
    pointer = JSON.parse(text);
  } catch {
    // not JSON: refused below, as a pointer naming no key is
  }
  const named = (pointer as { key?: unknown } | null | undefined)?.key;
  if (typeof named !== 'string' || !named) {
    throw new PreconditionError('bad_export_pointer', `\`s3://${bucket}/${key}\` is not a pointer drbot can read: it names no export.`, 'Run the backup again to rewrite it, or name an export with `--backup KEY`.');
  }
  return pointer as LatestPointer;
}

/** `20261201` */
export const ymd = (iso: string): string => iso.slice(0, 10).replace(/-/g, '');
