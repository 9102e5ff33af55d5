import { CreateTableCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { MiddlewareStack } from '@smithy/types';
import { SANDBOX_CHANNEL, SANDBOX_CRITICAL_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { parseScheduleEvent, type ScheduleDeps, startScheduledRun } from '../../src/schedules/start';
import { buttons, click, ephemeralsFor, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Scheduled backups on the local stack (the durable local runner, moto): a firing starts the
 * catalogue's verb by id with --prune and posts in the ops channel; the same firing again starts
 * nothing; a failed run raises a message in the critical channel whose "Retry now" an operator
 * (not a viewer) can press. The clock runs 100 days ahead so what moto stamps now is past retention.
 */

const AHEAD_MS = 100 * 86_400_000;
const BACKUPS = 'spawn-backups';

function refuse<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }, commandName: string, name: string, message: string): () => void {
  const id = `refuse-${commandName}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) throw Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
      return next(args);
    },
    { step: 'initialize', name: id },
  );
  return () => {
    client.middlewareStack.remove(id);
  };
}

describe('scheduled backups', () => {
  const getStack = useLocalStack({ seed: false, now: () => new Date(Date.now() + AHEAD_MS) });
  let stack: LocalStack;
  let deps: ScheduleDeps;
  const fire = async (schedule: string, verb: string, scheduledTime: string) => {
    const r = await startScheduledRun(deps, parseScheduleEvent({ schedule, verb, scheduledTime }));
    await stack.engine.idle();
    return r;
  };

  beforeAll(async () => {
    stack = getStack();
    deps = { config: stack.config, catalogue: stack.catalogue, engine: stack.engine, now: stack.now };
    const s3 = stack.clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BACKUPS }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BACKUPS, VersioningConfiguration: { Status: 'Enabled' } }));
    await stack.clients.iam('us-east-1').send(new CreateRoleCommand({ RoleName: 'spawn-worker', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }));
    for (const TableName of stack.config.dynamodb.tables.map((t) => t.name)) {
      await stack.clients.dynamodb('us-east-1').send(
        new CreateTableCommand({ TableName, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
      );
    }
  });

  it('runs the verb with --prune, without waiting for an approval, posts in the ops channel, and a redelivered firing starts nothing', async () => {
    // prepare: two old exports of drbot's (the older one is past retention once a new one exists)
    const s3 = stack.clients.s3('us-east-1');
    await s3.send(new PutObjectCommand({ Bucket: BACKUPS, Key: 'iam/2026-01-01/r-0000000000aa.json', Body: '{}' }));
    const before = stack.engine.names().length;
    const alertsBefore = stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL).length;

    // act
    const first = await fire('backup-iam-daily', 'backup-iam', '2026-12-01T03:00:00Z');
    const again = await fire('backup-iam-daily', 'backup-iam', '2026-12-01T03:00:00Z');

    // assess: one run, succeeded, in the ops channel, said to be scheduled
    expect(first.status).toBe('started');
    expect(again).toEqual({ ...first, status: 'duplicate' });
    expect(stack.engine.names().length).toBe(before + 1);
    expect(runSummary(stack, first.runId)).toMatchObject({ status: 'succeeded' });
    const msgs = stack.standIn.channelMessages(SANDBOX_CHANNEL).filter((m) => textOf(m).includes(first.runId));
    expect(msgs).toHaveLength(1);
    expect(textOf(msgs[0])).toContain('scheduled by `backup-iam-daily`');
    expect(textOf(msgs[0])).toContain('Exported *1* role');
    // the single old export is the newest of drbot's at plan time: kept, not pruned
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: 'iam/' }))).Contents ?? []).map((o) => o.Key);
    expect(keys).toContain('iam/2026-01-01/r-0000000000aa.json');
    expect(stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL)).toHaveLength(alertsBefore);
  });

  it('posts a failed run in the critical channel with Retry now: a viewer is refused, an operator starts the backup again', async () => {
    // prepare
    const ddb = stack.clients.dynamodb('us-east-1');
    const undo = refuse(ddb, 'CreateBackupCommand', 'AccessDeniedException', 'not authorized to perform: dynamodb:CreateBackup');

    // act: the scheduled run fails
    let run;
    try {
      run = await fire('backup-dynamodb-daily', 'backup-dynamodb', '2026-12-01T04:00:00Z');
    } finally {
      undo();
    }

    // assess: the run and the alert
    expect(runSummary(stack, run.runId)).toMatchObject({ status: 'failed' });
    const alerts = stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0];
    if (!alert) throw new Error('no alert');
    expect(textOf(alert)).toContain('Scheduled On-demand backup of every configured table failed');
    expect(textOf(alert)).toContain('CreateBackup on');
    expect(buttons(alert).map((b) => b.text)).toEqual(['Retry now']);

    // act: a viewer, then an operator, press Retry now
    await click(stack, 'carol', alert, 'Retry now');
    const namesBefore = stack.engine.names().length;
    await click(stack, 'alice', alert, 'Retry now');

    // assess
    expect(ephemeralsFor(stack.standIn, 'carol', SANDBOX_CRITICAL_CHANNEL).map(textOf).join('\n')).toMatch(/operator/);
    expect(stack.engine.names().length).toBe(namesBefore + 1);
    const started = ephemeralsFor(stack.standIn, 'alice', SANDBOX_CRITICAL_CHANNEL).map(textOf).join('\n');
    const retryId = /r-[0-9a-f]{12}/.exec(started)?.[0] ?? '';
    expect(runSummary(stack, retryId)).toMatchObject({ status: 'succeeded' });
    const retried = runMessage(stack.standIn, retryId, SANDBOX_CRITICAL_CHANNEL);
    expect(retried?.threadTs).toBe(alert.ts);
    const backups = (await ddb.send(new ListBackupsCommand({ TableName: 'spawn-instances' }))).BackupSummaries ?? [];
    expect(backups).toHaveLength(1);
  });
});
