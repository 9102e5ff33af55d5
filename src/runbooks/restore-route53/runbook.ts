import type { Change, Route53Client } from '@aws-sdk/client-route-53';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type ChangeStatus, changeRecordSets, isRefusedBatch } from '../../aws/route53';
import { DrbotError, PreconditionError, withHint, wrapAws } from '../../errors';
import { code, slackDate } from '../../slack/views/format';
import { formatCount, plural } from '../../slack/views/run';
import { latestKey, readZone, type Route53Export } from '../backup-route53/runbook';
import { type Runbook, safeStep, type StepFailure } from '../driver';
import { waitInsync } from '../route53-insync';
import { spacedChecks, spacedDelay } from '../spaced-wait';
import { backupTarget, putObject, readLatest, sha256Hex } from '../exports';
import type { RunbookDeps } from '../types';
import type { RestoreRoute53Input } from '.';
import { batchHolds, byKey, differences, diffZone, normName, planBatches, recordLabel, type ZoneDiff } from './diff';

/** GetChange every 10 s in a batch's first minute (Route53 usually takes less), then every 30 s, for up to 15 minutes. */
const WAIT_MINUTES = 15;
const SAMPLE = 5;
/** `1 record set`, `2 record sets`. */
const recordSets = (n: number): string => plural(n, 'record set', 'record sets');

export const changeSetKey = (zoneId: string, runId: string) => `route53-restores/${zoneId}/${runId}.json`;

export interface RestoreRoute53Plan {
  bucket: string;
  zoneId: string;
  zoneName: string;
  key: string;
  sha256: string;
  create: number;
  change: number;
  remove: number;
  kept: number;
  blocked: number;
  batches: number;
}

interface BatchSummary {
  create: number;
  change: number;
  remove: number;
}

const bare = (id: string) => id.replace(/^\/hostedzone\//, '');

function zoneOf(deps: RunbookDeps, input: RestoreRoute53Input): string {
  const configured = deps.config.route53?.hostedZoneId;
  if (!configured) throw new PreconditionError('no_zone', 'No hosted zone is configured.', 'Set `route53.hostedZoneId` in the drbot config.');
  return bare(input.zone ?? configured);
}

const r53Of = (deps: RunbookDeps): Route53Client => deps.clients.route53(deps.config.regions.primary);

/** An export as written by `/dr backup route53`, checked against the SHA-256 in its metadata; undefined when there is no such key. */
export async function readExport(s3: S3Client, bucket: string, key: string): Promise<{ doc: Route53Export; sha256: string } | undefined> {
  let body: string;
  let meta: Record<string, string>;
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = (await r.Body?.transformToString()) ?? '';
    meta = r.Metadata ?? {};
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw wrapAws(e, 'GetObject', `${bucket}/${key}`);
  }
  const sha256 = sha256Hex(body);
  if (meta.sha256 && meta.sha256 !== sha256) {
    throw new PreconditionError('export_corrupt', `The export ${code(key)} does not match the checksum it was written with: it changed after \`/dr backup route53\` wrote it.`, 'Restore from another export (`--backup KEY`), or make a new one with `/dr backup route53`.');
  }
  let doc: Partial<Route53Export>;
  try {
    doc = JSON.parse(body) as Partial<Route53Export>;
  } catch {
    doc = {};
  }
  if (doc.format !== 'drbot-route53-export/1' || !Array.isArray(doc.recordSets) || !doc.zone) {
    throw new PreconditionError('not_an_export', `${code(key)} is not a Route53 export written by \`/dr backup route53\`.`, 'Name an export key (`route53/ZONE-ID/YYYY-MM-DD/RUN-ID.json`), or use `--latest`.');
  }
  return { doc: doc as Route53Export, sha256 };
}

function sample(labels: readonly string[], total: number): string {
  return `${labels.slice(0, SAMPLE).map((l) => code(l, 120)).join(', ')}${total > SAMPLE ? ', …' : ''}`;
}

