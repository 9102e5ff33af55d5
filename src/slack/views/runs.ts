import type { KnownBlock } from '@slack/types';
import { type RunRecord, UNFINISHED } from '../../store/state';
import type { SlackMessage } from '../poster';
import { clip } from './audit';
import { code, slackDate } from './format';

const ICON: Record<RunRecord['status'], string> = {
  started: ':hourglass_flowing_sand:',
  planned: ':clipboard:',
  awaiting_approval: ':raised_hand:',
  running: ':gear:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  rejected: ':no_entry:',
  expired: ':alarm_clock:',
  dry_run: ':memo:',
  nothing_to_do: ':white_check_mark:',
  interrupted: ':warning:',
};

/** A link to the run's message in Slack, when it has one. */
function link(r: RunRecord): string {
  return r.ts ? ` <https://slack.com/archives/${r.channel}/p${r.ts.replace('.', '')}|message>` : ' (no message)';
}

function who(id: string): string {
  return /^[UW][A-Z0-9]{2,20}$/.test(id) ? `<@${id}>` : code(id, 40);
}

export function runLine(r: RunRecord): string {
  const status = r.status.replace(/_/g, ' ');
  const unsent = r.unsent ? ' · _its final state had not reached Slack_' : '';
  return `${ICON[r.status]} \`${r.id}\` ${code(clip(r.commandText, 100), 110)} by ${who(r.requester)} · ${slackDate(r.createdAt)} · *${status}*${link(r)}${unsent}`;
}

/** `/dr runs [N]`: the unfinished runs first, then the rest, newest first. */
export function renderRuns(runs: readonly RunRecord[]): SlackMessage {
  if (runs.length === 0) return { text: 'No runs recorded yet.' };
  const open = runs.filter((r) => UNFINISHED.includes(r.status));
  const done = runs.filter((r) => !UNFINISHED.includes(r.status));
  const blocks: KnownBlock[] = [];
  const section = (title: string, rs: readonly RunRecord[]) => {
    let chunk = title;
    for (const l of rs.map(runLine)) {
      if (chunk.length + l.length + 1 > 2900) {
        blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk, verbatim: true } });
        chunk = '';
      }
      chunk += `${chunk ? '\n' : ''}${l}`;
    }
    if (chunk) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk, verbatim: true } });
  };
  if (open.length) section(`*${open.length} unfinished*`, open);
  if (done.length) section(`*${done.length} ended* (newest first)`, done);
  const text = [`Runs: ${open.length} unfinished, ${done.length} ended.`, ...runs.map((r) => `${r.id} ${r.status}`)].join('\n').slice(0, 3000);
  return { text, blocks: blocks.slice(0, 50) };
}
