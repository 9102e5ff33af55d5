import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { GetHostedZoneCommand } from '@aws-sdk/client-route-53';
import type { AwsClients } from '../../aws/clients';
import { backupCopies, tagOf, taggedImages } from '../../aws/ec2';
import { listVersions } from '../../aws/lambda';
import type { DrConfig } from '../../config/schema';
import { wrapAws } from '../../errors';
import { latestKey as lambdaLatestKey, type LambdaManifest } from '../backup-lambda/runbook';
import { latestKey as zoneLatestKey, readZone } from '../backup-route53/runbook';
import { getText, headObject, type LatestPointer } from '../exports';
import { grader } from './grade';
import type { StatusItem, StatusKind } from './posture';

/**
 * The status rows of what drbot itself backs up: AMI copies, IAM, Route53 and Lambda exports.
 * Readers gather facts from AWS; the grading functions below them are pure.
 */

const DAY_MS = 86_400_000;


export function ageText(then: Date, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - then.getTime()) / 60000));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

// ---- AMIs ----

export interface AmiFacts {
  sources: { id: string; name: string }[];
  copies: { sourceId: string; id: string; state: string; created?: Date }[];
}

export async function readAmis(cfg: DrConfig, clients: AwsClients): Promise<AmiFacts> {
  const { primary, backup } = cfg.regions;
  const [sources, copies] = await Promise.all([taggedImages(clients.ec2(primary), cfg.ami.tagKey, cfg.ami.tagValue, primary), backupCopies(clients.ec2(backup), backup)]);
  return {
    sources: sources.map((i) => ({ id: i.ImageId ?? '', name: i.Name ?? '' })),
    copies: copies.map((c) => ({ sourceId: tagOf(c, 'source-ami') ?? '', id: c.ImageId ?? '', state: c.State ?? '', ...(c.CreationDate ? { created: new Date(c.CreationDate) } : {}) })),
  };
}

/** One row per tagged image: its newest available copy in the backup region against `schedule.amiBackupDays`. */
export function amiStatus(f: AmiFacts, cfg: DrConfig, now: Date): StatusItem[] {
  const days = cfg.schedule.amiBackupDays;
  if (f.sources.length === 0) {
    const { item, amber } = grader('ami', `AMIs tagged ${cfg.ami.tagKey}=${cfg.ami.tagValue}`);
    amber(`no image in ${cfg.regions.primary} carries the tag: nothing is being backed up`);
    return [item];
  }
  return f.sources.map((s) => {
    const { item, red, amber } = grader('ami', `${s.name || s.id} (${s.id})`);
    const mine = f.copies.filter((c) => c.sourceId === s.id);
    const newest = mine.filter((c) => c.state === 'available').sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0))[0];
    if (mine.some((c) => c.state === 'pending')) item.facts.push('a copy is in progress');
    if (!newest) red(`no copy in ${cfg.regions.backup}`);
    else if (newest.created && now.getTime() - newest.created.getTime() > days * DAY_MS) amber(`newest copy in ${cfg.regions.backup} ${ageText(newest.created, now)}, older than ${days} d`);
    else item.facts.push(`copy \`${newest.id}\` in ${cfg.regions.backup}${newest.created ? ` ${ageText(newest.created, now)}` : ''}`);
    return item;
  });
}

// ---- exports (IAM, Route53) ----

/** A latest.json pointer as IAM's (roles) and the other exports (count) write it. */
type PointerFacts = Partial<LatestPointer> & { roles?: number };

export interface ExportFacts {
  bucket?: string;
  latest?: { at: Date; pointer: PointerFacts };
}

async function readExport(cfg: DrConfig, clients: AwsClients, key: string): Promise<ExportFacts> {
  const bucket = cfg.backupBucket;
  if (!bucket) return {};
  const s3 = clients.s3(cfg.regions.primary);
  const head = await headObject(s3, bucket, key);
  if (!head) return { bucket };
  const text = await getText(s3, bucket, key);
  return { bucket, latest: { at: head.lastModified ?? new Date(0), pointer: text ? (JSON.parse(text) as PointerFacts) : {} } };
}

function gradeExport(g: ReturnType<typeof grader>, f: ExportFacts, where: string, days: number, now: Date): void {
  if (!f.bucket) return g.red('no backup bucket configured (`backupBucket`)');
  if (!f.latest) return g.red(`no export in \`s3://${f.bucket}/${where}\``);
  const age = now.getTime() - f.latest.at.getTime();
  if (age > days * DAY_MS) g.amber(`newest export ${ageText(f.latest.at, now)}, older than ${days} d`);
  else g.item.facts.push(`exported ${ageText(f.latest.at, now)}`);
}

export const readIamExport = (cfg: DrConfig, clients: AwsClients) => readExport(cfg, clients, 'iam/latest.json');

