import type { LifecycleRule, ReplicationRule } from '@aws-sdk/client-s3';
import type { Lifecycle, Replication } from '../../aws/s3-config';

/*
 * The runbook's protective S3 rules, and how they join what a bucket already has. AWS replaces a
 * lifecycle or replication configuration whole, so ours are merged in by rule ID and every rule
 * someone else wrote is written back unchanged. Pure: the setup runbook reads, calls these, writes.
 */

export const RULE_IDS = { noncurrent: 'drbot-noncurrent-expiry', archive: 'drbot-archive', replica: 'drbot-replica' } as const;
const OURS = new Set<string>(Object.values(RULE_IDS));

/** The runbook's archive schedule for the archive prefix: Glacier at 30 days, Deep Archive at 90. */
export const ARCHIVE_TRANSITIONS = [
  { Days: 30, StorageClass: 'GLACIER' },
  { Days: 90, StorageClass: 'DEEP_ARCHIVE' },
] as const;

/** The 15 minutes of S3 Replication Time Control, and the metrics threshold that goes with it. */
export const RTC_MINUTES = 15;

export function noncurrentRule(days: number): LifecycleRule {
  return { ID: RULE_IDS.noncurrent, Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: days } };
}

export function archiveRule(prefix: string): LifecycleRule {
  return { ID: RULE_IDS.archive, Status: 'Enabled', Filter: { Prefix: prefix }, Transitions: ARCHIVE_TRANSITIONS.map((t) => ({ ...t })) };
}

export function replicaRule(destinationBucket: string, priority: number): ReplicationRule {
  return {
    ID: RULE_IDS.replica,
    Status: 'Enabled',
    Priority: priority,
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Enabled' },
    Destination: {
      Bucket: `arn:aws:s3:::${destinationBucket}`,
      ReplicationTime: { Status: 'Enabled', Time: { Minutes: RTC_MINUTES } },
      Metrics: { Status: 'Enabled', EventThreshold: { Minutes: RTC_MINUTES } },
    },
  };
}

function lifecyclePrefix(r: LifecycleRule): string | undefined {
  if (r.Filter?.Tag || r.Filter?.And?.Tags?.length || r.Filter?.ObjectSizeGreaterThan !== undefined || r.Filter?.ObjectSizeLessThan !== undefined) return undefined;
  return r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? r.Prefix ?? '';
}

/** What the bucket's lifecycle lacks of the runbook's rules. */
export interface LifecycleNeeds {
  /** Our rules to add or replace (by ID). */
  upsert: LifecycleRule[];
  /** What is already right, in words. */
  ok: string[];
  /** What we leave alone because another rule contradicts ours, in words. */
  conflicts: string[];
}

export function lifecycleNeeds(rules: readonly LifecycleRule[], want: { noncurrentDays: number; archivePrefix?: string }): LifecycleNeeds {
  const out: LifecycleNeeds = { upsert: [], ok: [], conflicts: [] };
  const enabled = rules.filter((r) => r.Status === 'Enabled');
  const bucketWide = enabled.filter((r) => lifecyclePrefix(r) === '' && r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined);
  const right = bucketWide.find((r) => r.NoncurrentVersionExpiration?.NoncurrentDays === want.noncurrentDays);
  const foreignOther = bucketWide.find((r) => !OURS.has(r.ID ?? '') && r.NoncurrentVersionExpiration?.NoncurrentDays !== want.noncurrentDays);
  if (right) out.ok.push(`noncurrent versions expire after ${want.noncurrentDays} days (rule \`${right.ID ?? '?'}\`)`);
  else if (foreignOther) {
    out.conflicts.push(
      `rule \`${foreignOther.ID ?? '?'}\` expires noncurrent versions after ${foreignOther.NoncurrentVersionExpiration?.NoncurrentDays ?? '?'} days, not ${want.noncurrentDays}: left as it is (S3 applies the shortest); change it by hand if ${want.noncurrentDays} is meant`,
    );
  } else out.upsert.push(noncurrentRule(want.noncurrentDays));

  if (want.archivePrefix !== undefined) {
    const prefix = want.archivePrefix;
    const archived = enabled.find(
      (r) => lifecyclePrefix(r) === prefix && ARCHIVE_TRANSITIONS.every((t) => (r.Transitions ?? []).some((x) => x.Days === t.Days && x.StorageClass === t.StorageClass)),
    );
    if (archived) out.ok.push(`\`${prefix}\` goes to Glacier at 30 days and Deep Archive at 90 (rule \`${archived.ID ?? '?'}\`)`);
    else out.upsert.push(archiveRule(prefix));
  }
  return out;
}

