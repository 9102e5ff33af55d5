import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import type { AlarmKind, AlarmNotification, AlarmState, AlarmThread, DigestModel, NoticeNotification } from '../../src/alarms/model';
import { parseSnsEvent } from '../../src/alarms/parse';
import { parseRetryJobValue } from '../../src/alarms/backup-job';
import { blockTexts } from '../helpers/alarm-service';
import { threadFromNotification } from '../helpers/alarm-thread';
import {
  ALARM_ACTIONS,
  escapeMrkdwn,
  formatDuration,
  renderAlarm,
  renderAlarmResolvedReply,
  renderDigest,
  renderNotice,
  SLACK_LIMITS,
} from '../../src/alarms/views';

const FIXTURES = join(__dirname, '..', 'fixtures', 'events');
function parsed(name: string) {
  return parseSnsEvent(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown).records[0];
}
function alarmFixture(name: string): AlarmNotification {
  const n = parsed(name);
  if (n?.type !== 'alarm') throw new Error(`${name} is not an alarm`);
  return n;
}
function noticeFixture(name: string): NoticeNotification {
  const n = parsed(name);
  if (n?.type !== 'notice') throw new Error(`${name} is not a notice`);
  return n;
}

function threadFrom(n: AlarmNotification, over: Partial<AlarmThread> = {}): AlarmThread {
  return { ...threadFromNotification(n), version: 1, renderedVersion: 0, ...over };
}

const lag = () => threadFrom(alarmFixture('sns-cloudwatch-alarm.json'));
const backup = () => threadFrom(alarmFixture('sns-lambda-errors-alarm.json'));

function buttons(blocks: KnownBlock[]): Button[] {
  return blocks.filter((b): b is ActionsBlock => b.type === 'actions').flatMap((b) => b.elements.filter((e): e is Button => e.type === 'button'));
}
const allText = (blocks: KnownBlock[]) => blockTexts(blocks).join('\n');
const messageSize = (m: { text: string; blocks: KnownBlock[] }) => m.text.length + blockTexts(m.blocks).reduce((n, t) => n + t.length, 0);

