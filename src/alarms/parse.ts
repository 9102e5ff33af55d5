import { z } from 'zod';
import { DrbotError } from '../errors';
import {
  ALARM_STATES,
  type AlarmKind,
  type AlarmMetric,
  type AlarmModel,
  type AlarmState,
  type CompositeChild,
  type Notification,
  REGION_CODE,
} from './model';

/** The Lambda event was not an SNS event at all (wrong trigger, or a test event). */
export class NotSnsEventError extends DrbotError {
  constructor(detail: string) {
    super('not_sns_event', `Not an SNS event: ${detail}.`, 'The alarm handler only accepts SNS notifications (an SNS topic subscription).');
  }
}

export interface ParsedSnsEvent {
  records: Notification[];
  /** Records whose SNS envelope is unusable (no MessageId or Message); the caller logs them. */
  rejected: { index: number; reason: string }[];
}

/** SNS takes 256 KB; anything far bigger did not come from SNS and is not worth parsing. */
const MAX_PARSE_CHARS = 1024 * 1024;
const MAX_RECORDS = 10_000;

// ---- SNS envelope -------------------------------------------------------------------------

const snsRecordSchema = z.object({
  EventSource: z.string().max(64).nullish(),
  Sns: z.object({
    Type: z.string().max(64).nullish(),
    MessageId: z.string().min(1).max(256),
    TopicArn: z.string().max(1024).nullish(),
    Subject: z.string().max(1024).nullish(),
    Message: z.string(),
    Timestamp: z.string().max(64).nullish(),
  }),
});

// ---- CloudWatch alarm state change (metric and composite) -------------------------------

const numeric = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/).transform(Number)])
  .nullish()
  .catch(undefined);
const shortText = (max: number) => z.string().max(max).nullish();
const stateEnum = z.enum(ALARM_STATES);

const triggerSchema = z.object({
  MetricName: shortText(255),
  Namespace: shortText(255),
  StatisticType: shortText(64),
  Statistic: shortText(64),
  ExtendedStatistic: shortText(64),
  Unit: shortText(64),
  Dimensions: z
    .array(z.object({ name: z.string().max(255), value: z.string().max(1024) }))
    .max(30)
    .nullish(),
  Period: numeric,
  EvaluationPeriods: numeric,
  ComparisonOperator: shortText(64),
  Threshold: numeric,
  TreatMissingData: shortText(64),
});

const childSchema = z.union([
  z.string().max(1600),
  z.object({ Arn: z.string().max(1600), State: z.object({ Value: z.string().max(64).nullish() }).nullish() }),
]);

/** Field limits are CloudWatch's own, with room; beyond them it is not an alarm CloudWatch sent. */
export const cloudWatchAlarmSchema = z.object({
  AlarmName: z.string().min(1).max(255),
  AlarmDescription: shortText(4096),
  AWSAccountId: shortText(32),
  NewStateValue: stateEnum,
  OldStateValue: stateEnum.nullish().catch(undefined),
  NewStateReason: shortText(20_000),
  StateChangeTime: shortText(64),
  Region: shortText(128),
  AlarmArn: shortText(1600),
  Trigger: triggerSchema.nullish(),
  AlarmRule: shortText(20_000),
  TriggeringChildren: z.array(childSchema).max(100).nullish(),
});
export type CloudWatchAlarmMessage = z.infer<typeof cloudWatchAlarmSchema>;

// ---- Regions ------------------------------------------------------------------------------

