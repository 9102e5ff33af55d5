import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DeleteObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { canaryItemKey, canaryKey, deleteCanaryObjects, drillTableName, launchDrillInstance, putCanaryItem, smallestInstanceType, terminateDrillInstances } from '../../src/aws/drill';
import { parseConfigText } from '../../src/config/load';
import { ConfigError, PreconditionError } from '../../src/errors';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyLines } from '../../src/runbooks/drill-history/runbook';
import type { DrillReport } from '../../src/store/drills';

/*
 * The drill's AWS calls with aws-sdk-client-mock and AWS's shapes: exactly what is sent, and that
 * only what carries the run's mark is removed (moto would accept looser calls).
 */

const RUN = 'r-0123456789ab';
const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBClient);

afterEach(() => {
  ec2.reset();
  s3.reset();
  ddb.reset();
});

describe('drill adapters', () => {
  it('picks the smallest type an image boots on, and refuses a Mac image', () => {
    expect(smallestInstanceType({ Architecture: 'x86_64' })).toBe('t3.nano');
    expect(smallestInstanceType({ Architecture: 'arm64' })).toBe('t4g.nano');
    expect(smallestInstanceType({ Architecture: 'i386' })).toBe('t2.nano');
    expect(() => smallestInstanceType({ Architecture: 'arm64_mac', ImageId: 'ami-1' })).toThrow(PreconditionError);
  });

  it('launches one instance tagged with the run (instance and volume), with the run as client token, when none is tagged yet', async () => {
    // prepare
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0abc' }] });

    // act
    const id = await launchDrillInstance(new EC2Client({ region: 'us-west-2' }), RUN, 'ami-0123', 't4g.nano', 'subnet-0abc1234');

    // assess
    expect(id).toBe('i-0abc');
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({ Filters: [{ Name: 'tag:drbot-drill', Values: [RUN] }], MaxResults: 1000 });
    const tags = [
      { Key: 'drbot-drill', Value: RUN },
      { Key: 'Name', Value: `drbot-drill-${RUN}` },
    ];
    expect(ec2.commandCalls(RunInstancesCommand).map((c) => c.args[0].input)).toEqual([
      {
        ImageId: 'ami-0123',
        InstanceType: 't4g.nano',
        MinCount: 1,
        MaxCount: 1,
        ClientToken: `drbot-drill-${RUN}`,
        InstanceInitiatedShutdownBehavior: 'terminate',
        MetadataOptions: { HttpTokens: 'required' },
        SubnetId: 'subnet-0abc1234',
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      },
    ]);
  });

  it('terminates only instances that carry the run\'s tag and are not already gone', async () => {
    // prepare: a filter answer that also holds an instance without the tag (never trusted blindly)
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            { InstanceId: 'i-mine', State: { Name: 'running' }, Tags: [{ Key: 'drbot-drill', Value: RUN }] },
            { InstanceId: 'i-gone', State: { Name: 'terminated' }, Tags: [{ Key: 'drbot-drill', Value: RUN }] },
            { InstanceId: 'i-other', State: { Name: 'running' }, Tags: [{ Key: 'drbot-drill', Value: 'r-ffffffffffff' }] },
            { InstanceId: 'i-prod', State: { Name: 'running' }, Tags: [{ Key: 'Name', Value: 'spawn-worker' }] },
          ],
        },
      ],
    });
    ec2.on(TerminateInstancesCommand).resolves({});

    // act
    const ids = await terminateDrillInstances(new EC2Client({ region: 'us-west-2' }), RUN);

    // assess
    expect(ids).toEqual(['i-mine']);
    expect(ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input)).toEqual([{ InstanceIds: ['i-mine'] }]);
  });

  it('deletes every version of the run\'s canary key by version id, and nothing under a longer key', async () => {
    // prepare: ListObjectVersions matches by prefix, so a longer key comes back too
    const key = canaryKey(RUN);
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: key, VersionId: 'v1' },
        { Key: key, VersionId: 'null' },
        { Key: `${key}-notes`, VersionId: 'v9' },
      ],
      DeleteMarkers: [{ Key: key, VersionId: 'dm1' }],
    });
    s3.on(DeleteObjectCommand).resolves({});

    // act
    const n = await deleteCanaryObjects(new S3Client({ region: 'us-east-1' }), 'spawn-binaries-us-east-1', RUN);

    // assess
    expect(n).toBe(3);
    expect(s3.commandCalls(ListObjectVersionsCommand)[0]?.args[0].input).toEqual({ Bucket: 'spawn-binaries-us-east-1', Prefix: key, MaxKeys: 1000 });
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'spawn-binaries-us-east-1', Key: key, VersionId: 'v1' },
      // the null version (written while versioning was off) by its id: without one S3 would add a delete marker
      { Bucket: 'spawn-binaries-us-east-1', Key: key, VersionId: 'null' },
      { Bucket: 'spawn-binaries-us-east-1', Key: key, VersionId: 'dm1' },
    ]);
  });

  it('writes the canary item by every key attribute\'s type, never over an item that is not the run\'s', async () => {
    // prepare
    ddb.on(PutItemCommand).resolves({});
    const key = { schema: [{ name: 'queue', type: 'N' as const }, { name: 'sk', type: 'B' as const }] };

    // act
    await putCanaryItem(new DynamoDBClient({ region: 'us-east-1' }), 'spawn-queues', key, RUN, '2026-12-01T00:00:00.000Z');

    // assess
    expect(canaryItemKey(key, RUN)).toEqual({ queue: { N: `-${parseInt('0123456789ab', 16)}` }, sk: { B: Buffer.from(`drbot-drill#${RUN}`) } });
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).toEqual({
      TableName: 'spawn-queues',
      Item: { ...canaryItemKey(key, RUN), 'drbot-drill': { S: RUN }, drbotDrillAt: { S: '2026-12-01T00:00:00.000Z' } },
      ConditionExpression: 'attribute_not_exists(#k) OR #d = :run',
      ExpressionAttributeNames: { '#k': 'queue', '#d': 'drbot-drill' },
      ExpressionAttributeValues: { ':run': { S: RUN } },
    });
  });

  it('names the temporary table within DynamoDB\'s 255 characters, ending in the run id', () => {
    expect(drillTableName('spawn-instances', RUN)).toBe(`spawn-instances-drill-${RUN}`);
    const long = drillTableName('t'.repeat(255), RUN);
    expect(long).toHaveLength(255);
    expect(long.endsWith(`-drill-${RUN}`)).toBe(true);
  });
});

