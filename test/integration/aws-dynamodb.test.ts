import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ListBackupsCommand,
  UpdateContinuousBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { backupName, createBackup, describeBackup, getTablePosture } from '../../src/aws/dynamodb';
import { useMoto } from '../helpers/moto';

const moto = useMoto();

function ddb(): DynamoDBClient {
  return moto().clients.dynamodb();
}

async function table(name: string, pitr: boolean): Promise<string> {
  await ddb().send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  if (pitr) {
    await ddb().send(
      new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    );
  }
  return name;
}

describe('backupName', () => {
  it('is <table>-backup-<UTC yyyymmdd-HHMMSS>', () => {
    // act
    const name = backupName('spawn-instances', new Date('2026-01-27T10:30:05.123Z'));

    // assess
    expect(name).toBe('spawn-instances-backup-20260127-103005');
  });

  it('stays within 255 characters of [a-zA-Z0-9_.-] for the longest table name', () => {
    // act
    const name = backupName('t'.repeat(255), new Date('2026-12-31T23:59:59Z'));

    // assess
    expect(name).toHaveLength(255);
    expect(name).toMatch(/^[a-zA-Z0-9_.-]+-backup-20261231-235959$/);
  });
});

describe('getTablePosture (moto)', () => {
  it('reads PITR window and the newest of several backups of this table only', async () => {
    // prepare
    const t = await table('posture-pitr', true);
    const other = await table('posture-other', false);
    const first = await createBackup(ddb(), t, 'posture-pitr-backup-1');
    await new Promise((r) => setTimeout(r, 20)); // moto stamps backups to the millisecond
    const second = await createBackup(ddb(), t, 'posture-pitr-backup-2');
    await createBackup(ddb(), other, 'posture-other-backup');

    // act
    const p = await getTablePosture(ddb(), t, 'us-west-2');

    // assess
    expect(first.arn).not.toBe(second.arn);
    expect(p).toMatchObject({ table: t, exists: true, pitr: true, replicaRegions: [] });
    expect(p.earliestRestorable).toBeInstanceOf(Date);
    expect(p.latestRestorable).toBeInstanceOf(Date);
    expect(p.newestBackup).toMatchObject({ arn: second.arn, name: 'posture-pitr-backup-2', status: 'AVAILABLE' });
    expect(p.newestBackup?.created).toBeInstanceOf(Date);
    expect(p.error).toBeUndefined();
  });

  it('reports PITR off and no backup for a bare table', async () => {
    // prepare
    const t = await table('posture-bare', false);

    // act
    const p = await getTablePosture(ddb(), t, 'us-west-2');

    // assess
    expect(p).toEqual({ table: t, exists: true, pitr: false, replicaRegions: [] });
  });

  it('reports exists false for a table that does not exist', async () => {
    // act
    const p = await getTablePosture(ddb(), 'posture-missing', 'us-west-2');

    // assess
    expect(p).toEqual({ table: 'posture-missing', exists: false, pitr: false, replicaRegions: [] });
  });
});

describe('createBackup / describeBackup (moto)', () => {
  it('creates an on-demand backup and describes it', async () => {
    // prepare
    const t = await table('backup-me', true);
    const name = backupName(t, new Date('2026-11-20T10:00:00Z'));

    // act
    const created = await createBackup(ddb(), t, name);
    const described = await describeBackup(ddb(), created.arn);

    // assess
    expect(created).toEqual({ arn: expect.stringContaining(`table/${t}/backup/`), name, status: expect.stringMatching(/CREATING|AVAILABLE/) });
    expect(described).toMatchObject({ arn: created.arn, name, status: 'AVAILABLE' });
    expect(described.created).toBeInstanceOf(Date);
  });

  it('throws aws_not_found naming the table when it does not exist', async () => {
    // act + assess
    await expect(createBackup(ddb(), 'backup-missing', 'backup-missing-backup-1')).rejects.toMatchObject({
      code: 'aws_not_found',
      resource: 'backup-missing',
    });
  });
});

