import type { S3Client } from '@aws-sdk/client-s3';
import { assertVersioned, compareKeys, DELETE_OBJECTS_MAX, deleteVersions, listVersionsPage, type VersionRef, type VersionsPage } from '../../aws/s3';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { AdaptiveWindows, partitionOf } from '../../util/aimd';
import { formatBytes, mapLimit } from '../../util/limit';
import { DrbotError, withHint } from '../../errors';
import { INLINE_PLAN, type Runbook, safeStep, step, type StepFailure, stepFailure } from '../driver';
import { bucketRegion } from '../resources';
import type { RestoreS3Input } from '.';

export type UndeleteInput = RestoreS3Input;

/** Pages listed per plan step at most, over all its partitions (a step also ends when its slice of markers is full). */
const PAGES_PER_STEP = 40;
/** First-level prefixes listed at once, each its own listing. */
const PARTITION_CONCURRENCY = 4;
/** More first-level prefixes than this, or more than one page of them, and the bucket is listed as one sequence. */
const MAX_PARTITIONS = 100;
/**
 * The markers one plan step keeps, in bytes of JSON: within the durable SDK's 256 KB checkpoint
 * with room for the rest of the step's result. Keys are up to 1,024 bytes, so a slice is counted
 * in bytes, not markers.
 */
export const SLICE_BYTES = 192 * 1024;
/** DeleteObjects calls (of up to 1,000 markers) in flight per prefix: the start, and the ceiling the window may climb to. */
const DELETE_WINDOW = { initial: 8, max: 32 };
/** DeleteObjects calls per execute step: one checkpoint every 16,000 markers at most. */
const BATCHES_PER_STEP = 16;
/** A batch that failed transiently after its step made progress is tried again this many times. */
const BATCH_RETRIES = 3;
const SAMPLE_KEYS = 5;
const MAX_REPORTED_FAILURES = 200;

/**
 * A delete marker to remove: [key, versionId, its LastModified in epoch seconds] (a tuple keeps the
 * checkpoints small). A version of the key newer than its marker was written after the plan listed it.
 */
export type MarkerRef = [string, string, number];

export interface UndeletePlan {
  count: number;
  bytes: number;
  olderSkipped: number;
  sample: string[];
  /** The markers to remove, as the plan listed them, in its checkpointed slices. */
  slices: MarkerRef[][];
}

interface Marker {
  keyMarker?: string;
  versionIdMarker?: string;
}

/** A delete marker is restorable when it is the key's newest version and within --since. */
function qualifies(m: { isLatest: boolean; lastModified: Date | string }, since?: string): boolean {
  return m.isLatest && (!since || new Date(m.lastModified).getTime() >= Date.parse(since));
}

function nextMarker(page: VersionsPage): Marker | undefined {
  if (!page.truncated) return undefined;
  return { ...(page.nextKeyMarker ? { keyMarker: page.nextKeyMarker } : {}), ...(page.nextVersionIdMarker ? { versionIdMarker: page.nextVersionIdMarker } : {}) };
}

/** The last key a page listed: every key before it is complete (a key's versions may go on over the next page). */
function lastKey(page: VersionsPage): string {
  const a = page.versions.at(-1)?.key ?? '';
  const b = page.deleteMarkers.at(-1)?.key ?? '';
  return compareKeys(a, b) > 0 ? a : b;
}

/**
 * Where one partition's listing has got to: a first-level prefix under the plan's prefix, or (with
 * `delimiter`) the keys directly under it. `want`: planned keys whose newest real version was not
 * listed yet (it may be on the next page).
 */
interface Cursor {
  prefix?: string;
  delimiter?: boolean;
  at: Marker;
  want: string[];
}

interface PlanSlice {
  markers: MarkerRef[];
  olderSkipped: number;
  /** Bytes of the newest real version of each planned key seen in this slice. */
  bytes: number;
  /** Versions and markers listed. */
  listed: number;
  /** The partitions still to list, in order. */
  cursors: Cursor[];
}

function listPage(s3: S3Client, input: UndeleteInput, c: Pick<Cursor, 'prefix' | 'delimiter'>, at: Marker): Promise<VersionsPage> {
  return listVersionsPage(s3, { bucket: input.bucket, ...(c.prefix ? { prefix: c.prefix } : {}), ...(c.delimiter ? { delimiter: '/' } : {}), ...at });
}