function batchSummaries(batches: readonly Change[][], d: ZoneDiff): BatchSummary[] {
  const creates = new Set(d.create.map((r) => r));
  return batches.map((b) => ({
    remove: b.filter((c) => c.Action === 'DELETE').length,
    create: b.filter((c) => c.Action !== 'DELETE' && c.ResourceRecordSet && creates.has(c.ResourceRecordSet)).length,
    change: b.filter((c) => c.Action !== 'DELETE' && c.ResourceRecordSet && !creates.has(c.ResourceRecordSet)).length,
  }));
}

const total = (b: BatchSummary) => b.create + b.change + b.remove;
const sum = (bs: readonly BatchSummary[]): BatchSummary => bs.reduce((a, b) => ({ create: a.create + b.create, change: a.change + b.change, remove: a.remove + b.remove }), { create: 0, change: 0, remove: 0 });
const counts = (s: BatchSummary) => `${formatCount(s.create)} created, ${formatCount(s.change)} changed, ${formatCount(s.remove)} deleted`;
const range = (from: number, to: number) => (from === to ? `batch ${from}` : `batches ${from}–${to}`);

/**
 * One batch, sent once. Route53 applies a batch whole or not at all; if it refuses one
 * (InvalidChangeBatch) the zone is read to see whether an earlier attempt, whose answer was lost,
 * already applied it — then it is not sent again.
 */
async function applyBatch(r53: Route53Client, zoneId: string, changes: Change[], comment: string): Promise<{ id?: string; status: ChangeStatus; replayed: boolean }> {
  try {
    const r = await changeRecordSets(r53, zoneId, changes, comment);
    return { id: r.id, status: r.status, replayed: false };
  } catch (e) {
    if (!isRefusedBatch(e)) throw wrapAws(e, 'ChangeResourceRecordSets', zoneId);
    const live = byKey((await readZone(r53, zoneId)).recordSets);
    if (batchHolds(changes, live)) return { status: 'INSYNC', replayed: true };
    throw new DrbotError(
      'change_refused',
      `Route53 refused the change batch: ${String((e as Error).message).slice(0, 300)}`,
      'Route53 applies a batch whole or not at all, so nothing of this batch was applied. A record set changed since the plan may stand in the way: run the command again to diff afresh.',
    );
  }
}

