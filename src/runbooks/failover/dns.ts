import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { LaunchedInstance } from '../../aws/ec2-instances';
import { batchWeight, changeRecordSets, withinLimits } from '../../aws/route53';
import type { FailoverRecord } from '../../config/schema';
import { DrbotError, wrapAws } from '../../errors';
import { safeStep, type StepFailure } from '../driver';
import { waitInsync } from '../route53-insync';
import type { RunbookDeps } from '../types';
import { dnsName, type RecordNow, readRecords } from './readiness';

/*
 * The DNS half of a failover and its failback: the record sets to write, written in batches within
 * Route53's limits (src/aws/route53.ts), each waited for until INSYNC, then listed again to check.
 */

const POLL_SECONDS = 10;
/** Route53 usually propagates within a minute; past 10 min we report and go on. */
const WAIT_MINUTES = 10;
/** A check every 10 s, the first at once and the last at the limit: 61. */
const MAX_CHECKS = 1 + (WAIT_MINUTES * 60) / POLL_SECONDS;

/** The values a record is given from the launched instances, by its `target`. */
export function valuesFor(record: FailoverRecord, instances: readonly LaunchedInstance[]): string[] {
  const pick = (i: LaunchedInstance): string | undefined =>
    record.target === 'private-ip' ? i.privateIp : record.target === 'public-ip' ? i.publicIp : record.target === 'ipv6' ? i.ipv6 : i.publicDns;
  const values = [...new Set(instances.map(pick).filter((v): v is string => Boolean(v)))].sort();
  // A CNAME holds one name.
  return record.type === 'CNAME' ? values.slice(0, 1) : values;
}

/**
 * The record set a failover writes for one record: the configured name, type and TTL with the
 * instances' values, keeping the routing of the record set it replaces (set identifier, failover,
 * weight, region, geolocation, multivalue). An alias target and a health check of the old
 * endpoint are dropped: they describe the region that failed.
 */
export function switchedSet(now: RecordNow, values: string[]): ResourceRecordSet {
  const cur = now.current;
  const r = now.record;
  if (!values.length) throw new DrbotError('no_target_value', `No launched instance has a ${r.target} for \`${r.name}\`.`, 'Check the subnet (public IPs need a public subnet) or set the record\'s `target` in `failover.dns`.');
  if (r.setIdentifier && !cur) throw new DrbotError('record_missing', `\`${r.name}\` ${r.type} with set identifier \`${r.setIdentifier}\` is not in the zone.`, 'A routed record set is switched, not created: check `failover.dns.records`.');
  return {
    Name: cur?.Name ?? r.name,
    Type: r.type,
    TTL: r.ttl,
    ResourceRecords: values.map((Value) => ({ Value })),
    ...(cur?.SetIdentifier ? { SetIdentifier: cur.SetIdentifier } : {}),
    ...(cur?.Failover ? { Failover: cur.Failover } : {}),
    ...(cur?.Weight !== undefined ? { Weight: cur.Weight } : {}),
    ...(cur?.Region ? { Region: cur.Region } : {}),
    ...(cur?.GeoLocation ? { GeoLocation: cur.GeoLocation } : {}),
    ...(cur?.MultiValueAnswer !== undefined ? { MultiValueAnswer: cur.MultiValueAnswer } : {}),
  };
}

/** Whether two record sets say the same thing (name, type, TTL, values or alias, routing). */
export function sameSet(a: ResourceRecordSet | undefined, b: ResourceRecordSet | undefined): boolean {
  if (!a || !b) return a === b;
  const norm = (s: ResourceRecordSet) =>
    JSON.stringify({
      n: dnsName(s.Name ?? ''),
      t: s.Type,
      ttl: s.AliasTarget ? undefined : s.TTL,
      v: (s.ResourceRecords ?? []).map((x) => x.Value).sort(),
      a: s.AliasTarget ? dnsName(s.AliasTarget.DNSName ?? '') : undefined,
      id: s.SetIdentifier,
      f: s.Failover,
      w: s.Weight,
      r: s.Region,
      g: s.GeoLocation,
    });
  return norm(a) === norm(b);
}

/** Changes split into batches within Route53's limits (an UPSERT counting twice). */
export function batches(changes: readonly Change[]): Change[][] {
  const out: Change[][] = [];
  let cur: Change[] = [];
  for (const c of changes) {
    if (cur.length && !withinLimits(batchWeight([...cur, c]))) {
      out.push(cur);
      cur = [];
    }
    cur.push(c);
  }
  if (cur.length) out.push(cur);
  return out;
}

export interface DnsResult {
  applied: number;
  batches: number;
  /** Batches not INSYNC when the checks ran out, or whose status could not be read. */
  pending: string[];
  failure?: StepFailure & { batch: number };
}

/**
 * Writes the changes batch by batch (each a checkpointed step), waiting until each is INSYNC
 * (durable waits). A batch Route53 refuses stops the rest: the result says how far it got.
 */
export async function applyDns(ctx: DurableContext, deps: RunbookDeps, name: string, zoneId: string, changes: readonly Change[], comment: string, onBatch?: (done: number, total: number) => Promise<void>): Promise<DnsResult> {
  const r53 = deps.clients.route53();
  const all = batches(changes);
  const result: DnsResult = { applied: 0, batches: all.length, pending: [] };
  for (const [i, b] of all.entries()) {
    const r = await safeStep(ctx, `${name}-${i}`, async () => {
      const res = await changeRecordSets(r53, zoneId, b, `${comment} (${i + 1}/${all.length})`).catch((e: unknown) => {
        throw wrapAws(e, 'ChangeResourceRecordSets', zoneId);
      });
      await onBatch?.(i + 1, all.length);
      return res;
    });
    if (!r.ok) {
      result.failure = { ...r, batch: i + 1 };
      return result;
    }
    result.applied += b.length;
    if (r.value.status === 'INSYNC') continue;
    const synced = await waitInsync(ctx, r53, `${name}-insync-${i}`, r.value.id, { delay: () => POLL_SECONDS, maxChecks: MAX_CHECKS });
    if (synced.error) result.pending.push(`batch ${i + 1}: ${synced.error}`);
    else if (synced.status !== 'INSYNC') result.pending.push(`batch ${i + 1} not INSYNC after ${WAIT_MINUTES} min`);
  }
  return result;
}

/** Lists the records again and says which do not hold what was written (an absent `want` means deleted). */
export async function verifyRecords(deps: RunbookDeps, zoneId: string, wanted: readonly { record: FailoverRecord; want?: ResourceRecordSet }[]): Promise<string[]> {
  const live = await readRecords(deps.clients, zoneId, wanted.map((w) => w.record));
  const wrong: string[] = [];
  for (const [i, w] of wanted.entries()) {
    const cur = live[i]?.current;
    if (!sameSet(cur, w.want)) wrong.push(`${dnsName(w.record.name)} ${w.record.type}`);
  }
  return wrong;
}
