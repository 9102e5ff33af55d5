import { CopyImageCommand, CreateTagsCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { backupCopies, describeAllImages, tagOf, taggedImages } from '../../aws/ec2';
import { wrapAws } from '../../errors';
import { formatCount } from '../../slack/views/run';
import { type Runbook, safeStep, STEP } from '../driver';
import { ymd } from '../exports';
import { type Copy, executePrune, planPrune, pruneLines, pruneResultLines } from '../retention';
import type { RunbookDeps } from '../types';
import type { BackupAmisInput } from '.';
import { amiCopies, copyState, deleteAmiCopy, isOurCopy, snapshotsOf } from './prune';

const POLL_SECONDS = 30;
/** An AMI copy takes minutes to an hour or more; after this we report and stop waiting. */
const MAX_POLLS = 240;
/** AMI names are at most 128 characters. */
const NAME_MAX = 128;
/** The result lists this many copies, then counts the rest (a Slack section holds 3,000 characters). */
const MAX_LISTED = 30;

/**
 * `<name>-backup-<date>`. A name too long for that (AMI names are unique in a region, at most 128
 * characters) is cut and keeps the source image's ID before the suffix, so two images whose names
 * share their first characters never ask for the same copy name (AWS would refuse the second).
 */
export const copyName = (name: string, date: string, sourceId: string): string => {
  const suffix = `-backup-${date}`;
  if (name.length + suffix.length <= NAME_MAX) return `${name}${suffix}`;
  const id = `-${sourceId}`;
  return `${name.slice(0, NAME_MAX - suffix.length - id.length)}${id}${suffix}`;
};

/** The source image's name a copy's name holds: copyName's `-backup-<date>` taken off, and the source ID a cut name keeps. */
export function sourceNameOf(copy: string, sourceId: string): string {
  const base = copy.replace(/-backup-\d{8}$/, '');
  return base.endsWith(`-${sourceId}`) ? base.slice(0, -(sourceId.length + 1)) : base;
}

interface Target {
  sourceId: string;
  sourceName: string;
  copyName: string;
  /** Set when today's copy already exists. */
  existing?: string;
  /** Today's copy of this image that failed: deregistered before the copy is made again (it holds the name). */
  replaces?: string;
}

export interface AmiPlan {
  targets: Target[];
  /** drbot's copies past retention, deregistered once the new copies are settled (with --prune). */
  prune?: Copy[];
  /** Each pruned copy's EBS snapshots, read at plan time: after DeregisterImage nothing names them. */
  snapshots?: Record<string, string[]>;
}

/** A copy that failed, drbot's to deregister before copying again (a disabled image, someone's decision, is not). */
const FAILED = new Set(['failed', 'invalid', 'error']);

/** Today's copy of an image, if drbot already made it (tagged, in the backup region) and it is or may become usable (as the prune judges a copy). */
function findCopy(copies: Image[], sourceId: string, name: string): Image | undefined {
  return copies.find((c) => tagOf(c, 'source-ami') === sourceId && c.Name === name && c.State !== 'deregistered' && copyState(c) !== 'failed');
}

/**
 * Today's copy of an image that failed. AMI names are unique in a region, so it holds the name the
 * copy is made again under: drbot's own (its tags), of no use, it is deregistered first.
 */
function failedCopy(copies: Image[], sourceId: string, name: string): Image | undefined {
  return copies.find((c) => tagOf(c, 'source-ami') === sourceId && c.Name === name && FAILED.has(c.State ?? '') && isOurCopy(c));
}

async function copyOne(deps: RunbookDeps, input: BackupAmisInput, t: Target): Promise<string> {
  const { primary, backup } = deps.config.regions;
  const ec2: EC2Client = deps.clients.ec2(backup);
  // Look first: a replayed step, a retry or a second run the same day finds the copy and makes none.
  const copies = await backupCopies(ec2, backup);
  const found = findCopy(copies, t.sourceId, t.copyName);
  if (found?.ImageId) return found.ImageId;
  const failed = failedCopy(copies, t.sourceId, t.copyName)?.ImageId;
  if (failed) await deleteAmiCopy(ec2, failed, []);
  const tags = [
    { Key: 'backup', Value: 'true' },
    { Key: 'source-ami', Value: t.sourceId },
    { Key: 'drbot-run', Value: input.runId },
  ];
  const r = await ec2
    .send(
      new CopyImageCommand({
        SourceRegion: primary,
        SourceImageId: t.sourceId,
        Name: t.copyName,
        Description: `drbot backup of ${t.sourceId} (${t.sourceName}) from ${primary}`,
        // A retried or replayed step of this run gets the first copy back instead of a second one.
        // (Per run, not per day: a copy deregistered today must not come back as the answer.)
        ClientToken: `drbot-${input.runId}-${t.sourceId}`.slice(0, 64),
        TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
      }),
    )
    .catch((e: unknown) => {
      throw wrapAws(e, 'CopyImage', t.sourceId);
    });
  const id = r.ImageId ?? '';
  // Tag again: moto (and older APIs) ignore CopyImage's TagSpecifications; CreateTags is idempotent.
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tags })).catch((e: unknown) => {
    throw wrapAws(e, 'CreateTags', id);
  });
  return id;
}