const REGION_NAMES: Record<string, string> = {
  'us east (n. virginia)': 'us-east-1',
  'us east (ohio)': 'us-east-2',
  'us west (n. california)': 'us-west-1',
  'us west (oregon)': 'us-west-2',
  'africa (cape town)': 'af-south-1',
  'asia pacific (hong kong)': 'ap-east-1',
  'asia pacific (taipei)': 'ap-east-2',
  'asia pacific (mumbai)': 'ap-south-1',
  'asia pacific (hyderabad)': 'ap-south-2',
  'asia pacific (singapore)': 'ap-southeast-1',
  'asia pacific (sydney)': 'ap-southeast-2',
  'asia pacific (jakarta)': 'ap-southeast-3',
  'asia pacific (melbourne)': 'ap-southeast-4',
  'asia pacific (malaysia)': 'ap-southeast-5',
  'asia pacific (new zealand)': 'ap-southeast-6',
  'asia pacific (thailand)': 'ap-southeast-7',
  'asia pacific (tokyo)': 'ap-northeast-1',
  'asia pacific (seoul)': 'ap-northeast-2',
  'asia pacific (osaka)': 'ap-northeast-3',
  'canada (central)': 'ca-central-1',
  'canada west (calgary)': 'ca-west-1',
  'europe (frankfurt)': 'eu-central-1',
  'europe (zurich)': 'eu-central-2',
  'europe (ireland)': 'eu-west-1',
  'europe (london)': 'eu-west-2',
  'europe (paris)': 'eu-west-3',
  'europe (stockholm)': 'eu-north-1',
  'europe (milan)': 'eu-south-1',
  'europe (spain)': 'eu-south-2',
  'israel (tel aviv)': 'il-central-1',
  'middle east (bahrain)': 'me-south-1',
  'middle east (uae)': 'me-central-1',
  'mexico (central)': 'mx-central-1',
  'south america (sao paulo)': 'sa-east-1',
  'aws govcloud (us-east)': 'us-gov-east-1',
  'aws govcloud (us-west)': 'us-gov-west-1',
  'aws govcloud (us)': 'us-gov-west-1',
  'china (beijing)': 'cn-north-1',
  'china (ningxia)': 'cn-northwest-1',
};


/** `US East (N. Virginia)`, `EU (Ireland)` or `eu-west-1` -> the region code; undefined if unknown. */
export function regionCodeFromName(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  const trimmed = name.trim();
  if (REGION_CODE.test(trimmed)) return trimmed;
  const key = trimmed
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^eu \(/, 'europe (');
  return Object.prototype.hasOwnProperty.call(REGION_NAMES, key) ? REGION_NAMES[key] : undefined;
}

const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)$/s;

export function parseAlarmArn(arn: string): { region: string; accountId: string; name: string } | undefined {
  const m = ALARM_ARN.exec(arn);
  if (!m) return undefined;
  return { region: m[1] as string, accountId: m[2] as string, name: m[3] as string };
}

// ---- Kind ---------------------------------------------------------------------------------

export function classifyAlarm(name: string, metric: Pick<AlarmMetric, 'namespace' | 'name'> | undefined): AlarmKind {
  if (metric?.namespace === 'AWS/S3' && metric.name === 'ReplicationLatency') return 'replication-lag';
  if (metric?.namespace === 'AWS/S3' && metric.name === 'OperationsFailedReplication') return 'replication-failed';
  // A durable execution (a drbot run) that failed or timed out; its invocation did not error.
  if (metric?.namespace === 'AWS/Lambda' && (metric.name === 'DurableExecutionFailed' || metric.name === 'DurableExecutionTimedOut')) return 'run-failure';
  if (metric?.namespace === 'AWS/Lambda' && metric.name === 'Errors') return 'backup-failure';
  if (/backup/i.test(name)) return 'backup-failure';
  return 'other';
}

// ---- Times --------------------------------------------------------------------------------

