/**
 * The failover's readiness read from AWS (src/runbooks/failover/readiness.ts, `readiness()`), against
 * moto: what it reads of each bucket (the replica's newest object, the primary's replication rule
 * and newest object, CloudWatch's replication latency) and how each answer and refusal becomes
 * the row the approver sees. The rules themselves are test/unit/readiness.test.ts.
 *
 * Where moto cannot show a case, SDK middleware on the client under test does, and says so: object
 * dates (moto stamps the second of the put), GetMetricData (moto holds no S3 replication metric: a
 * stub answers, and the input sent is asserted), and refusals (moto enforces no IAM policy).
 */
import type { GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, type ListObjectsV2CommandOutput, PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, type ReplicationRule } from '@aws-sdk/client-s3';
import type { DescribeTableCommandOutput, ListBackupsCommandOutput } from '@aws-sdk/client-dynamodb';
import type { DrConfig } from '../../src/config/schema';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { readiness } from '../../src/runbooks/failover/readiness';
import { ACCESS_DENIED, countTries, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { useMoto } from '../helpers/moto';
import { replicationRule } from '../helpers/moto-replication';
import { createSourceTable } from '../helpers/tables';

const moto = useMoto();
afterEach(undoFaults);
let n = 0;
const NOW = new Date('2026-12-01T12:00:00Z');
const MIN = 60_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const s3 = (region = 'us-east-1') => moto().clients.s3(region);
const ROLE = 'arn:aws:iam::123456789012:role/replication';

async function bucket(name: string, region: string): Promise<void> {
  await s3(region).send(new CreateBucketCommand({ Bucket: name, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as 'us-west-2' } }) }));
  await s3(region).send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** A source in us-east-1 and its replica in us-west-2, each holding one object; the rules given put on the source (none: no replication). */
async function pair(rules: ReplicationRule[] = []): Promise<{ source: string; replica: string }> {
  const source = `rd-src-${++n}`;
  const replica = `rd-rep-${n}`;
  await bucket(source, 'us-east-1');
  await bucket(replica, 'us-west-2');
  await s3().send(new PutObjectCommand({ Bucket: source, Key: 'a', Body: 'a' }));
  await s3('us-west-2').send(new PutObjectCommand({ Bucket: replica, Key: 'a', Body: 'a' }));
  if (rules.length) await s3().send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: rules } }));
  return { source, replica };
}

/** Only these buckets; no table, image search that finds nothing, no DNS. */
function config(buckets: DrConfig['s3']['buckets']): DrConfig {
  return { ...SANDBOX_CONFIG, s3: { ...SANDBOX_CONFIG.s3, buckets }, dynamodb: { tables: [] }, ami: { tagKey: 'readiness-test', tagValue: `none-${n}` }, failover: undefined, route53: undefined };
}

/** A bucket's listing answered with these objects' dates (moto stamps the second of each put). */
function listedWith(region: string, bucketName: string, dates: (Date | undefined)[]): void {
  rewrite<ListObjectsV2CommandOutput>(s3(region), 'ListObjectsV2Command', (o, i) =>
    i.Bucket === bucketName ? { ...o, Contents: dates.map((d, k) => ({ Key: `k${k}`, ...(d ? { LastModified: d } : {}) })), KeyCount: dates.length } : o,
  );
}

const s3Item = async (cfg: DrConfig, light = false) => {
  // a full read is the default: no options given
  const r = await readiness(cfg, moto().clients, 'us-west-2', NOW, light ? { light } : {});
  return { r, item: r.items.find((i) => i.kind === 's3') };
};

