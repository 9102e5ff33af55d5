import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { batchWeight, type ChangeWeight, changeWeight, withinLimits } from '../../aws/route53';

const plus = (a: ChangeWeight, b: ChangeWeight): ChangeWeight => ({ records: a.records + b.records, resourceRecords: a.resourceRecords + b.resourceRecords, valueChars: a.valueChars + b.valueChars });

/**
 * The export against the live zone, as data: which record sets to create, change and delete, and
 * the change batches that do it within AWS's limits. Pure functions, no AWS calls.
 *
 * A record set's identity is its name, type and set identifier (weighted, failover, latency, geo,
 * multivalue and CIDR record sets share a name and type and differ by set identifier). Record sets
 * are compared and written whole: alias targets, routing fields and health checks included.
 */

/** `Foo.Example.com` → `foo.example.com.` (Route53 names are case-insensitive, fully qualified). */
export function normName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

export function recordKey(r: ResourceRecordSet): string {
  return `${normName(r.Name ?? '')}|${r.Type ?? ''}|${r.SetIdentifier ?? ''}`;
}

/** `api.example.com. A primary`: how a record set is named in a plan (shown as code by the caller). */
export function recordLabel(r: ResourceRecordSet): string {
  return `${r.Name ?? ''} ${r.Type ?? ''}${r.SetIdentifier !== undefined ? ` ${r.SetIdentifier}` : ''}`;
}

/** The zone's SOA and its apex NS belong to the zone itself: a restore never touches them. */
export function isZoneOwned(r: ResourceRecordSet, apex: string): boolean {
  return r.Type === 'SOA' || (r.Type === 'NS' && normName(r.Name ?? '') === normName(apex));
}

/** Record sets a traffic policy instance manages: ChangeResourceRecordSets cannot write them. */
export function isTrafficPolicyOwned(r: ResourceRecordSet): boolean {
  return Boolean(r.TrafficPolicyInstanceId);
}

function sortedObject(o: object | undefined): Record<string, unknown> | undefined {
  if (!o) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined && v !== null) out[k] = typeof v === 'object' && !Array.isArray(v) ? sortedObject(v as object) : v;
  }
  return out;
}

/** What makes two record sets with the same identity equal, field by field (values as a set). */
function facets(r: ResourceRecordSet): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null) out[k] = JSON.stringify(v);
  };
  put('TTL', r.TTL);
  const values = (r.ResourceRecords ?? []).map((v) => v.Value ?? '').sort();
  if (values.length) put('values', values);
  if (r.AliasTarget) put('alias target', { zone: r.AliasTarget.HostedZoneId ?? '', dns: normName(r.AliasTarget.DNSName ?? ''), health: Boolean(r.AliasTarget.EvaluateTargetHealth) });
  put('weight', r.Weight);
  put('region', r.Region);
  put('failover', r.Failover);
  put('geolocation', sortedObject(r.GeoLocation));
  put('geoproximity', sortedObject(r.GeoProximityLocation));
  put('multivalue', r.MultiValueAnswer);
  put('CIDR routing', sortedObject(r.CidrRoutingConfig));
  put('health check', r.HealthCheckId);
  put('traffic policy', r.TrafficPolicyInstanceId);
  return out;
}

/** The fields in which two record sets of the same identity differ (empty: equal). */
export function differingFields(a: ResourceRecordSet, b: ResourceRecordSet): string[] {
  const fa = facets(a);
  const fb = facets(b);
  return [...new Set([...Object.keys(fa), ...Object.keys(fb)])].filter((k) => fa[k] !== fb[k]);
}

export function sameRecord(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  return differingFields(a, b).length === 0;
}

/** Simple, weighted, failover, …: record sets of one name and type must all use the same one. */
export function routingPolicy(r: ResourceRecordSet): string {
  if (r.Weight !== undefined) return 'weighted';
  if (r.Failover) return 'failover';
  if (r.Region) return 'latency';
  if (r.GeoLocation) return 'geolocation';
  if (r.GeoProximityLocation) return 'geoproximity';
  if (r.CidrRoutingConfig) return 'cidr';
  if (r.MultiValueAnswer !== undefined) return 'multivalue';
  return 'simple';
}

/**
 * Whether a live record set (kept, not in the export) stops one of the export's from being created:
 * a CNAME shares its name with nothing else, and record sets of one name and type share one routing
 * policy (a simple record cannot join weighted ones).
 */
export function conflicts(wanted: ResourceRecordSet, live: ResourceRecordSet): boolean {
  if (normName(wanted.Name ?? '') !== normName(live.Name ?? '')) return false;
  if ((wanted.Type === 'CNAME') !== (live.Type === 'CNAME')) return true;
  return wanted.Type === live.Type && routingPolicy(wanted) !== routingPolicy(live);
}

/** Keyed by identity; a listing that repeats a record set (moto's paging does at page edges) keeps one. */
export function byKey(sets: readonly ResourceRecordSet[]): Map<string, ResourceRecordSet> {
  const m = new Map<string, ResourceRecordSet>();
  for (const r of sets) m.set(recordKey(r), r);
  return m;
}