/** CloudWatch writes `2026-10-02T14:05:31.927+0000`; make the offset ISO before parsing. */
export function parseAwsTime(s: string | null | undefined): Date | undefined {
  if (!s) return undefined;
  const iso = s.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

// ---- Alarm model --------------------------------------------------------------------------

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`.slice(0, 300);
}

function toMetric(t: NonNullable<CloudWatchAlarmMessage['Trigger']>): AlarmMetric | undefined {
  if (!t.MetricName || !t.Namespace) return undefined;
  const dimensions: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const d of t.Dimensions ?? []) dimensions[d.name] = d.value;
  const metric: AlarmMetric = { namespace: t.Namespace, name: t.MetricName, dimensions };
  const statistic = t.ExtendedStatistic ?? t.Statistic;
  if (statistic) metric.statistic = statistic;
  if (t.Period != null) metric.period = t.Period;
  if (t.EvaluationPeriods != null) metric.evaluationPeriods = t.EvaluationPeriods;
  if (t.Threshold != null) metric.threshold = t.Threshold;
  if (t.ComparisonOperator) metric.comparison = t.ComparisonOperator;
  if (t.Unit) metric.unit = t.Unit;
  if (t.TreatMissingData) metric.treatMissingData = t.TreatMissingData;
  return metric;
}

/** Builds the alarm model from a validated CloudWatch message. */
export function toAlarmModel(msg: CloudWatchAlarmMessage, fallbackTime: Date): AlarmModel {
  const fromArn = msg.AlarmArn ? parseAlarmArn(msg.AlarmArn) : undefined;
  const region = fromArn?.region ?? regionCodeFromName(msg.Region) ?? msg.Region ?? 'unknown';
  const accountId = msg.AWSAccountId ?? fromArn?.accountId ?? 'unknown';
  const arn = msg.AlarmArn ?? `arn:aws:cloudwatch:${region}:${accountId}:alarm:${msg.AlarmName}`;
  const metric = msg.Trigger ? toMetric(msg.Trigger) : undefined;
  const composite = msg.AlarmRule != null || msg.TriggeringChildren != null;
  const state: AlarmState = msg.NewStateValue;
  const model: AlarmModel = {
    arn,
    name: msg.AlarmName,
    state,
    reason: msg.NewStateReason ?? '',
    stateChangeTime: parseAwsTime(msg.StateChangeTime) ?? fallbackTime,
    region,
    accountId,
    composite,
    kind: classifyAlarm(msg.AlarmName, metric),
  };
  if (msg.AlarmDescription) model.description = msg.AlarmDescription;
  if (msg.OldStateValue) model.previousState = msg.OldStateValue;
  if (msg.Region) model.regionName = msg.Region;
  if (metric) {
    model.metric = metric;
    const bucket = metric.dimensions['SourceBucket'];
    if (bucket !== undefined) model.bucket = bucket;
    const fn = metric.dimensions['FunctionName'];
    if (fn !== undefined) model.functionName = fn;
  }
  if (msg.AlarmRule) model.rule = msg.AlarmRule;
  if (msg.TriggeringChildren) {
    model.children = msg.TriggeringChildren.map((c): CompositeChild => {
      if (typeof c === 'string') return { arn: c };
      const child: CompositeChild = { arn: c.Arn };
      if (c.State?.Value) child.state = c.State.Value;
      return child;
    });
  }
  return model;
}

type MessageVerdict = { kind: 'alarm'; alarm: AlarmModel } | { kind: 'notice'; reason: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function ownString(o: Record<string, unknown>, key: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(o, key)) return undefined;
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

/** Decides what one SNS message is: a CloudWatch alarm, or a notice with the reason in words. */
export function classifyMessage(message: string, fallbackTime: Date): MessageVerdict {
  const trimmed = message.trim();
  if (!trimmed) return { kind: 'notice', reason: 'empty message' };
  if (message.length > MAX_PARSE_CHARS) {
    return { kind: 'notice', reason: `message too large to parse (${message.length} characters)` };
  }
  const looksJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  if (!looksJson) return { kind: 'notice', reason: 'plain text, not a CloudWatch alarm' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { kind: 'notice', reason: `malformed JSON: ${clip(why, 160)}` };
  }
  if (!isPlainObject(parsed)) return { kind: 'notice', reason: 'JSON that is not a CloudWatch alarm' };

  const hasOwn = (k: string) => Object.prototype.hasOwnProperty.call(parsed, k);
  if (hasOwn('AlarmName') && hasOwn('NewStateValue')) {
    const result = cloudWatchAlarmSchema.safeParse(parsed);
    if (!result.success) {
      return { kind: 'notice', reason: `CloudWatch alarm that failed validation (${describeIssue(result.error)})` };
    }
    return { kind: 'alarm', alarm: toAlarmModel(result.data, fallbackTime) };
  }

  const detailType = ownString(parsed, 'detail-type');
  const source = ownString(parsed, 'source');
  if (detailType !== undefined && source !== undefined) {
    const detail = Object.prototype.hasOwnProperty.call(parsed, 'detail') ? parsed['detail'] : undefined;
    const state = isPlainObject(detail) ? ownString(detail, 'state') : undefined;
    if (source === 'aws.backup') {
      return { kind: 'notice', reason: `AWS Backup event: ${clip(detailType, 100)}${state ? ` (${clip(state, 40)})` : ''}` };
    }
    return { kind: 'notice', reason: `EventBridge event: ${clip(detailType, 100)} from ${clip(source, 100)}` };
  }
  return { kind: 'notice', reason: 'JSON that is not a CloudWatch alarm' };
}

/**
 * Parses a Lambda SNS event. Every usable record becomes a Notification: a CloudWatch alarm, or
 * a notice carrying the raw message (AWS Backup and other EventBridge events, plain text,
 * malformed JSON) — nothing is dropped. Records without a usable envelope are listed in
 * `rejected`. Throws NotSnsEventError when the event is not an SNS event at all.
 */
export function parseSnsEvent(event: unknown, opts: { now?: Date } = {}): ParsedSnsEvent {
  if (!isPlainObject(event)) throw new NotSnsEventError(Array.isArray(event) ? 'got an array' : `got ${event === null ? 'null' : typeof event}`);
  const records = Object.prototype.hasOwnProperty.call(event, 'Records') ? event['Records'] : undefined;
  if (!Array.isArray(records)) throw new NotSnsEventError('no Records array');
  if (records.length === 0) throw new NotSnsEventError('Records is empty');
  const looksSns = (r: unknown) =>
    isPlainObject(r) && (ownString(r, 'EventSource') === 'aws:sns' || (Object.prototype.hasOwnProperty.call(r, 'Sns') && isPlainObject(r['Sns'])));
  if (!records.some(looksSns)) throw new NotSnsEventError('no record comes from aws:sns');

  const now = opts.now ?? new Date();
  const out: ParsedSnsEvent = { records: [], rejected: [] };
  records.forEach((record: unknown, index: number) => {
    if (index >= MAX_RECORDS) {
      out.rejected.push({ index, reason: `more than ${MAX_RECORDS} records in one event` });
      return;
    }
    if (!looksSns(record)) {
      out.rejected.push({ index, reason: 'not an SNS record' });
      return;
    }
    const result = snsRecordSchema.safeParse(record);
    if (!result.success) {
      out.rejected.push({ index, reason: `invalid SNS envelope (${describeIssue(result.error)})` });
      return;
    }
    const sns = result.data.Sns;
    const receivedAt = parseAwsTime(sns.Timestamp) ?? now;
    const topicArn = sns.TopicArn ?? '';
    const subject = sns.Subject ?? undefined;
    const verdict = classifyMessage(sns.Message, receivedAt);
    if (verdict.kind === 'alarm') {
      out.records.push({ type: 'alarm', messageId: sns.MessageId, topicArn, ...(subject ? { subject } : {}), receivedAt, alarm: verdict.alarm });
    } else {
      out.records.push({
        type: 'notice',
        messageId: sns.MessageId,
        topicArn,
        ...(subject ? { subject } : {}),
        receivedAt,
        raw: sns.Message,
        reason: verdict.reason,
      });
    }
  });
  return out;
}
