/**
 * Section 5 (issue 3): undelete throughput on moto, drbot's runbook against the plain way.
 *
 * One versioned bucket with OBJECTS objects, every one then deleted (DeleteObjects without
 * version IDs, so each key gets a delete marker as its latest version). Then:
 *   (a) drbot: the whole product path in the local stack — a signed `/dr restore s3 BUCKET` from
 *       an operator, the plan posted and parked at its approval, and a signed Approve click from
 *       an approver; timed from the click to the durable runner being idle (execute slices with
 *       checkpoints, throttled Slack progress, the runbook's own verify listing, final report).
 *   (b) the plain way: the same bucket with its markers recreated (deleting every key again gives
 *       exactly the same shape: OBJECTS versions, each hidden by a latest delete marker), then one
 *       sequential loop of ListObjectVersions + DeleteObjects (≤ 1,000, Quiet) over the markers.
 * Each way runs `rounds` times (default 2) in A/B/B/A order over the same markers, recreated
 * before every run; moto is noisy, and a single pair swung the ratio from 0.8× to 1.3×.
 * Every run is verified by listing: 0 latest delete markers, OBJECTS current objects. The plain
 * way's verify listing is timed too, so the table also shows a like-for-like ratio.
 *
 * On moto, ListObjectVersions deep-copies every version of the bucket for every page, so listing
 * dominates both ways; the ratio says more about overlap and extra listings than about S3.
 */
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseConfig } from '../src/config/load';
import type { LocalStack } from '../src/local/stack';
import { findApproveButton } from './scale-config';
import { benchStack } from './stack';
import { mapLimit } from './util';

export const UNDELETE_BUCKET = 'drbot-bench-undelete';
const OPERATOR = 'UBENCHOPS';
const APPROVER = 'UBENCHAPPR';
const CHANNEL = 'CBENCHOPS';
const PUT_CONCURRENCY = 16;
const DELETE_MAX = 1000;

export interface UndeleteSide {
  /** Totals over all runs of this way. */
  seconds: number;
  runSeconds: number[];
  restored: number;
  objectsPerSecond: number;
  /** Verified after every run by a full listing: the worst run. */
  latestDeleteMarkersAfter: number;
  currentObjectsAfter: number;
  calls?: { list: number; delete: number };
}

export type UndeleteResult =
  | {
      skipped: false;
      objects: number;
      /** Runs per way, in A/B/B/A order. */
      rounds: number;
      seedSeconds: number;
      /** Per drbot run: command → plan posted and parked at the approval (not timed). */
      planSeconds: number[];
      drbot: UndeleteSide & { runStatus: string; finalMessage: string };
      plain: UndeleteSide & { verifySeconds: number };
    }
  | { skipped: true; reason: string };

function secondsSince(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function keyName(i: number): string {
  return `data/part-${String(i % 10)}/obj-${String(i).padStart(6, '0')}.bin`;
}

/** Full listing: latest delete markers (what an undelete must remove). */
async function countLatestMarkers(s3: S3Client, bucket: string): Promise<number> {
  let n = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    n += (r.DeleteMarkers ?? []).filter((m) => m.IsLatest).length;
    if (!r.IsTruncated) return n;
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
}

async function countCurrentObjects(s3: S3Client, bucket: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    n += r.KeyCount ?? (r.Contents ?? []).length;
    if (!r.IsTruncated) return n;
    token = r.NextContinuationToken;
  }
}

/** Deletes every key without a version ID: in a versioned bucket, one new delete marker each. */
async function deleteAllKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_MAX) {
    const r = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + DELETE_MAX).map((Key) => ({ Key })), Quiet: true } }),
    );
    if (r.Errors?.length) throw new Error(`seeding: DeleteObjects failed for ${r.Errors.length} keys (${r.Errors[0]?.Code})`);
  }
}

async function seed(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await mapLimit(keys, PUT_CONCURRENCY, async (key, i) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `bench object ${i}\n`, ContentType: 'application/octet-stream' }));
  });
  await deleteAllKeys(s3, bucket, keys);
}

