/**
 * The drill runbook (src/runbooks/drill/runbook.ts, `/dr drill`) on its own, against moto: what its
 * plan picks and says (the newest backup AMI and its instance type, the replicated buckets, the
 * tables, the table restored from PITR), and what its execution measures against the objectives,
 * reports, keeps in the state table, posts in the ops channel and removes, with AWS refusing on the
 * way. Its clean-up on its own is drill-cleanup.test.ts; the flows through Slack and approval are
 * drill.test.ts. These need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * The measures are times between the runbook's own clock readings (deps.now): here a clock that
 * moves a fixed number of seconds at each reading, so a measure is exact. moto copies nothing
 * between buckets or regions, launches an instance running at once, restores a table ACTIVE at once
 * and has no global tables: the sandbox's stand-in copies the canary of one bucket pair
 * (replicateDrillCanaries, as `npm start` does), and every other state (a replica, an instance still
 * pending, a restore still CREATING, a canary that arrives late) and every refusal is SDK middleware
 * on the runbook's own clients (test/helpers/faults.ts), each test saying which.
 */
import { type DescribeContinuousBackupsCommandOutput, type DescribeTableCommandOutput, GetItemCommand, ListTablesCommand, ListTagsOfResourceCommand, type RestoreTableToPointInTimeCommandOutput, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { CreateImageCommand, CreateSubnetCommand, CreateVpcCommand, DescribeInstancesCommand, type DescribeImagesCommandOutput, type DescribeInstancesCommandOutput, type Instance } from '@aws-sdk/client-ec2';
import { ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { canaryItemKey, canaryKey, DRILL_TAG, drillTableName } from '../../src/aws/drill';
import type { DrConfig } from '../../src/config/schema';
import { replicateDrillCanaries } from '../../src/local/moto-gaps';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { DrillInput } from '../../src/runbooks/drill';
import { cleanUp } from '../../src/runbooks/drill/cleanup';
import { canaryPolls, type DrillPlan, measureLine, runbook } from '../../src/runbooks/drill/runbook';
import type { Outcome } from '../../src/runbooks/driver';
import type { AnyRunInput } from '../../src/runbooks/types';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import { DrillStore } from '../../src/store/drills';
import { ACCESS_DENIED, fail, rewrite, SERVICE_UNAVAILABLE, stub, undoFaults } from '../helpers/faults';
import { launch } from '../helpers/ec2-instances';
import { useRunbookRig, watchSteps } from '../helpers/runbook-rig';
import { createSourceTable } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);
/** The drill keeps its report in drbot's state table: here one in moto. */
const stateTable = rig.useStateTable();

const PRIMARY = 'us-east-1';
const BACKUP = 'us-west-2';
const DENIED = 'User is not authorized to perform this action';
const west = () => rig.moto().clients.ec2(BACKUP);
const ddb = (region = PRIMARY) => rig.moto().clients.dynamodb(region);
const s3 = (region = PRIMARY) => rig.moto().clients.s3(region);
let runs = 0;
/** A run id of its own for each run (moto keeps what earlier tests made). */
const nextRun = () => `r-00000000a${(++runs).toString(16).padStart(3, '0')}`;

/** The bucket pair the sandbox's stand-in replicates, and one nothing replicates. */
const SRC = { name: 'drill-src', region: PRIMARY, replica: 'drill-rep', replicaRegion: BACKUP };
const SLOW = { name: 'drill-slow', region: PRIMARY, replica: 'drill-slow-rep', replicaRegion: BACKUP };
/** A table without PITR (also made in the backup region, to stand for a replica when DescribeTable is made to say so), and one with. */
const PLAIN = { name: 'drill-plain', region: PRIMARY };
const PITR = { name: 'drill-pitr', region: PRIMARY };
const THIRD = { name: 'drill-third', region: PRIMARY };
/** A second pair the stand-in replicates. */
const SRC2 = { name: 'drill-src2', region: PRIMARY, replica: 'drill-rep2', replicaRegion: BACKUP };
const pairs = (...bs: (typeof SRC)[]): DrConfig['s3'] => ({ buckets: bs.map((b) => ({ name: b.name, replica: { bucket: b.replica, region: b.replicaRegion } })) });

const BASE: DrConfig = {
  ...SANDBOX_CONFIG,
  s3: { buckets: [{ name: SRC.name, replica: { bucket: SRC.replica, region: BACKUP } }, { name: 'drill-unreplicated' }] },
  dynamodb: { tables: [{ name: PLAIN.name }, { name: PITR.name }] },
  objectives: { rpoMinutes: 5, rtoMinutes: 60 },
};
/** The config of every later deps(): BASE with these changes (and no `drill` section unless given). */
const configure = (over: Partial<DrConfig> = {}) => rig.configure({ ...BASE, drill: undefined, ...over });
const objectives = (rpoMinutes: number, rtoMinutes: number) => configure({ objectives: { rpoMinutes, rtoMinutes } });

let ami = '';
beforeAll(async () => {
  for (const b of [SRC, SLOW, SRC2]) {
    await rig.makeBucket(b.name, b.region);
    await rig.makeBucket(b.replica, b.replicaRegion);
  }
  // an object someone else keeps under the canary prefix: no drill may touch it
  await s3().send(new PutObjectCommand({ Bucket: SRC.name, Key: '.drbot-drill/notes.txt', Body: 'not the drill\'s' }));
  replicateDrillCanaries(rig.moto().clients, { ...BASE, s3: pairs(SRC, SRC2) });
  await createSourceTable(ddb(), PLAIN.name, { items: 1 });
  await createSourceTable(ddb(BACKUP), PLAIN.name);
  await createSourceTable(ddb(), PITR.name, { items: 3, pitr: true });
  await createSourceTable(ddb(), THIRD.name);
  const [from] = await launch(west(), 1, {});
  const made = await west().send(new CreateImageCommand({ InstanceId: from, Name: 'spawn-worker-backup-20261201', TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'backup', Value: 'true' }] }] }));
  ami = made.ImageId ?? '';
});
beforeEach(() => configure());

function input(over: Partial<DrillInput & AnyRunInput> = {}): DrillInput & AnyRunInput {
  return { kind: 'drill', runId: nextRun(), requester: 'UALICE', channel: 'C1', commandText: '/dr drill', requestedAt: '2026-12-01T03:00:00.000Z', dryRun: false, keep: false, ...over } as DrillInput & AnyRunInput;
}
const plan = async (i: DrillInput & AnyRunInput) => runbook(i).plan(rig.deps(), i);
const planned = async (i: DrillInput & AnyRunInput) => (await plan(i)).data;

const T0 = Date.parse('2026-12-01T03:00:00.000Z');
type Reports = Array<[number, number, string]>;
interface Ran extends Outcome {
  status: string;
  error?: string;
  reports: Reports;
  checkpoints: string[];
  posts: { channel: string; msg: SlackMessage }[];
}

/**
 * Executes the drill as a durable function on the local runner with the rig's deps, its clock moving
 * `tick` seconds at each reading (default 1), its Slack posts kept; its checkpoints (see watchSteps:
 * a step `answer` gives a result for is not run), progress and outcome.
 */
async function execute(i: DrillInput & AnyRunInput, p: DrillPlan, o: { tick?: number; answer?: (step: string) => unknown; slackDown?: boolean } = {}): Promise<Ran> {
  let readings = 0;
  const now = () => new Date(T0 + readings++ * (o.tick ?? 1) * 1000);
  const posts: Ran['posts'] = [];
  const slack: SlackPoster = {
    ...rig.deps().slack,
    post: async (channel, msg) => {
      posts.push({ channel, msg });
      if (o.slackDown) throw new Error('Slack answered 500');
      return { channel, ts: '1.000' };
    },
  };
  const reports: Reports = [];
  let checkpoints: string[] = [];
  const r = await rig.run<Outcome>((ctx, d, x) => {
    const w = watchSteps(ctx, o.answer);
    checkpoints = w.checkpoints;
    return runbook(x as DrillInput & AnyRunInput).execute(w.ctx, { ...d, now, slack }, x as DrillInput, p, {
      report: async (done, total, label) => {
        reports.push([done, total, label]);
      },
    });
  }, i);
  return { status: r.status, ...(r.error ? { error: r.error } : {}), ok: false, lines: [], failures: [], ...r.result, reports, checkpoints, posts };
}

