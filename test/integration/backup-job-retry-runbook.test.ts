/**
 * The backup-job-retry runbook (src/runbooks/backup-job-retry/runbook.ts, `/dr backup retry TABLE
 * JOB`, the "Retry backup" button of a job failure message) on its own: the plan reads the job from
 * AWS Backup in the configured table's region and goes on only for a job that backed up exactly that
 * table (its name and region, from the job's resource ARN) and ended without a usable recovery point;
 * the run starts one on-demand job into the same vault with the same role, its token the run's id.
 * The flow through Slack (the button, who may click, a forged value) is backup-job-retry.test.ts;
 * these need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * moto (5.2.1) has AWS Backup plans and vaults but no jobs: DescribeBackupJob and StartBackupJob
 * answer HTTP 404 (no route). So the AWS Backup client the runbook is given (the rig's, per region)
 * is answered by aws-sdk-client-mock with AWS Backup's shapes, and the tests assert exactly what was
 * sent, and to which region.
 */
import { BackupServiceException, DescribeBackupJobCommand, type DescribeBackupJobCommandOutput, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import type { BackupJobRetryInput } from '../../src/runbooks/backup-job-retry';
import { type RetryPlan, runbook } from '../../src/runbooks/backup-job-retry/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();

const JOB = '34176239-e96d-4e1d-9fad-529dbb3c3556';
const NEW_JOB = '8a3a2e1c-5f44-4b8e-9d0e-2b7f1c6e4a90';
const ACCOUNT = '123456789012';
const TABLE = 'spawn-instances';
/** A table name using every character a table name may have (letters of both cases, digits, _ . -). */
const ODD = 'Spawn_Jobs.v2-eu';
const GOV = 'us-gov-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole`;
const tableArn = (table: string, region = 'us-east-1', partition = 'aws') => `arn:${partition}:dynamodb:${region}:${ACCOUNT}:table/${table}`;
const LONG_REASON = `Backup job failed because ${'the table was being updated, '.repeat(12)}end`;

const mocked: { restore(): void }[] = [];
/** The AWS Backup client the runbook gets for `region`, answered by aws-sdk-client-mock (moto has no backup jobs). */
function backupIn(region = 'us-east-1') {
  const m = mockClient(rig.moto().clients.backup(region));
  mocked.push(m);
  return m;
}
afterEach(() => {
  for (const m of mocked.splice(0)) m.restore();
});

/** DescribeBackupJob's answer as AWS Backup gives it for a failed DynamoDB job (or as told). */
function job(over: Partial<DescribeBackupJobCommandOutput> = {}): DescribeBackupJobCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    AccountId: ACCOUNT,
    BackupJobId: JOB,
    BackupVaultName: 'spawn-vault',
    BackupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:spawn-vault`,
    ResourceArn: tableArn(TABLE),
    ResourceName: TABLE,
    ResourceType: 'DynamoDB',
    CreationDate: new Date('2026-10-02T05:00:07.392Z'),
    State: 'FAILED',
    StatusMessage: 'Backup job failed because the IAM role does not have permission to perform dynamodb:CreateBackup on the table.',
    IamRoleArn: ROLE,
    IsParent: false,
    ...over,
  };
}

let n = 0;
function input(over: Partial<BackupJobRetryInput> = {}): BackupJobRetryInput & AnyRunInput {
  return {
    kind: 'backup-job-retry',
    runId: `r-00000000${String(++n).padStart(4, '0')}`,
    requester: 'UALICE',
    channel: 'C1',
    commandText: `/dr backup retry ${TABLE} ${JOB}`,
    requestedAt: new Date().toISOString(),
    table: TABLE,
    job: JOB,
    dryRun: false,
    ...over,
  };
}

beforeAll(() => {
  rig.configure({ dynamodb: { tables: [{ name: TABLE }, { name: 'spawn-queues', region: 'us-west-2' }, { name: ODD, region: GOV }] } });
});

const plan = (i: BackupJobRetryInput) => runbook.plan(rig.deps(), i);

describe('the plan', () => {
  it('reads the job in the table’s region and plans a new job into its vault with its role, quoting AWS Backup’s reason', async () => {
    // prepare
    const east = backupIn();
    east.on(DescribeBackupJobCommand).resolves(job());
    const i = input();

    // act
    const p = await plan(i);

    // assess
    expect(p.data).toStrictEqual({ region: 'us-east-1', vaultName: 'spawn-vault', resourceArn: tableArn(TABLE), iamRoleArn: ROLE });
    expect(p.lines).toEqual([
      `AWS Backup job \`${JOB}\` for table \`${TABLE}\` (us-east-1) ended *FAILED*: \`Backup job failed because the IAM role does not have permission to perform dynamodb:CreateBackup on the table.\`.`,
      `Starts a new on-demand backup job into vault \`spawn-vault\` with role \`${ROLE}\`; nothing is changed or deleted.`,
    ]);
    expect(p.empty).toBeUndefined();
    expect(east.commandCalls(DescribeBackupJobCommand).map((c) => c.args[0].input)).toEqual([{ BackupJobId: JOB }]);
    expect(east.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(runbook.title(i)).toBe(`Retry of AWS Backup job for ${TABLE}`);
    expect(runbook.destructive).toBe(false);
  });

  it('a dry run says it would start; a job without a reason says none; a long reason is cut at 300 characters', async () => {
    // prepare
    const east = backupIn();
    east.on(DescribeBackupJobCommand).resolvesOnce(job({ State: 'ABORTED', StatusMessage: undefined })).resolvesOnce(job({ StatusMessage: LONG_REASON }));

    // act
    const dry = await plan(input({ dryRun: true }));
    const long = await plan(input());

    // assess
    expect(dry.lines).toEqual([`AWS Backup job \`${JOB}\` for table \`${TABLE}\` (us-east-1) ended *ABORTED*.`, `Would start a new on-demand backup job into vault \`spawn-vault\` with role \`${ROLE}\`; nothing is changed or deleted.`]);
    expect(long.lines[0]).toBe(`AWS Backup job \`${JOB}\` for table \`${TABLE}\` (us-east-1) ended *FAILED*: \`${LONG_REASON.slice(0, 300)}…\`.`);
  });

  it('a table in another region (or partition) is read there, whatever characters its name has', async () => {
    // prepare
    const east = backupIn();
    const west = backupIn('us-west-2');
    const gov = backupIn(GOV);
    west.on(DescribeBackupJobCommand).resolves(job({ ResourceArn: tableArn('spawn-queues', 'us-west-2'), BackupVaultName: 'west-vault' }));
    gov.on(DescribeBackupJobCommand).resolves(job({ ResourceArn: tableArn(ODD, GOV, 'aws-us-gov'), BackupVaultName: 'gov-vault', IamRoleArn: 'arn:aws-us-gov:iam::123456789012:role/backup' }));

    // act
    const w = await plan(input({ table: 'spawn-queues' }));
    const g = await plan(input({ table: ODD }));

    // assess
    expect(w.data).toStrictEqual({ region: 'us-west-2', vaultName: 'west-vault', resourceArn: tableArn('spawn-queues', 'us-west-2'), iamRoleArn: ROLE });
    expect(g.data).toStrictEqual({ region: GOV, vaultName: 'gov-vault', resourceArn: tableArn(ODD, GOV, 'aws-us-gov'), iamRoleArn: 'arn:aws-us-gov:iam::123456789012:role/backup' });
    expect(g.lines[0]).toContain(`for table \`${ODD}\` (${GOV}) ended *FAILED*`);
    expect(east.calls()).toHaveLength(0);
  });

  it('every state that left no usable recovery point can be retried', async () => {
    for (const State of ['FAILED', 'ABORTED', 'EXPIRED', 'PARTIAL'] as const) {
      // prepare
      const east = backupIn();
      east.on(DescribeBackupJobCommand).resolves(job({ State }));

      // act
      const p = await plan(input());

      // assess
      expect(p.lines[0]).toContain(`ended *${State}*:`);
      east.restore();
    }
  });

  it('refuses a job that did not fail, naming its state; nothing is started', async () => {
    for (const State of ['COMPLETED', 'RUNNING', 'CREATED', 'PENDING', undefined] as const) {
      // prepare
      const east = backupIn();
      east.on(DescribeBackupJobCommand).resolves(job({ State }));

      // act / assess
      await expect(plan(input())).rejects.toMatchObject({
        code: 'job_not_failed',
        message: `AWS Backup job \`${JOB}\` is ${State ?? 'UNKNOWN'}: there is nothing to retry.`,
        hint: 'A job can be retried once it has FAILED, ABORTED, EXPIRED or ended PARTIAL.',
      });
      expect(east.commandCalls(StartBackupJobCommand)).toHaveLength(0);
      east.restore();
    }
  });

  it('refuses a job of anything but exactly the configured table in its region: another table, region or service, an ARN inside another, none', async () => {
    const refused: [string | undefined, string][] = [
      [tableArn('payments-ledger'), tableArn('payments-ledger')],
      [tableArn(`${TABLE}-restored-20261201-101500`), tableArn(`${TABLE}-restored-20261201-101500`)],
      [tableArn(TABLE, 'us-west-2'), tableArn(TABLE, 'us-west-2')],
      [`${tableArn(TABLE)}/index/by-owner`, `${tableArn(TABLE)}/index/by-owner`],
      [`arn:aws:s3:::spawn-binaries/${tableArn(TABLE)}`, `arn:aws:s3:::spawn-binaries/${tableArn(TABLE)}`],
      [`arn:aws:dynamodb:us-east-1:12345:table/${TABLE}`, `arn:aws:dynamodb:us-east-1:12345:table/${TABLE}`],
      ['', 'nothing drbot knows'],
      [undefined, 'nothing drbot knows'],
    ];
    for (const [ResourceArn, shown] of refused) {
      // prepare
      const east = backupIn();
      east.on(DescribeBackupJobCommand).resolves(job({ ResourceArn }));

      // act / assess
      await expect(plan(input())).rejects.toMatchObject({
        code: 'job_not_for_table',
        message: `AWS Backup job \`${JOB}\` backed up \`${shown}\`, not the configured table \`${TABLE}\` in us-east-1; nothing was started.`,
        hint: 'Retry only jobs of the tables in the drbot config, from their own failure message.',
      });
      expect(east.commandCalls(StartBackupJobCommand)).toHaveLength(0);
      east.restore();
    }
    // a job of a table that is not done yet is refused for the table first
    const east = backupIn();
    east.on(DescribeBackupJobCommand).resolves(job({ ResourceArn: tableArn('payments-ledger'), State: 'COMPLETED' }));
    await expect(plan(input())).rejects.toMatchObject({ code: 'job_not_for_table' });
  });

  it('refuses a table the config does not list without asking AWS', async () => {
    // prepare
    const east = backupIn();

    // act / assess
    await expect(plan(input({ table: 'payments-ledger' }))).rejects.toMatchObject({ code: 'unknown_table', message: expect.stringContaining('Unknown table `payments-ledger`.') });
    expect(east.calls()).toHaveLength(0);
  });

  it('DescribeBackupJob refused, throttled or not finding the job: the plan stops naming the call, the job and the fix', async () => {
    const cases = [
      { name: 'ResourceNotFoundException', status: 400, code: 'aws_not_found', hint: 'Check that the resource exists in the configured region.' },
      { name: 'AccessDeniedException', status: 403, code: 'aws_access_denied', hint: "Grant the bot's role permission for `DescribeBackupJob` on this resource (see template.yaml)." },
      { name: 'ThrottlingException', status: 400, code: 'aws_throttled', hint: 'AWS is throttling; wait a minute and run it again.' },
    ];
    for (const c of cases) {
      // prepare
      const east = backupIn();
      east.on(DescribeBackupJobCommand).rejects(new BackupServiceException({ name: c.name, $fault: 'client', $metadata: { httpStatusCode: c.status }, message: `${c.name} for ${JOB}` }));

      // act / assess
      await expect(plan(input())).rejects.toMatchObject({ code: c.code, message: `DescribeBackupJob on \`${JOB}\` failed: ${c.name} for ${JOB}`, hint: c.hint });
      east.restore();
    }
  });
});