/** The plain way: list a page, delete its latest markers, next page; one call at a time. */
async function plainUndelete(s3: S3Client, bucket: string): Promise<{ restored: number; list: number; delete: number }> {
  let restored = 0;
  let list = 0;
  let del = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    list++;
    const markers = (page.DeleteMarkers ?? []).filter((m) => m.IsLatest && m.Key);
    for (let i = 0; i < markers.length; i += DELETE_MAX) {
      const batch = markers.slice(i, i + DELETE_MAX);
      const r = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((m) => ({ Key: m.Key, VersionId: m.VersionId })), Quiet: true } }),
      );
      del++;
      restored += batch.length - (r.Errors?.length ?? 0);
    }
    if (!page.IsTruncated) return { restored, list, delete: del };
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

export async function benchUndelete(objects = 10_000, rounds = 2, log: (l: string) => void = () => {}): Promise<UndeleteResult> {
  const config = parseConfig(
    {
      name: 'bench',
      regions: { primary: 'us-east-1', backup: 'us-west-2' },
      s3: { buckets: [{ name: UNDELETE_BUCKET }] },
      dynamodb: { tables: [] },
      slack: {
        channels: { ops: CHANNEL, alerts: 'CBENCHALERT' },
        roles: { viewer: [], operator: [OPERATOR], approver: [APPROVER] },
      },
      approvals: { required: 1, expiresMinutes: 30 },
    },
    'bench undelete config',
  );

  // The undelete runbook has no durable waits, so real time (bench/stack.ts) costs nothing.
  const started = await benchStack(config);
  if ('skipped' in started) return started;
  const stack = started;
  const s3 = stack.clients.s3();
  const keys = Array.from({ length: objects }, (_, i) => keyName(i));

  let t = process.hrtime.bigint();
  await seed(s3, UNDELETE_BUCKET, keys);
  const seedSeconds = secondsSince(t);
  log(`  seeded ${objects.toLocaleString('en-US')} objects + delete markers in ${seedSeconds.toFixed(1)} s`);

  // A/B/B/A: each way runs `rounds` times over the same markers, recreated before every run, in
  // mirrored order so a machine that drifts (other work, moto growing) weighs on both alike.
  const order: ('drbot' | 'plain')[] = [];
  for (let r = 0; r < rounds; r++) order.push(...(r % 2 === 0 ? (['drbot', 'plain'] as const) : (['plain', 'drbot'] as const)));
  const drbotRuns: DrbotRun[] = [];
  const plainRuns: PlainRun[] = [];
  const approved = new Set<string>();
  for (const [i, way] of order.entries()) {
    if (i > 0) {
      await deleteAllKeys(s3, UNDELETE_BUCKET, keys);
      const left = await countCurrentObjects(s3, UNDELETE_BUCKET);
      if (left !== 0) throw new Error(`recreating the markers left ${left} current objects`);
    }
    if (way === 'drbot') {
      const run = await drbotUndelete(stack, approved);
      run.latestDeleteMarkersAfter = await countLatestMarkers(s3, UNDELETE_BUCKET);
      run.currentObjectsAfter = await countCurrentObjects(s3, UNDELETE_BUCKET);
      drbotRuns.push(run);
      log(`  drbot run ${drbotRuns.length}: plan posted in ${run.planSeconds.toFixed(1)} s (not timed), approve → idle ${run.seconds.toFixed(1)} s, ${run.runStatus}`);
    } else {
      let t = process.hrtime.bigint();
      const plain = await plainUndelete(s3, UNDELETE_BUCKET);
      const seconds = secondsSince(t);
      t = process.hrtime.bigint();
      const latestDeleteMarkersAfter = await countLatestMarkers(s3, UNDELETE_BUCKET);
      const verifySeconds = secondsSince(t);
      plainRuns.push({ ...plain, seconds, verifySeconds, latestDeleteMarkersAfter, currentObjectsAfter: await countCurrentObjects(s3, UNDELETE_BUCKET) });
      log(`  plain run ${plainRuns.length}: ${seconds.toFixed(1)} s (+ ${verifySeconds.toFixed(1)} s verify listing)`);
    }
  }

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const drbotSeconds = sum(drbotRuns.map((r) => r.seconds));
  const plainSeconds = sum(plainRuns.map((r) => r.seconds));
  const drbotRestored = objects * drbotRuns.length - sum(drbotRuns.map((r) => r.latestDeleteMarkersAfter));
  const plainRestored = sum(plainRuns.map((r) => r.restored));
  return {
    skipped: false,
    objects,
    rounds,
    seedSeconds,
    planSeconds: drbotRuns.map((r) => r.planSeconds),
    drbot: {
      seconds: drbotSeconds,
      runSeconds: drbotRuns.map((r) => r.seconds),
      restored: drbotRestored,
      objectsPerSecond: drbotRestored / drbotSeconds,
      latestDeleteMarkersAfter: Math.max(...drbotRuns.map((r) => r.latestDeleteMarkersAfter)),
      currentObjectsAfter: Math.min(...drbotRuns.map((r) => r.currentObjectsAfter)),
      runStatus: [...new Set(drbotRuns.map((r) => r.runStatus))].join(', '),
      finalMessage: drbotRuns[drbotRuns.length - 1]?.finalMessage ?? '',
    },
    plain: {
      seconds: plainSeconds,
      runSeconds: plainRuns.map((r) => r.seconds),
      restored: plainRestored,
      objectsPerSecond: plainRestored / plainSeconds,
      latestDeleteMarkersAfter: Math.max(...plainRuns.map((r) => r.latestDeleteMarkersAfter)),
      currentObjectsAfter: Math.min(...plainRuns.map((r) => r.currentObjectsAfter)),
      calls: { list: plainRuns[0]?.list ?? 0, delete: plainRuns[0]?.delete ?? 0 },
      verifySeconds: sum(plainRuns.map((r) => r.verifySeconds)),
    },
  };
}