export function iamStatus(f: ExportFacts, cfg: DrConfig, now: Date): StatusItem {
  const g = grader('iam', `IAM roles ${cfg.iam.rolePrefix}*`);
  gradeExport(g, f, 'iam/', cfg.schedule.iamExportDays, now);
  const roles = f.latest?.pointer.roles;
  if (roles !== undefined) g.item.facts.push(`${roles} roles`);
  return g.item;
}

export interface ZoneFacts extends ExportFacts {
  zoneId: string;
  /** Record sets in the zone now. */
  records?: number;
}

export async function readRoute53(cfg: DrConfig, clients: AwsClients): Promise<ZoneFacts | undefined> {
  const zoneId = cfg.route53?.hostedZoneId.replace(/^\/hostedzone\//, '');
  if (!zoneId) return undefined;
  const r53 = clients.route53(cfg.regions.primary);
  const hz = await r53.send(new GetHostedZoneCommand({ Id: zoneId })).catch((e: unknown) => {
    throw wrapAws(e, 'GetHostedZone', zoneId);
  });
  // GetHostedZone's count is one call; list the zone only where an endpoint leaves it out.
  const records = hz.HostedZone?.ResourceRecordSetCount ?? (await readZone(r53, zoneId)).recordSets.length;
  return { zoneId, records, ...(await readExport(cfg, clients, zoneLatestKey(zoneId))) };
}

export function route53Status(f: ZoneFacts | undefined, cfg: DrConfig, now: Date): StatusItem {
  if (!f) {
    const g = grader('route53', 'Route53');
    g.amber('no hosted zone configured (`route53.hostedZoneId`)');
    return g.item;
  }
  const g = grader('route53', `hosted zone ${f.zoneId}`);
  gradeExport(g, f, `route53/${f.zoneId}/`, cfg.schedule.route53ExportDays, now);
  const then = f.latest?.pointer.count;
  if (then !== undefined && f.records !== undefined && then !== f.records) g.amber(`${f.records} record sets now, ${then} in the export`);
  else if (f.records !== undefined) g.item.facts.push(`${f.records} record sets`);
  return g.item;
}

// ---- Lambda ----

export interface FunctionFacts {
  name: string;
  alias: string;
  /** The version the alias points at; undefined when there is no such alias. */
  aliasVersion?: string;
  published: string[];
  bucket?: string;
  export?: { at: Date; versions: string[] };
}

export async function readFunction(cfg: DrConfig, clients: AwsClients, fn: string): Promise<FunctionFacts> {
  const lambda = clients.lambda(cfg.regions.primary);
  const alias = cfg.lambda.alias;
  const published = (await listVersions(lambda, fn)).map((v) => v.Version ?? '').filter((v) => v !== '$LATEST');
  let aliasVersion: string | undefined;
  try {
    aliasVersion = (await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias }))).FunctionVersion;
  } catch (e) {
    if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw wrapAws(e, 'GetAlias', `${fn}:${alias}`);
  }
  const facts: FunctionFacts = { name: fn, alias, published, ...(aliasVersion ? { aliasVersion } : {}) };
  const bucket = cfg.backupBucket;
  if (!bucket) return facts;
  const s3 = clients.s3(cfg.regions.primary);
  const pointerText = await getText(s3, bucket, lambdaLatestKey(fn));
  if (!pointerText) return { ...facts, bucket };
  const pointer = JSON.parse(pointerText) as LatestPointer;
  const manifest = await getText(s3, bucket, pointer.key);
  const versions = manifest ? (JSON.parse(manifest) as LambdaManifest).versions.map((v) => v.version) : [];
  return { ...facts, bucket, export: { at: new Date(pointer.exportedAt), versions } };
}

/** Alias on a published version (not $LATEST), an earlier version to roll back to, every published version exported. */
export function lambdaStatus(f: FunctionFacts, now: Date): StatusItem {
  const g = grader('lambda', f.name);
  const v = f.aliasVersion;
  if (!v) g.red(`no alias \`${f.alias}\`: nothing to roll back with`);
  else if (v === '$LATEST') g.red(`alias \`${f.alias}\` points at $LATEST, not a published version`);
  else {
    g.item.facts.push(`${f.alias} → v${v}`);
    const earlier = f.published.filter((p) => Number(p) < Number(v));
    if (earlier.length === 0) g.amber(`no version before v${v} to roll back to`);
    else g.item.facts.push(`rollback to v${earlier[earlier.length - 1] ?? ''}`);
  }
  if (!f.bucket) g.red('no backup bucket configured (`backupBucket`)');
  else if (!f.export) g.amber('never exported (`/dr backup lambda`)');
  else {
    const missing = f.published.filter((p) => !f.export?.versions.includes(p));
    if (missing.length) g.amber(`${missing.map((m) => `v${m}`).join(', ')} not exported (last export ${ageText(f.export.at, now)})`);
    else g.item.facts.push(`${f.published.length} versions exported ${ageText(f.export.at, now)}`);
  }
  return g.item;
}
