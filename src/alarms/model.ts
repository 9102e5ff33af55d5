/**
 * The alarm domain: what an SNS notification becomes after parsing (src/alarms/parse.ts), the
 * per-alarm thread the state table keeps (src/alarms/store.ts), and the storm digest.
 * Plain data only; views and the service read these.
 */

export const ALARM_STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export type AlarmKind = 'replication-lag' | 'replication-failed' | 'backup-failure' | 'run-failure' | 'other';

export interface AlarmMetric {
  namespace: string;
  name: string;
  /** As CloudWatch sends it, e.g. `MAXIMUM`, `SUM`, or an extended statistic such as `p99`. */
  statistic?: string;
  /** Null-prototype record: a dimension called `__proto__` is data, never a prototype. */
  dimensions: Record<string, string>;
  /** Seconds. */
  period?: number;
  evaluationPeriods?: number;
  threshold?: number;
  /** e.g. `GreaterThanThreshold`. */
  comparison?: string;
  unit?: string;
  treatMissingData?: string;
}

export interface CompositeChild {
  arn: string;
  state?: string;
}

export interface AlarmModel {
  arn: string;
  name: string;
  description?: string;
  state: AlarmState;
  previousState?: AlarmState;
  reason: string;
  stateChangeTime: Date;
  /** A region code such as `us-east-1` (from the ARN or the human name); the raw name when unknown. */
  region: string;
  /** The human name CloudWatch sent, e.g. `US East (N. Virginia)`. */
  regionName?: string;
  accountId: string;
  metric?: AlarmMetric;
  composite: boolean;
  /** Composite alarms only. */
  rule?: string;
  children?: CompositeChild[];
  kind: AlarmKind;
  /** The `SourceBucket` dimension (S3 replication metrics). */
  bucket?: string;
  /** The `FunctionName` dimension (Lambda metrics). */
  functionName?: string;
}

export interface AlarmNotification {
  type: 'alarm';
  messageId: string;
  topicArn: string;
  subject?: string;
  /** When SNS published it (the envelope's Timestamp). */
  receivedAt: Date;
  alarm: AlarmModel;
}

export interface NoticeNotification {
  type: 'notice';
  messageId: string;
  topicArn: string;
  subject?: string;
  receivedAt: Date;
  /** The message exactly as SNS delivered it (may be up to 256 KB). */
  raw: string;
  /** Why this is not an alarm, in words: "AWS Backup event: Backup Job State Change (FAILED)". */
  reason: string;
}

export type Notification = AlarmNotification | NoticeNotification;

/** Who and when an alarm thread was acknowledged. */
export interface Acknowledgement {
  by: string;
  at: Date;
}

/**
 * What the service decides about one alarm; the store keeps it under `ALARM#<arn>`.
 * An *episode* runs from the ALARM (or INSUFFICIENT_DATA) that opens it to its resolution; a new
 * episode gets a new message. `count` is the ALARM notifications seen in this episode.
 */
export interface ThreadData {
  /** The thread id buttons carry: the alarm ARN. */
  id: string;
  arn: string;
  /** The latest notification's alarm (by state change time). */
  alarm: AlarmModel;
  state: AlarmState;
  kind: AlarmKind;
  channel: string;
  topicArn: string;
  episode: number;
  /** State change time of the notification that opened this episode. */
  episodeStart: Date;
  count: number;
  /** Notifications applied in this episode, any state. */
  notifications: number;
  firstSeen: Date;
  lastSeen: Date;
  acknowledgedBy?: string;
  acknowledgedAt?: Date;
  /** State change time of the OK that resolved this episode. */
  resolvedAt?: Date;
  /** How often this message's alarm resolved (a flapping alarm reopens its message). */
  resolutions: number;
  /** Set while a storm digest stands in for this episode's own message. */
  digest?: { channel: string; id: string };
  /** Recent MessageIds already applied, so a retried notification never counts twice. */
  recentMessageIds: string[];
}

/** What Slack shows for a thread, written only by whoever holds the render lease. */
export interface ThreadRenderState {
  ts?: string;
  /** The episode `ts` belongs to; a new episode posts a new message. */
  tsEpisode?: number;
  tsChannel?: string;
  /** `resolutions` already announced with a thread reply. */
  repliedResolutions?: number;
  renderedVersion: number;
  renderedAt?: Date;
}

export type AlarmThread = ThreadData & ThreadRenderState & { version: number };

export interface NoticeSummary {
  messageId: string;
  subject?: string;
  reason: string;
  receivedAt: Date;
}

/** One storm digest per channel, kept under `DIGEST#<channel>`. */
export interface DigestData {
  channel: string;
  /** Identifies this storm; a new storm (after a quiet period) gets a new id and a new message. */
  id: string;
  openedAt: Date;
  lastActivity: Date;
  /** Alarm ARNs whose own message the digest replaces. */
  members: string[];
  /** Every notification routed to the channel while the digest is open. */
  notifications: number;
  notices: number;
  recentNotices: NoticeSummary[];
}

export interface DigestRenderState {
  ts?: string;
  /** The digest id `ts` belongs to. */
  tsId?: string;
  renderedVersion: number;
  renderedAt?: Date;
}

export type DigestRecord = DigestData & DigestRenderState & { version: number };

/** What renderDigest needs: the digest and the current state of its member alarms. */
export interface DigestModel {
  channel: string;
  openedAt: Date;
  updatedAt: Date;
  notifications: number;
  notices: number;
  recentNotices: NoticeSummary[];
  alarms: Array<Pick<AlarmThread, 'id' | 'arn' | 'state' | 'kind' | 'count' | 'lastSeen'> & { name: string; region: string }>;
}

export function isAlarmState(v: unknown): v is AlarmState {
  return typeof v === 'string' && (ALARM_STATES as readonly string[]).includes(v);
}

/** An AWS region code (us-east-1, us-gov-west-1, us-iso-east-1). Here, not in parse.ts, so views stay free of zod. */
export const REGION_CODE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
