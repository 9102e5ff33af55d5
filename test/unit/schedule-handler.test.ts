import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';

/*
 * handlers/schedule.ts as Lambda runs it: EventBridge Scheduler delivers at least once, so the same
 * firing can arrive twice. The durable execution is named from the schedule and its scheduled time,
 * and Lambda refuses a second execution of that name (DurableExecutionAlreadyStartedException, as
 * aws-sdk-client-mock answers here): the redelivery starts nothing.
 */

const lambda = mockClient(LambdaClient);
const EVENT = { schedule: 'backup-iam-daily', verb: 'backup-iam', scheduledTime: '2026-12-01T03:00:00Z' };

beforeAll(() => {
  process.env.RUNBOOK_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:drbot-runbook:live';
});

afterAll(() => {
  lambda.restore();
  delete process.env.RUNBOOK_FUNCTION;
});

function invokedNames(): string[] {
  return lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input.DurableExecutionName ?? '');
}

describe('handlers/schedule', () => {
  it('starts one durable run per firing: a redelivered event gets the same execution name and is reported duplicate', async () => {
    // prepare: Lambda accepts the first execution of a name and refuses the next
    const started = new Set<string>();
    lambda.on(InvokeCommand).callsFake(async (input: { DurableExecutionName?: string }) => {
      const name = input.DurableExecutionName ?? '';
      if (started.has(name)) throw Object.assign(new Error(`execution ${name} already exists`), { name: 'DurableExecutionAlreadyStartedException' });
      started.add(name);
      return { StatusCode: 202 };
    });
    const { handler } = await import('../../handlers/schedule');

    // act
    const first = await handler(EVENT);
    const again = await handler({ ...EVENT });
    const nextDay = await handler({ ...EVENT, scheduledTime: '2026-12-02T03:00:00Z' });

    // assess
    expect(first).toMatchObject({ status: 'started', executionName: 'sched-backup-iam-daily-20261201T0300Z' });
    expect(again).toEqual({ ...first, status: 'duplicate' });
    expect(nextDay).toMatchObject({ status: 'started', executionName: 'sched-backup-iam-daily-20261202T0300Z' });
    expect(invokedNames()).toEqual(['sched-backup-iam-daily-20261201T0300Z', 'sched-backup-iam-daily-20261201T0300Z', 'sched-backup-iam-daily-20261202T0300Z']);
    const payload = JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array).toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ kind: 'backup-iam', prune: true, dryRun: false, runId: first.runId, schedule: { name: 'backup-iam-daily', at: '2026-12-01T03:00:00.000Z' }, requestedAt: '2026-12-01T03:00:00.000Z' });
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({ FunctionName: process.env.RUNBOOK_FUNCTION, InvocationType: 'Event' });
  });

  it('refuses an event that is not a schedule firing, naming the field, and starts nothing', async () => {
    // prepare
    lambda.resetHistory();
    const { handler } = await import('../../handlers/schedule');

    // act / assess
    await expect(handler({ schedule: 'x', verb: 'restore-s3', scheduledTime: '2026-12-01T03:00:00Z' })).rejects.toThrow('verb: missing or not a backup verb');
    await expect(handler({ schedule: 'x', verb: 'backup-iam' })).rejects.toThrow('scheduledTime');
    await expect(handler({ schedule: 'x', verb: 'backup-nope', scheduledTime: '2026-12-01T03:00:00Z' })).rejects.toThrow('which this deployment does not have');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