/**
 * Takes one page into the slice: its restorable markers (until the slice's markers fill
 * SLICE_BYTES: then it cuts after the marker that filled it), the size of what each one hides,
 * and the markers left alone as older than --since. Returns where the listing goes on.
 */
function takePage(slice: PlanSlice, fill: { size: number }, page: VersionsPage, want: Set<string>, since?: string): Marker | undefined {
  /** Where the slice filled up inside the page: the listing goes on after this marker. */
  let cut: { key: string; versionId: string } | undefined;
  let markers = 0;
  for (const m of page.deleteMarkers) {
    markers++;
    if (!m.isLatest) continue;
    if (!qualifies(m, since)) {
      slice.olderSkipped++;
      continue;
    }
    const ref: MarkerRef = [m.key, m.versionId, Math.floor(m.lastModified.getTime() / 1000)];
    slice.markers.push(ref);
    // In UTF-8 bytes, as the SDK measures a checkpoint (a key of CJK text is 3 bytes a character).
    fill.size += Buffer.byteLength(JSON.stringify(ref)) + 1;
    want.add(m.key);
    if (fill.size >= SLICE_BYTES) {
      cut = { key: m.key, versionId: m.versionId };
      break;
    }
  }
  // Versions come newest first per key: the first real one seen for a planned key is what returns.
  // After a cut, the cut key's versions (all older than its marker) and everything later are listed again.
  let versions = 0;
  for (const v of page.versions) {
    if (cut && compareKeys(v.key, cut.key) >= 0) break;
    versions++;
    if (want.delete(v.key)) slice.bytes += v.size;
  }
  // Keys before the last one listed are complete: a key with no real version left is not waited for.
  const last = cut?.key ?? lastKey(page);
  for (const k of want) if (compareKeys(k, last) < 0) want.delete(k);
  slice.listed += versions + markers;
  return cut ? { keyMarker: cut.key, versionIdMarker: cut.versionId } : nextMarker(page);
}

/** The rule the plan and the verify share: a listing splits by first-level prefix when one page of its `/` roll-up holds them all. */
function splitsByPrefix(rollUp: VersionsPage): boolean {
  return !rollUp.truncated && rollUp.commonPrefixes.length <= MAX_PARTITIONS;
}

function emptySlice(): PlanSlice {
  return { markers: [], olderSkipped: 0, bytes: 0, listed: 0, cursors: [] };
}

/**
 * The plan's first step: one page of the listing rolled up by `/`. When that one page holds every
 * first-level prefix (at most MAX_PARTITIONS), the keys directly under the plan's prefix are taken
 * from it and each first-level prefix becomes a partition of its own, listed beside the others;
 * otherwise the bucket is listed as one sequence from the start.
 */
async function firstSlice(s3: S3Client, input: UndeleteInput, onListed: (n: number) => void): Promise<PlanSlice> {
  const slice = emptySlice();
  const root: Cursor = { ...(input.prefix ? { prefix: input.prefix } : {}), delimiter: true, at: {}, want: [] };
  const page = await listPage(s3, input, root, {});
  if (!splitsByPrefix(page)) {
    slice.cursors = [{ ...(input.prefix ? { prefix: input.prefix } : {}), at: {}, want: [] }];
    return slice;
  }
  const want = new Set<string>();
  const next = takePage(slice, { size: Buffer.byteLength(JSON.stringify(page.commonPrefixes)) }, page, want, input.since);
  if (slice.listed) onListed(slice.listed);
  slice.cursors = [...(next ? [{ ...root, at: next, want: [...want] }] : []), ...page.commonPrefixes.map((prefix) => ({ prefix, at: {}, want: [] }))];
  return slice;
}

/**
 * One checkpointed slice of the plan's listing: its partitions listed PARTITION_CONCURRENCY at a
 * time, in order, until the slice's markers fill SLICE_BYTES, PAGES_PER_STEP pages were listed,
 * or every partition is done. A partition this step did not finish is where the next one starts.
 * A page is asked for only while the pages on their way are likely to fit (by the bytes a page has
 * added so far): a page that lands after the slice is full is listed again by the next step.
 */
