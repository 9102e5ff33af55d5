import type { DrConfig } from '../config/schema';
import { PreconditionError, UnknownResourceError } from '../errors';

/** Where the config says a resource lives: the lookups every runbook shares. */

export function bucketRegion(cfg: DrConfig, bucket: string): string {
  const b = cfg.s3.buckets.find((x) => x.name === bucket);
  if (!b) throw new UnknownResourceError('bucket', bucket, cfg.s3.buckets.map((x) => x.name));
  return b.region ?? cfg.regions.primary;
}

export function replicaOf(cfg: DrConfig, bucket: string): { bucket: string; region: string } {
  const b = cfg.s3.buckets.find((x) => x.name === bucket);
  if (!b?.replica) {
    throw new PreconditionError(
      'no_replica',
      `\`${bucket}\` has no replica bucket in the drbot config.`,
      `Add \`replica: { bucket: …, region: … }\` under s3.buckets for ${bucket}, or undelete instead with \`/dr restore s3 ${bucket}\`.`,
    );
  }
  return b.replica;
}

export function tableRegion(cfg: DrConfig, table: string): string {
  const t = cfg.dynamodb.tables.find((x) => x.name === table);
  if (!t) throw new UnknownResourceError('table', table, cfg.dynamodb.tables.map((x) => x.name));
  return t.region ?? cfg.regions.primary;
}
