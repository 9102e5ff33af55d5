/**
 * `npm run bench`: drbot measured side by side with a minimal Bolt app in the same run (the
 * machine is noisy; ratios are what count, and no timing ever fails the run).
 *
 *   1. bundle sizes             buildAll() vs the minimal app built with the same buildOptions()
 *   2. cold start               10 fresh `node` processes each, A/B alternating, median
 *   3. warm /dr help            1,000 signed requests after 50 warm-ups, p50/p99
 *   4. warm /dr restore s3 ack  200 signed requests, each its own trigger_id, p50/p99
 *  4b. request → response       cold and warm, post-ack work included, with the audit write
 *                               delayed 15 ms (in-region) and 2 s (stalled)
 *   5. undelete throughput      10,000 deleted objects on moto: the runbook vs a plain loop
 *   6. alarm storm              500 notifications across 20 alarms, if src/alarms is built
 *   7. npm start to ready       fresh `tsx src/local/main.ts` to its ready line (moto, seed), median of 3
 *   8. exports                  IAM export of 300 roles vs backup-iam.sh; Route53 export of 10,000 records
 *   9. route53 restore          10,000 records after 3,000 changed and 1,000 deleted: drbot vs
 *                               restore-route53.sh vs a plain chunked UPSERT loop; correctness, then time
 *
 *  10. cutover                  /dr cutover dynamodb of a 20,000-item table, 10 % differing: items/s, write units vs the minimum
 *
 *  11. scale                    issue 13: undelete of 100,000 objects and copy-back of 100,000 (25,000 to copy),
 *                               raw moto and on the S3 latency model (bench/s3-model.ts), against the plain
 *                               script, the runbook's loop and `aws s3 sync`; peak RSS
 *
 * `npm run bench -- alarms` (or `bundles`, `latency`, `undelete`, `startup`, `exports`, `route53`, `cutover`, `scale`) runs only the named sections;
 * DRBOT_BENCH_SCALE=N runs section 11 at N objects instead of 100,000 (the other sizes in proportion);
 * DRBOT_BENCH_SLEEP_ANCHORS=1 times its one-call-at-a-time anchors on the sleeping model, not on skipped time;
 * `latency` (2-4) builds the bundles too.
 *
 * Prints one table per section as it completes, a summary of the ratios, then a JSON summary.
 * Exits 0 unless the harness itself fails (a section that throws is reported and exits 1).
 */
import { benchAckTail, type AckTailResult } from './ack-tail';
import { benchAlarmStorm, EARLIER_IN_MEMORY, type AlarmStormResult } from './alarms';
import { buildBundles, type BundlesResult } from './bundles';
import { benchCutover, type CutoverBenchResult } from './cutover';
import { startDynamo, startFakeLambda } from './fakes';
import { coldStart, warmAck, warmHelp, type AckResult, type Apps, type ColdStartResult, type WarmSide } from './latency';
import { benchExports } from './exports';
import { benchRoute53Restore, type Route53RestoreResult } from './route53-restore';
import { benchStartup } from './startup';
import { benchUndelete, type UndeleteResult } from './undelete';
import { benchScale, SCALE_SIZES, type ScaleResult, type ScaleSizes } from './scale';
import { cleanup, fmtBytes, fmtInt, fmtMs, fmtX, heading, onCleanup, ratio, round, table, tempDir, verdict } from './util';

const TARGET_BUNDLE_RATIO = 1.5;
const TARGET_COLD_RATIO = 1.5;
const TARGET_WARM_P99_MS = 50;
const COLD_RUNS = 10;
const WARM_REQUESTS = 1000;
const WARM_WARMUP = 50;
const ACK_REQUESTS = 200;
const ACK_WARMUP = 20;
const UNDELETE_OBJECTS = 10_000;
const UNDELETE_ROUNDS = 2;
const STARTUP_RUNS = 3;
const CUTOVER_ITEMS = 20_000;
const TARGET_STARTUP_MS = 5000;

const errors: { section: string; error: string }[] = [];

