import type { KnownBlock } from '@slack/types';
import type { ButtonRef } from './signed';

const EMOJI: Record<string, string> = {
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  large_green_circle: '🟢',
  white_circle: '⚪',
  white_check_mark: '✅',
  x: '❌',
  warning: '⚠️',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  hourglass: '⏳',
  hourglass_flowing_sand: '⏳',
  alarm_clock: '⏰',
  raised_hand: '✋',
  clipboard: '📋',
  gear: '⚙️',
  memo: '📝',
  mag: '🔍',
  arrow_forward: '▶️',
  rotating_light: '🚨',
  bell: '🔔',
  eyes: '👀',
  information_source: 'ℹ️',
  envelope_with_arrow: '📩',
  heavy_minus_sign: '➖',
  alarm: '🚨',
  arrows_counterclockwise: '🔄',
  boom: '💥',
  broom: '🧹',
  bust_in_silhouette: '👤',
  busts_in_silhouette: '👥',
  grey_question: '❔',
  key: '🔑',
  lock: '🔒',
  spy: '🕵️',
  wastebasket: '🗑️',
  heavy_check_mark: '✔️',
  arrow_up: '↑',
  arrow_down: '↓',
  arrow_right: '→',
  stopwatch: '⏱️',
};

/** Slack mrkdwn to terminal text: mentions by name, dates by their fallback, entities decoded. */
export function mrkdwnToText(text: string, userName: (id: string) => string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(\|[^>]*)?>/g, (_, id: string) => `@${userName(id)}`)
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    // A shortcode stands alone: `:alarm:` inside an ARN (`…:123456789012:alarm:name`) is not an emoji.
    .replace(/(?<![A-Za-z0-9]):([a-z_]+):(?![A-Za-z0-9])/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(CONTROL, escapeControl);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const escapeControl = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** How the terminal chat shows Slack's markup: names for ids, and colour when it writes to a terminal. */
export interface TerminalStyle {
  userName: (id: string) => string;
  /** A channel id as people know it (`dr-ops`), or the id itself. */
  channelName: (id: string) => string;
  /** ANSI bold, italics and colour (stdout is a TTY), or plain text. */
  colour: boolean;
}

const ANSI = { bold: ['\x1b[1m', '\x1b[22m'], italic: ['\x1b[3m', '\x1b[23m'], code: ['\x1b[36m', '\x1b[39m'], strike: ['\x1b[9m', '\x1b[29m'], dim: ['\x1b[2m', '\x1b[22m'] } as const;
type Look = keyof typeof ANSI;

/** Wraps text in an ANSI style, or leaves it plain. */
export function styled(text: string, look: Look, colour: boolean): string {
  return colour ? `${ANSI[look][0]}${text}${ANSI[look][1]}` : text;
}

/** A `<!date^epoch^format|fallback>` in the terminal's own time zone: `2026-12-01 14:36:50`. */
export function localTime(epochSeconds: number, seconds: boolean): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}${seconds ? `:${p(d.getSeconds())}` : ''}`;
}

/** Slack's `<…>` forms: mentions, channels, special mentions, dates and links. */
function angle(inner: string, style: TerminalStyle): string {
  const [target = '', label] = splitOnce(inner, '|');
  if (/^@[UW][A-Z0-9]+$/.test(target)) return `@${style.userName(target.slice(1))}`;
  if (/^#[CGD][A-Z0-9]+$/.test(target)) return `#${label ?? style.channelName(target.slice(1))}`;
  if (target.startsWith('!date^')) {
    const [, epoch, format = ''] = target.split('^');
    const n = Number(epoch);
    return Number.isFinite(n) && epoch !== '' ? localTime(n, format.includes('secs')) : (label ?? target);
  }
  if (target.startsWith('!subteam^')) return label ?? `@${target.slice(9)}`;
  if (target.startsWith('!')) return `@${label ?? target.slice(1)}`;
  if (/^(https?|mailto):/.test(target)) return label && label !== target ? `${label} (${target})` : target;
  return `<${inner}>`;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function decode(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Bold, italics and strike-through, as Slack reads them: a marker opens after a space or punctuation. */
function emphasis(s: string, colour: boolean): string {
  const span = (m: string) =>
    new RegExp(`(^|[\\s(\\[{"'“‘/>•·—–-])\\${m}(?=\\S)([^${m}\\n]*?\\S)\\${m}(?=$|[\\s)\\]}"'”’.,;:!?/<…·—–-])`, 'g');
  return s
    .replace(span('*'), (_, pre: string, body: string) => `${pre}${styled(body, 'bold', colour)}`)
    .replace(span('_'), (_, pre: string, body: string) => `${pre}${styled(body, 'italic', colour)}`)
    .replace(span('~'), (_, pre: string, body: string) => `${pre}${styled(body, 'strike', colour)}`);
}

/**
 * Slack mrkdwn as a person reads it in a terminal: `*bold*`, `_italics_`, `~strike~` and `code`
 * shown as styles (ANSI when `colour`, else the bare text), mentions and channels by name, dates in
 * the local time zone, links as `text (url)`, emoji as characters. No markup is left over; the
 * contents of code spans are shown as they are.
 */
export function formatMrkdwn(text: string, style: TerminalStyle): string {
  // Code, mentions and links become tokens first: nothing inside them is markup, and an emphasis
  // may wrap them (`*\`/dr status\`*`). Tokens are private-use characters, so they count as text.
  const tokens: string[] = [];
  const token = (shown: string) => `\ue000${tokens.push(shown) - 1}\ue001`;
  const marked = text
    .replace(/[\ue000\ue001]/g, '')
    .replace(/```([\s\S]*?)```|`([^`\n]+)`/g, (_, block: string | undefined, span: string | undefined) => {
      if (block === undefined) return token(styled(decode(span ?? '').replace(CONTROL, escapeControl), 'code', style.colour));
      const body = decode(block.replace(/^\n|\n$/g, '')).replace(CONTROL, escapeControl);
      return token(body.split('\n').map((l) => `    ${styled(l, 'code', style.colour)}`).join('\n'));
    })
    .replace(/<([^<>\n]+)>/g, (_, inner: string) => token(decode(angle(inner, style)).replace(CONTROL, escapeControl)));
  const shown = decode(emphasis(marked.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m).replace(CONTROL, escapeControl), style.colour));
  return shown.replace(/\ue000(\d+)\ue001/g, (_, i: string) => tokens[Number(i)] ?? '');
}

export interface Rendered {
  text: string;
  buttons: ButtonRef[];
}

/**
 * A section field as one line or more: Slack shows `*Label*\nvalue` as a small two-column grid,
 * which a terminal cannot; `Label: value` reads the same.
 */
function fieldLines(text: string, t: (s: string) => string): string {
  const m = /^\*([^*\n]+)\*\n([\s\S]*)$/.exec(text);
  if (!m) return t(text);
  const [, label = '', value = ''] = m;
  const lines = t(value).split('\n');
  return lines.length === 1 ? `${t(`*${label}:*`)} ${lines[0]}` : [t(`*${label}:*`), ...lines.map((l) => `  ${l}`)].join('\n');
}

/**
 * Renders a message's blocks as readable terminal text (see formatMrkdwn); buttons are listed for
 * `/press` and numbered by `number(button)` so numbers stay unique across the conversation.
 */
export function renderBlocks(blocks: KnownBlock[], fallback: string, style: TerminalStyle, number: (b: ButtonRef) => number): Rendered {
  const out: string[] = [];
  const buttons: ButtonRef[] = [];
  const t = (s: string) => formatMrkdwn(s, style);
  if (!blocks.length) return { text: t(fallback), buttons };
  for (const b of blocks) {
    switch (b.type) {
      case 'header':
        out.push(styled(t(b.text.text).toUpperCase(), 'bold', style.colour));
        break;
      case 'section':
        if (b.text) out.push(b.text.type === 'plain_text' ? b.text.text.replace(CONTROL, escapeControl) : t(b.text.text));
        for (const f of b.fields ?? []) out.push(f.type === 'plain_text' ? f.text.replace(CONTROL, escapeControl) : fieldLines(f.text, t));
        break;
      case 'context':
        out.push(
          styled(
            b.elements
              .map((e) => (e.type === 'mrkdwn' ? t(e.text) : e.type === 'plain_text' ? e.text.replace(CONTROL, escapeControl) : ''))
              .filter(Boolean)
              .join(' · '),
            'dim',
            style.colour,
          ),
        );
        break;
      case 'divider':
        out.push('────────');
        break;
      case 'actions': {
        const labels: string[] = [];
        for (const el of b.elements) {
          if (el.type !== 'button') continue;
          const ref: ButtonRef = { action_id: el.action_id ?? '', value: el.value ?? '', text: el.text.text, ...(b.block_id ? { block_id: b.block_id } : {}) };
          buttons.push(ref);
          labels.push(`[${number(ref)}] ${el.text.text}`);
        }
        if (labels.length) out.push(labels.join('  '));
        break;
      }
      default:
        break;
    }
  }
  return { text: out.join('\n'), buttons };
}
