import type { S3Client } from '@aws-sdk/client-s3';
import { compareKeys, copyObjectServerSide, type ListedObject, listObjects } from '../../aws/s3';
import { retryWait } from '../../aws/retry-wait';
import { DrbotError, withHint } from '../../errors';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { AdaptiveWindows, partitionOf } from '../../util/aimd';
import { formatBytes, limiter, mapLimit } from '../../util/limit';
import { type Runbook, safeStep, step, type StepFailure, stepFailure } from '../driver';
import { bucketRegion, replicaOf } from '../resources';
import type { RunbookDeps } from '../types';
import type { RestoreS3Input } from '.';

export type ReplicaInput = RestoreS3Input;

/** Copies in flight per prefix: the start, and the ceiling the adaptive window may climb to. */
const COPY_WINDOW = { initial: 8, max: 48 };
/** Copies in flight over all prefixes (a bucket may have thousands of first-level prefixes). */
const COPY_MAX_IN_FLIGHT = 64;
/** Copies started per checkpointed step at most: a step ends after them, at the last key it looked at. */
const COPIES_PER_STEP = 2000;
/** Keys looked at per step at most, so a long run of identical objects still checkpoints its place. */
const KEYS_PER_STEP = 50_000;
/** A step that failed after progress (a listing page refused) goes on from where it stopped this many times. */
const RESUMES = 3;
const SAMPLE_KEYS = 5;
const MAX_REPORTED_FAILURES = 200;
/** Key ranges of the verify listed at a time (each lists both buckets, a page ahead). */
const VERIFY_RANGES_IN_FLIGHT = 6;
/** Waits between retries of one copy that AWS throttled or answered with a 5xx (each under a second). */
const COPY_RETRY_MS = [200, 400, 800];

/** One copy, retried in place when AWS throttles or fails transiently: a copy is idempotent, and a throttled key is not a lost key. */
async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = COPY_RETRY_MS[attempt];
      if (wait === undefined || !(e instanceof DrbotError) || !(e.code === 'aws_throttled' || e.code === 'aws_error')) throw e;
      await retryWait(wait);
    }
  }
}

/** One key of either bucket, as the merge of the two listings meets it. */
export interface Pair {
  key: string;
  primary?: ListedObject;
  replica?: ListedObject;
}

export type Verdict = 'missing' | 'different' | 'same' | 'onlyInPrimary';

/**
 * ETags are content MD5s for single-part objects. A multipart upload or copy (ours, for objects
 * over 5 GiB) gets an ETag of the form `<md5-of-md5s>-<parts>`, which differs from the source's
 * even when the bytes are the same; for those only the size can be compared without reading.
 */
function sameEtag(a: string, b: string): boolean {
  return a === b || a.includes('-') || b.includes('-');
}

export function verdict(p: Pair): Verdict {
  if (!p.replica) return 'onlyInPrimary';
  if (!p.primary) return 'missing';
  return p.primary.size !== p.replica.size || !sameEtag(p.primary.etag, p.replica.etag) ? 'different' : 'same';
}

/**
 * The two buckets' listings (both in S3's key order) merged into one walk by key: memory is a
 * page of each, whatever the buckets hold.
 */
export async function* mergeListings(primary: AsyncIterable<ListedObject>, replica: AsyncIterable<ListedObject>): AsyncGenerator<Pair> {
  const a = primary[Symbol.asyncIterator]();
  const b = replica[Symbol.asyncIterator]();
  try {
    let [x, y] = await Promise.all([a.next(), b.next()]);
    while (!x.done || !y.done) {
      const c = x.done ? 1 : y.done ? -1 : compareKeys(x.value.key, y.value.key);
      if (c === 0 && !x.done && !y.done) {
        yield { key: x.value.key, primary: x.value, replica: y.value };
        [x, y] = await Promise.all([a.next(), b.next()]);
      } else if (c < 0 && !x.done) {
        yield { key: x.value.key, primary: x.value };
        x = await a.next();
      } else if (!y.done) {
        yield { key: y.value.key, replica: y.value };
        y = await b.next();
      }
    }
  } finally {
    await Promise.all([a.return?.(), b.return?.()]);
  }
}

