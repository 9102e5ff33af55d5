import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { GetBucketReplicationCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { AwsClients } from '../../aws/clients';
import { backupCopies, tagOf, taggedImages } from '../../aws/ec2';
import type { BucketConfig, DrConfig, FailoverRecord, TableConfig } from '../../config/schema';
import { isErrorLike, wrapAws } from '../../errors';
import { mapLimit } from '../../util/limit';
import { sourceNameOf } from '../backup-amis/runbook';
import { elapsed } from './clock';
import { type CallOptions, reach, type Reached } from './reach';

/*
 * Readiness of a failover to a region: for each configured bucket, table, tagged image and DNS
 * record, red / amber / green with the reasons, and the estimated RPO from the replication
 * evidence. Everything in the target region must answer (the failover needs it); every call to
 * the primary goes through reach() (short deadline, "unreachable" instead of an error).
 */

export type Colour = 'red' | 'amber' | 'green';

export interface ReadinessItem {
  kind: 's3' | 'dynamodb' | 'ami' | 'dns';
  name: string;
  colour: Colour;
  reasons: string[];
  facts: string[];
  /** How much data the target would miss if the primary stopped now, when the evidence says (ms). */
  rpoMs?: number;
}

/** The newest backup copy of one tagged image in the target region: what the failover launches. */
export interface LaunchSource {
  sourceId: string;
  /** The source image's name (when the primary does not answer: the copy's name without `-backup-<date>`, nor the source ID a cut name keeps). */
  name: string;
  copyId: string;
  created: string;
}

/** A configured record as the zone holds it now (undefined: not in the zone). */
export interface RecordNow {
  record: FailoverRecord;
  current?: ResourceRecordSet;
}

export interface Readiness {
  target: string;
  primary: string;
  checkedAt: string;
  /** Calls to the primary that got no answer, as `what: reason`. */
  unreachable: string[];
  items: ReadinessItem[];
  /** The worst colour. */
  overall: Colour;
  /** Estimated RPO: the largest data lag the evidence shows (ms); undefined when nothing shows it. */
  rpoMs?: number;
  /** Data that has no copy in the target at all (its RPO is unbounded). */
  uncovered: string[];
  sources: LaunchSource[];
  zoneId?: string;
  records: RecordNow[];
}

const DAY_MS = 86_400_000;
const SEVERITY: Record<Colour, number> = { red: 3, amber: 2, green: 1 };
export const worst = (cs: Colour[]): Colour => cs.reduce<Colour>((w, c) => (SEVERITY[c] > SEVERITY[w] ? c : w), 'green');

function item(kind: ReadinessItem['kind'], name: string) {
  const it: ReadinessItem = { kind, name, colour: 'green', reasons: [], facts: [] };
  return {
    it,
    red: (r: string) => {
      it.colour = 'red';
      it.reasons.push(r);
    },
    amber: (r: string) => {
      if (it.colour !== 'red') it.colour = 'amber';
      it.reasons.push(r);
    },
  };
}

const errName = (e: unknown): string => (isErrorLike(e) ? ((e as { Code?: string }).Code ?? e.name) : '');

/** `3 h`, `12 min`, `2 d` */
export function ageOf(ms: number): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return h < 48 ? `${h} h` : `${Math.floor(h / 24)} d`;
}

/** `12:04` for small lags, `3 h` beyond an hour. */
export const lagText = (ms: number): string => (ms < 3_600_000 ? `${elapsed(ms)} min` : ageOf(ms));

/** `api.example.com.` → `api.example.com` (lower case), as Route53 answers and configs write names. */
export const dnsName = (n: string): string => n.toLowerCase().replace(/\.$/, '').replace(/\\052/g, '*');

// ---- S3 ----

export interface BucketFacts {
  bucket: BucketConfig;
  /** The bucket lives in the target region itself. */
  inTarget: boolean;
  replica?: { exists: boolean; newest?: string; error?: string };
  primary: Reached<{ rule?: { id?: string; enabled: boolean; destination: string; rtc: boolean }; newest?: string }>;
  /** Maximum ReplicationLatency (seconds) over the last hour, when CloudWatch has it. */
  latencySeconds?: number;
}

/** The newest LastModified of a bucket's first page (up to 1,000 keys): a sample, cheap. */
async function newestObject(s3: S3Client, bucket: string, opts?: CallOptions): Promise<{ newest?: string }> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }), opts);
  let newest: Date | undefined;
  for (const o of r.Contents ?? []) if (o.LastModified && (!newest || o.LastModified > newest)) newest = o.LastModified;
  return newest ? { newest: newest.toISOString() } : {};
}

