import type { AwsClients } from '../../aws/clients';
import { getTablePosture, type TablePosture } from '../../aws/dynamodb';
import { getBucketPosture, isGlacierClass, type BucketPosture } from '../../aws/s3';
import type { BucketConfig, DrConfig, TableConfig } from '../../config/schema';
import { isErrorLike } from '../../errors';
import { mapLimit } from '../../util/limit';
import { grader } from './grade';
import { failoverRegion, type Readiness, readiness, rpoText } from '../failover/readiness';
import { amiStatus, iamStatus, lambdaStatus, readAmis, readFunction, readIamExport, readRoute53, route53Status } from './backups';

export type Colour = 'red' | 'amber' | 'green' | 'grey';
export type StatusKind = 's3' | 'dynamodb' | 'ami' | 'iam' | 'route53' | 'lambda' | 'failover';

export interface StatusItem {
  kind: StatusKind;
  name: string;
  colour: Colour;
  /** Why it is not green (empty when green). */
  reasons: string[];
  /** What we found, in a few words each. */
  facts: string[];
}

export interface StatusReport {
  generatedAt: Date;
  /** The worst colour among checked items (grey only when nothing was checked). */
  overall: Colour;
  items: StatusItem[];
}

/** Posture reads in flight at once. */
export const STATUS_CONCURRENCY = 8;

const SEVERITY: Record<Colour, number> = { red: 3, amber: 2, green: 1, grey: 0 };

function worst(colours: Colour[]): Colour {
  return colours.reduce<Colour>((w, c) => (SEVERITY[c] > SEVERITY[w] ? c : w), 'grey');
}


function messageOf(e: unknown): string {
  return isErrorLike(e) ? e.message : String(e);
}

/** `2026-11-20 10:00Z` */
function shortUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** `3 h ago`, `12 min ago`, `2 d ago` */
function ago(then: Date, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - then.getTime()) / 60000));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}


/** The status rules for one bucket, from its posture. Pure. */
export function bucketStatus(b: BucketConfig, p: BucketPosture, cfg: DrConfig): StatusItem {
  const { item, red, amber } = grader('s3', b.name);
  if (p.error) {
    red(p.error);
    return item;
  }
  if (!p.exists) {
    red(`bucket does not exist in ${b.region ?? cfg.regions.primary}`);
    return item;
  }

  if (p.versioning === 'Enabled') item.facts.push('versioning on');
  else red(`versioning ${p.versioning === 'Suspended' ? 'suspended' : 'off'}: deleted or overwritten objects cannot be recovered`);

  const rep = p.replication;
  if (b.replica) {
    if (!rep || !rep.enabled) {
      red(`no enabled replication rule to replica \`${b.replica.bucket}\` (${b.replica.region})`);
    } else if (rep.destinationBucket !== b.replica.bucket) {
      red(`replicates to \`${rep.destinationBucket}\`, not to the configured replica \`${b.replica.bucket}\``);
    } else {
      item.facts.push(`replicates to ${rep.destinationBucket}`);
      if (rep.rtc) item.facts.push('RTC 15 min');
      else amber('replication without RTC: no 15-minute replication guarantee');
      if (rep.metrics) item.facts.push('replication metrics on');
      if (rep.deleteMarkerReplication) item.facts.push('delete markers replicated');
    }
  } else if (rep?.enabled) {
    item.facts.push(`replicates to ${rep.destinationBucket}`);
  }

  const days = cfg.schedule.noncurrentVersionDays;
  if (p.noncurrentExpirationDays === undefined) amber(`no noncurrent-version expiry (runbook: ${days} d)`);
  else if (p.noncurrentExpirationDays !== days) amber(`noncurrent expiry ${p.noncurrentExpirationDays} d, runbook says ${days} d`);
  else item.facts.push(`noncurrent expiry ${days} d`);

  if (b.archivePrefix !== undefined) {
    const archive = b.archivePrefix;
    const covering = p.transitions.filter((t) => isGlacierClass(t.storageClass) && archive.startsWith(t.prefix ?? ''));
    if (covering.length === 0) amber(`no Glacier transition for \`${archive || '(whole bucket)'}\``);
    else for (const t of covering) item.facts.push(`${t.storageClass} after ${t.days} d`);
  }
  return item;
}

