import {
  type AttributeValue,
  BatchGetItemCommand,
  ContinuousBackupsUnavailableException,
  DescribeBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetResourcePolicyCommand,
  ListBackupsCommand,
  ListTagsOfResourceCommand,
  PolicyNotFoundException,
  PutResourcePolicyCommand,
  ResourceNotFoundException,
  RestoreTableFromBackupCommand,
  RestoreTableToPointInTimeCommand,
  ScanCommand,
  type TableDescription,
  TagResourceCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { buttons, click, command, requestRun, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr restore dynamodb where moto differs from AWS, with aws-sdk-client-mock answering as AWS does
 * (its real shapes and exception classes) and the exact inputs drbot sends asserted:
 * - moto freezes the PITR window at the moment PITR was turned on and ignores the restore time;
 * - moto keeps no system backup of a deleted table, and its DescribeBackup has no SourceTableFeatureDetails;
 * - moto's restored tables are ACTIVE at once (AWS: CREATING for minutes).
 * The table lives in us-east-2, so its client is not the state table's (moto, us-east-1).
 */

const TABLE = 'spawn-orders';
const REGION = 'us-east-2';
const ARN = `arn:aws:dynamodb:${REGION}:123456789012:table/${TABLE}`;
const config = parseConfig({ ...SANDBOX_CONFIG, dynamodb: { tables: [{ name: TABLE, region: REGION }] } }, 'restore dynamodb aws-shapes config');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const notFound = (table: string) => new ResourceNotFoundException({ message: `Requested resource not found: Table: ${table} not found`, $metadata: {} });
const item = (pk: string, v: string): Record<string, AttributeValue> => ({ pk: { S: pk }, v: { S: v } });

function liveTable(): TableDescription {
  return {
    TableName: TABLE,
    TableArn: ARN,
    TableStatus: 'ACTIVE',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingModeSummary: { BillingMode: 'PROVISIONED' },
    ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    DeletionProtectionEnabled: false,
    ItemCount: 3,
  };
}

describe('/dr restore dynamodb (aws-sdk-client-mock: moto ignores the PITR time and window, has no deleted-table restore, and restores at once)', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  let ddb: ReturnType<typeof mockClient>;
  const message = (runId: string) => stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
  beforeAll(() => {
    stack = getStack();
  });
  beforeEach(() => {
    ddb = mockClient(stack.clients.dynamodb(REGION));
  });
  afterEach(() => ddb.restore());

  /** The restored table: not found until a restore was asked for, then each status in turn (the last one stays). */
  function restoredTable(statuses = ['CREATING', 'CREATING', 'ACTIVE']) {
    let checks = 0;
    ddb.on(DescribeTableCommand).callsFake(async (input: { TableName?: string }) => {
      const name = input.TableName ?? '';
      const asked = ddb.commandCalls(RestoreTableToPointInTimeCommand).length + ddb.commandCalls(RestoreTableFromBackupCommand).length;
      if (name === TABLE || !asked) throw notFound(name);
      const status = statuses[Math.min(checks++, statuses.length - 1)] ?? 'ACTIVE';
      return { Table: { TableName: name, TableArn: `arn:aws:dynamodb:${REGION}:123456789012:table/${name}`, TableStatus: status, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] } };
    });
  }

  describe('a live table', () => {
    const window = () => ({ earliest: new Date(Date.now() - 72 * HOUR), latest: new Date(Date.now() - 5 * 60_000) });
    function live(): void {
      const w = window();
      ddb.on(DescribeContinuousBackupsCommand, { TableName: TABLE }).resolves({
        ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', EarliestRestorableDateTime: w.earliest, LatestRestorableDateTime: w.latest } },
      });
      ddb.on(DescribeTimeToLiveCommand, { TableName: TABLE }).resolves({ TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' } });
      ddb.on(ListTagsOfResourceCommand, { ResourceArn: ARN }).resolves({ Tags: [{ Key: 'team', Value: 'spawn' }], NextToken: 'page-2' });
      ddb.on(ListTagsOfResourceCommand, { ResourceArn: ARN, NextToken: 'page-2' }).resolves({ Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'spawn' }, { Key: 'owner', Value: 'sre' }] });
      ddb.on(GetResourcePolicyCommand).rejects(new PolicyNotFoundException({ message: `Resource-based policy not found for the provided ResourceArn: ${ARN}`, $metadata: {} }));
    }

    it('refuses a time before the earliest or after the latest restorable time, giving the window, and restores nothing', async () => {
      // prepare
      live();
      // (aws-sdk-client-mock: a later matcher wins, so the catch-all comes first)
      ddb.on(DescribeTableCommand).rejects(notFound('target'));
      ddb.on(DescribeTableCommand, { TableName: TABLE }).resolves({ Table: liveTable() });
      const w = window();

      // act
      const early = await command(stack, 'alice', `restore dynamodb ${TABLE} --to 4d`);
      const late = await command(stack, 'alice', `restore dynamodb ${TABLE} --to 1m`);

      // assess
      const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')}`;
      for (const reply of [early, late]) {
        const runId = runIdOf(reply);
        expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
        const text = textOf(message(runId));
        expect(text).toContain(`is outside the PITR window of \`${TABLE}\`: it can be restored to any time from ${utc(w.earliest)}`);
        expect(text).toContain(`to ${utc(w.latest)}`);
        expect(text).toContain('is the latest), or restore a backup with `--backup NAME`.');
      }
      expect(ddb).not.toHaveReceivedCommand(RestoreTableToPointInTimeCommand);
    });

    it('restores to the time asked, waits out CREATING, re-applies with AWS’s inputs (PITR refused three times while the table settles: retried across durable waits), and compares', async () => {
      // prepare
      live();
      restoredTable();
      ddb.on(DescribeTableCommand, { TableName: TABLE }).resolves({ Table: liveTable() });
      ddb.on(RestoreTableToPointInTimeCommand).callsFake(async (input: { TargetTableName?: string }) => ({
        TableDescription: { TableName: input.TargetTableName, TableArn: `arn:aws:dynamodb:${REGION}:123456789012:table/${input.TargetTableName}`, TableStatus: 'CREATING' },
      }));
      ddb.on(TagResourceCommand).resolves({});
      ddb
        .on(UpdateContinuousBackupsCommand)
        .rejectsOnce(new ContinuousBackupsUnavailableException({ message: 'Backups are being enabled for the table. Please retry later', $metadata: {} }))
        .rejectsOnce(new ContinuousBackupsUnavailableException({ message: 'Backups are being enabled for the table. Please retry later', $metadata: {} }))
        .rejectsOnce(new ContinuousBackupsUnavailableException({ message: 'Backups are being enabled for the table. Please retry later', $metadata: {} }))
        .resolves({ ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } });
      ddb.on(UpdateTimeToLiveCommand).resolves({ TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } });
      ddb.on(UpdateTableCommand).resolves({});
      // the comparison: 3 items restored, 3 live, one differing and one only live
      ddb.on(ScanCommand).callsFake(async (input: { TableName?: string; Segment?: number; ProjectionExpression?: string }) => {
        // the count: every page of keys only
        if (input.ProjectionExpression) return { Items: [{ pk: { S: 'x' } }, { pk: { S: 'y' } }, { pk: { S: 'z' } }], Count: 3, ScannedCount: 3 };
        if (input.Segment !== 0) return { Items: [], Count: 0 };
        return input.TableName === TABLE ? { Items: [item('a', '1'), item('b', 'changed'), item('d', 'new')] } : { Items: [item('a', '1'), item('b', '2'), item('c', '3')] };
      });
      ddb.on(BatchGetItemCommand).callsFake(async (input: { RequestItems?: Record<string, { Keys?: Record<string, AttributeValue>[] }> }) => {
        const [table, req] = Object.entries(input.RequestItems ?? {})[0] ?? ['', { Keys: [] }];
        const have = table === TABLE ? [item('a', '1'), item('b', 'changed'), item('d', 'new')] : [item('a', '1'), item('b', '2'), item('c', '3')];
        return { Responses: { [table]: have.filter((h) => req.Keys?.some((k) => k.pk?.S === h.pk?.S)) }, UnprocessedKeys: {} };
      });
      const to = iso(Date.now() - HOUR / 2);
      const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to ${to}`);

      // act
      await click(stack, 'bob', planned, 'run_approve');

      // assess: the restore as AWS received it
      const restore = ddb.commandCalls(RestoreTableToPointInTimeCommand);
      expect(restore).toHaveLength(1);
      const target = restore[0]?.args[0].input.TargetTableName ?? '';
      expect(target).toMatch(new RegExp(`^${TABLE}-restored-\\d{8}-\\d{6}$`));
      expect(restore[0]?.args[0].input).toEqual({ SourceTableName: TABLE, TargetTableName: target, RestoreDateTime: new Date(to) });
      const targetArn = `arn:aws:dynamodb:${REGION}:123456789012:table/${target}`;
      expect(ddb).toHaveReceivedCommandWith(TagResourceCommand, { ResourceArn: targetArn, Tags: [{ Key: 'drbot-run', Value: runId }, { Key: 'drbot-restored-from', Value: TABLE }] });
      expect(ddb).toHaveReceivedCommandWith(TagResourceCommand, { ResourceArn: targetArn, Tags: [{ Key: 'team', Value: 'spawn' }, { Key: 'owner', Value: 'sre' }] });
      expect(ddb).toHaveReceivedCommandTimes(UpdateContinuousBackupsCommand, 4);
      expect(ddb).toHaveReceivedCommandWith(UpdateContinuousBackupsCommand, { TableName: target, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
      expect(ddb).toHaveReceivedCommandWith(UpdateTimeToLiveCommand, { TableName: target, TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } });
      expect(ddb).toHaveReceivedCommandWith(UpdateTableCommand, { TableName: target, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } });
      expect(ddb).toHaveReceivedCommandTimes(UpdateTableCommand, 1);
      expect(ddb).not.toHaveReceivedCommand(PutResourcePolicyCommand);
      // counted: the restored table by a keys-only scan; the provisioned live table by its ItemCount, not scanned whole
      expect(ddb).toHaveReceivedCommandWith(ScanCommand, { TableName: target, ProjectionExpression: '#k0', ExpressionAttributeNames: { '#k0': 'pk' } });
      expect(ddb.commandCalls(ScanCommand).filter((c) => c.args[0].input.TableName === TABLE && c.args[0].input.ProjectionExpression)).toEqual([]);
      // the run and its message
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
      const text = textOf(stack.standIn.message(planned.channel, planned.ts));
      expect(text).toContain(`\`${target}\` is ACTIVE: \`${TABLE}\` as it was at ${to.replace('T', ' ')}`);
      expect(text).toContain('Re-applied from the live table: 2 tags; PITR; TTL on `ttl`; stream (NEW_IMAGE).');
      expect(text).toContain('Not re-applied: 1 `aws:` tag: only AWS sets those; auto scaling: drbot does not copy scaling targets and policies yet');
      expect(text).toContain(`has *3* items, \`${TABLE}\` *~3* (~ is DynamoDB’s own count`);
      expect(textOf(planned)).toContain(`(the live table’s count is DynamoDB’s own: scanning \`${TABLE}\` would spend its provisioned read capacity)`);
      expect(text).toContain('Of *4* sampled keys: 1 the same, *1* differ, *1* only in the restored table (deleted from the live one since), *1* only in the live table (written since).');
      expect(text).toContain('Differ, e.g.: `pk=b`');
      const progress = stack.standIn.calls.filter((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks ?? '').includes(`restoring into ${target}: CREATING`));
      expect(progress.length).toBeGreaterThan(0);
    });
  });

  describe('a deleted table (moto keeps no system backup)', () => {
    const deletedAt = () => new Date(Date.now() - HOUR);
    const SYSTEM_ARN = `${ARN}/backup/01796140000000-deadbeef`;
    function deleted(): void {
      ddb.on(ListBackupsCommand, { TableName: TABLE, BackupType: 'ALL' }).resolves({
        BackupSummaries: [
          { TableName: TABLE, TableArn: ARN, BackupArn: `${ARN}/backup/01796000000000-cafef00d`, BackupName: 'spawn-orders-backup-20261129-050000', BackupType: 'USER', BackupStatus: 'AVAILABLE', BackupCreationDateTime: new Date(Date.now() - 48 * HOUR), BackupSizeBytes: 2048 },
          { TableName: TABLE, TableArn: ARN, BackupArn: SYSTEM_ARN, BackupName: `${TABLE}$DeletedTableBackup`, BackupType: 'SYSTEM', BackupStatus: 'AVAILABLE', BackupCreationDateTime: deletedAt(), BackupSizeBytes: 4096 },
        ],
      });
      ddb.on(DescribeBackupCommand, { BackupArn: SYSTEM_ARN }).resolves({
        BackupDescription: {
          BackupDetails: { BackupArn: SYSTEM_ARN, BackupName: `${TABLE}$DeletedTableBackup`, BackupType: 'SYSTEM', BackupStatus: 'AVAILABLE', BackupCreationDateTime: deletedAt(), BackupSizeBytes: 4096 },
          SourceTableDetails: { TableName: TABLE, TableId: 'f00d', TableArn: ARN, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], TableCreationDateTime: new Date(Date.now() - 900 * HOUR), ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 }, BillingMode: 'PAY_PER_REQUEST' },
          SourceTableFeatureDetails: {
            TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'expires' },
            StreamDescription: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
          },
        },
      });
    }

    it('refuses a time before the deletion: AWS keeps only the state just before it', async () => {
      // prepare
      deleted();
      ddb.on(DescribeTableCommand).callsFake(async (input: { TableName?: string }) => {
        throw notFound(input.TableName ?? '');
      });

      // act
      const reply = await command(stack, 'alice', `restore dynamodb ${TABLE} --to 2h`);

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const text = textOf(message(runId));
      expect(text).toContain(`\`${TABLE}\` was deleted at ${deletedAt().toISOString().slice(0, 13).replace('T', ' ')}:`);
      expect(text).toContain(`AWS keeps only its state just before the deletion (system backup \`${TABLE}$DeletedTableBackup\`)`);
      expect(text).toContain(`Restore that state with \`--backup ${TABLE}$DeletedTableBackup\``);
      expect(ddb).not.toHaveReceivedCommand(RestoreTableFromBackupCommand);
    });

    it('restores a time after the deletion from the system backup, re-applying TTL, the stream and PITR from the backup’s description; no cut-over is offered', async () => {
      // prepare
      deleted();
      restoredTable(['ACTIVE']);
      ddb.on(RestoreTableFromBackupCommand).callsFake(async (input: { TargetTableName?: string }) => ({
        TableDescription: { TableName: input.TargetTableName, TableArn: `arn:aws:dynamodb:${REGION}:123456789012:table/${input.TargetTableName}`, TableStatus: 'CREATING' },
      }));
      ddb.on(TagResourceCommand).resolves({});
      ddb.on(UpdateContinuousBackupsCommand).resolves({});
      ddb.on(UpdateTimeToLiveCommand).resolves({});
      ddb.on(UpdateTableCommand).resolves({});
      const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to 30m`);

      // act
      await click(stack, 'bob', planned, 'run_approve');

      // assess
      expect(textOf(planned)).toContain(`\`${TABLE}\` was deleted: restores its state just before the deletion, from its system backup \`${TABLE}$DeletedTableBackup\` (SYSTEM`);
      const restore = ddb.commandCalls(RestoreTableFromBackupCommand);
      expect(restore).toHaveLength(1);
      const target = restore[0]?.args[0].input.TargetTableName ?? '';
      expect(restore[0]?.args[0].input).toEqual({ BackupArn: SYSTEM_ARN, TargetTableName: target });
      expect(ddb).toHaveReceivedCommandWith(UpdateContinuousBackupsCommand, { TableName: target, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
      expect(ddb).toHaveReceivedCommandWith(UpdateTimeToLiveCommand, { TableName: target, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires' } });
      expect(ddb).toHaveReceivedCommandWith(UpdateTableCommand, { TableName: target, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } });
      expect(ddb).not.toHaveReceivedCommand(ScanCommand);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
      const final = stack.standIn.message(planned.channel, planned.ts);
      expect(textOf(final)).toContain(`is ACTIVE: \`${TABLE}\` as it was just before it was deleted (system backup \`${TABLE}$DeletedTableBackup\`)`);
      expect(textOf(final)).toContain('Re-applied from the backup’s description: PITR; TTL on `expires`; stream (NEW_AND_OLD_IMAGES).');
      expect(buttons(final).map((b) => b.text)).toEqual(['Keep both', 'Delete restored table']);
    });
  });
});
