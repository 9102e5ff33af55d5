import type { KnownBlock } from '@slack/types';
import type { NextStep } from '../../runbooks/verb';
import type { SlackMessage } from '../poster';
import { escapeMrkdwn, oneLine, safeLines, slackDate } from './format';

export const ACTION_APPROVE = 'run_approve';
export const ACTION_REJECT = 'run_reject';
/** Next-step buttons: `run_next:<index>`, value `<run id>:<index>` (the step itself stays in the run record). */
export const ACTION_NEXT_PREFIX = 'run_next:';
export const ACTION_NEXT = /^run_next:\d{1,2}$/;

export type RunPhase = 'planning' | 'planned' | 'awaiting_approval' | 'running' | 'succeeded' | 'failed' | 'rejected' | 'expired' | 'dry_run' | 'nothing_to_do' | 'interrupted';

export interface RunView {
  runId: string;
  title: string;
  requester: string;
  /** Where the command was typed, when the message had to go elsewhere. */
  requestedIn?: string;
  /** A scheduled run: the schedule's name, shown instead of a person. */
  schedule?: string;
  phase: RunPhase;
  /** Plan lines: targets, counts, sizes, time range, what will not be touched. */
  plan?: string[];
  approval?: { id: string; required: number; approvers: string[]; expiresAt: string };
  decision?: { by: string[]; at: string; kind: 'approved' | 'rejected' | 'expired'; reason?: string };
  progress?: { done: number; total: number; label: string };
  result?: string[];
  failures?: string[];
  error?: string;
  durationMs?: number;
  /** Of durationMs, the time spent waiting for an approval decision. */
  waitedMs?: number;
  /** The run this one continues in the same message (a next-step button of it was pressed). */
  continues?: string;
  /** Follow-ups offered as buttons once the run has ended. */
  next?: NextStep[];
}

const FINAL: readonly RunPhase[] = ['succeeded', 'failed', 'rejected', 'expired', 'dry_run', 'nothing_to_do', 'interrupted'];
/** Slack allows 25 elements in an actions block; a run offers a few. */
const MAX_NEXT = 5;

const SECTION_MAX = 3000;
const MAX_FAILURE_LINES = 20;

const PHASE_HEAD: Record<RunPhase, string> = {
  planning: ':hourglass_flowing_sand: Planning',
  planned: ':clipboard: Plan',
  awaiting_approval: ':raised_hand: Waiting for approval',
  running: ':gear: Running',
  succeeded: ':white_check_mark: Done',
  failed: ':x: Failed',
  rejected: ':no_entry: Rejected',
  expired: ':alarm_clock: Approval expired',
  dry_run: ':memo: Dry run — nothing changed',
  nothing_to_do: ':white_check_mark: Nothing to do',
  interrupted: ':warning: Interrupted',
};

