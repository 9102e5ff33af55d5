import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listVersionsPage } from '../../aws/s3';
import { wrapAws } from '../../errors';
import type { Copy } from '../retention';

/*
 * Retention adapter for IAM exports in the backup bucket: drbot's are `iam/<yyyy-mm-dd>/<run id>.json`
 * (backup-iam writes nothing else there but the `iam/latest.json` pointer, which is never a copy).
 * Anything else under `iam/` is someone else's. The bucket is versioned, so a pruned export is
 * deleted by version: it is gone, not hidden behind a delete marker.
 */

export const EXPORT_KEY = /^iam\/\d{4}-\d{2}-\d{2}\/r-[0-9a-f]{12}\.json$/;
const POINTER = 'iam/latest.json';

/** A copy's id: the key and the version to delete. */
function idOf(key: string, versionId: string): string {
  return JSON.stringify([key, versionId]);
}

export async function listExportCopies(s3: S3Client, bucket: string): Promise<Copy[]> {
  const out: Copy[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await listVersionsPage(s3, { bucket, prefix: 'iam/', ...(keyMarker ? { keyMarker } : {}), ...(versionIdMarker ? { versionIdMarker } : {}) });
    for (const v of page.versions) {
      if (v.key === POINTER) continue;
      out.push({ id: idOf(v.key, v.versionId), group: 'iam', createdAt: v.lastModified.toISOString(), state: 'good', ours: EXPORT_KEY.test(v.key), label: v.key });
    }
    if (!page.truncated) return out;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
}

/** Deletes one version of an export for good (deleting a version that is gone succeeds). */
export async function deleteExportCopy(s3: S3Client, bucket: string, copy: Copy): Promise<void> {
  const [key, versionId] = JSON.parse(copy.id) as [string, string];
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })).catch((e: unknown) => {
    throw wrapAws(e, 'DeleteObject', `${bucket}/${key}`);
  });
}