function expectWithinLimits(m: { text: string; blocks: KnownBlock[] }) {
  expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const b of m.blocks) {
    if (b.type === 'section') {
      const s = b as SectionBlock;
      if (s.text) expect(s.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect((s.fields ?? []).length).toBeLessThanOrEqual(10);
      for (const f of s.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    }
  }
  for (const btn of buttons(m.blocks)) expect((btn.value ?? '').length).toBeLessThanOrEqual(SLACK_LIMITS.buttonValue);
  expect(messageSize(m)).toBeLessThanOrEqual(SLACK_LIMITS.message);
}

describe('renderAlarm', () => {
  it('shows name, red ALARM state, reason, metric with threshold, region and time', () => {
    // act
    const m = renderAlarm(lag());

    // assess
    const text = allText(m.blocks);
    expect(text).toContain(':red_circle: *ALARM* *spawn-s3-replication-lag*');
    expect(text).toContain('Threshold Crossed: 1 out of the last 1 datapoints [1254.0');
    expect(text).toContain('AWS/S3 ReplicationLatency (Maximum over 900 s) &gt; 900');
    expect(text).toContain('us-east-1 (US East (N. Virginia))');
    expect(text).toContain(`<!date^${Math.floor(Date.parse('2026-10-02T14:05:31.927Z') / 1000)}^`);
    expect(text).toContain('spawn-binaries-us-east-1');
    expect(m.text).toMatch(/^ALARM: spawn-s3-replication-lag — Threshold Crossed/);
    expectWithinLimits(m);
  });

  it.each<[AlarmKind, string[]]>([
    ['replication-lag', [ALARM_ACTIONS.checkReplication, ALARM_ACTIONS.restoreReplica, ALARM_ACTIONS.ack]],
    ['replication-failed', [ALARM_ACTIONS.checkReplication, ALARM_ACTIONS.restoreReplica, ALARM_ACTIONS.ack]],
    ['backup-failure', [ALARM_ACTIONS.runBackup, ALARM_ACTIONS.viewLogs, ALARM_ACTIONS.ack]],
    ['run-failure', [ALARM_ACTIONS.viewRun, ALARM_ACTIONS.viewLogs, ALARM_ACTIONS.ack]],
    ['other', [ALARM_ACTIONS.ack]],
  ])('gives a %s alarm the buttons %j, each carrying only the thread id', (kind, ids) => {
    // A backup failure's button reruns the backup its function names (here the AMI backup).
    const base = lag();
    const t = { ...base, kind, ...(kind === 'backup-failure' ? { alarm: { ...base.alarm, functionName: 'spawn-ami-backup' } } : {}) };

    const bs = buttons(renderAlarm(t).blocks);

    expect(bs.map((b) => b.action_id)).toEqual(ids);
    for (const b of bs) expect(b.value).toBe(t.id);
  });

  it('labels the buttons as the issue names them', () => {
    // act
    const labels = [...buttons(renderAlarm(lag()).blocks), ...buttons(renderAlarm(backup()).blocks)].map((b) => `${b.action_id}=${b.text.text}`);

    // assess
    expect(labels).toEqual([
      'alarm_check_replication=Check replication',
      'alarm_restore_replica=Restore from replica',
      'alarm_ack=Acknowledge',
      'alarm_run_backup=Run AMI backup now',
      'alarm_view_logs=View logs',
      'alarm_ack=Acknowledge',
    ]);
    expect(ALARM_ACTIONS).toEqual({
      ack: 'alarm_ack',
      checkReplication: 'alarm_check_replication',
      restoreReplica: 'alarm_restore_replica',
      runBackup: 'alarm_run_backup',
      viewLogs: 'alarm_view_logs',
      viewRun: 'alarm_view_run',
    });
  });

  it('shows who acknowledged and when, and drops the Acknowledge button', () => {
    // prepare
    const t = { ...lag(), acknowledgedBy: 'UCAROL', acknowledgedAt: new Date('2026-10-02T14:07:00Z') };

    // act
    const m = renderAlarm(t);

    // assess
    expect(allText(m.blocks)).toContain(`:eyes: Acknowledged by <@UCAROL> at <!date^${Date.parse('2026-10-02T14:07:00Z') / 1000}^`);
    expect(buttons(m.blocks).map((b) => b.action_id)).not.toContain(ALARM_ACTIONS.ack);
  });

  it('shows a resolved alarm green with its duration, keeping the read-only check and Acknowledge but no restore', () => {
    // prepare
    const ok = alarmFixture('sns-cloudwatch-ok.json');
    const t = { ...lag(), state: 'OK' as AlarmState, alarm: ok.alarm, resolvedAt: ok.alarm.stateChangeTime, resolutions: 1 };

    // act
    const m = renderAlarm(t);

    // assess
    expect(allText(m.blocks)).toContain(':large_green_circle: *Resolved* after 45m *spawn-s3-replication-lag*');
    expect(m.text).toMatch(/^Resolved: spawn-s3-replication-lag/);
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual([ALARM_ACTIONS.checkReplication, ALARM_ACTIONS.ack]);
  });

  it('shows a resolved backup failure with View logs and Acknowledge but no Run backup now', () => {
    // prepare
    const t = { ...backup(), state: 'OK' as AlarmState, resolvedAt: new Date('2026-10-02T04:15:12.581Z') };

    // act
    const m = renderAlarm(t);

    // assess
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual([ALARM_ACTIONS.viewLogs, ALARM_ACTIONS.ack]);
    expect(allText(m.blocks)).toContain('after 1h 5m');
  });

  it('drops Acknowledge from a resolved alarm once someone acknowledged it', () => {
    // prepare
    const t = { ...lag(), state: 'OK' as AlarmState, resolvedAt: new Date('2026-10-02T14:50:33.318Z'), acknowledgedBy: 'UCAROL', acknowledgedAt: new Date('2026-10-02T14:51:00Z') };

    // act
    const m = renderAlarm(t);

    // assess
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual([ALARM_ACTIONS.checkReplication]);
    expect(allText(m.blocks)).toContain('Acknowledged by <@UCAROL>');
  });

  it('shows INSUFFICIENT_DATA amber', () => {
    // prepare
    const n = alarmFixture('sns-cloudwatch-insufficient.json');

    // act
    const m = renderAlarm(threadFrom(n));

    // assess
    expect(allText(m.blocks)).toContain(':large_orange_circle: *INSUFFICIENT DATA* *spawn-s3-replication-lag*');
    expect(allText(m.blocks)).not.toContain(':red_circle:');
    expect(buttons(m.blocks).map((b) => b.action_id)).toContain(ALARM_ACTIONS.ack);
  });

  it('shows the count and last seen when repeated', () => {
    // prepare
    const t = { ...lag(), count: 7, lastSeen: new Date('2026-10-02T14:35:00Z') };

    // act
    const text = allText(renderAlarm(t).blocks);

    // assess
    expect(text).toContain('(×7)');
    expect(text).toContain(`Seen 7 times, last <!date^${Date.parse('2026-10-02T14:35:00Z') / 1000}^`);
  });

  it('links the CloudWatch console in the alarm region and the runbook section for its kind', () => {
    // prepare
    const t = { ...lag(), alarm: { ...lag().alarm, name: 'spawn lag/odd#name' } };

    // act
    const text = allText(renderAlarm(t, { runbookUrl: 'https://wiki.example.com/dr-runbook' }).blocks);

    // assess
    expect(text).toContain('<https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/spawn%20lag%2Fodd%23name|CloudWatch console>');
    expect(text).toContain('<https://wiki.example.com/dr-runbook#cross-region-replication|Runbook>');
    expect(allText(renderAlarm(backup(), { runbookUrl: 'https://wiki.example.com/dr-runbook' }).blocks)).toContain('dr-runbook#backup-monitoring|Runbook>');
  });

  it('uses consoleRegion when the alarm region is unknown', () => {
    // prepare
    const t = { ...lag(), alarm: { ...lag().alarm, region: 'Atlantis (Central)' } };

    // act
    const text = allText(renderAlarm(t, { consoleRegion: 'us-west-2' }).blocks);

    // assess
    expect(text).toContain('https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#alarmsV2:alarm/spawn-s3-replication-lag');
  });

  it('escapes names, descriptions and reasons so they cannot ping or link', () => {
    // prepare
    const base = lag();
    const t = { ...base, alarm: { ...base.alarm, name: 'evil <!channel>', description: 'hi <@U024BE7LH> & <!here>', reason: '<https://phish.example|click> & <!subteam^S123>' } };

    // act
    const m = renderAlarm(t);

    // assess
    const text = `${m.text}\n${allText(m.blocks)}`;
    expect(text).not.toMatch(/<!channel>|<!here>|<@U024BE7LH>|<https:\/\/phish|<!subteam/);
    expect(text).toContain('evil &lt;!channel&gt;');
    expect(text).toContain('&amp; &lt;!here&gt;');
  });

  it('stays within Slack limits with a maximal reason and description', () => {
    // prepare
    const base = lag();
    const t = { ...base, alarm: { ...base.alarm, name: 'n'.repeat(255), description: '<'.repeat(4096), reason: '&'.repeat(20_000) } };

    // act
    const m = renderAlarm(t);

    // assess
    expectWithinLimits(m);
    expect(allText(m.blocks)).not.toMatch(/&amp(?!;)/); // never cuts an entity in half
  });

  it('shows a composite alarm rule and its triggering child', () => {
    // prepare
    const n = alarmFixture('sns-cloudwatch-composite.json');

    // act
    const text = allText(renderAlarm(threadFrom(n)).blocks);

    // assess
    expect(text).toContain('*Rule*');
    expect(text).toContain('Triggered by spawn-s3-replication-lag (ALARM)');
  });
});

describe('renderAlarmResolvedReply', () => {
  it('says the alarm resolved and after how long', () => {
    // prepare
    const ok = alarmFixture('sns-cloudwatch-ok.json');
    const t = { ...lag(), state: 'OK' as AlarmState, resolvedAt: ok.alarm.stateChangeTime, count: 3 };

    // act
    const reply = renderAlarmResolvedReply(t);

    // assess
    expect(reply.text).toMatch(/^:large_green_circle: \*spawn-s3-replication-lag\* resolved after 45m at <!date\^/);
    expect(reply.text).toContain('Seen 3 times.');
    expect(reply.text.length).toBeLessThan(600);
  });
});

describe('renderNotice', () => {
  it('gives a failed AWS Backup job its own message: resource, AWS reason, Retry backup and View job', () => {
    // prepare
    const n = noticeFixture('sns-backup-job-event.json');

    // act
    const m = renderNotice(n);

    // assess
    const text = allText(m.blocks);
    expect(text).toContain(':x: *AWS Backup job FAILED*: DynamoDB table `spawn-instances`, vault `spawn-vault` (us-east-1)');
    expect(text).toContain('Backup job failed because the IAM role does not have permission');
    expect(text).not.toContain('"version"');
    const actions = m.blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' ? actions.elements : []).toEqual([
      expect.objectContaining({ action_id: 'backup_job_retry', value: '{"table":"spawn-instances","job":"34176239-e96d-4e1d-9fad-529dbb3c3556"}', text: expect.objectContaining({ text: 'Retry backup' }) as unknown }),
      expect.objectContaining({
        action_id: 'backup_job_view',
        url: 'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/34176239-e96d-4e1d-9fad-529dbb3c3556',
      }),
    ]);
    expectWithinLimits(m);
  });

  it('reads back only a Retry backup value of ours: a table name and a job ID, nothing else', () => {
    // act / assess
    expect(parseRetryJobValue('{"table":"spawn-instances","job":"34176239-e96d-4e1d-9fad-529dbb3c3556"}')).toEqual({ table: 'spawn-instances', job: '34176239-e96d-4e1d-9fad-529dbb3c3556' });
    for (const forged of ['spawn-instances', '', '{"table":"spawn-instances"}', '{"table":"a b","job":"j"}', '{"table":"spawn-instances","job":"j\\nx"}', '{"table":"spawn-instances","job":"<!here>"}', `{"table":"t","job":"${'a'.repeat(101)}"}`, '[1]', 'null']) {
      expect(parseRetryJobValue(forged)).toBeUndefined();
    }
  });

  it('offers no retry for a job that completed, nor for a resource that is not a table', () => {
    // prepare
    const n = noticeFixture('sns-backup-job-event.json');
    const event = JSON.parse(n.raw) as { detail: Record<string, unknown> };
    const completed = { ...n, raw: JSON.stringify({ ...event, detail: { ...event.detail, state: 'COMPLETED', statusMessage: undefined } }) };
    const ebs = { ...n, raw: JSON.stringify({ ...event, detail: { ...event.detail, resourceType: 'EBS', resourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-1' } }) };

    // act
    const ids = [completed, ebs].map((x) => renderNotice(x).blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => ('action_id' in e ? e.action_id : '')) : [])));

    // assess
    expect(ids).toEqual([['backup_job_view'], ['backup_job_view']]);
    expect(allText(renderNotice(completed).blocks)).toContain(':white_check_mark: *AWS Backup job COMPLETED*');
  });

  it('escapes mentions and links in the payload so nobody is pinged', () => {
    // prepare
    const n = noticeFixture('sns-plain-text.json');

    // act
    const m = renderNotice(n);

    // assess
    const text = `${m.text}\n${allText(m.blocks)}`;
    expect(text).not.toMatch(/<!channel>|<@U024BE7LH>|<https:\/\/example\.com/);
    expect(text).toContain('finished &lt;!channel&gt; -- 3 tables restored &amp; verified, see &lt;@U024BE7LH&gt;');
  });

  it('truncates a 250 KB message to fit and says how big it was', () => {
    // prepare
    const n = noticeFixture('sns-oversized.json');

    // act
    const m = renderNotice(n);

    // assess
    expect(allText(m.blocks)).toContain(`*truncated, ${Buffer.byteLength(n.raw, 'utf8')} bytes total*`);
    expect(allText(m.blocks)).toContain('2026-10-02T04:00:00.000Z ERROR ami-backup');
    expectWithinLimits(m);
  });

  it('keeps escaped content under the section limit even when every character expands', () => {
    // prepare
    const n = { ...noticeFixture('sns-plain-text.json'), raw: '<&>'.repeat(20_000) };

    // act
    const m = renderNotice(n);

    // assess
    expectWithinLimits(m);
    const code = blockTexts(m.blocks).filter((t) => t.startsWith('```'));
    expect(code.length).toBeGreaterThan(0);
    for (const c of code) expect(c).toMatch(/^```(&lt;|&amp;|&gt;)+```$/);
  });

  it('cannot break out of the code block with backticks', () => {
    // prepare
    const n = { ...noticeFixture('sns-plain-text.json'), raw: 'before ``` <!channel> ``` after' };

    // act
    const code = blockTexts(renderNotice(n).blocks).find((t) => t.startsWith('```')) ?? '';

    // assess
    expect(code.slice(3, -3)).not.toContain('```');
  });

  it('shows an empty message as such', () => {
    // act
    const n = { ...noticeFixture('sns-plain-text.json'), raw: '' };

    // assess
    expect(allText(renderNotice(n).blocks)).toContain('_(empty message)_');
  });
});

