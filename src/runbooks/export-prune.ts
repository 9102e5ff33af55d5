import type { S3Client } from '@aws-sdk/client-s3';
import { deleteVersions, listVersionsPage, type VersionItem, type VersionRef } from '../aws/s3';
import { DrbotError } from '../errors';
import { readLatest } from './exports';
import type { Copy } from './retention';

/*
 * Retention for the exports drbot writes to the backup bucket (Route53 zones, Lambda versions): what
 * is stored under a prefix, every version of it (the bucket is versioned, so a pruned export is
 * deleted by version: gone for good, not hidden behind a delete marker), and how a copy made of
 * several objects is deleted. Which keys are drbot's is each verb's own pattern.
 */

/** Every version of every object under `prefix`, page by page. */
export async function listStoredVersions(s3: S3Client, bucket: string, prefix: string): Promise<VersionItem[]> {
  const out: VersionItem[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await listVersionsPage(s3, { bucket, prefix, ...(keyMarker ? { keyMarker } : {}), ...(versionIdMarker ? { versionIdMarker } : {}) });
    out.push(...page.versions);
    if (!page.truncated) return out;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
}

/** A copy's id: the object versions it is made of, as deleting needs them. */
export const refsId = (refs: readonly VersionRef[]): string => JSON.stringify(refs.map((r) => [r.key, r.versionId]));

function refsOf(copy: Copy): VersionRef[] {
  return (JSON.parse(copy.id) as [string, string][]).map(([key, versionId]) => ({ key, versionId }));
}

/** S3's per-key answers that mean the version is already gone (a replayed step). */
const GONE = new Set(['NoSuchVersion', 'NoSuchKey']);

/** Deletes every object version of one copy for good (DeleteObjects, ≤ 1,000 a call); a version already gone counts as deleted. */
export async function deleteStoredCopy(s3: S3Client, bucket: string, copy: Copy): Promise<void> {
  const refs = refsOf(copy);
  const r = await deleteVersions(s3, bucket, refs);
  const errors = r.errors.filter((e) => !GONE.has(e.code));
  const first = errors[0];
  if (first) {
    throw new DrbotError(
      'aws_delete_failed',
      `${errors.length} of ${refs.length} objects could not be deleted (${first.code} on \`${first.key}\`${first.message ? `: ${first.message}` : ''}).`,
      "Check the bot's s3:DeleteObjectVersion permission on the backup bucket; the next prune tries again.",
    );
  }
}

/**
 * The key a `latest.json` pointer names, or undefined when there is no pointer. A pointer that
 * cannot be read is an error: what it protects cannot be known, so nothing is pruned.
 */
export async function pointerTarget(s3: S3Client, bucket: string, pointerKey: string): Promise<string | undefined> {
  try {
    return (await readLatest(s3, bucket, pointerKey))?.key;
  } catch (e) {
    // AWS's refusal is said as it is; a pointer that is not JSON or names no key protects what is unknown
    if (e instanceof DrbotError && e.code !== 'bad_export_pointer') throw e;
    throw new DrbotError('pointer_unreadable', `\`${pointerKey}\` is not a pointer drbot can read, so what it protects is unknown.`, 'Run the backup again without --prune to rewrite it.');
  }
}
