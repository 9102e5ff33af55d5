import type { S3Client } from '@aws-sdk/client-s3';
import { assertVersioned, type DeleteVersionsResult, deleteVersions, listVersionsPage } from '../../aws/s3';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { formatBytes, limiter } from '../../util/limit';
import { DrbotError } from '../../errors';
import { type Runbook, safeStep, step, type StepFailure, stepFailure } from '../driver';
import { bucketRegion } from '../resources';
import type { RunbookDeps } from '../types';
import type { RestoreS3Input } from '.';

export type UndeleteInput = RestoreS3Input;

/** Versions listed per step: one checkpoint every ~10 pages keeps a replay cheap. */
const PAGES_PER_STEP = 10;
const DELETE_CONCURRENCY = 4;
const SAMPLE_KEYS = 5;
const MAX_REPORTED_FAILURES = 200;

export interface UndeletePlan {
  count: number;
  bytes: number;
  olderSkipped: number;
  sample: string[];
}

interface Marker {
  keyMarker?: string;
  versionIdMarker?: string;
}

/** A delete marker is restorable when it is the key's newest version and within --since. */
function qualifies(m: { isLatest: boolean; lastModified: Date | string }, since?: string): boolean {
  return m.isLatest && (!since || new Date(m.lastModified).getTime() >= Date.parse(since));
}

/**
 * Walks the version listing once: counts the restorable delete markers and what they hide (the
 * size of the newest real version of each key, which becomes current again).
 */
async function survey(s3: S3Client, input: UndeleteInput): Promise<UndeletePlan> {
  const plan: UndeletePlan = { count: 0, bytes: 0, olderSkipped: 0, sample: [] };
  const wantSize = new Set<string>();
  let marker: Marker = {};
  for (;;) {
    const page = await listVersionsPage(s3, { bucket: input.bucket, ...(input.prefix ? { prefix: input.prefix } : {}), ...marker });
    for (const m of page.deleteMarkers) {
      if (!m.isLatest) continue;
      if (!qualifies(m, input.since)) {
        plan.olderSkipped++;
        continue;
      }
      plan.count++;
      wantSize.add(m.key);
      if (plan.sample.length < SAMPLE_KEYS) plan.sample.push(m.key);
    }
    for (const v of page.versions) {
      // Versions come newest first per key: the first one seen for a wanted key is what returns.
      if (wantSize.delete(v.key)) plan.bytes += v.size;
    }
    if (!page.truncated) break;
    marker = { ...(page.nextKeyMarker ? { keyMarker: page.nextKeyMarker } : {}), ...(page.nextVersionIdMarker ? { versionIdMarker: page.nextVersionIdMarker } : {}) };
  }
  return plan;
}

interface BatchResult {
  next?: Marker;
  deleted: number;
  failures: string[];
  /** The slice made progress and then failed: its count is kept, and the run goes on (or stops) from `next`. */
  error?: StepFailure;
}

/**
 * One checkpointed slice of the work: list up to PAGES_PER_STEP pages and delete their
 * restorable markers, pipelined (deletes of one page run while the next page is listed) with
 * at most DELETE_CONCURRENCY DeleteObjects calls in flight. Safe to replay: deleting a marker
 * that is already gone succeeds, and a deleted marker is not listed again.
 *
 * A failure after some markers were deleted does not throw (a retry from the slice's start would
 * no longer see those markers, and their count would be lost): the slice returns what it deleted
 * and where to go on from, the first page not fully done. A failure before anything was deleted
 * throws, for the step's own retries.
 */
async function undeleteSlice(s3: S3Client, input: UndeleteInput, from: Marker, onDeleted: (doneInSlice: number) => void): Promise<BatchResult> {
  const limit = limiter(DELETE_CONCURRENCY);
  const pages: { from: Marker; work: Promise<DeleteVersionsResult> }[] = [];
  let marker: Marker | undefined = from;
  let listing: { error: unknown; at: Marker } | undefined;
  let deleteFailed = false;
  let done = 0;
  for (let i = 0; i < PAGES_PER_STEP && marker && !deleteFailed; i++) {
    const at: Marker = marker;
    let page;
    try {
      page = await listVersionsPage(s3, { bucket: input.bucket, ...(input.prefix ? { prefix: input.prefix } : {}), ...at });
    } catch (e) {
      listing = { error: e, at };
      break;
    }
    const items = page.deleteMarkers.filter((m) => qualifies(m, input.since)).map((m) => ({ key: m.key, versionId: m.versionId }));
    if (items.length) {
      const work = limit(async () => {
        const r = await deleteVersions(s3, input.bucket, items, { concurrency: 1 });
        done += r.deleted;
        onDeleted(done);
        return r;
      });
      // Observed at once: a failed delete stops the listing, and is never an unhandled rejection.
      work.catch(() => {
        deleteFailed = true;
      });
      pages.push({ from: at, work });
    }
    marker = page.truncated
      ? { ...(page.nextKeyMarker ? { keyMarker: page.nextKeyMarker } : {}), ...(page.nextVersionIdMarker ? { versionIdMarker: page.nextVersionIdMarker } : {}) }
      : undefined;
  }
  const settled = await Promise.allSettled(pages.map((p) => p.work));
  let deleted = 0;
  const failures: string[] = [];
  let failed: { error: unknown; at: Marker } | undefined;
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      deleted += r.value.deleted;
      failures.push(...r.value.errors.map((e) => `${e.key}: ${e.code} ${e.message}`));
    } else failed ??= { error: r.reason, at: pages[i]?.from ?? from };
  });
  failed ??= listing;
  const kept = failures.slice(0, MAX_REPORTED_FAILURES);
  if (!failed) return { ...(marker ? { next: marker } : {}), deleted, failures: kept };
  if (deleted === 0) throw failed.error;
  const error = failed.error instanceof DrbotError ? stepFailure(failed.error) : { code: 'error', message: String((failed.error as Error)?.message ?? failed.error), transient: true };
  return { next: failed.at, deleted, failures: kept, error };
}