/** The drill's instances of a run (any state). */
async function instancesOf(runId: string): Promise<Instance[]> {
  const r = await west().send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${DRILL_TAG}`, Values: [runId] }] }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}
const canaryVersions = async (bucket: string, region: string, runId: string) => {
  const r = await s3(region).send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: canaryKey(runId) }));
  return (r.Versions ?? []).length + (r.DeleteMarkers ?? []).length;
};
const canaryItem = async (table: string, runId: string) => (await ddb().send(new GetItemCommand({ TableName: table, Key: canaryItemKey({ schema: [{ name: 'pk', type: 'S' }] }, runId) }))).Item?.[DRILL_TAG]?.S;
const tables = async () => (await ddb().send(new ListTablesCommand({}))).TableNames ?? [];
const keptReport = async (runId: string) => (await new DrillStore(stateTable().doc, stateTable().tableName).list(100)).find((r) => r.runId === runId);
/** The instance the drill launched (its id), launched once. */
async function launched(runId: string): Promise<string> {
  const is = await instancesOf(runId);
  expect(is).toHaveLength(1);
  return is[0]?.InstanceId ?? '';
}
const progress: Reports = [
  [1, 4, 'compute measured'],
  [2, 4, 'S3 replication measured'],
  [3, 4, 'DynamoDB replication measured'],
  [4, 4, 'restore measured'],
];

describe('the plan', () => {
  it('names the newest backup AMI and its type, each replicated bucket, each table and the PITR restore; a dry run says would, --keep how it is removed', async () => {
    // prepare
    const i = input();
    const dry = input({ dryRun: true, keep: true });

    // act
    const p = await plan(i);
    const d = await plan(dry);

    // assess
    expect(p.data).toEqual({
      ami: { id: ami, name: 'spawn-worker-backup-20261201', architecture: 'x86_64', instanceType: 't3.nano' },
      buckets: [SRC],
      tables: [PLAIN, PITR],
      restore: { table: PITR.name, region: PRIMARY, target: `drill-pitr-drill-${i.runId}` },
    });
    expect(p.lines).toEqual([
      `A drill in us-west-2, measured against RPO 5 min and RTO 60 min. It will create, all tagged or named with run \`${i.runId}\`:`,
      `1 instance \`t3.nano\` from the newest backup AMI \`${ami}\` \`spawn-worker-backup-20261201\` (x86_64) in us-west-2, tagged \`drbot-drill=${i.runId}\`; timed to running (RTO compute)`,
      `canary object \`.drbot-drill/${i.runId}\` in \`drill-src\`; timed until it is in \`drill-rep\` (us-west-2) (RPO)`,
      `canary item \`drbot-drill#${i.runId}\` in \`drill-plain\`; read in us-west-2 if the table has a replica there (lag)`,
      `canary item \`drbot-drill#${i.runId}\` in \`drill-pitr\`; read in us-west-2 if the table has a replica there (lag)`,
      `PITR restore of \`drill-pitr\` into \`drill-pitr-drill-${i.runId}\`, item counts compared (RTO restore)`,
      'All of it is removed at the end, success or failure. Nothing the drill did not create is touched.',
    ]);
    expect(d.lines[0]).toBe(`A drill in us-west-2, measured against RPO 5 min and RTO 60 min. It would create, all tagged or named with run \`${dry.runId}\`:`);
    expect(d.lines.at(-1)).toBe(`With \`--keep\` it is all kept for inspection; *Clean up now* (or \`/dr drill cleanup ${dry.runId}\`) removes it.`);
    // a plan creates nothing
    expect(await instancesOf(i.runId)).toEqual([]);
    expect(await tables()).not.toContain(`drill-pitr-drill-${i.runId}`);
  });

  it('the title, resources and approval: a person\'s drill is destructive, the scheduled one is not, and plans the same', async () => {
    const person = input();
    const scheduled = input({ schedule: { name: 'drill-monthly', at: '2027-01-01T03:00:00Z' } });

    expect(runbook(person).title(person)).toBe('DR drill');
    expect(runbook(person).title(input({ keep: true }))).toBe('DR drill (keeping what it creates)');
    expect(runbook(person).resources?.(person)).toEqual(['drill']);
    expect(runbook(person).destructive).toBe(true);
    expect(runbook(scheduled).destructive).toBe(false);
    expect(runbook(scheduled).title(scheduled)).toBe('DR drill');
    expect((await runbook(scheduled).plan(rig.deps(), scheduled)).lines).toHaveLength(7);
  });

  it('a subnet, buckets and tables of other regions, the objectives: as the config says', async () => {
    // prepare
    configure({
      drill: { subnetId: 'subnet-0abc1234' },
      s3: { buckets: [{ name: 'far-bucket', region: 'eu-west-1', replica: { bucket: 'far-replica', region: 'eu-central-1' } }] },
      dynamodb: { tables: [{ name: 'far-table', region: 'eu-west-1' }, { name: PITR.name }] },
      objectives: { rpoMinutes: 15, rtoMinutes: 240 },
    });
    const i = input();

    // act
    const p = await plan(i);

    // assess
    expect(p.data).toMatchObject({ subnetId: 'subnet-0abc1234', buckets: [{ name: 'far-bucket', region: 'eu-west-1', replica: 'far-replica', replicaRegion: 'eu-central-1' }], tables: [{ name: 'far-table', region: 'eu-west-1' }, PITR] });
    expect(p.lines[0]).toMatch(/^A drill in us-west-2, measured against RPO 15 min and RTO 240 min\./);
    expect(p.lines[1]).toBe(`1 instance \`t3.nano\` from the newest backup AMI \`${ami}\` \`spawn-worker-backup-20261201\` (x86_64) in us-west-2 in \`subnet-0abc1234\`, tagged \`drbot-drill=${i.runId}\`; timed to running (RTO compute)`);
    expect(p.lines[2]).toBe(`canary object \`.drbot-drill/${i.runId}\` in \`far-bucket\`; timed until it is in \`far-replica\` (eu-central-1) (RPO)`);
    // far-table is not in eu-west-1's moto: its PITR unreadable, so the restore is the next table's
    expect(p.data.restore).toEqual({ table: PITR.name, region: PRIMARY, target: drillTableName(PITR.name, i.runId) });
  });

  it('no replicated bucket: no S3 measure, said', async () => {
    configure({ s3: { buckets: [{ name: 'drill-unreplicated' }] } });
    const p = await plan(input());
    expect(p.data.buckets).toEqual([]);
    expect(p.lines[2]).toBe('no replicated bucket is configured: no S3 measure');
    expect(p.lines.filter((l) => l.startsWith('canary object'))).toEqual([]);
  });

  it('no backup AMI (SDK middleware: DescribeImages answers none): the compute step is skipped, said with the command that makes one', async () => {
    stub<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', () => ({ Images: [] }));
    const p = await plan(input());
    expect(p.data.ami).toBeUndefined();
    expect(p.data.amiProblem).toBe('no available backup AMI in us-west-2 (tagged backup=true): the compute step is skipped. Run `/dr backup amis` first.');
    expect(p.lines[1]).toBe(':warning: no available backup AMI in us-west-2 (tagged backup=true): the compute step is skipped. Run `/dr backup amis` first.');
  });

  it('the image\'s architecture picks the type (SDK middleware rewrites the image): arm64 t4g.nano, none said x86_64; one needing a dedicated host is skipped in its words', async () => {
    const as = (over: Record<string, unknown>) =>
      rewrite<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', (out) => ({ ...out, Images: (out.Images ?? []).map((im) => Object.assign({ ...im }, over)) }));

    let undo = as({ Architecture: 'arm64' });
    expect((await planned(input())).ami).toEqual({ id: ami, name: 'spawn-worker-backup-20261201', architecture: 'arm64', instanceType: 't4g.nano' });
    undo();

    undo = as({ Architecture: undefined, Name: undefined });
    const bare = await plan(input());
    expect(bare.data.ami).toEqual({ id: ami, name: '', architecture: 'x86_64', instanceType: 't3.nano' });
    expect(bare.lines[1]).toContain(`from the newest backup AMI \`${ami}\` \`\` (x86_64)`);
    undo();

    as({ Architecture: 'arm64_mac' });
    const mac = await plan(input());
    expect(mac.data.ami).toBeUndefined();
    expect(mac.data.amiProblem).toBe(`The newest backup AMI \`${ami}\` is a arm64_mac image, which needs a dedicated host. The compute step is skipped.`);
    expect(mac.lines[1]).toBe(`:warning: ${mac.data.amiProblem ?? ''}`);
  });

  it('an image that cannot be read in a way not foreseen: the plan fails with that error, not a skipped step', async () => {
    rewrite<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', (out) => ({
      ...out,
      Images: (out.Images ?? []).map((im) =>
        Object.defineProperty({ ...im }, 'Architecture', {
          get() {
            throw new TypeError('unreadable architecture');
          },
        }),
      ),
    }));
    await expect(plan(input())).rejects.toThrow(TypeError);
  });

  it('the restored table: the first with PITR on, or drill.table; none with PITR, an unknown drill.table, or PITR unreadable: no restore, said', async () => {
    // the first table with PITR on, not a later one
    await createSourceTable(ddb(), 'drill-pitr-2', { pitr: true });
    configure({ dynamodb: { tables: [{ name: PLAIN.name }, { name: PITR.name }, { name: 'drill-pitr-2' }] } });
    const first = input();
    expect((await planned(first)).restore).toEqual({ table: PITR.name, region: PRIMARY, target: drillTableName(PITR.name, first.runId) });

    // the configured one
    configure({ dynamodb: { tables: [{ name: PLAIN.name }, { name: PITR.name }, { name: 'drill-pitr-2' }] }, drill: { table: 'drill-pitr-2' } });
    const named = input();
    expect((await planned(named)).restore).toEqual({ table: 'drill-pitr-2', region: PRIMARY, target: drillTableName('drill-pitr-2', named.runId) });

    // the configured one without PITR
    configure({ drill: { table: PLAIN.name } });
    const off = await plan(input());
    expect(off.data.restore).toBeUndefined();
    expect(off.data.restoreProblem).toBe('no `drill-plain` has point-in-time recovery on: no restore. `/dr setup dynamodb` turns it on.');
    expect(off.lines.at(-2)).toBe(':warning: no `drill-plain` has point-in-time recovery on: no restore. `/dr setup dynamodb` turns it on.');

    // one that is not configured
    configure({ drill: { table: 'spawn-nowhere' } });
    const unknown = await plan(input());
    expect(unknown.data.restore).toBeUndefined();
    expect(unknown.data.restoreProblem).toBe('`drill.table` `spawn-nowhere` is not a configured table: no restore.');

    // no table with PITR on
    configure({ dynamodb: { tables: [{ name: PLAIN.name }] } });
    expect((await planned(input())).restoreProblem).toBe('no configured table has point-in-time recovery on: no restore. `/dr setup dynamodb` turns it on.');

    // PITR on, but its status unreadable
    configure();
    fail(ddb(), 'DescribeContinuousBackupsCommand', ACCESS_DENIED);
    const unreadable = await planned(input());
    expect(unreadable.restore).toBeUndefined();
    expect(unreadable.restoreProblem).toBe('no configured table has point-in-time recovery on: no restore. `/dr setup dynamodb` turns it on.');
  });
});