interface Sides {
  primary: S3Client;
  replicaClient: S3Client;
  bucket: string;
  replica: string;
  prefix?: string;
}

function walk(s: Sides, startAfter?: string): AsyncGenerator<Pair> {
  const opts = { ...(s.prefix ? { prefix: s.prefix } : {}), ...(startAfter !== undefined ? { startAfter } : {}) };
  return mergeListings(listObjects(s.primary, s.bucket, opts), listObjects(s.replicaClient, s.replica, opts));
}

export interface ReplicaComparison {
  missing: number;
  different: number;
  /** Of the different objects, those whose primary copy is newer than the replica's (replication lag). */
  newerInPrimary: number;
  onlyInPrimary: number;
  same: number;
  /** The replica's size of what is missing or different: what a copy-back copies. */
  bytes: number;
  /** The first keys to copy, in key order. */
  sample: { key: string; verdict: 'missing' | 'different' }[];
}

/** Keys after `startAfter` (from the first when absent) up to and including `through` (to the last when absent). */
export interface KeyRange {
  startAfter?: string;
  through?: string;
}

function noDifferences(): ReplicaComparison {
  return { missing: 0, different: 0, newerInPrimary: 0, onlyInPrimary: 0, same: 0, bytes: 0, sample: [] };
}

/** Compares the two buckets by key, size and ETag, in one pass over both listings (of one key range when given). */
export async function compareBuckets(s: Sides, sampleSize = SAMPLE_KEYS, range: KeyRange = {}): Promise<ReplicaComparison> {
  const c = noDifferences();
  for await (const p of walk(s, range.startAfter)) {
    if (range.through !== undefined && compareKeys(p.key, range.through) > 0) break;
    const v = verdict(p);
    c[v]++;
    if (v === 'missing' || v === 'different') {
      c.bytes += p.replica?.size ?? 0;
      if (c.sample.length < sampleSize) c.sample.push({ key: p.key, verdict: v });
      if (v === 'different' && (p.primary?.lastModified ?? 0) > (p.replica?.lastModified ?? 0)) c.newerInPrimary++;
    }
  }
  return c;
}

/**
 * The copy's verify: both buckets compared again, the key space cut at the keys where the copy's
 * steps ended (`bounds`, ascending) and the ranges listed VERIFY_RANGES_IN_FLIGHT at a time, since
 * on S3 a listing is a page per round trip. The ranges cover every key whatever the steps did (the
 * first starts at the bucket's first key, the last runs to its end), so a step that stopped early
 * leaves nothing unverified.
 */
export async function verifyCopy(s: Sides, given: readonly string[]): Promise<ReplicaComparison> {
  // Ascending and distinct, or a key would be counted twice.
  const bounds = [...new Set(given)].sort(compareKeys);
  const ranges: KeyRange[] = [undefined, ...bounds].map((startAfter, i) => ({
    ...(startAfter !== undefined ? { startAfter } : {}),
    ...(i < bounds.length ? { through: bounds[i] } : {}),
  }));
  const parts = await mapLimit(ranges, VERIFY_RANGES_IN_FLIGHT, (r) => compareBuckets(s, 0, r));
  const sum = noDifferences();
  for (const p of parts) {
    sum.missing += p.missing;
    sum.different += p.different;
    sum.newerInPrimary += p.newerInPrimary;
    sum.onlyInPrimary += p.onlyInPrimary;
    sum.same += p.same;
    sum.bytes += p.bytes;
  }
  return sum;
}

export interface ReplicaPlan {
  replica: string;
  missing: number;
  different: number;
  bytes: number;
  onlyInPrimary: number;
  same: number;
}

