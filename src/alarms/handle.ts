import type { Log } from '../slack/deps';
import { parseSnsEvent } from './parse';
import type { AlarmService, HandleResult } from './service';

export interface SnsOutcome extends HandleResult {
  rejected: number;
}

/**
 * One SNS delivery: every record becomes an alarm update or a generic notice (never dropped);
 * envelopes too broken to read are logged. When Slack could not be written for some records the
 * invocation fails, so SNS redelivers and the service retries just those (it deduplicates the rest).
 */
export async function handleSnsEvent(event: unknown, service: AlarmService, log: Log, now: Date): Promise<SnsOutcome> {
  const parsed = parseSnsEvent(event, { now });
  for (const r of parsed.rejected) log.warn('unreadable SNS record', { index: r.index, reason: r.reason });
  for (const n of parsed.records) {
    log.info('notification', n.type === 'alarm' ? { messageId: n.messageId, type: n.type, alarm: n.alarm.name, state: n.alarm.state } : { messageId: n.messageId, type: n.type, reason: n.reason });
  }
  const result = await service.handle(parsed.records);
  log.info('notifications handled', { ...result, rejected: parsed.rejected.length });
  if (result.failed > 0) throw new Error(`${result.failed} notification(s) could not be posted to Slack; SNS will retry`);
  return { ...result, rejected: parsed.rejected.length };
}
