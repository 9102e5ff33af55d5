import { BackupServiceException, DescribeBackupJobCommand, type DescribeBackupJobCommandOutput, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSnsEvent } from '../../src/alarms/parse';
import { renderNotice } from '../../src/alarms/views';
import { SANDBOX_ALERTS_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { StoredMessage } from '../../src/local/slack-standin';
import type { LocalStack } from '../../src/local/stack';
import { buttons, click, ephemeralsFor, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * "Retry backup" on an AWS Backup job failure message, through the real Slack app (signed clicks):
 * an operator's click starts a run in the message's thread that reads the job (DescribeBackupJob)
 * and starts it again (StartBackupJob) with the job's own vault, resource and IAM role. moto has
 * AWS Backup plans and vaults but no jobs, so the job calls are answered by aws-sdk-client-mock with
 * AWS's shapes, and the test asserts exactly what was sent.
 */

const JOB = '34176239-e96d-4e1d-9fad-529dbb3c3556';
const NEW_JOB = '8a3a2e1c-5f44-4b8e-9d0e-2b7f1c6e4a90';
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances';
const ROLE = 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole';

/** DescribeBackupJob's answer for the fixture's job, as AWS Backup gives it. */
function describedJob(over: Partial<DescribeBackupJobCommandOutput> = {}): DescribeBackupJobCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    AccountId: '123456789012',
    BackupJobId: JOB,
    BackupVaultName: 'spawn-vault',
    BackupVaultArn: 'arn:aws:backup:us-east-1:123456789012:backup-vault:spawn-vault',
    ResourceArn: TABLE_ARN,
    ResourceName: 'spawn-instances',
    ResourceType: 'DynamoDB',
    CreationDate: new Date('2026-10-02T05:00:07.392Z'),
    StartBy: new Date('2026-10-02T13:00:07.392Z'),
    State: 'FAILED',
    StatusMessage: 'Backup job failed because the IAM role does not have permission to perform dynamodb:CreateBackup on the table.',
    PercentDone: '0.0',
    BackupSizeInBytes: 0,
    BytesTransferred: 0,
    IamRoleArn: ROLE,
    CreatedBy: { BackupPlanId: 'b6f9d1a2-0c7e-4d3b-8a5f-1e2d3c4b5a69', BackupPlanArn: 'arn:aws:backup:us-east-1:123456789012:backup-plan:b6f9d1a2-0c7e-4d3b-8a5f-1e2d3c4b5a69', BackupPlanVersion: 'ZmI3NjY0', BackupRuleId: 'c2a8e6f0-1d3b-4f5a-9e7c-0b1a2d3c4e5f' },
    IsParent: false,
    ...over,
  };
}

