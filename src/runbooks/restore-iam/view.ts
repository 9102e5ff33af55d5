import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../../slack/poster';
import { code, escapeMrkdwn, oneLine } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import type { RoleExport } from '../backup-iam/runbook';
import { type Change, type PolicyDiff, type RoleDiff, statementDiff } from './diff';

/*
 * The diff as people read it: a one-line summary per role for the plan, and the whole diff as
 * plain lines (`-` what IAM holds now, `+` what the export holds, which is what the restore
 * writes), shown in a code block in the plan when it fits, else in the run message's thread.
 * Pure functions. Every value from IAM or the export is neutralised before it reaches Slack.
 */

/** The plan section's budget: the message's section holds 3,000 characters (src/slack/views/run.ts), its bullets included. */
export const PLAN_BUDGET = 2_800;
/** A thread reply: code-block sections of at most this many characters, a few a message, a few messages. */
const SECTION_CHARS = 2_900;
const LINE_CHARS = 2_700;
const SECTIONS_PER_MESSAGE = 4;
export const MAX_THREAD_MESSAGES = 8;

export const LEGEND = '`-` is IAM now, `+` is the export: what the restore writes';

/** A diff line as it can sit in a code block: one line, no backtick that could close the block, nothing Slack links. */
export function safeLine(s: string): string {
  return escapeMrkdwn(oneLine(s).replace(/`/g, '\u02cb'));
}

const seconds = (n: number) => `${formatCount(n)} s`;
const quoted = (s: string | undefined) => (s === undefined ? '(none)' : JSON.stringify(s));
const policyLabel = (name: string, arn: string) => `${name} (${arn})`;

function docLines(sign: '+' | '-', doc: unknown): string[] {
  const lines = sign === '+' ? statementDiff(null, doc) : statementDiff(doc, null);
  return lines.map((l) => `    ${l.sign} ${l.text}`);
}

/** The whole diff of one role, as plain lines (not yet escaped). */
export function roleDetail(d: RoleDiff, want: RoleExport): string[] {
  const created = d.changes.some((c) => c.kind === 'create');
  const out = [created ? `${d.role}: deleted since the export, created again` : d.role];
  for (const c of d.changes) out.push(...changeDetail(c, want));
  return out;
}

function changeDetail(c: Change, want: RoleExport): string[] {
  switch (c.kind) {
    case 'create':
      return [
        `  + path ${want.path}`,
        '  + trust policy',
        ...docLines('+', want.trustPolicy),
        ...(want.description ? [`  + description ${quoted(want.description)}`] : []),
        `  + max session ${seconds(want.maxSessionDuration ?? 3600)}`,
        ...(want.permissionsBoundary ? [`  + permissions boundary ${want.permissionsBoundary}`] : []),
        ...want.tags.map((t) => `  + tag ${t.key} = ${t.value}`),
      ];
    case 'trust':
      return ['  trust policy', ...statementDiff(c.from, c.to).map((l) => `    ${l.sign} ${l.text}`)];
    case 'settings': {
      const out: string[] = [];
      if (c.from.description !== c.to.description) out.push('  description', `    - ${quoted(c.from.description)}`, `    + ${quoted(c.to.description)}`);
      if (c.from.maxSessionDuration !== c.to.maxSessionDuration) out.push('  max session', `    - ${seconds(c.from.maxSessionDuration)}`, `    + ${seconds(c.to.maxSessionDuration)}`);
      return out;
    }
    case 'boundary':
      return ['  permissions boundary', ...(c.from ? [`    - ${c.from}`] : []), ...(c.to ? [`    + ${c.to}`] : [])];
    case 'inline':
      if (c.from === undefined) return [`  inline policy ${c.name}: missing, put back`, ...docLines('+', c.to)];
      if (c.to === undefined) return [`  inline policy ${c.name}: not in the export, deleted`, ...docLines('-', c.from)];
      return [`  inline policy ${c.name}`, ...statementDiff(c.from, c.to).map((l) => `    ${l.sign} ${l.text}`)];
    case 'attach':
      return [`  + managed policy ${policyLabel(c.name, c.arn)}: attached`];
    case 'detach':
      return [`  - managed policy ${policyLabel(c.name, c.arn)}: not in the export, detached`];
    case 'tag':
      return [`  tag ${c.key}`, ...(c.from !== undefined ? [`    - ${c.from}`] : []), `    + ${c.to}`];
    case 'untag':
      return [`  tag ${c.key}: not in the export, removed`, `    - ${c.from}`];
  }
}

/** The whole diff of one managed policy's document, as plain lines. */
export function policyDetail(p: PolicyDiff): string[] {
  const head = `managed policy ${policyLabel(p.name, p.arn)}`;
  if (p.from === undefined) return [`${head}: deleted since the export, ${p.outside ? 'not created again (named outside iam.rolePrefix)' : 'created again'}`, ...docLines('+', p.to)];
  return [`${head}: default version${p.outside ? ' (named outside iam.rolePrefix: shown, not written)' : ''}`, ...statementDiff(p.from, p.to).map((l) => `    ${l.sign} ${l.text}`)];
}

/** A role's changes in a few words (mrkdwn, names as code spans). */
export function roleSummary(d: RoleDiff, want: RoleExport): string {
  if (d.changes.some((c) => c.kind === 'create')) {
    const n = (k: number, one: string, many: string) => `${formatCount(k)} ${k === 1 ? one : many}`;
    return `${code(d.role)}: *deleted* since the export; created again with ${n(want.inlinePolicies.length, 'inline policy', 'inline policies')}, ${n(want.attachedPolicies.length, 'managed policy', 'managed policies')} and ${n(want.tags.length, 'tag', 'tags')}`;
  }
  const parts = d.changes.map((c): string => {
    switch (c.kind) {
      case 'trust':
        return 'trust policy';
      case 'settings':
        return [c.from.description !== c.to.description ? 'description' : '', c.from.maxSessionDuration !== c.to.maxSessionDuration ? `max session ${seconds(c.from.maxSessionDuration)} → ${seconds(c.to.maxSessionDuration)}` : '']
          .filter(Boolean)
          .join(', ');
      case 'boundary':
        return c.to ? (c.from ? 'permissions boundary changed' : 'permissions boundary put back') : 'permissions boundary removed';
      case 'inline':
        if (c.from === undefined) return `inline ${code(c.name)} put back`;
        if (c.to === undefined) return `inline ${code(c.name)} deleted`;
        return `inline ${code(c.name)} (${statementsChanged(c.from, c.to)})`;
      case 'attach':
        return `${code(c.name)} attached`;
      case 'detach':
        return `${code(c.name)} detached`;
      case 'tag':
        return c.from === undefined ? `tag ${code(c.key)} put back` : `tag ${code(c.key)} set back`;
      case 'untag':
        return `tag ${code(c.key)} removed`;
      case 'create':
        return '';
    }
  });
  return `${code(d.role)}: ${parts.filter(Boolean).join(', ')}`;
}

/** `1 statement changed`, `3 statements changed`, or `statements reordered`. */
function statementsChanged(from: unknown, to: unknown): string {
  const lines = statementDiff(from, to).filter((l) => !/^(Version|Id): /.test(l.text));
  const n = Math.max(lines.filter((l) => l.sign === '+').length, lines.filter((l) => l.sign === '-').length);
  if (n === 0) return lines.length ? 'statements reordered' : 'Version or Id';
  return `${formatCount(n)} ${n === 1 ? 'statement' : 'statements'} changed`;
}

export function policySummary(p: PolicyDiff): string {
  if (p.outside) return `Managed policy ${code(p.name)} ${p.from === undefined ? 'no longer exists' : 'differs from the export'}; it is named outside \`iam.rolePrefix\`, so drbot leaves it as it is`;
  return p.from === undefined ? `Managed policy ${code(p.name)}: *deleted* since the export; created again` : `Managed policy ${code(p.name)}: its document becomes a new default version`;
}

/** Plain diff lines cut to fit a section, long lines wrapped. */
function wrap(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const l = safeLine(raw);
    if (l.length <= LINE_CHARS) out.push(l);
    else for (let i = 0; i < l.length; i += LINE_CHARS) out.push(`${i ? '      …' : ''}${l.slice(i, i + LINE_CHARS)}`);
  }
  return out;
}

const fence = (lines: readonly string[]) => `\`\`\`\n${lines.join('\n')}\n\`\`\``;

/** Code-block sections of at most SECTION_CHARS each. */
function sections(lines: readonly string[]): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let size = 8;
  for (const l of lines) {
    if (cur.length && size + l.length + 1 > SECTION_CHARS) {
      out.push(fence(cur));
      cur = [];
      size = 8;
    }
    cur.push(l);
    size += l.length + 1;
  }
  if (cur.length) out.push(fence(cur));
  return out;
}

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text, verbatim: true } });

