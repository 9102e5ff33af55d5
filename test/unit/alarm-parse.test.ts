import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlarmNotification, NoticeNotification, Notification } from '../../src/alarms/model';
import { classifyAlarm, NotSnsEventError, parseAwsTime, parseSnsEvent, regionCodeFromName } from '../../src/alarms/parse';

const FIXTURES = join(__dirname, '..', 'fixtures', 'events');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

/** A fixture with its SNS Message (or other Sns fields) replaced. */
function withSns(name: string, patch: Record<string, unknown>): unknown {
  const ev = fixture(name) as { Records: { Sns: Record<string, unknown> }[] };
  Object.assign(ev.Records[0]!.Sns, patch);
  return ev;
}

/** The fixture's CloudWatch message as an object, to vary. */
function alarmMessage(name = 'sns-cloudwatch-alarm.json'): Record<string, unknown> {
  const ev = fixture(name) as { Records: { Sns: { Message: string } }[] };
  return JSON.parse(ev.Records[0]!.Sns.Message) as Record<string, unknown>;
}

function only(event: unknown): Notification {
  const parsed = parseSnsEvent(event);
  expect(parsed.rejected).toEqual([]);
  expect(parsed.records).toHaveLength(1);
  return parsed.records[0] as Notification;
}

function asAlarm(n: Notification): AlarmNotification {
  if (n.type !== 'alarm') throw new Error(`expected an alarm, got a notice: ${n.reason}`);
  return n;
}

function asNotice(n: Notification): NoticeNotification {
  if (n.type !== 'notice') throw new Error(`expected a notice, got alarm ${n.alarm.name}`);
  return n;
}

