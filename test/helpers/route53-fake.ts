import {
  type Change,
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  GetChangeCommand,
  type GetChangeCommandInput,
  GetHostedZoneCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  type ResourceRecordSet,
  type Route53Client,
  ThrottlingException,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * A hosted zone that answers as AWS does where moto does not (for aws-sdk-client-mock on one
 * Route53Client): a batch over 1,000 ResourceRecord elements or 32,000 value characters (an
 * UPSERT counting twice) is refused; CREATE of an existing record set and DELETE of one that is
 * gone or differs are refused; a CNAME beside other records, or mixed routing policies under one
 * name and type, are refused; a batch applies whole or not at all; a change is PENDING for
 * `pendingChecks` GetChange calls before INSYNC; listing is paged 300 at a time with
 * NextRecordIdentifier. Written apart from drbot's diff code so that it checks it, not mirrors it.
 */

const key = (r: ResourceRecordSet) => `${(r.Name ?? '').toLowerCase()}|${r.Type}|${r.SetIdentifier ?? ''}`;

/** A record set as AWS compares it (values as a set). */
function canon(r: ResourceRecordSet): string {
  const { ResourceRecords, ...rest } = r;
  const values = (ResourceRecords ?? []).map((v) => v.Value).sort();
  return JSON.stringify(Object.keys(rest).sort().map((k) => [k, (rest as Record<string, unknown>)[k]]).concat([['values', values]]));
}

function policy(r: ResourceRecordSet): string {
  return r.Weight !== undefined ? 'weighted' : r.Failover ? 'failover' : r.Region ? 'latency' : r.GeoLocation ? 'geo' : r.MultiValueAnswer !== undefined ? 'multivalue' : 'simple';
}

const reversedOf = new Map<string, string>();
/** A name's labels in reverse order, as Route53 sorts (kept: a zone of hundreds is sorted at each listing). */
const reversed = (name: string) => {
  let r = reversedOf.get(name);
  if (r === undefined) reversedOf.set(name, (r = name.toLowerCase().replace(/\.$/, '').split('.').reverse().join('.')));
  return r;
};

export class AwsLikeZone {
  readonly records = new Map<string, ResourceRecordSet>();
  /** Every batch AWS applied, in order. */
  readonly applied: Change[][] = [];
  /** What happened, in order: `change C1 (n)`, `get C1 PENDING`, `refused …`. */
  readonly log: string[] = [];
  /** GetChange answers PENDING this many times per change before INSYNC. */
  pendingChecks = 2;
  /** Applies the batch, then fails as if the answer was lost (a 5xx after the fact). */
  loseAnswer?: (batch: Change[]) => boolean;
  /** Throttles the next n GetChange calls. */
  throttleGetChange = 0;
  /** Denies GetChange (a role without route53:GetChange). */
  denyGetChange = false;
  private readonly checksLeft = new Map<string, number>();
  private next = 1;

  constructor(
    readonly zoneId: string,
    readonly name: string,
  ) {
    this.put({ Name: name, Type: 'SOA', TTL: 900, ResourceRecords: [{ Value: `ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400` }] });
    this.put({ Name: name, Type: 'NS', TTL: 172800, ResourceRecords: [{ Value: 'ns-1.awsdns-01.org.' }, { Value: 'ns-2.awsdns-02.co.uk.' }] });
  }

  put(r: ResourceRecordSet): void {
    this.records.set(key(r), structuredClone(r));
  }

  sorted(): ResourceRecordSet[] {
    return [...this.records.values()].sort((a, b) => reversed(a.Name ?? '').localeCompare(reversed(b.Name ?? '')) || (a.Type ?? '').localeCompare(b.Type ?? '') || (a.SetIdentifier ?? '').localeCompare(b.SetIdentifier ?? ''));
  }

  list(input: ListResourceRecordSetsCommandInput) {
    const all = this.sorted();
    const max = Math.min(Number(input.MaxItems ?? 300), 300);
    let from = 0;
    if (input.StartRecordName) {
      from = all.findIndex(
        (r) =>
          reversed(r.Name ?? '') > reversed(input.StartRecordName ?? '') ||
          (reversed(r.Name ?? '') === reversed(input.StartRecordName ?? '') && ((r.Type ?? '') > (input.StartRecordType ?? '') || (r.Type === input.StartRecordType && (r.SetIdentifier ?? '') >= (input.StartRecordIdentifier ?? '')))),
      );
      if (from < 0) from = all.length;
    }
    const page = all.slice(from, from + max);
    const after = all[from + max];
    return {
      ResourceRecordSets: structuredClone(page),
      IsTruncated: Boolean(after),
      MaxItems: max,
      ...(after ? { NextRecordName: after.Name, NextRecordType: after.Type, ...(after.SetIdentifier ? { NextRecordIdentifier: after.SetIdentifier } : {}) } : {}),
    };
  }

  private refuse(message: string): never {
    this.log.push(`refused ${message}`);
    throw new InvalidChangeBatch({ message, messages: [message], $metadata: { httpStatusCode: 400 } });
  }

  change(input: ChangeResourceRecordSetsCommandInput) {
    const batch = input.ChangeBatch?.Changes ?? [];
    let rr = 0;
    let chars = 0;
    for (const c of batch) {
      const f = c.Action === 'UPSERT' ? 2 : 1;
      const values = c.ResourceRecordSet?.ResourceRecords ?? [];
      rr += f * values.length;
      chars += f * values.reduce((n, v) => n + (v.Value?.length ?? 0), 0);
    }
    if (rr > 1000) this.refuse(`Number of records limit of 1000 exceeded (${rr}).`);
    if (chars > 32_000) this.refuse(`Number of characters in Value elements limit of 32000 exceeded (${chars}).`);
    const next = new Map(this.records);
    for (const c of batch) {
      const r = c.ResourceRecordSet as ResourceRecordSet;
      const k = key(r);
      const label = `[name='${r.Name}', type='${r.Type}'${r.SetIdentifier ? `, set-identifier='${r.SetIdentifier}'` : ''}]`;
      const apex = (r.Name ?? '').toLowerCase() === this.name.toLowerCase();
      if (c.Action === 'CREATE') {
        if (next.has(k)) this.refuse(`Tried to create resource record set ${label} but it already exists`);
        next.set(k, structuredClone(r));
      } else if (c.Action === 'UPSERT') {
        next.set(k, structuredClone(r));
      } else {
        if (r.Type === 'SOA' || (r.Type === 'NS' && apex)) this.refuse(`A HostedZone must contain exactly one SOA record and at least one NS record at the apex ${label}`);
        const now = next.get(k);
        if (!now) this.refuse(`Tried to delete resource record set ${label} but it was not found`);
        if (canon(now) !== canon(r)) this.refuse(`Tried to delete resource record set ${label} but the values provided do not match the current values`);
        next.delete(k);
      }
    }
    const byName = new Map<string, ResourceRecordSet[]>();
    for (const r of next.values()) byName.set((r.Name ?? '').toLowerCase(), [...(byName.get((r.Name ?? '').toLowerCase()) ?? []), r]);
    for (const [name, rs] of byName) {
      if (rs.some((r) => r.Type === 'CNAME') && rs.some((r) => r.Type !== 'CNAME')) this.refuse(`RRSet of type CNAME with DNS name ${name} is not permitted as it conflicts with other records with the same DNS name in zone ${this.name}`);
      for (const t of new Set(rs.map((r) => r.Type))) {
        if (new Set(rs.filter((r) => r.Type === t).map(policy)).size > 1) this.refuse(`RRSet with DNS name ${name}, type ${t} cannot mix routing policies`);
      }
    }
    this.records.clear();
    for (const [k, r] of next) this.records.set(k, r);
    this.applied.push(structuredClone(batch));
    const id = `C${String(this.next++).padStart(12, '0')}`;
    this.checksLeft.set(id, this.pendingChecks);
    this.log.push(`change ${id} (${batch.length})`);
    if (this.loseAnswer?.(batch)) {
      this.log.push(`answer lost ${id}`);
      throw Object.assign(new Error('socket hang up'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    }
    return { ChangeInfo: { Id: `/change/${id}`, Status: 'PENDING' as const, SubmittedAt: new Date() } };
  }

  getChange(input: GetChangeCommandInput) {
    if (this.denyGetChange) {
      this.log.push('get denied');
      throw Object.assign(new Error('User is not authorized to perform: route53:GetChange'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
    }
    if (this.throttleGetChange > 0) {
      this.throttleGetChange--;
      this.log.push('get throttled');
      throw new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    }
    const id = (input.Id ?? '').replace(/^\/change\//, '');
    const left = this.checksLeft.get(id);
    if (left === undefined) throw Object.assign(new Error(`No such change ${id}`), { name: 'NoSuchChange', $metadata: { httpStatusCode: 404 } });
    const status = left > 0 ? 'PENDING' : 'INSYNC';
    this.checksLeft.set(id, Math.max(0, left - 1));
    this.log.push(`get ${id} ${status}`);
    return { ChangeInfo: { Id: `/change/${id}`, Status: status as 'PENDING' | 'INSYNC', SubmittedAt: new Date() } };
  }

  /** Answers this client's Route53 calls (aws-sdk-client-mock on the instance); returns the restore. */
  attach(client: Route53Client): () => void {
    const m = mockClient(client);
    m.on(GetHostedZoneCommand).callsFake(async () => ({ HostedZone: { Id: `/hostedzone/${this.zoneId}`, Name: this.name, CallerReference: 'fake', Config: { PrivateZone: false }, ResourceRecordSetCount: this.records.size } }));
    m.on(ListResourceRecordSetsCommand).callsFake(async (i: ListResourceRecordSetsCommandInput) => this.list(i));
    m.on(ChangeResourceRecordSetsCommand).callsFake(async (i: ChangeResourceRecordSetsCommandInput) => this.change(i));
    m.on(GetChangeCommand).callsFake(async (i: GetChangeCommandInput) => this.getChange(i));
    return () => m.restore();
  }
}