export interface PlanView {
  lines: string[];
  thread: SlackMessage[];
}

const planSize = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length + 3, 0);

/**
 * The plan: its head, then the whole diff in a code block when it fits the message, else a
 * summary line per role and policy (as many as fit) with the whole diff in the thread, split into
 * replies Slack accepts. `notes` end the plan either way.
 */
export function renderPlan(v: { runId: string; head: string[]; summaries: string[]; detail: string[]; notes: string[] }): PlanView {
  const body = wrap(v.detail);
  const inline = `Diff (${LEGEND}):\n${fence(body)}`;
  if (planSize([...v.head, inline, ...v.notes]) <= PLAN_BUDGET) return { lines: [...v.head, inline, ...v.notes], thread: [] };

  const all = sections(body);
  const room = MAX_THREAD_MESSAGES * SECTIONS_PER_MESSAGE;
  const shown = all.slice(0, room);
  const hidden = all.slice(room).reduce((n, s) => n + s.split('\n').length - 2, 0);
  const parts = Math.ceil(shown.length / SECTIONS_PER_MESSAGE);
  const thread: SlackMessage[] = [];
  for (let i = 0; i < parts; i++) {
    const chunk = shown.slice(i * SECTIONS_PER_MESSAGE, (i + 1) * SECTIONS_PER_MESSAGE);
    const blocks: KnownBlock[] = [section(`*Diff of run \`${v.runId}\`, part ${i + 1} of ${parts}* (${LEGEND})`), ...chunk.map(section)];
    if (i === parts - 1 && hidden) blocks.push(section(`:warning: ${formatCount(hidden)} more lines are not shown: the diff is longer than Slack should hold. Name fewer roles to review them all.`));
    thread.push({ text: `Diff of run ${v.runId}, part ${i + 1} of ${parts}`, blocks });
  }
  const pointer = hidden
    ? `:warning: The diff is too long to show whole (${formatCount(body.length)} lines): the thread shows the first ${formatCount(body.length - hidden)}. Name fewer roles to review every change before approving.`
    : `The whole diff (${formatCount(body.length)} lines; ${LEGEND}) is in this message's thread.`;
  const lines = [...v.head];
  const fixed = planSize([...v.head, pointer, ...v.notes]) + 60;
  let used = 0;
  let left = v.summaries.length;
  for (const s of v.summaries) {
    if (fixed + used + s.length + 3 > PLAN_BUDGET) break;
    lines.push(s);
    used += s.length + 3;
    left--;
  }
  if (left) lines.push(`…and ${formatCount(left)} more (in the thread)`);
  lines.push(pointer, ...v.notes);
  return { lines, thread };
}