const SECTIONS = ['bundles', 'latency', 'undelete', 'alarms', 'startup', 'exports', 'route53', 'cutover', 'scale'] as const;
const only = process.argv.slice(2);
const unknownSections = only.filter((a) => !(SECTIONS as readonly string[]).includes(a));
if (unknownSections.length) {
  console.error(`drbot bench: unknown section ${unknownSections.join(', ')}; choose from ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const wanted = (name: (typeof SECTIONS)[number]) => only.length === 0 || only.includes(name);

async function section<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    errors.push({ section: name, error: msg });
    console.log(`  ERROR (${name}): ${msg}`);
    if (e instanceof Error && e.stack) console.error(e.stack.split('\n').slice(1, 6).join('\n'));
    return undefined;
  }
}

function printBundles(b: BundlesResult): number {
  const slack = b.handlers.find((h) => h.name === 'slack');
  const r = ratio(slack?.bytes ?? NaN, b.minimal.bytes);
  console.log(
    table([
      ['bundle', 'bytes', 'size', 'gzip -9'],
      ...b.handlers.map((h) => [h.path, fmtInt(h.bytes), fmtBytes(h.bytes), fmtBytes(h.gzipBytes)]),
      [`minimal Bolt app ${b.minimal.path}`, fmtInt(b.minimal.bytes), fmtBytes(b.minimal.bytes), fmtBytes(b.minimal.gzipBytes)],
    ]),
  );
  const top = b.composition.slice(0, 8);
  if (top.length) {
    console.log('  where slack.js is bigger (output bytes by package, largest difference first):');
    console.log(
      table([
        ['package', 'slack.js', 'minimal', 'difference'],
        ...top.map((c) => [c.name, fmtBytes(c.slackBytes), fmtBytes(c.minimalBytes), `+${fmtBytes(c.slackBytes - c.minimalBytes)}`]),
      ])
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  const gz = ratio(slack?.gzipBytes ?? NaN, b.minimal.gzipBytes);
  console.log(`  slack.js / minimal: ${fmtX(r)} (gzip ${fmtX(gz)})   target ≤ ${TARGET_BUNDLE_RATIO}×  ${verdict(r <= TARGET_BUNDLE_RATIO)}   (built in ${b.buildMs} ms)`);
  return r;
}

function printCold(c: ColdStartResult): number {
  const row = (label: string, a: number, b: number) => [label, fmtMs(a), fmtMs(b), fmtX(ratio(a, b))];
  console.log(
    table([
      [`median of ${c.drbot.runs} fresh processes`, 'drbot slack.js', 'minimal', 'ratio'],
      row('process start → response (performance.now)', c.drbot.startToResponseMs, c.minimal.startToResponseMs),
      row('  require(bundle)', c.drbot.requireMs, c.minimal.requireMs),
      row('  first signed /dr help', c.drbot.firstRequestMs, c.minimal.firstRequestMs),
      row('  runner top → response (require + request)', c.drbot.runnerMs, c.minimal.runnerMs),
      row('process wall time, spawn → exit (parent)', c.drbot.wallMs, c.minimal.wallMs),
    ]),
  );
  const r = ratio(c.drbot.startToResponseMs, c.minimal.startToResponseMs);
  const failures = c.drbot.failures + c.minimal.failures;
  console.log(`  cold start ratio: ${fmtX(r)}   target ≤ ${TARGET_COLD_RATIO}×  ${verdict(r <= TARGET_COLD_RATIO)}${failures ? `   (${failures} runs answered wrongly!)` : ''}`);
  console.log(`  samples (ms): drbot ${c.drbot.samples.map((s) => s.toFixed(0)).join(' ')} | minimal ${c.minimal.samples.map((s) => s.toFixed(0)).join(' ')}`);
  return r;
}

function printWarm(w: { drbot: WarmSide; minimal: WarmSide }): { p50: number; p99: number } {
  const row = (label: string, k: 'p50' | 'p99' | 'max') => [label, fmtMs(w.drbot[k]), fmtMs(w.minimal[k]), fmtX(ratio(w.drbot[k], w.minimal[k]))];
  console.log(
    table([
      [`${fmtInt(w.drbot.count)} sequential requests, one process each`, 'drbot slack.js', 'minimal', 'ratio'],
      row('p50', 'p50'),
      row('p99', 'p99'),
      row('max', 'max'),
    ]),
  );
  for (const [name, s] of [['drbot', w.drbot], ['minimal', w.minimal]] as const) {
    if (s.failures) console.log(`  ! ${name}: ${s.failures} wrong answers, first: ${s.firstFailure}`);
  }
  console.log(`  drbot p99 ${fmtMs(w.drbot.p99)}   target < ${TARGET_WARM_P99_MS} ms  ${verdict(w.drbot.p99 < TARGET_WARM_P99_MS)}`);
  return { p50: ratio(w.drbot.p50, w.minimal.p50), p99: ratio(w.drbot.p99, w.minimal.p99) };
}

function printAckTail(t: AckTailResult): void {
  console.log(
    table([
      ['request → HTTP response, Lambda handler path', 'audit PutItem', 'cold median / max', 'warm p50 / p99'],
      ...t.rows.map((r) => [
        `${r.command} (${r.scenario})`,
        `+${fmtInt(r.putItemDelayMs)} ms`,
        `${fmtMs(r.cold.medianMs)} / ${fmtMs(r.cold.maxMs)}`,
        `${fmtMs(r.warm.p50)} / ${fmtMs(r.warm.p99)}`,
      ]),
    ]),
  );
  const bad = t.rows.filter((r) => r.cold.failures || r.warm.failures);
  console.log(`  cold: a fresh process's first request (require excluded); warm: ${t.rows[0]?.warm.count ?? 0} sequential requests. Every answer ${bad.length ? `NOT ok in ${bad.map((r) => `${r.command} (${r.scenario})`).join(', ')}` : 'was the expected one'}.`);
  console.log(`  post-ack work is waited for at most ${t.budgetMs} ms before the response; a stalled audit write finishes after it`);
  const worst = Math.max(...t.rows.map((r) => Math.max(r.cold.maxMs, r.warm.p99)));
  console.log(`  worst request → response under Slack's 3 s: ${verdict(worst < 3000)}`);
}

function printAck(a: AckResult): void {
  console.log(
    table([
      [`/dr restore s3 ${a.bucket}, ${a.count} requests`, 'drbot slack.js'],
      ['p50', fmtMs(a.p50)],
      ['p99', fmtMs(a.p99)],
      ['max', fmtMs(a.max)],
    ]),
  );
  console.log(
    `  every ack ${a.failures ? `NOT ok: ${a.failures} wrong answers, first: ${a.firstFailure}` : 'said "Started run"'}; fake Lambda took ${a.invokes} async invokes with ${a.distinctExecutions} distinct durable execution names for ${a.requests} requests (incl. ${ACK_WARMUP} warm-ups)`,
  );
  console.log(`  p99 under Slack's 3 s ack window: ${verdict(a.p99 < 3000)}`);
}

function printUndelete(u: UndeleteResult): number {
  if (u.skipped) {
    console.log(`  skipped: ${u.reason}`);
    return NaN;
  }
  const r = ratio(u.drbot.objectsPerSecond, u.plain.objectsPerSecond);
  const plainWithVerify = u.plain.restored / (u.plain.seconds + u.plain.verifySeconds);
  console.log(
    table([
      [`${fmtInt(u.objects)} deleted objects on moto, ${u.rounds} runs each (A/B/B/A)`, 'drbot runbook', 'plain loop', 'ratio'],
      ['time per run', u.drbot.runSeconds.map((x) => `${x.toFixed(1)} s`).join(', '), u.plain.runSeconds.map((x) => `${x.toFixed(1)} s`).join(', '), ''],
      ['time, all runs', `${u.drbot.seconds.toFixed(1)} s`, `${u.plain.seconds.toFixed(1)} s`, fmtX(ratio(u.drbot.seconds, u.plain.seconds))],
      ['objects restored, all runs', fmtInt(u.drbot.restored), fmtInt(u.plain.restored), ''],
      ['objects/s', `${fmtInt(u.drbot.objectsPerSecond)}/s`, `${fmtInt(u.plain.objectsPerSecond)}/s`, fmtX(r)],
      ['latest delete markers left (listed, worst run)', fmtInt(u.drbot.latestDeleteMarkersAfter), fmtInt(u.plain.latestDeleteMarkersAfter), ''],
      ['current objects after (listed, worst run)', fmtInt(u.drbot.currentObjectsAfter), fmtInt(u.plain.currentObjectsAfter), ''],
    ]),
  );
  console.log(`  drbot: timed from the Approve click to the runner idle (execute slices, checkpoints, Slack progress, its own verify listing); run ${u.drbot.runStatus}`);
  console.log(`         message: "${u.drbot.finalMessage}"`);
  console.log(`  plain: ${u.plain.calls?.list} ListObjectVersions + ${u.plain.calls?.delete} DeleteObjects calls a run, sequential, no verify`);
  console.log(
    `  like for like (plain + its ${u.plain.verifySeconds.toFixed(1)} s verify listing): ${fmtInt(plainWithVerify)}/s, drbot ${fmtX(ratio(u.drbot.objectsPerSecond, plainWithVerify))}`,
  );
  const ok = u.drbot.latestDeleteMarkersAfter === 0 && u.plain.latestDeleteMarkersAfter === 0 && u.drbot.currentObjectsAfter === u.objects && u.plain.currentObjectsAfter === u.objects;
  console.log(`  both buckets verified: 0 latest delete markers and ${fmtInt(u.objects)} current objects: ${ok ? 'yes' : 'NO'}`);
  console.log(`  (setup, not timed: seeding ${u.seedSeconds.toFixed(1)} s; command → plan posted ${u.planSeconds.map((x) => `${x.toFixed(1)} s`).join(', ')})`);
  return r;
}

function printAlarms(a: AlarmStormResult): void {
  if (!a.built) {
    console.log(`  alarms: not built yet (${a.reason})`);
    return;
  }
  const earlier = EARLIER_IN_MEMORY;
  console.log(
    table([
      [`storm: ${a.notifications} notifications, ${a.alarms} alarms, all at once`, 'DynamoAlarmStore on dynalite', 'earlier: in-memory twin (README)'],
      ['notifications handled per second', `${fmtInt(a.perSecond)}/s`, `${fmtInt(earlier.perSecond)}/s`],
      ['wall time', fmtMs(a.seconds * 1000), ''],
      ['Slack calls per notification', a.slackCallsPerNotification.toFixed(3), earlier.slackCallsPerNotification.toFixed(3)],
      ['Slack calls (post / thread reply / update)', `${a.calls.post} / ${a.calls.threadReply} / ${a.calls.update}`, ''],
      ['new messages per channel', Object.entries(a.postsPerChannel).map(([c, n]) => `${c} ${n}`).join(', ') || 'none', ''],
      ['notifications recorded', `${a.recorded} / ${a.notifications}`, ''],
      ['alarms in their newest state', `${a.finalStatesRight} / ${a.alarms}`, ''],
      ['messages behind their stored state', String(a.staleMessages), ''],
      ['redelivery of all 500: duplicates / Slack calls', `${a.redelivery.duplicates} / ${a.redelivery.slackCalls}`, ''],
    ]),
  );
  console.log(`  (the production store on dynalite in this process, and a Slack fake that answers at once; the in-memory figure is an earlier measurement, not this run)`);
}

const fmtS = (seconds: number) => `${seconds.toFixed(1)} s`;

function printRoute53(r: Route53RestoreResult | { skipped: true; reason: string }): void {
  if ('skipped' in r) {
    console.log(`  skipped: ${r.reason}`);
    return;
  }
  const s = r.script;
  console.log(
    table([
      [`${fmtInt(r.records)} record sets, ${fmtInt(r.changed)} changed + ${fmtInt(r.deleted)} deleted`, 'differences after', 'time', 'calls'],
      ['drbot (approve → done, its own diff and verify listings)', fmtInt(r.drbot.differencesAfter), fmtS(r.drbot.seconds), `${fmtInt(r.drbot.batches)} batches, ${fmtInt(r.drbot.changesSent)} changes`],
      ['plain chunked UPSERT loop (500 a call, no verify)', fmtInt(r.plain.differencesAfter), fmtS(r.plain.seconds), `${fmtInt(r.plain.calls)} calls, ${fmtInt(r.plain.upserts)} UPSERTs`],
      ['  + its verify listing', '', fmtS(r.plain.verifySeconds), ''],
      s.skipped ? ['restore-route53.sh', 'skipped', s.reason, ''] : ['restore-route53.sh (one UPSERT batch of everything)', fmtInt(s.differencesAfter), fmtS(s.seconds), `${fmtInt(s.cliCalls)} CLI call`],
    ]),
  );
  if (!s.skipped) console.log(`  restore-route53.sh exited ${s.exitCode} and printed "${s.printed}", but: ${s.error || 'no error shown'}`);
  console.log(`  correctness: drbot ${r.drbot.differencesAfter === 0 ? 'equals' : 'DIFFERS from'} the export, the plain loop ${r.plain.differencesAfter === 0 ? 'equals' : 'DIFFERS from'} it${s.skipped ? '' : `, the script left all ${fmtInt(s.differencesAfter)} of ${fmtInt(r.damage)} differences`}`);
  console.log(`  drbot ÷ plain loop with its verify listing: ${fmtX(ratio(r.drbot.seconds, r.plain.seconds + r.plain.verifySeconds))}; drbot ÷ plain loop alone: ${fmtX(ratio(r.drbot.seconds, r.plain.seconds))}`);
  console.log(`  drbot: ${r.drbot.runStatus}; message: "${r.drbot.finalMessage}"`);
  console.log(`  (setup, not timed: seeding ${r.seedSeconds.toFixed(1)} s, export ${r.exportSeconds.toFixed(1)} s; command → plan posted ${r.drbot.planSeconds.toFixed(1)} s)`);
}

function printCutover(c: CutoverBenchResult): void {
  if (c.skipped) {
    console.log(`  skipped: ${c.reason}`);
    return;
  }
  const toWrite = c.different + c.missing;
  console.log(
    table([
      [`${fmtInt(c.items)} restored items; live: ${fmtInt(c.different)} overwritten, ${fmtInt(c.missing)} deleted, ${fmtInt(c.extra)} added`, 'drbot'],
      ['plan: full diff of both tables (not timed)', `${c.planSeconds.toFixed(1)} s`],
      ['approve → done (backup, chunks, verify)', `${c.seconds.toFixed(1)} s`],
      ['table items/s', `${fmtInt(c.itemsPerSecond)}/s`],
      ['items written or deleted/s', `${fmtInt(c.writesPerSecond)}/s`],
      ['items written / deleted (BatchWriteItem, recorded)', `${fmtInt(c.sent.puts)} / ${fmtInt(c.sent.deletes)} in ${fmtInt(c.sent.calls)} calls, largest ${c.sent.largestCall}`],
      ['write units: reported spent / sent (recorded)', `${fmtInt(c.reportedUnits)} / ${fmtInt(c.sent.units)}`],
      ['write units: minimum (only what differs) / full copy', `${fmtInt(c.minimumUnits)} / ${fmtInt(c.fullCopyUnits)}`],
      ['differences after (independent scan of both tables)', fmtInt(c.differencesAfter)],
    ]),
  );
  const exact = c.sent.puts === toWrite && c.sent.deletes === c.extra && c.reportedUnits === c.minimumUnits && c.differencesAfter === 0;
  console.log(`  run ${c.runStatus}; only the differing items written, at the minimum units, and the tables equal: ${exact ? 'yes' : 'NO'}`);
  console.log(`  (setup, not timed: seeding ${c.seedSeconds.toFixed(1)} s with BatchWriteItem calls of 25, 16 at once)`);
}

function scaleSizes(): ScaleSizes {
  const n = Number(process.env.DRBOT_BENCH_SCALE ?? SCALE_SIZES.objects);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`DRBOT_BENCH_SCALE must be a whole number of at least 1,000 (got ${process.env.DRBOT_BENCH_SCALE})`);
  const f = n / SCALE_SIZES.objects;
  return { ...SCALE_SIZES, objects: n, older: Math.round(SCALE_SIZES.older * f), copyObjects: Math.round(SCALE_SIZES.copyObjects * f), missing: Math.round(SCALE_SIZES.missing * f), different: Math.round(SCALE_SIZES.different * f) };
}