type CopyState = { sourceId: string; copyId: string; name: string; state: string; reason?: string };

const copyAmis: Runbook<BackupAmisInput, AmiPlan> = {
  title: () => 'Copy of the tagged AMIs to the backup region',
  destructive: false,

  async plan(deps, input) {
    const { primary, backup } = deps.config.regions;
    const { tagKey, tagValue } = deps.config.ami;
    const [sources, copies] = await Promise.all([taggedImages(deps.clients.ec2(primary), tagKey, tagValue, primary), backupCopies(deps.clients.ec2(backup), backup)]);
    const date = ymd(input.requestedAt);
    const targets: Target[] = sources
      .filter((i) => i.ImageId && i.State === 'available')
      .map((i) => {
        const name = copyName(i.Name ?? i.ImageId ?? '', date, i.ImageId ?? '');
        const existing = findCopy(copies, i.ImageId ?? '', name)?.ImageId;
        const replaces = existing ? undefined : failedCopy(copies, i.ImageId ?? '', name)?.ImageId;
        return { sourceId: i.ImageId ?? '', sourceName: i.Name ?? '', copyName: name, ...(existing ? { existing } : {}), ...(replaces ? { replaces } : {}) };
      })
      .sort((a, b) => a.sourceName.localeCompare(b.sourceName));
    const todo = targets.filter((t) => !t.existing);
    const notReady = sources.filter((i) => i.State !== 'available');
    const lines = [
      sources.length
        ? `*${formatCount(sources.length)}* ${sources.length === 1 ? 'image' : 'images'} tagged \`${tagKey}=${tagValue}\` in ${primary}; ${input.dryRun ? 'would copy' : 'copies'} *${formatCount(todo.length)}* to ${backup}${targets.length > todo.length ? ` (${targets.length - todo.length} already copied today)` : ''}`
        : `No image in ${primary} carries the tag \`${tagKey}=${tagValue}\`: nothing to copy. Check \`ami.tagKey\` / \`ami.tagValue\` in the drbot config.`,
      ...targets.slice(0, 20).map((t) => `• \`${t.sourceId}\` ${t.sourceName} → \`${t.copyName}\`${t.existing ? ` (exists: \`${t.existing}\`)` : ''}${t.replaces ? ` (replaces today's failed copy \`${t.replaces}\`, deregistered first)` : ''}`),
      ...(targets.length > 20 ? [`…and ${targets.length - 20} more`] : []),
      ...notReady.map((i) => `• \`${i.ImageId ?? ''}\` ${i.Name ?? ''} is ${i.State ?? 'unknown'}, not copied`),
      'Copies only: no source image is changed.',
    ];
    if (!input.prune) return { lines, empty: todo.length === 0, data: { targets } };
    const retention = deps.config.retention.amiCopyDays;
    const pruning = planPrune(amiCopies(copies), retention, deps.now());
    lines.push(...pruneLines(pruning, [`AMI copy in ${backup}`, `AMI copies in ${backup}`], retention, input.dryRun));
    const snapshots = Object.fromEntries(pruning.delete.map((c) => [c.id, snapshotsOf(copies.find((im) => im.ImageId === c.id) ?? {})]));
    const snapshotCount = Object.values(snapshots).reduce((n, s) => n + s.length, 0);
    if (pruning.delete.length) lines.push(`Deleting a copy deregisters the image, then deletes its EBS snapshots (${formatCount(snapshotCount)} in all).`);
    return { lines, empty: todo.length === 0 && pruning.delete.length === 0, data: { targets, prune: pruning.delete, snapshots } };
  },

  async execute(ctx, deps, input, plan, progress) {
    const backup = deps.config.regions.backup;
    const failures: string[] = [];
    const todo = plan.targets.filter((t) => !t.existing);
    let states: CopyState[] = [];
    for (const [i, t] of todo.entries()) {
      const r = await safeStep(ctx, `copy-${t.sourceId}`, async () => {
        try {
          return await copyOne(deps, input, t);
        } finally {
          await progress.report(i + 1, todo.length, 'copies started');
        }
      });
      if (r.ok) states.push({ sourceId: t.sourceId, copyId: r.value, name: t.copyName, state: 'pending' });
      else failures.push(`${t.sourceId} (${t.sourceName}): ${r.message}`);
    }

    for (let poll = 0; poll <= MAX_POLLS && states.some((s) => s.state === 'pending'); poll++) {
      const prev = states;
      states = await ctx.step(
        `check-${poll}`,
        async () => {
          const ids = prev.filter((s) => s.state === 'pending').map((s) => s.copyId);
          const images = await describeAllImages(deps.clients.ec2(backup), { ImageIds: ids }, `copies in ${backup}`);
          const byId = new Map(images.map((im) => [im.ImageId, im]));
          const next = prev.map((s): CopyState => {
            if (s.state !== 'pending') return s;
            const im = byId.get(s.copyId);
            if (!im) return s;
            const reason = im.StateReason?.Message;
            return { ...s, state: im.State ?? 'pending', ...(reason ? { reason } : {}) };
          });
          await progress.report(next.filter((s) => s.state === 'available').length, next.length, 'copies available');
          return next;
        },
        STEP,
      );
      // MAX_POLLS waits, a check before each and one after the last: the time said is the time waited.
      if (poll < MAX_POLLS && states.some((s) => s.state === 'pending')) await ctx.wait(`wait-${poll}`, { seconds: POLL_SECONDS });
    }
    for (const s of states) if (s.state !== 'available' && s.state !== 'pending') failures.push(`${s.sourceId}: copy \`${s.copyId}\` ${s.state}${s.reason ? `: ${s.reason}` : ''}`);
    const pending = states.filter((s) => s.state === 'pending');
    const available = states.filter((s) => s.state === 'available');
    const skipped = plan.targets.length - todo.length;
    const lines = [
      todo.length ? `${formatCount(available.length)} of ${formatCount(todo.length)} copies available in ${backup}${skipped ? `; ${skipped} already copied today` : ''}:` : `No new copy to make in ${backup}${skipped ? `: ${skipped} already copied today` : ''}.`,
      ...states.slice(0, MAX_LISTED).map((s) => `• \`${s.sourceId}\` → \`${s.copyId}\` ${s.name}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`),
      ...(states.length > MAX_LISTED ? [`…and ${formatCount(states.length - MAX_LISTED)} more`] : []),
      // a copy's failure is on its line; one past the list, or a copy never started, gets its own
      ...failures.filter((f) => !states.slice(0, MAX_LISTED).some((s) => f.startsWith(`${s.sourceId}:`))).map((f) => `:x: ${f}`),
      ...(pending.length ? [`:hourglass: ${pending.length} still pending after ${(MAX_POLLS * POLL_SECONDS) / 3600} h; check \`/dr status\` later.`] : []),
    ];
    if (plan.prune?.length) {
      // The planner kept the newest available copy of each image that existed at plan time, so pruning
      // does not wait on today's copies: a failed copy today still leaves that one.
      const ec2 = deps.clients.ec2(backup);
      const pruned = await executePrune(ctx, 'ami', plan.prune, (c) => deleteAmiCopy(ec2, c.id, plan.snapshots?.[c.id] ?? []).then(() => undefined));
      lines.push(...pruneResultLines(pruned, 'old AMI copy (deregistered, its snapshots deleted)', 'old AMI copies (deregistered, their snapshots deleted)'));
      failures.push(...pruned.failures);
    }
    return { ok: failures.length === 0 && pending.length === 0, lines, failures };
  },
};

/**
 * Pruning deletes: a person's --prune waits for an approval of the plan that lists what goes. A
 * scheduled run prunes by the config's retention (reviewed policy) without waiting on anyone.
 */
export const runbook = (input: BackupAmisInput): Runbook<BackupAmisInput, AmiPlan> => (input.prune && !input.schedule ? { ...copyAmis, destructive: true } : copyAmis);
