import type { DurableContext } from '@aws/durable-execution-sdk-js';
import {
  canaryItemVisible,
  canaryKey,
  DRILL_TAG,
  drillTableName,
  findCanaryObject,
  instanceState,
  launchDrillInstance,
  newestBackupAmi,
  putCanaryItem,
  putCanaryObject,
  smallestInstanceType,
  tableKeyAndReplica,
} from '../../aws/drill';
import { countItems, describeTableIfAny, readPitrWindow, restoreToPointInTime, tagTable } from '../../aws/dynamodb-restore';
import { DrbotError } from '../../errors';
import { code } from '../../slack/views/format';
import { formatCount, formatDuration } from '../../slack/views/run';
import { DrillStore, type DrillMeasure, type DrillReport } from '../../store/drills';
import { isSdkControlFlow, type Outcome, type Runbook, safeStep, stepFailure } from '../driver';
import type { RunbookDeps } from '../types';
import type { NextStep } from '../verb';
import type { DrillInput } from '.';
import { cleanUp } from './cleanup';

/*
 * The runbook's monthly drill (dr-runbook.md, "Monthly DR Drill"), measured: each component's time
 * to a usable copy (RTO) and each replica's lag (RPO), against the config's objectives. Every wait
 * is a durable wait between checkpointed polls, each bounded. Whatever fails, the clean-up runs
 * after (a durable `finally`): it finds what the run created by its id, so it needs no record of a
 * step that died halfway. With --keep it is left for a person, with a "Clean up now" button.
 */

const INSTANCE_POLL_SECONDS = 15;
const INSTANCE_MAX_POLLS = 40;
const S3_POLL_SECONDS = 15;
const DDB_POLL_SECONDS = 5;
const RESTORE_POLL_SECONDS = 30;
/** Scans of at most this many 1 MB pages count a table exactly; beyond, DynamoDB's own ItemCount. */
const COUNT_MAX_PAGES = 200;
/** The longest the restore is waited on (the S3 and DynamoDB canaries a quarter of it): a run has a day for its steps. */
const MAX_WAIT_MINUTES = 12 * 60;

/**
 * How many polls a canary watch makes: twice the RPO, at least `floorMinutes` (S3 Replication Time
 * Control's 15 minutes; DynamoDB's 5), at most a quarter of MAX_WAIT_MINUTES (three hours).
 */
export function canaryPolls(rpoMinutes: number, floorMinutes: number, pollSeconds: number): number {
  return Math.ceil((Math.min(Math.max(floorMinutes, 2 * rpoMinutes), MAX_WAIT_MINUTES / 4) * 60) / pollSeconds);
}

export interface DrillPlan {
  ami?: { id: string; name: string; architecture: string; instanceType: string };
  amiProblem?: string;
  buckets: { name: string; region: string; replica: string; replicaRegion: string }[];
  tables: { name: string; region: string }[];
  restore?: { table: string; region: string; target: string };
  restoreProblem?: string;
  subnetId?: string;
}

const minutes = (s: number) => s * 60;
const clock = (deps: RunbookDeps) => deps.now().toISOString();
const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

function judge(seconds: number | undefined, objectiveMinutes: number): DrillMeasure['result'] {
  return seconds === undefined ? 'none' : seconds <= minutes(objectiveMinutes) ? 'pass' : 'fail';
}

/** How a measure reads in the report. */
export function measureLine(m: DrillMeasure): string {
  const icon = m.result === 'pass' ? ':white_check_mark:' : m.result === 'fail' ? ':x:' : ':heavy_minus_sign:';
  const value = m.seconds === undefined ? 'not measured' : formatDuration(m.seconds * 1000);
  return `${icon} ${m.kind.toUpperCase()} ${m.component}: ${value} (objective ${m.objectiveMinutes} min)${m.note ? ` — ${m.note}` : ''}`;
}

