import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  type ReplicaDescription,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import type { MiddlewareStack } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { findPlan, findVault } from '../../src/aws/backup';
import { parseConfig } from '../../src/config/load';
import { selectionsInMemory } from '../../src/local/moto-gaps';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { click, command, requestRun, restoreBeforeEach, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { motoKeepsDeleteMarkerReplication } from '../helpers/moto-replication';

/*
 * /dr setup on the local stack. S3 against moto (which keeps replication configurations, though it
 * copies nothing): the plan, never clobbering other people's lifecycle rules, the replica bucket
 * and role, the backup bucket, a failure mid-run, and a second run that finds nothing to do.
 * DynamoDB global-table replicas do not exist in moto, so the table path runs against
 * aws-sdk-client-mock answering with AWS's DescribeTable / UpdateTable shapes.
 */

const PRIMARY = 'spawn-binaries-us-east-1';
const REPLICA = 'spawn-binaries-us-west-2-backup';
const RESULTS = 'spawn-results-us-east-1';
const LOGS = 'spawn-logs-us-east-1';
const BACKUPS = 'spawn-backups';

const TEAM_RULE: LifecycleRule = { ID: 'team-tmp-cleanup', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } };
/** The runbook's own rule, as its script writes it: already what the runbook asks for. */
const RUNBOOK_RULE: LifecycleRule = { ID: 'DeleteOldVersions', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 90 } };