describe("a replicated bucket's readiness", () => {
  it("the newest of the replica's and of the primary's objects, whatever the listing's order; an undated object is skipped", async () => {
    // prepare
    const { source, replica } = await pair();
    await s3().send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: [replicationRule(replica)] } }));
    listedWith('us-west-2', replica, [ago(30 * MIN), ago(10 * MIN), undefined, ago(20 * MIN)]);
    listedWith('us-east-1', source, [ago(3 * MIN), undefined, ago(40 * MIN), ago(2 * MIN), ago(5 * MIN)]);
    stub(moto().clients.cloudwatch('us-east-1'), 'GetMetricDataCommand', () => ({ MetricDataResults: [{ Id: 'latency', Values: [] }] }));

    // act
    const { item, r } = await s3Item(config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]));

    // assess: the replica's newest is 10 min old, the primary's 2 min: 8 minutes behind
    expect(item).toEqual({
      kind: 's3',
      name: source,
      colour: 'amber',
      reasons: ['replication lag 8:00 min exceeds the RPO objective of 5 min'],
      facts: [`replica \`${replica}\`, newest object 10 min ago`, 'RTC on', 'replica 8:00 min behind the newest primary object'],
      rpoMs: 8 * MIN,
    });
    expect(r.unreachable).toEqual([]);
    expect(r.rpoMs).toBe(8 * MIN);
  });

  it("an enabled rule is the one graded, wherever it stands; its destination read from the ARN; RTC from the rule; no rule that is enabled: red", async () => {
    // prepare
    const { source, replica } = await pair();
    const disabled = { ...replicationRule('elsewhere', { id: 'old', enabled: false }), Priority: 1 };
    const enabled = { ...replicationRule(replica, { id: 'live', rtc: false }), Priority: 2 };
    await s3().send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: [disabled, enabled] } }));
    const cfg = config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]);

    // act
    const first = await s3Item(cfg, true);
    await s3().send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: [disabled] } }));
    const none = await s3Item(cfg, true);

    // assess
    expect(first.item).toMatchObject({ colour: 'amber', reasons: ['replication without RTC: no 15-minute guarantee'] });
    expect(none.item).toMatchObject({ colour: 'red', reasons: ['no enabled replication rule'] });
  });

  it("a rule to another bucket: red, naming it without its ARN's prefix, in any partition's ARN", async () => {
    // prepare
    const { source, replica } = await pair([replicationRule('someone-elses-bucket')]);
    const cfg = config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]);

    // act
    const { item } = await s3Item(cfg, true);
    // GovCloud's and China's ARNs (moto answers in the aws partition only)
    const partitions: unknown[] = [];
    for (const arn of [`arn:aws-us-gov:s3:::${replica}`, `arn:aws-cn:s3:::${replica}`]) {
      const undo = rewrite<{ ReplicationConfiguration?: { Rules?: ReplicationRule[] } }>(s3(), 'GetBucketReplicationCommand', (o) => ({
        ...o,
        ReplicationConfiguration: { Role: ROLE, Rules: (o.ReplicationConfiguration?.Rules ?? []).map((r) => ({ ...r, Destination: { ...r.Destination, Bucket: arn } })) },
      }));
      partitions.push((await s3Item(cfg, true)).item?.colour);
      undo();
    }

    // assess
    expect(item).toMatchObject({ colour: 'red', reasons: ['replicates to `someone-elses-bucket`, not the configured replica'] });
    expect(partitions).toEqual(['green', 'green']);
  });

  it('no replication configuration: red, not "unreachable"; GetBucketReplication refused: the primary is unreachable, said with the reason', async () => {
    // prepare
    const { source, replica } = await pair();
    const cfg = config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]);

    // act
    const missing = await s3Item(cfg, true);
    fail(s3(), 'GetBucketReplicationCommand', ACCESS_DENIED);
    const denied = await s3Item(cfg, true);

    // assess
    expect(missing.item).toMatchObject({ colour: 'red', reasons: ['no enabled replication rule'] });
    expect(missing.r.unreachable).toEqual([]);
    expect(denied.item).toMatchObject({ colour: 'amber', reasons: ['primary unreachable: replication health unknown'] });
    expect(denied.r.unreachable).toEqual([expect.stringMatching(new RegExp(`^S3 \`${source}\`: .*User is not authorized to perform this action`))]);
  });

  it("the replica gone: red, it does not exist; refused: red with AWS's error", async () => {
    // prepare
    const { source } = await pair([replicationRule('rd-never')]);
    const cfg = config([{ name: source, replica: { bucket: 'rd-never', region: 'us-west-2' } }]);
    const { replica } = await pair();
    const cfg2 = config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]);

    // act
    const gone = await s3Item(cfg, true);
    fail(s3('us-west-2'), 'ListObjectsV2Command', ACCESS_DENIED);
    const denied = await s3Item(cfg2, true);

    // assess
    expect(gone.item?.reasons[0]).toBe('replica `rd-never` does not exist');
    expect(gone.item?.colour).toBe('red');
    expect(denied.item?.colour).toBe('red');
    expect(denied.item?.reasons[0]).toBe(`ListObjectsV2 on \`${replica}\` failed: User is not authorized to perform this action`);
  });

  it("light (the /dr status row): no listing of the primary, no metric; full: CloudWatch's maximum latency of the last hour for this rule, asked exactly", async () => {
    // prepare
    const { source, replica } = await pair();
    await s3().send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: [replicationRule(replica, { id: 'drbot-replica' })] } }));
    const cfg = config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]);
    const asked: GetMetricDataCommandInput[] = [];
    stub(moto().clients.cloudwatch('us-east-1'), 'GetMetricDataCommand', (i) => (asked.push(i as unknown as GetMetricDataCommandInput), { MetricDataResults: [{ Id: 'latency', Values: [12, 95, 40] }] }));
    const listings = countTries(s3(), 'ListObjectsV2Command');

    // act
    const light = await s3Item(cfg, true);
    const lightListings = listings.tries();
    const full = await s3Item(cfg);

    // assess
    expect(lightListings).toBe(0);
    expect(light.item?.facts).toEqual([expect.stringMatching(new RegExp(`^replica \`${replica}\`, newest object \\d+ (min|h|d) ago$`)), 'RTC on']);
    expect(light.item).not.toHaveProperty('rpoMs');
    expect(listings.tries()).toBe(1);
    expect(full.item).toMatchObject({ colour: 'green', rpoMs: 95_000 });
    expect(full.item?.facts).toContain('replication latency 1:35 min (max, last hour)');
    expect(asked).toHaveLength(1);
    const q = asked[0] as GetMetricDataCommandInput;
    expect(q.MetricDataQueries).toEqual([
      {
        Id: 'latency',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/S3',
            MetricName: 'ReplicationLatency',
            Dimensions: [
              { Name: 'SourceBucket', Value: source },
              { Name: 'DestinationBucket', Value: replica },
              { Name: 'RuleId', Value: 'drbot-replica' },
            ],
          },
          Period: 300,
          Stat: 'Maximum',
        },
      },
    ]);
    expect((q.EndTime as Date).getTime() - (q.StartTime as Date).getTime()).toBe(3_600_000);
    expect(Math.abs((q.EndTime as Date).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('a rule without an ID asks for the metric with an empty RuleId; no data points: no latency claimed; CloudWatch refused: the objects compared instead', async () => {
    // prepare
    const { source, replica } = await pair();
    const { ID: _id, ...noId } = replicationRule(replica);
    await s3().send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: ROLE, Rules: [noId] } }));
    rewrite<{ ReplicationConfiguration?: { Rules?: ReplicationRule[] } }>(s3(), 'GetBucketReplicationCommand', (o) => ({ ...o, ReplicationConfiguration: { Role: ROLE, Rules: (o.ReplicationConfiguration?.Rules ?? []).map(({ ID: _x, ...r }) => r) } }));
    const cfg = config([{ name: source, replica: { bucket: replica, region: 'us-west-2' } }]);
    const asked: GetMetricDataCommandInput[] = [];
    const undo = stub(moto().clients.cloudwatch('us-east-1'), 'GetMetricDataCommand', (i) => (asked.push(i as unknown as GetMetricDataCommandInput), { MetricDataResults: [{ Id: 'latency', Values: [] }] }));

    // act
    const empty = await s3Item(cfg);
    undo();
    fail(moto().clients.cloudwatch('us-east-1'), 'GetMetricDataCommand', ACCESS_DENIED);
    const refused = await s3Item(cfg);

    // assess
    expect(asked[0]?.MetricDataQueries?.[0]?.MetricStat?.Metric?.Dimensions?.[2]).toEqual({ Name: 'RuleId', Value: '' });
    for (const { item } of [empty, refused]) {
      expect(item?.facts.some((f) => f.startsWith('replication latency'))).toBe(false);
      expect(item?.facts.at(-1)).toMatch(/^replica (has the newest primary object|.* behind the newest primary object)$/);
    }
  });

  it('a bucket in another region than the primary: its replication not asked there, said as the primary not answering for it, and not listed as unreachable', async () => {
    // prepare
    const { replica } = await pair();
    const other = `rd-eu-${n}`;
    await bucket(other, 'eu-west-1');
    const asked = countTries(s3(), 'GetBucketReplicationCommand');
    const askedEu = countTries(s3('eu-west-1'), 'GetBucketReplicationCommand');

    // act
    const { item, r } = await s3Item(config([{ name: other, region: 'eu-west-1', replica: { bucket: replica, region: 'us-west-2' } }]));

    // assess
    expect(asked.tries() + askedEu.tries()).toBe(0);
    expect(item).toMatchObject({ colour: 'amber', reasons: ['primary unreachable: replication health unknown'] });
    expect(r.unreachable).toEqual([]);
  });

  it('a bucket with no replica, or in the target itself: nothing asked of the primary, nothing unreachable', async () => {
    // prepare
    const listings = countTries(s3(), 'ListObjectsV2Command');

    // act
    const { r } = await s3Item(config([{ name: 'rd-logs' }, { name: 'rd-west', region: 'us-west-2' }]));

    // assess
    expect(r.items.filter((i) => i.kind === 's3').map((i) => [i.name, i.colour])).toEqual([
      ['rd-logs', 'red'],
      ['rd-west', 'green'],
    ]);
    expect(listings.tries()).toBe(0);
    expect(r.unreachable).toEqual([]);
    expect(r.uncovered).toEqual(['rd-logs']);
  });
});

