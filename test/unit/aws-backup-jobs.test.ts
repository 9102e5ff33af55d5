import { BackupClient, BackupServiceException, DescribeBackupJobCommand, ResourceNotFoundException, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { describeBackupJob, startBackupJob } from '../../src/aws/backup';
import { DrbotError } from '../../src/errors';

/*
 * The AWS Backup job calls behind "Retry backup" (aws-sdk-client-mock: moto has no backup jobs):
 * the exact inputs sent, AWS's answers read, and its refusals turned into our named errors.
 */

describe('AWS Backup jobs', () => {
  const backup = mockClient(BackupClient);
  const client = new BackupClient({ region: 'us-east-1' });
  afterEach(() => backup.reset());
  afterAll(() => backup.restore());

  it('describes a job: vault, resource, role, state and reason', async () => {
    // prepare
    backup.on(DescribeBackupJobCommand, { BackupJobId: 'j-1' }).resolves({
      BackupJobId: 'j-1',
      BackupVaultName: 'spawn-vault',
      ResourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances',
      IamRoleArn: 'arn:aws:iam::123456789012:role/drbot-aws-backup',
      State: 'FAILED',
      StatusMessage: 'Access denied',
      ResourceType: 'DynamoDB',
    });

    // act
    const job = await describeBackupJob(client, 'j-1');

    // assess
    expect(job).toEqual({ id: 'j-1', state: 'FAILED', vaultName: 'spawn-vault', resourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances', iamRoleArn: 'arn:aws:iam::123456789012:role/drbot-aws-backup', resourceType: 'DynamoDB', statusMessage: 'Access denied' });
  });

  it('names an unknown job as not found, and throttling as throttled', async () => {
    // prepare
    backup.on(DescribeBackupJobCommand, { BackupJobId: 'gone' }).rejects(new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Cannot find backup job gone' }));
    backup.on(DescribeBackupJobCommand, { BackupJobId: 'busy' }).rejects(new BackupServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));

    // act
    const gone = await describeBackupJob(client, 'gone').catch((e: unknown) => e);
    const busy = await describeBackupJob(client, 'busy').catch((e: unknown) => e);

    // assess
    expect(gone).toBeInstanceOf(DrbotError);
    expect(gone).toMatchObject({ code: 'aws_not_found', message: 'DescribeBackupJob on `gone` failed: Cannot find backup job gone' });
    expect(busy).toMatchObject({ code: 'aws_throttled' });
  });

  it('starts a job with exactly the vault, resource, role and idempotency token given, and returns its ID', async () => {
    // prepare
    backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'j-2', CreationDate: new Date('2026-10-02T06:00:00Z'), IsParent: false });

    // act
    const r = await startBackupJob(client, { vaultName: 'spawn-vault', resourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances', iamRoleArn: 'arn:aws:iam::123456789012:role/drbot-aws-backup', idempotencyToken: 'drbot-r-0123456789ab' });

    // assess
    expect(r).toEqual({ jobId: 'j-2', creationDate: '2026-10-02T06:00:00.000Z' });
    expect(backup.commandCalls(StartBackupJobCommand)[0]?.args[0].input).toEqual({
      BackupVaultName: 'spawn-vault',
      ResourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances',
      IamRoleArn: 'arn:aws:iam::123456789012:role/drbot-aws-backup',
      IdempotencyToken: 'drbot-r-0123456789ab',
    });
  });

  it('refuses an answer without a job ID rather than reporting a job that does not exist', async () => {
    // prepare
    backup.on(StartBackupJobCommand).resolves({});

    // act / assess
    await expect(startBackupJob(client, { vaultName: 'v', resourceArn: 'arn', iamRoleArn: 'role', idempotencyToken: 't' })).rejects.toThrow('StartBackupJob on `arn` failed: StartBackupJob returned no job ID');
  });
});
