import type { S3Client } from '@aws-sdk/client-s3';
import { listStoredVersions, pointerTarget, refsId } from '../export-prune';
import type { Copy } from '../retention';

/*
 * Retention adapter for Route53 exports: drbot's are `route53/<zone id>/<yyyy-mm-dd>/<run id>.json`
 * (backup-route53 writes nothing else there but `route53/<zone id>/latest.json`, which is never a
 * copy, and whose target is never deleted). Anything else under the zone's prefix is someone else's.
 */

const exportKey = (zoneId: string) => new RegExp(`^route53/${zoneId}/\\d{4}-\\d{2}-\\d{2}/r-[0-9a-f]{12}\\.json$`);

/** Every stored version under `route53/<zone id>/` but the pointer, as copies of the zone. */
export async function listZoneExports(s3: S3Client, bucket: string, zoneId: string): Promise<Copy[]> {
  const prefix = `route53/${zoneId}/`;
  const pointer = `${prefix}latest.json`;
  const ours = exportKey(zoneId);
  const [versions, target] = await Promise.all([listStoredVersions(s3, bucket, prefix), pointerTarget(s3, bucket, pointer)]);
  return versions
    .filter((v) => v.key !== pointer)
    .map((v) => ({
      id: refsId([v]),
      group: zoneId,
      createdAt: v.lastModified.toISOString(),
      state: 'good' as const,
      ours: ours.test(v.key),
      label: v.key,
      ...(v.key === target ? { pinned: 'the latest pointer' } : {}),
    }));
}