interface DrbotRun {
  planSeconds: number;
  seconds: number;
  runStatus: string;
  finalMessage: string;
  latestDeleteMarkersAfter: number;
  currentObjectsAfter: number;
}

interface PlainRun {
  restored: number;
  list: number;
  delete: number;
  seconds: number;
  verifySeconds: number;
  latestDeleteMarkersAfter: number;
  currentObjectsAfter: number;
}

/**
 * One undelete the way a user does it: `/dr restore s3 BUCKET` from an operator (signed, through
 * the Slack edge), wait for the plan to be posted and the run parked at its approval, then an
 * approver's signed Approve click. Timed from the click to the durable runner being idle.
 */
async function drbotUndelete(stack: LocalStack, approved: Set<string>): Promise<DrbotRun> {
  const known = new Set(stack.engine.names());
  let t = process.hrtime.bigint();
  const ack = await stack.client.command({ user: OPERATOR, channel: CHANNEL, text: `restore s3 ${UNDELETE_BUCKET}` });
  if (ack.status !== 200 || !/Started run/.test(ack.raw)) throw new Error(`restore command was not started: HTTP ${ack.status} ${ack.raw.slice(0, 200)}`);
  await stack.engine.idle();
  const planSeconds = secondsSince(t);
  const approve = findApproveButton(stack, CHANNEL, approved);
  if (!approve) throw new Error(`no Approve button was posted; messages: ${stack.standIn.channelMessages(CHANNEL).map((m) => m.text.slice(0, 120)).join(' | ')}`);
  approved.add(approve.ts);

  t = process.hrtime.bigint();
  const click = await stack.client.click({ user: APPROVER, channel: CHANNEL, messageTs: approve.ts, messageText: approve.text, blocks: approve.blocks, button: approve.button });
  if (click.status !== 200) throw new Error(`approve click failed: HTTP ${click.status} ${click.raw.slice(0, 200)}`);
  await stack.engine.idle();
  const seconds = secondsSince(t);

  const name = stack.engine.names().find((n) => !known.has(n));
  const result = name ? stack.engine.result(name) : undefined;
  const summary = result?.getResult() as { status?: string } | undefined;
  return {
    planSeconds,
    seconds,
    runStatus: `${result ? String(result.getStatus()) : 'no result'}${summary?.status ? ` / ${summary.status}` : ''}`,
    finalMessage: (stack.standIn.message(CHANNEL, approve.ts)?.text ?? '').replace(/\s+/g, ' ').slice(0, 200),
    latestDeleteMarkersAfter: NaN,
    currentObjectsAfter: NaN,
  };
}
