import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAlarmActions } from '../../src/alarms/actions';
import type { AlarmNotification, AlarmThread } from '../../src/alarms/model';
import { classifyAlarm, parseSnsEvent } from '../../src/alarms/parse';
import { ALARM_ACTIONS, renderAlarm } from '../../src/alarms/views';
import { RoleResolver } from '../../src/approvals/roles';
import { parseConfigText } from '../../src/config/load';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import type { RunEngine } from '../../src/runbooks/types';
import type { StateStore } from '../../src/store/state';
import { ForbiddenError } from '../../src/errors';
import { threadFromNotification } from '../helpers/alarm-thread';

const ROOT = join(__dirname, '..', '..');

function failedRunAlarm(): AlarmNotification {
  const raw = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'events', 'sns-durable-execution-failed-alarm.json'), 'utf8')) as unknown;
  const n = parseSnsEvent(raw).records[0];
  if (n?.type !== 'alarm') throw new Error('fixture is not an alarm');
  return n;
}

describe('a failed or timed-out run (durable execution) alarm', () => {
  it('is classified as a run failure with the runbook function it names', () => {
    // Act
    const a = failedRunAlarm().alarm;

    // Assess
    expect(a.kind).toBe('run-failure');
    expect(a.functionName).toBe('drbot-RunbookFunction-Q1w2E3r4T5y6');
    expect(classifyAlarm('drbot-runbook-timed-out', { namespace: 'AWS/Lambda', name: 'DurableExecutionTimedOut' })).toBe('run-failure');
  });

  it('gets View run, View logs and Acknowledge buttons', () => {
    // Act
    const m = renderAlarm({ ...threadFromNotification(failedRunAlarm()), version: 1, renderedVersion: 0 });

    // Assess
    const actions = (m.blocks ?? []).flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(actions.map((e) => ('action_id' in e ? e.action_id : ''))).toEqual([ALARM_ACTIONS.viewRun, ALARM_ACTIONS.viewLogs, ALARM_ACTIONS.ack]);
    expect(ALARM_ACTIONS.viewRun).toBe('alarm_view_run');
  });

  describe('View run', () => {
    const config = parseConfigText(readFileSync(join(ROOT, 'drbot.config.example.yaml'), 'utf8'));
    const thread: AlarmThread = { ...threadFromNotification(failedRunAlarm()), version: 1, renderedVersion: 0 };
    const setup = () => {
      const ephemerals: Array<{ channel: string; user: string; msg: SlackMessage }> = [];
      const slack: SlackPoster = {
        post: () => Promise.reject(new Error('not expected')),
        update: () => Promise.reject(new Error('not expected')),
        ephemeral: async (channel, user, msg) => {
          ephemerals.push({ channel, user, msg });
        },
      };
      const actions = createAlarmActions({
        config: { ...config, slack: { ...config.slack, roles: { viewer: ['UCAROL'], operator: [], approver: [] } } },
        threads: { getThread: async (id) => (id === thread.id ? thread : undefined), acknowledge: () => Promise.reject(new Error('not expected')) },
        store: {} as StateStore,
        engine: {} as RunEngine,
        roles: new RoleResolver({ ...config, slack: { ...config.slack, roles: { viewer: ['UCAROL'], operator: [], approver: [] } } }, async () => []),
        slack,
        now: () => new Date('2026-10-02T03:11:00Z'),
      });
      return { actions, ephemerals };
    };

    it("shows a viewer where the function's failed and timed-out runs are listed, privately", async () => {
      // Prepare
      const { actions, ephemerals } = setup();

      // Act
      await actions.viewRun(thread.id, 'UCAROL');

      // Assess
      expect(ephemerals).toHaveLength(1);
      expect(ephemerals[0]?.user).toBe('UCAROL');
      expect(ephemerals[0]?.channel).toBe(thread.channel);
      const text = ephemerals[0]?.msg.text ?? '';
      expect(text).toContain('https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/drbot-RunbookFunction-Q1w2E3r4T5y6?tab=durable-executions');
      expect(text).toContain('aws lambda list-durable-executions-by-function --region us-east-1 --function-name drbot-RunbookFunction-Q1w2E3r4T5y6 --statuses FAILED TIMED_OUT');
    });

    it('refuses someone without a role and shows nothing', async () => {
      // Prepare
      const { actions, ephemerals } = setup();

      // Act / Assess
      await expect(actions.viewRun(thread.id, 'UEVE')).rejects.toThrow(ForbiddenError);
      expect(ephemerals).toHaveLength(0);
    });
  });
});
