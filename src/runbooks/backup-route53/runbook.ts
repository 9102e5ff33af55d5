import { GetHostedZoneCommand, ListResourceRecordSetsCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import { DrbotError, PreconditionError, wrapAws } from '../../errors';
import { formatCount } from '../../slack/views/run';
import { formatBytes } from '../../util/limit';
import { type Runbook, step } from '../driver';
import { backupTarget, putObject, readBack, readBackFailure, readBackLine, sha256Hex } from '../exports';
import { deleteStoredCopy } from '../export-prune';
import { type Copy, executePrune, planPrune, pruneLines, pruneResultLines } from '../retention';
import type { RunbookDeps } from '../types';
import type { BackupRoute53Input } from '.';
import { listZoneExports } from './prune';

/** The document written to the backup bucket; `recordSets` are Route53's own shapes, every field kept. */
export interface Route53Export {
  format: 'drbot-route53-export/1';
  exportedAt: string;
  runId: string;
  zone: { id: string; name: string; privateZone: boolean; comment?: string };
  recordCount: number;
  recordSets: ResourceRecordSet[];
}

/** ListResourceRecordSets returns at most 300 record sets a page. */
const PAGE = 300;

export const zoneKey = (zoneId: string, date: string, runId: string) => `route53/${zoneId}/${date}/${runId}.json`;
export const latestKey = (zoneId: string) => `route53/${zoneId}/latest.json`;

const bare = (id: string) => id.replace(/^\/hostedzone\//, '');

/** The zone's name and flags, and every record set, page by page (name, type and set identifier carried on). */
export async function readZone(r53: Route53Client, zoneId: string): Promise<{ zone: Route53Export['zone']; recordSets: ResourceRecordSet[] }> {
  const hz = await r53.send(new GetHostedZoneCommand({ Id: zoneId })).catch((e: unknown) => {
    throw wrapAws(e, 'GetHostedZone', zoneId);
  });
  const recordSets: ResourceRecordSet[] = [];
  let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
  for (;;) {
    const page = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: PAGE, ...start })).catch((e: unknown) => {
      throw wrapAws(e, 'ListResourceRecordSets', zoneId);
    });
    recordSets.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) break;
    start = {
      ...(page.NextRecordName ? { StartRecordName: page.NextRecordName } : {}),
      ...(page.NextRecordType ? { StartRecordType: page.NextRecordType } : {}),
      ...(page.NextRecordIdentifier ? { StartRecordIdentifier: page.NextRecordIdentifier } : {}),
    };
  }
  const z = hz.HostedZone;
  return {
    zone: { id: bare(z?.Id ?? zoneId), name: z?.Name ?? '', privateZone: z?.Config?.PrivateZone ?? false, ...(z?.Config?.Comment ? { comment: z.Config.Comment } : {}) },
    recordSets,
  };
}

