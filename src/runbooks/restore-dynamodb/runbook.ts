import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { KeySchemaElement } from '@aws-sdk/client-dynamodb';
import {
  describeTableIfAny,
  enablePitrOn,
  enableStream,
  enableTtl,
  putTablePolicy,
  restoreFromBackup,
  restoreToPointInTime,
  setDeletionProtection,
  tagTable,
} from '../../aws/dynamodb-restore';
import { DrbotError, PreconditionError, sentence, withHint } from '../../errors';
import { code } from '../../slack/views/format';
import { type Outcome, type Runbook, type Safe, STEP, safeStep, step, type StepFailure, stepFailure } from '../driver';
import { tableRegion } from '../resources';
import { restoredTableName, TAG_PROTECTION, TAG_RESTORED_FROM, TAG_RUN } from '../restored-tables';
import type { NextStep } from '../verb';
import type { RestoreDynamodbInput } from '.';
import { comparisonLines, compareTables, type Comparison } from './compare';
import { at, latestBackup, namedBackup, pointInTime, type Reapply, notReappliedLine, reapplyList, type RestoreSource, settingsToReapply, sourceLine } from './plan';

export interface RestorePlan {
  table: string;
  region: string;
  target: string;
  /** The source table exists (a deleted one is restored from a backup). */
  live: boolean;
  sourceArn?: string;
  source: RestoreSource;
  reapply: Reapply;
  /** How long the run waits for the new table to be ACTIVE (`dynamodb.restoreWaitHours`), as the approver saw it. */
  waitHours: number;
}

/** The stages the progress bar counts. */
const STAGES = 4;
/**
 * A restore takes minutes to hours (it depends on the data, not only its size); after this we report
 * and stop waiting, unless `dynamodb.restoreWaitHours` says otherwise.
 */
export const DEFAULT_WAIT_HOURS = 12;
/** Transient failures (throttling, 5xx) of the status check in a row before the wait gives up. */
const MAX_TRANSIENT = 20;
/** Rounds of a re-apply step that fails transiently (a table still busy, a 5xx), with a durable wait between. */
const REAPPLY_ROUNDS = 5;

/** 10 s at first (moto and small tables are quick), then 30 s, then every minute. */
export function pollDelay(attempt: number): number {
  return attempt <= 6 ? 10 : attempt <= 26 ? 30 : 60;
}
/** The checks in `hours` (at least 1: the config's minimum) at pollDelay's spacing, the first at once and the last at the limit: the time said is the time waited. */
export function maxPolls(hours: number): number {
  return 1 + 6 + 20 + Math.ceil((hours * 3600 - 6 * 10 - 20 * 30) / 60);
}

/** The restored table's policy: the source table's ARN (and its index/stream ARNs) becomes the restored table's. */
export function rewritePolicy(policy: string, sourceArn: string, targetArn: string): string {
  const escaped = sourceArn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return policy.replace(new RegExp(`${escaped}(?=["/])`, 'g'), targetArn);
}

export interface WaitState {
  status: string;
  polls: number;
  transient: number;
  arn?: string;
  lastTransient?: string;
  error?: StepFailure;
}

/** The run's end when the wait did not see the new table ACTIVE: why, the status as last seen, and what to do. */
export function notActive(waited: WaitState, target: string, table: string, waitHours: number): { ok: false; lines: string[]; failures: string[] } {
  const why = waited.error
    ? withHint(waited.error)
    : waited.transient >= MAX_TRANSIENT
      ? `checking on it failed ${waited.transient} times in a row (${waited.lastTransient ?? 'throttled'})`
      : waited.status === 'MISSING'
        ? 'DynamoDB does not show the new table'
        : `it was still ${waited.status} after ${waitHours} h${waited.transient ? ' (the last check was throttled)' : ''}`;
  // A check that failed leaves the status unknown: said as last seen, never as "not ACTIVE".
  const unconfirmed = Boolean(waited.error) || waited.transient > 0;
  return {
    ok: false,
    lines: [
      `:hourglass: The restore into \`${target}\` was started, but ${unconfirmed ? `its status could not be confirmed (last seen ${waited.status})` : 'the table is not ACTIVE'}: ${sentence(why)}`,
      `Check it in the console; once it is ACTIVE, \`/dr keep dynamodb ${table} --restored ${target}\` or \`/dr delete restored-table ${target}\` take it from there.`,
    ],
    failures: [`${target}: ${unconfirmed ? 'status unconfirmed' : 'not ACTIVE'} (${waited.status})`],
  };
}