async function readBucket(cfg: DrConfig, clients: AwsClients, b: BucketConfig, target: string, light: boolean): Promise<BucketFacts> {
  const primary = cfg.regions.primary;
  const region = b.region ?? primary;
  const facts: BucketFacts = { bucket: b, inTarget: region === target, primary: { ok: false, reason: 'not asked' } };
  if (facts.inTarget || !b.replica) return facts;
  const replica = b.replica;
  const [rep, prim] = await Promise.all([
    newestObject(clients.s3(replica.region), replica.bucket).then(
      (x) => ({ exists: true, ...x }),
      (e: unknown) => (errName(e) === 'NoSuchBucket' ? { exists: false } : { exists: true, error: wrapAws(e, 'ListObjectsV2', replica.bucket).message }),
    ),
    region === primary
      ? reach(async (opts) => {
          const s3 = clients.s3(region);
          const conf = await s3.send(new GetBucketReplicationCommand({ Bucket: b.name }), opts).catch((e: unknown) => {
            if (errName(e) === 'ReplicationConfigurationNotFoundError') return undefined;
            throw e;
          });
          const rules = conf?.ReplicationConfiguration?.Rules ?? [];
          const r = rules.find((x) => x.Status === 'Enabled') ?? rules[0];
          const rule = r
            ? { ...(r.ID ? { id: r.ID } : {}), enabled: r.Status === 'Enabled', destination: (r.Destination?.Bucket ?? '').replace(/^arn:aws[a-z-]*:s3:::/, ''), rtc: r.Destination?.ReplicationTime?.Status === 'Enabled' }
            : undefined;
          const newest = light ? undefined : (await newestObject(s3, b.name, opts)).newest;
          return { ...(rule ? { rule } : {}), ...(newest ? { newest } : {}) };
        })
      : Promise.resolve<Reached<never>>({ ok: false, reason: `lives in ${region}` }),
  ]);
  facts.replica = rep;
  facts.primary = prim;
  if (!light && prim.ok && prim.value.rule) {
    const rule = prim.value.rule;
    const metric = await reach(async (opts) => {
      const end = new Date();
      const r = await clients.cloudwatch(region).send(
        new GetMetricDataCommand({
          StartTime: new Date(end.getTime() - 3_600_000),
          EndTime: end,
          MetricDataQueries: [
            {
              Id: 'latency',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/S3',
                  MetricName: 'ReplicationLatency',
                  Dimensions: [
                    { Name: 'SourceBucket', Value: b.name },
                    { Name: 'DestinationBucket', Value: rule.destination },
                    { Name: 'RuleId', Value: rule.id ?? '' },
                  ],
                },
                Period: 300,
                Stat: 'Maximum',
              },
            },
          ],
        }),
        opts,
      );
      const values = r.MetricDataResults?.[0]?.Values ?? [];
      return values.length ? Math.max(...values) : undefined;
    });
    if (metric.ok && metric.value !== undefined) facts.latencySeconds = metric.value;
  }
  return facts;
}

/** The rules for one bucket. Pure. */
export function gradeBucket(f: BucketFacts, cfg: DrConfig, target: string, now: Date): ReadinessItem {
  const { it, red, amber } = item('s3', f.bucket.name);
  if (f.inTarget) {
    it.facts.push(`lives in ${target}`);
    it.rpoMs = 0;
    return it;
  }
  const replica = f.bucket.replica;
  if (!replica) {
    red(`no replica: its objects are not in ${target}`);
    return it;
  }
  if (replica.region !== target) amber(`replica \`${replica.bucket}\` is in ${replica.region}, not ${target}`);
  const rep = f.replica;
  if (rep?.error) red(rep.error);
  else if (!rep?.exists) red(`replica \`${replica.bucket}\` does not exist`);
  else {
    it.facts.push(`replica \`${replica.bucket}\`${rep.newest ? `, newest object ${ageOf(now.getTime() - Date.parse(rep.newest))} ago` : ', empty'}`);
  }
  const objective = cfg.objectives.rpoMinutes * 60_000;
  if (!f.primary.ok) {
    amber('primary unreachable: replication health unknown');
    return it;
  }
  const rule = f.primary.value.rule;
  if (!rule || !rule.enabled) red('no enabled replication rule');
  else if (rule.destination !== replica.bucket) red(`replicates to \`${rule.destination}\`, not the configured replica`);
  else if (!rule.rtc) amber('replication without RTC: no 15-minute guarantee');
  else it.facts.push('RTC on');
  let lag: number | undefined;
  // CloudWatch's latency is of the rule's destination: evidence for this replica only when the rule
  // is enabled and replicates to it.
  if (f.latencySeconds !== undefined && rule?.enabled && rule.destination === replica.bucket) {
    lag = f.latencySeconds * 1000;
    it.facts.push(`replication latency ${lagText(lag)} (max, last hour)`);
  } else if (f.primary.value.newest && rep?.exists && !rep.error) {
    // The newest primary object against the replica's newest: how far the replica is behind, at most.
    // A replica whose listing failed has no known newest object: no lag is derived from the listings.
    lag = Math.max(0, Date.parse(f.primary.value.newest) - (rep.newest ? Date.parse(rep.newest) : 0));
    if (!rep.newest) lag = now.getTime() - Date.parse(f.primary.value.newest);
    it.facts.push(lag === 0 ? 'replica has the newest primary object' : `replica ${lagText(lag)} behind the newest primary object`);
  }
  if (lag !== undefined) {
    it.rpoMs = lag;
    if (lag > objective) amber(`replication lag ${lagText(lag)} exceeds the RPO objective of ${cfg.objectives.rpoMinutes} min`);
  }
  return it;
}

