import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The monthly drill's schedule: template.yaml fires EventBridge Scheduler on the runbook's cron
 * (1st of the month, 03:00 UTC) at the schedule function with the drill verb, and
 * handlers/schedule.ts starts one durable drill run per firing, without --keep or a dry run.
 */

const lambda = mockClient(LambdaClient);

beforeAll(() => {
  process.env.RUNBOOK_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:drbot-runbook:live';
});

afterAll(() => {
  lambda.restore();
  delete process.env.RUNBOOK_FUNCTION;
});

/** A top-level resource's block of template.yaml, as text. */
function resourceBlock(name: string): string {
  const template = readFileSync(join(__dirname, '..', '..', 'template.yaml'), 'utf8');
  const m = new RegExp(`\\n {2}${name}:\\n((?: {4}.*\\n|\\s*\\n)+)`).exec(template);
  if (!m?.[1]) throw new Error(`no ${name} in template.yaml`);
  return m[1];
}

describe('the drill schedule', () => {
  it('is in template.yaml: cron(0 3 1 * ? *) UTC, targeting the schedule function with the drill verb', () => {
    // act
    const block = resourceBlock('DrillSchedule');

    // assess
    expect(block).toContain('Type: AWS::Scheduler::Schedule');
    expect(block).toContain('ScheduleExpression: cron(0 3 1 * ? *)');
    expect(block).toContain('ScheduleExpressionTimezone: UTC');
    expect(block).toContain('State: ENABLED');
    expect(block).toContain('Arn: !GetAtt ScheduleFunction.Arn');
    expect(block).toContain('RoleArn: !GetAtt SchedulerRole.Arn');
    const input = /Input: '(.*)'/.exec(block)?.[1] ?? '';
    expect(JSON.parse(input)).toEqual({ schedule: 'drill-monthly', verb: 'drill', scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  it('starts one drill run per firing through handlers/schedule.ts, with no --keep and no dry run', async () => {
    // prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const { handler } = await import('../../handlers/schedule');

    // act
    const r = await handler({ schedule: 'drill-monthly', verb: 'drill', scheduledTime: '2027-02-01T03:00:00Z' });

    // assess
    expect(r).toMatchObject({ status: 'started', executionName: 'sched-drill-monthly-20270201T0300Z' });
    const call = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(call).toMatchObject({ FunctionName: process.env.RUNBOOK_FUNCTION, InvocationType: 'Event', DurableExecutionName: 'sched-drill-monthly-20270201T0300Z' });
    const payload = JSON.parse(Buffer.from(call?.Payload as Uint8Array).toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ kind: 'drill', keep: false, dryRun: false, runId: r.runId, schedule: { name: 'drill-monthly', at: '2027-02-01T03:00:00.000Z' }, commandText: '/dr drill (schedule drill-monthly, 2027-02-01T03:00:00.000Z)' });
  });

  it('refuses a verb that is neither a backup nor the drill', async () => {
    const { handler } = await import('../../handlers/schedule');
    await expect(handler({ schedule: 'x', verb: 'drill-cleanup', scheduledTime: '2027-02-01T03:00:00Z' })).rejects.toThrow('verb: missing or not a backup verb');
  });
});
