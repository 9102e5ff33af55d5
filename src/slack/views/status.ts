import { escapeMrkdwn } from './format';
import type { ContextBlock, DividerBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { DrConfig } from '../../config/schema';
import type { Colour, StatusItem, StatusKind, StatusReport } from '../../runbooks/status/posture';

/** Slack's limits, with the whole-message budget measured as JSON.stringify({ text, blocks }). */
export const STATUS_VIEW_LIMITS = { maxBlocks: 50, maxSectionText: 3000, maxMessageChars: 12000 } as const;

export const COLOUR_EMOJI: Record<Colour, string> = {
  red: ':red_circle:',
  amber: ':large_orange_circle:',
  green: ':large_green_circle:',
  grey: ':white_circle:',
};

const COLOUR_ORDER: Colour[] = ['red', 'amber', 'green', 'grey'];
const KIND_ORDER: StatusKind[] = ['s3', 'dynamodb', 'ami', 'lambda', 'iam', 'route53', 'failover'];
const KIND_LABEL: Record<StatusKind, string> = { s3: 'S3', dynamodb: 'DynamoDB', ami: 'AMI', iam: 'IAM', route53: 'Route53', lambda: 'Lambda', failover: 'Failover' };
const KIND_NOUN: Record<StatusKind, [string, string]> = {
  s3: ['bucket', 'buckets'],
  dynamodb: ['table', 'tables'],
  ami: ['AMI', 'AMIs'],
  iam: ['IAM export', 'IAM exports'],
  route53: ['zone', 'zones'],
  lambda: ['function', 'functions'],
  failover: ['failover readiness', 'failover readiness rows'],
};

/** One item's line is cut here so a single odd item (a long AWS error) cannot crowd out the rest. */
const ITEM_LINE_MAX = 600;
const COMPACT_LINE_MAX = 300;
/** A section is filled up to here (Slack allows 3000). */
const SECTION_FILL = 2900;
/** Room kept for the "…and N more" block. */
const SUMMARY_RESERVE_CHARS = 1200;
const SUMMARY_RESERVE_BLOCKS = 1;


function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

type Mode = 'full' | 'compact';

/** A word that names a resource (`spawn-dns-updater`, `spawn=true`, `spawn*`), not a description. */
const RESOURCE_WORD = /[-=*_.:/@0-9]/;

/**
 * `🔴 *S3* \`spawn-logs\``. When the item's name already says its kind ("Route53", "AMIs tagged
 * spawn=true", "Lambda spawn-dns-updater"), the kind is not said twice: the describing words are
 * the bold head and the resource words the code span.
 */
function itemHead(item: StatusItem): string {
  const label = KIND_LABEL[item.kind];
  const emoji = COLOUR_EMOJI[item.colour];
  if (!item.name.toLowerCase().startsWith(label.toLowerCase())) return `${emoji} *${label}* \`${escapeMrkdwn(item.name)}\``;
  const words = item.name.split(/\s+/);
  let i = 1;
  while (i < words.length && !RESOURCE_WORD.test(words[i] ?? '')) i++;
  const head = words.slice(0, i).join(' ');
  const rest = words.slice(i).join(' ');
  return `${emoji} *${escapeMrkdwn(head)}*${rest ? ` \`${escapeMrkdwn(rest.replace(/`/g, "'"))}\`` : ''}`;
}

/**
 * One item's line. `full`: reasons and facts. `compact` (when the full form does not fit): reasons
 * only, shorter, and greens as bare names (further greens of the same kind join the line).
 */
function itemLine(item: StatusItem, mode: Mode): string {
  const parts: string[] = [];
  if (item.colour !== 'green' && item.reasons.length) parts.push(escapeMrkdwn(item.reasons.join('; ')));
  if (mode === 'full' && item.facts.length) parts.push(`_${escapeMrkdwn(item.facts.join(' · '))}_`);
  if (mode === 'compact' && item.colour === 'green') parts.length = 0;
  const line = parts.length ? `${itemHead(item)} — ${parts.join(' — ')}` : itemHead(item);
  return truncate(line, mode === 'full' ? ITEM_LINE_MAX : COMPACT_LINE_MAX);
}

function sortItems(items: StatusItem[]): StatusItem[] {
  return [...items].sort(
    (a, b) =>
      COLOUR_ORDER.indexOf(a.colour) - COLOUR_ORDER.indexOf(b.colour) ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.name.localeCompare(b.name, 'en', { numeric: true }),
  );
}

export function countByColour(items: StatusItem[]): Record<Colour, number> {
  const counts: Record<Colour, number> = { red: 0, amber: 0, green: 0, grey: 0 };
  for (const i of items) counts[i.colour]++;
  return counts;
}

function shortUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function omittedSummary(omitted: StatusItem[]): string {
  const groups = new Map<string, { colour: Colour; kind: StatusKind; n: number }>();
  for (const i of omitted) {
    const k = `${i.colour}:${i.kind}`;
    const g = groups.get(k) ?? { colour: i.colour, kind: i.kind, n: 0 };
    g.n++;
    groups.set(k, g);
  }
  const phrases = [...groups.values()]
    .sort((a, b) => COLOUR_ORDER.indexOf(a.colour) - COLOUR_ORDER.indexOf(b.colour) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind))
    .map((g) => {
      const noun = KIND_NOUN[g.kind][g.n === 1 ? 0 : 1];
      return g.colour === 'grey' ? `${g.n} more ${noun} not checked yet` : `${g.n} more ${g.colour} ${noun}`;
    });
  return `…and ${phrases.join(', ')}.`;
}

/**
 * The `/dr status` message: header with the overall colour, the objectives and counts, then every
 * item red first, amber, green, grey. However big the estate, it stays within Slack's limits
 * (≤ 50 blocks, section text ≤ 3000, whole message ≤ 12,000 characters): when the full form
 * (reasons and facts) does not fit, a compact one is used (reasons only; greens as names), and
 * items that still do not fit are summarised by colour and kind ("…and 420 more green buckets").
 */
export function renderStatus(report: StatusReport, cfg: DrConfig): { text: string; blocks: KnownBlock[] } {
  const counts = countByColour(report.items);
  const overall = report.overall;
  const { rpoMinutes, rtoMinutes } = cfg.objectives;
  const countsText = `${counts.red} red, ${counts.amber} amber, ${counts.green} green, ${counts.grey} not checked`;

  const sorted = sortItems(report.items);
  const reds = sorted.filter((i) => i.colour === 'red').slice(0, 5).map((i) => i.name);
  const text = truncate(
    `DR status for ${cfg.name}: ${overall.toUpperCase()}. ${countsText}. Objectives: RPO ${rpoMinutes} min, RTO ${rtoMinutes} min.` +
      (reds.length ? ` Red: ${reds.join(', ')}${counts.red > reds.length ? ` and ${counts.red - reds.length} more` : ''}.` : ''),
    600,
  );

  const header: HeaderBlock = {
    type: 'header',
    text: { type: 'plain_text', text: truncate(`${COLOUR_EMOJI[overall]} DR status: ${cfg.name} is ${overall}`, 150), emoji: true },
  };
  const context: ContextBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text:
          `Objectives: *RPO ${rpoMinutes} min*, *RTO ${rtoMinutes} min* · ` +
          `${COLOUR_EMOJI.red} ${counts.red} red · ${COLOUR_EMOJI.amber} ${counts.amber} amber · ` +
          `${COLOUR_EMOJI.green} ${counts.green} green · ${COLOUR_EMOJI.grey} ${counts.grey} not checked · ` +
          `checked ${shortUtc(report.generatedAt)}`,
      },
    ],
  };
  const divider: DividerBlock = { type: 'divider' };
  const blocks: KnownBlock[] = [header, context, divider];

  const full = layout(sorted, 'full', blocks, text);
  const body = full.omitted.length ? layout(sorted, 'compact', blocks, text) : full;
  if (body.omitted.length) {
    body.blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(omittedSummary(body.omitted), SUMMARY_RESERVE_CHARS - 100) }],
    });
  }
  return { text, blocks: body.blocks };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/**
 * Appends the items, in order, to `base` while they fit the block and character budgets (keeping
 * room for the summary); from the first item that does not fit on, everything is `omitted`.
 */
function layout(sorted: StatusItem[], mode: Mode, base: KnownBlock[], text: string): { blocks: KnownBlock[]; omitted: StatusItem[] } {
  const blocks = [...base];
  const budget = STATUS_VIEW_LIMITS.maxMessageChars - SUMMARY_RESERVE_CHARS;
  const maxBlocks = STATUS_VIEW_LIMITS.maxBlocks - SUMMARY_RESERVE_BLOCKS;
  const size = (b: KnownBlock) => JSON.stringify(b).length + 1;
  let used = JSON.stringify({ text, blocks }).length;
  let open: { text: string; colour: Colour; group?: string } | undefined;
  const omitted: StatusItem[] = [];

  for (const item of sorted) {
    if (omitted.length) {
      omitted.push(item);
      continue;
    }
    const group = mode === 'compact' && item.colour === 'green' ? `${item.colour}:${item.kind}` : undefined;
    const line = itemLine(item, mode);
    if (open && open.colour === item.colour) {
      const inline = group !== undefined && open.group === group;
      const candidate = inline ? `${open.text} · \`${escapeMrkdwn(item.name)}\`` : `${open.text}\n${line}`;
      if (candidate.length <= SECTION_FILL) {
        const delta = JSON.stringify(candidate).length - JSON.stringify(open.text).length;
        if (used + delta > budget) {
          omitted.push(item);
          continue;
        }
        blocks[blocks.length - 1] = section(candidate);
        open = { text: candidate, colour: item.colour, ...(group ? { group } : {}) };
        used += delta;
        continue;
      }
    }
    const fresh = section(line);
    if (blocks.length + 1 > maxBlocks || used + size(fresh) > budget) {
      omitted.push(item);
      continue;
    }
    blocks.push(fresh);
    open = { text: line, colour: item.colour, ...(group ? { group } : {}) };
    used += size(fresh);
  }
  return { blocks, omitted };
}