describe('the execution', () => {
  it('measures each component against the objectives, reports each step, keeps the report, posts it in ops, and removes what it created and nothing else', async () => {
    // prepare: the clock moves a minute at each reading, the objectives a minute each: every measure on its bound
    objectives(1, 1);
    const i = input();
    const p = await planned(i);
    const target = drillTableName(PITR.name, i.runId);

    // act
    const r = await execute(i, p, { tick: 60 });

    // assess: the outcome
    const id = await launched(i.runId);
    const lines = [
      '*Drill report* (objectives: RPO 1 min, RTO 1 min): 3 passed, 0 failed, 2 not measured.',
      `:white_check_mark: RTO compute (t3.nano from \`${ami}\`): 1 min 0 s (objective 1 min) — instance \`${id}\` running`,
      ':white_check_mark: RPO S3 `drill-src` → `drill-rep`: 1 min 0 s (objective 1 min)',
      ':heavy_minus_sign: RPO DynamoDB `drill-plain`: not measured (objective 1 min) — no replica in us-west-2',
      ':heavy_minus_sign: RPO DynamoDB `drill-pitr`: not measured (objective 1 min) — no replica in us-west-2',
      `:white_check_mark: RTO restore \`drill-pitr\` → \`${target}\`: 1 min 0 s (objective 1 min) — 4 items restored, 4 in the table now: the same`,
      `*Removed:* instance \`${id}\` terminated; 1 canary object version in \`drill-src\`; 1 canary object version in \`drill-rep\`; canary item in \`drill-plain\`; canary item in \`drill-pitr\`; temporary table \`${target}\` deleted.`,
    ];
    expect(r).toMatchObject({ status: 'SUCCEEDED', ok: true, failures: [], lines });
    expect(r.next).toBeUndefined();
    expect(r.reports).toEqual(progress);
    expect(r.checkpoints).toEqual([
      'launch',
      'instance-0',
      'progress-1',
      'canary-s3-0',
      'canary-s3-check-0',
      'progress-2',
      'canary-ddb-0',
      'canary-ddb-1',
      'progress-3',
      'restore-start',
      'restore-check-0',
      'restore-count',
      'progress-4',
      'cleanup-instances',
      'cleanup-instances-check-0',
      'cleanup-s3-0',
      'cleanup-s3-1',
      'cleanup-item-0',
      'cleanup-table-0',
      'cleanup-item-1',
      'cleanup-table-1',
      'keep-report',
      'post-ops',
    ]);

    // the report kept for /dr drill history
    expect(await keptReport(i.runId)).toEqual({
      runId: i.runId,
      at: '2026-12-01T03:00:00.000Z',
      ok: true,
      scheduled: false,
      failures: 0,
      cleanup: 'removed',
      measures: [
        { component: `compute (t3.nano from \`${ami}\`)`, kind: 'rto', seconds: 60, objectiveMinutes: 1, result: 'pass', note: `instance \`${id}\` running` },
        { component: 'S3 `drill-src` → `drill-rep`', kind: 'rpo', seconds: 60, objectiveMinutes: 1, result: 'pass' },
        { component: 'DynamoDB `drill-plain`', kind: 'rpo', objectiveMinutes: 1, result: 'none', note: 'no replica in us-west-2' },
        { component: 'DynamoDB `drill-pitr`', kind: 'rpo', objectiveMinutes: 1, result: 'none', note: 'no replica in us-west-2' },
        { component: `restore \`drill-pitr\` → \`${target}\``, kind: 'rto', seconds: 60, objectiveMinutes: 1, result: 'pass', note: '4 items restored, 4 in the table now: the same' },
      ],
    });

    // the post in ops, where it was not requested
    expect(r.posts).toEqual([
      {
        channel: SANDBOX_CHANNEL,
        msg: { text: `DR drill ${i.runId}: passed`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: [`DR drill \`${i.runId}\` requested in <#C1>:`, ...lines].join('\n'), verbatim: true } }] },
      },
    ]);

    // AWS: the instance terminated, the canaries and the temporary table gone; the rest as it was
    expect((await instancesOf(i.runId))[0]?.State?.Name).toBe('terminated');
    expect(await canaryVersions(SRC.name, PRIMARY, i.runId)).toBe(0);
    expect(await canaryVersions(SRC.replica, BACKUP, i.runId)).toBe(0);
    expect(await canaryItem(PLAIN.name, i.runId)).toBeUndefined();
    expect(await canaryItem(PITR.name, i.runId)).toBeUndefined();
    const left = await tables();
    expect(left).not.toContain(target);
    expect(left).toEqual(expect.arrayContaining([PLAIN.name, PITR.name]));
    // the object someone else keeps under the canary prefix is still there (other tests' canaries may be too)
    const others = await s3().send(new ListObjectVersionsCommand({ Bucket: SRC.name, Prefix: '.drbot-drill/notes.txt' }));
    expect((others.Versions ?? []).map((v) => v.Key)).toEqual(['.drbot-drill/notes.txt']);
  });

  it('a measure over its objective by a second fails it, and the run; one in half its objective passes', async () => {
    // prepare
    objectives(1, 1);
    const over = input();
    const half = input();

    // act
    const r = await execute(over, await planned(over), { tick: 61 });
    const h = await execute(half, await planned(half), { tick: 30 });

    // assess
    const target = drillTableName(PITR.name, over.runId);
    expect(r.ok).toBe(false);
    expect(r.lines[0]).toBe('*Drill report* (objectives: RPO 1 min, RTO 1 min): 0 passed, 3 failed, 2 not measured.');
    expect(r.lines.slice(1, 3)).toEqual([
      `:x: RTO compute (t3.nano from \`${ami}\`): 1 min 1 s (objective 1 min) — instance \`${await launched(over.runId)}\` running`,
      ':x: RPO S3 `drill-src` → `drill-rep`: 1 min 1 s (objective 1 min)',
    ]);
    expect(r.lines[5]).toBe(`:x: RTO restore \`drill-pitr\` → \`${target}\`: 1 min 1 s (objective 1 min) — 4 items restored, 4 in the table now: the same`);
    expect(r.failures).toEqual([`RTO of compute (t3.nano from \`${ami}\`) missed its objective`, 'RPO of S3 `drill-src` → `drill-rep` missed its objective', `RTO of restore \`drill-pitr\` → \`${target}\` missed its objective`]);
    expect(await keptReport(over.runId)).toMatchObject({ ok: false, failures: 0, cleanup: 'removed' });
    expect(r.posts[0]?.msg.text).toBe(`DR drill ${over.runId}: failed`);
    expect(h).toMatchObject({ ok: true, failures: [] });
    expect(h.lines[0]).toBe('*Drill report* (objectives: RPO 1 min, RTO 1 min): 3 passed, 0 failed, 2 not measured.');
    expect(h.lines[2]).toBe(':white_check_mark: RPO S3 `drill-src` → `drill-rep`: 30 s (objective 1 min)');
  });

  it('--keep leaves everything for inspection, tagged with the run, offers Clean up now, and keeps the report as kept; requested in ops, it is not posted again', async () => {
    // prepare
    const i = input({ keep: true, channel: SANDBOX_CHANNEL });
    const p = await planned(i);
    const target = drillTableName(PITR.name, i.runId);

    // act
    const r = await execute(i, p);

    // assess
    expect(r.ok).toBe(true);
    expect(r.lines.at(-1)).toBe(`*Kept for inspection* (\`--keep\`): everything tagged or named with \`${i.runId}\`. *Clean up now* removes it.`);
    expect(r.next).toEqual([{ label: 'Clean up now', command: `drill cleanup ${i.runId}`, style: 'danger' }]);
    expect(r.checkpoints.filter((c) => c.startsWith('cleanup'))).toEqual([]);
    expect(r.checkpoints.at(-1)).toBe('keep-report');
    expect(r.posts).toEqual([]);
    expect(await keptReport(i.runId)).toMatchObject({ ok: true, cleanup: 'kept', failures: 0 });
    const [instance] = await instancesOf(i.runId);
    expect(instance).toMatchObject({ ImageId: ami, InstanceType: 't3.nano', State: { Name: 'running' } });
    expect(await canaryVersions(SRC.name, PRIMARY, i.runId)).toBe(1);
    expect(await canaryVersions(SRC.replica, BACKUP, i.runId)).toBe(1);
    expect(await canaryItem(PLAIN.name, i.runId)).toBe(i.runId);
    const arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${target}`;
    expect((await ddb().send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: DRILL_TAG, Value: i.runId }]);

    // tidy up for the other tests
    await rig.durable((ctx, d) => cleanUp(ctx, d, i.runId));
  });
});

/** A plan of one part: what execute is handed (the other parts empty). */
const only = (part: Partial<DrillPlan>): DrillPlan => ({ buckets: [], tables: [], ...part });
const AMI = () => ({ id: ami, name: 'spawn-worker-backup-20261201', architecture: 'x86_64', instanceType: 't3.nano' });
const count = (r: Ran, re: RegExp) => r.checkpoints.filter((c) => re.test(c)).length;
/** A measure that failed is also one of the outcome's failures. */
const computeMissed = () => `RTO of compute (t3.nano from \`${ami}\`) missed its objective`;

describe('compute: the instance timed to running', () => {
  beforeEach(() => configure({ s3: { buckets: [] }, dynamodb: { tables: [] } }));

  /** instanceState's DescribeInstances (by id, not the clean-up's by tag) answers `state(n)` at its n-th call: a state name, or an error to throw. */
  function states(state: (n: number) => string | Error): void {
    let n = 0;
    rewrite<DescribeInstancesCommandOutput>(west(), 'DescribeInstancesCommand', (out, sent) => {
      if (!sent.InstanceIds) return out;
      const s = state(++n);
      if (s instanceof Error) throw s;
      return { ...out, Reservations: (out.Reservations ?? []).map((x) => ({ ...x, Instances: (x.Instances ?? []).map((i) => ({ ...i, State: { Name: s as never } })) })) };
    });
  }

  it('launches in the configured subnet, tagged with the run, and measures the time to running', async () => {
    // prepare
    const vpc = await west().send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }));
    const subnet = (await west().send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId ?? '', CidrBlock: '10.7.1.0/24' }))).Subnet?.SubnetId ?? '';
    configure({ s3: { buckets: [] }, dynamodb: { tables: [] }, drill: { subnetId: subnet } });
    const i = input();
    const p = await planned(i);

    // act
    const r = await execute(i, only({ ami: p.ami, subnetId: p.subnetId }), { tick: 7 });

    // assess
    const [instance] = await instancesOf(i.runId);
    expect(instance).toMatchObject({ SubnetId: subnet, ImageId: ami, InstanceType: 't3.nano', State: { Name: 'terminated' } });
    expect(instance?.Tags).toEqual(expect.arrayContaining([{ Key: DRILL_TAG, Value: i.runId }]));
    expect(r).toMatchObject({ ok: true, failures: [] });
    expect(r.lines.slice(0, 2)).toEqual(['*Drill report* (objectives: RPO 5 min, RTO 60 min): 1 passed, 0 failed, 0 not measured.', `:white_check_mark: RTO compute (t3.nano from \`${ami}\`): 7 s (objective 60 min) — instance \`${instance?.InstanceId ?? ''}\` running`]);
  });

  it('RunInstances refused: the measure fails, said with the image, no instance is waited on, and the other parts still run', async () => {
    // prepare
    fail(west(), 'RunInstancesCommand', ACCESS_DENIED);
    const i = input();

    // act
    const r = await execute(i, only({ ami: AMI(), tables: [PLAIN] }));

    // assess
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual([`launch from ${ami}: RunInstances on \`${ami}\` failed: ${DENIED}`, computeMissed()]);
    expect(r.lines).toEqual([
      '*Drill report* (objectives: RPO 5 min, RTO 60 min): 0 passed, 1 failed, 1 not measured.',
      `:x: RTO compute (t3.nano from \`${ami}\`): not measured (objective 60 min) — the launch failed`,
      ':heavy_minus_sign: RPO DynamoDB `drill-plain`: not measured (objective 5 min) — no replica in us-west-2',
      '*Removed:* nothing was left to remove.',
    ]);
    expect(r.checkpoints.slice(0, 3)).toEqual(['launch', 'progress-1', 'progress-2']);
    expect(await instancesOf(i.runId)).toEqual([]);
    expect(await keptReport(i.runId)).toMatchObject({ ok: false, failures: 1 });
  });

  it.each(['terminated', 'shutting-down', 'stopped', 'stopping'])('an instance %s instead of running (SDK middleware shows that state): the measure fails at once, and it is still terminated', async (state) => {
    states(() => state);
    const i = input();

    const r = await execute(i, only({ ami: AMI() }));

    const id = await launched(i.runId);
    expect(r.failures).toEqual([`instance ${id} is ${state} instead of running`, computeMissed()]);
    expect(r.lines[1]).toBe(`:x: RTO compute (t3.nano from \`${ami}\`): not measured (objective 60 min) — instance ${state}`);
    expect(r.checkpoints.slice(0, 3)).toEqual(['launch', 'instance-0', 'progress-1']);
    expect(r.lines).toContain(`*Removed:* instance \`${id}\` terminated.`);
  });

  it('an instance gone (DescribeInstances by id answers NotFound): the measure fails at once', async () => {
    fail(west(), 'DescribeInstancesCommand', { name: 'InvalidInstanceID.NotFound', message: 'The instance ID does not exist', status: 400 }, { when: (sent) => Boolean(sent.InstanceIds) });
    const i = input();

    const r = await execute(i, only({ ami: AMI() }));

    expect(r.failures).toEqual([`instance ${await launched(i.runId)} is gone instead of running`, computeMissed()]);
    expect(r.lines[1]).toBe(`:x: RTO compute (t3.nano from \`${ami}\`): not measured (objective 60 min) — instance gone`);
    expect(r.checkpoints.slice(0, 3)).toEqual(['launch', 'instance-0', 'progress-1']);
  });

  it('pending, then a check refused, then running: polled with 15 s durable waits, timed from the launch to the check that saw it running', async () => {
    states((n) => (n === 1 ? 'pending' : n === 2 ? Object.assign(new Error(DENIED), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }) : 'running'));
    const i = input();

    const r = await execute(i, only({ ami: AMI() }), { tick: 10 });

    const id = await launched(i.runId);
    expect(r.checkpoints.slice(0, 7)).toEqual(['launch', 'instance-0', 'instance-wait-0 (wait 15 s)', 'instance-1', 'instance-wait-1 (wait 15 s)', 'instance-2', 'progress-1']);
    // readings: the launch (0 s), the pending check (10 s), the running check (20 s); the refused check read none
    expect(r.lines[1]).toBe(`:white_check_mark: RTO compute (t3.nano from \`${ami}\`): 20 s (objective 60 min) — instance \`${id}\` running`);
    expect(r).toMatchObject({ ok: true, failures: [] });
  });

  it('never running: 40 waits of 15 s, a check before each and after the last, then the measure fails with the 10 minutes waited', async () => {
    states(() => 'pending');
    const i = input();

    const r = await execute(i, only({ ami: AMI() }));

    const id = await launched(i.runId);
    expect(r.failures).toEqual([`instance ${id} not running after 10 min`, computeMissed()]);
    expect(r.lines[1]).toBe(`:x: RTO compute (t3.nano from \`${ami}\`): not measured (objective 60 min) — not running within the wait`);
    // waits of the whole bound, a check before each and one after the last
    expect(count(r, /^instance-\d+$/)).toBe(41);
    expect(count(r, /^instance-wait-\d+ \(wait 15 s\)$/)).toBe(40);
    expect(r.checkpoints).toContain('instance-39');
    expect(r.lines).toContain(`*Removed:* instance \`${id}\` terminated.`);
  });
});