/** `412 record sets: 300 A, 100 CNAME, …; 20 alias, 4 failover, …` */
export function describeRecords(sets: readonly ResourceRecordSet[]): string {
  const byType = new Map<string, number>();
  for (const s of sets) byType.set(s.Type ?? '?', (byType.get(s.Type ?? '?') ?? 0) + 1);
  const types = [...byType.entries()].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${formatCount(n)} ${t}`).join(', ');
  const routing: [string, number][] = [
    ['alias', sets.filter((s) => s.AliasTarget).length],
    ['failover', sets.filter((s) => s.Failover).length],
    ['weighted', sets.filter((s) => s.Weight !== undefined).length],
    ['latency', sets.filter((s) => s.Region).length],
    ['geo', sets.filter((s) => s.GeoLocation || s.GeoProximityLocation).length],
  ];
  const special = routing.filter(([, n]) => n > 0).map(([k, n]) => `${formatCount(n)} ${k}`).join(', ');
  return `*${formatCount(sets.length)}* record sets: ${types || 'none'}${special ? `; ${special}` : ''}`;
}

export interface Route53Plan {
  bucket: string;
  zoneId: string;
  key: string;
  records: number;
  /** drbot's exports of the zone past retention, deleted after the new export verifies (with --prune). */
  prune?: Copy[];
}

function zoneOf(deps: RunbookDeps, input: BackupRoute53Input): string {
  const configured = deps.config.route53?.hostedZoneId;
  if (!configured) throw new PreconditionError('no_zone', 'No hosted zone is configured.', 'Set `route53.hostedZoneId` in the drbot config.');
  return bare(input.zone ?? configured);
}

const exportZone: Runbook<BackupRoute53Input, Route53Plan> = {
  title: () => 'Export of the Route53 zone',
  destructive: false,

  async plan(deps, input) {
    const { bucket } = backupTarget(deps);
    const zoneId = zoneOf(deps, input);
    const read = await readZone(deps.clients.route53(deps.config.regions.primary), zoneId);
    const key = zoneKey(zoneId, input.requestedAt.slice(0, 10), input.runId);
    const lines = [
      `Zone \`${read.zone.name}\` (\`${zoneId}\`): ${describeRecords(read.recordSets)}`,
      `${input.dryRun ? 'Would write' : 'Writes'} \`s3://${bucket}/${key}\` and points \`${latestKey(zoneId)}\` at it`,
      'Reads Route53 only: no record is changed.',
    ];
    const data: Route53Plan = { bucket, zoneId, key, records: read.recordSets.length };
    if (!input.prune) return { lines, data };
    const retention = deps.config.retention.route53ExportDays;
    try {
      const pruning = planPrune(await listZoneExports(backupTarget(deps).s3, bucket, zoneId), retention, deps.now());
      lines.push(...pruneLines(pruning, ['Route53 export', 'Route53 exports'], retention, input.dryRun));
      return { lines, data: { ...data, prune: pruning.delete } };
    } catch (e) {
      // The export still runs; only the prune waits for a listing it can trust.
      if (!(e instanceof DrbotError)) throw e;
      lines.push(`:warning: Prune skipped: ${e.message}`);
      return { lines, data };
    }
  },

  async execute(ctx, deps, input, plan, progress) {
    const { s3 } = backupTarget(deps);
    // Read again at execution: the export is what Route53 holds now, not at plan time.
    const written = await step(ctx, 'export', async () => {
        const read = await readZone(deps.clients.route53(deps.config.regions.primary), plan.zoneId);
        const doc: Route53Export = { format: 'drbot-route53-export/1', exportedAt: deps.now().toISOString(), runId: input.runId, zone: read.zone, recordCount: read.recordSets.length, recordSets: read.recordSets };
        const body = JSON.stringify(doc);
        const sha256 = sha256Hex(body);
        await putObject(s3, plan.bucket, plan.key, body, { 'drbot-run': input.runId, 'record-count': String(read.recordSets.length), sha256, 'zone-id': plan.zoneId });
        await progress.report(1, 2, 'written');
        return { bytes: Buffer.byteLength(body), sha256, records: read.recordSets.length, exportedAt: doc.exportedAt };
    });
    await step(ctx, 'latest', async () => {
        const pointer = { key: plan.key, runId: input.runId, exportedAt: written.exportedAt, sha256: written.sha256, count: written.records };
        await putObject(s3, plan.bucket, latestKey(plan.zoneId), JSON.stringify(pointer), { 'drbot-run': input.runId, 'record-count': String(written.records) });
    });
    const check = await step(ctx, 'verify', () => readBack(s3, plan.bucket, plan.key, written.sha256, (doc) => (doc as Partial<Route53Export>).recordSets?.length));
    const ok = check.same && check.count === written.records;
    // Prune only once the new export is known good: the newest copy must be a usable one.
    const pruned = ok && plan.prune?.length ? await executePrune(ctx, 'route53', plan.prune, (c) => deleteStoredCopy(s3, plan.bucket, c)) : { deleted: [], failures: [] };
    return {
      ok: ok && pruned.failures.length === 0,
      lines: [
        `Exported *${formatCount(written.records)}* record sets of \`${plan.zoneId}\` to \`s3://${plan.bucket}/${plan.key}\` (${formatBytes(written.bytes)}); \`${latestKey(plan.zoneId)}\` points at it.`,
        ok ? ':mag: Verified by reading it back: same checksum, every record set present.' : readBackLine(check, 'record set'),
        ...(!ok && plan.prune?.length ? ['Nothing was pruned: the new export did not verify.'] : []),
        ...pruneResultLines(pruned, 'old export'),
      ],
      failures: [...(ok ? [] : [readBackFailure(check)]), ...pruned.failures],
    };
  },
};

/**
 * Pruning deletes: a person's --prune waits for an approval of the plan that lists what goes. A
 * scheduled run prunes by the config's retention (reviewed policy) without waiting on anyone.
 */
export const runbook = (input: BackupRoute53Input): Runbook<BackupRoute53Input, Route53Plan> => (input.prune && !input.schedule ? { ...exportZone, destructive: true } : exportZone);
