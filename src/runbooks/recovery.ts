import { hostname } from 'node:os';
import type { DrConfig } from '../config/schema';
import { parseCommand } from '../slack/parse';
import type { SlackMessage, SlackPoster } from '../slack/poster';
import { renderRun } from '../slack/views/run';
import { type RunRecord, type StateStore, UNFINISHED } from '../store/state';
import type { Catalogue } from './catalogue';
import type { NextStep } from './verb';

/*
 * Runs a local bot leaves behind. A Lambda durable execution outlives any one process; a run on the
 * local runner dies with `npm start`. Each run records where it executes (`runner`); a local bot
 * starting up finds the unfinished runs of local bots on this host whose process is gone, marks
 * them `interrupted` (a conditional write: a run that ended meanwhile is left alone), records that
 * in the audit, and says so on the run's message with a "Plan again" button.
 */

/** `local:<host>:<pid>`: this process as a runner. */
export function localRunner(pid: number = process.pid, host: string = hostname()): string {
  return `local:${host}:${pid}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True for a local runner on this host whose process is gone. Lambda and other hosts: never. */
export function runnerGone(runner: string | undefined, host: string = hostname(), alive: (pid: number) => boolean = pidAlive): boolean {
  const m = /^local:(.+):(\d+)$/.exec(runner ?? '');
  if (!m || m[1] !== host) return false;
  return Number(m[2]) !== process.pid && !alive(Number(m[2]));
}

export interface RecoveryDeps {
  store: StateStore;
  slack: SlackPoster;
  config: DrConfig;
  catalogue: Catalogue;
  now: () => Date;
}

/** "Plan again": the run's own command, when it still parses (a typed command; not a button's description). */
function planAgain(deps: RecoveryDeps, run: RunRecord): NextStep[] {
  // A command text kept cut short (at 200 characters) might still parse, as a wider command.
  if (run.commandText.length >= 200) return [];
  const command = run.commandText.replace(/^\/dr\s+/, '');
  try {
    parseCommand(command, deps.config, deps.now(), deps.catalogue);
    return [{ label: 'Plan again', command }];
  } catch {
    return [];
  }
}

const WAS: Record<string, string> = {
  started: 'before it had a plan',
  planned: 'right after planning, before any change',
  awaiting_approval: 'while it waited for approval; nothing was changed',
  running: 'while it was running: some of its work may be done; `/dr audit` shows what it recorded',
};

/**
 * Marks the unfinished runs of dead local runners (of the last `days`) as interrupted and says so
 * in Slack. Returns the runs it marked, as they were (their status before).
 */
export async function recoverInterrupted(deps: RecoveryDeps, gone: (r: RunRecord) => boolean = (r) => runnerGone(r.runner), days = 7): Promise<RunRecord[]> {
  const since = new Date(deps.now().getTime() - days * 86_400_000).toISOString();
  const runs = await deps.store.listRuns(100, since);
  const marked: RunRecord[] = [];
  for (const run of runs.filter((r) => UNFINISHED.includes(r.status) && gone(r))) {
    const next = planAgain(deps, run);
    const summary = `interrupted: drbot stopped ${WAS[run.status] ?? ''}`.trim();
    if (!(await deps.store.updateRun(run.id, { status: 'interrupted', summary, ...(next.length ? { next } : {}) }, UNFINISHED))) continue;
    await deps.store.audit({ actor: 'system', action: 'interrupted', target: run.commandText, result: 'failed', runId: run.id, detail: `was ${run.status}; its process (${run.runner}) is gone` });
    const message = renderRun({
      runId: run.id,
      title: run.commandText,
      requester: run.requester,
      phase: 'interrupted',
      error: `:warning: drbot stopped ${WAS[run.status] ?? ''}. This run will not go on.${next.length ? ' Press *Plan again* for a fresh plan.' : ''}`,
      ...(next.length ? { next } : {}),
    });
    await show(deps, run, message);
    marked.push(run);
  }
  return marked;
}

/**
 * Updates the run's message; when it has none or Slack no longer has it, posts one in the ops
 * channel (and records it: Plan again must be pressed on the run's own message); when Slack does
 * not answer, keeps it for `/dr runs`.
 */
async function show(deps: RecoveryDeps, run: RunRecord, message: SlackMessage): Promise<void> {
  if (run.ts) {
    try {
      await deps.slack.update(run.channel, run.ts, message);
      return;
    } catch (e) {
      if (!/message_not_found|channel_not_found/.test(String((e as { data?: { error?: string } }).data?.error ?? (e as Error).message))) {
        await deps.store.updateRun(run.id, { unsent: JSON.stringify(message) }).catch(() => false);
        return;
      }
    }
  }
  try {
    const posted = await deps.slack.post(deps.config.slack.channels.ops, message);
    await deps.store.updateRun(run.id, { channel: posted.channel, ts: posted.ts });
  } catch {
    // Slack is down: /dr runs still lists the run as interrupted.
  }
}

/**
 * Delivers the final messages Slack did not take when the runs ended (kept as `unsent`). Returns
 * how many were delivered.
 */
export async function deliverUnsent(deps: Pick<RecoveryDeps, 'store' | 'slack'>, runs: readonly RunRecord[]): Promise<number> {
  let delivered = 0;
  for (const run of runs) {
    if (!run.unsent || !run.ts) continue;
    try {
      await deps.slack.update(run.channel, run.ts, JSON.parse(run.unsent) as SlackMessage);
      await deps.store.updateRun(run.id, { unsent: null });
      delivered++;
    } catch {
      // Still not taken: kept for the next /dr runs.
    }
  }
  return delivered;
}