describe('S3: each canary timed into its replica', () => {
  beforeEach(() => configure({ s3: pairs(SRC2, SLOW, SRC), dynamodb: { tables: [] } }));

  it('written one by one, watched together: one refused, one there at the first check, one at the third (SDK middleware: HeadObject finds it then)', async () => {
    // prepare
    fail(s3(), 'PutObjectCommand', ACCESS_DENIED, { when: (sent) => sent.Bucket === SRC2.name });
    let reads = 0;
    stub(s3(BACKUP), 'HeadObjectCommand', (sent) => (sent.Bucket === SLOW.replica && ++reads === 3 ? { VersionId: 'v1' } : undefined));
    const i = input();

    // act
    const r = await execute(i, only({ buckets: [SRC2, SLOW, SRC] }), { tick: 5 });

    // assess
    expect(r.checkpoints.slice(0, 9)).toEqual([
      'progress-1',
      'canary-s3-0',
      'canary-s3-1',
      'canary-s3-2',
      'canary-s3-check-0',
      'canary-s3-wait-0 (wait 15 s)',
      'canary-s3-check-1',
      'canary-s3-wait-1 (wait 15 s)',
      'canary-s3-check-2',
    ]);
    expect(r.checkpoints[9]).toBe('progress-2');
    // readings: the writes at 0, 5 and 10 s; drill-src seen at 15 s, drill-slow at 20 s
    expect(r.lines.slice(0, 4)).toEqual([
      '*Drill report* (objectives: RPO 5 min, RTO 60 min): 2 passed, 1 failed, 0 not measured.',
      ':x: RPO S3 `drill-src2`: not measured (objective 5 min) — the canary could not be written',
      ':white_check_mark: RPO S3 `drill-src` → `drill-rep`: 5 s (objective 5 min)',
      ':white_check_mark: RPO S3 `drill-slow` → `drill-slow-rep`: 15 s (objective 5 min)',
    ]);
    expect(r.failures).toEqual([`canary object in drill-src2: PutObject on \`drill-src2/.drbot-drill/${i.runId}\` failed: ${DENIED}`, 'RPO of S3 `drill-src2` missed its objective']);
    expect(reads).toBe(3);
    // the written canaries removed, in each bucket and replica
    for (const b of [SRC, SLOW]) expect(await canaryVersions(b.name, PRIMARY, i.runId)).toBe(0);
    expect(await canaryVersions(SRC.replica, BACKUP, i.runId)).toBe(0);
  });

  it('never in the replica: checked every 15 s for twice the RPO when that is over 15 min, then the measure fails with the time waited', async () => {
    // prepare: RPO 8 min, so 16 min of checks
    configure({ s3: pairs(SLOW), dynamodb: { tables: [] }, objectives: { rpoMinutes: 8, rtoMinutes: 60 } });
    const i = input();

    // act
    const r = await execute(i, only({ buckets: [SLOW] }));

    // assess
    // waits of the whole bound, a check before each and one after the last
    expect(count(r, /^canary-s3-check-\d+$/)).toBe(65);
    expect(count(r, /^canary-s3-wait-\d+ \(wait 15 s\)$/)).toBe(64);
    expect(r.lines[1]).toBe(':x: RPO S3 `drill-slow` → `drill-slow-rep`: not measured (objective 8 min) — the canary was not in the replica after 16 min 0 s');
    expect(r.failures).toEqual(['RPO of S3 `drill-slow` → `drill-slow-rep` missed its objective']);
    expect(await canaryVersions(SLOW.name, PRIMARY, i.runId)).toBe(0);
  });

  it('the replica unreadable (HeadObject refused): the watch stops at once, said, and the measure fails; its note says the lag was not measured (not that it waited its bound, three hours at an RPO of 100 min)', async () => {
    fail(s3(BACKUP), 'HeadObjectCommand', ACCESS_DENIED);
    configure({ s3: pairs(SRC), dynamodb: { tables: [] }, objectives: { rpoMinutes: 100, rtoMinutes: 60 } });
    const i = input();

    const r = await execute(i, only({ buckets: [SRC] }));

    expect(r.checkpoints.slice(0, 4)).toEqual(['progress-1', 'canary-s3-0', 'canary-s3-check-0', 'progress-2']);
    // the failed read is the failure; the lag was not measured, so no objective was missed
    expect(r.failures).toEqual([`reading the replica drill-rep: HeadObject on \`drill-rep/.drbot-drill/${i.runId}\` failed: ${DENIED}`]);
    // not "not in the replica after 3 h": the watch stopped at its first read
    expect(r.lines[1]).toBe(':heavy_minus_sign: RPO S3 `drill-src` → `drill-rep`: not measured (objective 100 min) — the replica could not be read, so the lag was not measured');
    expect(r.ok).toBe(false);
  });
});