async function listSlice(s3: S3Client, input: UndeleteInput, cursors: readonly Cursor[], onListed: (n: number) => void): Promise<PlanSlice> {
  const slice = emptySlice();
  // The cursors this step hands on (up to MAX_PARTITIONS prefixes of up to 1 KB) share its checkpoint.
  const fill = { size: Buffer.byteLength(JSON.stringify(cursors)) };
  let pages = 0;
  let taken = 0;
  let inFlight = 0;
  let landed = 0;
  const after: (Cursor | undefined)[] = [...cursors];
  const full = () => pages >= PAGES_PER_STEP || fill.size >= SLICE_BYTES;
  // The first pages go out together; after that, only as many as the room left is likely to hold.
  const room = () => inFlight === 0 || landed === 0 || fill.size + (inFlight + 1) * (fill.size / landed) <= SLICE_BYTES;
  const worker = async (): Promise<void> => {
    while (!full() && room() && taken < cursors.length) {
      const i = taken++;
      const c = cursors[i] as Cursor;
      const want = new Set(c.want);
      let at: Marker | undefined = c.at;
      while (at && !full() && room()) {
        pages++;
        inFlight++;
        let page: VersionsPage;
        try {
          page = await listPage(s3, input, c, at);
        } finally {
          inFlight--;
        }
        // Filled by another partition while this page was on its way: listed again by the next step.
        if (fill.size >= SLICE_BYTES) break;
        at = takePage(slice, fill, page, want, input.since);
        landed++;
        onListed(slice.listed);
      }
      after[i] = at ? { ...c, at, want: [...want] } : undefined;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: PARTITION_CONCURRENCY }, worker));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  slice.cursors = after.filter((c): c is Cursor => c !== undefined);
  return slice;
}

interface DeleteStep {
  deleted: number;
  /** Keys AWS refused one by one (AccessDenied on a version, …): all counted, the first few named. */
  keyFailures: number;
  failures: string[];
  /** Batches (indexes into the run's batch list) that failed as a whole: tried again, or reported. */
  failed: number[];
  /** Batches not started because another failed as a whole: tried again, their tries untouched. */
  skipped: number[];
  error?: StepFailure;
}

/** Per-key failures a step names (each line cut to 300 characters): its checkpoint stays small whatever AWS refuses. */
const STEP_FAILURES = 50;

/**
 * One checkpointed step of the execution: up to BATCHES_PER_STEP DeleteObjects calls over the
 * plan's markers, as many at a time per prefix as its adaptive window allows (it halves on
 * SlowDown and climbs back). Safe to replay: deleting a marker that is already
 * gone succeeds, so a retried step counts each of its markers once.
 *
 * When some batches fail after others were deleted, the step does not throw (a retry would count
 * the deleted ones again, as deleted a second time): it returns what it deleted and which batches
 * failed. When every batch fails, it throws, for the step's own retries.
 */
async function deleteStep(s3: S3Client, bucket: string, batches: readonly (readonly MarkerRef[])[], ids: readonly number[], windows: AdaptiveWindows, onDeleted: (doneInStep: number) => void): Promise<DeleteStep> {
  let done = 0;
  let stop = false;
  const results = await Promise.all(
    ids.map((id) => {
      const batch = batches[id] ?? [];
      const window = windows.for(partitionOf(batch[0]?.[0] ?? ''));
      return window.run(async () => {
        // A batch refused as a whole (access denied, throttled past its retries) stops the ones not yet started.
        if (stop) return { id, skipped: true as const };
        try {
          // The request's objects exist only while it is in flight: the plan's tuples are the list.
          const refs: VersionRef[] = batch.map(([key, versionId]) => ({ key, versionId }));
          const r = await deleteVersions(s3, bucket, refs, { concurrency: 1, onAnswer: (t) => window.answered(t) });
          done += r.deleted;
          onDeleted(done);
          return { id, ...r };
        } catch (e) {
          stop = true;
          return { id, error: e };
        }
      });
    }),
  );
  const out: DeleteStep = { deleted: 0, keyFailures: 0, failures: [], failed: [], skipped: [] };
  let error: unknown;
  for (const r of results) {
    if ('skipped' in r) out.skipped.push(r.id);
    else if ('error' in r) {
      out.failed.push(r.id);
      error ??= r.error;
    } else {
      out.deleted += r.deleted;
      out.keyFailures += r.errors.length;
      for (const e of r.errors.slice(0, STEP_FAILURES - out.failures.length)) out.failures.push(`${e.key}: ${e.code} ${e.message}`.slice(0, 300));
    }
  }
  if (error === undefined) return out;
  if (out.deleted === 0 && out.keyFailures === 0) throw error;
  out.error = error instanceof DrbotError ? stepFailure(error) : { code: 'error', message: String((error as Error)?.message ?? error), transient: true };
  return out;
}

