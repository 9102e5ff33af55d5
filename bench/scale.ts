/**
 * Section 11 (issue 13): restores at incident scale, each figure twice — on raw moto, and on the
 * S3 latency model (bench/s3-model.ts: a proxy in front of the same moto that holds every S3 call
 * for a published or stated latency, and answers SlowDown past S3's per-prefix request rates).
 *
 *   undelete  OBJECTS objects under `data/` (ten first-level prefixes), deleted after --since, and
 *             OLDER deleted before it (left alone). drbot: `/dr restore s3 … --prefix data/ --since T`
 *             through the Slack edge, the plan timed from the command, the run from the Approve click
 *             to the runner idle (deletes, checkpoints, progress, its verify listing). Anchors: the
 *             plain script (paged ListObjectVersions + sequential DeleteObjects of 1,000, its listing
 *             timed apart as the plan's anchor), and the runbook's loop (`aws s3api delete-object`
 *             once per marker, the real AWS CLI), timed on a sample and extrapolated.
 *   copy-back COPY_OBJECTS objects in the replica, MISSING of them missing from the primary and DIFFERENT
 *             different (another size); drbot: `/dr restore s3 … --from-replica`; anchor: the real
 *             `aws s3 sync` replica → primary, and for the plan, both buckets listed by a plain loop.
 *
 * The undelete's markers are made again after each run, and the copy-back's primary put back, so
 * every run starts from the same estate. Every run is checked by listing the bucket(s) after it.
 * drbot's process (this one: the local stack, the runner, the Slack stand-in) has its RSS sampled
 * through drbot's runs; moto is another process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { parseConfig } from '../src/config/load';
import type { DrConfig } from '../src/config/schema';
import { MotoMissingError, type MotoServer, SANDBOX_CREDENTIALS, startMoto } from '../src/local/moto';

import { type LocalStack, startLocalStack } from '../src/local/stack';
import { LocalRunEngine } from '../src/runbooks/engine-local';
import { S3_MODEL, type S3Model, type S3ModelStats, startS3Model } from './s3-model';
import { findApproveButton } from './undelete';
import { mapLimit, onCleanup } from './util';

const run = promisify(execFile);

export const SCALE_BUCKET = 'drbot-bench-scale';
export const CB_PRIMARY = 'drbot-bench-copyback';
export const CB_REPLICA = 'drbot-bench-copyback-replica';
const OPERATOR = 'UBENCHOPS';
const APPROVER = 'UBENCHAPPR';
const CHANNEL = 'CBENCHOPS';
const REGION = 'us-east-1';

export interface ScaleSizes {
  objects: number;
  older: number;
  /**
   * Objects of the copy-back case. Not 100,000 yet: moto's ListObjectsV2 sorts the whole bucket for
   * every page (~270 ms a page at 100,000 objects), and moto copies one object at a time (~5.5 ms),
   * which put the case's four runs at ~20 minutes.
   */
  copyObjects: number;
  missing: number;
  different: number;
  /** Markers the runbook's loop deletes through the model, and raw (each one an AWS CLI process). */
  loopModeled: number;
  loopRaw: number;
}

export const SCALE_SIZES: ScaleSizes = { objects: 100_000, older: 10_000, copyObjects: 20_000, missing: 4_000, different: 1_000, loopModeled: 200, loopRaw: 20 };

export type Way = 'raw' | 'modeled';
export type ByWay<T> = Record<Way, T>;

export interface DrbotTimes {
  planSeconds: number;
  seconds: number;
  status: string;
  message: string;
}