describe('S3: one replica unreadable among several', () => {
  it('a replica AWS refuses to show is not measured; the other bucket\'s canary is still timed into its replica', async () => {
    // prepare: HeadObject refused in drill-rep only (SDK middleware: moto refuses nothing)
    fail(s3(BACKUP), 'HeadObjectCommand', ACCESS_DENIED, { when: (x) => x.Bucket === SRC.replica });
    configure({ s3: pairs(SRC, SRC2), dynamodb: { tables: [] } });
    const i = input();

    // act
    const r = await execute(i, only({ buckets: [SRC, SRC2] }));

    // assess
    expect(r.lines.slice(1, 3)).toEqual([
      ':heavy_minus_sign: RPO S3 `drill-src` → `drill-rep`: not measured (objective 5 min) — the replica could not be read, so the lag was not measured',
      expect.stringMatching(/^:white_check_mark: RPO S3 `drill-src2` → `drill-rep2`: \d+ s \(objective 5 min\)$/),
    ]);
    expect(r.failures).toEqual([`reading the replica drill-rep: HeadObject on \`drill-rep/.drbot-drill/${i.runId}\` failed: ${DENIED}`]);
  });

  it('a read that keeps failing (5xx after the step\'s retries) stops the watch: every replica left is not measured', async () => {
    // prepare: HeadObject answers 503 every time (SDK middleware)
    fail(s3(BACKUP), 'HeadObjectCommand', SERVICE_UNAVAILABLE);
    configure({ s3: pairs(SRC, SLOW), dynamodb: { tables: [] } });
    const i = input();

    // act
    const r = await execute(i, only({ buckets: [SRC, SLOW] }));

    // assess: one check, then the watch stops
    expect(count(r, /^canary-s3-check-\d+$/)).toBe(1);
    expect(r.failures[0]).toMatch(/^reading the replicas: HeadObject on `drill-(slow-)?rep\/\.drbot-drill\/.+` failed/);
    expect(r.lines.slice(1, 3)).toEqual([
      ':heavy_minus_sign: RPO S3 `drill-src` → `drill-rep`: not measured (objective 5 min) — the replica could not be read, so the lag was not measured',
      ':heavy_minus_sign: RPO S3 `drill-slow` → `drill-slow-rep`: not measured (objective 5 min) — the replica could not be read, so the lag was not measured',
    ]);
  });
});