// ---- DynamoDB ----

export interface TableFacts {
  table: TableConfig;
  /** The table in the target region (a global-table replica, or the table itself). */
  target: { status?: string; items?: number; error?: string };
  /** The newest backup of the table in the target region. */
  backup?: { name: string; created: string };
  /** Why the target's backups could not be listed (then none is known, not "none there"). */
  backupError?: string;
  /** The primary's view of the replica in the target (DescribeTable Replicas). */
  primary: Reached<{ replicaStatus?: string }>;
}

async function readTable(cfg: DrConfig, clients: AwsClients, t: TableConfig, target: string): Promise<TableFacts> {
  const ddb = clients.dynamodb(target);
  const [there, backups, prim] = await Promise.all([
    ddb.send(new DescribeTableCommand({ TableName: t.name })).then(
      (r) => ({ status: r.Table?.TableStatus ?? 'UNKNOWN', ...(r.Table?.ItemCount !== undefined ? { items: r.Table.ItemCount } : {}) }),
      (e: unknown) => (errName(e) === 'ResourceNotFoundException' ? {} : { error: wrapAws(e, 'DescribeTable', `${t.name} in ${target}`).message }),
    ),
    ddb.send(new ListBackupsCommand({ TableName: t.name, BackupType: 'ALL' })).then(
      (r): Pick<TableFacts, 'backup'> => {
        const b = (r.BackupSummaries ?? []).filter((x) => x.BackupStatus === 'AVAILABLE' && x.BackupCreationDateTime).sort((x, y) => (y.BackupCreationDateTime?.getTime() ?? 0) - (x.BackupCreationDateTime?.getTime() ?? 0))[0];
        return b?.BackupName && b.BackupCreationDateTime ? { backup: { name: b.BackupName, created: b.BackupCreationDateTime.toISOString() } } : {};
      },
      (e: unknown): Pick<TableFacts, 'backupError'> => ({ backupError: wrapAws(e, 'ListBackups', `${t.name} in ${target}`).message }),
    ),
    (t.region ?? cfg.regions.primary) === target
      ? Promise.resolve<Reached<{ replicaStatus?: string }>>({ ok: true, value: {} })
      : reach(async (opts) => {
          const r = await clients.dynamodb(t.region ?? cfg.regions.primary).send(new DescribeTableCommand({ TableName: t.name }), opts);
          const s = r.Table?.Replicas?.find((x) => x.RegionName === target)?.ReplicaStatus;
          return s ? { replicaStatus: s } : {};
        }),
  ]);
  return { table: t, target: there, primary: prim, ...backups };
}

/** The rules for one table. Pure. */
export function gradeTable(f: TableFacts, target: string, now: Date): ReadinessItem {
  const { it, red, amber } = item('dynamodb', f.table.name);
  const status = f.target.status ?? (f.primary.ok ? f.primary.value.replicaStatus : undefined);
  if (f.target.error) red(f.target.error);
  else if (status === 'ACTIVE') {
    it.facts.push(`replica in ${target} ACTIVE${f.target.items !== undefined ? `, about ${f.target.items} items` : ''}`);
    // A global table replicates within seconds: its RPO is about zero.
    it.rpoMs = 0;
  } else if (status) amber(`replica in ${target} is ${status}`);
  else if (f.backup) {
    const age = now.getTime() - Date.parse(f.backup.created);
    amber(`no replica in ${target}; newest backup there \`${f.backup.name}\` is ${ageOf(age)} old (restore it)`);
    it.rpoMs = age;
  } else if (f.backupError) red(`no replica in ${target}, and its backups there could not be read: ${f.backupError}`);
  else red(`no replica and no backup in ${target}`);
  if (!f.primary.ok) it.facts.push('primary unreachable');
  return it;
}

