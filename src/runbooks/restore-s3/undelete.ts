import type { S3Client } from '@aws-sdk/client-s3';
import { assertVersioned, deleteVersions, listVersionsPage } from '../../aws/s3';
import { escapeMrkdwn } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { formatBytes, limiter } from '../../util/limit';
import { type Runbook, STEP } from '../driver';
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
}

/**
 * One checkpointed slice of the work: list up to PAGES_PER_STEP pages and delete their
 * restorable markers, pipelined (deletes of one page run while the next page is listed) with
 * at most DELETE_CONCURRENCY DeleteObjects calls in flight. Safe to replay: deleting a marker
 * that is already gone succeeds.
 */
async function undeleteSlice(s3: S3Client, input: UndeleteInput, from: Marker, onDeleted: (doneInSlice: number) => void): Promise<BatchResult> {
  const limit = limiter(DELETE_CONCURRENCY);
  const inflight: Promise<{ deleted: number; errors: { key: string; versionId: string; code: string; message: string }[] }>[] = [];
  let marker: Marker | undefined = from;
  let done = 0;
  try {
  for (let i = 0; i < PAGES_PER_STEP && marker; i++) {
    const page = await listVersionsPage(s3, { bucket: input.bucket, ...(input.prefix ? { prefix: input.prefix } : {}), ...marker });
    const items = page.deleteMarkers.filter((m) => qualifies(m, input.since)).map((m) => ({ key: m.key, versionId: m.versionId }));
    if (items.length) {
      inflight.push(
        limit(async () => {
          const r = await deleteVersions(s3, input.bucket, items, { concurrency: 1 });
          done += r.deleted;
          onDeleted(done);
          return r;
        }),
      );
    }
    marker = page.truncated
      ? { ...(page.nextKeyMarker ? { keyMarker: page.nextKeyMarker } : {}), ...(page.nextVersionIdMarker ? { versionIdMarker: page.nextVersionIdMarker } : {}) }
      : undefined;
  }
  } catch (e) {
    // A listing failed mid-slice: let the deletes already under way finish (and any rejection be
    // observed) before the step fails and is retried from its starting marker.
    await Promise.allSettled(inflight);
    throw e;
  }
  const results = await Promise.all(inflight);
  return {
    ...(marker ? { next: marker } : {}),
    deleted: results.reduce((n, r) => n + r.deleted, 0),
    failures: results.flatMap((r) => r.errors.map((e) => `${e.key}: ${e.code} ${e.message}`)).slice(0, MAX_REPORTED_FAILURES),
  };
}

function scope(input: UndeleteInput): string {
  return [`\`${input.bucket}\``, input.prefix ? `under \`${escapeMrkdwn(input.prefix)}\`` : '', input.since ? `deleted since ${input.since}` : ''].filter(Boolean).join(' ');
}

export const undeleteRunbook: Runbook<UndeleteInput, UndeletePlan> = {
  title: (input) => `Undelete objects in ${input.bucket}${input.prefix ? `/${input.prefix}` : ''}`,
  destructive: true,

  async plan(deps: RunbookDeps, input) {
    const s3 = deps.clients.s3(bucketRegion(deps.config, input.bucket));
    const versioning = await assertVersioned(s3, input.bucket);
    const p = await survey(s3, input);
    const lines = [
      `Bucket ${scope(input)}`,
      `*${formatCount(p.count)}* deleted objects will be restored (${formatBytes(p.bytes)}) by removing their delete markers`,
      p.sample.length ? `e.g. ${p.sample.map((k) => `\`${escapeMrkdwn(k)}\``).join(', ')}${p.count > p.sample.length ? ', …' : ''}` : '',
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
    for (let i = 0; marker; i++) {
      const from: Marker = marker;
      const base = deleted;
      // Progress is reported from inside the step only: code outside steps runs again on replay.
      const r: BatchResult = await ctx.step(
        `undelete-${i}`,
        async () =>
          undeleteSlice(s3, input, from, (n) => {
            void progress.report(Math.min(base + n, plan.count), plan.count, 'restored');
          }),
        STEP,
      );
      deleted += r.deleted;
      failures.push(...r.failures);
      marker = r.next;
    }
    const remaining = await ctx.step('verify', async () => (await survey(s3, input)).count, STEP);
    const lines = [
      `Restored *${formatCount(deleted)}* objects in ${scope(input)} (${formatBytes(plan.bytes)} planned).`,
      remaining === 0
        ? ':mag: Verified by listing: no restorable delete markers remain.'
        : `:warning: Verified by listing: ${formatCount(remaining)} delete markers still hide objects (new deletions, or failures below).`,
    ];
    return { ok: failures.length === 0 && remaining === 0, lines, failures };
  },
};
