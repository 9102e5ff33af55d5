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
import { CreateBackupPlanCommand, CreateBackupSelectionCommand, DescribeBackupVaultCommand, GetBackupSelectionCommand, ListBackupSelectionsCommand } from '@aws-sdk/client-backup';
import { DescribeContinuousBackupsCommand, DescribeTableCommand, type DescribeTableCommandOutput } from '@aws-sdk/client-dynamodb';
import {
  DeleteBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  type GetBucketVersioningCommandOutput,
  GetPublicAccessBlockCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  type ReplicationRule,
} from '@aws-sdk/client-s3';
import { globalTableReplicas, selectionsInMemory } from '../../src/local/moto-gaps';
import type { SetupInput } from '../../src/runbooks/setup';
import { replicationRoleName } from '../../src/runbooks/setup/role';
import { runbook, type SetupPlan } from '../../src/runbooks/setup/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { motoKeepsDeleteMarkerReplication } from '../helpers/moto-replication';
import { useRunbookRig } from '../helpers/runbook-rig';
import { roleState } from '../helpers/iam-roles';
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
/** Someone else's bucket-wide noncurrent expiry: of the runbook's 90 days (right), or of 30 (a conflict, left alone). */
const othersNoncurrent = (days: number) => ({ ID: `team-noncurrent-${days}`, Status: 'Enabled' as const, Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: days } });
/** A replication rule someone else wrote: `prefix` to `bucket`. */
const othersReplication = (id: string, priority: number, prefix: string, bucket: string): ReplicationRule => ({
  ID: id,
  Status: 'Enabled',
  Priority: priority,
  Filter: { Prefix: prefix },
  DeleteMarkerReplication: { Status: 'Disabled' },
  Destination: { Bucket: `arn:aws:s3:::${bucket}` },
});
const replicationOf = async (b: string) => (await s3().send(new GetBucketReplicationCommand({ Bucket: b }))).ReplicationConfiguration;

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

    const out = await rig.executeWatched(runbook, i, p.data);

    // each write in its own step: the replica bucket before its versioning, the role, then the merged configuration; the read-back last
    expect(out.checkpoints).toEqual([`versioning:${b}`, `lifecycle:${b}`, `replica-bucket:${replica}`, `replica-versioning:${replica}`, `replication-role:${b}`, `replication:${b}`, 'verify']);
    expect(await versioning(b)).toBe('Enabled');
    expect(await versioning(replica, 'us-west-2')).toBe('Enabled');
    expect(await rules(b)).toEqual(['drbot-noncurrent-expiry', 'team-logs-expiry']);
    const repl = (await s3().send(new GetBucketReplicationCommand({ Bucket: b }))).ReplicationConfiguration;
    expect(repl?.Role).toMatch(new RegExp(`:role/${replicationRoleName(b, replica)}$`));
    expect(repl?.Rules?.map((r) => [r.ID, r.Destination?.Bucket])).toEqual([['drbot-replica', `arn:aws:s3:::${replica}`]]);
    // the role S3 assumes: trusted by S3 only, allowed to read this source and write this replica, nothing else
    expect(await roleState(rig.moto().clients.iam('us-east-1'), replicationRoleName(b, replica))).toEqual({
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      description: `drbot: S3 replication ${b} -> ${replica}`,
      maxSession: 3600,
      tags: { 'drbot:created-by': 'drbot', 'drbot:source': b, 'drbot:replica': replica },
      inlines: {
        'drbot-replication': {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: `arn:aws:s3:::${b}` },
            { Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: `arn:aws:s3:::${b}/*` },
            { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: `arn:aws:s3:::${replica}/*` },
          ],
        },
      },
      attached: [],
    });
    expect(replicationRoleName(b, replica)).toMatch(/^drbot-s3-replication-[0-9a-f]{8}$/);
    expect(replicationRoleName(b, replica)).not.toBe(replicationRoleName(replica, b));
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines).toEqual([
      'Applied 3 of 3 changes.',
      `• versioning on for \`${b}\``,
      `• lifecycle of \`${b}\`: \`drbot-noncurrent-expiry\` set, 1 other rule kept`,
      `• replication \`${b}\` → \`${replica}\` set`,
      ':mag: Verified by reading every setting back: all as planned.',
    ]);
    // each simple change as it lands, then the total before the read-back (replication reports no step of its own)
    expect(out.reports).toEqual([
      [1, 3, 'changes done'],
      [2, 3, 'changes done'],
      [3, 3, 'changes done; reading every setting back'],
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

  it('PutBucketLifecycleConfiguration refused: the failure said, the read-back names the rules still missing', async () => {
    // prepared: a versioned bucket with an archive prefix and no rule; after the plan, PutBucketLifecycleConfiguration refused
    fresh();
    const b = await rig.bucket({ versioned: true, archivePrefix: 'results/' });
    const i = input('s3');
    const p = await plan(i);
    fail(s3(), 'PutBucketLifecycleConfigurationCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    await expect(s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).rejects.toMatchObject({ name: 'NoSuchLifecycleConfiguration' });
    expect(out.failures).toEqual([
      `PutBucketLifecycleConfiguration on \`${b}\` failed: User is not authorized to perform this action — Grant the bot's role permission for \`PutBucketLifecycleConfiguration\` on this resource (see template.yaml).`,
    ]);
    expect(out.lines).toEqual(['Applied 0 of 1 change.', `:warning: Read back, still not right: \`${b}\`: lifecycle rule \`drbot-noncurrent-expiry\`, \`drbot-archive\` missing`]);
    expect(out.ok).toBe(false);
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
    expect(unread.failures).toEqual([
      `GetBucketLifecycleConfiguration on \`${b}\` failed: User is not authorized to perform this action — Grant the bot's role permission for \`GetBucketLifecycleConfiguration\` on this resource (see template.yaml).`,
    ]);
    expect(unread.ok).toBe(false);

    // every change made, only the read-back refused: still not ok (nothing confirms the settings)
    undoFaults();
    fail(s3(), 'GetBucketVersioningCommand', ACCESS_DENIED);
    const unconfirmed = await execute(input('s3'), p.data);
    expect(unconfirmed.lines.slice(0, 2)).toEqual(['Applied 1 of 1 change.', expect.stringContaining(b)]);
    expect(unconfirmed.lines.at(-1)).toMatch(/^:warning: Could not read the settings back: .*GetBucketVersioning.*not authorized/);
    expect(unconfirmed.failures).toEqual([]);
    expect(unconfirmed.ok).toBe(false);
  });

  it('only what each bucket lacks: versioning suspended, replicas already there (versioned or not), rules of others under drbot\'s own role kept; the summary counts the resources it changes; a bucket right at the plan is not the run\'s to read back', async () => {
    // prepared: a bucket already right, listed first; one with versioning suspended, an archive prefix and a versioned replica
    // already there; one with a replica there but unversioned, whose replication (under drbot's own role for the pair) runs two rules of others
    fresh();
    const right = await rig.bucket({ versioned: true });
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: right, LifecycleConfiguration: { Rules: [othersNoncurrent(90)] } }));
    const replicaA = `rig-replica-a-${n}`;
    const replicaB = `rig-replica-b-${n}`;
    const suspended = await rig.bucket({ versioned: true, archivePrefix: 'results/', replica: { bucket: replicaA, region: 'us-west-2' } });
    await s3().send(new PutBucketVersioningCommand({ Bucket: suspended, VersioningConfiguration: { Status: 'Suspended' } }));
    await rig.makeBucket(replicaA, 'us-west-2', true);
    const shared = await rig.bucket({ versioned: true, replica: { bucket: replicaB, region: 'us-west-2' } });
    await rig.makeBucket(replicaB, 'us-west-2', false);
    const elsewhere = `rig-elsewhere-${n}`;
    await rig.makeBucket(elsewhere, 'us-west-2');
    const ourRole = `arn:aws:iam::123456789012:role/${replicationRoleName(shared, replicaB)}`;
    const theirs = [othersReplication('theirs-a', 1, 'a/', elsewhere), othersReplication('theirs-b', 2, 'b/', elsewhere)];
    await s3().send(new PutBucketReplicationCommand({ Bucket: shared, ReplicationConfiguration: { Role: ourRole, Rules: theirs } }));
    const i = input('s3');

    const p = await plan(i);

    // assessed: the plan, resource by resource
    expect(p.lines).toEqual([
      '5 changes on 2 resources; 1 already right.',
      `\`${right}\` :white_check_mark: already right: versioning on; noncurrent versions expire after 90 days (rule \`team-noncurrent-90\`).`,
      [
        `\`${suspended}\``,
        '\n   → turns versioning on (now suspended)',
        '\n   → sets lifecycle rule `drbot-noncurrent-expiry` (noncurrent versions expire after 90 days) and `drbot-archive` (`results/` to Glacier at 30 days, Deep Archive at 90)',
        `\n   → role \`${replicationRoleName(suspended, replicaA)}\` (S3 may read \`${suspended}\` and write \`${replicaA}\`, nothing else); replication rule \`drbot-replica\` → \`${replicaA}\` with Replication Time Control (15 min), metrics and delete-marker replication`,
      ].join(''),
      [
        `\`${shared}\` already right: versioning on.`,
        '\n   → sets lifecycle rule `drbot-noncurrent-expiry` (noncurrent versions expire after 90 days)',
        `\n   → turns on versioning of \`${replicaB}\`; role \`${replicationRoleName(shared, replicaB)}\` (S3 may read \`${shared}\` and write \`${replicaB}\`, nothing else); replication rule \`drbot-replica\` → \`${replicaB}\` with Replication Time Control (15 min), metrics and delete-marker replication; keeps 2 replication rules written by others (\`theirs-a\`, \`theirs-b\`), which the runbook's script would have replaced`,
      ].join(''),
      'Lifecycle and replication rules are merged by rule ID: every rule someone else wrote is written back unchanged.',
    ]);

    // done: someone suspends the versioning of the bucket that was right (not the run's), then the run
    await s3().send(new PutBucketVersioningCommand({ Bucket: right, VersioningConfiguration: { Status: 'Suspended' } }));
    const creates = countTries(s3('us-west-2'), 'CreateBucketCommand');
    const versionings = countTries(s3('us-west-2'), 'PutBucketVersioningCommand');
    const out = await rig.executeWatched(runbook, i, p.data);

    // assessed: no replica made (both were there), only the unversioned one versioned; others' rules kept under the same role
    expect(creates.tries()).toBe(0);
    expect(versionings.tries()).toBe(1);
    expect(out.checkpoints).toEqual([
      `versioning:${suspended}`,
      `lifecycle:${suspended}`,
      `replica-versioning:${replicaA}`,
      `replication-role:${suspended}`,
      `replication:${suspended}`,
      `lifecycle:${shared}`,
      `replica-versioning:${replicaB}`,
      `replication-role:${shared}`,
      `replication:${shared}`,
      'verify',
    ]);
    expect(await versioning(suspended)).toBe('Enabled');
    expect(await versioning(replicaB, 'us-west-2')).toBe('Enabled');
    expect(await rules(suspended)).toEqual(['drbot-archive', 'drbot-noncurrent-expiry']);
    const repl = await replicationOf(shared);
    expect(repl?.Role).toBe(ourRole);
    expect(repl?.Rules?.map((r) => [r.ID, r.Priority, r.Destination?.Bucket])).toEqual([
      ['theirs-a', 1, `arn:aws:s3:::${elsewhere}`],
      ['theirs-b', 2, `arn:aws:s3:::${elsewhere}`],
      ['drbot-replica', 3, `arn:aws:s3:::${replicaB}`],
    ]);
    expect(out.lines).toEqual([
      'Applied 5 of 5 changes.',
      `• versioning on for \`${suspended}\``,
      `• lifecycle of \`${suspended}\`: \`drbot-noncurrent-expiry\`, \`drbot-archive\` set`,
      `• replication \`${suspended}\` → \`${replicaA}\` set`,
      `• lifecycle of \`${shared}\`: \`drbot-noncurrent-expiry\` set`,
      `• replication \`${shared}\` → \`${replicaB}\` set, 2 other rules kept`,
      ':mag: Verified by reading every setting back: all as planned.',
    ]);
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
  });

  it('replication another role takes over between plan and run: not swapped, the failure said, the run failed; a resource with two things left alone says both', async () => {
    // prepared: a versioned bucket whose replica exists, with someone's shorter noncurrent expiry (left alone); the plan adds replication
    fresh();
    const replica = `rig-replica-${n}`;
    const b = await rig.bucket({ versioned: true, replica: { bucket: replica, region: 'us-west-2' } });
    await rig.makeBucket(replica, 'us-west-2');
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [othersNoncurrent(30)] } }));
    const i = input('s3');
    const p = await plan(i);
    expect(p.data.targets.map((t) => t.changes.map((c) => c.op))).toEqual([['replication']]);
    const elsewhere = `rig-elsewhere-${n}`;
    await rig.makeBucket(elsewhere, 'us-west-2');
    const theirRole = 'arn:aws:iam::123456789012:role/their-role';
    await s3().send(new PutBucketReplicationCommand({ Bucket: b, ReplicationConfiguration: { Role: theirRole, Rules: [othersReplication('theirs', 1, '', elsewhere)] } }));

    // done: the run, after another role set up replication
    const out = await execute(i, p.data);

    // assessed: their configuration untouched; the refusal is the run's failure; the read-back does not call it as planned: the
    // replication is now a note, not a change, and the note is new since the plan
    const refusal = `its replication runs 1 other rule (\`theirs\`) under role \`${theirRole}\`; one configuration has one role, so drbot will not swap it. Add rule \`drbot-replica\` to it by hand, or let that role replicate to \`${replica}\``;
    expect((await replicationOf(b))?.Rules?.map((r) => r.ID)).toEqual(['theirs']);
    expect(out.failures).toEqual([`\`${b}\`: ${refusal}`]);
    expect(out.lines).toEqual(['Applied 0 of 1 change.', `:warning: Read back, still not right: \`${b}\`: replication not changed`]);
    expect(out.ok).toBe(false);
    expect((await plan(input('s3'))).lines[1]).toBe(
      [
        `\`${b}\` already right: versioning on.`,
        '\n   :warning: rule `team-noncurrent-30` expires noncurrent versions after 30 days, not 90: left as it is (S3 applies the shortest); change it by hand if 90 is meant',
        `\n   :warning: replication not changed: ${refusal}`,
      ].join(''),
    );
  });

  /** A config of its own with one bucket whose only lack is versioning (its noncurrent expiry is someone else's, right), planned. */
  async function versioningOnly() {
    fresh();
    const b = await rig.bucket({ versioned: false });
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [othersNoncurrent(90)] } }));
    const i = input('s3');
    const p = await plan(i);
    expect(p.data.targets.map((t) => t.changes.map((c) => c.op))).toEqual([['versioning']]);
    return { b, i, p };
  }

  it('a bucket deleted between plan and run: the write fails, and the read-back says the bucket is gone, not "all as planned"', async () => {
    // prepared: the plan turns versioning on; then the bucket is deleted
    const { b, i, p } = await versioningOnly();
    await s3().send(new DeleteBucketCommand({ Bucket: b }));

    // done
    const out = await execute(i, p.data);

    // assessed: nothing made; the failure, then a read-back that names what is wrong now
    await expect(s3().send(new HeadBucketCommand({ Bucket: b }))).rejects.toThrow();
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]).toMatch(/PutBucketVersioning/);
    expect(out.lines).toEqual(['Applied 0 of 1 change.', `:warning: Read back, still not right: \`${b}\`: does not exist in the account`]);
    expect(out.ok).toBe(false);
  });

  it('a planned bucket the read-back no longer finds (a deploy took it out of the config) is not "all as planned"', async () => {
    // prepared: the plan turns versioning on; then the config no longer lists the bucket
    const { b, i, p } = await versioningOnly();
    rig.configure({ s3: { buckets: [] } });

    // done
    const out = await execute(i, p.data);

    // assessed: the planned change made; the read-back says it could not look
    expect(await versioning(b)).toBe('Enabled');
    expect(out.lines).toEqual(['Applied 1 of 1 change.', `• versioning on for \`${b}\``, `:warning: Read back, still not right: \`${b}\`: not found on reading back`]);
    expect(out.ok).toBe(false);
  });

  it('a replayed run counts the changes its finished steps made: progress goes on from there', async () => {
    // prepared: a bucket without versioning or lifecycle rules: two changes
    fresh();
    const b = await rig.bucket({ versioned: false });
    const i = input('s3');
    const p = await plan(i);
    expect(p.data.targets.map((t) => t.changes.map((c) => c.op))).toEqual([['versioning', 'lifecycle']]);

    // done: the versioning step answered from its checkpoint, as on a replay (its function does not run)
    const out = await rig.executeWatched(runbook, i, p.data, (step) => (step === `versioning:${b}` ? { ok: true, value: `versioning on for \`${b}\`` } : undefined));

    // assessed: the lifecycle is the second change of two, and the read-back reports the total
    expect(out.reports).toEqual([
      [2, 2, 'changes done'],
      [2, 2, 'changes done; reading every setting back'],
    ]);
    expect(out.lines.slice(0, 3)).toEqual(['Applied 2 of 2 changes.', `• versioning on for \`${b}\``, `• lifecycle of \`${b}\`: \`drbot-noncurrent-expiry\` set`]);
  });

  it('a bucket and a table of the same name: the read-back holds each to its own plan', async () => {
    // prepared: bucket X right at the plan, table X without PITR (the plan's only change to an X); then X's versioning is suspended
    const b = `su-same-${++n}`;
    fresh({ s3: { buckets: [{ name: b }] }, dynamodb: { tables: [{ name: b }] } });
    await rig.makeBucket(b, 'us-east-1');
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [othersNoncurrent(90)] } }));
    await createSourceTable(rig.moto().clients.dynamodb('us-east-1'), b, { items: 1, stream: 'NEW_AND_OLD_IMAGES' });
    const i = input('all');
    const p = await plan(i);
    expect(p.data.targets.filter((t) => t.name === b).map((t) => [t.kind, t.changes.map((c) => c.op)])).toEqual([
      ['bucket', []],
      ['table', ['pitr', 'table-replica']],
    ]);
    await s3().send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));

    // done
    const out = await execute(i, p.data);

    // assessed: the table's changes read back right; the bucket, not the run's to change, is not held against it
    expect(out.failures).toEqual([]);
    expect(out.lines.at(-1)).toBe(':mag: Verified by reading every setting back: all as planned.');
    expect(out.ok).toBe(true);
    expect((await plan(input('s3'))).lines[1]).toBe(`\`${b}\` already right: noncurrent versions expire after 90 days (rule \`team-noncurrent-90\`).\n   → turns versioning on (now suspended)`);
  });

  it('the backup bucket refused: CreateBucket denied, each setting then fails on the missing bucket; the read-back names all four', async () => {
    // prepared: a backup bucket to make, CreateBucket refused after the plan
    fresh({ backupBucket: `rig-backups-${n + 1}` });
    const name = `rig-backups-${n}`;
    const i = input('s3');
    const p = await plan(i);
    fail(s3(), 'CreateBucketCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    await expect(s3().send(new HeadBucketCommand({ Bucket: name }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    const missing = 'failed: The specified bucket does not exist — Check that the resource exists in the configured region.';
    expect(out.failures).toEqual([
      `CreateBucket on \`${name}\` failed: User is not authorized to perform this action — Grant the bot's role permission for \`CreateBucket\` on this resource (see template.yaml).`,
      `PutBucketVersioning on \`${name}\` ${missing}`,
      `PutPublicAccessBlock on \`${name}\` ${missing}`,
      `PutBucketEncryption on \`${name}\` ${missing}`,
    ]);
    expect(out.lines).toEqual(['Applied 0 of 4 changes.', `:warning: Read back, still not right: \`${name}\`: bucket missing, versioning off, public access not blocked, no default encryption`]);
    expect(out.ok).toBe(false);
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
    // the role AWS Backup assumes: trusted by AWS Backup only, scoped to the configured table, its backups and drbot's vault
    const arn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.TableArn ?? '';
    expect(await roleState(rig.moto().clients.iam('us-east-1'), 'drbot-aws-backup')).toMatchObject({
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      tags: { 'drbot:created-by': 'drbot' },
      inlines: {
        'drbot-aws-backup': {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'BackUpTheTables', Effect: 'Allow', Action: ['dynamodb:CreateBackup', 'dynamodb:DescribeTable', 'dynamodb:ListTagsOfResource', 'dynamodb:StartAwsBackupJob'], Resource: [arn] },
            { Sid: 'TheirBackups', Effect: 'Allow', Action: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'], Resource: [`${arn}/backup/*`] },
            { Sid: 'CopyToTheBackupRegion', Effect: 'Allow', Action: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], Resource: `arn:aws:backup:*:*:backup-vault:${vault}` },
            { Sid: 'FindByTag', Effect: 'Allow', Action: 'tag:GetResources', Resource: '*' },
          ],
        },
      },
      attached: [],
    });
    expect(out.lines).toEqual([
      'Applied 3 of 3 changes.',
      `• PITR on for \`${table}\``,
      `• replica of \`${table}\` in us-west-2 requested`,
      `• AWS Backup plan \`${vault}-dynamodb\` in us-east-1: daily, 35 days, copied to us-west-2; 1 table selected`,
      ':mag: Verified by reading every setting back: all as planned.',
    ]);
    expect(out.ok).toBe(true);
    const again = await plan(input('dynamodb'));
    expect(again.empty).toBe(true);
    expect(again.lines[1]).toBe(`\`${table}\` :white_check_mark: already right: PITR on; replica in us-west-2 (ACTIVE).`);
  });

  it("AWS Backup where drbot's plan is already there: its rule put right in place, someone else's rule and selected tables kept", async () => {
    // prepared: the plan drbot would make, already holding another team's weekly rule, drbot's rule with the wrong
    // retention, and drbot's selection naming another table; PITR and the replica already right
    const table = `su-${++n}`;
    fresh({ dynamodb: { tables: [{ name: table }] } });
    const ddb = rig.moto().clients.dynamodb('us-east-1');
    await createSourceTable(ddb, table, { items: 1, stream: 'NEW_AND_OLD_IMAGES' });
    const vault = `drbot-${rig.deps().config.name}`;
    const backup = rig.moto().clients.backup('us-east-1');
    const weekly = { RuleName: 'team-weekly', TargetBackupVaultName: 'team-vault', ScheduleExpression: 'cron(0 3 ? * SUN *)', Lifecycle: { DeleteAfterDays: 90 } };
    const made = await backup.send(
      new CreateBackupPlanCommand({
        BackupPlan: { BackupPlanName: `${vault}-dynamodb`, Rules: [weekly, { RuleName: 'drbot-daily', TargetBackupVaultName: vault, ScheduleExpression: 'cron(0 5 * * ? *)', Lifecycle: { DeleteAfterDays: 10 } }] },
      }),
    );
    const planId = made.BackupPlanId ?? '';
    const othersTable = 'arn:aws:dynamodb:us-east-1:123456789012:table/team-ledger';
    await backup.send(new CreateBackupSelectionCommand({ BackupPlanId: planId, BackupSelection: { SelectionName: 'drbot-tables', IamRoleArn: 'arn:aws:iam::123456789012:role/team', Resources: [othersTable] } }));
    // moto has no UpdateBackupPlan (it answers 404 HTML): a stub takes the call, and what it is sent is asserted
    const updates: Record<string, unknown>[] = [];
    stub(backup, 'UpdateBackupPlanCommand', (x) => (updates.push(x), { BackupPlanId: planId }));
    const i = input('dynamodb');

    const p = await plan(i);

    expect(p.lines[2]).toContain(`updates plan \`${vault}-dynamodb\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days, each copied to \`${vault}\` in us-west-2 (kept 35 days); keeps its other rule \`team-weekly\`; selects 1 table`);

    const out = await execute(i, p.data);

    expect(out.failures).toEqual([]);
    // the plan sent back whole: the other team's rule as it was read, drbot's replaced where it stood
    const copyTo = (await rig.moto().clients.backup('us-west-2').send(new DescribeBackupVaultCommand({ BackupVaultName: vault }))).BackupVaultArn;
    expect(updates).toEqual([
      {
        BackupPlanId: planId,
        BackupPlan: {
          BackupPlanName: `${vault}-dynamodb`,
          Rules: [
            expect.objectContaining(weekly),
            {
              RuleName: 'drbot-daily',
              TargetBackupVaultName: vault,
              ScheduleExpression: 'cron(0 5 * * ? *)',
              StartWindowMinutes: 60,
              CompletionWindowMinutes: 360,
              Lifecycle: { DeleteAfterDays: 35 },
              CopyActions: [{ DestinationBackupVaultArn: copyTo, Lifecycle: { DeleteAfterDays: 35 } }],
            },
          ],
        },
      },
    ]);
    expect(copyTo).toMatch(/^arn:aws:backup:us-west-2:/);
    const selections = (await backup.send(new ListBackupSelectionsCommand({ BackupPlanId: planId }))).BackupSelectionsList ?? [];
    expect(selections.map((x) => x.SelectionName)).toEqual(['drbot-tables']);
    const resources = (await backup.send(new GetBackupSelectionCommand({ BackupPlanId: planId, SelectionId: selections[0]?.SelectionId ?? '' }))).BackupSelection?.Resources ?? [];
    expect(resources).toEqual([othersTable, expect.stringMatching(new RegExp(`:table/${table}$`))]);

    // two other rules (moto's plan still holds the old rule: the update went to the stub): both named, in the plural
    rewrite<{ BackupPlan?: { Rules?: object[] } }>(backup, 'GetBackupPlanCommand', (o) => ({ ...o, BackupPlan: { ...o.BackupPlan, Rules: [...(o.BackupPlan?.Rules ?? []), { ...weekly, RuleName: 'team-monthly' }] } }));
    expect((await plan(input('dynamodb'))).lines.join('\n')).toContain('; keeps its other rules `team-weekly`, `team-monthly`');
  });

  it('PITR, the replica and AWS Backup refused: each failure said, and the read-back names what is left on both resources', async () => {
    // prepared: a table without protection in eu-west-1 (a region without the sandbox's replica stand-in, so UpdateTable reaches the
    // fault); after the plan, UpdateContinuousBackups, UpdateTable and CreateBackupVault refused
    const table = `su-${++n}`;
    fresh({ dynamodb: { tables: [{ name: table, region: 'eu-west-1' }] } });
    const ddb = rig.moto().clients.dynamodb('eu-west-1');
    await createSourceTable(ddb, table, { items: 1, stream: 'NEW_AND_OLD_IMAGES' });
    const i = input('dynamodb');
    const p = await plan(i);
    fail(ddb, 'UpdateContinuousBackupsCommand', ACCESS_DENIED);
    fail(ddb, 'UpdateTableCommand', ACCESS_DENIED);
    fail(rig.moto().clients.backup('eu-west-1'), 'CreateBackupVaultCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    const vault = `drbot-${rig.deps().config.name}`;
    const denied = (op: string, what: string) => `${op} on \`${what}\` failed: User is not authorized to perform this action — Grant the bot's role permission for \`${op}\` on this resource (see template.yaml).`;
    expect(out.failures).toEqual([denied('UpdateContinuousBackups', table), denied('UpdateTable', table), denied('CreateBackupVault', vault)]);
    expect(out.lines).toEqual([
      'Applied 0 of 3 changes.',
      `:warning: Read back, still not right: \`${table}\`: PITR off, no replica in us-west-2; \`${vault}-dynamodb (eu-west-1)\`: AWS Backup vault, plan or selection missing`,
    ]);
    expect(out.ok).toBe(false);
    expect(((await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.Replicas ?? []).map((r) => r.RegionName)).toEqual([]);
  });

  it('a table in the backup region: PITR only, no replica to add there; a table AWS will not describe fails the plan, it is not "missing"', async () => {
    // prepared: a table in us-west-2, the backup region
    const table = `su-west-${++n}`;
    fresh({ dynamodb: { tables: [{ name: table, region: 'us-west-2' }] } });
    await createSourceTable(rig.moto().clients.dynamodb('us-west-2'), table, { items: 1, stream: 'NEW_AND_OLD_IMAGES' });

    const p = await plan(input('dynamodb'));

    expect(p.data.targets.map((t) => [t.name, t.changes.map((c) => c.op)])).toEqual([
      [table, ['pitr']],
      [`drbot-${rig.deps().config.name}-dynamodb (us-west-2)`, ['aws-backup']],
    ]);
    expect(p.lines[1]).toBe(`\`${table}\`\n   → turns point-in-time recovery on (35 days of restore points)\n   :warning: lives in the backup region us-west-2: no replica to add there`);

    // done: DescribeTable answered without the table's ARN (AWS always gives it; the runbook guards it); assessed: no AWS Backup target
    const noArn = rewrite<DescribeTableCommandOutput>(rig.moto().clients.dynamodb('us-west-2'), 'DescribeTableCommand', (o) => ({ ...o, ...(o.Table ? { Table: { ...o.Table, TableArn: undefined } } : {}) }));
    expect((await plan(input('dynamodb'))).data.targets.map((t) => [t.name, t.changes.map((c) => c.op)])).toEqual([[table, ['pitr']]]);
    noArn();

    // done: DescribeTable refused; assessed: the plan fails with that refusal
    fail(rig.moto().clients.dynamodb('us-west-2'), 'DescribeTableCommand', ACCESS_DENIED);
    await expect(plan(input('dynamodb'))).rejects.toMatchObject({
      code: 'aws_access_denied',
      message: `DescribeTable on \`${table}\` failed: User is not authorized to perform this action`,
    });
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
