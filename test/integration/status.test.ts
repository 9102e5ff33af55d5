import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  ListBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  type ReplicationRule,
} from '@aws-sdk/client-s3';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsClients } from '../../src/aws/clients';
import { listObjectsIndex } from '../../src/aws/s3';
import type { DrConfig } from '../../src/config/schema';
import { SANDBOX_CREDENTIALS } from '../../src/local/moto';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { withZone } from '../../src/local/estate';
import { seedSandbox, type SeedSummary } from '../../src/local/seed';
import { computeStatus, type StatusItem, type StatusReport } from '../../src/runbooks/status/posture';
import { useMoto } from '../helpers/moto';

const moto = useMoto();
let seeded: SeedSummary;

beforeAll(async () => {
  seeded = await seedSandbox(moto().clients);
});

function item(report: StatusReport, name: string): StatusItem {
  const found = report.items.find((i) => i.name === name);
  if (!found) throw new Error(`no status item for ${name}`);
  return found;
}

describe('seedSandbox', () => {
  it('leaves 250 of 300 binaries delete-marked in the primary and all 300 in the replica, 5 of them different', async () => {
    // prepare
    const clients = moto().clients;
    const binaries = seeded.buckets.find((b) => b.name === 'spawn-binaries-us-east-1');

    // act
    const [primary, replica] = await Promise.all([
      listObjectsIndex(clients.s3('us-east-1'), 'spawn-binaries-us-east-1'),
      listObjectsIndex(clients.s3('us-west-2'), 'spawn-binaries-us-west-2-backup'),
    ]);
    const versions = await clients.s3().send(new ListObjectVersionsCommand({ Bucket: 'spawn-binaries-us-east-1', MaxKeys: 1000 }));

    // assess
    expect(binaries?.keys).toHaveLength(300);
    expect(binaries?.deletedKeys).toHaveLength(250);
    expect(primary.size).toBe(50);
    expect(replica.size).toBe(300);
    expect([...replica.keys()].some((k) => k.startsWith('bin/'))).toBe(true);
    expect([...replica.keys()].some((k) => k.startsWith('lib/'))).toBe(true);
    expect(versions.DeleteMarkers?.filter((m) => m.IsLatest)).toHaveLength(250);
    const different = [...primary.entries()].filter(([k, v]) => replica.get(k)?.etag !== v.etag).map(([k]) => k);
    expect(different.sort()).toEqual([...(binaries?.differentKeys ?? [])].sort());
    expect(different).toHaveLength(5);
  });
});

