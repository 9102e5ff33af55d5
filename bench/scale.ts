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
 * Each drbot run is a process of its own (bench/scale-drbot.ts: the local stack, the runner and the
 * Slack stand-in, nothing of this process's seeding or anchors), and its runbook Lambda another
 * (bench/runbook-lambda.ts, bundled as `npm run build` bundles the runbook function, under the V8
 * limits of a 256 MB function and the template's NODE_OPTIONS), whose peak RSS over its whole
 * life is the kernel's high-water mark; moto and the model are other processes.
 *
 * One run at a time, raw moto first, the runbook's loop last (each marker an AWS CLI process).
 * Not even the modeled anchors side by side: moto serves one request at a time, and a listing
 * page costs it ~150 ms of the model's 200, so a second client would lengthen the anchor's calls
 * and flatter drbot.
 *
 * The anchors that make one call at a time (the plain script, the plan's listing loop, the
 * runbook's loop) run on a second model on skipped time (SkippingClock in bench/s3-model.ts): its
 * holds are added up instead of slept, and the anchor's modeled time is its wall time plus what
 * was skipped, which for a one-call-at-a-time client is what the sleeping model's wall clock
 * reads (the plain script's 270 s take ~40). A figure whose S3 requests overlapped is refused.
 * `aws s3 sync` (ten at a time) and drbot run on the sleeping model. DRBOT_BENCH_SLEEP_ANCHORS=1
 * sleeps the one-call-at-a-time anchors too, to compare the two.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import * as esbuild from 'esbuild';
import { buildOptions, configFallbackPlugin, REPO_ROOT } from '../scripts/build';
import { MotoMissingError, type MotoServer, SANDBOX_CREDENTIALS, startMoto } from '../src/local/moto';
import { S3_MODEL, type S3Model, type S3ModelStats, SkippingClock, startS3Model } from './s3-model';
import { LAMBDA_256MB_V8_FLAGS, RUNBOOK_NODE_OPTIONS } from './runbook-lambda-host';
import { benchConfig, CB_PRIMARY, CB_REPLICA, type DrbotTimes, REGION, SCALE_BUCKET } from './scale-config';
import { mapLimit, onCleanup, runNode, tempDir } from './util';

const run = promisify(execFile);

export { CB_PRIMARY, CB_REPLICA, SCALE_BUCKET } from './scale-config';

export interface ScaleSizes {
  objects: number;
  older: number;
  /** Objects of the copy-back case (in the replica), of them `missing` from the primary and `different` in it. */
  copyObjects: number;
  missing: number;
  different: number;
  /** Markers the runbook's loop deletes through the model, and raw (each one an AWS CLI process). */
  loopModeled: number;
  loopRaw: number;
}

export const SCALE_SIZES: ScaleSizes = { objects: 100_000, older: 10_000, copyObjects: 100_000, missing: 20_000, different: 5_000, loopModeled: 200, loopRaw: 20 };

export type Way = 'raw' | 'modeled';
export type ByWay<T> = Record<Way, T>;

export interface ScaleResult {
  skipped: false;
  sizes: ScaleSizes;
  seedSeconds: number;
  undelete: {
    drbot: ByWay<DrbotTimes>;
    plain: ByWay<{ seconds: number; listSeconds: number; lists: number; deletes: number }>;
    loop: ByWay<{ markers: number; seconds: number; perMarker: number }>;
    /** The bucket's state after each run: latest markers (OLDER expected) and current objects (OBJECTS expected). */
    checks: { run: string; notCurrent: number; currentObjects: number; ok: boolean }[];
  };
  copyBack: {
    drbot: ByWay<DrbotTimes>;
    sync: ByWay<{ seconds: number }>;
    /** Both buckets listed one after the other by a plain loop: the plan's anchor. */
    list: ByWay<{ seconds: number }>;
    checks: { run: string; missing: number; different: number; extra: number; ok: boolean }[];
  };
  /**
   * The runbook process: the runbook Lambda's own process in each drbot run (bench/runbook-lambda.ts),
   * its peak RSS over its whole life (load, plan, the approval's replay, the work); `loadedMiB` its
   * resident set once loaded, before the first invocation. `localStackPeakMiB`: the largest peak of
   * the processes that invoked it (Bolt app, Slack stand-in, local runner), for comparison.
   */
  rss: { runbookMiB: number; loadedMiB: number; localStackPeakMiB: number };
  /** What the model saw over the modeled runs: SlowDowns answered, and each partition's busiest second against its limit. */
  model: {
    slowDowns: number;
    partitions: { partition: string; class: string; peakPerSecond: number; limitPerSecond: number }[];
    /** How the model sized the copies: from the listing that named the source, or by a HEAD. */
    copySizes: { listed: number; head: number };
    /** Over all calls, how long moto's own answer ran past the modeled latency (where moto, not the model, set the time). */
    motoOverMs: number;
    /**
     * The one-call-at-a-time anchors' modeled runs: on skipped time (the holds added up, not slept;
     * then the figures above are drbot's and `aws s3 sync`'s calls only, and these the anchors'), or
     * on the sleeping model (then the figures above count them too).
     */
    anchors: { on: 'skipped time' | 'the sleeping model'; skippedSeconds: number; calls: number; slowDowns: number; motoOverMs: number };
    figures: typeof S3_MODEL;
  };
}

function secondsSince(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Seconds on some timeline: the wall clock, or the wall clock plus the holds a model skipped. */
type Seconds = () => number;
const wallSeconds: Seconds = () => Number(process.hrtime.bigint()) / 1e9;

async function timed<T>(fn: () => Promise<T>, now: Seconds = wallSeconds): Promise<{ value: T; seconds: number }> {
  const t = now();
  const value = await fn();
  return { value, seconds: now() - t };
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

/**
 * What the primary lacks or holds otherwise than the replica, and what it holds that the replica
 * does not (none in this estate). The replica is given: listed once after seeding (no case writes
 * to it; the bench lists it again at the end and fails if it changed).
 */
async function copyBackState(s3: S3Client, theirs: ReadonlyMap<string, string>): Promise<{ missing: number; different: number; extra: number }> {
  const mine = await objects(s3, CB_PRIMARY);
  let missing = 0;
  let different = 0;
  for (const [k, v] of theirs) {
    const p = mine.get(k);
    if (p === undefined) missing++;
    else if (p !== v) different++;
  }
  return { missing, different, extra: mine.size - (theirs.size - missing) };
}

/**
 * The plain script: list a page, delete its latest markers within --since (1,000 a call), next
 * page; one call at a time. Its listing calls are timed apart: the same listing a plan needs.
 */
async function plainUndelete(s3: S3Client, bucket: string, prefix: string, since: string, now: Seconds): Promise<{ seconds: number; listSeconds: number; lists: number; deletes: number }> {
  const t = now();
  let listSeconds = 0;
  let lists = 0;
  let deletes = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  const cut = Date.parse(since);
  for (;;) {
    const l = await timed(() => s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker })), now);
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
  return { seconds: now() - t, listSeconds, lists, deletes };
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
async function runbookLoop(endpoint: string, markers: readonly { key: string; versionId: string }[], now: Seconds): Promise<number> {
  const t = now();
  for (const m of markers) {
    await run('aws', ['s3api', 'delete-object', '--bucket', SCALE_BUCKET, '--key', m.key, '--version-id', m.versionId, '--endpoint-url', endpoint], { env: cliEnv(), timeout: 120_000 });
  }
  return now() - t;
}

async function cliAvailable(): Promise<boolean> {
  try {
    await run('aws', ['--version'], { env: cliEnv(), timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The scale bench's runbook Lambda (bench/runbook-lambda.ts), bundled with the options `npm run build`
 * bundles the runbook function with. Refuses to measure a process unlike the deployed one in its
 * NODE_OPTIONS: the template must still set RUNBOOK_NODE_OPTIONS, once.
 */
async function runbookLambdaBundle(): Promise<string> {
  const template = readFileSync(join(REPO_ROOT, 'template.yaml'), 'utf8');
  // One NODE_OPTIONS in the template (Globals), so no function overrides it: a second one fails here.
  const all = [...template.matchAll(/^\s+NODE_OPTIONS:\s*(.+)$/gm)].map((m) => m[1]?.trim());
  const options = all.length === 1 ? all[0] : `${all.length} settings`;
  if (options !== RUNBOOK_NODE_OPTIONS.join(' ')) throw new Error(`template.yaml's NODE_OPTIONS is "${options ?? ''}", the bench runs the runbook Lambda with "${RUNBOOK_NODE_OPTIONS.join(' ')}": update RUNBOOK_NODE_OPTIONS in bench/runbook-lambda-host.ts`);
  const bundle = join(tempDir('drbot-bench-scale-'), 'runbook-lambda.js');
  await esbuild.build({ ...buildOptions(join(__dirname, 'runbook-lambda.ts'), bundle), plugins: [configFallbackPlugin(() => {})], logLevel: 'silent' });
  return bundle;
}

/**
 * One run the way a user does it (the command, the plan posted and parked, an approver's click), in
 * a process of its own: bench/scale-drbot.ts, on the given AWS endpoint.
 */
async function drbotRun(endpoint: string, text: string, runbookBundle: string): Promise<DrbotTimes> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_SCALE_RUN: JSON.stringify({ endpoint, text, runbookBundle }), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  // Past the child's own limits (30 minutes to plan, 60 to run), so it fails with its own message first.
  const { result } = await runNode<DrbotTimes>(join(__dirname, 'scale-drbot.ts'), [], env, 100 * 60_000, [...LAMBDA_256MB_V8_FLAGS, '--import', 'tsx']);
  return result;
}

/** What a drbot run's processes held: the runbook Lambda's peak, and the local stack's beside it. */
function memoryOf(d: DrbotTimes): string {
  return `the runbook Lambda's process peaked at ${d.runbookPeakMiB.toFixed(0)} MiB (${d.runbookLoadedMiB.toFixed(0)} MiB once loaded); the local stack's at ${d.peakRssMiB.toFixed(0)} MiB`;
}

/** One moto, the latency model in front of it, and the model on skipped time for the one-call-at-a-time anchors. */
async function servers(): Promise<{ moto: MotoServer; model: S3Model; skipping: { model: S3Model; clock: SkippingClock } } | { skipped: true; reason: string }> {
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
  const clock = new SkippingClock();
  const skippingModel = await startS3Model({ target: moto.endpoint }, { clock });
  onCleanup(() => skippingModel.close());
  return { moto, model, skipping: { model: skippingModel, clock } };
}

export async function benchScale(sizes: ScaleSizes = SCALE_SIZES, log: (l: string) => void = () => {}): Promise<ScaleResult | { skipped: true; reason: string }> {
  if (!(await cliAvailable())) return { skipped: true, reason: 'the AWS CLI (`aws`) is not installed: it is the anchor of the runbook loop and of `aws s3 sync`' };
  const started = await servers();
  if ('skipped' in started) return started;
  const { moto, model, skipping } = started;
  const endpointOf: ByWay<string> = { raw: moto.endpoint, modeled: model.endpoint };
  const sleepAnchors = process.env.DRBOT_BENCH_SLEEP_ANCHORS === '1';
  /**
   * A one-call-at-a-time anchor: on raw moto by the wall clock; modeled, on the skipping model by
   * its wall time plus the holds skipped (or the sleeping model with DRBOT_BENCH_SLEEP_ANCHORS=1).
   * Refused if two of its S3 requests were ever in flight at once: skipped time would then overstate it.
   */
  const oneAtATime = async <T>(way: Way, what: string, fn: (endpoint: string, now: Seconds) => Promise<T>): Promise<T> => {
    if (way === 'raw') return fn(moto.endpoint, wallSeconds);
    const on = sleepAnchors ? model : skipping.model;
    const overlapped = on.stats().overlapped;
    const value = await fn(on.endpoint, sleepAnchors ? wallSeconds : () => wallSeconds() + skipping.clock.skippedMs / 1000);
    const overlaps = on.stats().overlapped - overlapped;
    if (overlaps > 0) throw new Error(`${what}: ${overlaps} of its S3 requests were sent while another was in flight; its time cannot be taken one call at a time`);
    return value;
  };
  const runbookBundle = await runbookLambdaBundle();
  const direct = s3At(moto.endpoint);
  const putMany = moto.putMany;
  if (!putMany) throw new Error('moto has no bulk put');

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
  const replica = await objects(direct, CB_REPLICA);
  const seedSeconds = secondsSince(t0);
  log(`  seeded ${total.toLocaleString('en-US')} objects and their markers, and ${(sizes.copyObjects + same.length + different.length).toLocaleString('en-US')} copy-back objects, in ${seedSeconds.toFixed(1)} s`);

  // ---- the checks and the resets between runs ----
  const checks: ScaleResult['undelete']['checks'] = [];
  const olderKeys = new Set(older);
  const check = async (runName: string) => {
    // Every key was written once: a key that is not current has a delete marker as its latest version
    // (counted, not listed: the exact key sets below are the check).
    const current = await objects(direct, SCALE_BUCKET);
    const currentObjects = current.size;
    const exact = recent.every((k) => current.has(k)) && ![...current.keys()].some((k) => olderKeys.has(k));
    const s = { notCurrent: total - currentObjects, currentObjects };
    const ok = exact && currentObjects === sizes.objects;
    checks.push({ run: runName, ...s, ok });
    log(`    checked: ${s.currentObjects.toLocaleString('en-US')} current objects, the ${sizes.objects.toLocaleString('en-US')} deleted after --since and none of the ${sizes.older.toLocaleString('en-US')} before it: ${ok ? 'exact' : 'WRONG'}`);
  };
  const recreate = () => deleteKeys(direct, SCALE_BUCKET, recent);
  const cbChecks: ScaleResult['copyBack']['checks'] = [];
  const cbCheck = async (runName: string) => {
    const s = await copyBackState(direct, replica);
    const ok = s.missing === 0 && s.different === 0 && s.extra === 0;
    cbChecks.push({ run: runName, ...s, ok });
    log(`    checked: ${s.missing} missing, ${s.different} different, ${s.extra} only in the primary: ${ok ? 'exact' : 'WRONG'}`);
  };
  const damage = async () => {
    await deleteKeys(direct, CB_PRIMARY, missing);
    await putAll(CB_PRIMARY, different, otherBody);
    const s = await copyBackState(direct, replica);
    if (s.missing !== sizes.missing || s.different !== sizes.different || s.extra !== 0) throw new Error(`copy-back estate not put back: ${s.missing} missing, ${s.different} different, ${s.extra} only in the primary`);
  };
  const text = `restore s3 ${SCALE_BUCKET} --prefix data/ --since ${since}`;
  const copyText = `restore s3 ${CB_PRIMARY} --from-replica`;
  const drbotUndelete = {} as ByWay<DrbotTimes>;
  const plain = {} as ScaleResult['undelete']['plain'];
  const drbotCopy = {} as ByWay<DrbotTimes>;
  const sync = {} as ScaleResult['copyBack']['sync'];
  const list = {} as ScaleResult['copyBack']['list'];
  const undeleteDrbot = async (way: Way) => {
    drbotUndelete[way] = await drbotRun(endpointOf[way], text, runbookBundle);
    log(`  undelete, drbot, ${way}: plan ${drbotUndelete[way].planSeconds.toFixed(1)} s, approve → done ${drbotUndelete[way].seconds.toFixed(1)} s (${drbotUndelete[way].status}), ${memoryOf(drbotUndelete[way])}`);
  };
  const undeletePlain = async (way: Way) => {
    plain[way] = await oneAtATime(way, 'the plain script', (endpoint, now) => plainUndelete(s3At(endpoint), SCALE_BUCKET, 'data/', since, now));
    log(`  undelete, plain script, ${way}: ${plain[way].seconds.toFixed(1)} s (its ${plain[way].lists} listing calls ${plain[way].listSeconds.toFixed(1)} s, ${plain[way].deletes} DeleteObjects)`);
  };
  const copyDrbot = async (way: Way) => {
    list[way] = await oneAtATime(way, 'the listing loop', async (endpoint, now) => {
      const c = s3At(endpoint);
      return { seconds: (await timed(async () => (await objects(c, CB_PRIMARY)).size + (await objects(c, CB_REPLICA)).size, now)).seconds };
    });
    drbotCopy[way] = await drbotRun(endpointOf[way], copyText, runbookBundle);
    log(`  copy-back, drbot, ${way}: plan ${drbotCopy[way].planSeconds.toFixed(1)} s (both buckets listed by a plain loop: ${list[way].seconds.toFixed(1)} s), approve → done ${drbotCopy[way].seconds.toFixed(1)} s (${drbotCopy[way].status}), ${memoryOf(drbotCopy[way])}`);
  };
  const copySync = async (way: Way) => {
    const s = await timed(() => run('aws', ['s3', 'sync', `s3://${CB_REPLICA}/`, `s3://${CB_PRIMARY}/`, '--only-show-errors', '--endpoint-url', endpointOf[way]], { env: cliEnv(), timeout: 60 * 60_000, maxBuffer: 64 * 1024 * 1024 }));
    sync[way] = { seconds: s.seconds };
    log(`  copy-back, aws s3 sync, ${way}: ${s.seconds.toFixed(1)} s`);
  };

  // Each case, then its check and the estate put back: raw moto first, then the model.
  const cases = async (way: Way) => {
    await undeleteDrbot(way);
    await check(`drbot ${way}`);
    await recreate();
    await undeletePlain(way);
    await check(`plain ${way}`);
    await recreate();
    await copyDrbot(way);
    await cbCheck(`drbot ${way}`);
    await damage();
    await copySync(way);
    await cbCheck(`sync ${way}`);
    await damage();
  };
  await cases('raw');
  model.reset();
  await cases('modeled');
  const modelStats = model.stats();

  // ---- the runbook's loop, alone: each marker is an AWS CLI process, CPU-bound ----
  const loop = {} as ScaleResult['undelete']['loop'];
  // Markers of recent keys (deleted after --since), from the start of the listing until there are enough.
  const picked: { key: string; versionId: string }[] = [];
  for (let keyMarker: string | undefined, versionIdMarker: string | undefined; picked.length < Math.max(sizes.loopModeled, sizes.loopRaw); ) {
    const page = await direct.send(new ListObjectVersionsCommand({ Bucket: SCALE_BUCKET, Prefix: 'data/', KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const m of page.DeleteMarkers ?? []) if (m.IsLatest && m.Key && m.VersionId && (m.LastModified?.getTime() ?? 0) >= Date.parse(since)) picked.push({ key: m.Key, versionId: m.VersionId });
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  for (const way of ['raw', 'modeled'] as const) {
    const n = way === 'raw' ? sizes.loopRaw : sizes.loopModeled;
    const markers = picked.slice(0, n);
    if (markers.length < n) throw new Error(`only ${markers.length} markers to sample for the runbook's loop`);
    const seconds = await oneAtATime(way, "the runbook's loop", (endpoint, now) => runbookLoop(endpoint, markers, now));
    loop[way] = { markers: n, seconds, perMarker: seconds / n };
    log(`  undelete, the runbook's loop, ${way}: ${n} markers in ${seconds.toFixed(1)} s (${(seconds / n).toFixed(3)} s each)`);
    await deleteKeys(direct, SCALE_BUCKET, markers.map((m) => m.key));
  }

  // No case may write to the replica: every copy-back check compared the primary with its listing from seeding.
  const replicaAfter = await objects(direct, CB_REPLICA);
  if (replicaAfter.size !== replica.size || [...replica].some(([k, v]) => replicaAfter.get(k) !== v)) {
    throw new Error(`the replica changed during the bench (${replica.size} objects listed after seeding, ${replicaAfter.size} now): the copy-back checks compared against a stale listing`);
  }

  const seen = (st: S3ModelStats) => st.partitions.map((p) => ({ partition: p.partition, class: p.class, peakPerSecond: p.peakPerSecond, limitPerSecond: p.limitPerSecond }));
  const slowDowns = (st: S3ModelStats) => Object.values(st.ops).reduce((n, o) => n + (o?.slowDowns ?? 0), 0);
  const motoOver = (st: S3ModelStats) => Object.values(st.ops).reduce((n, o) => n + (o?.motoOverMs ?? 0), 0);
  return {
    skipped: false,
    sizes,
    seedSeconds,
    undelete: { drbot: drbotUndelete, plain, loop, checks },
    copyBack: { drbot: drbotCopy, sync, list, checks: cbChecks },
    rss: (() => {
      const runs = [drbotUndelete, drbotCopy].flatMap((d) => [d.raw, d.modeled]);
      return { runbookMiB: Math.max(...runs.map((r) => r.runbookPeakMiB)), loadedMiB: Math.max(...runs.map((r) => r.runbookLoadedMiB)), localStackPeakMiB: Math.max(...runs.map((r) => r.peakRssMiB)) };
    })(),
    model: {
      slowDowns: slowDowns(modelStats),
      partitions: seen(modelStats),
      copySizes: modelStats.copySizes,
      motoOverMs: motoOver(modelStats),
      anchors: (() => {
        const st = skipping.model.stats();
        const calls = Object.values(st.ops).reduce((n, o) => n + (o?.calls ?? 0), 0);
        return { on: sleepAnchors ? ('the sleeping model' as const) : ('skipped time' as const), skippedSeconds: skipping.clock.skippedMs / 1000, calls, slowDowns: slowDowns(st), motoOverMs: motoOver(st) };
      })(),
      figures: S3_MODEL,
    },
  };
}