// ---- AMIs ----

export interface AmiFacts {
  copies: { sourceId: string; id: string; name: string; state: string; created?: string }[];
  /** The tagged images of the primary, when it answers. */
  sources: Reached<{ id: string; name: string }[]>;
}

async function readAmis(cfg: DrConfig, clients: AwsClients, target: string): Promise<AmiFacts> {
  const [copies, sources] = await Promise.all([
    backupCopies(clients.ec2(target), target),
    reach(async () => (await taggedImages(clients.ec2(cfg.regions.primary), cfg.ami.tagKey, cfg.ami.tagValue, cfg.regions.primary)).map((i) => ({ id: i.ImageId ?? '', name: i.Name ?? '' }))),
  ]);
  return {
    copies: copies.map((c) => ({ sourceId: tagOf(c, 'source-ami') ?? '', id: c.ImageId ?? '', name: c.Name ?? '', state: c.State ?? '', ...(c.CreationDate ? { created: c.CreationDate } : {}) })),
    sources,
  };
}

/** A copy's creation time; one without a date (or an unreadable one) sorts as the oldest. */
const dated = (c: { created?: string }): number => Date.parse(c.created ?? '') || 0;

/** One row per image (known from the primary, or from the copies when it does not answer) and the newest available copy of each. Pure. */
export function gradeAmis(f: AmiFacts, cfg: DrConfig, target: string, now: Date): { items: ReadinessItem[]; sources: LaunchSource[] } {
  const known = new Map<string, string>();
  if (f.sources.ok) for (const s of f.sources.value) known.set(s.id, s.name);
  for (const c of f.copies) if (c.sourceId && !known.has(c.sourceId) && !f.sources.ok) known.set(c.sourceId, sourceNameOf(c.name, c.sourceId));
  const items: ReadinessItem[] = [];
  const sources: LaunchSource[] = [];
  for (const [id, name] of [...known.entries()].sort((a, b) => a[1].localeCompare(b[1]))) {
    const { it, red, amber } = item('ami', `${name || id} (${id})`);
    const newest = f.copies
      .filter((c) => c.sourceId === id && c.state === 'available')
      .sort((a, b) => dated(b) - dated(a))[0];
    if (!newest) red(`no available backup copy in ${target}`);
    else {
      const age = newest.created ? now.getTime() - Date.parse(newest.created) : undefined;
      const text = `copy \`${newest.id}\`${age !== undefined ? `, ${ageOf(age)} old` : ''}`;
      if (age !== undefined && age > cfg.schedule.amiBackupDays * DAY_MS) amber(`newest ${text}: older than ${cfg.schedule.amiBackupDays} d`);
      else it.facts.push(text);
      sources.push({ sourceId: id, name: name || id, copyId: newest.id, created: newest.created ?? '' });
    }
    items.push(it);
  }
  if (!known.size) {
    const { it, red } = item('ami', `AMIs tagged ${cfg.ami.tagKey}=${cfg.ami.tagValue}`);
    red(f.sources.ok ? `no tagged image in ${cfg.regions.primary} and no backup copy in ${target}: nothing to launch` : `no backup copy in ${target} and the primary is unreachable: nothing to launch`);
    items.push(it);
  }
  if (!f.sources.ok) for (const i of items) i.facts.push('primary unreachable: images known from their copies');
  return { items, sources };
}

// ---- DNS ----

/** The record set a configured record names: same name, type and set identifier. */
export function findRecord(sets: readonly ResourceRecordSet[], r: FailoverRecord): ResourceRecordSet | undefined {
  return sets.find((s) => dnsName(s.Name ?? '') === dnsName(r.name) && s.Type === r.type && (s.SetIdentifier ?? undefined) === (r.setIdentifier ?? undefined));
}

/** The record sets at one name and type (every set identifier): one or two pages from there, not the zone. */
export async function readRecords(clients: AwsClients, zoneId: string, records: readonly FailoverRecord[]): Promise<RecordNow[]> {
  const r53 = clients.route53();
  return mapLimit(records, 4, async (record) => {
    const r = await r53
      .send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: record.name, StartRecordType: record.type, MaxItems: 100 }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'ListResourceRecordSets', `${record.name} in ${zoneId}`);
      });
    const current = findRecord(r.ResourceRecordSets ?? [], record);
    return { record, ...(current ? { current } : {}) };
  });
}