/** The status rules for one table, from its posture. Pure. */
export function tableStatus(t: TableConfig, p: TablePosture, cfg: DrConfig, now: Date): StatusItem {
  const { item, red, amber } = grader('dynamodb', t.name);
  if (p.error) {
    red(p.error);
    return item;
  }
  if (!p.exists) {
    red(`table does not exist in ${t.region ?? cfg.regions.primary}`);
    return item;
  }

  if (!p.pitr) red(`PITR off: RPO ${cfg.objectives.rpoMinutes} min unmet`);
  else item.facts.push(p.earliestRestorable ? `PITR since ${shortUtc(p.earliestRestorable)}` : 'PITR on');

  const maxHours = cfg.schedule.onDemandBackupMaxAgeHours;
  if (!p.newestBackup) {
    amber('no on-demand backup');
  } else {
    const ageHours = (now.getTime() - p.newestBackup.created.getTime()) / 3600000;
    if (ageHours > maxHours) amber(`newest backup ${ago(p.newestBackup.created, now)}, older than ${maxHours} h`);
    else item.facts.push(`newest backup ${ago(p.newestBackup.created, now)}`);
    if (p.newestBackup.status !== 'AVAILABLE') item.facts.push(`backup ${p.newestBackup.status.toLowerCase()}`);
  }

  const backup = cfg.regions.backup;
  if (!p.replicaRegions.includes(backup)) amber(`no replica in ${backup}`);
  else if (p.backupReplicaStatus && p.backupReplicaStatus !== 'ACTIVE') amber(`replica in ${backup} is ${p.backupReplicaStatus}`);
  else item.facts.push(`replica in ${backup}`);
  return item;
}

/** The failover readiness as one row: the worst colour, the first reasons, the estimated RPO. Pure. */
export function failoverStatus(r: Readiness): StatusItem {
  const { item, red, amber } = grader('failover', `Failover readiness ${r.target}`);
  const kinds: Record<string, string> = { s3: 'S3', dynamodb: 'DynamoDB', ami: 'AMI', dns: 'DNS' };
  const bad = r.items.filter((i) => i.colour !== 'green').sort((a, b) => (a.colour === 'red' ? 0 : 1) - (b.colour === 'red' ? 0 : 1));
  for (const i of bad.slice(0, 3)) (i.colour === 'red' ? red : amber)(`${kinds[i.kind] ?? i.kind} ${i.name}: ${i.reasons[0] ?? ''}`);
  if (bad.length > 3) item.reasons.push(`and ${bad.length - 3} more (\`/dr failover --dry-run\`)`);
  item.facts.push(`${r.items.filter((i) => i.colour === 'green').length} of ${r.items.length} items ready`, `${r.sources.length} AMI${r.sources.length === 1 ? '' : 's'} to launch`, `estimated RPO ${rpoText(r)}`);
  return item;
}

/** A row that could not be read: red, with the error. */
function unreadable(kind: StatusKind, name: string, e: unknown): StatusItem {
  return { kind, name, colour: 'red', reasons: [messageOf(e)], facts: [] };
}

/**
 * Backup posture of the configured estate against the schedule: one item per bucket, table, tagged
 * AMI and Lambda function, and one each for the IAM and Route53 exports. A failing resource turns
 * red with the error text; this never throws because of one resource.
 */
export async function computeStatus(cfg: DrConfig, clients: AwsClients, now: Date): Promise<StatusReport> {
  type Job = () => Promise<StatusItem[]>;
  const jobs: Job[] = [
    ...cfg.s3.buckets.map((b): Job => async () => {
      try {
        return [bucketStatus(b, await getBucketPosture(clients.s3(b.region ?? cfg.regions.primary), b.name), cfg)];
      } catch (e) {
        return [unreadable('s3', b.name, e)];
      }
    }),
    ...cfg.dynamodb.tables.map((t): Job => async () => {
      try {
        const region = t.region ?? cfg.regions.primary;
        return [tableStatus(t, await getTablePosture(clients.dynamodb(region), t.name, cfg.regions.backup), cfg, now)];
      } catch (e) {
        return [unreadable('dynamodb', t.name, e)];
      }
    }),
    async () => {
      try {
        return amiStatus(await readAmis(cfg, clients), cfg, now);
      } catch (e) {
        return [unreadable('ami', `AMIs tagged ${cfg.ami.tagKey}=${cfg.ami.tagValue}`, e)];
      }
    },
    async () => {
      try {
        return [iamStatus(await readIamExport(cfg, clients), cfg, now)];
      } catch (e) {
        return [unreadable('iam', `IAM roles ${cfg.iam.rolePrefix}*`, e)];
      }
    },
    async () => {
      try {
        return [route53Status(await readRoute53(cfg, clients), cfg, now)];
      } catch (e) {
        return [unreadable('route53', cfg.route53 ? `hosted zone ${cfg.route53.hostedZoneId}` : 'Route53', e)];
      }
    },
    ...cfg.lambda.functions.map((fn): Job => async () => {
      try {
        return [lambdaStatus(await readFunction(cfg, clients, fn), now)];
      } catch (e) {
        return [unreadable('lambda', fn, e)];
      }
    }),
  ];
  // The failover readiness (light: no object listings or metrics), only where a failover is configured.
  if (cfg.failover) {
    const target = failoverRegion(cfg);
    jobs.push(async () => {
      try {
        return [failoverStatus(await readiness(cfg, clients, target, now, { light: true }))];
      } catch (e) {
        return [unreadable('failover', `Failover readiness ${target}`, e)];
      }
    });
  }
  const items = (await mapLimit(jobs, STATUS_CONCURRENCY, (job) => job())).flat();
  return { generatedAt: now, overall: worst(items.map((i) => i.colour)), items };
}