describe("a table's readiness", () => {
  const ddb = (region: string) => moto().clients.dynamodb(region);
  /** Only these tables; no bucket, image search that finds nothing, no DNS. */
  const tablesConfig = (tables: DrConfig['dynamodb']['tables']): DrConfig => ({ ...config([]), dynamodb: { tables } });
  const tableItem = async (cfg: DrConfig) => (await readiness(cfg, moto().clients, 'us-west-2', NOW)).items.filter((i) => i.kind === 'dynamodb');
  /** The primary's DescribeTable answered with these replicas (moto lists none). */
  const replicasSeen = (region: string, replicas: { RegionName: string; ReplicaStatus: 'ACTIVE' | 'CREATING' }[]) =>
    rewrite<DescribeTableCommandOutput>(ddb(region), 'DescribeTableCommand', (o) => ({ ...o, Table: { ...o.Table, Replicas: replicas } }));

  it('the table in the target ACTIVE: green, its item count, RPO about zero; not there, the primary\'s view of the replica in the target (not another region\'s)', async () => {
    const name = `rd-t-${++n}`;
    await createSourceTable(ddb('us-east-1'), name, { items: 1 });
    await createSourceTable(ddb('us-west-2'), name, { items: 3 });
    const other = `rd-t-${++n}`;
    await createSourceTable(ddb('us-east-1'), other, { items: 1 });
    replicasSeen('us-east-1', [
      { RegionName: 'eu-central-1', ReplicaStatus: 'ACTIVE' },
      { RegionName: 'us-west-2', ReplicaStatus: 'CREATING' },
    ]);

    expect(await tableItem(tablesConfig([{ name }, { name: other }]))).toEqual([
      { kind: 'dynamodb', name, colour: 'green', reasons: [], facts: ['replica in us-west-2 ACTIVE, about 3 items'], rpoMs: 0 },
      { kind: 'dynamodb', name: other, colour: 'amber', reasons: ['replica in us-west-2 is CREATING'], facts: [] },
    ]);
  });

  it('no replica: the newest AVAILABLE backup of this table in the target, asked for all backup types; none: red', async () => {
    const name = `rd-t-${++n}`;
    await createSourceTable(ddb('us-east-1'), name, { items: 1 });
    const asked: Record<string, unknown>[] = [];
    stub<ListBackupsCommandOutput>(ddb('us-west-2'), 'ListBackupsCommand', (x) => {
      asked.push(x);
      const b = (backupName: string, at: Date, status: 'AVAILABLE' | 'CREATING' = 'AVAILABLE') => ({ BackupName: backupName, BackupStatus: status, BackupCreationDateTime: at, TableName: String(x.TableName) });
      return { BackupSummaries: x.TableName === name ? [b('older', ago(30 * 60 * MIN)), b('newest', ago(2 * 60 * MIN)), b('making', ago(MIN), 'CREATING'), { BackupName: 'undated', BackupStatus: 'AVAILABLE' as const }] : x.TableName === undefined ? [{ ...b('another-tables', ago(MIN)), TableName: 'another' }] : [] };
    });

    const [row] = await tableItem(tablesConfig([{ name }]));
    const [none] = await tableItem(tablesConfig([{ name: `rd-t-${++n}` }]));

    expect(asked[0]).toEqual({ TableName: name, BackupType: 'ALL' });
    expect(row).toEqual({ kind: 'dynamodb', name, colour: 'amber', reasons: ['no replica in us-west-2; newest backup there `newest` is 2 h old (restore it)'], facts: [], rpoMs: 2 * 60 * MIN });
    expect(none).toMatchObject({ colour: 'red', reasons: ['no replica and no backup in us-west-2'] });
  });

  it('the target refusing ListBackups, with no replica there: red with the refusal, not "no backup"', async () => {
    const name = `rd-t-${++n}`;
    await createSourceTable(ddb('us-east-1'), name, { items: 1 });
    fail(ddb('us-west-2'), 'ListBackupsCommand', ACCESS_DENIED);

    expect(await tableItem(tablesConfig([{ name }]))).toEqual([
      { kind: 'dynamodb', name, colour: 'red', reasons: [`no replica in us-west-2, and its backups there could not be read: ListBackups on \`${name} in us-west-2\` failed: User is not authorized to perform this action`], facts: [] },
    ]);
  });

  it('the target refusing DescribeTable: red with the refusal, not "no replica"; the primary refusing: said unreachable', async () => {
    const name = `rd-t-${++n}`;
    await createSourceTable(ddb('us-east-1'), name, { items: 1 });
    fail(ddb('us-west-2'), 'DescribeTableCommand', ACCESS_DENIED);
    fail(ddb('us-east-1'), 'DescribeTableCommand', ACCESS_DENIED);

    fail(moto().clients.ec2('us-east-1'), 'DescribeImagesCommand', ACCESS_DENIED);

    const r = await readiness(tablesConfig([{ name }]), moto().clients, 'us-west-2', NOW);

    expect(r.items.filter((i) => i.kind === 'dynamodb')).toEqual([{ kind: 'dynamodb', name, colour: 'red', reasons: [`DescribeTable on \`${name} in us-west-2\` failed: User is not authorized to perform this action`], facts: ['primary unreachable'] }]);
    // what the approver is told the primary did not answer: the table, and the image search
    expect(r.unreachable).toEqual([`DynamoDB \`${name}\`: AccessDenied: User is not authorized to perform this action`, `EC2 images: DescribeImages on \`images tagged readiness-test=none-${n} in us-east-1\` failed: User is not authorized to perform this action`]);
  });

  it('a table in the target region is its own replica: the primary is not asked; a table in a third region is asked there, not in the primary', async () => {
    const here = `rd-t-${++n}`;
    await createSourceTable(ddb('us-west-2'), here, { items: 2 });
    const far = `rd-t-${++n}`;
    await createSourceTable(ddb('eu-west-1'), far, { items: 1 });
    replicasSeen('eu-west-1', [{ RegionName: 'us-west-2', ReplicaStatus: 'CREATING' }]);
    const primary = countTries(ddb('us-east-1'), 'DescribeTableCommand');
    const inTarget = countTries(ddb('us-west-2'), 'DescribeTableCommand');

    const rows = await tableItem(tablesConfig([
      { name: here, region: 'us-west-2' },
      { name: far, region: 'eu-west-1' },
    ]));

    expect(rows).toEqual([
      { kind: 'dynamodb', name: here, colour: 'green', reasons: [], facts: ['replica in us-west-2 ACTIVE, about 2 items'], rpoMs: 0 },
      { kind: 'dynamodb', name: far, colour: 'amber', reasons: ['replica in us-west-2 is CREATING'], facts: [] },
    ]);
    expect(primary.tries()).toBe(0);
    // each table read once in the target; the one there is not read again as its own primary
    expect(inTarget.tries()).toBe(2);
  });

  it('the RPO over tables is the largest: a replica\'s zero and a backup\'s 2 h give 2 h', async () => {
    const live = `rd-t-${++n}`;
    await createSourceTable(ddb('us-west-2'), live, { items: 1 });
    const restorable = `rd-t-${++n}`;
    stub<ListBackupsCommandOutput>(ddb('us-west-2'), 'ListBackupsCommand', (x) => ({
      BackupSummaries: x.TableName === restorable ? [{ BackupName: 'b', BackupStatus: 'AVAILABLE', BackupCreationDateTime: ago(2 * 60 * MIN), TableName: restorable }] : [],
    }));

    const r = await readiness(tablesConfig([
      { name: live, region: 'us-west-2' },
      { name: restorable, region: 'us-west-2' },
    ]), moto().clients, 'us-west-2', NOW);

    expect(r.items.map((i) => i.rpoMs)).toEqual([0, 2 * 60 * MIN]);
    expect(r.rpoMs).toBe(2 * 60 * MIN);
  });
});

it('with the primary down, a backup copy that carries no source-image tag (tagged by hand) names no image: nothing to launch, said (SDK middleware: the listing of copies)', async () => {
  const cfg = config([]);
  stub(moto().clients.ec2('us-west-2'), 'DescribeImagesCommand', () => ({ Images: [{ ImageId: 'ami-0hand', Name: 'spawn-app-backup-20261130', State: 'available', CreationDate: ago(60 * MIN).toISOString(), Tags: [{ Key: 'backup', Value: 'true' }] }] }));
  fail(moto().clients.ec2('us-east-1'), 'DescribeImagesCommand', ACCESS_DENIED);

  const r = await readiness(cfg, moto().clients, 'us-west-2', NOW);

  expect(r.items.filter((i) => i.kind === 'ami')).toEqual([
    { kind: 'ami', name: `AMIs tagged readiness-test=none-${n}`, colour: 'red', reasons: ['no backup copy in us-west-2 and the primary is unreachable: nothing to launch'], facts: ['primary unreachable: images known from their copies'] },
  ]);
  expect(r.sources).toEqual([]);
});
