import type { S3Client } from '@aws-sdk/client-s3';
import { copyObjectServerSide, listObjectsIndex } from '../../aws/s3';
import { retryWait } from '../../aws/retry-wait';
import { DrbotError } from '../../errors';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { formatBytes, limiter } from '../../util/limit';
import { type Runbook, STEP } from '../driver';
import { bucketRegion, replicaOf } from '../resources';
import type { RunbookDeps } from '../types';
import type { RestoreS3Input } from '.';

export type ReplicaInput = RestoreS3Input;

const COPY_CONCURRENCY = 8;
/** Objects copied per checkpointed round; each round re-diffs, so a retry copies only what is left. */
const OBJECTS_PER_ROUND = 2000;
const MAX_ROUNDS = 1000;
const SAMPLE_KEYS = 5;
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

export interface ReplicaDiff {
  missing: { key: string; size: number }[];
  different: { key: string; size: number }[];
  /** Of the different objects, those whose primary copy is newer than the replica's (replication lag). */
  newerInPrimary: number;
  onlyInPrimary: number;
  same: number;
}

export interface ReplicaPlan {
  replica: string;
  missing: number;
  different: number;
  bytes: number;
  onlyInPrimary: number;
  same: number;
}

/**
 * ETags are content MD5s for single-part objects. A multipart upload or copy (ours, for objects
 * over 5 GiB) gets an ETag of the form `<md5-of-md5s>-<parts>`, which differs from the source's
 * even when the bytes are the same; for those only the size can be compared without reading.
 */
function sameEtag(a: string, b: string): boolean {
  return a === b || a.includes('-') || b.includes('-');
}

/** Compares the two buckets by key, size and ETag. */
export async function diffBuckets(primary: S3Client, replicaClient: S3Client, bucket: string, replica: string, prefix?: string): Promise<ReplicaDiff> {
  const [mine, theirs] = await Promise.all([listObjectsIndex(primary, bucket, prefix), listObjectsIndex(replicaClient, replica, prefix)]);
  const diff: ReplicaDiff = { missing: [], different: [], newerInPrimary: 0, onlyInPrimary: 0, same: 0 };
  for (const [key, r] of theirs) {
    const p = mine.get(key);
    if (!p) diff.missing.push({ key, size: r.size });
    else if (p.size !== r.size || !sameEtag(p.etag, r.etag)) {
      diff.different.push({ key, size: r.size });
      if (p.lastModified > r.lastModified) diff.newerInPrimary++;
    }
    else diff.same++;
  }
  for (const key of mine.keys()) if (!theirs.has(key)) diff.onlyInPrimary++;
  return diff;
}

function clients(deps: RunbookDeps, input: ReplicaInput) {
  const replica = replicaOf(deps.config, input.bucket);
  return { replica, primary: deps.clients.s3(bucketRegion(deps.config, input.bucket)), replicaClient: deps.clients.s3(replica.region) };
}