describe('DynamoDB: each canary item read in the backup region where the table has a replica there', () => {
  /** DescribeTable in the primary says these tables have a replica in us-west-2 in this status (moto has no global tables). */
  function replicas(status: Record<string, string>): void {
    rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (out, sent) => {
      const s = status[String(sent.TableName)];
      return s && out.Table ? { ...out, Table: { ...out.Table, Replicas: [{ RegionName: 'eu-west-1', ReplicaStatus: 'ACTIVE' }, { RegionName: BACKUP, ReplicaStatus: s as never }] } } : out;
    });
  }

  it('written one by one, read together every 5 s: one seen at the first read, one at the third (SDK middleware answers GetItem in us-west-2), one replica still CREATING not measured', async () => {
    // prepare
    configure({ s3: { buckets: [] }, dynamodb: { tables: [{ name: PLAIN.name }, { name: THIRD.name }, { name: PITR.name }] } });
    replicas({ [PLAIN.name]: 'ACTIVE', [THIRD.name]: 'ACTIVE', [PITR.name]: 'CREATING' });
    const i = input();
    const reads: Record<string, unknown>[] = [];
    let plainReads = 0;
    stub(ddb(BACKUP), 'GetItemCommand', (sent) => {
      reads.push(sent);
      const seen = sent.TableName === THIRD.name || ++plainReads === 3;
      return { ...(seen ? { Item: { ...(sent.Key as object), [DRILL_TAG]: { S: i.runId } } } : {}) };
    });

    // act
    const r = await execute(i, only({ tables: [PLAIN, THIRD, PITR] }), { tick: 4 });

    // assess
    expect(r.checkpoints.slice(0, 11)).toEqual([
      'progress-1',
      'progress-2',
      'canary-ddb-0',
      'canary-ddb-1',
      'canary-ddb-2',
      'canary-ddb-check-0',
      'canary-ddb-wait-0 (wait 5 s)',
      'canary-ddb-check-1',
      'canary-ddb-wait-1 (wait 5 s)',
      'canary-ddb-check-2',
      'progress-3',
    ]);
    // readings: the writes at 0, 4 and 8 s; drill-third seen at 12 s, drill-plain at 16 s
    expect(r.lines.slice(0, 4)).toEqual([
      '*Drill report* (objectives: RPO 5 min, RTO 60 min): 2 passed, 0 failed, 1 not measured.',
      ':heavy_minus_sign: RPO DynamoDB `drill-pitr`: not measured (objective 5 min) — the replica in us-west-2 is creating',
      ':white_check_mark: RPO DynamoDB `drill-third` → us-west-2: 8 s (objective 5 min)',
      ':white_check_mark: RPO DynamoDB `drill-plain` → us-west-2: 16 s (objective 5 min)',
    ]);
    expect(r).toMatchObject({ ok: true, failures: [] });
    // only the canary's key read, in the backup region: drill-plain three times, drill-third once
    const key = { pk: { S: `drbot-drill#${i.runId}` } };
    expect(reads).toEqual([
      { TableName: PLAIN.name, Key: key },
      { TableName: THIRD.name, Key: key },
      { TableName: PLAIN.name, Key: key },
      { TableName: PLAIN.name, Key: key },
    ]);
    for (const t of [PLAIN, THIRD, PITR]) expect(await canaryItem(t.name, i.runId)).toBeUndefined();
  });

  it('a canary refused (PutItem), the replica unreadable (GetItem refused in us-west-2): both measures fail, the watch stops at once, said (RPO 100 min: the wait\'s bound three hours)', async () => {
    // prepare
    configure({ s3: { buckets: [] }, dynamodb: { tables: [{ name: THIRD.name }, { name: PLAIN.name }] }, objectives: { rpoMinutes: 100, rtoMinutes: 60 } });
    replicas({ [PLAIN.name]: 'ACTIVE' });
    fail(ddb(), 'PutItemCommand', ACCESS_DENIED, { when: (sent) => sent.TableName === THIRD.name });
    fail(ddb(BACKUP), 'GetItemCommand', ACCESS_DENIED);
    const i = input();

    // act
    const r = await execute(i, only({ tables: [THIRD, PLAIN] }));

    // assess
    expect(r.checkpoints.slice(2, 6)).toEqual(['canary-ddb-0', 'canary-ddb-1', 'canary-ddb-check-0', 'progress-3']);
    expect(r.failures).toEqual([
      `canary item in drill-third: PutItem on \`drill-third\` failed: ${DENIED}`,
      `reading the replica of drill-plain in us-west-2: GetItem on \`drill-plain\` failed: ${DENIED}`,
      'RPO of DynamoDB `drill-third` missed its objective',
    ]);
    expect(r.lines[1]).toBe(':x: RPO DynamoDB `drill-third`: not measured (objective 100 min) — the canary could not be written');
    // as for S3: not "after 3 h", the watch stopped at its first read
    expect(r.lines[2]).toBe(':heavy_minus_sign: RPO DynamoDB `drill-plain` → us-west-2: not measured (objective 100 min) — the replica in us-west-2 could not be read, so the lag was not measured');
    expect(await canaryItem(THIRD.name, i.runId)).toBeUndefined();
    expect(await canaryItem(PLAIN.name, i.runId)).toBeUndefined();
  });

  it('a read that keeps failing (5xx after the step\'s retries) stops the watch, said with the backup region: the replica not measured', async () => {
    // prepare: GetItem in us-west-2 answers 503 every time (SDK middleware)
    configure({ s3: { buckets: [] }, dynamodb: { tables: [{ name: PLAIN.name }] } });
    replicas({ [PLAIN.name]: 'ACTIVE' });
    fail(ddb(BACKUP), 'GetItemCommand', SERVICE_UNAVAILABLE);
    const i = input();

    // act
    const r = await execute(i, only({ tables: [PLAIN] }));

    // assess: one read, then the watch stops
    expect(count(r, /^canary-ddb-check-\d+$/)).toBe(1);
    expect(r.failures[0]).toMatch(/^reading the table replicas in us-west-2: GetItem on `drill-plain` failed/);
    expect(r.lines[1]).toBe(':heavy_minus_sign: RPO DynamoDB `drill-plain` → us-west-2: not measured (objective 5 min) — the replica in us-west-2 could not be read, so the lag was not measured');
    expect(await canaryItem(PLAIN.name, i.runId)).toBeUndefined();
  });

  it('never readable in the replica: read every 5 s for twice the RPO when that is over 5 min, then the measure fails with the time waited', async () => {
    // prepare: RPO 3 min, so 6 min of reads; moto's us-west-2 table never gets the item
    configure({ s3: { buckets: [] }, dynamodb: { tables: [{ name: PLAIN.name }] }, objectives: { rpoMinutes: 3, rtoMinutes: 60 } });
    replicas({ [PLAIN.name]: 'ACTIVE' });

    // act
    const r = await execute(input(), only({ tables: [PLAIN] }));

    // assess
    // waits of the whole bound, a check before each and one after the last
    expect(count(r, /^canary-ddb-check-\d+$/)).toBe(73);
    expect(count(r, /^canary-ddb-wait-\d+ \(wait 5 s\)$/)).toBe(72);
    expect(r.lines[1]).toBe(':x: RPO DynamoDB `drill-plain` → us-west-2: not measured (objective 3 min) — the canary was not readable in us-west-2 after 6 min 0 s');
    expect(r.failures).toEqual(['RPO of DynamoDB `drill-plain` → us-west-2 missed its objective']);
  });
});