const drill: Runbook<DrillInput, DrillPlan> = {
  title: (input) => `DR drill${input.keep ? ' (keeping what it creates)' : ''}`,
  destructive: true,
  resources: () => ['drill'],

  async plan(deps, input) {
    const { primary, backup } = deps.config.regions;
    const plan: DrillPlan = { buckets: [], tables: [] };
    const image = await newestBackupAmi(deps.clients.ec2(backup), backup);
    if (!image?.ImageId) plan.amiProblem = `no available backup AMI in ${backup} (tagged backup=true): the compute step is skipped. Run \`/dr backup amis\` first.`;
    else {
      try {
        plan.ami = { id: image.ImageId, name: image.Name ?? '', architecture: image.Architecture ?? 'x86_64', instanceType: smallestInstanceType(image) };
      } catch (e) {
        if (!(e instanceof DrbotError)) throw e;
        plan.amiProblem = `${e.message} The compute step is skipped.`;
      }
    }
    plan.buckets = deps.config.s3.buckets.flatMap((b) => (b.replica ? [{ name: b.name, region: b.region ?? primary, replica: b.replica.bucket, replicaRegion: b.replica.region }] : []));
    plan.tables = deps.config.dynamodb.tables.map((t) => ({ name: t.name, region: t.region ?? primary }));
    // The table to restore: the configured one, or the first with PITR on.
    const wanted = deps.config.drill?.table;
    if (wanted && !plan.tables.some((t) => t.name === wanted)) plan.restoreProblem = `\`drill.table\` ${code(wanted)} is not a configured table: no restore.`;
    else {
      for (const t of plan.tables.filter((x) => !wanted || x.name === wanted)) {
        const pitr = await readPitrWindow(deps.clients.dynamodb(t.region), t.name).catch(() => ({ enabled: false }));
        if (pitr.enabled) {
          plan.restore = { table: t.name, region: t.region, target: drillTableName(t.name, input.runId) };
          break;
        }
      }
      if (!plan.restore) plan.restoreProblem = `no ${wanted ? code(wanted) : 'configured table'} has point-in-time recovery on: no restore. \`/dr setup dynamodb\` turns it on.`;
    }
    if (deps.config.drill?.subnetId) plan.subnetId = deps.config.drill.subnetId;
    const { rpoMinutes, rtoMinutes } = deps.config.objectives;
    const will = input.dryRun ? 'would' : 'will';
    const lines = [
      `A drill in ${backup}, measured against RPO ${rpoMinutes} min and RTO ${rtoMinutes} min. It ${will} create, all tagged or named with run \`${input.runId}\`:`,
      plan.ami
        ? `1 instance ${code(plan.ami.instanceType)} from the newest backup AMI ${code(plan.ami.id)} ${code(plan.ami.name)} (${plan.ami.architecture}) in ${backup}${plan.subnetId ? ` in ${code(plan.subnetId)}` : ''}, tagged \`${DRILL_TAG}=${input.runId}\`; timed to running (RTO compute)`
        : `:warning: ${plan.amiProblem ?? ''}`,
      ...plan.buckets.map((b) => `canary object \`${canaryKey(input.runId)}\` in ${code(b.name)}; timed until it is in ${code(b.replica)} (${b.replicaRegion}) (RPO)`),
      ...(plan.buckets.length ? [] : ['no replicated bucket is configured: no S3 measure']),
      ...plan.tables.map((t) => `canary item \`drbot-drill#${input.runId}\` in ${code(t.name)}; read in ${backup} if the table has a replica there (lag)`),
      plan.restore
        ? `PITR restore of ${code(plan.restore.table)} into ${code(plan.restore.target)}, item counts compared (RTO restore)`
        : `:warning: ${plan.restoreProblem ?? ''}`,
      input.keep
        ? `With \`--keep\` it is all kept for inspection; *Clean up now* (or \`/dr drill cleanup ${input.runId}\`) removes it.`
        : 'All of it is removed at the end, success or failure. Nothing the drill did not create is touched.',
    ];
    return { lines, data: plan };
  },

  async execute(ctx, deps, input, plan, progress) {
    const { backup } = deps.config.regions;
    const { rpoMinutes, rtoMinutes } = deps.config.objectives;
    const runId = input.runId;
    const measures: DrillMeasure[] = [];
    const failures: string[] = [];
    const lines: string[] = [];
    let done = 0;
    // Progress is a Slack update: a step of its own, so a replay does not post it again.
    const tick = (label: string) => {
      const n = ++done;
      return ctx.step(`progress-${n}`, () => progress.report(n, 4, label));
    };

    try {
      if (plan.amiProblem) failures.push(plan.amiProblem);
      if (plan.ami) await compute(ctx, deps, runId, plan, measures, failures, rtoMinutes);
      await tick('compute measured');
      await s3Lag(ctx, deps, runId, plan, measures, failures, rpoMinutes);
      await tick('S3 replication measured');
      await tableLag(ctx, deps, runId, plan, measures, failures, rpoMinutes, backup);
      await tick('DynamoDB replication measured');
      if (plan.restoreProblem) failures.push(plan.restoreProblem);
      if (plan.restore) await restore(ctx, deps, plan.restore, runId, measures, failures, rtoMinutes);
      await tick('restore measured');
    } catch (e) {
      // A step that kept failing in a way we did not foresee: reported, and the clean-up still runs.
      if (isSdkControlFlow(e)) throw e;
      failures.push(`the drill stopped: ${(e instanceof Error ? e.message : String(e)).slice(0, 300)}`);
    }

    let cleanup: DrillReport['cleanup'] = 'kept';
    const next: NextStep[] = [];
    if (input.keep) {
      lines.push(`*Kept for inspection* (\`--keep\`): everything tagged or named with \`${runId}\`. *Clean up now* removes it.`);
      next.push({ label: 'Clean up now', command: `drill cleanup ${runId}`, style: 'danger' });
    } else {
      const c = await cleanUp(ctx, deps, runId);
      cleanup = c.failures.length ? 'incomplete' : 'removed';
      // Nothing removed because the clean-up failed is not "nothing was left".
      lines.push(c.removed.length ? `*Removed:* ${c.removed.join('; ')}.` : c.failures.length ? '*Removed:* nothing.' : '*Removed:* nothing was left to remove.');
      failures.push(...c.failures);
      if (c.failures.length) {
        lines.push(`:warning: The clean-up did not finish: *Clean up now* tries again (\`/dr drill cleanup ${runId}\`).`);
        next.push({ label: 'Clean up now', command: `drill cleanup ${runId}`, style: 'danger' });
      }
    }

    // No backup AMI to launch from: the drill's finding, and the step that fixes it, one press away.
    if (plan.amiProblem) next.push({ label: 'Back up AMIs', command: 'backup amis' });

    const missed = measures.filter((m) => m.result === 'fail');
    const report: DrillReport = {
      runId,
      at: input.requestedAt,
      ok: failures.length === 0 && missed.length === 0,
      scheduled: Boolean(input.schedule),
      measures,
      failures: failures.length,
      cleanup,
    };
    const head = `*Drill report* (objectives: RPO ${rpoMinutes} min, RTO ${rtoMinutes} min): ${measures.filter((m) => m.result === 'pass').length} passed, ${missed.length} failed, ${measures.filter((m) => m.result === 'none').length} not measured.`;
    const reportLines = [head, ...measures.map(measureLine), ...lines];
    await safeStep(ctx, 'keep-report', () => new DrillStore(deps.store.doc, deps.store.tableName).put(report, deps.now()));
    const ops = deps.config.slack.channels.ops;
    if (input.channel !== ops) {
      // The report goes where the on-call looks, too; best effort like every Slack call of a run.
      await ctx.step('post-ops', async () => {
        const text = [`DR drill \`${runId}\` requested in <#${input.channel}>:`, ...reportLines].join('\n');
        await deps.slack.post(ops, { text: `DR drill ${runId}: ${report.ok ? 'passed' : 'failed'}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 2900), verbatim: true } }] }).catch(() => undefined);
      });
    }
    const outcome: Outcome = { ok: report.ok, lines: reportLines, failures: [...failures, ...missed.map((m) => `${m.kind.toUpperCase()} of ${m.component} missed its objective`)] };
    if (next.length) outcome.next = next;
    return outcome;
  },
};

async function compute(ctx: DurableContext, deps: RunbookDeps, runId: string, plan: DrillPlan, measures: DrillMeasure[], failures: string[], rto: number): Promise<void> {
  const ami = plan.ami;
  if (!ami) return;
  const backup = deps.config.regions.backup;
  const ec2 = deps.clients.ec2(backup);
  const launched = await safeStep(ctx, 'launch', async () => {
    const at = clock(deps);
    return { id: await launchDrillInstance(ec2, runId, ami.id, ami.instanceType, plan.subnetId), at };
  });
  const component = `compute (${ami.instanceType} from \`${ami.id}\`)`;
  if (!launched.ok) {
    failures.push(`launch from ${ami.id}: ${launched.message}`);
    measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: 'the launch failed' });
    return;
  }
  for (let poll = 0; poll <= INSTANCE_MAX_POLLS; poll++) {
    const s = await safeStep(ctx, `instance-${poll}`, async () => ({ state: await instanceState(ec2, launched.value.id), at: clock(deps) }));
    if (s.ok && s.value.state === 'running') {
      const took = seconds(launched.value.at, s.value.at);
      measures.push({ component, kind: 'rto', seconds: took, objectiveMinutes: rto, result: judge(took, rto), note: `instance \`${launched.value.id}\` running` });
      return;
    }
    if (s.ok && ['terminated', 'shutting-down', 'stopped', 'stopping', 'gone'].includes(s.value.state)) {
      failures.push(`instance ${launched.value.id} is ${s.value.state} instead of running`);
      measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: `instance ${s.value.state}` });
      return;
    }
    // INSTANCE_MAX_POLLS waits, a check before each and one after the last: the time said is the time waited.
    if (poll < INSTANCE_MAX_POLLS) await ctx.wait(`instance-wait-${poll}`, { seconds: INSTANCE_POLL_SECONDS });
  }
  failures.push(`instance ${launched.value.id} not running after ${(INSTANCE_MAX_POLLS * INSTANCE_POLL_SECONDS) / 60} min`);
  measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: 'not running within the wait' });
}

async function s3Lag(ctx: DurableContext, deps: RunbookDeps, runId: string, plan: DrillPlan, measures: DrillMeasure[], failures: string[], rpo: number): Promise<void> {
  // Written one by one, then watched together: every bucket's canary gets the same waits.
  const pending: { i: number; b: DrillPlan['buckets'][number]; at: string }[] = [];
  for (const [i, b] of plan.buckets.entries()) {
    const put = await safeStep(ctx, `canary-s3-${i}`, async () => {
      const at = clock(deps);
      await putCanaryObject(deps.clients.s3(b.region), b.name, runId, at);
      return at;
    });
    if (put.ok) pending.push({ i, b, at: put.value });
    else {
      failures.push(`canary object in ${b.name}: ${put.message}`);
      measures.push({ component: `S3 \`${b.name}\``, kind: 'rpo', objectiveMinutes: rpo, result: 'fail', note: 'the canary could not be written' });
    }
  }
  // Up to S3 Replication Time Control's 15 minutes, or twice the RPO if longer.
  const maxPolls = canaryPolls(rpo, 15, S3_POLL_SECONDS);
  await watchCanaries(ctx, deps, pending, measures, failures, rpo, {
    kind: 's3',
    pollSeconds: S3_POLL_SECONDS,
    maxPolls,
    visible: async (p) => (await findCanaryObject(deps.clients.s3(p.b.replicaRegion), p.b.replica, runId)).found,
    component: (p) => `S3 \`${p.b.name}\` → \`${p.b.replica}\``,
    refused: (p) => `reading the replica ${p.b.replica}`,
    unreadAll: 'reading the replicas',
    unreadNote: 'the replica could not be read, so the lag was not measured',
    late: 'the canary was not in the replica',
  });
}

/** How one kind of replica is watched for its canaries, and how its report reads. */
interface CanaryWatch<P> {
  /** In the checkpoints' names: `canary-<kind>-check-<n>`, `canary-<kind>-wait-<n>`. */
  kind: string;
  pollSeconds: number;
  /** Waits at most: a check before each and one after the last, so the time said is the time waited. */
  maxPolls: number;
  /** Whether the canary is in its replica now (a DrbotError that is not transient: that replica refused). */
  visible: (p: P) => Promise<boolean>;
  component: (p: P) => string;
  /** The failure's head when one replica refused. */
  refused: (p: P) => string;
  /** The failure's head when the check as a whole failed. */
  unreadAll: string;
  /** The measure's note of a replica not read. */
  unreadNote: string;
  /** The measure's note of a canary not seen, before "after <the wait>". */
  late: string;
}

/**
 * Watches every pending canary together until each is seen in its replica (its lag measured against
 * the RPO) or the wait ends (late: a missed objective). A replica AWS refused to show is not
 * measured, and the others are still timed; a check that kept failing stops the watch, and what is
 * left was not measured (not late, not a missed objective; the failed read is the run's failure).
 */
async function watchCanaries<P extends { i: number; at: string }>(ctx: DurableContext, deps: RunbookDeps, pending: P[], measures: DrillMeasure[], failures: string[], rpo: number, w: CanaryWatch<P>): Promise<void> {
  let left = pending;
  let unread = false;
  for (let poll = 0; poll <= w.maxPolls && left.length; poll++) {
    const seen = await safeStep(ctx, `canary-${w.kind}-check-${poll}`, async () => {
      const out: Seen = { at: {}, refused: {} };
      for (const p of left) await readOne(out, p.i, deps, () => w.visible(p));
      return out;
    });
    if (!seen.ok) {
      failures.push(`${w.unreadAll}: ${seen.message}`);
      unread = true;
      break;
    }
    for (const p of left) {
      const refused = seen.value.refused[p.i];
      if (refused !== undefined) {
        failures.push(`${w.refused(p)}: ${refused}`);
        measures.push({ component: w.component(p), kind: 'rpo', objectiveMinutes: rpo, result: 'none', note: w.unreadNote });
        continue;
      }
      const at = seen.value.at[p.i];
      if (at === undefined) continue;
      const took = seconds(p.at, at);
      measures.push({ component: w.component(p), kind: 'rpo', seconds: took, objectiveMinutes: rpo, result: judge(took, rpo) });
    }
    left = left.filter((p) => seen.value.at[p.i] === undefined && seen.value.refused[p.i] === undefined);
    if (poll < w.maxPolls && left.length) await ctx.wait(`canary-${w.kind}-wait-${poll}`, { seconds: w.pollSeconds });
  }
  for (const p of left) {
    measures.push({ component: w.component(p), kind: 'rpo', objectiveMinutes: rpo, result: unread ? 'none' : 'fail', note: unread ? w.unreadNote : `${w.late} after ${formatDuration(w.maxPolls * w.pollSeconds * 1000)}` });
  }
}

/** One check of the replicas: when each canary was seen, and each replica AWS refused to show (that one only). */
interface Seen {
  at: Record<number, string>;
  refused: Record<number, string>;
}

/**
 * Reads one replica into `out`: seen (the time), or refused for good (access denied, not found: that
 * replica is not measured, the others still are). A throttle or 5xx is thrown, for the step to retry.
 */
async function readOne(out: Seen, i: number, deps: RunbookDeps, visible: () => Promise<boolean>): Promise<void> {
  try {
    if (await visible()) out.at[i] = clock(deps);
  } catch (e) {
    if (!(e instanceof DrbotError) || stepFailure(e).transient) throw e;
    out.refused[i] = e.message;
  }
}

async function tableLag(ctx: DurableContext, deps: RunbookDeps, runId: string, plan: DrillPlan, measures: DrillMeasure[], failures: string[], rpo: number, backup: string): Promise<void> {
  const pending: { i: number; t: DrillPlan['tables'][number]; at: string }[] = [];
  for (const [i, t] of plan.tables.entries()) {
    const component = `DynamoDB \`${t.name}\``;
    const put = await safeStep(ctx, `canary-ddb-${i}`, async () => {
      const ddb = deps.clients.dynamodb(t.region);
      const { key, replica } = await tableKeyAndReplica(ddb, t.name, backup);
      const at = clock(deps);
      await putCanaryItem(ddb, t.name, key, runId, at);
      return { at, replica };
    });
    if (!put.ok) {
      failures.push(`canary item in ${t.name}: ${put.message}`);
      measures.push({ component, kind: 'rpo', objectiveMinutes: rpo, result: 'fail', note: 'the canary could not be written' });
    } else if (put.value.replica === 'active') pending.push({ i, t, at: put.value.at });
    else measures.push({ component, kind: 'rpo', objectiveMinutes: rpo, result: 'none', note: put.value.replica === 'none' ? `no replica in ${backup}` : `the replica in ${backup} is ${put.value.replica}` });
  }
  const maxPolls = canaryPolls(rpo, 5, DDB_POLL_SECONDS);
  await watchCanaries(ctx, deps, pending, measures, failures, rpo, {
    kind: 'ddb',
    pollSeconds: DDB_POLL_SECONDS,
    maxPolls,
    visible: async (p) => {
      const { key } = await tableKeyAndReplica(deps.clients.dynamodb(p.t.region), p.t.name, backup);
      return canaryItemVisible(deps.clients.dynamodb(backup), p.t.name, key, runId);
    },
    component: (p) => `DynamoDB \`${p.t.name}\` → ${backup}`,
    refused: (p) => `reading the replica of ${p.t.name} in ${backup}`,
    unreadAll: `reading the table replicas in ${backup}`,
    unreadNote: `the replica in ${backup} could not be read, so the lag was not measured`,
    late: `the canary was not readable in ${backup}`,
  });
}

async function restore(ctx: DurableContext, deps: RunbookDeps, r: NonNullable<DrillPlan['restore']>, runId: string, measures: DrillMeasure[], failures: string[], rto: number): Promise<void> {
  const ddb = deps.clients.dynamodb(r.region);
  const component = `restore \`${r.table}\` → \`${r.target}\``;
  const started = await safeStep(ctx, 'restore-start', async () => {
    const at = clock(deps);
    // The newest restorable time (AWS keeps it about five minutes behind now).
    const window = await readPitrWindow(ddb, r.table);
    const to = window.latest ? new Date(window.latest) : new Date(Date.parse(at) - 5 * 60_000);
    const d = await restoreToPointInTime(ddb, r.table, r.target, to);
    const arn = d.TableArn ?? (await describeTableIfAny(ddb, r.target))?.TableArn ?? '';
    await tagTable(ddb, arn, [{ Key: DRILL_TAG, Value: runId }]);
    return { at, to: to.toISOString() };
  });
  if (!started.ok) {
    failures.push(`PITR restore of ${r.table}: ${started.message}`);
    measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: 'the restore failed' });
    return;
  }
  // Twice the RTO, within the day a run has for its steps (src/config/execution.ts).
  const waitMinutes = Math.min(2 * rto, MAX_WAIT_MINUTES);
  const maxPolls = Math.ceil((waitMinutes * 60) / RESTORE_POLL_SECONDS);
  for (let poll = 0; poll <= maxPolls; poll++) {
    const s = await safeStep(ctx, `restore-check-${poll}`, async () => (await describeTableIfAny(ddb, r.target))?.TableStatus ?? 'missing');
    if (s.ok && s.value === 'ACTIVE') {
      const counted = await safeStep(ctx, 'restore-count', async () => {
        const keys = ((await describeTableIfAny(ddb, r.table))?.KeySchema ?? []).map((k) => k.AttributeName ?? '');
        const [source, copy] = [await countItems(ddb, r.table, keys, COUNT_MAX_PAGES), await countItems(ddb, r.target, keys, COUNT_MAX_PAGES)];
        return { source, copy, at: clock(deps) };
      });
      if (!counted.ok) {
        failures.push(`counting the restored items: ${counted.message}`);
        measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: 'restored, but its items could not be counted' });
        return;
      }
      const { source, copy } = counted.value;
      const took = seconds(started.value.at, counted.value.at);
      const same = source.count === copy.count;
      const counts = `${formatCount(copy.count)} items restored, ${formatCount(source.count)} in the table now${source.exact && copy.exact ? '' : ' (approximate)'}`;
      measures.push({ component, kind: 'rto', seconds: took, objectiveMinutes: rto, result: judge(took, rto), note: same ? `${counts}: the same` : `${counts}: they differ by ${formatCount(Math.abs(source.count - copy.count))} (writes since the restore time)` });
      return;
    }
    if (s.ok && s.value === 'missing') {
      failures.push(`the restored table ${r.target} is gone`);
      measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: 'the restored table went missing' });
      return;
    }
    // maxPolls waits, a check before each and one after the last.
    if (poll < maxPolls) await ctx.wait(`restore-wait-${poll}`, { seconds: RESTORE_POLL_SECONDS });
  }
  failures.push(`the restore of ${r.table} was not ACTIVE after ${waitMinutes} min`);
  measures.push({ component, kind: 'rto', objectiveMinutes: rto, result: 'fail', note: `not ACTIVE within ${waitMinutes} min` });
}

/**
 * A person's drill waits for an approval of its plan (it launches an instance and writes to the
 * live buckets and tables, if only its own canaries). The monthly schedule starts it without one,
 * like the scheduled backups: what it does is the reviewed runbook.
 */
export const runbook = (input: DrillInput): Runbook<DrillInput, DrillPlan> => (input.schedule ? { ...drill, destructive: false } : drill);
