import type { DurableContext, StepConfig } from '@aws/durable-execution-sdk-js';
import { retryWait } from '../aws/retry-wait';
import { DrbotError } from '../errors';
import { postOrOps, type SlackMessage } from '../slack/poster';
import { escapeMrkdwn, oneLine, safeLines } from '../slack/views/format';
import { formatCount, type RunView, renderRun } from '../slack/views/run';
import { renderScheduledFailure } from '../slack/views/schedule';
import { Leases } from '../store/leases';
import { newId } from '../store/state';

/** A run's lease lasts as long as a durable execution may (24 h); a run that dies without releasing it frees it then. */
const LEASE_MS = 24 * 3_600_000;
import type { AnyRunInput, ApprovalPayload, RunbookDeps } from './types';
import type { NextStep } from './verb';

/** The name of the durable callback operation every approval waits on. */
export const APPROVAL_OPERATION = 'approval';

export interface PlanResult<P> {
  lines: string[];
  /** Nothing to change: the run ends after posting the plan. */
  empty?: boolean;
  /**
   * The plan in full, posted as replies in the run message's thread once the plan is shown: what
   * does not fit the message (a long diff) but an approver must be able to read before approving.
   */
  thread?: SlackMessage[];
  data: P;
}

export interface Outcome {
  ok: boolean;
  lines: string[];
  failures: string[];
  /** Replaces the run message entirely (e.g. the status report). */
  message?: SlackMessage;
  /** Follow-ups offered as buttons on the message (each a command with its own plan and approval). */
  next?: NextStep[];
}

/** Throttled progress for a long step: at most one message update per interval. */
export interface Progress {
  /** While planning, `total` is not known yet (give 0): the message shows the count alone. */
  report(done: number, total: number, label: string): Promise<void>;
}

/** What a plan that checkpoints its own steps is given (see `Runbook.planInSteps`). */
export interface PlanRun {
  /** A checkpointed step, named within the plan; our errors come out of it with their code and hint. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Progress in the message while planning, from inside a step. */
  progress: Progress;
}

/** How a plan run without its own steps runs them: inline, within the one 'plan' step around it. */
export const INLINE_PLAN: PlanRun = { step: (_name, fn) => fn(), progress: { report: async () => undefined } };

export interface Runbook<I, P> {
  title(input: I): string;
  /** Needs a second person's approval before execute (dry runs never get there). */
  destructive: boolean;
  /**
   * What a destructive run changes, as lease names (`s3:<bucket>`, `dynamodb:<table>`, …): one
   * destructive run per resource; a second is refused, naming the run that holds it. Called with
   * the input alone before planning, and again with the plan's data before the lease is taken
   * (for runs whose resources only the plan knows, such as every role of an export).
   */
  resources?(input: I, plan?: P): string[];
  /**
   * Plans the run. Called inside one checkpointed step, unless `planInSteps` is set: then it runs
   * outside any step and checkpoints its own work through `run.step`, so a plan whose work list is
   * larger than one checkpoint (256 KB) can keep it (in slices, one step each) for execute.
   */
  plan(deps: RunbookDeps, input: I, run?: PlanRun): Promise<PlanResult<P>>;
  /** The plan checkpoints its own steps through its `run` argument (see `plan`). */
  planInSteps?: boolean;
  execute(ctx: DurableContext, deps: RunbookDeps, input: I, plan: P, progress: Progress): Promise<Outcome>;
}

export interface RunSummary {
  runId: string;
  status: 'succeeded' | 'failed' | 'rejected' | 'expired' | 'dry_run' | 'nothing_to_do';
  lines: string[];
  failures: number;
}

/** What a step that failed in a way we understand returns instead of throwing: our error's code, words and fix. */
export interface StepFailure {
  code: string;
  message: string;
  hint?: string;
  /** Throttling or a 5xx that outlasted the retries: trying again later may work. */
  transient: boolean;
}

export type Safe<T> = ({ ok: true; value: T }) | ({ ok: false } & StepFailure);

/** Waits between in-step retries of AWS throttling and 5xx answers. */
const IN_STEP_RETRY_MS = [500, 1000, 2000];