/**
 * A re-apply step. A transient refusal (a table still settling after its restore: "Backups are being
 * enabled", a table being updated; throttling; a 5xx) can last minutes, so it is retried across
 * durable waits rather than by sleeping inside the step.
 */
async function reapplyStep(ctx: DurableContext, name: string, fn: () => Promise<void>): Promise<Safe<void>> {
  for (let i = 0; ; i++) {
    const r = await ctx.step<Safe<void>>(
      i ? `${name}-${i}` : name,
      async () => {
        try {
          await fn();
          return { ok: true, value: undefined };
        } catch (e) {
          if (!(e instanceof DrbotError)) throw e;
          return { ok: false, ...stepFailure(e) };
        }
      },
      STEP,
    );
    if (r.ok || !r.transient || i + 1 >= REAPPLY_ROUNDS) return r;
    await ctx.wait(`${name}-wait-${i}`, { seconds: 15 * (i + 1) });
  }
}

function isTransientCode(code: string): boolean {
  return code === 'aws_throttled' || code === 'aws_error';
}

/** The follow-ups a restore offers, as the commands they run (each with its own plan and approval). */
export function restoreNextSteps(table: string, target: string, live: boolean): NextStep[] {
  return [
    ...(live ? [{ label: 'Cut over', command: `cutover dynamodb ${table} --from ${target}`, style: 'primary' as const }] : []),
    { label: 'Keep both', command: `keep dynamodb ${table} --restored ${target}` },
    { label: 'Delete restored table', command: `delete restored-table ${target}`, style: 'danger' as const },
  ];
}