describe('computeStatus on the seeded sandbox', () => {
  it('colours the three buckets green, amber and red for the right reasons', async () => {
    // act
    const report = await computeStatus(SANDBOX_CONFIG, moto().clients, new Date());

    // assess
    const binaries = item(report, 'spawn-binaries-us-east-1');
    expect(binaries).toMatchObject({ kind: 's3', colour: 'green', reasons: [] });
    expect(binaries.facts).toEqual(
      expect.arrayContaining(['versioning on', 'noncurrent expiry 90 d', 'RTC 15 min', 'replicates to spawn-binaries-us-west-2-backup']),
    );

    const results = item(report, 'spawn-results-us-east-1');
    expect(results.colour).toBe('amber');
    expect(results.reasons).toEqual(['no noncurrent-version expiry (runbook: 90 d)', 'no Glacier transition for `results/`']);
    expect(results.facts).toContain('versioning on');

    const logs = item(report, 'spawn-logs-us-east-1');
    expect(logs.colour).toBe('red');
    expect(logs.reasons[0]).toMatch(/^versioning off/);
  });

  it('colours tables: PITR off is red, a missing backup or replica is amber', async () => {
    // prepare
    const now = new Date();

    // act
    const report = await computeStatus(SANDBOX_CONFIG, moto().clients, now);

    // assess
    const instances = item(report, 'spawn-instances');
    // moto has no global-table replicas, so the freshly backed-up table is amber only for that.
    expect(instances).toMatchObject({ kind: 'dynamodb', colour: 'amber', reasons: ['no replica in us-west-2'] });
    expect(instances.facts).toEqual([expect.stringMatching(/^PITR since \d{4}-\d\d-\d\d \d\d:\d\dZ$/), expect.stringMatching(/^newest backup \d+ min ago$/)]);

    const queues = item(report, 'spawn-queues');
    expect(queues.colour).toBe('amber');
    expect(queues.reasons).toEqual(['no on-demand backup', 'no replica in us-west-2']);

    const alerts = item(report, 'spawn-alerts');
    expect(alerts.colour).toBe('red');
    expect(alerts.reasons).toContain('PITR off: RPO 5 min unmet');
  });

  it('checks the AMI, IAM, Route53 and Lambda rows with real colours: nothing backed up yet, and is red overall', async () => {
    // prepare
    const cfg = withZone(SANDBOX_CONFIG, seeded.estate.zoneId);

    // act
    const report = await computeStatus(cfg, moto().clients, new Date());

    // assess
    expect(report.overall).toBe('red');
    expect(report.items.filter((i) => i.colour === 'grey')).toEqual([]);
    const amis = report.items.filter((i) => i.kind === 'ami');
    expect(amis.map((i) => i.name).sort()).toEqual([`spawn-controller (${seeded.estate.amis.tagged[1]})`, `spawn-worker (${seeded.estate.amis.tagged[0]})`]);
    expect(amis.every((i) => i.colour === 'red' && i.reasons[0] === 'no copy in us-west-2')).toBe(true);
    expect(item(report, 'IAM roles spawn*')).toMatchObject({ colour: 'red', reasons: ['no export in `s3://spawn-backups/iam/`'] });
    expect(item(report, `hosted zone ${seeded.estate.zoneId}`)).toMatchObject({ colour: 'red', reasons: [`no export in \`s3://spawn-backups/route53/${seeded.estate.zoneId}/\``] });
    expect(item(report, 'spawn-dns-updater')).toMatchObject({ colour: 'amber', reasons: ['never exported (`/dr backup lambda`)'], facts: ['production → v3', 'rollback to v2'] });
    // The failover readiness row (the sandbox config has a `failover:` section): no AMI copy in us-west-2 yet.
    const failover = report.items.find((i) => i.kind === 'failover');
    expect(failover).toMatchObject({ name: 'Failover readiness us-west-2', colour: 'red' });
    expect(failover?.reasons.join(' ')).toContain('S3 spawn-logs-us-east-1: no replica');
    expect(failover?.facts).toContain('0 AMIs to launch');
    expect(report.items).toHaveLength(3 + 3 + 2 + 1 + 1 + 1 + 1);
  });

  it('turns an on-demand backup older than the schedule amber', async () => {
    // prepare
    const thirtyHoursLater = new Date(Date.now() + 30 * 3600 * 1000);

    // act
    const report = await computeStatus(SANDBOX_CONFIG, moto().clients, thirtyHoursLater);

    // assess
    const instances = item(report, 'spawn-instances');
    expect(instances.colour).toBe('amber');
    expect(instances.reasons).toContain('newest backup 30 h ago, older than 24 h');
  });

  it('marks resources that do not exist red', async () => {
    // prepare
    const cfg: DrConfig = {
      ...SANDBOX_CONFIG,
      s3: { buckets: [{ name: 'spawn-ghost-bucket' }] },
      dynamodb: { tables: [{ name: 'spawn-ghost-table' }] },
    };

    // act
    const report = await computeStatus(cfg, moto().clients, new Date());

    // assess
    expect(item(report, 'spawn-ghost-bucket')).toMatchObject({ colour: 'red', reasons: ['bucket does not exist in us-east-1'] });
    expect(item(report, 'spawn-ghost-table')).toMatchObject({ colour: 'red', reasons: ['table does not exist in us-east-1'] });
  });
});

describe('computeStatus bucket rules (moto)', () => {
  async function versionedBucket(name: string, expiryDays?: number): Promise<void> {
    const s3 = moto().clients.s3();
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    if (expiryDays !== undefined) {
      await s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: name,
          LifecycleConfiguration: {
            Rules: [{ ID: 'expire', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: expiryDays } }],
          },
        }),
      );
    }
  }

  async function replicate(name: string, rule: Partial<ReplicationRule>): Promise<void> {
    await moto().clients.s3().send(
      new PutBucketReplicationCommand({
        Bucket: name,
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::123456789012:role/s3-replication-role',
          Rules: [
            {
              ID: 'r',
              Priority: 1,
              Status: 'Enabled',
              Filter: { Prefix: '' },
              Destination: { Bucket: 'arn:aws:s3:::rules-replica' },
              ...rule,
            },
          ],
        },
      }),
    );
  }

  it('is red for a disabled replication rule, amber without RTC, amber for the wrong expiry, green with a Glacier archive', async () => {
    // prepare
    await versionedBucket('rules-replica');
    await versionedBucket('rules-disabled', 90);
    await replicate('rules-disabled', { Status: 'Disabled' });
    await versionedBucket('rules-no-rtc', 90);
    await replicate('rules-no-rtc', {});
    await versionedBucket('rules-expiry-30', 30);
    await versionedBucket('rules-archived');
    await moto().clients.s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'rules-archived',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'expire', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
            { ID: 'archive', Status: 'Enabled', Filter: { Prefix: 'results/' }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] },
          ],
        },
      }),
    );
    const replica = { bucket: 'rules-replica', region: 'us-east-1' };
    const cfg: DrConfig = {
      ...SANDBOX_CONFIG,
      s3: {
        buckets: [
          { name: 'rules-disabled', replica },
          { name: 'rules-no-rtc', replica },
          { name: 'rules-expiry-30' },
          { name: 'rules-archived', archivePrefix: 'results/' },
        ],
      },
      dynamodb: { tables: [] },
    };

    // act
    const report = await computeStatus(cfg, moto().clients, new Date());

    // assess
    expect(item(report, 'rules-disabled')).toMatchObject({
      colour: 'red',
      reasons: ['no enabled replication rule to replica `rules-replica` (us-east-1)'],
    });
    expect(item(report, 'rules-no-rtc')).toMatchObject({
      colour: 'amber',
      reasons: ['replication without RTC: no 15-minute replication guarantee'],
    });
    expect(item(report, 'rules-expiry-30')).toMatchObject({ colour: 'amber', reasons: ['noncurrent expiry 30 d, runbook says 90 d'] });
    expect(item(report, 'rules-archived')).toEqual({
      kind: 's3',
      name: 'rules-archived',
      colour: 'green',
      reasons: [],
      facts: ['versioning on', 'noncurrent expiry 90 d', 'GLACIER after 30 d'],
    });
  });
});

