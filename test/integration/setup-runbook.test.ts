/**
 * The setup runbook (src/runbooks/setup/runbook.ts, `/dr setup`) on its own, against moto: what its
 * plan finds right, would change and leaves alone (and why), and what its execution writes (rules
 * merged with what AWS holds at that moment, never replaced), then reads back; with AWS refusing on
 * the way. Each test has its own buckets, tables and config name. The flows through Slack and
 * approval are setup.test.ts; these need no local stack, so `npm run mutate` can run them for each
 * mutant.
 *
 * moto enforces no IAM policy: refusals and a setting that reads back wrong are SDK middleware on
 * the runbook's own clients (test/helpers/faults.ts). Where moto falls short, as in the sandbox:
 * AWS Backup selections and global-table replicas are answered by the sandbox's own stand-ins
 * (src/local/moto-gaps.ts), and GetBucketReplication is given back the DeleteMarkerReplication put
 * (test/helpers/moto-replication.ts).
 */
import { DescribeContinuousBackupsCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  type GetBucketVersioningCommandOutput,
  GetPublicAccessBlockCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
} from '@aws-sdk/client-s3';
import { globalTableReplicas, selectionsInMemory } from '../../src/local/moto-gaps';
import type { SetupInput } from '../../src/runbooks/setup';
import { replicationRoleName } from '../../src/runbooks/setup/role';
import { runbook, type SetupPlan } from '../../src/runbooks/setup/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { motoKeepsDeleteMarkerReplication } from '../helpers/moto-replication';
import { useRunbookRig } from '../helpers/runbook-rig';
import { createSourceTable } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

beforeAll(() => {
  const clients = rig.moto().clients;
  motoKeepsDeleteMarkerReplication(clients.s3('us-east-1'));
  for (const region of ['us-east-1', 'us-west-2']) {
    selectionsInMemory(clients.backup(region));
    globalTableReplicas(clients.dynamodb(region));
  }
});

const s3 = (region = 'us-east-1') => rig.s3(region);
const OTHERS_RULE = { ID: 'team-logs-expiry', Status: 'Enabled' as const, Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } };

/** A config of its own: no table, no backup bucket, no bucket but those the test makes. */
function fresh(over: Partial<Parameters<typeof rig.configure>[0]> = {}): void {
  rig.configure({ name: `setup-${++n}`, s3: { buckets: [] }, dynamodb: { tables: [] }, backupBucket: undefined, ...over });
}

function input(scope: SetupInput['scope'], over: Partial<SetupInput> = {}): SetupInput & AnyRunInput {
  return { kind: 'setup', runId: `r-su${String(++n).padStart(10, '0')}`, requester: 'UALICE', channel: 'C1', commandText: `/dr setup ${scope}`, requestedAt: new Date().toISOString(), scope, dryRun: false, ...over } as SetupInput & AnyRunInput;
}