describe('renderDigest', () => {
  function digest(alarms: number): DigestModel {
    const states: AlarmState[] = ['ALARM', 'OK', 'INSUFFICIENT_DATA'];
    return {
      channel: 'CALERTS',
      openedAt: new Date('2026-10-02T14:00:00Z'),
      updatedAt: new Date('2026-10-02T14:03:00Z'),
      notifications: 500,
      notices: 2,
      recentNotices: [{ messageId: 'm-1', subject: 'ping <!channel>', reason: 'plain text, not a CloudWatch alarm', receivedAt: new Date('2026-10-02T14:01:00Z') }],
      alarms: Array.from({ length: alarms }, (_, i) => ({
        id: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:storm-${i}`,
        arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:storm-${i}`,
        name: `storm-${i}`,
        region: 'us-east-1',
        state: states[i % 3] as AlarmState,
        kind: 'other' as const,
        count: i,
        lastSeen: new Date('2026-10-02T14:02:00Z'),
      })),
    };
  }

  it('summarizes counts per state, top alarms by count and the notifications recorded', () => {
    // act
    const m = renderDigest(digest(20));

    // assess
    const text = allText(m.blocks);
    expect(text).toContain('*Alarm storm*: 20 alarms, *500 notifications recorded*');
    expect(text).toContain(':red_circle: *ALARM*\n7');
    expect(text).toContain(':large_green_circle: *Resolved*\n7');
    expect(text).toContain(':large_orange_circle: *INSUFFICIENT DATA*\n6');
    const top = blockTexts(m.blocks).find((t) => t.startsWith('*Top alarms*')) ?? '';
    expect(top.split('\n')[1]).toContain('*storm-19* ×19');
    expect(top).toContain('_…and 5 more_');
    expect(text).toContain('*2 other notices* (not alarms)');
    expect(text).toContain('ping &lt;!channel&gt;');
    expect(m.text).toBe('Alarm storm: 20 alarms (7 ALARM, 6 INSUFFICIENT_DATA, 7 resolved), 500 notifications recorded');
    expectWithinLimits(m);
  });

  it('stays within Slack limits with a thousand alarms', () => {
    // act
    const m = renderDigest(digest(1000));

    // assess
    expectWithinLimits(m);
    expect(allText(m.blocks)).toContain('_…and 985 more_');
  });
});

describe('helpers', () => {
  it.each([
    [42_000, '42s'],
    [45 * 60_000, '45m'],
    [65 * 60_000, '1h 5m'],
    [2 * 3600_000, '2h'],
    [51 * 3600_000, '2d 3h'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('escapes exactly &, < and >', () => {
    // act and assess
    expect(escapeMrkdwn('a & b <!here> *c*')).toBe('a &amp; b &lt;!here&gt; *c*');
  });
});