export const replicaRunbook: Runbook<ReplicaInput, ReplicaPlan> = {
  // The prefix is the user's text: the plan shows it as code; the title (bold, in the confirm dialog and the audit) leaves it out.
  title: (input) => `Copy back ${input.bucket}${input.prefix !== undefined ? ' (one prefix)' : ''} from its replica`,
  destructive: true,
  resources: (input) => [`s3:${input.bucket}`],

  async plan(deps, input) {
    const { replica, primary, replicaClient } = clients(deps, input);
    const d = await diffBuckets(primary, replicaClient, input.bucket, replica.bucket, input.prefix);
    const bytes = [...d.missing, ...d.different].reduce((n, o) => n + o.size, 0);
    const sample = [...d.missing, ...d.different].slice(0, SAMPLE_KEYS).map((o) => code(o.key));
    const total = d.missing.length + d.different.length;
    const lines = [
      `From \`${replica.bucket}\` (${replica.region}) into \`${input.bucket}\`${input.prefix !== undefined ? ` under ${code(input.prefix)}` : ''}`,
      `*${formatCount(d.missing.length)}* missing and *${formatCount(d.different.length)}* different objects ${input.dryRun ? 'would be' : 'will be'} copied (${formatBytes(bytes)}), server-side`,
      sample.length ? `e.g. ${sample.join(', ')}${total > sample.length ? ', …' : ''}` : '',
      `Not touched: ${formatCount(d.same)} identical objects; ${formatCount(d.onlyInPrimary)} objects only in the primary are kept (nothing is deleted)`,
      d.newerInPrimary
        ? `:warning: ${formatCount(d.newerInPrimary)} of the different objects are *newer in the primary* than in the replica (replication lag?): the replica's older copy becomes current, and the primary's stays as a noncurrent version you can restore. Narrow with --prefix if that is not wanted.`
        : '',
    ].filter(Boolean);
    return {
      lines,
      empty: total === 0,
      data: { replica: replica.bucket, missing: d.missing.length, different: d.different.length, bytes, onlyInPrimary: d.onlyInPrimary, same: d.same },
    };
  },

  async execute(ctx, deps, input, plan, progress) {
    const { replica, primary, replicaClient } = clients(deps, input);
    const total = plan.missing + plan.different;
    let copied = 0;
    let bytes = 0;
    let multipart = 0;
    const failures: string[] = [];
    /** Keys that failed to copy: skipped in later rounds so one bad key does not stop the rest. */
    const failedKeys = new Set<string>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const base = copied;
      const skip = [...failedKeys];
      const r = await ctx.step(`copy-${round}`, async () => {
        const d = await diffBuckets(primary, replicaClient, input.bucket, replica.bucket, input.prefix);
        const skipped = new Set(skip);
        const pending = [...d.missing, ...d.different].filter((o) => !skipped.has(o.key));
        const todo = pending.slice(0, OBJECTS_PER_ROUND);
        const limit = limiter(COPY_CONCURRENCY);
        let done = 0;
        const results = await Promise.all(
          todo.map((o) =>
            limit(async () => {
              try {
                const c = await retryTransient(() => copyObjectServerSide(primary, { sourceBucket: replica.bucket, destBucket: input.bucket, key: o.key, size: o.size }));
                done++;
                void progress.report(Math.min(base + done, total), total, 'copied');
                return { ok: true as const, bytes: c.bytes, multipart: c.multipart };
              } catch (e) {
                return { ok: false as const, key: o.key, failure: `${o.key}: ${(e as Error).message}` };
              }
            }),
          ),
        );
        return {
          copied: results.filter((x) => x.ok).length,
          bytes: results.reduce((n, x) => n + (x.ok ? x.bytes : 0), 0),
          multipart: results.filter((x) => x.ok && x.multipart).length,
          failures: results.flatMap((x) => (x.ok ? [] : [x.failure])),
          failedKeys: results.flatMap((x) => (x.ok ? [] : [x.key])),
          left: pending.length - todo.length,
        };
      }, STEP);
      copied += r.copied;
      bytes += r.bytes;
      multipart += r.multipart;
      failures.push(...r.failures);
      for (const k of r.failedKeys) failedKeys.add(k);
      if (r.left === 0 || r.copied === 0) break;
    }
    const after = await ctx.step(
      'verify',
      async () => {
        const d = await diffBuckets(primary, replicaClient, input.bucket, replica.bucket, input.prefix);
        return { missing: d.missing.length, different: d.different.length };
      },
      STEP,
    );
    const clean = after.missing === 0 && after.different === 0;
    const lines = [
      `Copied *${formatCount(copied)}* objects (${formatBytes(bytes)}) from \`${replica.bucket}\` into \`${input.bucket}\`${multipart ? `, ${formatCount(multipart)} by multipart copy` : ''}.`,
      clean
        ? ':mag: Verified by listing both buckets: every replica object is present and identical in the primary.'
        : `:warning: Verified by listing both buckets: ${formatCount(after.missing)} still missing, ${formatCount(after.different)} still different.`,
    ];
    return { ok: clean && failures.length === 0, lines, failures };
  },
};
