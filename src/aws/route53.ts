import { type Change, ChangeResourceRecordSetsCommand, GetChangeCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { DrbotError, wrapAws } from '../errors';

/**
 * Route53 record changes: AWS's limits on one change batch, the call that applies one, and the
 * status of a submitted change (PENDING until every Route53 name server has it, then INSYNC).
 */

/**
 * What one ChangeResourceRecordSets request may hold (Route53 developer guide, "Quotas on API
 * requests"): at most 1,000 ResourceRecord elements and 32,000 characters across all Value
 * elements, each counted twice for an UPSERT. drbot also counts record sets the same way (at most
 * 1,000 a batch, an UPSERT counting twice, so at most 500 UPSERTs), which keeps alias-only batches
 * (no ResourceRecord elements at all) bounded too.
 */
export const CHANGE_BATCH_LIMITS = { records: 1000, resourceRecords: 1000, valueChars: 32_000 } as const;

export interface ChangeWeight {
  /** Record sets, an UPSERT counting twice. */
  records: number;
  /** ResourceRecord elements, an UPSERT counting twice. */
  resourceRecords: number;
  /** Characters of all Value elements, an UPSERT counting twice. */
  valueChars: number;
}

/** How much of a batch's allowance one change uses. */
export function changeWeight(c: Change): ChangeWeight {
  const factor = c.Action === 'UPSERT' ? 2 : 1;
  const values = c.ResourceRecordSet?.ResourceRecords ?? [];
  const chars = values.reduce((n, v) => n + (v.Value?.length ?? 0), 0);
  return { records: factor, resourceRecords: factor * values.length, valueChars: factor * chars };
}

export function batchWeight(changes: readonly Change[]): ChangeWeight {
  const w: ChangeWeight = { records: 0, resourceRecords: 0, valueChars: 0 };
  for (const c of changes) {
    const x = changeWeight(c);
    w.records += x.records;
    w.resourceRecords += x.resourceRecords;
    w.valueChars += x.valueChars;
  }
  return w;
}

export function withinLimits(w: ChangeWeight): boolean {
  return w.records <= CHANGE_BATCH_LIMITS.records && w.resourceRecords <= CHANGE_BATCH_LIMITS.resourceRecords && w.valueChars <= CHANGE_BATCH_LIMITS.valueChars;
}

export type ChangeStatus = 'PENDING' | 'INSYNC';

/** `/change/C123` → `C123` (GetChange and the IAM resource `change/C123` use the bare ID). */
export const bareChangeId = (id: string): string => id.replace(/^\/change\//, '');

/** Route53 refused the batch as a whole (InvalidChangeBatch, InvalidInput): nothing of it was applied. */
export function isRefusedBatch(e: unknown): boolean {
  const name = (e as { name?: unknown; Code?: unknown })?.Code ?? (e as { name?: unknown })?.name;
  return name === 'InvalidChangeBatch' || name === 'InvalidInput';
}

/** Applies one change batch (all or nothing, as Route53 does); returns the change's ID and status. */
export async function changeRecordSets(r53: Route53Client, zoneId: string, changes: Change[], comment?: string): Promise<{ id: string; status: ChangeStatus }> {
  const r = await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes, ...(comment ? { Comment: comment.slice(0, 256) } : {}) } }));
  const info = r.ChangeInfo;
  if (!info?.Id) throw new DrbotError('aws_error', `ChangeResourceRecordSets on \`${zoneId}\` answered without a change ID.`, 'Check the zone in the Route53 console.');
  return { id: bareChangeId(info.Id), status: info.Status === 'INSYNC' ? 'INSYNC' : 'PENDING' };
}

/** The status of a submitted change batch (GetChange). */
export async function changeStatus(r53: Route53Client, changeId: string): Promise<ChangeStatus> {
  const r = await r53.send(new GetChangeCommand({ Id: bareChangeId(changeId) })).catch((e: unknown) => {
    throw wrapAws(e, 'GetChange', changeId);
  });
  return r.ChangeInfo?.Status === 'INSYNC' ? 'INSYNC' : 'PENDING';
}