export interface ScaleResult {
  skipped: false;
  sizes: ScaleSizes;
  seedSeconds: number;
  undelete: {
    drbot: ByWay<DrbotTimes>;
    plain: ByWay<{ seconds: number; listSeconds: number; lists: number; deletes: number }>;
    loop: ByWay<{ markers: number; seconds: number; perMarker: number }>;
    /** The bucket's state after each run: latest markers (OLDER expected) and current objects (OBJECTS expected). */
    checks: { run: string; latestMarkers: number; currentObjects: number; ok: boolean }[];
  };
  copyBack: {
    drbot: ByWay<DrbotTimes>;
    sync: ByWay<{ seconds: number }>;
    /** Both buckets listed one after the other by a plain loop: the plan's anchor. */
    list: ByWay<{ seconds: number }>;
    checks: { run: string; missing: number; different: number; ok: boolean }[];
  };
  peakRssMiB: number;
  /** What the model saw over the modeled runs: SlowDowns answered, and each partition's busiest second against its limit. */
  model: { slowDowns: number; partitions: { partition: string; class: string; peakPerSecond: number; limitPerSecond: number }[]; figures: typeof S3_MODEL };
}

function secondsSince(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: secondsSince(t) };
}

/** Waits until the wall clock is into its next second: S3 stamps LastModified to the second. */
async function nextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === s) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 1));
}

function key(i: number): string {
  return `data/part-${i % 10}/obj-${String(i).padStart(6, '0')}.bin`;
}

function cbKey(i: number): string {
  return `cb/part-${i % 10}/obj-${String(i).padStart(6, '0')}.bin`;
}

function s3At(endpoint: string): S3Client {
  // Enough attempts that the anchors, which have no adaptive window, ride out the model's SlowDowns too.
  return new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: SANDBOX_CREDENTIALS, maxAttempts: 10 });
}

async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += 1000) batches.push(keys.slice(i, i + 1000));
  await mapLimit(batches, 4, async (b) => {
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: b.map((Key) => ({ Key })), Quiet: true } }));
    if (r.Errors?.length) throw new Error(`seeding: DeleteObjects failed for ${r.Errors.length} keys (${r.Errors[0]?.Code})`);
  });
}

/** Latest delete markers and current objects under a prefix, by one full listing. */
async function undeleteState(s3: S3Client, bucket: string, prefix: string): Promise<{ latestMarkers: number; currentObjects: number }> {
  let latestMarkers = 0;
  let currentObjects = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    latestMarkers += (r.DeleteMarkers ?? []).filter((m) => m.IsLatest).length;
    currentObjects += (r.Versions ?? []).filter((v) => v.IsLatest).length;
    if (!r.IsTruncated) return { latestMarkers, currentObjects };
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
}

/** Every current object: key -> "size etag". */
async function objects(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) if (o.Key) out.set(o.Key, `${o.Size} ${o.ETag}`);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function copyBackState(s3: S3Client): Promise<{ missing: number; different: number }> {
  const [mine, theirs] = await Promise.all([objects(s3, CB_PRIMARY), objects(s3, CB_REPLICA)]);
  let missing = 0;
  let different = 0;
  for (const [k, v] of theirs) {
    const p = mine.get(k);
    if (p === undefined) missing++;
    else if (p !== v) different++;
  }
  return { missing, different };
}

/**
 * The plain script: list a page, delete its latest markers within --since (1,000 a call), next
 * page; one call at a time. Its listing calls are timed apart: the same listing a plan needs.
 */
async function plainUndelete(s3: S3Client, bucket: string, prefix: string, since: string): Promise<{ seconds: number; listSeconds: number; lists: number; deletes: number }> {
  const t = process.hrtime.bigint();
  let listSeconds = 0;
  let lists = 0;
  let deletes = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  const cut = Date.parse(since);
  for (;;) {
    const l = await timed(() => s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker })));
    const page = l.value;
    listSeconds += l.seconds;
    lists++;
    const markers = (page.DeleteMarkers ?? []).filter((m) => m.IsLatest && m.Key && (m.LastModified?.getTime() ?? 0) >= cut);
    for (let i = 0; i < markers.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: markers.slice(i, i + 1000).map((m) => ({ Key: m.Key, VersionId: m.VersionId })), Quiet: true } }));
      deletes++;
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  return { seconds: secondsSince(t), listSeconds, lists, deletes };
}

const cliEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: REGION,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
});

/** The runbook's loop: `aws s3api delete-object` once per marker, one after another. */
async function runbookLoop(endpoint: string, markers: readonly { key: string; versionId: string }[]): Promise<number> {
  const t = process.hrtime.bigint();
  for (const m of markers) {
    await run('aws', ['s3api', 'delete-object', '--bucket', SCALE_BUCKET, '--key', m.key, '--version-id', m.versionId, '--endpoint-url', endpoint], { env: cliEnv(), timeout: 120_000 });
  }
  return secondsSince(t);
}

async function cliAvailable(): Promise<boolean> {
  try {
    await run('aws', ['--version'], { env: cliEnv(), timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/** One run the way a user does it: the command, the plan posted and parked, an approver's click. */
async function drbotRun(stack: LocalStack, text: string, approved: Set<string>, rss: (on?: boolean) => void): Promise<DrbotTimes> {
  rss(true);
  try {
    return await drbotRunSampled(stack, text, approved, rss);
  } finally {
    rss(false);
  }
}

async function drbotRunSampled(stack: LocalStack, text: string, approved: Set<string>, rss: () => void): Promise<DrbotTimes> {
  const known = new Set(stack.engine.names());
  let t = process.hrtime.bigint();
  const ack = await stack.client.command({ user: OPERATOR, channel: CHANNEL, text });
  if (ack.status !== 200 || !/Started run/.test(ack.raw)) throw new Error(`"${text}" was not started: HTTP ${ack.status} ${ack.raw.slice(0, 200)}`);
  await stack.engine.idle(100, 30 * 60_000);
  const planSeconds = secondsSince(t);
  rss();
  const approve = findApproveButton(stack, approved);
  if (!approve) throw new Error(`no Approve button was posted for "${text}"; messages: ${stack.standIn.channelMessages(CHANNEL).map((m) => m.text.slice(0, 160)).join(' | ')}`);
  approved.add(approve.ts);
  t = process.hrtime.bigint();
  const click = await stack.client.click({ user: APPROVER, channel: CHANNEL, messageTs: approve.ts, messageText: approve.text, blocks: approve.blocks, button: approve.button });
  if (click.status !== 200) throw new Error(`approve click failed: HTTP ${click.status} ${click.raw.slice(0, 200)}`);
  await stack.engine.idle(100, 60 * 60_000);
  const seconds = secondsSince(t);
  rss();
  const name = stack.engine.names().find((n) => !known.has(n));
  const result = name ? stack.engine.result(name) : undefined;
  const summary = result?.getResult() as { status?: string } | undefined;
  return {
    planSeconds,
    seconds,
    status: `${result ? String(result.getStatus()) : 'no result'}${summary?.status ? ` / ${summary.status}` : ''}`,
    message: (stack.standIn.message(CHANNEL, approve.ts)?.text ?? '').replace(/\s+/g, ' ').slice(0, 240),
  };
}

function benchConfig(): DrConfig {
  return parseConfig(
    {
      name: 'bench-scale',
      regions: { primary: REGION, backup: 'us-west-2' },
      s3: { buckets: [{ name: SCALE_BUCKET }, { name: CB_PRIMARY, replica: { bucket: CB_REPLICA, region: REGION } }] },
      dynamodb: { tables: [] },
      slack: { channels: { ops: CHANNEL, alerts: 'CBENCHALERT' }, roles: { viewer: [], operator: [OPERATOR], approver: [APPROVER] } },
      approvals: { required: 1, expiresMinutes: 60 },
    },
    'bench scale config',
  );
}

/** One moto; a stack on it as it is, and a stack whose AWS calls go through the latency model. */
async function stacks(config: DrConfig): Promise<{ moto: MotoServer; model: S3Model; raw: LocalStack; modeled: LocalStack } | { skipped: true; reason: string }> {
  let moto: MotoServer;
  try {
    moto = await startMoto();
  } catch (e) {
    if (e instanceof MotoMissingError) return { skipped: true, reason: `${e.message} ${e.hint ?? ''}`.trim() };
    throw e;
  }
  onCleanup(() => moto.stop());
  const model = await startS3Model({ target: moto.endpoint });
  onCleanup(() => model.close());
  // The stacks share the one moto, which each must not stop on close.
  const shared = (endpoint: string): Promise<MotoServer> => Promise.resolve({ ...moto, endpoint, stop: async () => undefined });
  const raw = await startLocalStack({ mode: 'sandbox', seed: false, skipTime: false, config, moto: shared(moto.endpoint) });
  const modeled = await startLocalStack({ mode: 'sandbox', seed: false, skipTime: false, config, moto: shared(model.endpoint) });
  onCleanup(async () => {
    await raw.close();
    await modeled.close();
    await LocalRunEngine.teardown();
  });
  return { moto, model, raw, modeled };
}

export async function benchScale(sizes: ScaleSizes = SCALE_SIZES, log: (l: string) => void = () => {}): Promise<ScaleResult | { skipped: true; reason: string }> {
  if (!(await cliAvailable())) return { skipped: true, reason: 'the AWS CLI (`aws`) is not installed: it is the anchor of the runbook loop and of `aws s3 sync`' };
  const started = await stacks(benchConfig());
  if ('skipped' in started) return started;
  const { moto, model } = started;
  const stackOf: ByWay<LocalStack> = { raw: started.raw, modeled: started.modeled };
  const endpointOf: ByWay<string> = { raw: moto.endpoint, modeled: model.endpoint };
  const direct = s3At(moto.endpoint);
  const putMany = moto.putMany;
  if (!putMany) throw new Error('moto has no bulk put');
  // Sampled only while a drbot run is under way (seeding and the anchors run in this process too).
  let peak = 0;
  let sampling = false;
  const rss = (on?: boolean) => {
    if (on !== undefined) sampling = on;
    if (sampling) peak = Math.max(peak, process.memoryUsage().rss);
  };
  const sampler = setInterval(rss, 100);
  onCleanup(async () => clearInterval(sampler));
  const approved = new Set<string>();

  // ---- seed (not timed against anything) ----
  const t0 = process.hrtime.bigint();
  const total = sizes.older + sizes.objects;
  const older = Array.from({ length: sizes.older }, (_, i) => key(i));
  const recent = Array.from({ length: sizes.objects }, (_, i) => key(sizes.older + i));
  await direct.send(new CreateBucketCommand({ Bucket: SCALE_BUCKET }));
  await direct.send(new PutBucketVersioningCommand({ Bucket: SCALE_BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  const all = [...older, ...recent];
  const chunks: string[][] = [];
  for (let i = 0; i < total; i += 5000) chunks.push(all.slice(i, i + 5000));
  await mapLimit(chunks, 2, (c) => putMany(SCALE_BUCKET, c.map((k) => ({ key: k, body: `bench object ${k}\n` }))));
  await deleteKeys(direct, SCALE_BUCKET, older);
  await nextSecond();
  const since = new Date().toISOString();
  await nextSecond();
  await deleteKeys(direct, SCALE_BUCKET, recent);
  // copy-back: the replica first, then the primary, so the primary's identical copies are the newer
  // (`aws s3 sync` copies what is newer in the source or of another size, as drbot copies what differs)
  const cbAll = Array.from({ length: sizes.copyObjects }, (_, i) => cbKey(i));
  const missing = cbAll.slice(0, sizes.missing);
  const different = cbAll.slice(sizes.missing, sizes.missing + sizes.different);
  const same = cbAll.slice(sizes.missing + sizes.different);
  const body = (k: string) => `replica copy of ${k}\n`;
  const otherBody = (k: string) => `primary copy of ${k}, damaged\n`;
  await direct.send(new CreateBucketCommand({ Bucket: CB_PRIMARY }));
  await direct.send(new PutBucketVersioningCommand({ Bucket: CB_PRIMARY, VersioningConfiguration: { Status: 'Enabled' } }));
  await direct.send(new CreateBucketCommand({ Bucket: CB_REPLICA }));
  const putAll = async (bucket: string, keys: readonly string[], b: (k: string) => string) => {
    const parts: string[][] = [];
    for (let i = 0; i < keys.length; i += 5000) parts.push(keys.slice(i, i + 5000));
    await mapLimit(parts, 2, (p) => putMany(bucket, p.map((k) => ({ key: k, body: b(k) }))));
  };
  await putAll(CB_REPLICA, cbAll, body);
  await nextSecond();
  await putAll(CB_PRIMARY, same, body);
  await putAll(CB_PRIMARY, different, otherBody);
  const seedSeconds = secondsSince(t0);
  log(`  seeded ${total.toLocaleString('en-US')} objects and their markers, and ${(sizes.copyObjects + same.length + different.length).toLocaleString('en-US')} copy-back objects, in ${seedSeconds.toFixed(1)} s`);

  // ---- undelete ----
  const checks: ScaleResult['undelete']['checks'] = [];
  const check = async (runName: string) => {
    const s = await undeleteState(direct, SCALE_BUCKET, 'data/');
    const ok = s.latestMarkers === sizes.older && s.currentObjects === sizes.objects;
    checks.push({ run: runName, ...s, ok });
    log(`    checked: ${s.latestMarkers.toLocaleString('en-US')} latest markers (older ones, ${sizes.older.toLocaleString('en-US')} expected), ${s.currentObjects.toLocaleString('en-US')} current objects: ${ok ? 'exact' : 'WRONG'}`);
  };
  const recreate = () => deleteKeys(direct, SCALE_BUCKET, recent);
  const text = `restore s3 ${SCALE_BUCKET} --prefix data/ --since ${since}`;
  const drbotUndelete = {} as ByWay<DrbotTimes>;
  const plain = {} as ScaleResult['undelete']['plain'];
  for (const way of ['raw', 'modeled'] as const) {
    model.reset();
    drbotUndelete[way] = await drbotRun(stackOf[way], text, approved, rss);
    log(`  undelete, drbot, ${way}: plan ${drbotUndelete[way].planSeconds.toFixed(1)} s, approve → done ${drbotUndelete[way].seconds.toFixed(1)} s (${drbotUndelete[way].status})`);
    await check(`drbot ${way}`);
    await recreate();
    plain[way] = await plainUndelete(s3At(endpointOf[way]), SCALE_BUCKET, 'data/', since);
    log(`  undelete, plain script, ${way}: ${plain[way].seconds.toFixed(1)} s (its ${plain[way].lists} listing calls ${plain[way].listSeconds.toFixed(1)} s, ${plain[way].deletes} DeleteObjects)`);
    await check(`plain ${way}`);
    await recreate();
  }
  const modelAfterUndelete = model.stats();
  const loop = {} as ScaleResult['undelete']['loop'];
  // Markers of recent keys (deleted after --since): one partition's listing from the first recent key of it on.
  const first = recent[0] ?? key(sizes.older);
  const sample = (await direct.send(new ListObjectVersionsCommand({ Bucket: SCALE_BUCKET, Prefix: first.slice(0, first.lastIndexOf('/') + 1), KeyMarker: first, MaxKeys: 1000 }))).DeleteMarkers ?? [];
  const picked = sample.filter((m) => m.IsLatest && m.Key && m.VersionId && (m.LastModified?.getTime() ?? 0) >= Date.parse(since)).map((m) => ({ key: m.Key ?? '', versionId: m.VersionId ?? '' }));
  for (const way of ['raw', 'modeled'] as const) {
    const n = way === 'raw' ? sizes.loopRaw : sizes.loopModeled;
    const markers = picked.slice(0, n);
    if (markers.length < n) throw new Error(`only ${markers.length} markers to sample for the runbook's loop`);
    const seconds = await runbookLoop(endpointOf[way], markers);
    loop[way] = { markers: n, seconds, perMarker: seconds / n };
    log(`  undelete, the runbook's loop, ${way}: ${n} markers in ${seconds.toFixed(1)} s (${(seconds / n).toFixed(3)} s each)`);
    await deleteKeys(direct, SCALE_BUCKET, markers.map((m) => m.key));
  }

  // ---- copy-back ----
  const cbChecks: ScaleResult['copyBack']['checks'] = [];
  const cbCheck = async (runName: string) => {
    const s = await copyBackState(direct);
    const ok = s.missing === 0 && s.different === 0;
    cbChecks.push({ run: runName, ...s, ok });
    log(`    checked: ${s.missing} missing, ${s.different} different: ${ok ? 'exact' : 'WRONG'}`);
  };
  const damage = async () => {
    await deleteKeys(direct, CB_PRIMARY, missing);
    await putAll(CB_PRIMARY, different, otherBody);
    const s = await copyBackState(direct);
    if (s.missing !== sizes.missing || s.different !== sizes.different) throw new Error(`copy-back estate not put back: ${s.missing} missing, ${s.different} different`);
  };
  const drbotCopy = {} as ByWay<DrbotTimes>;
  const sync = {} as ScaleResult['copyBack']['sync'];
  const list = {} as ScaleResult['copyBack']['list'];
  model.reset();
  for (const way of ['raw', 'modeled'] as const) {
    const c = s3At(endpointOf[way]);
    list[way] = { seconds: (await timed(async () => (await objects(c, CB_PRIMARY)).size + (await objects(c, CB_REPLICA)).size)).seconds };
    drbotCopy[way] = await drbotRun(stackOf[way], `restore s3 ${CB_PRIMARY} --from-replica`, approved, rss);
    log(`  copy-back, drbot, ${way}: plan ${drbotCopy[way].planSeconds.toFixed(1)} s (both buckets listed by a plain loop: ${list[way].seconds.toFixed(1)} s), approve → done ${drbotCopy[way].seconds.toFixed(1)} s (${drbotCopy[way].status})`);
    await cbCheck(`drbot ${way}`);
    await damage();
    const s = await timed(() => run('aws', ['s3', 'sync', `s3://${CB_REPLICA}/`, `s3://${CB_PRIMARY}/`, '--only-show-errors', '--endpoint-url', endpointOf[way]], { env: cliEnv(), timeout: 60 * 60_000, maxBuffer: 64 * 1024 * 1024 }));
    sync[way] = { seconds: s.seconds };
    log(`  copy-back, aws s3 sync, ${way}: ${s.seconds.toFixed(1)} s`);
    await cbCheck(`sync ${way}`);
    await damage();
  }
  const modelAfterCopy = model.stats();
  clearInterval(sampler);

  const seen = (st: S3ModelStats) => st.partitions.map((p) => ({ partition: p.partition, class: p.class, peakPerSecond: p.peakPerSecond, limitPerSecond: p.limitPerSecond }));
  const slowDowns = (st: S3ModelStats) => Object.values(st.ops).reduce((n, o) => n + (o?.slowDowns ?? 0), 0);
  return {
    skipped: false,
    sizes,
    seedSeconds,
    undelete: { drbot: drbotUndelete, plain, loop, checks },
    copyBack: { drbot: drbotCopy, sync, list, checks: cbChecks },
    peakRssMiB: peak / 1024 / 1024,
    model: { slowDowns: slowDowns(modelAfterUndelete) + slowDowns(modelAfterCopy), partitions: [...seen(modelAfterUndelete), ...seen(modelAfterCopy)], figures: S3_MODEL },
  };
}
