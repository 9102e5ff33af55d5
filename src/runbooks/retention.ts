import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { code, escapeMrkdwn, oneLine } from '../slack/views/format';
import { formatCount, plural } from '../slack/views/run';
import { safeStep } from './driver';

/*
 * Retention: which of drbot's own copies to delete. A pure planner over a list of copies, shared by
 * every backup verb (DynamoDB on-demand backups, IAM and Route53 exports, AMI copies, …): each verb
 * lists what exists with its creator markers, the planner decides, the verb deletes in steps.
 *
 * The rules, in order:
 *   1. anything drbot did not create (its tag or name pattern says so) is never deleted;
 *   2. a copy still being made is never deleted;
 *   3. the newest good copy of each thing is kept, however old it is;
 *   4. a copy something still points at (a `latest` pointer, a Lambda alias) is kept;
 *   5. the rest is deleted once older than the retention; `forever` deletes nothing.
 */

export interface Copy {
  /** What deleting it needs: a backup ARN, an `key@versionId`, an image ID. */
  id: string;
  /** The thing it is a copy of (a table, `iam`, a source image): the newest good copy is kept per group. */
  group: string;
  /** ISO time it was made. */
  createdAt: string;
  /** good: complete and usable; pending: still being made; failed: unusable. */
  state: 'good' | 'pending' | 'failed';
  /** drbot's tag or name pattern is on it. */
  ours: boolean;
  /** How the plan names it (defaults to the id). */
  label?: string;
  /** Still in use, and by what (`the latest pointer`, `alias production`): never deleted. */
  pinned?: string;
}

export type Retention = number | 'forever';

export type KeepReason = 'newest-good' | 'within-retention' | 'pending' | 'in-use' | 'forever' | 'unknown-age';

export interface PrunePlan {
  /** Oldest first. */
  delete: Copy[];
  keep: { copy: Copy; reason: KeepReason }[];
  /** Not drbot's: listed to say so, never touched. */
  foreign: Copy[];
}

const DAY_MS = 86_400_000;

/** Decides what to delete of `copies` under `retentionDays` at `now`. Pure. */
export function planPrune(copies: readonly Copy[], retentionDays: Retention, now: Date): PrunePlan {
  const plan: PrunePlan = { delete: [], keep: [], foreign: [] };
  const ours = copies.filter((c) => {
    if (!c.ours) plan.foreign.push(c);
    return c.ours;
  });
  const time = (c: Copy) => Date.parse(c.createdAt);
  const newestGood = new Map<string, Copy>();
  for (const c of ours) {
    if (c.state !== 'good' || Number.isNaN(time(c))) continue;
    const best = newestGood.get(c.group);
    // Two made at the same instant (S3 times have one-second resolution): the larger id, whatever the list order.
    if (!best || time(c) > time(best) || (time(c) === time(best) && c.id > best.id)) newestGood.set(c.group, c);
  }
  const cutoff = retentionDays === 'forever' ? -Infinity : now.getTime() - retentionDays * DAY_MS;
  for (const c of ours) {
    const t = time(c);
    if (Number.isNaN(t)) plan.keep.push({ copy: c, reason: 'unknown-age' });
    else if (c.state === 'pending') plan.keep.push({ copy: c, reason: 'pending' });
    else if (newestGood.get(c.group) === c) plan.keep.push({ copy: c, reason: 'newest-good' });
    else if (c.pinned) plan.keep.push({ copy: c, reason: 'in-use' });
    else if (retentionDays === 'forever') plan.keep.push({ copy: c, reason: 'forever' });
    else if (t >= cutoff) plan.keep.push({ copy: c, reason: 'within-retention' });
    else plan.delete.push(c);
  }
  plan.delete.sort((a, b) => time(a) - time(b));
  return plan;
}

const MAX_NAMED = 8;

/** The plan's lines for a prune: what goes, what stays and why, what is not ours. `what`: a copy's name, one and many. */
export function pruneLines(plan: PrunePlan, what: readonly [one: string, many: string], retentionDays: Retention, dryRun: boolean): string[] {
  const verb = dryRun ? 'Would delete' : 'Deletes';
  const named = plan.delete.slice(0, MAX_NAMED).map((c) => `${code(c.label ?? c.id)} (${c.createdAt.slice(0, 10)})`);
  const more = plan.delete.length > MAX_NAMED ? ` and ${formatCount(plan.delete.length - MAX_NAMED)} more` : '';
  const kept = plan.keep.filter((k) => k.reason === 'newest-good').length;
  const inUse = plan.keep.filter((k) => k.reason === 'in-use');
  const used = inUse.slice(0, MAX_NAMED).map((k) => `${code(k.copy.label ?? k.copy.id)} (${escapeMrkdwn(oneLine(k.copy.pinned ?? 'in use'))})`);
  const age = retentionDays === 'forever' ? 'kept forever' : `older than ${retentionDays} days`;
  return [
    plan.delete.length
      ? `Prune: ${verb.toLowerCase()} ${plural(plan.delete.length, what[0], what[1])} ${age}: ${named.join(', ')}${more}`
      : `Prune: no ${what[1]} ${retentionDays === 'forever' ? 'to delete (kept forever)' : age} beyond the newest of each.`,
    `Prune keeps the newest good copy of each (${formatCount(kept)}), whatever its age${inUse.length ? `; ${formatCount(inUse.length)} still in use: ${used.join(', ')}${inUse.length > MAX_NAMED ? '…' : ''}` : ''}${plan.foreign.length ? `; ${formatCount(plan.foreign.length)} not made by drbot, never touched` : ''}.`,
  ];
}

export interface PruneResult {
  deleted: string[];
  failures: string[];
}

/**
 * Deletes the planned copies, each in its own checkpointed step (a replay skips those done).
 * A failed delete is reported and the rest go on; `remove` should treat "already gone" as done.
 */
export async function executePrune(ctx: DurableContext, name: string, copies: readonly Copy[], remove: (c: Copy) => Promise<void>): Promise<PruneResult> {
  const out: PruneResult = { deleted: [], failures: [] };
  for (const [i, c] of copies.entries()) {
    const r = await safeStep(ctx, `prune-${name}-${i}`, () => remove(c));
    if (r.ok) out.deleted.push(c.label ?? c.id);
    else out.failures.push(`${c.label ?? c.id}: ${r.message}`);
  }
  return out;
}

/** `:wastebasket: Pruned 1 old export.`: `one` and `many` name what was deleted, by its count. */
export function pruneResultLines(r: PruneResult, one: string, many = `${one}s`): string[] {
  if (!r.deleted.length && !r.failures.length) return [];
  return [`:wastebasket: Pruned ${plural(r.deleted.length, one, many)}${r.failures.length ? `; ${formatCount(r.failures.length)} could not be deleted` : ''}.`];
}
