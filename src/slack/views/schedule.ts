import type { SlackMessage } from '../poster';
import { escapeMrkdwn, slackDate } from './format';

/** The "Retry now" button of a failed scheduled run. */
export const ACTION_SCHEDULE_RETRY = 'schedule_retry';

export interface ScheduledFailure {
  schedule: string;
  at: string;
  verb: string;
  title: string;
  runId: string;
  reason: string;
  /** Where the run's own message is. */
  opsChannel: string;
}

/** What the retry button carries: the verb and the schedule, nothing a click could widen. */
export interface RetryValue {
  verb: string;
  schedule: string;
}

/** The critical-channel message of a scheduled run that failed, with a "Retry now" button for operators. */
export function renderScheduledFailure(f: ScheduledFailure): SlackMessage {
  const value: RetryValue = { verb: f.verb, schedule: f.schedule };
  const text = `Scheduled ${f.title} failed`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:rotating_light: *${escapeMrkdwn(text)}*\nschedule \`${escapeMrkdwn(f.schedule)}\`, due ${slackDate(f.at)} · run \`${f.runId}\` (details in <#${f.opsChannel}>)\n${escapeMrkdwn(f.reason.slice(0, 1500))}`,
        },
      },
      {
        type: 'actions',
        block_id: `schedule:${f.runId}`,
        elements: [{ type: 'button', action_id: ACTION_SCHEDULE_RETRY, text: { type: 'plain_text', text: 'Retry now' }, style: 'primary', value: JSON.stringify(value) }],
      },
    ],
  };
}