describe('Retry backup on an AWS Backup job failure (aws-sdk-client-mock: moto has no backup jobs)', () => {
  const getStack = useLocalStack({ seed: false });
  let stack: LocalStack;
  let backup: ReturnType<typeof mockClient>;
  let message: StoredMessage;

  /** The run replying in the job message's thread (the newest reply). */
  const threadReply = () => stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).filter((m) => m.threadTs === message.ts).at(-1);
  /** A click on Retry backup carrying another value than the one drbot posted (what a forger sends). */
  const clickWithValue = async (value: string) => {
    const ref = buttons(message).find((b) => b.action_id === 'backup_job_retry');
    if (!ref) throw new Error('no Retry backup button');
    const reply = await stack.client.click({ user: SANDBOX_USERS.alice, channel: message.channel, messageTs: message.ts, messageText: message.text, blocks: message.blocks, button: { ...ref, value } });
    await stack.engine.idle();
    return reply;
  };

  beforeAll(async () => {
    stack = getStack();
    backup = mockClient(stack.clients.backup('us-east-1'));
    // The job event as the alarm function posts it.
    const event = JSON.parse(readFileSync(join(__dirname, '../fixtures/events/sns-backup-job-event.json'), 'utf8')) as unknown;
    const notice = parseSnsEvent(event).records[0];
    if (notice?.type !== 'notice') throw new Error('the fixture is not a notice');
    const posted = await stack.poster.post(SANDBOX_ALERTS_CHANNEL, renderNotice(notice));
    const found = stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).find((m) => m.ts === posted.ts);
    if (!found) throw new Error('not posted');
    message = found;
  });
  beforeEach(() => {
    backup.reset();
  });
  afterAll(() => {
    backup.restore();
  });

  it('a viewer is refused and nothing is asked of AWS; an operator starts the same job again, once, and the new job ID answers in the thread', async () => {
    // prepare
    backup.on(DescribeBackupJobCommand, { BackupJobId: JOB }).resolves(describedJob());
    backup.on(StartBackupJobCommand).resolves({ $metadata: { httpStatusCode: 200 }, BackupJobId: NEW_JOB, CreationDate: new Date('2026-10-02T06:00:00.000Z'), IsParent: false });
    const runsBefore = stack.engine.names().length;
    const saidBefore = ephemeralsFor(stack.standIn, 'alice', SANDBOX_ALERTS_CHANNEL).length;

    // act: a viewer, then an operator, then Slack redelivering the operator's click (same trigger id)
    await click(stack, 'carol', message, 'Retry backup');
    const viewerCalls = backup.calls().length;
    const ref = buttons(message).find((b) => b.action_id === 'backup_job_retry');
    if (!ref) throw new Error('no Retry backup button');
    const operatorClick = { user: SANDBOX_USERS.alice, channel: message.channel, messageTs: message.ts, messageText: message.text, blocks: message.blocks, button: ref, triggerId: '1700000000.retry-click' };
    await stack.client.click(operatorClick);
    await stack.engine.idle();
    await stack.client.click(operatorClick);
    await stack.engine.idle();

    // assess: the viewer
    expect(ephemeralsFor(stack.standIn, 'carol', SANDBOX_ALERTS_CHANNEL).map(textOf).join('\n')).toMatch(/operator/);
    expect(viewerCalls).toBe(0);
    // one run for the operator's click, however often Slack sent it
    expect(stack.engine.names().length).toBe(runsBefore + 1);
    const started = ephemeralsFor(stack.standIn, 'alice', SANDBOX_ALERTS_CHANNEL).slice(saidBefore).map(textOf).join('\n');
    const runId = /r-[0-9a-f]{12}/.exec(started)?.[0] ?? '';
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    // exactly what AWS Backup was asked
    expect(backup).toHaveReceivedCommandTimes(DescribeBackupJobCommand, 1);
    expect(backup).toHaveReceivedCommandWith(DescribeBackupJobCommand, { BackupJobId: JOB });
    expect(backup).toHaveReceivedCommandTimes(StartBackupJobCommand, 1);
    expect(backup.commandCalls(StartBackupJobCommand)[0]?.args[0].input).toEqual({ BackupVaultName: 'spawn-vault', ResourceArn: TABLE_ARN, IamRoleArn: ROLE, IdempotencyToken: `drbot-${runId}` });
    // the answer, in the job message's thread
    const reply = textOf(threadReply());
    expect(reply).toContain(runId);
    expect(reply).toContain(`Started AWS Backup job \`${NEW_JOB}\` for table \`spawn-instances\` into vault \`spawn-vault\``);
  });

  it('a forged value naming a table outside the config is refused at the click: no run, nothing asked of AWS', async () => {
    // prepare
    const runsBefore = stack.engine.names().length;

    // act
    await clickWithValue(JSON.stringify({ table: 'payments-ledger', job: JOB }));
    await clickWithValue('spawn-instances');

    // assess
    const said = ephemeralsFor(stack.standIn, 'alice', SANDBOX_ALERTS_CHANNEL).map(textOf).slice(-2);
    expect(said[0]).toContain('Unknown table `payments-ledger`');
    expect(said[1]).toContain('That button is not one of ours.');
    expect(stack.engine.names().length).toBe(runsBefore);
    expect(backup.calls()).toHaveLength(0);
    const audit = (await stack.store.listAudit(20)).filter((e) => e.target === 'backup_job_retry').slice(0, 2);
    expect(audit).toMatchObject([{ result: 'refused' }, { result: 'refused' }]);
  });

  it('a forged job ID whose job backed up something outside the config is refused by the run, which says so in the thread and starts nothing', async () => {
    // prepare: the job AWS Backup knows by that ID backed up another account's table
    backup.on(DescribeBackupJobCommand, { BackupJobId: 'forged-job' }).resolves(describedJob({ BackupJobId: 'forged-job', ResourceArn: 'arn:aws:dynamodb:us-east-1:999999999999:table/payments-ledger', ResourceName: 'payments-ledger' }));

    // act
    await clickWithValue(JSON.stringify({ table: 'spawn-instances', job: 'forged-job' }));

    // assess
    const reply = textOf(threadReply());
    expect(reply).toContain('backed up `arn:aws:dynamodb:us-east-1:999999999999:table/payments-ledger`, not the configured table `spawn-instances` in us-east-1; nothing was started.');
    expect(backup).toHaveReceivedCommandTimes(StartBackupJobCommand, 0);
  });

  it('a job that did not fail is not retried, and the thread says why', async () => {
    // prepare
    backup.on(DescribeBackupJobCommand).resolves(describedJob({ State: 'COMPLETED', StatusMessage: undefined }));

    // act
    await clickWithValue(JSON.stringify({ table: 'spawn-instances', job: JOB }));

    // assess
    expect(textOf(threadReply())).toContain(`AWS Backup job \`${JOB}\` is COMPLETED: there is nothing to retry.`);
    expect(backup).toHaveReceivedCommandTimes(StartBackupJobCommand, 0);
  });

  it('when AWS Backup refuses StartBackupJob (AccessDeniedException), the thread names the call and the fix, and the run fails', async () => {
    // prepare
    backup.on(DescribeBackupJobCommand).resolves(describedJob());
    backup.on(StartBackupJobCommand).rejects(
      new BackupServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: `User: arn:aws:sts::123456789012:assumed-role/drbot-runbook/x is not authorized to perform: iam:PassRole on resource: ${ROLE}` }),
    );

    // act
    await clickWithValue(JSON.stringify({ table: 'spawn-instances', job: JOB }));

    // assess
    const reply = textOf(threadReply());
    expect(reply).toContain(`StartBackupJob on \`${TABLE_ARN}\` failed: User: arn:aws:sts::123456789012:assumed-role/drbot-runbook/x is not authorized to perform: iam:PassRole`);
    expect(reply).toContain("Grant the bot's role permission for `StartBackupJob`");
    const runId = /r-[0-9a-f]{12}/.exec(reply)?.[0] ?? '';
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(backup).toHaveReceivedCommandTimes(StartBackupJobCommand, 1);
  });
});