const plan = (i: SetupInput) => runbook.plan(rig.deps(), i);
const execute = (i: SetupInput & AnyRunInput, p: SetupPlan) => rig.execute(runbook, i, p);
const versioning = async (b: string, region = 'us-east-1') => (await s3(region).send(new GetBucketVersioningCommand({ Bucket: b }))).Status ?? 'Off';
const rules = async (b: string) => ((await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules ?? []).map((r) => r.ID).sort();

describe('S3', () => {
  it('plans versioning, the noncurrent and archive rules (keeping a rule someone else wrote), and replication with a replica bucket to make; planning changes nothing', async () => {
    fresh();
    const replica = `rig-replica-${n}`;
    const b = await rig.bucket({ versioned: false, archivePrefix: 'results/', replica: { bucket: replica, region: 'us-west-2' } });
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [OTHERS_RULE] } }));

    const p = await plan(input('s3'));

    expect(p.empty).toBe(false);
    expect(p.data.targets.map((t) => [t.kind, t.name, t.changes.map((c) => c.op)])).toEqual([['bucket', b, ['versioning', 'lifecycle', 'replication']]]);
    expect(p.lines[0]).toBe('3 changes on 1 resource; 0 already right.');
    expect(p.lines[1]).toBe(
      [
        `\`${b}\``,
        '\n   → turns versioning on (now never enabled)',
        "\n   → sets lifecycle rule `drbot-noncurrent-expiry` (noncurrent versions expire after 90 days) and `drbot-archive` (`results/` to Glacier at 30 days, Deep Archive at 90); keeps 1 rule written by others (`team-logs-expiry`), which the runbook's lifecycle script would have replaced",
        `\n   → creates replica bucket \`${replica}\` in us-west-2; turns on versioning of \`${replica}\`; role \`${replicationRoleName(b, replica)}\` (S3 may read \`${b}\` and write \`${replica}\`, nothing else); replication rule \`drbot-replica\` → \`${replica}\` with Replication Time Control (15 min), metrics and delete-marker replication`,
      ].join(''),
    );
    expect(p.lines[2]).toBe('Lifecycle and replication rules are merged by rule ID: every rule someone else wrote is written back unchanged.');
    expect(await versioning(b)).toBe('Off');
    expect(await rules(b)).toEqual(['team-logs-expiry']);
  });

  it('applies each change, keeps the other rule, makes the replica and the role, and reads every setting back', async () => {
    fresh();
    const replica = `rig-replica-${n}`;
    const b = await rig.bucket({ versioned: false, replica: { bucket: replica, region: 'us-west-2' } });
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [OTHERS_RULE] } }));
    const i = input('s3');
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(await versioning(b)).toBe('Enabled');
    expect(await versioning(replica, 'us-west-2')).toBe('Enabled');
    expect(await rules(b)).toEqual(['drbot-noncurrent-expiry', 'team-logs-expiry']);
    const repl = (await s3().send(new GetBucketReplicationCommand({ Bucket: b }))).ReplicationConfiguration;
    expect(repl?.Role).toMatch(new RegExp(`:role/${replicationRoleName(b, replica)}$`));
    expect(repl?.Rules?.map((r) => [r.ID, r.Destination?.Bucket])).toEqual([['drbot-replica', `arn:aws:s3:::${replica}`]]);
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines).toEqual([
      'Applied 3 of 3 changes.',
      `• versioning on for \`${b}\``,
      `• lifecycle of \`${b}\`: \`drbot-noncurrent-expiry\` set, 1 other rule kept`,
      `• replication \`${b}\` → \`${replica}\` set`,
      ':mag: Verified by reading every setting back: all as planned.',
    ]);
    expect(out.reports).toEqual([
      [1, 3, 'changes applied'],
      [2, 3, 'changes applied'],
    ]);

    const again = await plan(input('s3'));
    expect(again.empty).toBe(true);
    expect(again.lines[0]).toBe('Nothing to change: 1 resource already right.');
    expect(again.lines[1]).toBe(`\`${b}\` :white_check_mark: already right: versioning on; noncurrent versions expire after 90 days (rule \`drbot-noncurrent-expiry\`); replicates to \`${replica}\` with RTC, metrics and delete markers.`);
  });

  it('a rule someone adds between plan and run is kept too; a bucket not in the account is said, not made', async () => {
    fresh();
    const b = await rig.bucket({ versioned: true });
    const missing = `rig-missing-${n}`;
    rig.configure({ s3: { buckets: [...rig.deps().config.s3.buckets, { name: missing }] } });
    const i = input('s3');
    const p = await plan(i);
    expect(p.lines).toContain(`\`${missing}\`\n   :warning: does not exist in the account: setup protects estate buckets, it does not create them`);
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [OTHERS_RULE] } }));

    const out = await execute(i, p.data);

    expect(await rules(b)).toEqual(['drbot-noncurrent-expiry', 'team-logs-expiry']);
    expect(out.lines[1]).toBe(`• lifecycle of \`${b}\`: \`drbot-noncurrent-expiry\` set, 1 other rule kept`);
    await expect(s3().send(new HeadBucketCommand({ Bucket: missing }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('the backup bucket: made, versioned, private and encrypted; read back as right', async () => {
    fresh({ backupBucket: `rig-backups-${n + 1}` });
    const name = `rig-backups-${n}`;
    const i = input('s3');
    const p = await plan(i);
    expect(p.lines[1]).toBe(`\`${name}\` (backup bucket)\n   → creates the bucket in us-east-1\n   → turns versioning on\n   → blocks all public access (ACLs and policies)\n   → encrypts new objects by default (SSE-S3)`);

    const out = await execute(i, p.data);

    expect(await versioning(name)).toBe('Enabled');
    expect((await s3().send(new GetPublicAccessBlockCommand({ Bucket: name }))).PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    expect((await s3().send(new GetBucketEncryptionCommand({ Bucket: name }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    expect(out.lines.slice(0, 5)).toEqual(['Applied 4 of 4 changes.', `• created \`${name}\``, `• versioning on for \`${name}\``, `• public access blocked on \`${name}\``, `• default encryption on \`${name}\``]);
    expect((await plan(input('s3'))).lines[1]).toBe(`\`${name}\` (backup bucket) :white_check_mark: already right: versioning on; public access blocked; encrypted by default (AES256).`);
  });

  it('PutBucketReplication refused: what came before is applied, the failure said with its hint, and the read-back names what is left', async () => {
    fresh();
    const replica = `rig-replica-${n}`;
    const b = await rig.bucket({ versioned: false, replica: { bucket: replica, region: 'us-west-2' } });
    const i = input('s3');
    const p = await plan(i);
    fail(s3(), 'PutBucketReplicationCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await versioning(b)).toBe('Enabled');
    await expect(s3().send(new GetBucketReplicationCommand({ Bucket: b }))).rejects.toMatchObject({ name: 'ReplicationConfigurationNotFoundError' });
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([expect.stringMatching(/^PutBucketReplication on .*not authorized.* — Grant the bot's role/)]);
    expect(out.lines[0]).toBe('Applied 2 of 3 changes.');
    expect(out.lines.at(-1)).toBe(`:warning: Read back, still not right: \`${b}\`: no replication to \`${replica}\` with RTC`);
  });

  it('replication left alone when another role runs other rules; a setting that reads back wrong, or cannot be read, is said', async () => {
    fresh();
    const replica = `rig-replica-${n}`;
    const b = await rig.bucket({ versioned: true, replica: { bucket: replica, region: 'us-west-2' } });
    await rig.makeBucket(`rig-elsewhere-${n}`, 'us-west-2');
    await s3().send(
      new PutBucketReplicationCommand({
        Bucket: b,
        ReplicationConfiguration: { Role: 'arn:aws:iam::123456789012:role/their-role', Rules: [{ ID: 'theirs', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::rig-elsewhere-${n}` } }] },
      }),
    );
    const p = await plan(input('s3'));
    expect(p.lines[1]).toContain('\n   :warning: replication not changed: ');
    expect(p.data.targets[0]?.changes.map((c) => c.op)).toEqual(['lifecycle']);

    const i = input('s3');
    rewrite<GetBucketVersioningCommandOutput>(s3(), 'GetBucketVersioningCommand', (o) => ({ ...o, Status: 'Suspended' }));
    const wrong = await execute(i, p.data);
    expect(wrong.lines.at(-1)).toBe(`:warning: Read back, still not right: \`${b}\`: versioning off`);
    expect(wrong.ok).toBe(false);

    undoFaults();
    fail(s3(), 'GetBucketLifecycleConfigurationCommand', ACCESS_DENIED);
    const unread = await execute(input('s3'), p.data);
    expect(unread.lines.at(-1)).toMatch(/^:warning: Could not read the settings back: .*not authorized/);
    // the lifecycle change reads the rules again before it writes (so others' rules are kept): that read is the failure listed;
    // a read-back that fails is said in the lines and fails the run, but is not a failure of its own
    expect(unread.failures).toEqual([expect.stringMatching(/^GetBucketLifecycleConfiguration on .*not authorized/)]);
    expect(unread.ok).toBe(false);
  });
});

describe('DynamoDB', () => {
  it('PITR, a replica in the backup region, and AWS Backup for the tables: planned, applied, read back; again: nothing to do', async () => {
    const table = `su-${++n}`;
    fresh({ dynamodb: { tables: [{ name: table }] } });
    await createSourceTable(rig.moto().clients.dynamodb('us-east-1'), table, { items: 1, stream: 'NEW_AND_OLD_IMAGES' });
    const i = input('dynamodb');

    const p = await plan(i);

    const vault = `drbot-${rig.deps().config.name}`;
    expect(p.lines[0]).toBe('3 changes on 2 resources; 0 already right.');
    expect(p.lines[1]).toBe(`\`${table}\`\n   → turns point-in-time recovery on (35 days of restore points)\n   → adds a global-table replica in us-west-2 (UpdateTable ReplicaUpdates; AWS copies the table in the background)`);
    expect(p.lines[2]).toMatch(new RegExp(`^\`${vault}-dynamodb \\(us-east-1\\)\` \\(AWS Backup\\)\\n   → creates vault \`${vault}\` in us-east-1; creates vault \`${vault}\` in us-west-2; creates plan \`${vault}-dynamodb\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days, each copied to \`${vault}\` in us-west-2 \\(kept 35 days\\); selects 1 table`));

    const out = await execute(i, p.data);

    const ddb = rig.moto().clients.dynamodb('us-east-1');
    expect((await ddb.send(new DescribeContinuousBackupsCommand({ TableName: table }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    expect(((await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.Replicas ?? []).map((r) => r.RegionName)).toEqual(['us-west-2']);
    expect(out.lines).toEqual([
      'Applied 3 of 3 changes.',
      `• PITR on for \`${table}\``,
      `• replica of \`${table}\` in us-west-2 requested`,
      `• AWS Backup plan \`${vault}-dynamodb\` in us-east-1: daily, 35 days, copied to us-west-2; 1 table selected`,
      ':mag: Verified by reading every setting back: all as planned.',
    ]);
    expect(out.ok).toBe(true);
    expect((await plan(input('dynamodb'))).empty).toBe(true);
  });

  it('a configured table not in the account: said, left alone; scope s3 reads no table and dynamodb no bucket', async () => {
    const gone = `su-gone-${++n}`;
    fresh({ dynamodb: { tables: [{ name: gone }] } });
    const b = await rig.bucket({ versioned: true });
    const d = await plan(input('dynamodb'));
    expect(d.lines).toEqual(['Nothing to change: 0 resources already right.', `\`${gone}\`\n   :warning: does not exist in us-east-1: setup protects tables, it does not create them`, 'Lifecycle and replication rules are merged by rule ID: every rule someone else wrote is written back unchanged.']);
    expect(d.empty).toBe(true);
    expect((await plan(input('s3'))).data.targets.map((t) => t.name)).toEqual([b]);
  });

  it('title', () => {
    expect(runbook.title(input('all'))).toBe('Set up protections (all)');
  });
});