export function stepFailure(e: DrbotError): StepFailure {
  return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), transient: isTransient(e) };
}

/**
 * A checkpointed step whose failures we understand (our DrbotErrors: access denied, not found, bad
 * input, and AWS throttling or 5xx once retried here a few times) come back as values with their
 * code and hint, which a thrown error would lose in the SDK's serialization. Anything unexpected is
 * retried by the SDK and then fails the step.
 */
export async function safeStep<T>(ctx: DurableContext, name: string, fn: () => Promise<T>): Promise<Safe<T>> {
  return ctx.step<Safe<T>>(
    name,
    async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return { ok: true, value: await fn() };
        } catch (e) {
          if (!(e instanceof DrbotError)) throw e;
          const wait = IN_STEP_RETRY_MS[attempt];
          if (isTransient(e) && wait !== undefined) {
            await retryWait(wait);
            continue;
          }
          return { ok: false, ...stepFailure(e) };
        }
      }
    },
    STEP,
  );
}

/** A checkpointed step that throws our error (code and hint intact) after the step when it failed in a way we understand. */
export async function step<T>(ctx: DurableContext, name: string, fn: () => Promise<T>): Promise<T> {
  const r = await safeStep(ctx, name, fn);
  if (!r.ok) throw new DrbotError(r.code, r.message, r.hint);
  return r.value;
}

function isTransient(e: Error): boolean {
  return !(e instanceof DrbotError) || e.code === 'aws_throttled' || e.code === 'aws_error';
}

/**
 * Step retries: transient failures (throttling, 5xx, network, anything unexpected) are retried
 * three times with backoff; our own permanent errors (access denied, not found, bad input) are not,
 * so the run reports them at once instead of after minutes of retries.
 */
export const STEP: Pick<StepConfig<unknown>, 'retryStrategy'> = {
  retryStrategy: (error, attempt) => (isTransient(error) && attempt < 3 ? { shouldRetry: true, delay: { seconds: 2 ** attempt } } : { shouldRetry: false }),
};

/**
 * Posts the run's message where the command was typed; if the bot is not allowed there (not
 * invited, a private channel, archived), in the configured ops channel instead, saying so.
 */
async function postWithFallback(deps: RunbookDeps, input: AnyRunInput, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
  return postOrOps(deps.slack, input.channel, deps.config.slack.channels.ops, msg, input.threadTs ? { threadTs: input.threadTs } : {}, async (code) => {
    await deps.store.audit({ actor: 'system', action: 'post', target: input.commandText, result: 'ok', runId: input.runId, detail: `cannot post in ${input.channel} (${code}); using the ops channel` });
  });
}

/**
 * An unexpected error's words in the message: they may carry anything (an AWS message quoting a key),
 * so one line, escaped, and its backticks neutralised when they would leave a code span open.
 */
export function stoppedText(reason: string, runId: string): string {
  return `:x: The run stopped: ${safeLines(escapeMrkdwn(oneLine(reason.slice(0, 500))))}\nThe on-call can grep the logs for \`${runId}\`.`;
}

function errorText(r: { message: string; hint?: string }, runId: string): string {
  return `:x: ${r.message}${r.hint ? `\n${r.hint}` : ''}\n_ref: ${runId}_`;
}

/** A structured warning about Slack or the record, with the run's id (no message content, no tokens). */
function warn(message: string, input: AnyRunInput, e: unknown): void {
  const err = e as { code?: unknown; message?: unknown; data?: { error?: unknown } };
  console.warn(JSON.stringify({ level: 'WARN', message, runId: input.runId, kind: input.kind, code: String(err?.data?.error ?? err?.code ?? ''), error: String(err?.message ?? e).slice(0, 300) }));
}