describe('drill history', () => {
  const report = (runId: string, at: string, rto: number, rpo: number, ok = true): DrillReport => ({
    runId,
    at,
    ok,
    scheduled: false,
    failures: ok ? 0 : 1,
    cleanup: 'removed',
    measures: [
      { component: 'compute', kind: 'rto', seconds: rto, objectiveMinutes: 60, result: 'pass' },
      { component: 'S3', kind: 'rpo', seconds: rpo, objectiveMinutes: 5, result: ok ? 'pass' : 'fail' },
    ],
  });

  it('shows one row a drill, newest first, with the trend against the drill before', () => {
    // act
    const lines = historyLines([report('r-000000000003', '2027-03-01T03:00:00.000Z', 300, 30, false), report('r-000000000002', '2027-02-01T03:00:00.000Z', 120, 31), report('r-000000000001', '2027-01-01T03:00:00.000Z', 180, 10)]);

    // assess
    const rows = (lines[1] ?? '').split('\n').filter((l) => l.startsWith('2027'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^2027-03-01 03:00 {2}r-000000000003 {2}FAIL {2}5 min 0 s ↑ +30 s → +1\/1/);
    expect(rows[1]).toMatch(/2 min 0 s ↓ +31 s ↑/);
    expect(rows[2]).not.toMatch(/[↑↓→]/);
    expect(lines[0]).toContain('The last 3 drills*, newest first (2 passed)');
  });

  it('says when no drill has run', () => {
    expect(historyLines([])).toEqual(['No drill has been run yet. `/dr drill --dry-run` shows what one does.']);
  });
});

describe('the drill section of the config', () => {
  const example = readFileSync(join(__dirname, '..', '..', 'drbot.config.example.yaml'), 'utf8');

  it('is optional, and takes a subnet ID and a table name', () => {
    expect(parseConfigText(example).drill).toBeUndefined();
    const cfg = parseConfigText(`${example}\ndrill:\n  subnetId: subnet-0abc1234\n  table: spawn-instances\n`);
    expect(cfg.drill).toEqual({ subnetId: 'subnet-0abc1234', table: 'spawn-instances' });
  });

  it('refuses what is not a subnet ID, and keys it does not know, naming them', () => {
    expect(() => parseConfigText(`${example}\ndrill:\n  subnetId: sg-0abc1234\n`)).toThrow(ConfigError);
    expect(() => parseConfigText(`${example}\ndrill:\n  subnetId: sg-0abc1234\n`)).toThrow(/subnet/);
    expect(() => parseConfigText(`${example}\ndrill:\n  instanceType: c7i.xlarge\n`)).toThrow(/instanceType/);
  });
});