interface Verified {
  /** Planned markers still the newest version of their key (not removed). */
  remaining: number;
  /** Restorable markers the plan did not list: deleted after the plan was made. */
  deletedSince: number;
  /** Planned keys whose newest version was written after the plan was made. */
  changedSince: number;
}

/** The one listing after the work: what is left of the plan, and what changed since it was made. */
async function verify(s3: S3Client, input: UndeleteInput, plan: UndeletePlan): Promise<Verified> {
  /** Planned key -> its marker (a key has one newest version, so one planned marker): the plan's own tuples, not copies. */
  const planned = new Map<string, MarkerRef>();
  for (const slice of plan.slices) for (const m of slice) planned.set(m[0], m);
  const v: Verified = { remaining: 0, deletedSince: 0, changedSince: 0 };
  const visit = (page: VersionsPage) => {
    for (const m of page.deleteMarkers) {
      if (!qualifies(m, input.since)) continue;
      if (planned.get(m.key)?.[1] === m.versionId) v.remaining++;
      else v.deletedSince++;
    }
    // What a removed marker hid is older than the marker: a newest version newer than it came after the plan.
    for (const o of page.versions) if (o.isLatest && Math.floor(o.lastModified.getTime() / 1000) > (planned.get(o.key)?.[2] ?? Infinity)) v.changedSince++;
  };
  const all = async (c: Pick<Cursor, 'prefix' | 'delimiter'>, from: Marker | undefined) => {
    for (let at = from; at; ) {
      const page = await listPage(s3, input, c, at);
      visit(page);
      at = nextMarker(page);
    }
  };
  // Split by first-level prefix as the plan was, decided afresh (prefixes may have come since).
  const prefix = input.prefix ? { prefix: input.prefix } : {};
  const first = await listPage(s3, input, { ...prefix, delimiter: true }, {});
  if (!splitsByPrefix(first)) {
    await all(prefix, {});
  } else {
    visit(first);
    await mapLimit(first.commonPrefixes, PARTITION_CONCURRENCY, (p) => all({ prefix: p }, {}));
  }
  return v;
}

function scope(input: UndeleteInput): string {
  return [`\`${input.bucket}\``, input.prefix !== undefined ? `under ${code(input.prefix)}` : '', input.since ? `deleted since ${input.since}` : ''].filter(Boolean).join(' ');
}