describe('restore: a PITR restore timed to ACTIVE and counted', () => {
  beforeEach(() => configure({ s3: { buckets: [] }, dynamodb: { tables: [{ name: PITR.name }] } }));
  const restoring = (i: DrillInput & AnyRunInput) => only({ restore: { table: PITR.name, region: PRIMARY, target: drillTableName(PITR.name, i.runId) } });

  /** DescribeTable of the restored table answers `status(n)` at its n-th call: a status, or an error to throw. */
  function restoredStatus(target: string, status: (n: number) => string | Error): void {
    let n = 0;
    rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (out, sent) => {
      if (sent.TableName !== target) return out;
      const s = status(++n);
      if (s instanceof Error) throw s;
      return { ...out, Table: { ...out.Table, TableStatus: s as never } };
    });
  }

  it('RestoreTableToPointInTime refused: the measure fails, said, nothing is waited on', async () => {
    fail(ddb(), 'RestoreTableToPointInTimeCommand', ACCESS_DENIED);
    const i = input();

    const r = await execute(i, restoring(i));

    const target = drillTableName(PITR.name, i.runId);
    expect(r.checkpoints.slice(3, 5)).toEqual(['restore-start', 'progress-4']);
    expect(r.failures).toEqual([`PITR restore of drill-pitr: RestoreTableToPointInTime on \`drill-pitr\` failed: ${DENIED}`, `RTO of restore \`drill-pitr\` → \`${target}\` missed its objective`]);
    expect(r.lines[1]).toBe(`:x: RTO restore \`drill-pitr\` → \`${target}\`: not measured (objective 60 min) — the restore failed`);
    expect(await tables()).not.toContain(target);
  });

  it('CREATING, then a check refused, then ACTIVE (SDK middleware on DescribeTable): polled every 30 s, timed from the start to the count, counts that differ said', async () => {
    // prepare: the source counted two more than the copy (writes since the restore time)
    const i = input();
    const target = drillTableName(PITR.name, i.runId);
    restoredStatus(target, (n) => (n === 1 ? 'CREATING' : n === 2 ? Object.assign(new Error(DENIED), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }) : 'ACTIVE'));
    rewrite<ScanCommandOutput>(ddb(), 'ScanCommand', (out, sent) => (sent.TableName === PITR.name ? { ...out, Count: (out.Count ?? 0) + 2 } : out));

    // act
    const r = await execute(i, restoring(i), { tick: 9 });

    // assess
    expect(r.checkpoints.slice(3, 11)).toEqual(['restore-start', 'restore-check-0', 'restore-wait-0 (wait 30 s)', 'restore-check-1', 'restore-wait-1 (wait 30 s)', 'restore-check-2', 'restore-count', 'progress-4']);
    expect(r.lines.slice(0, 2)).toEqual([
      '*Drill report* (objectives: RPO 5 min, RTO 60 min): 1 passed, 0 failed, 0 not measured.',
      `:white_check_mark: RTO restore \`drill-pitr\` → \`${target}\`: 9 s (objective 60 min) — 3 items restored, 5 in the table now: they differ by 2 (writes since the restore time)`,
    ]);
    expect(r.lines[2]).toBe(`*Removed:* temporary table \`${target}\` deleted.`);
    expect(await tables()).not.toContain(target);
  });

  it('a copy larger than one count can scan (SDK middleware: every Scan page of it says more follow): DynamoDB\'s own count, said approximate', async () => {
    const i = input();
    const target = drillTableName(PITR.name, i.runId);
    stub<ScanCommandOutput>(ddb(), 'ScanCommand', (sent) => (sent.TableName === target ? { Count: 1, LastEvaluatedKey: { pk: { S: 'more' } } } : undefined));
    rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (out, sent) => (sent.TableName === target ? { ...out, Table: { ...out.Table, ItemCount: 1234 } } : out));

    const r = await execute(i, restoring(i));

    expect(r.lines[1]).toBe(`:white_check_mark: RTO restore \`drill-pitr\` → \`${target}\`: 1 s (objective 60 min) — 1,234 items restored, 3 in the table now (approximate): they differ by 1,231 (writes since the restore time)`);
  });

  it('never ACTIVE: checked every 30 s for twice the RTO, then the measure fails with the minutes waited', async () => {
    configure({ s3: { buckets: [] }, dynamodb: { tables: [{ name: PITR.name }] }, objectives: { rpoMinutes: 5, rtoMinutes: 2 } });
    const i = input();
    const target = drillTableName(PITR.name, i.runId);
    restoredStatus(target, () => 'CREATING');

    const r = await execute(i, restoring(i));

    // waits of the whole bound, a check before each and one after the last
    expect(count(r, /^restore-check-\d+$/)).toBe(9);
    expect(count(r, /^restore-wait-\d+ \(wait 30 s\)$/)).toBe(8);
    expect(r.failures).toEqual([`the restore of drill-pitr was not ACTIVE after 4 min`, `RTO of restore \`drill-pitr\` → \`${target}\` missed its objective`]);
    expect(r.lines[1]).toBe(`:x: RTO restore \`drill-pitr\` → \`${target}\`: not measured (objective 2 min) — not ACTIVE within 4 min`);
    expect(await tables()).not.toContain(target);
  });

  it('the restored table gone (DescribeTable answers ResourceNotFound): the measure fails at once, said', async () => {
    const i = input();
    const target = drillTableName(PITR.name, i.runId);
    fail(ddb(), 'DescribeTableCommand', { name: 'ResourceNotFoundException', message: 'Requested resource not found', status: 400 }, { when: (sent) => sent.TableName === target });

    const r = await execute(i, restoring(i));

    expect(r.checkpoints.slice(3, 6)).toEqual(['restore-start', 'restore-check-0', 'progress-4']);
    expect(r.failures).toEqual([`the restored table ${target} is gone`, `RTO of restore \`drill-pitr\` → \`${target}\` missed its objective`]);
    expect(r.lines[1]).toBe(`:x: RTO restore \`drill-pitr\` → \`${target}\`: not measured (objective 60 min) — the restored table went missing`);
    undoFaults();
    await rig.durable((ctx, d) => cleanUp(ctx, d, i.runId));
  });

  it('the copy cannot be counted (Scan refused): the measure fails, said', async () => {
    const i = input();
    const target = drillTableName(PITR.name, i.runId);
    fail(ddb(), 'ScanCommand', ACCESS_DENIED, { when: (sent) => sent.TableName === target });

    const r = await execute(i, restoring(i));

    expect(r.failures).toEqual([`counting the restored items: Scan on \`${target}\` failed: ${DENIED}`, `RTO of restore \`drill-pitr\` → \`${target}\` missed its objective`]);
    expect(r.lines[1]).toBe(`:x: RTO restore \`drill-pitr\` → \`${target}\`: not measured (objective 60 min) — restored, but its items could not be counted`);
    expect(await tables()).not.toContain(target);
  });

  it('restores to the newest restorable time, or five minutes before the start when AWS gives none; tags the copy, found by name when the answer lacks its ARN', async () => {
    // prepare: what the restore is sent; the answers as AWS may give them
    const sent: Record<string, unknown>[] = [];
    rewrite<RestoreTableToPointInTimeCommandOutput>(ddb(), 'RestoreTableToPointInTimeCommand', (out, input) => {
      sent.push(input);
      return { ...out, TableDescription: { ...out.TableDescription, TableArn: undefined } };
    });
    const latest = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    let withLatest = true;
    rewrite<DescribeContinuousBackupsCommandOutput>(ddb(), 'DescribeContinuousBackupsCommand', (out) => {
      const d = out.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
      return { ...out, ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { ...d, PointInTimeRecoveryStatus: 'ENABLED', LatestRestorableDateTime: withLatest ? latest : undefined } } };
    });
    const a = input({ keep: true });
    const b = input({ keep: true });

    // act
    const ra = await execute(a, restoring(a));
    withLatest = false;
    const rb = await execute(b, restoring(b));

    // assess
    expect(sent.map((s) => [s.TargetTableName, (s.RestoreDateTime as Date).toISOString()])).toEqual([
      [drillTableName(PITR.name, a.runId), latest.toISOString()],
      // the clock's first reading, T0, less five minutes
      [drillTableName(PITR.name, b.runId), '2026-12-01T02:55:00.000Z'],
    ]);
    for (const [x, r] of [[a, ra], [b, rb]] as const) {
      expect(r).toMatchObject({ ok: true, failures: [] });
      const arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${drillTableName(PITR.name, x.runId)}`;
      expect((await ddb().send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: DRILL_TAG, Value: x.runId }]);
      undoFaults();
      await rig.durable((ctx, d) => cleanUp(ctx, d, x.runId));
    }
  });

  it('the copy made but its tagging refused: the measure fails, and the untagged copy is still removed as this run\'s', async () => {
    fail(ddb(), 'TagResourceCommand', ACCESS_DENIED);
    const i = input();
    const target = drillTableName(PITR.name, i.runId);

    const r = await execute(i, restoring(i));

    expect(r.failures).toEqual([`PITR restore of drill-pitr: TagResource on \`arn:aws:dynamodb:us-east-1:123456789012:table/${target}\` failed: ${DENIED}`, `RTO of restore \`drill-pitr\` → \`${target}\` missed its objective`]);
    expect(r.lines[2]).toBe(`*Removed:* temporary table \`${target}\` deleted.`);
    expect(await tables()).not.toContain(target);
  });
});