/** `A 10.0.0.1, 10.0.0.2` or `A alias spawn-lb….elb.amazonaws.com` */
export function recordValue(s: ResourceRecordSet | undefined): string {
  if (!s) return '(none)';
  if (s.AliasTarget) return `${s.Type ?? ''} alias ${s.AliasTarget.DNSName ?? ''}`;
  const vals = (s.ResourceRecords ?? []).map((v) => v.Value ?? '');
  return `${s.Type ?? ''} ${vals.slice(0, 4).join(', ')}${vals.length > 4 ? ` (+${vals.length - 4})` : ''}`;
}

export function gradeRecords(records: RecordNow[], zoneId: string | undefined, configured: boolean): ReadinessItem[] {
  if (!configured) {
    const { it, amber } = item('dns', 'DNS');
    amber('no `failover.dns` records configured: clients are not switched');
    return [it];
  }
  if (!zoneId) {
    const { it, red } = item('dns', 'DNS');
    red('no hosted zone: set `failover.dns.hostedZoneId` or `route53.hostedZoneId`');
    return [it];
  }
  return records.map(({ record, current }) => {
    const { it, amber } = item('dns', `${dnsName(record.name)} ${record.type}${record.setIdentifier ? ` (${record.setIdentifier})` : ''}`);
    if (!current) amber('not in the zone: the failover creates it (the failback deletes it)');
    else it.facts.push(`now ${recordValue(current)}${current.Failover ? `, failover ${current.Failover}` : ''}`);
    it.facts.push(`switches to the new instances' ${record.target}`);
    return it;
  });
}

// ---- all ----

export function failoverRegion(cfg: DrConfig): string {
  return cfg.failover?.region ?? cfg.regions.backup;
}

export function failoverZone(cfg: DrConfig): string | undefined {
  return (cfg.failover?.dns?.hostedZoneId ?? cfg.route53?.hostedZoneId)?.replace(/^\/hostedzone\//, '');
}

/**
 * Reads and grades the readiness of a failover to `target`. `light` (the `/dr status` row) skips
 * the object listings of primary buckets and the CloudWatch metrics.
 */
export async function readiness(cfg: DrConfig, clients: AwsClients, target: string, now: Date, opts: { light?: boolean } = {}): Promise<Readiness> {
  const zoneId = failoverZone(cfg);
  const dns = cfg.failover?.dns;
  const [buckets, tables, amis, records] = await Promise.all([
    mapLimit(cfg.s3.buckets, 8, (b) => readBucket(cfg, clients, b, target, opts.light ?? false)),
    mapLimit(cfg.dynamodb.tables, 8, (t) => readTable(cfg, clients, t, target)),
    readAmis(cfg, clients, target),
    dns && zoneId ? readRecords(clients, zoneId, dns.records) : Promise.resolve([]),
  ]);
  const unreachable: string[] = [];
  for (const b of buckets) if (!b.primary.ok && b.primary.reason !== 'not asked' && !b.primary.reason.startsWith('lives in')) unreachable.push(`S3 \`${b.bucket.name}\`: ${b.primary.reason}`);
  for (const t of tables) if (!t.primary.ok) unreachable.push(`DynamoDB \`${t.table.name}\`: ${t.primary.reason}`);
  if (!amis.sources.ok) unreachable.push(`EC2 images: ${amis.sources.reason}`);
  const ami = gradeAmis(amis, cfg, target, now);
  const items = [...buckets.map((b) => gradeBucket(b, cfg, target, now)), ...tables.map((t) => gradeTable(t, target, now)), ...ami.items, ...gradeRecords(records, zoneId, Boolean(dns))];
  const data = items.filter((i) => i.kind === 's3' || i.kind === 'dynamodb');
  const lags = data.map((i) => i.rpoMs).filter((x): x is number => x !== undefined);
  const uncovered = data.filter((i) => i.colour === 'red').map((i) => i.name);
  return {
    target,
    primary: cfg.regions.primary,
    checkedAt: now.toISOString(),
    unreachable,
    items,
    overall: worst(items.map((i) => i.colour)),
    ...(lags.length ? { rpoMs: Math.max(...lags) } : {}),
    uncovered,
    sources: ami.sources,
    ...(zoneId ? { zoneId } : {}),
    records,
  };
}

/** `~0:00 min (replication evidence)`, or why it cannot be said. */
export function rpoText(r: Pick<Readiness, 'rpoMs' | 'uncovered'>): string {
  const known = r.rpoMs !== undefined ? `about ${lagText(r.rpoMs)}` : 'unknown (no replication evidence)';
  return r.uncovered.length ? `${known}; unbounded for ${r.uncovered.length} resource${r.uncovered.length === 1 ? '' : 's'} with no copy in the target` : known;
}