/** Issue 13's table: each case on the model and on raw moto, against its anchor and target. */
function printScale(r: ScaleResult | { skipped: true; reason: string }): void {
  if (r.skipped) {
    console.log(`  skipped: ${r.reason}`);
    return;
  }
  const u = r.undelete;
  const c = r.copyBack;
  const n = r.sizes.objects;
  const both = (f: (w: 'raw' | 'modeled') => number) => ({ modeled: f('modeled'), raw: f('raw') });
  const speedPlain = both((w) => ratio(u.plain[w].seconds, u.drbot[w].seconds));
  const speedLoop = both((w) => ratio(u.loop[w].perMarker * n, u.drbot[w].seconds));
  const speedSync = both((w) => ratio(c.sync[w].seconds, c.drbot[w].seconds));
  const planUndelete = both((w) => ratio(u.drbot[w].planSeconds, u.plain[w].listSeconds));
  const planCopy = both((w) => ratio(c.drbot[w].planSeconds, c.list[w].seconds));
  const fmtS = (x: number) => `${x.toFixed(1)} s`;
  const row = (name: string, anchor: string, drbot: (w: 'raw' | 'modeled') => string, other: (w: 'raw' | 'modeled') => string, x: { modeled: number; raw: number }, target: string, ok: boolean) => [
    name,
    anchor,
    `${drbot('modeled')} vs ${other('modeled')}: ${fmtX(x.modeled)}`,
    `${drbot('raw')} vs ${other('raw')}: ${fmtX(x.raw)}`,
    target,
    verdict(ok),
  ];
  console.log(
    table([
      ['case', 'anchor', 'modeled: drbot vs anchor', 'raw moto: drbot vs anchor', 'target', 'verdict'],
      row(`undelete ${fmtInt(n)} (--since leaves ${fmtInt(r.sizes.older)})`, 'plain script', (w) => fmtS(u.drbot[w].seconds), (w) => fmtS(u.plain[w].seconds), speedPlain, '≥ 3× modeled, ≥ 1.0× raw', speedPlain.modeled >= 3 && speedPlain.raw >= 1),
      row(`undelete ${fmtInt(n)}`, `runbook loop (${u.loop.modeled.markers} / ${u.loop.raw.markers} markers, extrapolated)`, (w) => fmtS(u.drbot[w].seconds), (w) => fmtS(u.loop[w].perMarker * n), speedLoop, '≥ 500× modeled', speedLoop.modeled >= 500),
      row(`copy-back ${fmtInt(r.sizes.copyObjects)} (${fmtInt(r.sizes.missing)} missing, ${fmtInt(r.sizes.different)} different)`, 'aws s3 sync', (w) => fmtS(c.drbot[w].seconds), (w) => fmtS(c.sync[w].seconds), speedSync, '≥ 2× modeled, ≥ 1.2× raw', speedSync.modeled >= 2 && speedSync.raw >= 1.2),
      row('time to plan: undelete', "the plain script's listing", (w) => fmtS(u.drbot[w].planSeconds), (w) => fmtS(u.plain[w].listSeconds), planUndelete, '≤ 1.2× (drbot ÷ anchor)', planUndelete.modeled <= 1.2 && planUndelete.raw <= 1.2),
      row('time to plan: copy-back', 'both buckets listed by a plain loop', (w) => fmtS(c.drbot[w].planSeconds), (w) => fmtS(c.list[w].seconds), planCopy, '≤ 1.2× (drbot ÷ anchor)', planCopy.modeled <= 1.2 && planCopy.raw <= 1.2),
      [
        'peak RSS of the runbook process',
        "the runbook Lambda's own process, the most of the four runs (256 MB V8 limits, the template's NODE_OPTIONS)",
        `${r.rss.runbookMiB.toFixed(0)} MiB (${r.rss.loadedMiB.toFixed(0)} once loaded; the local stack that invoked it: ${r.rss.localStackPeakMiB.toFixed(0)} MiB)`,
        '',
        // Lambda's "256 MB" is 256 MiB (its V8 flags above are MiB too).
        '< 256 MiB',
        verdict(r.rss.runbookMiB < 256),
      ],
    ]),
  );
  console.log('  speed ratios are anchor ÷ drbot (how many times faster); plan ratios drbot ÷ anchor');
  const checks = [...u.checks.map((x) => `${x.run}: ${x.ok ? 'exact' : `WRONG (${x.currentObjects} current, ${x.notCurrent} not)`}`), ...c.checks.map((x) => `${x.run}: ${x.ok ? 'exact' : `WRONG (${x.missing} missing, ${x.different} different, ${x.extra} only in the primary)`}`)];
  console.log(`  end state checked by listing after every run: ${checks.join('; ')}`);
  console.log(`  drbot: undelete ${u.drbot.modeled.status} / ${u.drbot.raw.status}; copy-back ${c.drbot.modeled.status} / ${c.drbot.raw.status}`);
  const a = r.model.anchors;
  const whose = a.on === 'skipped time' ? " (drbot's and aws s3 sync's calls)" : '';
  console.log(`  model${whose}: ${fmtInt(r.model.slowDowns)} SlowDowns answered; busiest second per partition: ${r.model.partitions.map((p) => `${p.partition} ${p.class} ${fmtInt(p.peakPerSecond)}/${fmtInt(p.limitPerSecond)}`).join(', ')}`);
  console.log(`  model: copies sized by the listing that named the source ${fmtInt(r.model.copySizes.listed)}, by a HEAD ${fmtInt(r.model.copySizes.head)}; moto's own time past the modeled latency, over ${a.on === 'skipped time' ? 'those' : 'all'} calls: ${(r.model.motoOverMs / 1000).toFixed(1)} s`);
  console.log(
    a.on === 'skipped time'
      ? `  model: the one-call-at-a-time anchors (plain script, listing loop, runbook's loop) on skipped time: ${fmtInt(a.calls)} S3 calls, ${a.skippedSeconds.toFixed(1)} s of holds added up instead of slept, ${fmtInt(a.slowDowns)} SlowDowns, moto's own time past the modeled latency ${(a.motoOverMs / 1000).toFixed(1)} s (DRBOT_BENCH_SLEEP_ANCHORS=1 sleeps them)`
      : '  model: the one-call-at-a-time anchors on the sleeping model (DRBOT_BENCH_SLEEP_ANCHORS=1)',
  );
  console.log('  the model: ' + r.model.figures.map((f) => `${f.op} ${f.latency}`).join('; '));
  console.log(`  (setup, not timed: seeding ${r.seedSeconds.toFixed(1)} s)`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const tmp = tempDir();
  console.log(`drbot bench — Node ${process.version}, ${new Date().toISOString()}; ratios are drbot ÷ comparison, measured in this run`);

  let bundles: BundlesResult | undefined;
  if (wanted('bundles') || wanted('latency')) {
    heading('1. Bundles');
    bundles = await section('bundles', () => buildBundles(tmp));
  }
  const bundleRatio = bundles ? printBundles(bundles) : NaN;

  let cold: ColdStartResult | undefined;
  let warm: { drbot: WarmSide; minimal: WarmSide } | undefined;
  let ack: AckResult | undefined;
  let tail: AckTailResult | undefined;
  let coldRatio = NaN;
  let warmRatios = { p50: NaN, p99: NaN };
  if (bundles && wanted('latency')) {
    const apps = await section('fakes', async (): Promise<Apps> => {
      const dynamo = await startDynamo();
      onCleanup(() => dynamo.close());
      const lambda = await startFakeLambda();
      onCleanup(() => lambda.close());
      return { runner: bundles.runner, slackBundle: bundles.slackBundle, minimalBundle: bundles.minimalBundle, dynamo, lambda, tmp };
    });
    if (apps) {
      heading('2. Cold start: require + first signed /dr help');
      cold = await section('cold start', () => coldStart(apps, COLD_RUNS, console.log));
      if (cold) coldRatio = printCold(cold);

      heading('3. Warm latency: signed /dr help');
      warm = await section('warm latency', () => warmHelp(apps, WARM_REQUESTS, WARM_WARMUP));
      if (warm) warmRatios = printWarm(warm);

      heading('4. Warm ack latency: signed /dr restore s3');
      ack = await section('ack latency', () => warmAck(apps, ACK_REQUESTS, ACK_WARMUP));
      if (ack) printAck(ack);
      if (ack && apps.lambda.unexpected.length) console.log(`  ! fake Lambda got unexpected requests: ${apps.lambda.unexpected.join(', ')}`);

      heading('4b. Request → HTTP response with post-ack work (audit write delayed), cold and warm');
      tail = await section('ack tail', () => benchAckTail(apps, 5, 40, 5, console.log));
      if (tail) printAckTail(tail);
    }
  } else if (wanted('latency')) {
    console.log('  (sections 2-4 need the bundles; skipped)');
  }

  let undelete: UndeleteResult | undefined;
  if (wanted('undelete')) {
    heading(`5. Undelete throughput: ${fmtInt(UNDELETE_OBJECTS)} deleted objects on moto`);
    undelete = await section('undelete', () => benchUndelete(UNDELETE_OBJECTS, UNDELETE_ROUNDS, console.log));
  }
  const undeleteRatio = undelete ? printUndelete(undelete) : NaN;

  let alarms: AlarmStormResult | undefined;
  if (wanted('alarms')) {
    heading('6. Alarm storm');
    alarms = await section('alarms', () => benchAlarmStorm());
    if (alarms) printAlarms(alarms);
  }

  let startup: Awaited<ReturnType<typeof benchStartup>> | undefined;
  if (wanted('startup')) {
    heading(`7. npm start to its ready line (sandbox), ${STARTUP_RUNS} fresh starts`);
    startup = await section('startup', () => benchStartup(STARTUP_RUNS));
    if (startup) {
      console.log(
        table([
          ['run', 'spawn → first line', 'moto ready → seeded', 'spawn → ready'],
          ...startup.runs.map((r, i) => [String(i + 1), fmtMs(r.firstLineMs), fmtMs(r.seedMs), fmtMs(r.readyMs)]),
          ['median', fmtMs(startup.medianFirstLineMs), fmtMs(startup.medianSeedMs), fmtMs(startup.medianReadyMs)],
        ]),
      );
      console.log(`  ready in ${fmtMs(startup.medianReadyMs)}   target < ${TARGET_STARTUP_MS} ms on an idle machine  ${verdict(startup.medianReadyMs < TARGET_STARTUP_MS)}`);
    }
  }

  let exportsResult: Awaited<ReturnType<typeof benchExports>> | undefined;
  if (wanted('exports')) {
    heading('8. Exports on moto: IAM (300 roles) vs backup-iam.sh; Route53 (10,000 records)');
    exportsResult = await section('exports', () => benchExports());
    if (exportsResult) {
      const e = exportsResult;
      console.log(
        table([
          ['measure', 'drbot', 'comparison', 'ratio'],
          [`IAM export, ${e.iam.roles} roles`, fmtMs(e.iam.drbotMs), `backup-iam.sh: ${fmtMs(e.iam.scriptMs)} for ${e.iam.scriptRoles} roles (${e.iam.cliCalls} CLI calls), ${fmtMs(e.iam.scriptMsAt300)} scaled to ${e.iam.roles}`, `${fmtX(e.iam.speedup)} (≥ ${fmtX(e.iam.speedupLowerBound)} unscaled)`],
          [`Route53 export, ${fmtInt(e.route53.records)} record sets`, fmtMs(e.route53.ms), `object ${fmtBytes(e.route53.bytes)}, ${e.route53.pages} pages`, ''],
        ]),
      );
      console.log(`  IAM export speed-up target ≥ 20×  ${verdict(e.iam.speedup >= 20)}`);
    }
  }

  let route53: Awaited<ReturnType<typeof benchRoute53Restore>> | undefined;
  if (wanted('route53')) {
    heading('9. Route53 restore on moto: 10,000 records after 3,000 changed and 1,000 deleted');
    route53 = await section('route53', () => benchRoute53Restore({ log: console.log }));
    if (route53) printRoute53(route53);
  }

  let cutover: CutoverBenchResult | undefined;
  if (wanted('cutover')) {
    heading(`10. DynamoDB cut-over on moto: ${fmtInt(CUTOVER_ITEMS)} items, 10 % differing`);
    cutover = await section('cutover', () => benchCutover(CUTOVER_ITEMS, console.log));
    if (cutover) printCutover(cutover);
  }

  let scale: ScaleResult | { skipped: true; reason: string } | undefined;
  if (wanted('scale')) {
    const sizes = scaleSizes();
    heading(`11. Restores at incident scale: ${fmtInt(sizes.objects)} objects, raw moto and the S3 latency model`);
    scale = await section('scale', () => benchScale(sizes, console.log));
    if (scale) printScale(scale);
  }

  heading('Summary (drbot ÷ comparison, same run)');
  const slack = bundles?.handlers.find((h) => h.name === 'slack');
  console.log(
    table([
      ['measure', 'drbot', 'comparison', 'ratio', 'target', 'verdict'],
      ...(wanted('bundles') || wanted('latency') ? [['bundle size', slack ? fmtBytes(slack.bytes) : 'n/a', bundles ? fmtBytes(bundles.minimal.bytes) : 'n/a', fmtX(bundleRatio), `≤ ${TARGET_BUNDLE_RATIO}×`, verdict(bundleRatio <= TARGET_BUNDLE_RATIO)]] : []),
      ...(wanted('latency') ? [['cold start (median)', fmtMs(cold?.drbot.startToResponseMs ?? NaN), fmtMs(cold?.minimal.startToResponseMs ?? NaN), fmtX(coldRatio), `≤ ${TARGET_COLD_RATIO}×`, verdict(coldRatio <= TARGET_COLD_RATIO)],
      ['warm /dr help p50', fmtMs(warm?.drbot.p50 ?? NaN), fmtMs(warm?.minimal.p50 ?? NaN), fmtX(warmRatios.p50), '', ''],
      ['warm /dr help p99', fmtMs(warm?.drbot.p99 ?? NaN), fmtMs(warm?.minimal.p99 ?? NaN), fmtX(warmRatios.p99), `< ${TARGET_WARM_P99_MS} ms`, verdict((warm?.drbot.p99 ?? Infinity) < TARGET_WARM_P99_MS)],
      ['restore s3 ack p50 / p99', ack ? `${fmtMs(ack.p50)} / ${fmtMs(ack.p99)}` : 'n/a', '', '', '< 3 s', ack ? verdict(ack.p99 < 3000) : '']] : []),
      ...(wanted('undelete') ? [[
        'undelete objects/s',
        undelete && !undelete.skipped ? `${fmtInt(undelete.drbot.objectsPerSecond)}/s` : 'n/a',
        undelete && !undelete.skipped ? `${fmtInt(undelete.plain.objectsPerSecond)}/s` : 'n/a',
        fmtX(undeleteRatio),
        '',
        '',
      ]] : []),
      ...(wanted('cutover') ? [[
        'cut-over, items/s (units spent / minimum)',
        cutover && !cutover.skipped ? `${fmtInt(cutover.itemsPerSecond)}/s (${fmtInt(cutover.reportedUnits)} / ${fmtInt(cutover.minimumUnits)})` : 'n/a',
        cutover && !cutover.skipped ? `full copy: ${fmtInt(cutover.fullCopyUnits)} units` : '',
        cutover && !cutover.skipped ? fmtX(ratio(cutover.reportedUnits, cutover.minimumUnits)) : '',
        'units = minimum',
        cutover && !cutover.skipped ? verdict(cutover.reportedUnits === cutover.minimumUnits && cutover.differencesAfter === 0) : '',
      ]] : []),
      ...(wanted('startup') ? [['npm start → ready (median)', fmtMs(startup?.medianReadyMs ?? NaN), '', '', `< ${TARGET_STARTUP_MS} ms`, startup ? verdict(startup.medianReadyMs < TARGET_STARTUP_MS) : '']] : []),
      ...(wanted('route53') ? [[
        'route53 restore, approve → done',
        route53 && !('skipped' in route53) ? `${fmtS(route53.drbot.seconds)}, ${fmtInt(route53.drbot.differencesAfter)} differences` : 'n/a',
        route53 && !('skipped' in route53) ? `plain loop ${fmtS(route53.plain.seconds)} (+ verify ${fmtS(route53.plain.verifySeconds)}), ${fmtInt(route53.plain.differencesAfter)} differences; script: ${route53.script.skipped ? 'skipped' : `${fmtInt(route53.script.differencesAfter)} differences`}` : 'n/a',
        route53 && !('skipped' in route53) ? fmtX(ratio(route53.drbot.seconds, route53.plain.seconds + route53.plain.verifySeconds)) : 'n/a',
        '0 differences',
        route53 && !('skipped' in route53) ? verdict(route53.drbot.differencesAfter === 0) : '',
      ]] : []),
      ...(wanted('alarms') ? [[
        'alarm storm',
        alarms?.built ? `${fmtInt(alarms.perSecond)}/s, ${alarms.slackCallsPerNotification.toFixed(3)} Slack calls/notif.` : 'not built yet',
        `earlier in-memory: ${fmtInt(EARLIER_IN_MEMORY.perSecond)}/s, ${EARLIER_IN_MEMORY.slackCallsPerNotification.toFixed(3)}`,
        '',
        '',
        '',
      ]] : []),
    ]),
  );

  const summary = {
    node: process.version,
    at: new Date().toISOString(),
    seconds: round((Date.now() - started) / 1000, 1),
    targets: { bundleRatio: TARGET_BUNDLE_RATIO, coldStartRatio: TARGET_COLD_RATIO, warmP99Ms: TARGET_WARM_P99_MS, startupMs: TARGET_STARTUP_MS },
    startup: startup ? { medianReadyMs: round(startup.medianReadyMs, 0), medianSeedMs: round(startup.medianSeedMs, 0), runs: startup.runs.map((r) => round(r.readyMs, 0)) } : undefined,
    bundles: bundles
      ? {
          handlers: Object.fromEntries(bundles.handlers.map((h) => [h.name, { bytes: h.bytes, gzipBytes: h.gzipBytes }])),
          minimal: { bytes: bundles.minimal.bytes, gzipBytes: bundles.minimal.gzipBytes },
          ratio: round(bundleRatio, 3),
          pass: bundleRatio <= TARGET_BUNDLE_RATIO,
          largestDifferences: bundles.composition.slice(0, 8).map((c) => ({ package: c.name, slackBytes: c.slackBytes, minimalBytes: c.minimalBytes })),
        }
      : null,
    coldStart: cold
      ? {
          runs: COLD_RUNS,
          drbotMs: round(cold.drbot.startToResponseMs),
          minimalMs: round(cold.minimal.startToResponseMs),
          drbotRequireMs: round(cold.drbot.requireMs),
          minimalRequireMs: round(cold.minimal.requireMs),
          drbotFirstRequestMs: round(cold.drbot.firstRequestMs),
          minimalFirstRequestMs: round(cold.minimal.firstRequestMs),
          drbotWallMs: round(cold.drbot.wallMs),
          minimalWallMs: round(cold.minimal.wallMs),
          ratio: round(coldRatio, 3),
          pass: coldRatio <= TARGET_COLD_RATIO,
          wrongAnswers: cold.drbot.failures + cold.minimal.failures,
        }
      : null,
    warmHelp: warm
      ? {
          requests: WARM_REQUESTS,
          warmup: WARM_WARMUP,
          drbot: { p50Ms: round(warm.drbot.p50, 3), p99Ms: round(warm.drbot.p99, 3), maxMs: round(warm.drbot.max, 3), wrongAnswers: warm.drbot.failures },
          minimal: { p50Ms: round(warm.minimal.p50, 3), p99Ms: round(warm.minimal.p99, 3), maxMs: round(warm.minimal.max, 3), wrongAnswers: warm.minimal.failures },
          ratioP50: round(warmRatios.p50, 2),
          ratioP99: round(warmRatios.p99, 2),
          drbotP99Pass: warm.drbot.p99 < TARGET_WARM_P99_MS,
        }
      : null,
    restoreAck: ack
      ? {
          requests: ACK_REQUESTS,
          p50Ms: round(ack.p50, 3),
          p99Ms: round(ack.p99, 3),
          maxMs: round(ack.max, 3),
          wrongAnswers: ack.failures,
          lambdaInvokes: ack.invokes,
          distinctExecutions: ack.distinctExecutions,
        }
      : null,
    requestToResponse: tail
      ? {
          tailBudgetMs: tail.budgetMs,
          rows: tail.rows.map((r) => ({
            command: r.command,
            scenario: r.scenario,
            putItemDelayMs: r.putItemDelayMs,
            coldMedianMs: round(r.cold.medianMs, 1),
            coldMaxMs: round(r.cold.maxMs, 1),
            warmP50Ms: round(r.warm.p50, 1),
            warmP99Ms: round(r.warm.p99, 1),
            wrongAnswers: r.cold.failures + r.warm.failures,
          })),
        }
      : null,
    undelete: undelete
      ? undelete.skipped
        ? { skipped: undelete.reason }
        : {
            objects: undelete.objects,
            rounds: undelete.rounds,
            drbot: {
              seconds: round(undelete.drbot.seconds),
              runSeconds: undelete.drbot.runSeconds.map((x) => round(x)),
              objectsPerSecond: round(undelete.drbot.objectsPerSecond, 1),
              latestDeleteMarkersAfter: undelete.drbot.latestDeleteMarkersAfter,
              currentObjectsAfter: undelete.drbot.currentObjectsAfter,
              runStatus: undelete.drbot.runStatus,
            },
            plain: {
              seconds: round(undelete.plain.seconds),
              runSeconds: undelete.plain.runSeconds.map((x) => round(x)),
              verifySeconds: round(undelete.plain.verifySeconds),
              objectsPerSecond: round(undelete.plain.objectsPerSecond, 1),
              latestDeleteMarkersAfter: undelete.plain.latestDeleteMarkersAfter,
              currentObjectsAfter: undelete.plain.currentObjectsAfter,
            },
            ratio: round(undeleteRatio, 3),
            ratioVsPlainWithVerify: round(ratio(undelete.drbot.objectsPerSecond, undelete.plain.restored / (undelete.plain.seconds + undelete.plain.verifySeconds)), 3),
            seedSeconds: round(undelete.seedSeconds, 1),
            planSeconds: undelete.planSeconds.map((x) => round(x, 1)),
          }
      : null,
    alarms: alarms
      ? alarms.built
        ? {
            notifications: alarms.notifications,
            alarms: alarms.alarms,
            perSecond: round(alarms.perSecond, 1),
            slackCallsPerNotification: round(alarms.slackCallsPerNotification, 4),
            slackCalls: alarms.slackCalls,
            postsPerChannel: alarms.postsPerChannel,
            recorded: alarms.recorded,
            finalStatesRight: alarms.finalStatesRight,
            staleMessages: alarms.staleMessages,
            redelivery: alarms.redelivery,
            store: 'DynamoAlarmStore on dynalite',
            earlierInMemory: EARLIER_IN_MEMORY,
          }
        : { notBuiltYet: alarms.reason }
      : null,
    exports: exportsResult ?? null,
    route53Restore: route53 ?? null,
    cutover: cutover
      ? cutover.skipped
        ? { skipped: cutover.reason }
        : {
            items: cutover.items,
            differing: { different: cutover.different, missing: cutover.missing, extra: cutover.extra },
            seedSeconds: round(cutover.seedSeconds, 1),
            planSeconds: round(cutover.planSeconds, 1),
            seconds: round(cutover.seconds, 1),
            itemsPerSecond: round(cutover.itemsPerSecond, 1),
            writesPerSecond: round(cutover.writesPerSecond, 1),
            reportedUnits: cutover.reportedUnits,
            sent: cutover.sent,
            minimumUnits: cutover.minimumUnits,
            fullCopyUnits: cutover.fullCopyUnits,
            differencesAfter: cutover.differencesAfter,
            runStatus: cutover.runStatus,
          }
      : null,
    scale: scale ?? null,
    errors,
  };
  console.log('\nJSON summary:');
  console.log(JSON.stringify(summary, null, 2));
  console.log(`\ndrbot bench: done in ${((Date.now() - started) / 1000).toFixed(1)} s${errors.length ? `, with ${errors.length} harness error(s)` : ''}`);
}

main()
  .then(async () => {
    await cleanup();
    process.exit(errors.length ? 1 : 0);
  })
  .catch(async (e: unknown) => {
    console.error(`drbot bench crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await cleanup();
    process.exit(1);
  });