function fit(text: string, max = SECTION_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}\n…(truncated)`;
}

/** verbatim: Slack links nothing on its own (no bare URLs, #channels or @names turned live); safeLines: no unsafe character, no code span left open. */
function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: safeLines(fit(text)), verbatim: true } };
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 role`, `2 roles`, `1,000 inline policies` (`many` when adding an s is wrong). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function bar(done: number, total: number): string {
  const width = 20;
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function when(iso: string): string {
  return slackDate(iso, { seconds: true });
}

/** "took 3 s", or with an approval "waited 25 s for approval, then worked 2 s". */
export function durationLine(totalMs: number, waitedMs?: number): string {
  if (waitedMs === undefined) return `took ${formatDuration(totalMs)}`;
  return `waited ${formatDuration(waitedMs)} for approval, then worked ${formatDuration(Math.max(0, totalMs - waitedMs))}`;
}

/** The block id of the line that says how many approvals a run needs and has. */
export const APPROVAL_STATUS_BLOCK = 'approval-status';

/** "Needs N approvers other than the requester (k of N: …). Expires …" */
export function approvalStatusLine(required: number, approvers: string[], expiresAt: string): string {
  const votes = approvers.length ? ` (${approvers.length} of ${required}: ${approvers.map((u) => `<@${u}>`).join(', ')})` : '';
  return `Needs ${required} approver${required > 1 ? 's' : ''} other than the requester${votes}. Expires ${when(expiresAt)}.`;
}

/** The single message a run keeps up to date, from request to result. */
export function renderRun(v: RunView): SlackMessage {
  const blocks: KnownBlock[] = [];
  const title = escapeMrkdwn(oneLine(v.title));
  const head = `${PHASE_HEAD[v.phase]}: *${title}*`;
  const by = v.schedule ? `scheduled by \`${escapeMrkdwn(v.schedule)}\`` : `requested by <@${v.requester}>`;
  const after = v.continues ? ` · continues run \`${escapeMrkdwn(v.continues)}\`` : '';
  blocks.push(section(`${head}\n${by}${v.requestedIn ? ` in <#${v.requestedIn}>` : ''} · run \`${v.runId}\`${after}`));
  if (v.plan?.length) blocks.push(section(v.plan.map((l) => `• ${l}`).join('\n')));
  if (v.approval && v.phase === 'awaiting_approval') {
    blocks.push({
      type: 'context',
      block_id: APPROVAL_STATUS_BLOCK,
      elements: [{ type: 'mrkdwn', text: approvalStatusLine(v.approval.required, v.approval.approvers, v.approval.expiresAt) }],
    });
    blocks.push({
      type: 'actions',
      block_id: `approval:${v.approval.id}`,
      elements: [
        {
          type: 'button',
          action_id: ACTION_APPROVE,
          text: { type: 'plain_text', text: 'Approve' },
          style: 'primary',
          value: v.approval.id,
          confirm: {
            title: { type: 'plain_text', text: 'Approve this run?' },
            text: { type: 'mrkdwn', text: fit(`This will run *${title}* now.`, 300), verbatim: true },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        { type: 'button', action_id: ACTION_REJECT, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: v.approval.id },
      ],
    });
  }
  if (v.decision) {
    const who = v.decision.by.map((u) => `<@${u}>`).join(', ');
    const line =
      v.decision.kind === 'approved'
        ? `:white_check_mark: Approved by ${who} at ${when(v.decision.at)}`
        : v.decision.kind === 'rejected'
          ? `:no_entry: Rejected${who ? ` by ${who}` : ''} at ${when(v.decision.at)}${v.decision.reason ? `: ${escapeMrkdwn(v.decision.reason)}` : ''}`
          : `:alarm_clock: No decision before ${when(v.decision.at)}; nothing was changed.`;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: line }] });
  }
  if (v.progress && (v.phase === 'running' || v.phase === 'planning')) {
    const p = v.progress;
    // While planning the total is not known yet (a listing under way): the count alone.
    blocks.push(section(v.phase === 'running' ? `\`${bar(p.done, p.total)}\` ${p.label} ${formatCount(p.done)} / ${formatCount(p.total)}` : `${p.label} ${formatCount(p.done)}…`));
  }
  if (v.result?.length) blocks.push(section(v.result.join('\n')));
  if (v.failures?.length) {
    const shown = v.failures.slice(0, MAX_FAILURE_LINES).map((f) => `• ${escapeMrkdwn(f)}`);
    const more = v.failures.length > MAX_FAILURE_LINES ? `\n…and ${formatCount(v.failures.length - MAX_FAILURE_LINES)} more (see the audit log)` : '';
    blocks.push(section(`*${formatCount(v.failures.length)} failed:*\n${shown.join('\n')}${more}`));
  }
  if (v.error) blocks.push(section(v.error));
  if (v.next?.length && FINAL.includes(v.phase)) {
    blocks.push({
      type: 'actions',
      block_id: `next:${v.runId}`,
      elements: v.next.slice(0, MAX_NEXT).map((n, i) => ({
        type: 'button' as const,
        action_id: `${ACTION_NEXT_PREFIX}${i}`,
        text: { type: 'plain_text' as const, text: oneLine(n.label).slice(0, 75) },
        value: `${v.runId}:${i}`,
        ...(n.style ? { style: n.style } : {}),
      })),
    });
  }
  if (v.durationMs !== undefined) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: durationLine(v.durationMs, v.waitedMs) }] });
  const text = safeLines(`${PHASE_HEAD[v.phase].replace(/^:[a-z_]+: /, '')}: ${title} (run ${v.runId})`);
  return { text, blocks };
}

/**
 * Replaces a message's approval buttons with a decision line, keeping everything else: the
 * click handler uses it to show a decision at once, before the run itself re-renders.
 */
export function withDecision(blocks: KnownBlock[], line: string): KnownBlock[] {
  const kept = blocks.filter(
    (b) =>
      !(b.type === 'actions' && (b.block_id ?? '').startsWith('approval:')) &&
      b.block_id !== APPROVAL_STATUS_BLOCK,
  );
  return [...kept, { type: 'context', elements: [{ type: 'mrkdwn', text: line }] }];
}