describe('parseSnsEvent', () => {
  describe('CloudWatch alarms', () => {
    it('turns the replication-lag ALARM into a replication-lag alarm on the source bucket', () => {
      // act
      const n = asAlarm(only(fixture('sns-cloudwatch-alarm.json')));

      // assess
      expect(n.messageId).toBe('5f1d2c4e-8a3b-5c6d-9e0f-1a2b3c4d5e6f');
      expect(n.topicArn).toBe('arn:aws:sns:us-east-1:123456789012:spawn-alerts');
      expect(n.subject).toBe('ALARM: "spawn-s3-replication-lag" in US East (N. Virginia)');
      expect(n.receivedAt.toISOString()).toBe('2026-10-02T14:05:32.015Z');
      const a = n.alarm;
      expect(a).toMatchObject({
        arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag',
        name: 'spawn-s3-replication-lag',
        description: 'S3 replication taking > 15 minutes',
        state: 'ALARM',
        previousState: 'OK',
        region: 'us-east-1',
        regionName: 'US East (N. Virginia)',
        accountId: '123456789012',
        composite: false,
        kind: 'replication-lag',
        bucket: 'spawn-binaries-us-east-1',
      });
      expect(a.functionName).toBeUndefined();
      expect(a.reason).toMatch(/^Threshold Crossed: 1 out of the last 1 datapoints \[1254\.0/);
      expect(a.stateChangeTime.toISOString()).toBe('2026-10-02T14:05:31.927Z');
      expect(a.metric).toMatchObject({
        namespace: 'AWS/S3',
        name: 'ReplicationLatency',
        statistic: 'MAXIMUM',
        period: 900,
        evaluationPeriods: 1,
        threshold: 900,
        comparison: 'GreaterThanThreshold',
      });
      expect({ ...a.metric?.dimensions }).toEqual({
        SourceBucket: 'spawn-binaries-us-east-1',
        DestinationBucket: 'spawn-binaries-us-west-2-backup',
        RuleId: 'spawn-binaries-replication',
      });
    });

    it('reads OK and INSUFFICIENT_DATA with their previous state', () => {
      // act
      const ok = asAlarm(only(fixture('sns-cloudwatch-ok.json'))).alarm;
      const insufficient = asAlarm(only(fixture('sns-cloudwatch-insufficient.json'))).alarm;

      // assess
      expect([ok.state, ok.previousState]).toEqual(['OK', 'ALARM']);
      expect([insufficient.state, insufficient.previousState]).toEqual(['INSUFFICIENT_DATA', 'ALARM']);
      expect(insufficient.reason).toBe('Insufficient Data: 1 datapoint was unknown.');
      expect(ok.arn).toBe(insufficient.arn);
    });

    it('marks a composite alarm, keeps its rule and triggering children, and gives it no metric', () => {
      // act
      const n = asAlarm(only(fixture('sns-cloudwatch-composite.json')));

      // assess
      expect(n.alarm.composite).toBe(true);
      expect(n.alarm.metric).toBeUndefined();
      expect(n.alarm.rule).toContain('ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-backup-failures)');
      expect(n.alarm.children).toEqual([{ arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-lag', state: 'ALARM' }]);
      expect(n.alarm.kind).toBe('other');
      expect(n.topicArn).toMatch(/-critical$/);
    });

    it('classifies Lambda Errors on the backup function as a backup failure with its function name', () => {
      // act
      const a = asAlarm(only(fixture('sns-lambda-errors-alarm.json'))).alarm;

      // assess
      expect(a.kind).toBe('backup-failure');
      expect(a.functionName).toBe('ami-backup');
      expect(a.bucket).toBeUndefined();
      expect(a.metric).toMatchObject({ namespace: 'AWS/Lambda', name: 'Errors', statistic: 'SUM', threshold: 1, comparison: 'GreaterThanOrEqualToThreshold' });
    });

    it('classifies OperationsFailedReplication as replication-failed', () => {
      // prepare
      const msg = alarmMessage();
      msg['AlarmName'] = 'spawn-s3-replication-failed';
      msg['AlarmArn'] = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-s3-replication-failed';
      (msg['Trigger'] as Record<string, unknown>)['MetricName'] = 'OperationsFailedReplication';

      // act
      const a = asAlarm(only(withSns('sns-cloudwatch-alarm.json', { Message: JSON.stringify(msg) }))).alarm;

      // assess
      expect(a.kind).toBe('replication-failed');
      expect(a.bucket).toBe('spawn-binaries-us-east-1');
    });

    it.each([
      ['AWS/S3', 'ReplicationLatency', 'x', 'replication-lag'],
      ['AWS/S3', 'OperationsFailedReplication', 'x', 'replication-failed'],
      ['AWS/Lambda', 'Errors', 'x', 'backup-failure'],
      ['AWS/EC2', 'CPUUtilization', 'nightly-Backup-check', 'backup-failure'],
      ['AWS/EC2', 'CPUUtilization', 'spawn-cpu', 'other'],
      ['AWS/Lambda', 'Throttles', 'spawn-dns', 'other'],
    ])('classifies %s %s named %s as %s', (namespace, name, alarmName, kind) => {
      expect(classifyAlarm(alarmName, { namespace, name })).toBe(kind);
    });

    it('takes the region from the human name when there is no ARN, and builds an ARN to key the thread', () => {
      // prepare
      const msg = alarmMessage();
      delete msg['AlarmArn'];
      msg['Region'] = 'EU (Ireland)';

      // act
      const a = asAlarm(only(withSns('sns-cloudwatch-alarm.json', { Message: JSON.stringify(msg) }))).alarm;

      // assess
      expect(a.region).toBe('eu-west-1');
      expect(a.arn).toBe('arn:aws:cloudwatch:eu-west-1:123456789012:alarm:spawn-s3-replication-lag');
    });

    it.each([
      ['US East (N. Virginia)', 'us-east-1'],
      ['US West (Oregon)', 'us-west-2'],
      ['Europe (Frankfurt)', 'eu-central-1'],
      ['EU (Ireland)', 'eu-west-1'],
      ['South America (São Paulo)', 'sa-east-1'],
      ['AWS GovCloud (US-West)', 'us-gov-west-1'],
      ['ap-southeast-2', 'ap-southeast-2'],
      ['Atlantis (Central)', undefined],
      ['__proto__', undefined],
      ['constructor', undefined],
    ])('maps region name %s to %s', (name, code) => {
      expect(regionCodeFromName(name)).toBe(code);
    });

    it('reads CloudWatch times with a +0000 offset and rejects nonsense', () => {
      // act and assess
      expect(parseAwsTime('2026-10-02T14:05:31.927+0000')?.toISOString()).toBe('2026-10-02T14:05:31.927Z');
      expect(parseAwsTime('2026-10-02T16:05:31.927+0200')?.toISOString()).toBe('2026-10-02T14:05:31.927Z');
      expect(parseAwsTime('yesterday-ish')).toBeUndefined();
    });
  });

  describe('notices', () => {
    it.each([
      ['sns-backup-job-event.json', /^AWS Backup event: Backup Job State Change \(FAILED\)$/],
      ['sns-eventbridge-event.json', /^EventBridge event: EC2 Instance State-change Notification from aws\.ec2$/],
      ['sns-plain-text.json', /plain text/],
      ['sns-malformed-json.json', /^malformed JSON/],
      ['sns-oversized.json', /plain text/],
    ])('keeps %s as a notice with its raw message', (file, reason) => {
      const event = fixture(file) as { Records: { Sns: { Message: string; MessageId: string } }[] };
      const sns = event.Records[0]!.Sns;

      const n = asNotice(only(event));

      expect(n.reason).toMatch(reason);
      expect(n.raw).toBe(sns.Message);
      expect(n.messageId).toBe(sns.MessageId);
    });

    it('keeps all 250 KB of an oversized message', () => {
      // act
      const n = asNotice(only(fixture('sns-oversized.json')));

      // assess
      expect(Buffer.byteLength(n.raw, 'utf8')).toBeGreaterThan(250 * 1024);
      expect(n.subject).toBe('ami-backup log dump');
    });

    it('treats a null Subject (EventBridge to SNS) as no subject', () => {
      // act
      const n = only(fixture('sns-backup-job-event.json'));

      // assess
      expect(n.subject).toBeUndefined();
    });

    it('makes a CloudWatch-looking message with an unknown state a notice that says why', () => {
      // prepare
      const msg = alarmMessage();
      msg['NewStateValue'] = 'ON_FIRE';

      // act
      const n = asNotice(only(withSns('sns-cloudwatch-alarm.json', { Message: JSON.stringify(msg) })));

      // assess
      expect(n.reason).toMatch(/^CloudWatch alarm that failed validation \(NewStateValue/);
    });

    it.each([
      ['empty', '   ', /empty message/],
      ['a JSON array', '[1,2,3]', /JSON that is not a CloudWatch alarm/],
      ['a JSON object of something else', '{"hello":"world"}', /JSON that is not a CloudWatch alarm/],
      ['a JSON string', '"ALARM"', /plain text/],
    ])('makes %s a notice', (_label, message, reason) => {
      const n = asNotice(only(withSns('sns-plain-text.json', { Message: message })));

      expect(n.reason).toMatch(reason);
    });
  });

  describe('the envelope', () => {
    it.each([
      ['null', null],
      ['a string', 'hello'],
      ['an array', [1, 2]],
      ['an API Gateway event', { httpMethod: 'POST', body: '{}' }],
      ['an SQS event', { Records: [{ eventSource: 'aws:sqs', body: '{}' }] }],
      ['empty Records', { Records: [] }],
    ])('throws not_sns_event for %s', (_label, event) => {
      let caught: unknown;
      try {
        parseSnsEvent(event);
      } catch (e) {
        caught = e;
      }

      expect(caught).toBeInstanceOf(NotSnsEventError);
      expect((caught as NotSnsEventError).code).toBe('not_sns_event');
    });

    it('rejects a record without a MessageId or Message but keeps the good ones', () => {
      // prepare
      const good = (fixture('sns-cloudwatch-alarm.json') as { Records: unknown[] }).Records[0];
      const event = {
        Records: [good, { EventSource: 'aws:sns', Sns: { Message: 'no id' } }, { EventSource: 'aws:sns', Sns: { MessageId: 'm-2', Message: { not: 'a string' } } }, { eventSource: 'aws:sqs' }],
      };

      // act
      const parsed = parseSnsEvent(event);

      // assess
      expect(parsed.records.map((r) => r.messageId)).toEqual(['5f1d2c4e-8a3b-5c6d-9e0f-1a2b3c4d5e6f']);
      expect(parsed.rejected.map((r) => r.index)).toEqual([1, 2, 3]);
      expect(parsed.rejected[0]?.reason).toMatch(/MessageId/);
      expect(parsed.rejected[2]?.reason).toBe('not an SNS record');
    });

    it('falls back to the current time when SNS sent no usable Timestamp', () => {
      // prepare
      const now = new Date('2026-10-02T15:00:00Z');

      // act
      const n = parseSnsEvent(withSns('sns-plain-text.json', { Timestamp: 'garbage' }), { now }).records[0];

      // assess
      expect(n?.receivedAt.toISOString()).toBe(now.toISOString());
    });
  });

  describe('hostile input', () => {
    afterEach(() => {
      // nothing may leak onto Object.prototype
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    });

    it('keeps __proto__ and constructor keys as data without polluting prototypes', () => {
      // prepare
      const msg = alarmMessage();
      (msg['Trigger'] as Record<string, unknown>)['Dimensions'] = [
        { name: '__proto__', value: 'polluted' },
        { name: 'constructor', value: 'x' },
        { name: 'SourceBucket', value: 'spawn-binaries-us-east-1' },
      ];
      const text = JSON.stringify(msg).replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"isAdmin":true}},');

      // act
      const a = asAlarm(only(withSns('sns-cloudwatch-alarm.json', { Message: text }))).alarm;

      // assess
      expect(a.bucket).toBe('spawn-binaries-us-east-1');
      const dims = a.metric?.dimensions ?? {};
      expect(Object.prototype.hasOwnProperty.call(dims, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(dims, '__proto__')?.value).toBe('polluted');
      expect((a as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('does not pollute through the SNS envelope either', () => {
      // prepare
      const event = JSON.parse(
        '{"__proto__":{"polluted":true},"Records":[{"EventSource":"aws:sns","__proto__":{"isAdmin":true},"Sns":{"MessageId":"m-1","Message":"hi","__proto__":{"polluted":1}}}]}',
      ) as unknown;

      // act
      const n = only(event);

      // assess
      expect(n.type).toBe('notice');
    });

    it('survives a message nested a hundred thousand levels deep', () => {
      // prepare
      const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;

      // act
      const n = asNotice(only(withSns('sns-plain-text.json', { Message: deep })));

      // assess
      expect(n.reason).toBe('JSON that is not a CloudWatch alarm');
      expect(n.raw.length).toBe(deep.length);
    });

    it('makes an alarm with a 300 KB name a notice instead of trusting it', () => {
      // prepare
      const msg = alarmMessage();
      msg['AlarmName'] = 'x'.repeat(300 * 1024);

      // act
      const n = asNotice(only(withSns('sns-cloudwatch-alarm.json', { Message: JSON.stringify(msg) })));

      // assess
      expect(n.reason).toMatch(/AlarmName/);
    });

    it('does not try to parse a 5 MB message, and keeps it', () => {
      // prepare
      const huge = `{${' '.repeat(5 * 1024 * 1024)}}`;

      // act
      const n = asNotice(only(withSns('sns-plain-text.json', { Message: huge })));

      // assess
      expect(n.reason).toMatch(/too large to parse/);
      expect(n.raw.length).toBe(huge.length);
    });

    it('ignores junk around the fields it reads', () => {
      // prepare
      const msg = alarmMessage();
      msg['Trigger'] = { ...(msg['Trigger'] as object), Threshold: 'NaN-ish', Period: '900' };
      msg['OldStateValue'] = 'WHATEVER';
      msg['Extra'] = { nested: ['deep', { deeper: true }] };

      // act
      const a = asAlarm(only(withSns('sns-cloudwatch-alarm.json', { Message: JSON.stringify(msg) }))).alarm;

      // assess
      expect(a.metric?.threshold).toBeUndefined();
      expect(a.metric?.period).toBe(900);
      expect(a.previousState).toBeUndefined();
      expect(a).not.toHaveProperty('Extra');
    });
  });
});
