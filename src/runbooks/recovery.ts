import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { DrConfig } from '../config/schema';
import { parseCommand } from '../slack/parse';
import { postOrOps, type SlackMessage, type SlackPoster } from '../slack/poster';
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

/*
 * A pid alone does not name a process: a restarted container (or a long-lived host) gives the same
 * pid to a new process, which would take a dead run's runner for alive, or for itself. A runner is
 * named `local:<host>:<pid>:<boot>:<start>:<nonce>`: the kernel's boot id, the process's start time
 * (clock ticks since boot, from /proc/<pid>/stat) and a random nonce of this process. Where /proc
 * is missing (macOS), boot and start are empty and the nonce still tells this process from others.
 */

/** What recovery needs to know about processes on this host (injected in tests). */
export interface ProcessProbe {
  alive(pid: number): boolean;
  /** The process's start time as /proc/<pid>/stat says (clock ticks since boot); undefined when unknown. */
  startTime(pid: number): string | undefined;
  /** The kernel's boot id; undefined when unknown. */
  bootId(): string | undefined;
  /** True when the process is a drbot (runs from this checkout); undefined when it cannot be told. */
  isDrbot(pid: number): boolean | undefined;
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

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export const PROC: ProcessProbe = {
  alive: pidAlive,
  startTime(pid) {
    const stat = readProc(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
    const after = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = after?.[19];
    return start && /^\d+$/.test(start) ? start : undefined;
  },
  bootId() {
    const id = readProc('/proc/sys/kernel/random/boot_id')?.trim();
    return id && /^[0-9a-f-]+$/.test(id) ? id : undefined;
  },
  isDrbot(pid) {
    if (!existsSync('/proc')) return undefined;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch (e) {
      // Gone meanwhile: not a drbot. Someone else's (EPERM, EACCES): cannot tell.
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? false : undefined;
    }
    const cmdline = readProc(`/proc/${pid}/cmdline`) ?? '';
    return cwd === process.cwd() || /drbot/i.test(cmdline);
  },
};

/** This process's nonce: tells it from an earlier process that had the same pid. */
const NONCE = randomBytes(6).toString('hex');

/** This process (or another pid on this host, for tests) as a runner. */
export function localRunner(pid: number = process.pid, host: string = hostname(), probe: ProcessProbe = PROC): string {
  const nonce = pid === process.pid ? NONCE : randomBytes(6).toString('hex');
  return `local:${host}:${pid}:${probe.bootId() ?? ''}:${probe.startTime(pid) ?? ''}:${nonce}`;
}

const RUNNER = /^local:([^:]+):(\d+):([0-9a-f-]*):(\d*):([0-9a-f]+)$/;
/** Records written before boot ids and nonces: `local:<host>:<pid>`. */
const OLD_RUNNER = /^local:(.+):(\d+)$/;

/**
 * True for a local runner on this host whose process is gone: the host rebooted since, its pid is
 * dead, or the pid now belongs to another process (another start time, or this very process under
 * another nonce). Lambda and other hosts: never. An old record (`local:<host>:<pid>`) is gone when
 * its pid is dead, is not a drbot, or is this process (which writes only the new form).
 */
export function runnerGone(runner: string | undefined, host: string = hostname(), probe: ProcessProbe = PROC): boolean {
  const m = RUNNER.exec(runner ?? '');
  if (m) {
    const [, h, p, boot, start, nonce] = m;
    if (h !== host) return false;
    const pid = Number(p);
    if (pid === process.pid) return nonce !== NONCE;
    const bootNow = probe.bootId();
    if (boot && bootNow && boot !== bootNow) return true;
    if (!probe.alive(pid)) return true;
    const startNow = probe.startTime(pid);
    return Boolean(start && startNow && start !== startNow);
  }
  const old = OLD_RUNNER.exec(runner ?? '');
  if (!old || old[1] !== host) return false;
  const pid = Number(old[2]);
  if (pid === process.pid) return true;
  return !probe.alive(pid) || probe.isDrbot(pid) === false;
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
export async function deliverUnsent(deps: Pick<RecoveryDeps, 'store' | 'slack' | 'config'>, runs: readonly RunRecord[]): Promise<number> {
  let delivered = 0;
  for (const run of runs) {
    if (!run.unsent) continue;
    try {
      const message = JSON.parse(run.unsent) as SlackMessage;
      if (run.ts) {
        await deps.slack.update(run.channel, run.ts, message);
        await deps.store.updateRun(run.id, { unsent: null });
      } else {
        // The run never had a message (Slack down or silent when it started): its final state is
        // posted now. Two `/dr runs` must not both post it, whenever they come: one claim per run,
        // given back only when the post failed (so a later /dr runs tries again). A post that went
        // out keeps its claim even if recording it fails: the state stays kept, never posted twice.
        const key = `deliver:${run.id}`;
        if (!(await deps.store.claim(key))) continue;
        let posted: { channel: string; ts: string };
        try {
          // Where the run was requested, or the ops channel when the bot may no longer post there.
          posted = await postOrOps(deps.slack, run.channel, deps.config.slack.channels.ops, message);
        } catch (e) {
          await deps.store.unclaim(key).catch(() => {});
          throw e;
        }
        await deps.store.updateRun(run.id, { channel: posted.channel, ts: posted.ts, unsent: null });
      }
      delivered++;
    } catch {
      // Still not taken: kept for the next /dr runs.
    }
  }
  return delivered;
}