describe('the run as a whole', () => {
  it('a step failing in a way not foreseen stops the drill, said (cut to 300 characters), and the clean-up still runs; a thrown non-error said as it is', async () => {
    // prepare: the progress step after the compute throws (the step answered with the error instead of run)
    configure({ s3: pairs(SRC), dynamodb: { tables: [] } });
    const long = `progress could not be shown: ${'x'.repeat(400)}`;
    const i = input();
    const j = input();

    // act
    const r = await execute(i, only({ ami: AMI(), buckets: [SRC] }), { answer: (step) => (step === 'progress-1' ? Promise.reject(new Error(long)) : undefined) });
    const q = await execute(j, only({ buckets: [SRC] }), { answer: (step) => (step === 'progress-2' ? Promise.reject('the wire was cut') : undefined) });

    // assess
    const id = await launched(i.runId);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.failures).toEqual([`the drill stopped: ${long.slice(0, 300)}`]);
    expect(r.checkpoints).toEqual(['launch', 'instance-0', 'progress-1', 'cleanup-instances', 'cleanup-instances-check-0', 'cleanup-s3-0', 'cleanup-s3-1', 'keep-report', 'post-ops']);
    expect(r.lines).toEqual([
      '*Drill report* (objectives: RPO 5 min, RTO 60 min): 1 passed, 0 failed, 0 not measured.',
      `:white_check_mark: RTO compute (t3.nano from \`${ami}\`): 1 s (objective 60 min) — instance \`${id}\` running`,
      `*Removed:* instance \`${id}\` terminated.`,
    ]);
    expect(r.ok).toBe(false);
    expect(await keptReport(i.runId)).toMatchObject({ ok: false, failures: 1, cleanup: 'removed' });
    expect((await instancesOf(i.runId))[0]?.State?.Name).toBe('terminated');
    expect(q.failures).toEqual(['the drill stopped: the wire was cut']);
    // the canary written before the stop is removed
    expect(q.lines.at(-1)).toBe('*Removed:* 1 canary object version in `drill-src`; 1 canary object version in `drill-rep`.');
    expect(await canaryVersions(SRC.name, PRIMARY, j.runId)).toBe(0);
  });

  it('the SDK\'s own control flow (a step interrupted) is not taken for a failure of the drill: it ends the invocation', async () => {
    class StepInterruptedError extends Error {}
    configure({ s3: { buckets: [] }, dynamodb: { tables: [] } });
    const i = input();

    const r = await execute(i, only({ ami: AMI() }), { answer: (step) => (step === 'progress-1' ? Promise.reject(new StepInterruptedError('interrupted')) : undefined) });

    expect(r.status).toBe('FAILED');
    expect(r.checkpoints).not.toContain('keep-report');
    expect(await keptReport(i.runId)).toBeUndefined();
    await rig.durable((ctx, d) => cleanUp(ctx, d, i.runId));
  });

  it('nothing to measure (no backup AMI, no replicated bucket, no table): both findings are failures, nothing is removed, and Back up AMIs is offered; scheduled, the report says so', async () => {
    // prepare
    configure({ s3: { buckets: [] }, dynamodb: { tables: [] } });
    stub<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', () => ({ Images: [] }));
    const i = input({ schedule: { name: 'drill-monthly', at: '2027-01-01T03:00:00Z' } });
    const p = await planned(i);

    // act
    const r = await execute(i, p, { slackDown: true });

    // assess
    const findings = ['no available backup AMI in us-west-2 (tagged backup=true): the compute step is skipped. Run `/dr backup amis` first.', 'no configured table has point-in-time recovery on: no restore. `/dr setup dynamodb` turns it on.'];
    expect(r).toMatchObject({
      status: 'SUCCEEDED',
      ok: false,
      failures: findings,
      lines: ['*Drill report* (objectives: RPO 5 min, RTO 60 min): 0 passed, 0 failed, 0 not measured.', '*Removed:* nothing was left to remove.'],
      next: [{ label: 'Back up AMIs', command: 'backup amis' }],
    });
    expect(r.reports).toEqual(progress);
    // the ops post was tried (Slack down: the run goes on)
    expect(r.posts.map((x) => x.msg.text)).toEqual([`DR drill ${i.runId}: failed`]);
    expect(await keptReport(i.runId)).toEqual({ runId: i.runId, at: '2026-12-01T03:00:00.000Z', ok: false, scheduled: true, measures: [], failures: 2, cleanup: 'removed' });
  });

  it('a clean-up that removes nothing because AWS refuses every delete says "nothing", not "nothing was left to remove"', async () => {
    // prepare: both canary deletes refused
    configure({ s3: pairs(SRC), dynamodb: { tables: [] } });
    fail(s3(BACKUP), 'DeleteObjectCommand', ACCESS_DENIED);
    fail(s3(PRIMARY), 'DeleteObjectCommand', ACCESS_DENIED);
    const i = input();

    // act
    const r = await execute(i, only({ buckets: [SRC] }));

    // assess
    expect(r.ok).toBe(false);
    expect(r.lines.slice(-2)).toEqual(['*Removed:* nothing.', `:warning: The clean-up did not finish: *Clean up now* tries again (\`/dr drill cleanup ${i.runId}\`).`]);
    expect(r.failures).toHaveLength(2);
    expect(await keptReport(i.runId)).toMatchObject({ cleanup: 'incomplete' });
  });

  it('a clean-up AWS refuses (DeleteObject in the replica): said, the run failed, Clean up now offered before Back up AMIs, the report incomplete', async () => {
    // prepare
    configure({ s3: pairs(SRC), dynamodb: { tables: [] } });
    fail(s3(BACKUP), 'DeleteObjectCommand', ACCESS_DENIED);
    const i = input();

    // act
    const r = await execute(i, only({ amiProblem: 'no AMI for this test.', buckets: [SRC] }));

    // assess
    expect(r.ok).toBe(false);
    expect(r.lines.slice(-2)).toEqual(['*Removed:* 1 canary object version in `drill-src`.', `:warning: The clean-up did not finish: *Clean up now* tries again (\`/dr drill cleanup ${i.runId}\`).`]);
    expect(r.failures).toEqual(['no AMI for this test.', `clean-up of the canary in drill-rep: DeleteObject on \`drill-rep/.drbot-drill/${i.runId}\` failed: ${DENIED}`]);
    expect(r.next).toEqual([
      { label: 'Clean up now', command: `drill cleanup ${i.runId}`, style: 'danger' },
      { label: 'Back up AMIs', command: 'backup amis' },
    ]);
    expect(await keptReport(i.runId)).toMatchObject({ ok: false, failures: 2, cleanup: 'incomplete' });
    expect(await canaryVersions(SRC.replica, BACKUP, i.runId)).toBe(1);
    undoFaults();
    await rig.durable((ctx, d) => cleanUp(ctx, d, i.runId));
  });

  it('a report longer than a Slack section is cut to 2,900 characters in the ops post; the run\'s own lines keep all of it', async () => {
    // prepare: twelve tables with long names that do not exist (each canary refused: a long line each)
    const names = Array.from({ length: 12 }, (_, n) => `spawn-${'x'.repeat(200)}-${n}`);
    configure({ s3: { buckets: [] }, dynamodb: { tables: names.map((name) => ({ name })) } });
    const i = input();

    // act
    const r = await execute(i, only({ tables: names.map((name) => ({ name, region: PRIMARY })) }));

    // assess
    // the head, a line a table, what was removed (nothing) and the clean-up of their canaries failing
    expect(r.lines).toHaveLength(15);
    expect(r.failures[0]).toBe(`canary item in ${names[0] ?? ''}: Table \`${names[0] ?? ''}\` does not exist.`);
    const full = [`DR drill \`${i.runId}\` requested in <#C1>:`, ...r.lines].join('\n');
    expect(full.length).toBeGreaterThan(2900);
    expect(r.posts).toEqual([{ channel: SANDBOX_CHANNEL, msg: { text: `DR drill ${i.runId}: failed`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: full.slice(0, 2900), verbatim: true } }] } }]);
  });

  it('how a measure reads: its icon, kind, component, value or "not measured", objective and note', () => {
    expect(measureLine({ component: 'compute', kind: 'rto', seconds: 3725, objectiveMinutes: 60, result: 'fail' })).toBe(':x: RTO compute: 1 h 2 min (objective 60 min)');
    expect(measureLine({ component: 'S3 `b`', kind: 'rpo', objectiveMinutes: 5, result: 'none', note: 'no replica' })).toBe(':heavy_minus_sign: RPO S3 `b`: not measured (objective 5 min) — no replica');
    expect(measureLine({ component: 'S3 `b`', kind: 'rpo', seconds: 0, objectiveMinutes: 5, result: 'pass', note: '' })).toBe(':white_check_mark: RPO S3 `b`: 0 s (objective 5 min)');
  });

  it('how long a canary is watched: twice the RPO, at least the floor, at most three hours (the polls of that long)', () => {
    // S3, every 15 s: RPO 5 min → the 15-minute floor; 10 min → 20; 100 min → three hours, not 200 min
    expect([canaryPolls(5, 15, 15), canaryPolls(10, 15, 15), canaryPolls(100, 15, 15), canaryPolls(90, 15, 15)]).toEqual([60, 80, 720, 720]);
    // DynamoDB, every 5 s: RPO 1 min → the 5-minute floor; 3 → 6 min; a day → three hours
    expect([canaryPolls(1, 5, 5), canaryPolls(3, 5, 5), canaryPolls(1440, 5, 5)]).toEqual([60, 72, 2160]);
    // a poll interval that does not divide the time: one more poll, not one short
    expect(canaryPolls(5, 15, 7)).toBe(129);
  });
});