describe('computeStatus when AWS calls fail', () => {
  it('does not throw: every resource is red with the error text', async () => {
    // prepare: nothing listens on port 1
    const unreachable = new AwsClients('us-east-1', { endpoint: 'http://127.0.0.1:1', credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 });

    // act
    const report = await computeStatus(SANDBOX_CONFIG, unreachable, new Date());

    // assess
    const checked = report.items.filter((i) => i.kind === 's3' || i.kind === 'dynamodb');
    expect(checked).toHaveLength(6);
    for (const i of checked) {
      expect(i.colour).toBe('red');
      expect(i.reasons.join(' ')).toContain(`\`${i.name}\` failed`);
    }
    expect(report.overall).toBe('red');
  });
});

describe('computeStatus with a global-table replica (mocked; moto has none)', () => {
  // These clients have no endpoint: the other rows' services answer empty, so nothing reaches AWS.
  let restore: (() => void)[] = [];
  beforeAll(() => {
    const ec2 = mockClient(EC2Client);
    const s3 = mockClient(S3Client);
    const r53 = mockClient(Route53Client);
    const lambda = mockClient(LambdaClient);
    ec2.onAnyCommand().resolves({});
    s3.onAnyCommand().resolves({});
    r53.onAnyCommand().resolves({});
    lambda.onAnyCommand().resolves({});
    restore = [() => ec2.restore(), () => s3.restore(), () => r53.restore(), () => lambda.restore()];
  });
  afterAll(() => {
    for (const r of restore) r();
  });

  it('colours a table with PITR, a fresh backup and an ACTIVE replica in the backup region green', async () => {
    // prepare
    const clients = new AwsClients('us-east-1', { credentials: SANDBOX_CREDENTIALS });
    const ddbMock = mockClient(clients.dynamodb('us-east-1'));
    const now = new Date('2026-11-24T12:00:00Z');
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableName: 'spawn-instances', Replicas: [{ RegionName: 'us-west-2', ReplicaStatus: 'ACTIVE' }] } });
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', EarliestRestorableDateTime: new Date('2026-11-20T10:00:00Z') },
      },
    });
    ddbMock.on(ListBackupsCommand).resolves({
      BackupSummaries: [
        {
          TableName: 'spawn-instances',
          BackupArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/1',
          BackupName: 'spawn-instances-backup-20261124-090000',
          BackupCreationDateTime: new Date('2026-11-24T09:00:00Z'),
          BackupStatus: 'AVAILABLE',
          BackupType: 'USER',
        },
      ],
    });
    const cfg: DrConfig = { ...SANDBOX_CONFIG, s3: { buckets: [] }, dynamodb: { tables: [{ name: 'spawn-instances' }] } };

    // act
    const report = await computeStatus(cfg, clients, now);

    // assess
    expect(item(report, 'spawn-instances')).toEqual({
      kind: 'dynamodb',
      name: 'spawn-instances',
      colour: 'green',
      reasons: [],
      facts: ['PITR since 2026-11-20 10:00Z', 'newest backup 3 h ago', 'replica in us-west-2'],
    });
    expect(report.items.filter((i) => i.kind === 'dynamodb').map((i) => i.colour)).toEqual(['green']);
    ddbMock.restore();
  });

  it('reads at most 8 resources at once', async () => {
    // prepare
    const clients = new AwsClients('us-east-1', { credentials: SANDBOX_CREDENTIALS });
    const ddbMock = mockClient(clients.dynamodb('us-east-1'));
    let inFlight = 0;
    let peak = 0;
    ddbMock.on(DescribeTableCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return { Table: {} };
    });
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({});
    ddbMock.on(ListBackupsCommand).resolves({});
    const tables = Array.from({ length: 30 }, (_, i) => ({ name: `spawn-table-${i}` }));
    // (no `failover:` section: its readiness row reads the tables again, in the backup region)
    const { failover: _none, ...rest } = SANDBOX_CONFIG;
    const cfg: DrConfig = { ...rest, s3: { buckets: [] }, dynamodb: { tables } };

    // act
    const report = await computeStatus(cfg, clients, new Date());

    // assess
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeTableCommand, 30);
    expect(peak).toBe(8);
    expect(report.items.filter((i) => i.kind === 'dynamodb')).toHaveLength(30);
    ddbMock.restore();
  });
});
