import type { SNSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { DrConfig } from '../config/schema';
import type { AlarmSimulation } from '../slack/inline';

const ACCOUNT = '000000000000';
const REGION_NAMES: Record<string, string> = { 'us-east-1': 'US East (N. Virginia)', 'us-west-2': 'US West (Oregon)' };

function snsRecord(topicArn: string, subject: string, message: string, at: Date): SNSEvent['Records'][number] {
  return {
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
    Sns: {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: topicArn,
      Subject: subject,
      Message: message,
      Timestamp: at.toISOString(),
      SignatureVersion: '1',
      Signature: 'sandbox',
      SigningCertUrl: 'https://sns.invalid/cert.pem',
      UnsubscribeUrl: 'https://sns.invalid/unsubscribe',
      MessageAttributes: {},
    },
  };
}

function cloudWatchTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

/**
 * A CloudWatch alarm notification shaped exactly as SNS delivers it to Lambda, for the sandbox's
 * `/dr simulate alarm`: replication lag on the first replicated bucket, a backup function's
 * errors, that lag alarm returning to OK, or a payload that is not an alarm at all.
 */
export function simulatedSnsEvent(kind: AlarmSimulation, cfg: DrConfig, now: Date): SNSEvent {
  const region = cfg.regions.primary;
  const prefix = cfg.name;
  const alerts = `arn:aws:sns:${region}:${ACCOUNT}:${prefix}-alerts`;
  const critical = `arn:aws:sns:${region}:${ACCOUNT}:${prefix}-critical`;
  const bucket = cfg.s3.buckets.find((b) => b.replica) ?? cfg.s3.buckets[0];
  const alarm = (name: string, state: 'ALARM' | 'OK', old: 'ALARM' | 'OK', reason: string, trigger: Record<string, unknown>) =>
    JSON.stringify({
      AlarmName: name,
      AlarmDescription: `sandbox simulation of ${name}`,
      AWSAccountId: ACCOUNT,
      NewStateValue: state,
      NewStateReason: reason,
      StateChangeTime: cloudWatchTime(now),
      Region: REGION_NAMES[region] ?? region,
      AlarmArn: `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${name}`,
      OldStateValue: old,
      Trigger: trigger,
    });
  const lagTrigger = {
    MetricName: 'ReplicationLatency',
    Namespace: 'AWS/S3',
    StatisticType: 'Statistic',
    Statistic: 'MAXIMUM',
    Unit: null,
    Dimensions: [
      { name: 'SourceBucket', value: bucket?.name ?? 'unknown' },
      { name: 'DestinationBucket', value: bucket?.replica?.bucket ?? 'unknown' },
      { name: 'RuleId', value: 'replication' },
    ],
    Period: 900,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: 900,
    TreatMissingData: 'notBreaching',
  };
  const lagName = `${prefix}-s3-replication-lag`;
  switch (kind) {
    case 'replication-lag':
      return {
        Records: [
          snsRecord(alerts, `ALARM: "${lagName}"`, alarm(lagName, 'ALARM', 'OK', 'Threshold Crossed: 1 out of the last 1 datapoints [1254.0] was greater than the threshold (900.0).', lagTrigger), now),
        ],
      };
    case 'ok':
      return {
        Records: [snsRecord(alerts, `OK: "${lagName}"`, alarm(lagName, 'OK', 'ALARM', 'Threshold Crossed: 1 out of the last 1 datapoints [312.0] was not greater than the threshold (900.0).', lagTrigger), now)],
      };
    case 'backup-failure': {
      const name = `${prefix}-backup-failures`;
      const fn = `${prefix}-ami-backup`;
      return {
        Records: [
          snsRecord(
            critical,
            `ALARM: "${name}"`,
            alarm(name, 'ALARM', 'OK', 'Threshold Crossed: 1 out of the last 1 datapoints [3.0] was greater than or equal to the threshold (1.0).', {
              MetricName: 'Errors',
              Namespace: 'AWS/Lambda',
              StatisticType: 'Statistic',
              Statistic: 'SUM',
              Unit: null,
              Dimensions: [{ name: 'FunctionName', value: fn }],
              Period: 300,
              EvaluationPeriods: 1,
              ComparisonOperator: 'GreaterThanOrEqualToThreshold',
              Threshold: 1,
              TreatMissingData: 'notBreaching',
            }),
            now,
          ),
        ],
      };
    }
    case 'garbage':
      return { Records: [snsRecord(alerts, 'not an alarm', '{"this is": not JSON <@channel> and some bytes \u0000\u0001', now)] };
  }
}