describe('the execution', () => {
  /** A plan made from the job as AWS Backup describes it. */
  async function planned(region = 'us-east-1', over: Partial<DescribeBackupJobCommandOutput> = {}, table = TABLE): Promise<RetryPlan> {
    const m = backupIn(region);
    m.on(DescribeBackupJobCommand).resolves(job(over));
    const p = (await plan(input({ table }))).data;
    m.restore();
    return p;
  }

  it('starts one job into the job’s vault with its role, in the table’s region, the run id its token; says which and links to it', async () => {
    // prepare
    const p = await planned('us-west-2', { ResourceArn: tableArn('spawn-queues', 'us-west-2'), BackupVaultName: 'west-vault' }, 'spawn-queues');
    const east = backupIn();
    const west = backupIn('us-west-2');
    west.on(StartBackupJobCommand).resolves({ $metadata: { httpStatusCode: 200 }, BackupJobId: NEW_JOB, CreationDate: new Date('2026-12-04T06:00:00.000Z'), IsParent: false });
    const i = input({ table: 'spawn-queues' });

    // act
    const r = await rig.executeWatched(runbook, i, p);

    // assess: exactly what AWS Backup was asked, and where
    expect(west.commandCalls(StartBackupJobCommand).map((c) => c.args[0].input)).toEqual([
      { BackupVaultName: 'west-vault', ResourceArn: tableArn('spawn-queues', 'us-west-2'), IamRoleArn: ROLE, IdempotencyToken: `drbot-${i.runId}` },
    ]);
    expect(west.commandCalls(DescribeBackupJobCommand)).toHaveLength(0);
    expect(east.calls()).toHaveLength(0);
    // the outcome
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      lines: [
        `:arrows_counterclockwise: Started AWS Backup job \`${NEW_JOB}\` for table \`spawn-queues\` into vault \`west-vault\` (<https://us-west-2.console.aws.amazon.com/backup/home?region=us-west-2#/jobs/backup/details/${NEW_JOB}|view job>).`,
      ],
    });
    expect(r.next).toBeUndefined();
    expect(r.checkpoints).toEqual(['start-job']);
    expect(r.reports).toEqual([]);
  });

  it('a job ID with characters a URL cannot hold is encoded in the link', async () => {
    // prepare
    const p = await planned();
    const east = backupIn();
    east.on(StartBackupJobCommand).resolves({ $metadata: { httpStatusCode: 200 }, BackupJobId: 'job/1?x=2#y' });

    // act
    const r = await rig.execute(runbook, input(), p);

    // assess
    expect(r.lines[0]).toContain('(<https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/job%2F1%3Fx%3D2%23y|view job>)');
  });

  it('StartBackupJob throttled: tried again within the step with the same token; one job is started', async () => {
    // prepare
    const p = await planned();
    const east = backupIn();
    const throttled = new BackupServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
    east.on(StartBackupJobCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({ $metadata: { httpStatusCode: 200 }, BackupJobId: NEW_JOB });
    const i = input();

    // act
    const r = await rig.executeWatched(runbook, i, p);

    // assess
    const tokens = east.commandCalls(StartBackupJobCommand).map((c) => c.args[0].input.IdempotencyToken);
    expect(tokens).toEqual([`drbot-${i.runId}`, `drbot-${i.runId}`, `drbot-${i.runId}`]);
    expect(r.ok).toBe(true);
    expect(r.checkpoints).toEqual(['start-job']);
    expect(r.lines[0]).toContain(`Started AWS Backup job \`${NEW_JOB}\``);
  });

  it('StartBackupJob denied (iam:PassRole): the run fails naming the call, the table and the permission; it is not retried', async () => {
    // prepare
    const p = await planned();
    const east = backupIn();
    east.on(StartBackupJobCommand).rejects(
      new BackupServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: `not authorized to perform: iam:PassRole on resource: ${ROLE}` }),
    );
    const i = input();

    // act
    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as BackupJobRetryInput, p, { report: async () => {} }), i);

    // assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe(`StartBackupJob on \`${tableArn(TABLE)}\` failed: not authorized to perform: iam:PassRole on resource: ${ROLE}`);
    expect(east.commandCalls(StartBackupJobCommand)).toHaveLength(1);
  });

  it('StartBackupJob answering without a job ID: no job is reported started; the run fails', async () => {
    // prepare (AWS Backup always gives one; the runbook must not report an empty job)
    const p = await planned();
    const east = backupIn();
    east.on(StartBackupJobCommand).resolves({ $metadata: { httpStatusCode: 200 } });
    const i = input();

    // act
    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as BackupJobRetryInput, p, { report: async () => {} }), i);

    // assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toContain('StartBackupJob returned no job ID');
  });
});
