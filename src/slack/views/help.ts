import type { KnownBlock } from '@slack/types';
import { label } from '../../runbooks/args';
import type { Catalogue } from '../../runbooks/catalogue';
import { type CommandSpec, GROUPS } from '../../runbooks/verb';
import type { SlackMessage } from '../poster';
import { code, escapeMrkdwn } from './format';

/** Slack's limit for a section's text. */
const SECTION_MAX = 3000;

/** `--prune`: the flag that makes a run of a non-destructive command delete, as typed. */
function approvalFlag(c: CommandSpec): string | undefined {
  const d = c.approvalWith ? c.args[c.approvalWith] : undefined;
  return d ? label(d) : undefined;
}

function tags(c: CommandSpec): string {
  const flag = approvalFlag(c);
  return [c.role === 'anyone' ? '' : c.role, c.destructive ? 'needs approval' : flag ? `${flag} deletes, needs approval` : '', c.sandboxOnly ? 'sandbox only' : ''].filter(Boolean).join(', ');
}

/** The catalogue's own texts name placeholders like `<table>`: escaped, so Slack shows them instead of reading a link. */
const esc = escapeMrkdwn;

function line(c: CommandSpec, example = true): string {
  const t = tags(c);
  return `*\`${esc(c.usage)}\`*${t ? ` _(${t})_` : ''}\n${esc(c.summary)}${example ? `\ne.g. \`${esc(c.example)}\`` : ''}`;
}

/** Slack shows a message of at most about 12,000 characters whole; the list stays under it. */
const LIST_BUDGET = 11_000;

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** One group's lines as sections of at most 3,000 characters each. */
function groupSections(title: string, lines: string[]): KnownBlock[] {
  const out: KnownBlock[] = [];
  let cur = `*${title}*`;
  for (const l of lines) {
    if (cur.length + 2 + l.length > SECTION_MAX) {
      out.push(section(cur));
      cur = `*${title}* (continued)`;
    }
    cur += `\n\n${l}`;
  }
  out.push(section(cur));
  return out;
}

function shown(catalogue: Catalogue, sandbox: boolean): CommandSpec[] {
  return catalogue.commands.filter((c) => sandbox || !c.sandboxOnly);
}

/** `/dr help VERB`: one command in detail: usage, every argument, an example, its role and approval. */
function renderDetail(c: CommandSpec): SlackMessage {
  const args = Object.values(c.args).map((d) => `• \`${esc(d.at === 'flag' && d.kind !== 'boolean' ? `${label(d)} ${d.placeholder ?? d.name.toUpperCase()}` : label(d))}\`${d.at === 'positional' && !d.required ? ' (optional)' : ''}${d.required && d.at === 'flag' ? ' (required)' : ''} — ${esc(d.help)}`);
  const who = c.role === 'anyone' ? 'Anyone may run it.' : `Needs the *${c.role}* role.`;
  const flag = approvalFlag(c);
  const approval = c.destructive
    ? 'Posts its plan first and changes nothing until another approver presses Approve (four eyes); `--dry-run` posts the plan only.'
    : flag
      ? `Needs no approval without \`${flag}\`. With \`${flag}\` it deletes: it posts its plan (what goes, what stays) and deletes nothing until another approver presses Approve (four eyes); \`--dry-run\` posts the plan only. Its scheduled runs delete by the configured retention without waiting for anyone.`
      : 'Needs no approval.';
  const body = [
    `*\`${esc(c.usage)}\`*`,
    esc(c.summary),
    esc(c.details ?? ''),
    args.length ? `*Arguments*\n${args.join('\n')}` : '*Arguments*: none',
    `*Example*: \`${esc(c.example)}\``,
    `${who} ${approval}${c.sandboxOnly ? ' Sandbox only: refused against real AWS.' : ''}`,
  ].filter(Boolean);
  return { text: `${c.usage} — ${c.summary}`, blocks: [section(body.join('\n\n').slice(0, SECTION_MAX))] };
}

/**
 * `/dr help`: the commands grouped (Look, Back up, Restore, Incidents, Admin), each with one example,
 * straight from the catalogue; `/dr help VERB` shows one command in detail.
 */
export function renderHelp(opts: { sandbox: boolean; catalogue: Catalogue; topic?: readonly string[] }): SlackMessage {
  const commands = shown(opts.catalogue, opts.sandbox);
  if (opts.topic?.length) {
    const found = opts.catalogue.find(opts.topic);
    if (found && commands.includes(found)) return renderDetail(found);
    const asked = escapeMrkdwn(opts.topic.join(' '));
    const near = commands.filter((c) => c.words[0] === opts.topic?.[0]);
    const text = `There is no command ${code(opts.topic.join(' '), 60)}.${near.length ? ` Did you mean: ${near.map((c) => `\`/dr help ${c.words.join(' ')}\``).join(', ')}?` : ''} \`/dr help\` lists them all.`;
    return { text, blocks: [section(text)] };
  }
  const blocks: KnownBlock[] = [
    section('*drbot* — disaster recovery for AWS. Destructive commands post a plan and wait for a second person to approve; add `--dry-run` to see the plan only. `/dr help VERB` shows one command in detail.'),
  ];
  // With many commands the examples go (each is in `/dr help VERB`), so the whole list still fits.
  const size = commands.reduce((n, c) => n + line(c).length + 2, 0);
  const examples = size <= LIST_BUDGET;
  for (const g of GROUPS) {
    const inGroup = commands.filter((c) => c.group === g);
    if (inGroup.length) blocks.push(...groupSections(g, inGroup.map((c) => line(c, examples))));
  }
  const text = ['drbot commands:', ...commands.map((c) => `${c.usage} — ${c.summary}`)].join('\n');
  return { text, blocks };
}
