import type { KnownBlock } from '@slack/types';
import type { AuditEvent } from '../../store/state';
import { escapeMrkdwn, oneLine, safeLines, slackDate } from './format';
import type { SlackMessage } from '../poster';

const ICON: Record<AuditEvent['result'], string> = {
  ok: ':white_check_mark:',
  succeeded: ':white_check_mark:',
  approved: ':white_check_mark:',
  pending: ':hourglass:',
  refused: ':no_entry_sign:',
  rejected: ':no_entry:',
  expired: ':alarm_clock:',
  error: ':x:',
  failed: ':x:',
};

function who(actor: string): string {
  return USER_ID.test(actor) ? `<@${actor}>` : escapeMrkdwn(oneLine(actor));
}

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
/** Details name people by raw id ("rejected by UBOB"); everywhere else they are mentions. */
const BY_USER = /\bby ([UW][A-Z0-9]{2,20})\b/g;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;

/** Three lines of at most this fit a 2,900-character section, so 100 events take 34 blocks. */
const MAX_LINE = 950;
const MAX_TARGET = 120;
const MAX_DETAIL = 160;

/**
 * One line of text, at most `max` characters: white space (line breaks included) collapsed, cut at
 * a word boundary with `…`, and a code span the cut left open closed again.
 */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const room = flat.slice(0, max - 1);
  const space = room.lastIndexOf(' ');
  const cut = (space >= max * 0.6 ? room.slice(0, space) : room).replace(/[\s,;:—-]+$/, '');
  const open = (cut.match(/`/g)?.length ?? 0) % 2 === 1;
  return open ? `${cut}…\`` : `${cut}…`;
}

/** A detail in mrkdwn: clipped and escaped, its times as Slack dates and its user ids as mentions. */
function detailText(detail: string): string {
  return safeLines(escapeMrkdwn(oneLine(clip(detail, MAX_DETAIL))))
    .replace(ISO_TIME, (iso) => (Number.isNaN(Date.parse(iso)) ? iso : slackDate(iso, { seconds: true })))
    .replace(BY_USER, (_, id: string) => `by <@${id}>`);
}

export function auditLine(e: AuditEvent): string {
  const at = slackDate(e.at, { seconds: true });
  const target = oneLine(clip(e.target, MAX_TARGET)).replace(/`/g, "'");
  const detail = e.detail ? ` — ${detailText(e.detail)}` : '';
  const line = `${ICON[e.result] ?? ''} ${at} ${who(e.actor)} *${e.action}* \`${escapeMrkdwn(target)}\` → ${e.result}${e.runId ? ` (run ${e.runId})` : ''}${detail}`;
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 1)}…`;
}

/** `/dr audit [N]`: newest first, chunked to Slack's section size. */
export function renderAudit(events: AuditEvent[], asked: number): SlackMessage {
  if (events.length === 0) return { text: 'No audit events recorded yet.' };
  const lines = events.map(auditLine);
  const n = events.length;
  const title = n < asked ? `*All ${n} audit event${n === 1 ? '' : 's'}* (newest first)` : `*${n} most recent audit event${n === 1 ? '' : 's'}* (newest first)`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: title } }];
  let chunk = '';
  for (const l of lines) {
    if (chunk.length + l.length + 1 > 2900) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
      chunk = '';
    }
    chunk += (chunk ? '\n' : '') + l;
  }
  if (chunk) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  return { text: ['Audit events (newest first):', ...lines].join('\n').slice(0, 11000), blocks: blocks.slice(0, 50) };
}
