import type { KnownBlock } from '@slack/types';
import type { AuditEvent } from '../../store/state';
import { escapeMrkdwn } from '../parse';
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
  return /^[UW][A-Z0-9]+$/.test(actor) ? `<@${actor}>` : actor;
}

/** Three lines of at most this fit a 2,900-character section, so 100 events take 34 blocks. */
const MAX_LINE = 950;

export function auditLine(e: AuditEvent): string {
  const at = e.at.replace(/\.\d{3}Z$/, 'Z').replace('T', ' ');
  const detail = e.detail ? ` — ${escapeMrkdwn(e.detail.slice(0, 160))}` : '';
  const line = `${ICON[e.result] ?? ''} ${at} ${who(e.actor)} *${e.action}* \`${escapeMrkdwn(e.target.slice(0, 120))}\` → ${e.result}${e.runId ? ` (run ${e.runId})` : ''}${detail}`;
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 1)}…`;
}

/** `/dr audit [N]`: newest first, chunked to Slack's section size. */
export function renderAudit(events: AuditEvent[], asked: number): SlackMessage {
  if (events.length === 0) return { text: 'No audit events recorded yet.' };
  const lines = events.map(auditLine);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${events.length} most recent audit event${events.length === 1 ? '' : 's'}* (newest first${events.length < asked ? `; ${asked} asked, that is all there is` : ''})` } }];
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