/** Replaces rules with the same ID in place, appends the rest; reports the other rules kept. */
export function mergeById<R extends { ID?: string }>(existing: readonly R[], ours: readonly R[]): { rules: R[]; kept: string[] } {
  const byId = new Map(ours.map((r) => [r.ID, r]));
  const rules = existing.map((r) => byId.get(r.ID) ?? r);
  const present = new Set(existing.map((r) => r.ID));
  rules.push(...ours.filter((r) => !present.has(r.ID)));
  const kept = existing.filter((r) => !byId.has(r.ID)).map((r) => r.ID ?? '(no id)');
  return { rules, kept };
}

export function mergeLifecycle(existing: Lifecycle, ours: readonly LifecycleRule[]): { lifecycle: Lifecycle; kept: string[] } {
  const { rules, kept } = mergeById(existing.rules, ours);
  return { lifecycle: { ...existing, rules }, kept };
}

const destinationBucket = (r: ReplicationRule) => (r.Destination?.Bucket ?? '').replace(/^arn:aws[\w-]*:s3:::/, '');
const wholeBucket = (r: ReplicationRule) => !r.Filter?.Tag && !r.Filter?.And && !r.Filter?.Prefix && !r.Prefix;

/** An enabled whole-bucket rule to the replica with RTC, metrics and delete markers replicated. */
export function replicationRight(c: Replication | undefined, replica: string): ReplicationRule | undefined {
  return c?.rules.find(
    (r) =>
      r.Status === 'Enabled' &&
      wholeBucket(r) &&
      destinationBucket(r) === replica &&
      r.Destination?.ReplicationTime?.Status === 'Enabled' &&
      r.Destination.Metrics?.Status === 'Enabled' &&
      r.DeleteMarkerReplication?.Status === 'Enabled',
  );
}

/** `arn:aws:iam::1:role/path/name` and `role/name` name the same role. */
const roleName = (arn: string) => arn.split('/').pop() ?? arn;

export type ReplicationMerge = { ok: true; config: Replication; kept: string[] } | { ok: false; reason: string };

/**
 * Our replication rule merged into the bucket's configuration. A configuration holds one role for
 * all its rules: when other rules run under another role, writing ours would change theirs, so
 * the merge is refused with the reason instead.
 */
export function mergeReplication(existing: Replication | undefined, role: string, replica: string): ReplicationMerge {
  const foreign = (existing?.rules ?? []).filter((r) => r.ID !== RULE_IDS.replica);
  if (foreign.length && existing && roleName(existing.role) !== roleName(role)) {
    return {
      ok: false,
      reason: `its replication runs ${foreign.length} other rule${foreign.length === 1 ? '' : 's'} (${foreign.map((r) => `\`${r.ID ?? '?'}\``).join(', ')}) under role \`${existing.role}\`; one configuration has one role, so drbot will not swap it. Add rule \`${RULE_IDS.replica}\` to it by hand, or let that role replicate to \`${replica}\``,
    };
  }
  if (foreign.some((r) => r.Prefix !== undefined && r.Filter === undefined)) {
    return { ok: false, reason: 'its replication uses the old rule format (Prefix without Filter), which cannot be mixed with RTC rules; convert it first' };
  }
  const mine = existing?.rules.find((r) => r.ID === RULE_IDS.replica);
  const priority = mine?.Priority ?? Math.max(0, ...foreign.map((r) => r.Priority ?? 0)) + 1;
  const { rules, kept } = mergeById(existing?.rules ?? [], [replicaRule(replica, priority)]);
  return { ok: true, config: { role, rules }, kept };
}