export interface ZoneDiff {
  /** In the export, not live. */
  create: ResourceRecordSet[];
  /** In both, different: `to` is the export's. */
  change: { from: ResourceRecordSet; to: ResourceRecordSet; fields: string[] }[];
  /** Live, not in the export, to delete (only with --delete-extra). */
  remove: ResourceRecordSet[];
  /** Live, not in the export, kept (without --delete-extra). */
  extra: ResourceRecordSet[];
  /** Export record sets a kept live record set stands in the way of (without --delete-extra). */
  blocked: { record: ResourceRecordSet; by: ResourceRecordSet }[];
  unchanged: number;
  /** Never touched: the SOA and apex NS, and record sets of traffic policies. */
  untouched: { zoneOwned: number; trafficPolicy: number };
}

/** The export against the live zone. */
export function diffZone(exported: readonly ResourceRecordSet[], live: readonly ResourceRecordSet[], apex: string, opts: { deleteExtra: boolean }): ZoneDiff {
  const d: ZoneDiff = { create: [], change: [], remove: [], extra: [], blocked: [], unchanged: 0, untouched: { zoneOwned: 0, trafficPolicy: 0 } };
  const skip = (r: ResourceRecordSet) => isZoneOwned(r, apex) || isTrafficPolicyOwned(r);
  const want = byKey(exported.filter((r) => !skip(r)));
  const have = byKey(live);
  for (const r of have.values()) {
    if (isZoneOwned(r, apex)) d.untouched.zoneOwned++;
    else if (isTrafficPolicyOwned(r)) d.untouched.trafficPolicy++;
  }
  const extras: ResourceRecordSet[] = [];
  for (const [k, r] of have) if (!skip(r) && !want.has(k)) extras.push(r);
  if (opts.deleteExtra) d.remove = extras;
  else d.extra = extras;
  for (const [k, r] of want) {
    const now = have.get(k);
    if (!now) {
      const by = opts.deleteExtra ? undefined : extras.find((e) => conflicts(r, e));
      if (by) d.blocked.push({ record: r, by });
      else d.create.push(r);
    } else {
      const fields = differingFields(now, r);
      if (fields.length) d.change.push({ from: now, to: r, fields });
      else d.unchanged++;
    }
  }
  return d;
}

/** How many differences a diff counts: what is missing or different, and extras when they are to go. */
export function differences(d: ZoneDiff, deleteExtra: boolean): number {
  return d.create.length + d.change.length + d.blocked.length + (deleteExtra ? d.remove.length : 0);
}

/**
 * The changes as batches AWS accepts (CHANGE_BATCH_LIMITS). Every change of one DNS name goes into
 * the same batch, deletions first, so replacing a CNAME by an A record (or weighted record sets by
 * a simple one) is one atomic step with no moment where the name answers neither. Creations and
 * changes are UPSERTs: a batch sent again after its answer was lost changes nothing the second
 * time. Deletions carry the record set exactly as it is live, as Route53 requires.
 */
export function planBatches(d: ZoneDiff): Change[][] {
  const byName = new Map<string, Change[]>();
  const add = (r: ResourceRecordSet, c: Change) => {
    const n = normName(r.Name ?? '');
    const list = byName.get(n) ?? [];
    list.push(c);
    byName.set(n, list);
  };
  for (const r of d.remove) add(r, { Action: 'DELETE', ResourceRecordSet: r });
  for (const r of d.create) add(r, { Action: 'UPSERT', ResourceRecordSet: r });
  for (const c of d.change) add(c.to, { Action: 'UPSERT', ResourceRecordSet: c.to });
  const batches: Change[][] = [];
  let current: Change[] = [];
  let used: ChangeWeight = { records: 0, resourceRecords: 0, valueChars: 0 };
  const flush = () => {
    if (current.length) batches.push(current);
    current = [];
    used = { records: 0, resourceRecords: 0, valueChars: 0 };
  };
  const take = (cs: readonly Change[], w: ChangeWeight) => {
    current.push(...cs);
    used = plus(used, w);
  };
  for (const name of [...byName.keys()].sort()) {
    const group = byName.get(name) ?? [];
    const w = batchWeight(group);
    if (withinLimits(plus(used, w))) {
      take(group, w);
      continue;
    }
    flush();
    if (withinLimits(w)) {
      take(group, w);
      continue;
    }
    // One name with more than a batch holds (a hundred weighted record sets of long TXT values):
    // split in order, deletions first. A single change over the limits goes alone, for AWS to judge.
    for (const c of group) {
      const cw = changeWeight(c);
      if (current.length && !withinLimits(plus(used, cw))) flush();
      take([c], cw);
      if (!withinLimits(cw)) flush();
    }
  }
  flush();
  return batches;
}

/**
 * Whether a batch's effect is already in the zone: every UPSERT's record set is there as written
 * and every deleted one is gone. Route53 applies a batch whole or not at all, so a batch that holds
 * was applied (by an attempt whose answer was lost) and must not be sent again.
 */
export function batchHolds(changes: readonly Change[], live: ReadonlyMap<string, ResourceRecordSet>): boolean {
  return changes.every((c) => {
    const r = c.ResourceRecordSet;
    if (!r) return true;
    const now = live.get(recordKey(r));
    return c.Action === 'DELETE' ? !now : Boolean(now && sameRecord(now, r));
  });
}