export const runbook: Runbook<RestoreRoute53Input, RestoreRoute53Plan> = {
  title: (input) => (input.zone ? `Restore Route53 zone ${input.zone} from an export` : 'Restore the Route53 zone from an export'),
  destructive: true,
  // The zone the plan resolved (the configured one when no ZONE was typed); before the plan, a typed one.
  resources: (input, plan) => {
    const zone = plan?.zoneId ?? (input.zone ? bare(input.zone) : undefined);
    return zone ? [`route53:${zone}`] : [];
  },

  async plan(deps, input) {
    const { bucket, s3 } = backupTarget(deps);
    const zoneId = zoneOf(deps, input);
    const key = input.backup ?? (await readLatest(s3, bucket, latestKey(zoneId)))?.key;
    if (!key) {
      throw new PreconditionError(
        'no_export',
        `There is no export of zone \`${zoneId}\` in \`s3://${bucket}/route53/${zoneId}/\`, so there is nothing to restore from.`,
        'Make one with `/dr backup route53` (the weekly schedule makes them too), then run this again.',
      );
    }
    const exp = await readExport(s3, bucket, key);
    if (!exp) {
      throw new PreconditionError(
        'no_export',
        `There is no export ${code(key)} in \`s3://${bucket}\`.`,
        input.backup ? 'Check the key (`/dr status` shows the newest export), or use `--latest`; `/dr backup route53` makes a new one.' : 'The latest pointer names an export that is gone: make a new one with `/dr backup route53`.',
      );
    }
    const live = await readZone(r53Of(deps), zoneId);
    const sameName = normName(exp.doc.zone.name) === normName(live.zone.name);
    if (bare(exp.doc.zone.id) !== zoneId && !sameName) {
      throw new PreconditionError(
        'export_other_zone',
        `The export ${code(key)} is of zone \`${bare(exp.doc.zone.id)}\` (${code(exp.doc.zone.name)}), not of \`${zoneId}\` (${code(live.zone.name)}).`,
        'Name an export of this zone with `--backup`, or use `--latest`.',
      );
    }
    const d = diffZone(exp.doc.recordSets, live.recordSets, live.zone.name, { deleteExtra: input.deleteExtra });
    const batches = planBatches(d);
    const will = input.dryRun ? 'would be' : 'will be';
    const n = d.create.length + d.change.length + d.remove.length;
    const oneBlocked = d.blocked.length === 1;
    const lines = [
      `Zone ${code(live.zone.name)} (\`${zoneId}\`) from the export ${code(key)}: ${formatCount(exp.doc.recordSets.length)} record sets, exported ${slackDate(exp.doc.exportedAt)}`,
      bare(exp.doc.zone.id) !== zoneId ? `The export is of zone \`${bare(exp.doc.zone.id)}\`, which had the same name (the zone was recreated).` : '',
      `*${formatCount(d.create.length)}* to create, *${formatCount(d.change.length)}* to change, *${formatCount(d.remove.length)}* to delete`,
      n
        ? `They ${will} written in ${formatCount(batches.length)} change ${batches.length === 1 ? 'batch' : 'batches'} (≤ 1,000 records and 32,000 value characters each, an UPSERT counting twice), each waited for until INSYNC; then the zone is listed and compared with the export`
        : '',
      d.create.length ? `Create: ${sample(d.create.map(recordLabel), d.create.length)}` : '',
      d.change.length ? `Change: ${d.change.slice(0, SAMPLE).map((c) => `${code(recordLabel(c.to), 120)} (${c.fields.join(', ')})`).join(', ')}${d.change.length > SAMPLE ? ', …' : ''}` : '',
      d.remove.length ? `Delete (not in the export): ${sample(d.remove.map(recordLabel), d.remove.length)}` : '',
      d.extra.length ? `Kept: *${formatCount(d.extra.length)}* ${d.extra.length === 1 ? 'record set' : 'record sets'} not in the export (\`--delete-extra\` deletes ${d.extra.length === 1 ? 'it' : 'them'}), e.g. ${sample(d.extra.map(recordLabel), d.extra.length)}` : '',
      d.blocked.length
        ? `:warning: *${formatCount(d.blocked.length)}* ${oneBlocked ? 'record set cannot be restored while a live record set not in the export holds its name' : 'record sets cannot be restored while live record sets not in the export hold their names'}, e.g. ${d.blocked
            .slice(0, 3)
            .map((b) => `${code(recordLabel(b.record), 120)} (in the way: ${code(recordLabel(b.by), 120)})`)
            .join(', ')}; \`--delete-extra\` replaces ${oneBlocked ? 'it' : 'them'} in the same batch`
        : '',
      `Never touched: the SOA and the apex NS${d.untouched.trafficPolicy ? `, and ${recordSets(d.untouched.trafficPolicy)} of traffic policies` : ''}. Already as in the export: ${recordSets(d.unchanged)}.`,
    ].filter(Boolean);
    return {
      lines,
      empty: n === 0,
      data: {
        bucket,
        zoneId,
        zoneName: live.zone.name,
        key,
        sha256: exp.sha256,
        create: d.create.length,
        change: d.change.length,
        remove: d.remove.length,
        kept: d.extra.length,
        blocked: d.blocked.length,
        batches: batches.length,
      },
    };
  },

  async execute(ctx, deps, input, plan, progress) {
    const { s3 } = backupTarget(deps);
    const r53 = r53Of(deps);
    const setKey = changeSetKey(plan.zoneId, input.runId);

    // The diff again, now: the zone may have changed while the plan waited for its approval. The
    // change set is kept in the backup bucket (too big for a checkpoint at 10,000 records, and a
    // record of what was sent); each batch step reads it back, checked by its SHA-256.
    const prepared = await safeStep(ctx, 'diff', async () => {
      const exp = await readExport(s3, plan.bucket, plan.key);
      if (!exp || exp.sha256 !== plan.sha256) {
        throw new PreconditionError('export_changed', `The export ${code(plan.key)} changed or went away after the plan was made.`, 'Run the command again to plan from the export as it is now.');
      }
      const live = await readZone(r53, plan.zoneId);
      const d = diffZone(exp.doc.recordSets, live.recordSets, live.zone.name, { deleteExtra: input.deleteExtra });
      const batches = planBatches(d);
      const body = JSON.stringify({ format: 'drbot-route53-changes/1', runId: input.runId, zoneId: plan.zoneId, export: plan.key, batches });
      const sha256 = sha256Hex(body);
      await putObject(s3, plan.bucket, setKey, body, { 'drbot-run': input.runId, sha256, 'zone-id': plan.zoneId, batches: String(batches.length) });
      return { sha256, batches: batchSummaries(batches, d), kept: d.extra.length, blocked: d.blocked.length };
    });
    if (!prepared.ok) {
      return { ok: false, lines: [`:x: Nothing was changed: ${withHint(prepared)}`], failures: [prepared.message] };
    }
    const { batches } = prepared.value;

    let loading: Promise<Change[][]> | undefined;
    const changeSet = (): Promise<Change[][]> =>
      (loading ??= (async () => {
        const r = await s3.send(new GetObjectCommand({ Bucket: plan.bucket, Key: setKey })).catch((e: unknown) => {
          throw wrapAws(e, 'GetObject', `${plan.bucket}/${setKey}`);
        });
        const body = (await r.Body?.transformToString()) ?? '';
        if (sha256Hex(body) !== prepared.value.sha256) throw new DrbotError('change_set_changed', `The change set ${code(setKey)} changed while the run was applying it.`, 'Run the command again: it diffs afresh.');
        return (JSON.parse(body) as { batches: Change[][] }).batches;
      })().catch((e: unknown) => {
        loading = undefined;
        throw e;
      }));

    const all = sum(batches);
    const planned = total(all);
    let done = 0;
    let replayed = 0;
    const applied: BatchSummary[] = [];
    const pending: number[] = [];
    const unchecked: string[] = [];
    let stopped: { at: number; failure: StepFailure } | undefined;
    for (const [i, b] of batches.entries()) {
      const base = done;
      const r = await safeStep(ctx, `apply-${i}`, async () => {
        const changes = (await changeSet())[i] ?? [];
        const res = await applyBatch(r53, plan.zoneId, changes, `drbot ${input.runId}: restore batch ${i + 1} of ${batches.length}`);
        await progress.report(base + total(b), planned, 'changes applied');
        return res;
      });
      if (!r.ok) {
        stopped = { at: i, failure: r };
        break;
      }
      applied.push(b);
      done += total(b);
      if (r.value.replayed) replayed++;
      if (r.value.status === 'PENDING' && r.value.id) {
        const synced = await waitInsync(ctx, r53, `insync-${i}`, r.value.id, { delay: spacedDelay, maxChecks: spacedChecks(WAIT_MINUTES) });
        if (synced.error) unchecked.push(`batch ${i + 1}: ${synced.error}`);
        else if (synced.status !== 'INSYNC') pending.push(i + 1);
      }
    }

    const check = await safeStep(ctx, 'verify', async () => {
      const exp = await readExport(s3, plan.bucket, plan.key);
      if (!exp) throw new PreconditionError('export_changed', `The export ${code(plan.key)} went away during the run.`, 'Compare the zone by hand or make a new export.');
      const live = await readZone(r53, plan.zoneId);
      const d = diffZone(exp.doc.recordSets, live.recordSets, live.zone.name, { deleteExtra: input.deleteExtra });
      const left = [...d.create, ...d.blocked.map((x) => x.record), ...d.change.map((c) => c.to), ...(input.deleteExtra ? d.remove : [])];
      return { differences: differences(d, input.deleteExtra), kept: d.extra.length, sample: left.slice(0, SAMPLE).map(recordLabel) };
    });

    const got = sum(applied);
    const n = batches.length;
    const lines: string[] = [];
    const blocked = prepared.value.blocked;
    // No batch: the zone matched, or all that differs is record sets a live one not in the export blocks.
    if (n === 0 && blocked === 1) lines.push(`Nothing the run could write in ${code(plan.zoneName)}: the only difference, *1* record set from the export, is blocked by a live record set not in the export that holds its name (\`--delete-extra\` replaces it).`);
    else if (n === 0 && blocked) lines.push(`Nothing the run could write in ${code(plan.zoneName)}: the only differences, *${formatCount(blocked)}* record sets from the export, are blocked by live record sets not in the export that hold their names (\`--delete-extra\` replaces them).`);
    else if (n === 0) lines.push(`Nothing left to change in ${code(plan.zoneName)}: the zone already matched the export when the run started.`);
    else lines.push(`Applied *${formatCount(done)}* of ${plural(planned, 'change')} to ${code(plan.zoneName)} in ${formatCount(applied.length)} of ${formatCount(n)} change ${n === 1 ? 'batch' : 'batches'}: ${counts(got)}.`);
    if (replayed) lines.push(`${replayed === 1 ? 'One batch was' : `${replayed} batches were`} found already applied when retried (an earlier answer was lost), and not sent twice.`);
    if (applied.length && !pending.length && !unchecked.length) lines.push(`Route53 reported every applied batch INSYNC (on all its name servers).`);
    if (unchecked.length) lines.push(`:warning: Could not ask Route53 whether ${unchecked.length === 1 ? 'a batch is' : `${unchecked.length} batches are`} INSYNC (GetChange): ${unchecked.slice(0, 3).join('; ')}. The changes are made; only their propagation is unconfirmed.`);
    if (pending.length) lines.push(`:hourglass: ${pending.length === 1 ? 'batch' : 'batches'} ${pending.join(', ')} not INSYNC after ${WAIT_MINUTES} min of checking; Route53 still propagates ${pending.length === 1 ? 'it' : 'them'}.`);
    if (stopped) {
      const f = stopped.failure;
      const rest = sum(batches.slice(stopped.at));
      lines.push(`:x: Stopped at batch ${stopped.at + 1} of ${n}: ${withHint(f)}`);
      lines.push(
        `Applied: ${applied.length ? `${range(1, applied.length)} (${counts(got)})` : 'nothing'}. Not applied: ${range(stopped.at + 1, n)} (${formatCount(total(rest))} changes: ${formatCount(rest.create)} to create, ${formatCount(rest.change)} to change, ${formatCount(rest.remove)} to delete). Run the command again once that is fixed: it diffs afresh and applies only what still differs.`,
      );
    }
    if (!check.ok) lines.push(`:warning: Could not verify by listing the zone: ${withHint(check)}`);
    else if (check.value.differences === 0) {
      lines.push(
        `:mag: Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences.${check.value.kept ? ` ${recordSets(check.value.kept)} not in the export ${check.value.kept === 1 ? 'was kept (`--delete-extra` deletes it)' : 'were kept (`--delete-extra` deletes them)'}.` : ''}`,
      );
    } else {
      lines.push(`:warning: Verified by listing: *${formatCount(check.value.differences)}* ${check.value.differences === 1 ? 'difference from the export remains' : 'differences from the export remain'}, e.g. ${sample(check.value.sample, check.value.differences)}.`);
    }
    if (n) lines.push(`The change set sent is kept at ${code(`s3://${plan.bucket}/${setKey}`)}.`);
    const failures = [
      ...(stopped ? [`batch ${stopped.at + 1}: ${stopped.failure.message}`] : []),
      ...(check.ok ? (check.value.differences ? [`${plural(check.value.differences, 'difference from the export remains', 'differences from the export remain')} after the restore`] : []) : [`verify: ${check.message}`]),
    ];
    return { ok: !stopped && check.ok && check.value.differences === 0, lines, failures };
  },
};