export const undeleteRunbook: Runbook<UndeleteInput, UndeletePlan> = {
  // The prefix is the user's text: the plan shows it as code; the title (bold, in the confirm dialog and the audit) leaves it out.
  title: (input) => `Undelete objects in ${input.bucket}${input.prefix !== undefined ? ' under a prefix' : ''}`,
  destructive: true,
  resources: (input) => [`s3:${input.bucket}`],
  // The plan's markers are the work list: kept in slices, one checkpointed step each.
  planInSteps: true,

  async plan(deps, input, run = INLINE_PLAN) {
    const s3 = deps.clients.s3(bucketRegion(deps.config, input.bucket));
    const versioning = await run.step('versioning', () => assertVersioned(s3, input.bucket));
    const p: UndeletePlan = { count: 0, bytes: 0, olderSkipped: 0, sample: [], slices: [] };
    let cursors: Cursor[] | undefined;
    let listed = 0;
    for (let i = 0; !cursors || cursors.length > 0; i++) {
      const from = cursors;
      const base = listed;
      // Progress is reported from inside the step only: code outside steps runs again on replay.
      const report = (n: number) => void run.progress.report(base + n, 0, 'Versions listed so far:');
      const s = await run.step(`list-${i}`, () => (from ? listSlice(s3, input, from, report) : firstSlice(s3, input, report)));
      if (s.markers.length) p.slices.push(s.markers);
      p.count += s.markers.length;
      p.bytes += s.bytes;
      p.olderSkipped += s.olderSkipped;
      for (const [key] of s.markers) if (p.sample.length < SAMPLE_KEYS) p.sample.push(key);
      listed += s.listed;
      cursors = s.cursors;
    }
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
    // Batches of references to the plan's tuples (a pointer each), not copies of the markers.
    const batches: MarkerRef[][] = [];
    let batch: MarkerRef[] = [];
    for (const slice of plan.slices) {
      for (const m of slice) {
        batch.push(m);
        if (batch.length === DELETE_OBJECTS_MAX) {
          batches.push(batch);
          batch = [];
        }
      }
    }
    if (batch.length) batches.push(batch);

    // Performance state only (not checkpointed): a replay starts the windows again.
    const windows = new AdaptiveWindows(DELETE_WINDOW);
    let queue = batches.map((_, i) => i);
    const tries = new Map<number, number>();
    let deleted = 0;
    let keyFailures = 0;
    const failures: string[] = [];
    let stopped: StepFailure | undefined;
    for (let i = 0; queue.length; i++) {
      const ids = queue.slice(0, BATCHES_PER_STEP);
      const base = deleted;
      const r = await safeStep(ctx, `undelete-${i}`, () => deleteStep(s3, input.bucket, batches, ids, windows, (n) => void progress.report(Math.min(base + n, plan.count), plan.count, 'restored')));
      if (!r.ok) {
        stopped = r;
        break;
      }
      deleted += r.value.deleted;
      keyFailures += r.value.keyFailures;
      failures.push(...r.value.failures.slice(0, MAX_REPORTED_FAILURES - failures.length));
      queue = queue.slice(ids.length);
      if (r.value.error) {
        // A transient failure after progress: its batches go again, in a new step with its own retries
        // (the ones not started because of it keep theirs).
        const again = r.value.failed.filter((id) => (tries.get(id) ?? 0) < BATCH_RETRIES);
        if (!r.value.error.transient || again.length < r.value.failed.length) {
          stopped = r.value.error;
          break;
        }
        for (const id of again) tries.set(id, (tries.get(id) ?? 0) + 1);
        queue = [...again, ...r.value.skipped, ...queue];
      }
    }
    const v = await step(ctx, 'verify', () => verify(s3, input, plan));
    const lines = [
      `Restored *${formatCount(deleted)}* objects in ${scope(input)} (${formatBytes(plan.bytes)} planned).`,
      stopped ? `:x: Stopped: ${withHint(stopped)}` : '',
      v.remaining === 0 && v.deletedSince === 0
        ? ':mag: Verified by listing: no restorable delete markers remain.'
        : v.remaining > 0
          ? `:warning: Verified by listing: ${formatCount(v.remaining)} of the planned delete markers still hide objects (failures below).`
          : ':mag: Verified by listing: every planned delete marker is gone.',
      v.deletedSince
        ? `:warning: ${formatCount(v.deletedSince)} ${v.deletedSince === 1 ? 'object was' : 'objects were'} deleted after the plan was made and ${v.deletedSince === 1 ? 'is' : 'are'} still deleted: run the command again to plan ${v.deletedSince === 1 ? 'its' : 'their'} restore.`
        : '',
      v.changedSince
        ? `:information_source: ${formatCount(v.changedSince)} ${v.changedSince === 1 ? 'key' : 'keys'} got a newer version after the plan was made, which stays current: removing the older delete marker changed nothing you can see.`
        : '',
      keyFailures > failures.length ? `${formatCount(keyFailures)} delete markers could not be removed; the first ${formatCount(failures.length)} are listed.` : '',
    ].filter(Boolean);
    return { ok: !stopped && keyFailures === 0 && v.remaining === 0, lines, failures: stopped ? [stopped.message, ...failures] : failures };
  },
};