/** The SDK's own unwinding (suspension, non-determinism): never ours to report (or to catch). */
export function isSdkControlFlow(e: unknown): boolean {
  return /Unrecoverable|NonDeterministic|Termination|StepInterrupted/.test((e as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? '');
}

function errorType(e: unknown): string {
  const t = (e as { errorType?: unknown; name?: unknown })?.errorType ?? (e as { name?: unknown })?.name;
  return typeof t === 'string' ? t : '';
}

/** Progress in the message, and a way to wait until no update of it is still on its way. */
interface MessageProgress extends Progress {
  /** Resolves once no progress update is in flight: the next state written must not be overtaken by one. */
  settled(): Promise<void>;
}

/**
 * Progress shown in the run's message, throttled to one update per interval (none exempt: the next
 * state shows completion), and one update in flight at a time: a report made while one is on its
 * way (Slack slow, or retrying a 429) is sent once it lands, with the newest count. Runbooks report
 * without awaiting, from inside steps, so the run waits on `settled()` before it writes its next
 * state: a late progress update must never land over the plan or the final report.
 */
function progressOf(view: RunView, show: () => Promise<boolean>, deps: RunbookDeps): MessageProgress {
  const interval = deps.progressIntervalMs ?? 2000;
  let last = 0;
  let inFlight: Promise<void> | undefined;
  let again = false;
  const send = async (): Promise<void> => {
    do {
      again = false;
      // Progress is best effort: a rate-limited update must not fail the work (show never throws).
      await show();
    } while (again);
    // Cleared in the same turn as the last look at `again`: a report made after it starts a new send.
    inFlight = undefined;
  };
  return {
    report(done, total, label) {
      const t = deps.now().getTime();
      if (last !== 0 && t - last < interval) return Promise.resolve();
      last = t;
      view.progress = { done, total, label };
      if (inFlight) {
        again = true;
        return inFlight;
      }
      inFlight = send();
      return inFlight;
    },
    async settled() {
      await inFlight;
    },
  };
}

/** A plan that checkpoints its own steps (`plan-<name>`), its failure as a value like `safeStep`'s. */
async function planInSteps<I extends AnyRunInput, P>(ctx: DurableContext, deps: RunbookDeps, input: I, rb: Runbook<I, P>, progress: Progress): Promise<Safe<PlanResult<P>>> {
  try {
    return { ok: true, value: await rb.plan(deps, input, { step: (name, fn) => step(ctx, `plan-${name}`, fn), progress }) };
  } catch (e) {
    if (e instanceof DrbotError) return { ok: false, ...stepFailure(e) };
    throw e;
  }
}

/**
 * Runs one runbook as a durable execution: post → plan → (dry run ends) → approval → execute →
 * report, one Slack message updated in place throughout, every stage audited. Code outside
 * ctx.step runs again on replay, so it only builds the view; every side effect is in a step.
 */
export async function drive<I extends AnyRunInput, P>(ctx: DurableContext, deps: RunbookDeps, input: I, rb: Runbook<I, P>): Promise<RunSummary> {
  const title = rb.title(input);
  const view: RunView = {
    runId: input.runId,
    title,
    requester: input.requester,
    phase: 'planning',
    ...(input.schedule ? { schedule: input.schedule.name } : {}),
    ...(input.continues ? { continues: input.continues.runId } : {}),
  };
  const audit = (action: string, result: Parameters<RunbookDeps['store']['audit']>[0]['result'], detail?: string, actor = input.requester) =>
    deps.store.audit({ actor, action, target: input.commandText, result, runId: input.runId, ...(detail ? { detail } : {}) });

  // Posting and recording are two steps: a table write that fails is retried alone and never posts
  // the message again. A Slack that cannot be reached does not stop the run: its work, its record
  // and its audit go on without a message.
  // A run started from a next-step button takes over that run's message, and keeps its buttons to
  // offer again if it ends without doing anything (rejected, expired, a dry run).
  const posted = await ctx.step('post', async () => {
    const from = input.continues;
    const parentNext = from ? ((await deps.store.getRun(from.runId).catch(() => undefined))?.next ?? []) : [];
    if (from) {
      // The message is this run's now: an undelivered final state of the earlier run must never be written over it.
      await deps.store.updateRun(from.runId, { unsent: null }).catch(() => false);
      try {
        await deps.slack.update(from.channel, from.ts, renderRun(view));
        return { ok: true as const, channel: from.channel, ts: from.ts, parentNext };
      } catch (e) {
        warn('earlier run message not taken over; posting a new one', input, e);
      }
    }
    try {
      return { ok: true as const, ...(await postWithFallback(deps, input, renderRun(view))), parentNext };
    } catch (e) {
      warn('run message not posted; the run goes on without one', input, e);
      return { ok: false as const, channel: input.channel, parentNext };
    }
  });
  await ctx.step(
    'record',
    async () => {
      const at = deps.now().toISOString();
      await deps.store.putRun({
        id: input.runId,
        kind: input.kind,
        requester: input.requester,
        commandText: input.commandText,
        channel: posted.channel,
        ts: posted.ok ? posted.ts : '',
        status: 'started',
        // The request's time, not this step's: a retried step must not list the run twice in RUNS.
        createdAt: input.requestedAt,
        updatedAt: at,
        ...(deps.runner ? { runner: deps.runner } : {}),
      });
    },
    STEP,
  );
  const msg = posted.ok ? posted : undefined;
  if (msg && msg.channel !== input.channel) view.requestedIn = input.channel;
  /** Brings the message up to date, best effort: Slack failing never fails the work or its record. */
  const show = async (m: SlackMessage = renderRun(view)): Promise<boolean> => {
    if (!msg) return false;
    try {
      await deps.slack.update(msg.channel, msg.ts, m);
      return true;
    } catch (e) {
      warn('run message not updated', input, e);
      return false;
    }
  };
  let askedApproval: string | undefined;
  let executed = false;
  /** The run's progress reporters: finish waits until none has an update on its way. */
  const reporters: MessageProgress[] = [];
  const reporting = (p: MessageProgress): MessageProgress => {
    reporters.push(p);
    return p;
  };
  const finish = async (
    status: RunSummary['status'],
    lines: string[],
    failures: number,
    auditResult: Parameters<typeof audit>[1],
    detail?: string,
    message?: SlackMessage,
    offered?: NextStep[],
  ): Promise<RunSummary> => {
    // What the run offers next; a run that changed nothing offers again what its predecessor did.
    const next = offered ?? (executed ? [] : posted.parentNext);
    if (next.length) view.next = next;
    // A progress update still on its way would land over the final state.
    for (const r of reporters) await r.settled();
    await ctx.step('finish', async () => {
      const end = deps.now().getTime();
      view.durationMs = end - Date.parse(input.requestedAt);
      // Time spent waiting for a person is not time spent working: report them apart.
      const asked = askedApproval ? await deps.store.getApproval(askedApproval).catch(() => undefined) : undefined;
      if (asked) view.waitedMs = Math.max(0, Math.min(view.durationMs, Date.parse(asked.decidedAt ?? view.decision?.at ?? new Date(end).toISOString()) - Date.parse(asked.createdAt)));
      // The record and the audit first: they say how the run ended even when Slack does not answer.
      await deps.store.updateRun(input.runId, { status, summary: lines.join(' ').slice(0, 500), ...(next.length ? { next } : {}) });
      await audit('result', auditResult, detail ?? lines.join(' ').slice(0, 300), 'system');
      // Held only by this run, if at all: released on every way out.
      for (const r of resources) await leases.release(r, input.runId);
      const final = message ?? renderRun(view);
      // A final state Slack did not take is kept with the run; `/dr runs` delivers it later (as a
      // new message when the run never got one posted: Slack was down or silent at its start).
      if (!(await show(final))) {
        const json = JSON.stringify(final);
        // Within DynamoDB's 400 KB item (a message is at most 50 blocks of 3,000 characters).
        if (json.length <= 300_000) await deps.store.updateRun(input.runId, { unsent: json });
      }
    });
    const schedule = input.schedule;
    if (schedule && status === 'failed') {
      // Nobody watches a scheduled run: its failure is raised where the on-call looks, with a retry.
      await ctx.step('alert-failure', async () => {
        const { critical, ops } = deps.config.slack.channels;
        const reason = view.error ?? [...lines, ...(view.failures ?? [])].join('\n');
        // Best effort like every Slack call of a run: the failure is already recorded and audited.
        await deps.slack
          .post(critical ?? ops, renderScheduledFailure({ schedule: schedule.name, at: schedule.at, verb: input.kind, title, runId: input.runId, reason, opsChannel: msg?.channel ?? posted.channel }))
          .catch((e: unknown) => warn('scheduled-run failure not posted', input, e));
      });
    }
    return { runId: input.runId, status, lines, failures };
  };

  let resources = rb.destructive ? (rb.resources?.(input) ?? []) : [];
  const leases = new Leases(deps.store.doc, deps.store.tableName);
  /** The first resource another run holds, said in words with a link to that run's message. */
  const busy = async (take: boolean): Promise<string | undefined> => {
    const now = deps.now();
    const holder = { runId: input.runId, channel: msg?.channel ?? posted.channel, ts: msg?.ts ?? '', until: now.getTime() + LEASE_MS };
    for (const r of resources) {
      const other = take ? await leases.acquire(r, holder, now).then((x) => (x.ok ? undefined : x.holder)) : await leases.holder(r, now).then((h) => (h && h.runId !== input.runId ? h : undefined));
      if (other) {
        if (take) for (const mine of resources) await leases.release(mine, input.runId);
        const link = other.ts ? ` (<https://slack.com/archives/${other.channel}/p${other.ts.replace('.', '')}|its message>)` : '';
        return `:no_entry_sign: \`${r}\` is busy: run \`${other.runId}\` is working on it${link}. Nothing was changed; run the command again when it is done.`;
      }
    }
    return undefined;
  };

  try {
    // Refused before planning when another destructive run holds what this one would change (a dry
    // run changes nothing, so it may plan beside it).
    const dryRun = 'dryRun' in input && input.dryRun;
    const heldBefore = resources.length && !dryRun ? await ctx.step('busy', () => busy(false), STEP) : undefined;
    if (heldBefore) {
      view.phase = 'failed';
      view.error = heldBefore;
      return finish('failed', ['refused: the resource is busy with another run'], 0, 'refused', heldBefore);
    }
    const planning = reporting(progressOf(view, show, deps));
    const planned = rb.planInSteps ? await planInSteps(ctx, deps, input, rb, planning) : await safeStep(ctx, 'plan', () => rb.plan(deps, input, INLINE_PLAN));
    await planning.settled();
    if (!planned.ok) {
      view.phase = 'failed';
      view.error = errorText(planned, input.runId);
      return finish('failed', [planned.message], 0, 'error', `${planned.code}: ${planned.message}`);
    }
    const plan = planned.value;
    delete view.progress;
    view.plan = plan.lines;
    view.phase = 'planned';
    await ctx.step('post-plan', async () => {
      await show();
      await deps.store.updateRun(input.runId, { status: 'planned' });
      await audit('plan', 'ok', plan.lines.join('; ').slice(0, 300));
    });
    const thread = plan.thread ?? [];
    if (msg && thread.length) {
      // Best effort and never retried as a step (a retry would post the replies twice): a reply
      // Slack refuses is logged, and the plan in the message says the diff is in the thread.
      await ctx.step('post-plan-thread', async () => {
        const threadTs = input.threadTs && msg.channel === input.channel ? input.threadTs : msg.ts;
        for (const m of thread) {
          try {
            await deps.slack.post(msg.channel, m, { threadTs });
          } catch (e) {
            warn('plan detail not posted in the thread', input, e);
            return;
          }
        }
      });
    }

    if (dryRun) {
      view.phase = 'dry_run';
      return finish('dry_run', plan.lines, 0, 'ok', 'dry run: nothing changed');
    }
    if (plan.empty) {
      view.phase = 'nothing_to_do';
      return finish('nothing_to_do', plan.lines, 0, 'ok', 'nothing to do');
    }

    // What the run will change, now that the plan says it: the leases taken after the approval.
    if (rb.destructive && rb.resources) resources = rb.resources(input, plan.data);

    if (rb.destructive) {
      const approvalId = await ctx.step('approval-id', async () => newId('ap'));
      askedApproval = approvalId;
      const { required, expiresMinutes } = deps.config.approvals;
      const waitSeconds = deps.approvalWaitSeconds ?? expiresMinutes * 60;
      let decision: ApprovalPayload;
      try {
        const raw = await ctx.waitForCallback<string>(
          APPROVAL_OPERATION,
          async (callbackId) => {
            const created = deps.now();
            const expiresAt = new Date(created.getTime() + waitSeconds * 1000).toISOString();
            try {
              await deps.store.putApproval({
                id: approvalId,
                runId: input.runId,
                callbackId,
                requester: input.requester,
                summary: title,
                required,
                approvers: [],
                status: 'pending',
                createdAt: created.toISOString(),
                expiresAt,
                channel: msg?.channel ?? posted.channel,
                ts: msg?.ts ?? '',
              });
            } catch (e) {
              // A retried submitter finds its own record already there.
              if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
            }
            await show(renderRun({ ...view, phase: 'awaiting_approval', approval: { id: approvalId, required, approvers: [], expiresAt } }));
            await deps.store.updateRun(input.runId, { status: 'awaiting_approval' });
            await audit('approval-requested', 'pending', `${required} approver(s), expires ${expiresAt}`);
          },
          { timeout: { seconds: waitSeconds } },
        );
        decision = JSON.parse(raw) as ApprovalPayload;
      } catch (e) {
        const type = errorType(e);
        if (type === 'CallbackTimeoutError') {
          const at = await ctx.step('expire', async () => {
            await deps.store.decide(approvalId, 'expired', 'system');
            return deps.now().toISOString();
          });
          view.phase = 'expired';
          view.decision = { kind: 'expired', by: [], at };
          return finish('expired', ['approval expired; nothing was changed'], 0, 'expired');
        }
        if (type === 'CallbackExternalError') {
          const rec = await ctx.step('rejected', async () => deps.store.getApproval(approvalId));
          view.phase = 'rejected';
          view.decision = {
            kind: 'rejected',
            by: rec?.decidedBy ? [rec.decidedBy] : [],
            at: rec?.decidedAt ?? input.requestedAt,
            ...(rec?.reason ? { reason: rec.reason } : {}),
          };
          return finish('rejected', ['rejected; nothing was changed'], 0, 'rejected', `rejected by ${rec?.decidedBy ?? 'unknown'}`);
        }
        throw e;
      }
      view.decision = { kind: 'approved', by: decision.approvers, at: decision.decidedAt };
    }

    // The lease is taken after the approval, for as long as the run can live; finish releases it.
    const heldAtStart = resources.length ? await ctx.step('lease', () => busy(true), STEP) : undefined;
    if (heldAtStart) {
      view.phase = 'failed';
      view.error = heldAtStart;
      return finish('failed', ['refused: the resource is busy with another run'], 0, 'refused', heldAtStart);
    }

    view.phase = 'running';
    delete view.progress;
    const progress = reporting(progressOf(view, show, deps));
    await ctx.step('running', async () => {
      await show();
      await deps.store.updateRun(input.runId, { status: 'running' });
    });

    executed = true;
    const outcome = await rb.execute(ctx, deps, input, plan.data, progress);
    view.phase = outcome.ok ? 'succeeded' : 'failed';
    view.result = outcome.lines;
    view.failures = outcome.failures;
    delete view.progress;
    return finish(
      outcome.ok ? 'succeeded' : 'failed',
      outcome.lines,
      outcome.failures.length,
      outcome.ok ? 'succeeded' : 'failed',
      `${outcome.lines.join(' ')}${outcome.failures.length ? ` (${formatCount(outcome.failures.length)} failures)` : ''}`.slice(0, 300),
      outcome.message,
      outcome.next,
    );
  } catch (e) {
    // Whatever stopped the run (a step that kept failing, Slack refusing an update), the message
    // must not stay at "Planning…" or "Running": say it failed, with the reason and a reference.
    if (isSdkControlFlow(e)) throw e;
    view.phase = 'failed';
    delete view.progress;
    const reason = e instanceof Error ? e.message : String(e);
    view.error = e instanceof DrbotError ? errorText(e, input.runId) : stoppedText(reason, input.runId);
    await ctx.step('log-failure', async () => {
      console.error(JSON.stringify({ level: 'ERROR', message: 'runbook failed', runId: input.runId, kind: input.kind, error: reason.slice(0, 2000) }));
    });
    return finish('failed', [reason.slice(0, 300)], 0, 'failed', reason.slice(0, 300));
  }
}