function scope(input: UndeleteInput): string {
  return [`\`${input.bucket}\``, input.prefix !== undefined ? `under ${code(input.prefix)}` : '', input.since ? `deleted since ${input.since}` : ''].filter(Boolean).join(' ');
}

export const undeleteRunbook: Runbook<UndeleteInput, UndeletePlan> = {
  // The prefix is the user's text: the plan shows it as code; the title (bold, in the confirm dialog and the audit) leaves it out.
  title: (input) => `Undelete objects in ${input.bucket}${input.prefix !== undefined ? ' under a prefix' : ''}`,
  destructive: true,
  resources: (input) => [`s3:${input.bucket}`],

  async plan(deps: RunbookDeps, input) {
    const s3 = deps.clients.s3(bucketRegion(deps.config, input.bucket));
    const versioning = await assertVersioned(s3, input.bucket);
    const p = await survey(s3, input);
    const lines = [
      `Bucket ${scope(input)}`,
      `*${formatCount(p.count)}* deleted objects ${input.dryRun ? 'would be' : 'will be'} restored (${formatBytes(p.bytes)}) by removing their delete markers`,
      p.sample.length ? `e.g. ${p.sample.map((k) => code(k)).join(', ')}${p.count > p.sample.length ? ', …' : ''}` : '',
      p.olderSkipped ? `Not touched: ${formatCount(p.olderSkipped)} delete markers older than --since` : '',
      'Not touched: objects that are not deleted, and older versions (nothing is overwritten or removed)',
      versioning === 'Suspended' ? ':warning: Versioning is *Suspended* on this bucket: deletions made from now on cannot be undone until it is re-enabled.' : '',
    ].filter(Boolean);
    return { lines, empty: p.count === 0, data: p };
  },

  async execute(ctx, deps, input, plan, progress) {
    const s3 = deps.clients.s3(bucketRegion(deps.config, input.bucket));
    let marker: Marker | undefined = {};
    let deleted = 0;
    const failures: string[] = [];
    let stopped: StepFailure | undefined;
    for (let i = 0; marker; i++) {
      const from: Marker = marker;
      const base = deleted;
      // Progress is reported from inside the step only: code outside steps runs again on replay.
      const r = await safeStep(ctx, `undelete-${i}`, async () =>
        undeleteSlice(s3, input, from, (n) => {
          void progress.report(Math.min(base + n, plan.count), plan.count, 'restored');
        }),
      );
      if (!r.ok) {
        stopped = r;
        break;
      }
      deleted += r.value.deleted;
      failures.push(...r.value.failures);
      marker = r.value.next;
      // A transient failure after progress goes on from where it stopped, in a new step with its own retries.
      if (r.value.error && !r.value.error.transient) {
        stopped = r.value.error;
        break;
      }
    }
    const remaining = await step(ctx, 'verify', async () => (await survey(s3, input)).count);
    const lines = [
      `Restored *${formatCount(deleted)}* objects in ${scope(input)} (${formatBytes(plan.bytes)} planned).`,
      stopped ? `:x: Stopped: ${stopped.message}${stopped.hint ? ` ${stopped.hint}` : ''}` : '',
      remaining === 0
        ? ':mag: Verified by listing: no restorable delete markers remain.'
        : `:warning: Verified by listing: ${formatCount(remaining)} delete markers still hide objects (new deletions, or failures below).`,
    ].filter(Boolean);
    return { ok: !stopped && failures.length === 0 && remaining === 0, lines, failures: stopped ? [stopped.message, ...failures] : failures };
  },
};