/** Makes every call of one SDK command fail the way AWS refuses it (moto enforces no IAM policy). */
function refuse<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }, commandName: string, name: string, message: string): () => void {
  const id = `refuse-${commandName}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) throw Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 403 } });
      return next(args);
    },
    { step: 'initialize', name: id },
  );
  return () => {
    client.middlewareStack.remove(id);
  };
}

async function approved(stack: LocalStack, text: string): Promise<{ runId: string; text: string }> {
  const { runId, message } = await requestRun(stack, 'alice', text);
  await click(stack, 'bob', message, 'run_approve');
  return { runId, text: textOf(runMessage(stack.standIn, runId)) };
}

describe('/dr setup s3', () => {
  const getStack = useLocalStack({ seed: false });
  let stack: LocalStack;
  const s3 = () => stack.clients.s3('us-east-1');
  const lifecycle = async (bucket: string) => (await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  const versioning = async (bucket: string, region = 'us-east-1') => (await stack.clients.s3(region).send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status;

  beforeAll(async () => {
    stack = getStack();
    motoKeepsDeleteMarkerReplication(s3());
    for (const Bucket of [PRIMARY, RESULTS, LOGS]) await s3().send(new CreateBucketCommand({ Bucket }));
    await s3().send(new PutBucketVersioningCommand({ Bucket: PRIMARY, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3().send(new PutBucketVersioningCommand({ Bucket: RESULTS, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: PRIMARY, LifecycleConfiguration: { Rules: [RUNBOOK_RULE] } }));
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: RESULTS, LifecycleConfiguration: { Rules: [TEAM_RULE] } }));
  });
  // Each test starts from these buckets as their owners left them, before any setup run.
  restoreBeforeEach(getStack);

  it('plans per resource what is right and what it would change, says whose rules it keeps, and a dry run changes nothing', async () => {
    // act
    const reply = await command(stack, 'alice', 'setup s3 --dry-run');

    // assess
    const runId = runIdOf(reply);
    const text = textOf(runMessage(stack.standIn, runId));
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    expect(text).toContain(`\`${PRIMARY}\` already right: versioning on; noncurrent versions expire after 90 days (rule \`DeleteOldVersions\`).`);
    expect(text).toContain(`creates replica bucket \`${REPLICA}\` in us-west-2`);
    expect(text).toContain('with Replication Time Control (15 min), metrics and delete-marker replication');
    expect(text).toContain("sets lifecycle rule `drbot-noncurrent-expiry` (noncurrent versions expire after 90 days) and `drbot-archive` (`results/` to Glacier at 30 days, Deep Archive at 90); keeps 1 rule written by others (`team-tmp-cleanup`), which the runbook's lifecycle script would have replaced");
    expect(text).toContain(`\`${LOGS}\`\n   → turns versioning on (now never enabled)`);
    expect(text).toContain(`\`${BACKUPS}\` (backup bucket)\n   → creates the bucket in us-east-1`);
    // nothing changed
    expect(await versioning(LOGS)).toBeUndefined();
    expect(await lifecycle(RESULTS)).toEqual([expect.objectContaining({ ID: 'team-tmp-cleanup' })]);
    await expect(s3().send(new HeadBucketCommand({ Bucket: BACKUPS }))).rejects.toThrow();
  });

  it('when PutBucketReplication is denied mid-run: the run fails saying so, what came before it is applied and merged, replication is untouched; approved again, it applies the rest, merged by rule ID, and verifies by reading every setting back', async () => {
    // One scenario: the second run finishes what the first could not.
    // prepare
    const undo = refuse(s3(), 'PutBucketReplicationCommand', 'AccessDenied', 'Access Denied');

    // act
    let result;
    try {
      result = await approved(stack, 'setup s3');
    } finally {
      undo();
    }

    // assess: the message
    expect(runSummary(stack, result.runId)).toMatchObject({ status: 'failed' });
    expect(result.text).toContain(`PutBucketReplication on \`${PRIMARY}\` failed: Access Denied — Grant the bot's role permission for \`PutBucketReplication\``);
    expect(result.text).toContain(`Read back, still not right: \`${PRIMARY}\`: no replication to \`${REPLICA}\` with RTC`);
    expect(result.text).toContain('Applied 7 of 8 changes.');
    // AWS: the replication was not written; the lifecycle before it was merged, the other rules kept
    await expect(s3().send(new GetBucketReplicationCommand({ Bucket: PRIMARY }))).rejects.toMatchObject({ name: 'ReplicationConfigurationNotFoundError' });
    const rules = await lifecycle(RESULTS);
    expect(rules.map((r) => r.ID).sort()).toEqual(['drbot-archive', 'drbot-noncurrent-expiry', 'team-tmp-cleanup']);
    expect(rules.find((r) => r.ID === 'team-tmp-cleanup')).toMatchObject({ Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } });
    expect(await versioning(LOGS)).toBe('Enabled');

    // act: again, with PutBucketReplication allowed
    const again = await approved(stack, 'setup s3');

    // assess: the message
    expect(again.text).toContain('Verified by reading every setting back: all as planned.');
    expect(runSummary(stack, again.runId)).toMatchObject({ status: 'succeeded' });
    // the source keeps the runbook's rule and gets no second noncurrent rule
    expect((await lifecycle(PRIMARY)).map((r) => r.ID)).toEqual(['DeleteOldVersions']);
    // replica and replication
    expect(await versioning(REPLICA, 'us-west-2')).toBe('Enabled');
    const repl = (await s3().send(new GetBucketReplicationCommand({ Bucket: PRIMARY }))).ReplicationConfiguration;
    expect(repl?.Role).toMatch(/:role\/drbot-s3-replication-[0-9a-f]{8}$/);
    expect(repl?.Rules).toEqual([
      expect.objectContaining({
        ID: 'drbot-replica',
        Status: 'Enabled',
        DeleteMarkerReplication: { Status: 'Enabled' },
        Destination: expect.objectContaining({
          Bucket: `arn:aws:s3:::${REPLICA}`,
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
        }) as unknown,
      }),
    ]);
    const roleName = repl?.Role?.split('/').pop() ?? '';
    const policy = await stack.clients.iam('us-east-1').send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'drbot-replication' }));
    const resources = (JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '')) as { Statement: { Resource: string }[] }).Statement.map((s) => s.Resource);
    expect(resources).toEqual([`arn:aws:s3:::${PRIMARY}`, `arn:aws:s3:::${PRIMARY}/*`, `arn:aws:s3:::${REPLICA}/*`]);
    // the backup bucket
    expect(await versioning(BACKUPS)).toBe('Enabled');
    expect((await s3().send(new GetPublicAccessBlockCommand({ Bucket: BACKUPS }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const enc = await s3().send(new GetBucketEncryptionCommand({ Bucket: BACKUPS }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
  });

  it('finds nothing to do on a second run, and needs no approval for that', async () => {
    // prepare: a first run, approved and done
    expect(runSummary(stack, (await approved(stack, 'setup s3')).runId)).toMatchObject({ status: 'succeeded' });

    // act
    const reply = await command(stack, 'alice', 'setup s3');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'nothing_to_do' });
    expect(textOf(runMessage(stack.standIn, runId))).toContain('Nothing to change: 4 resources already right.');
  });

  it('leaves replication alone, saying why, when other rules run under another role', async () => {
    // prepare: someone else's rule under their own role, to another destination
    const { PutBucketReplicationCommand } = await import('@aws-sdk/client-s3');
    await s3().send(
      new PutBucketReplicationCommand({
        Bucket: PRIMARY,
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::123456789012:role/team-replication',
          Rules: [{ ID: 'team-audit-copy', Status: 'Enabled', Priority: 1, Filter: { Prefix: 'audit/' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::team-audit' } }],
        },
      }),
    );

    // act
    const reply = await command(stack, 'alice', 'setup s3 --dry-run');

    // assess
    const text = textOf(runMessage(stack.standIn, runIdOf(reply)));
    expect(text).toContain('replication not changed: its replication runs 1 other rule (`team-audit-copy`) under role `arn:aws:iam::123456789012:role/team-replication`');
    expect(text).not.toContain('replication rule `drbot-replica`');
  });
});

describe('/dr setup dynamodb (global-table replicas: aws-sdk-client-mock with AWS shapes, as moto has none; AWS Backup plans and vaults on moto)', () => {
  // The tables live in us-east-2 so their client is not the state table's.
  const config = parseConfig({ ...SANDBOX_CONFIG, dynamodb: { tables: [{ name: 'spawn-instances', region: 'us-east-2' }, { name: 'spawn-queues', region: 'us-east-2' }] } });
  const getStack = useLocalStack({ seed: false, config });

  it('turns PITR on, adds the backup-region replica where missing, sets up AWS Backup (daily, 35 days, copied to us-west-2), then reads it all back', async () => {
    // prepare: spawn-instances has both; spawn-queues neither (AWS's answers)
    const stack = getStack();
    const ddb = mockClient(stack.clients.dynamodb('us-east-2'));
    const state = { pitr: false, replicas: [] as ReplicaDescription[] };
    const table = (name: string, replicas: ReplicaDescription[]): DescribeTableCommandOutput => ({
      $metadata: {},
      Table: { TableName: name, TableStatus: 'ACTIVE', TableArn: `arn:aws:dynamodb:us-east-2:123456789012:table/${name}`, GlobalTableVersion: '2019.11.21', Replicas: replicas },
    });
    ddb.on(DescribeTableCommand, { TableName: 'spawn-instances' }).resolves(table('spawn-instances', [{ RegionName: 'us-west-2', ReplicaStatus: 'ACTIVE' }]));
    ddb.on(DescribeTableCommand, { TableName: 'spawn-queues' }).callsFake(async () => table('spawn-queues', state.replicas));
    ddb.on(DescribeContinuousBackupsCommand, { TableName: 'spawn-instances' }).resolves({ ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } });
    ddb.on(DescribeContinuousBackupsCommand, { TableName: 'spawn-queues' }).callsFake(async () => ({
      ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: state.pitr ? 'ENABLED' : 'DISABLED' } },
    }));
    ddb.on(UpdateContinuousBackupsCommand).callsFake(async () => {
      state.pitr = true;
      return { ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } };
    });
    ddb.on(UpdateTableCommand).callsFake(async () => {
      state.replicas = [{ RegionName: 'us-west-2', ReplicaStatus: 'CREATING' }];
      return table('spawn-queues', state.replicas);
    });

    const selections = selectionsInMemory(stack.clients.backup('us-east-2'));

    try {
      // act
      const result = await approved(stack, 'setup dynamodb');

      // assess
      if (runSummary(stack, result.runId)?.status !== 'succeeded') throw new Error(result.text);
      expect(result.text).toContain('`spawn-instances` ✅ already right: PITR on; replica in us-west-2 (ACTIVE).');
      expect(result.text).toContain('turns point-in-time recovery on');
      expect(result.text).toContain('adds a global-table replica in us-west-2');
      expect(result.text).toContain(
        'creates vault `drbot-spawn` in us-east-2; creates vault `drbot-spawn` in us-west-2; creates plan `drbot-spawn-dynamodb`: rule `drbot-daily` daily at 05:00 UTC, backups kept 35 days, each copied to `drbot-spawn` in us-west-2 (kept 35 days); selects 2 tables',
      );
      expect(result.text).toContain('Verified by reading every setting back: all as planned.');
      // AWS Backup, read back from moto: the plan's rule, its copy to the backup region's vault, the selection
      const plan = await findPlan(stack.clients.backup('us-east-2'), 'drbot-spawn-dynamodb');
      const westVault = await findVault(stack.clients.backup('us-west-2'), 'drbot-spawn');
      expect(westVault).toMatch(/^arn:aws:backup:us-west-2:\d{12}:backup-vault:drbot-spawn$/);
      expect(plan?.rules).toEqual([
        expect.objectContaining({
          RuleName: 'drbot-daily',
          TargetBackupVaultName: 'drbot-spawn',
          ScheduleExpression: 'cron(0 5 * * ? *)',
          Lifecycle: expect.objectContaining({ DeleteAfterDays: 35 }) as unknown,
          CopyActions: [expect.objectContaining({ DestinationBackupVaultArn: westVault, Lifecycle: expect.objectContaining({ DeleteAfterDays: 35 }) as unknown })],
        }),
      ]);
      expect(selections.get(plan?.id ?? '')).toEqual([
        expect.objectContaining({ name: 'drbot-tables', role: expect.stringMatching(/:role\/drbot-aws-backup$/) as unknown, resources: ['arn:aws:dynamodb:us-east-2:123456789012:table/spawn-instances', 'arn:aws:dynamodb:us-east-2:123456789012:table/spawn-queues'] }),
      ]);
      expect(ddb).toHaveReceivedCommandWith(UpdateContinuousBackupsCommand, { TableName: 'spawn-queues', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
      expect(ddb).toHaveReceivedCommandWith(UpdateTableCommand, { TableName: 'spawn-queues', ReplicaUpdates: [{ Create: { RegionName: 'us-west-2' } }] });
      expect(ddb).toHaveReceivedCommandTimes(UpdateTableCommand, 1);
      expect(ddb).not.toHaveReceivedCommandWith(UpdateContinuousBackupsCommand, { TableName: 'spawn-instances' });
      expect(stack.standIn.channelMessages(SANDBOX_CHANNEL).length).toBeGreaterThan(0);
    } finally {
      ddb.restore();
    }
  });
});