export const runbook: Runbook<RestoreDynamodbInput, RestorePlan> = {
  title: (input) => `Restore of ${input.table} into a new table`,
  destructive: true,
  resources: (input) => [`dynamodb:${input.table}`],

  async plan(deps, input) {
    const region = tableRegion(deps.config, input.table);
    const ddb = deps.clients.dynamodb(region);
    const target = restoredTableName(input.table, deps.now());
    const [live, taken] = await Promise.all([describeTableIfAny(ddb, input.table), describeTableIfAny(ddb, target)]);
    if (taken) throw new PreconditionError('target_exists', `A table named \`${target}\` already exists.`, 'Run the restore again in a second: the new table’s name carries the time.');
    const source = input.to !== undefined ? await pointInTime(ddb, input.table, input.to, live) : input.backup !== undefined ? await namedBackup(ddb, input.table, input.backup) : await latestBackup(ddb, input.table);
    const reapply = await settingsToReapply(ddb, live, source);
    const will = reapplyList(reapply);
    const waitHours = deps.config.dynamodb.restoreWaitHours ?? DEFAULT_WAIT_HOURS;
    const lines = [
      sourceLine(input.table, target, source, input.dryRun),
      will.length
        ? `Then re-applies what a restore drops, from ${reapply.from === 'source' ? 'the live table' : 'the backup’s description (the table is gone)'}: ${will.join('; ')}.`
        : `Nothing to re-apply: ${reapply.from === 'source' ? 'the live table has no PITR, TTL, stream, tags, resource policy or deletion protection' : 'the backup’s description lists none of it'}.`,
      notReappliedLine(input.table, reapply),
      `Tags the new table \`${TAG_RUN}=${input.runId}\` and \`${TAG_RESTORED_FROM}=${input.table}\`.`,
      ...(live
        ? [
            `Then compares it with the live table: item counts, and up to 1,000 sampled items one by one${reapply.settings.billingMode === 'PAY_PER_REQUEST' ? '' : ` (the live table’s count is DynamoDB’s own: scanning \`${input.table}\` would spend its provisioned read capacity)`}.`,
          ]
        : []),
      `Nothing existing changes: ${live ? `\`${input.table}\` is not touched` : 'the deleted table stays deleted'}. The new table is billed (storage${reapply.settings.billingMode === 'PAY_PER_REQUEST' ? '' : ' and provisioned capacity'}) until it is deleted.`,
      `Waits up to ${waitHours} h for the new table to be ACTIVE (\`dynamodb.restoreWaitHours\`); past that the run says where the restore stands and stops waiting, while DynamoDB goes on with it.`,
    ];
    return { lines, data: { table: input.table, region, target, live: Boolean(live), ...(live?.TableArn ? { sourceArn: live.TableArn } : {}), source, reapply, waitHours } };
  },

  async execute(ctx, deps, input, plan, progress): Promise<Outcome> {
    const ddb = () => deps.clients.dynamodb(plan.region);
    const { target, table, waitHours } = plan;
    const polls = maxPolls(waitHours);

    // 1. Start the restore. A replayed step finds the table it started (its restore summary names the source).
    const started = await step(ctx, 'restore', async () => {
      const existing = await describeTableIfAny(ddb(), target);
      if (existing) {
        const r = existing.RestoreSummary;
        const ours = r !== undefined && (plan.source.kind === 'backup' ? r.SourceBackupArn === plan.source.backup.arn : (r.SourceTableArn ?? '').endsWith(`:table/${table}`));
        if (!ours) throw new PreconditionError('target_exists', `A table named \`${target}\` appeared that this restore did not make; it was left alone.`, 'Run the restore again: the new table’s name carries the time.');
        return { arn: existing.TableArn ?? '', status: existing.TableStatus ?? 'CREATING' };
      }
      const d =
        plan.source.kind === 'pitr' ? await restoreToPointInTime(ddb(), table, target, new Date(plan.source.at)) : await restoreFromBackup(ddb(), plan.source.backup.arn, target);
      await progress.report(1, STAGES, `restoring into ${target}: ${d.TableStatus ?? 'CREATING'}`);
      return { arn: d.TableArn ?? '', status: d.TableStatus ?? 'CREATING' };
    });

    // 2. Wait (durably) until the new table is ACTIVE.
    const waited = await ctx.waitForCondition<WaitState>(
      'wait-active',
      async (s) => {
        try {
          const d = await describeTableIfAny(ddb(), target);
          const status = d?.TableStatus ?? 'MISSING';
          await progress.report(1, STAGES, `restoring into ${target}: ${status} (check ${s.polls + 1})`);
          return { status, polls: s.polls + 1, transient: 0, ...(d?.TableArn ? { arn: d.TableArn } : s.arn ? { arn: s.arn } : {}) };
        } catch (e) {
          if (!(e instanceof DrbotError)) throw e;
          if (!isTransientCode(e.code)) return { ...s, polls: s.polls + 1, error: stepFailure(e) };
          // Throttled or a 5xx: the restore goes on in AWS; ask again at the next poll.
          return { ...s, polls: s.polls + 1, transient: s.transient + 1, lastTransient: e.message };
        }
      },
      {
        initialState: { status: started.status, polls: 0, transient: 0, ...(started.arn ? { arn: started.arn } : {}) },
        waitStrategy: (s, attempt) =>
          // ACTIVE counts only when the last check answered (a throttled check keeps the old status).
          (s.status === 'ACTIVE' && s.transient === 0) || s.error || s.transient >= MAX_TRANSIENT || (s.status === 'MISSING' && s.polls >= 10) || attempt >= polls
            ? { shouldContinue: false }
            : { shouldContinue: true, delay: { seconds: pollDelay(attempt) } },
      },
    );
    // A status the last check could not confirm (refused, throttled) is not taken as ACTIVE either.
    if (waited.status !== 'ACTIVE' || waited.transient > 0 || waited.error) return notActive(waited, target, table, waitHours);
    const arn = waited.arn ?? started.arn;

    // 3. Mark it as drbot's, then re-apply what a restore drops, each on its own: one refused is reported, the rest go on.
    // (Progress is reported from inside steps only: code outside steps runs again on replay.)
    const failures: string[] = [];
    const applied: string[] = [];
    const tagged = await reapplyStep(ctx, 'tag-drbot', async () => {
      await progress.report(2, STAGES, 're-applying settings');
      await tagTable(ddb(), arn, [
        { Key: TAG_RUN, Value: input.runId },
        { Key: TAG_RESTORED_FROM, Value: table },
      ]);
    });
    if (!tagged.ok) failures.push(`drbot’s tags not set, so \`/dr delete restored-table\` will refuse this table: ${tagged.message}`);
    const s = plan.reapply.settings;
    const steps: [string, string, () => Promise<void>][] = [
      ...(plan.reapply.tags.length ? [['tags', `${plan.reapply.tags.length} tag${plan.reapply.tags.length === 1 ? '' : 's'}`, () => tagTable(ddb(), arn, plan.reapply.tags)] as [string, string, () => Promise<void>]] : []),
      ...(s.pitr ? [['pitr', 'PITR', () => enablePitrOn(ddb(), target)] as [string, string, () => Promise<void>]] : []),
      ...(s.ttlAttribute ? [['ttl', `TTL on ${code(s.ttlAttribute)}`, () => enableTtl(ddb(), target, s.ttlAttribute ?? '')] as [string, string, () => Promise<void>]] : []),
      ...(s.streamViewType ? [['stream', `stream (${s.streamViewType})`, () => enableStream(ddb(), target, s.streamViewType ?? '')] as [string, string, () => Promise<void>]] : []),
      ...(s.resourcePolicy
        ? [['policy', 'resource policy', () => putTablePolicy(ddb(), arn, rewritePolicy(s.resourcePolicy ?? '', plan.sourceArn ?? '', arn))] as [string, string, () => Promise<void>]]
        : []),
      ...(s.deletionProtection
        ? [
            [
              'deletion-protection',
              'deletion protection',
              async () => {
                await setDeletionProtection(ddb(), target, true);
                // So that /dr delete restored-table turns off only what drbot turned on.
                await tagTable(ddb(), arn, [{ Key: TAG_PROTECTION, Value: 'on' }]);
              },
            ] as [string, string, () => Promise<void>],
          ]
        : []),
    ];
    for (const [name, label, fn] of steps) {
      const r = await reapplyStep(ctx, `reapply-${name}`, fn);
      if (r.ok) applied.push(label);
      else failures.push(`${label} not re-applied: ${withHint(r)}`);
    }

    // 4. Compare with the live table (read only; a failure is reported, the restore stands).
    let comparison: Comparison | undefined;
    if (plan.live) {
      const c = await safeStep(ctx, 'compare', async () => {
        await progress.report(3, STAGES, 'comparing with the live table');
        const d = await describeTableIfAny(ddb(), target);
        return compareTables(ddb(), target, table, (d?.KeySchema ?? []) as KeySchemaElement[], { scanLive: s.billingMode === 'PAY_PER_REQUEST' });
      });
      if (c.ok) comparison = c.value;
      else failures.push(`the comparison with the live table failed: ${c.message}`);
    }

    const src = plan.source;
    const what = src.kind === 'pitr' ? `as it was at ${at(src.at)} (point-in-time recovery)` : src.why === 'deleted' ? `as it was just before it was deleted (system backup ${code(src.backup.name)})` : `from backup ${code(src.backup.name)} (taken ${at(src.backup.created)})`;
    const lines = [
      `:white_check_mark: \`${target}\` is ACTIVE: \`${table}\` ${what}.`,
      `ARN \`${arn}\`; tagged \`${TAG_RUN}=${input.runId}\`, \`${TAG_RESTORED_FROM}=${table}\`.`,
      applied.length ? `Re-applied from ${plan.reapply.from === 'source' ? 'the live table' : 'the backup’s description'}: ${applied.join('; ')}.` : 'Re-applied: nothing (nothing to copy, or every step was refused: see below).',
      notReappliedLine(table, plan.reapply),
      ...(comparison ? comparisonLines(comparison, target, table) : plan.live ? [] : ['No live table to compare with: it was deleted.']),
      plan.live
        ? `Next: *Cut over* writes the restored data into \`${table}\` (its own plan and approval, a safety backup first); *Keep both* leaves the two side by side and says how to point an application at \`${target}\`; *Delete restored table* removes it (approval). The restored table is billed until it is deleted.`
        : `Next: *Keep both* says how to point an application at \`${target}\`; *Delete restored table* removes it (approval). The restored table is billed until it is deleted.`,
    ];
    return { ok: true, lines, failures, next: restoreNextSteps(table, target, plan.live) };
  },
};