// moto has no global-table replicas and does not paginate ListBackups: those paths use mocks.
describe('getTablePosture (mocked DynamoDB)', () => {
  // Mock this one instance only: the moto clients of this file stay real.
  const client = new DynamoDBClient({ region: 'us-east-1' });
  const ddbMock = mockClient(client);
  afterAll(() => ddbMock.restore());
  beforeEach(() => ddbMock.reset());

  it('lists replica regions, the backup-region replica status, and pages through ListBackups', async () => {
    // prepare
    ddbMock.on(DescribeTableCommand).resolves({
      Table: {
        TableName: 'spawn-instances',
        Replicas: [
          { RegionName: 'us-west-2', ReplicaStatus: 'CREATING' },
          { RegionName: 'eu-west-1', ReplicaStatus: 'ACTIVE' },
        ],
      },
    });
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: {
          PointInTimeRecoveryStatus: 'ENABLED',
          EarliestRestorableDateTime: new Date('2026-11-20T10:00:00Z'),
          LatestRestorableDateTime: new Date('2026-11-24T09:55:00Z'),
        },
      },
    });
    const summary = (n: number, created: string, status: 'AVAILABLE' | 'CREATING' = 'AVAILABLE', type: 'USER' | 'SYSTEM' = 'USER') => ({
      TableName: 'spawn-instances',
      BackupArn: `arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/${n}`,
      BackupName: `b${n}`,
      BackupCreationDateTime: new Date(created),
      BackupStatus: status,
      BackupType: type,
      BackupSizeBytes: 100 * n,
    });
    ddbMock
      .on(ListBackupsCommand)
      .resolvesOnce({ BackupSummaries: [summary(1, '2026-11-22T00:00:00Z'), summary(2, '2026-11-23T00:00:00Z')], LastEvaluatedBackupArn: 'page-1-end' })
      .resolvesOnce({
        BackupSummaries: [
          summary(3, '2026-11-24T08:00:00Z'),
          summary(4, '2026-11-24T09:00:00Z', 'CREATING'),
          summary(5, '2026-11-24T09:30:00Z', 'AVAILABLE', 'SYSTEM'),
        ],
      });

    // act
    const p = await getTablePosture(client, 'spawn-instances', 'us-west-2');

    // assess
    expect(ddbMock.commandCalls(ListBackupsCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: 'spawn-instances', BackupType: 'ALL' },
      { TableName: 'spawn-instances', BackupType: 'ALL', ExclusiveStartBackupArn: 'page-1-end' },
    ]);
    expect(p).toEqual({
      table: 'spawn-instances',
      exists: true,
      pitr: true,
      earliestRestorable: new Date('2026-11-20T10:00:00Z'),
      latestRestorable: new Date('2026-11-24T09:55:00Z'),
      // newest AVAILABLE user backup: not the CREATING one, not the SYSTEM one
      newestBackup: {
        arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/3',
        name: 'b3',
        created: new Date('2026-11-24T08:00:00Z'),
        sizeBytes: 300,
        status: 'AVAILABLE',
      },
      replicaRegions: ['us-west-2', 'eu-west-1'],
      backupReplicaStatus: 'CREATING',
    });
  });

  it('puts an AccessDenied into error, naming the table, instead of throwing', async () => {
    // prepare
    const denied = new DynamoDBServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'User is not authorized to perform: dynamodb:ListBackups',
    });
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableName: 'spawn-queues' } });
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } },
    });
    ddbMock.on(ListBackupsCommand).rejects(denied);

    // act
    const p = await getTablePosture(client, 'spawn-queues', 'us-west-2');

    // assess
    expect(p.exists).toBe(true);
    expect(p.pitr).toBe(true);
    expect(p.error).toContain('ListBackups on `spawn-queues` failed');
    expect(p.error).toContain('not authorized');
  });
});