interface CopySlice {
  copied: number;
  bytes: number;
  multipart: number;
  failed: number;
  failures: string[];
  /** The last key this step dealt with (copied, failed, or found the same): the next step starts after it. */
  last?: string;
  /** The listing ended: nothing after `last`. */
  end: boolean;
  /** The listing failed part way, after this step had done some work: the run goes on (or stops) from `last`. */
  error?: StepFailure;
}

/**
 * One checkpointed step: walks both listings from after `startAfter`, copying what is missing or
 * different as it meets it (as many at a time per prefix as its adaptive window allows), until COPIES_PER_STEP copies were started,
 * KEYS_PER_STEP keys looked at, or the listings end. A retry of the step walks the same keys again
 * and finds what the failed attempt copied already the same: nothing is copied twice, but those
 * copies are not counted (after a crash inside a step the count can fall short; the verify
 * listing at the end is exact).
 */
async function copySlice(s: Sides, startAfter: string | undefined, windows: AdaptiveWindows, onCopied: (doneInStep: number) => void): Promise<CopySlice> {
  const out: CopySlice = { copied: 0, bytes: 0, multipart: 0, failed: 0, failures: [], end: false };
  const inFlight = limiter(COPY_MAX_IN_FLIGHT);
  const copies: Promise<void>[] = [];
  let scanned = 0;
  let listing: unknown;
  try {
    for await (const p of walk(s, startAfter)) {
      const v = verdict(p);
      const size = p.replica?.size ?? 0;
      if (v === 'missing' || v === 'different') {
        const window = windows.for(partitionOf(p.key));
        copies.push(
          window.run(() => inFlight(async () => {
            try {
              const c = await retryTransient(() =>
                copyObjectServerSide(s.primary, { sourceBucket: s.replica, destBucket: s.bucket, key: p.key, size, onAnswer: (t) => window.answered(t) }),
              );
              out.copied++;
              out.bytes += c.bytes;
              if (c.multipart) out.multipart++;
              onCopied(out.copied);
            } catch (e) {
              out.failed++;
              // Cut: a key is up to 1 KB and the message names it again; the step's checkpoint must stay small.
              if (out.failures.length < MAX_REPORTED_FAILURES) out.failures.push(`${p.key}: ${(e as Error).message}`.slice(0, 600));
            }
          })),
        );
      }
      out.last = p.key;
      if (copies.length >= COPIES_PER_STEP || ++scanned >= KEYS_PER_STEP) break;
    }
    out.end = copies.length < COPIES_PER_STEP && scanned < KEYS_PER_STEP;
  } catch (e) {
    listing = e;
  }
  await Promise.all(copies);
  if (listing === undefined) return out;
  if (out.last === undefined) throw listing;
  out.error = listing instanceof DrbotError ? stepFailure(listing) : { code: 'error', message: String((listing as Error)?.message ?? listing), transient: true };
  return out;
}

function sides(deps: RunbookDeps, input: ReplicaInput): Sides & { region: string } {
  const replica = replicaOf(deps.config, input.bucket);
  return {
    primary: deps.clients.s3(bucketRegion(deps.config, input.bucket)),
    replicaClient: deps.clients.s3(replica.region),
    bucket: input.bucket,
    replica: replica.bucket,
    region: replica.region,
    ...(input.prefix ? { prefix: input.prefix } : {}),
  };
}

