import type { AlarmNotification, ThreadData } from '../../src/alarms/model';

/** The thread data a first notification of an alarm starts (one episode, one count). */
export function threadFromNotification(n: AlarmNotification, over: Partial<ThreadData> = {}): ThreadData {
  return {
    id: n.alarm.arn,
    arn: n.alarm.arn,
    alarm: n.alarm,
    state: n.alarm.state,
    kind: n.alarm.kind,
    channel: 'CALERTS',
    topicArn: n.topicArn,
    episode: 1,
    episodeStart: n.alarm.stateChangeTime,
    count: 1,
    notifications: 1,
    firstSeen: n.receivedAt,
    lastSeen: n.receivedAt,
    resolutions: 0,
    recentMessageIds: [n.messageId],
    ...over,
  };
}