export const replicaRunbook: Runbook<ReplicaInput, ReplicaPlan> = {
  // The prefix is the user's text: the plan shows it as code; the title (bold, in the confirm dialog and the audit) leaves it out.
  title: (input) => `Copy back ${input.bucket}${input.prefix !== undefined ? ' (one prefix)' : ''} from its replica`,
  destructive: true,
  resources: (input) => [`s3:${input.bucket}`],

  async plan(deps, input) {
    const s = sides(deps, input);
    const d = await compareBuckets(s);
    const total = d.missing + d.different;
    const sample = d.sample.map((o) => code(o.key));
    const lines = [
      `From \`${s.replica}\` (${s.region}) into \`${input.bucket}\`${input.prefix !== undefined ? ` under ${code(input.prefix)}` : ''}`,
      `*${formatCount(d.missing)}* missing and *${formatCount(d.different)}* different objects ${input.dryRun ? 'would be' : 'will be'} copied (${formatBytes(d.bytes)}), server-side`,
      sample.length ? `e.g. ${sample.join(', ')}${total > sample.length ? ', …' : ''}` : '',
      `Not touched: ${formatCount(d.same)} identical objects; ${formatCount(d.onlyInPrimary)} objects only in the primary are kept (nothing is deleted)`,
      d.newerInPrimary
        ? `:warning: ${formatCount(d.newerInPrimary)} of the different objects are *newer in the primary* than in the replica (replication lag?): the replica's older copy becomes current, and the primary's stays as a noncurrent version you can restore. Narrow with --prefix if that is not wanted.`
        : '',
    ].filter(Boolean);
    return {
      lines,
      empty: total === 0,
      data: { replica: s.replica, missing: d.missing, different: d.different, bytes: d.bytes, onlyInPrimary: d.onlyInPrimary, same: d.same },
    };
  },

  async execute(ctx, deps, input, plan, progress) {
    const s = sides(deps, input);
    const total = plan.missing + plan.different;
    let copied = 0;
    let bytes = 0;
    let multipart = 0;
    let failed = 0;
    const failures: string[] = [];
    let stopped: StepFailure | undefined;
    let resumes = 0;
    let startAfter: string | undefined;
    /** Where each step ended: the verify's key ranges. */
    const bounds: string[] = [];
    // Performance state only (not checkpointed): a replay starts the windows again.
    const windows = new AdaptiveWindows(COPY_WINDOW);
    for (let i = 0; ; i++) {
      const base = copied;
      const from = startAfter;
      const r = await safeStep(ctx, `copy-${i}`, () => copySlice(s, from, windows, (n) => void progress.report(Math.min(base + n, total), total, 'copied')));
      if (!r.ok) {
        stopped = r;
        break;
      }
      copied += r.value.copied;
      bytes += r.value.bytes;
      multipart += r.value.multipart;
      failed += r.value.failed;
      failures.push(...r.value.failures.slice(0, MAX_REPORTED_FAILURES - failures.length));
      if (r.value.last !== undefined) bounds.push(r.value.last);
      startAfter = r.value.last ?? startAfter;
      if (r.value.error) {
        if (!r.value.error.transient || ++resumes > RESUMES) {
          stopped = r.value.error;
          break;
        }
        continue;
      }
      if (r.value.end) break;
      // Every copy of a step full of copies failed: the same will happen to the rest (access denied,
      // a KMS key). A step that ended on the keys it may look at, with a few refused and none copied,
      // is not that: the keys after it are still tried.
      if (r.value.copied === 0 && r.value.failed >= COPIES_PER_STEP) {
        stopped = { code: 'copy_failing', message: `Stopped after ${formatCount(failed)} copies failed and none succeeded in the last step.`, transient: false };
        break;
      }
    }
    const after = await step(ctx, 'verify', () => verifyCopy(s, bounds));
    const clean = after.missing === 0 && after.different === 0;
    const lines = [
      `Copied *${formatCount(copied)}* objects (${formatBytes(bytes)}) from \`${s.replica}\` into \`${input.bucket}\`${multipart ? `, ${formatCount(multipart)} by multipart copy` : ''}.`,
      stopped ? `:x: Stopped: ${withHint(stopped)}` : '',
      clean
        ? ':mag: Verified by listing both buckets: every replica object is present and identical in the primary.'
        : `:warning: Verified by listing both buckets: ${formatCount(after.missing)} still missing, ${formatCount(after.different)} still different.`,
      failed > failures.length ? `${formatCount(failed)} copies failed; the first ${formatCount(failures.length)} are listed.` : '',
    ].filter(Boolean);
    return { ok: clean && failed === 0 && !stopped, lines, failures: stopped ? [stopped.message, ...failures] : failures };
  },
};
