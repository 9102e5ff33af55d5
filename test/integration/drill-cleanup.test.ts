/**
 * The drill's clean-up (src/runbooks/drill/cleanup.ts) on its own, against moto: what a drill run
 * left, found by its run id alone (instances tagged with it, every version of its canary key in each
 * replicated bucket and replica, its canary items, its temporary tables), and removed part by part,
 * a failing part not stopping the others, while another run's things and everything else stay. The
 * drill flows through Slack are test/integration/drill.test.ts; these need no local stack, so
 * `npm run mutate` can run them for each mutant.
 *
 * moto terminates an instance at once and never refuses a call: an instance still running and the
 * refusals are SDK middleware on the runbook's clients, and each test says so.
 */
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, type DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import { canaryItemKey, canaryKey, DRILL_TAG, drillTableName } from '../../src/aws/drill';
import { type CleanupResult, cleanUp, findLeftovers, leftoverLines } from '../../src/runbooks/drill/cleanup';
import type { DrillCleanupInput } from '../../src/runbooks/drill-cleanup';
import { runbook } from '../../src/runbooks/drill-cleanup/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { launch } from '../helpers/ec2-instances';
import { useRunbookRig, watchSteps } from '../helpers/runbook-rig';
import { createSourceTable } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);

let runs = 0;
/** A drill run id of its own for each test (moto keeps what earlier tests made). */
const nextRun = () => `r-00000000d${(++runs).toString(16).padStart(3, '0')}`;
const BUCKET = 'spawn-binaries-us-east-1';
const REPLICA = 'spawn-binaries-us-west-2-backup';
const TABLES = ['spawn-instances', 'spawn-queues', 'spawn-alerts'];
const ddb = () => rig.moto().clients.dynamodb('us-east-1');
const west = () => rig.moto().clients.ec2('us-west-2');

/** An instance in the backup region tagged with a drill run. */
async function instance(runId: string): Promise<string> {
  return (await launch(west(), 1, { [DRILL_TAG]: runId }, 'ami-12c6146b'))[0] ?? '';
}

/** The canary object of a run: three versions and a delete marker in the bucket, one version in the replica. */
async function canary(runId: string): Promise<void> {
  const key = canaryKey(runId);
  await rig.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'one' }));
  await rig.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'two' }));
  await rig.s3().send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  await rig.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'three' }));
  await rig.s3('us-west-2').send(new PutObjectCommand({ Bucket: REPLICA, Key: key, Body: 'three' }));
}

/** The canary item of a run in a table (its key from the run id), marked as the run's, or as `markedFor`'s. */
async function item(table: string, runId: string, markedFor = runId): Promise<void> {
  await ddb().send(new PutItemCommand({ TableName: table, Item: { ...canaryItemKey({ schema: [{ name: 'pk', type: 'S' }] }, runId), [DRILL_TAG]: { S: markedFor } } }));
}

/** A temporary table of a run, tagged as told (no tag: a restore whose tagging failed). */
async function drillTable(table: string, runId: string, tag?: string): Promise<string> {
  const name = drillTableName(table, runId);
  await createSourceTable(ddb(), name, tag ? { tags: { [DRILL_TAG]: tag } } : {});
  return name;
}

const versionsOf = async (region: string, bucket: string, runId: string) => {
  const r = await rig.s3(region).send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: canaryKey(runId) }));
  return (r.Versions ?? []).length + (r.DeleteMarkers ?? []).length;
};
const running = async () =>
  ((await west().send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.State?.Name === 'running').map((i) => i.InstanceId ?? '');
const tables = async () => (await ddb().send(new ListTablesCommand({}))).TableNames ?? [];
const itemOf = async (table: string, runId: string) => (await ddb().send(new GetItemCommand({ TableName: table, Key: canaryItemKey({ schema: [{ name: 'pk', type: 'S' }] }, runId) }))).Item?.[DRILL_TAG]?.S;
const clean = (runId: string) => rig.durable<CleanupResult>((ctx, d) => cleanUp(ctx, d, runId));

beforeAll(async () => {
  await rig.makeBucket(BUCKET, 'us-east-1');
  await rig.makeBucket(REPLICA, 'us-west-2');
  for (const t of TABLES) await createSourceTable(ddb(), t, { items: 2 });
});

describe('a drill run left everything behind', () => {
  let R = '';
  let OTHER = '';
  let mine: string;
  let theirs: string;

  beforeEach(async () => {
    R = nextRun();
    OTHER = nextRun();
    mine = await instance(R);
    theirs = await instance(OTHER);
    await canary(R);
    await canary(OTHER);
    await item('spawn-instances', R);
    await item('spawn-queues', R);
    await item('spawn-instances', OTHER);
    // an item at this run's key that another run marked: not this run's
    await item('spawn-alerts', R, OTHER);
    await drillTable('spawn-instances', R, R);
    await drillTable('spawn-queues', R);
    await drillTable('spawn-instances', OTHER, OTHER);
  });

  it('finds what is this run\'s, by its id alone, and lists it', async () => {
    const l = await findLeftovers(rig.deps(), R);

    expect(l).toEqual({
      instances: [mine],
      objects: [
        { bucket: BUCKET, region: 'us-east-1' },
        { bucket: REPLICA, region: 'us-west-2' },
      ],
      items: ['spawn-instances', 'spawn-queues'],
      tables: [drillTableName('spawn-instances', R), drillTableName('spawn-queues', R)],
    });
    expect(leftoverLines(l, 'us-west-2')).toEqual([
      `instance \`${mine}\` in us-west-2`,
      `canary object \`${BUCKET}/.drbot-drill/…\` (every version of the run's key)`,
      `canary object \`${REPLICA}/.drbot-drill/…\` (every version of the run's key)`,
      'canary item in `spawn-instances`',
      'canary item in `spawn-queues`',
      `temporary table \`${drillTableName('spawn-instances', R)}\``,
      `temporary table \`${drillTableName('spawn-queues', R)}\``,
    ]);
  });

  it('removes all of it and nothing else: the other run\'s instance, canary, item and table stay', async () => {
    // act
    const r = await clean(R);

    // assess
    expect(r).toEqual({
      removed: [
        `instance \`${mine}\` terminated`,
        `4 canary object versions in \`${BUCKET}\``,
        `1 canary object version in \`${REPLICA}\``,
        'canary item in `spawn-instances`',
        `temporary table \`${drillTableName('spawn-instances', R)}\` deleted`,
        'canary item in `spawn-queues`',
        `temporary table \`${drillTableName('spawn-queues', R)}\` deleted`,
      ],
      failures: [],
    });
    const up = await running();
    expect(up).toContain(theirs);
    expect(up).not.toContain(mine);
    expect(await versionsOf('us-east-1', BUCKET, R)).toBe(0);
    expect(await versionsOf('us-west-2', REPLICA, R)).toBe(0);
    expect(await versionsOf('us-east-1', BUCKET, OTHER)).toBe(4);
    expect(await versionsOf('us-west-2', REPLICA, OTHER)).toBe(1);
    expect(await itemOf('spawn-instances', R)).toBeUndefined();
    expect(await itemOf('spawn-queues', R)).toBeUndefined();
    expect(await itemOf('spawn-instances', OTHER)).toBe(OTHER);
    expect(await itemOf('spawn-alerts', R)).toBe(OTHER);
    const left = await tables();
    expect(left).toContain(drillTableName('spawn-instances', OTHER));
    expect(left).not.toContain(drillTableName('spawn-instances', R));
    expect(left).not.toContain(drillTableName('spawn-queues', R));
    for (const t of TABLES) expect(left).toContain(t);

    // run again (a resumed run, or /dr drill cleanup): nothing left to do
    expect(await clean(R)).toEqual({ removed: [], failures: [] });
  });

  it('a temporary table with this run\'s name but another run\'s tag is left alone, and said', async () => {
    const name = await drillTable('spawn-alerts', R, OTHER);

    await expect(findLeftovers(rig.deps(), R)).rejects.toMatchObject({ code: 'drill_not_ours', message: `\`${name}\` is tagged \`${DRILL_TAG}=${OTHER}\`, not this run's: left alone.`, hint: 'Remove it by hand if it should go.' });
    const r = await clean(R);

    expect(r.failures).toEqual([`clean-up of the temporary table of spawn-alerts: \`${name}\` is tagged \`${DRILL_TAG}=${OTHER}\`, not this run's: left alone.`]);
    expect(r.removed).toHaveLength(7);
    expect(await tables()).toContain(name);
  });

  it('a temporary table whose tags cannot be read is left alone (it may be another run\'s), the rest removed', async () => {
    // prepare: named for this run, tagged for another, and ListTagsOfResource refused
    const name = await drillTable('spawn-alerts', R, OTHER);
    fail(ddb(), 'ListTagsOfResourceCommand', ACCESS_DENIED, { when: (input) => String(input.ResourceArn).endsWith(`/${name}`) });

    // act
    const r = await clean(R);

    // assess
    expect(await tables()).toContain(name);
    expect(r.failures).toEqual([expect.stringMatching(/^clean-up of the temporary table of spawn-alerts: ListTagsOfResource on `.+` failed: User is not authorized/)]);
    expect(r.removed).toHaveLength(7);
  });

  it('each part refused fails alone: the others are still removed (moto refuses nothing: SDK middleware does)', async () => {
    // prepare: TerminateInstances, the replica's DeleteObject, one table's DeleteItem and another's DeleteTable refused
    fail(west(), 'TerminateInstancesCommand', ACCESS_DENIED);
    fail(rig.s3('us-west-2'), 'DeleteObjectCommand', ACCESS_DENIED);
    fail(ddb(), 'DeleteItemCommand', ACCESS_DENIED, { when: (input) => input.TableName === 'spawn-queues' });
    fail(ddb(), 'DeleteTableCommand', ACCESS_DENIED, { when: (input) => input.TableName === drillTableName('spawn-instances', R) });

    // act
    const r = await clean(R);

    // assess
    expect(r.failures).toEqual([
      expect.stringMatching(/^clean-up of the instance: TerminateInstances on `i-[0-9a-f]+` failed: User is not authorized/),
      expect.stringMatching(new RegExp(`^clean-up of the canary in ${REPLICA}: DeleteObject on \`${REPLICA}/.drbot-drill/${R}\` failed: User is not authorized`)),
      expect.stringMatching(new RegExp(`^clean-up of the temporary table of spawn-instances: DeleteTable on \`${drillTableName('spawn-instances', R)}\` failed`)),
      expect.stringMatching(/^clean-up of the canary item in spawn-queues: DeleteItem on `spawn-queues` failed/),
    ]);
    expect(r.removed).toEqual([`4 canary object versions in \`${BUCKET}\``, 'canary item in `spawn-instances`', `temporary table \`${drillTableName('spawn-queues', R)}\` deleted`]);
    expect(await running()).toContain(mine);
    expect(await versionsOf('us-west-2', REPLICA, R)).toBe(1);
    expect(await itemOf('spawn-queues', R)).toBe(R);
  });

  describe('as `/dr drill cleanup RUN_ID` (drill-cleanup/runbook.ts)', () => {
    const input = (dryRun = false): DrillCleanupInput & AnyRunInput =>
      ({ kind: 'drill-cleanup', runId: nextRun(), requester: 'UALICE', channel: 'C1', commandText: `/dr drill cleanup ${R}`, requestedAt: new Date().toISOString(), drillRunId: R, dryRun }) as DrillCleanupInput & AnyRunInput;
    const plan = (i: DrillCleanupInput) => runbook.plan(rig.deps(), i, { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });

    it('is destructive, holds the drill run as its resource, and plans every leftover by the run id; a dry run says "Would remove"', async () => {
      const i = input();
      expect(runbook.title(i)).toBe(`Clean-up of drill \`${R}\``);
      expect(runbook.destructive).toBe(true);
      expect(runbook.resources?.(i)).toEqual([`drill-cleanup:${R}`]);
      const p = await plan(i);
      expect(p.empty).toBeUndefined();
      expect(p.lines).toEqual([`Removes what drill \`${R}\` created (found by its id; nothing else is touched):`, ...leftoverLines(p.data, 'us-west-2')]);
      expect(p.lines).toHaveLength(8);
      expect((await plan(input(true))).lines[0]).toBe(`Would remove what drill \`${R}\` created (found by its id; nothing else is touched):`);
    });

    it('removes it all and says what, in one line; no button', async () => {
      const i = input();
      const p = await plan(i);
      const r = await rig.execute(runbook, i, p.data);
      expect(r.ok).toBe(true);
      expect(r.failures).toEqual([]);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(new RegExp(`^\\*Removed:\\* instance \`${mine}\` terminated; 4 canary object versions in \`${BUCKET}\`; .*\\.$`));
      expect(r.next).toBeUndefined();
      expect(await running()).not.toContain(mine);
    });

    it('a part refused fails the run with a "Clean up now" button that runs the clean-up again', async () => {
      const i = input();
      const p = await plan(i);
      fail(west(), 'TerminateInstancesCommand', ACCESS_DENIED);
      const r = await rig.execute(runbook, i, p.data);
      expect(r.ok).toBe(false);
      expect(r.failures).toEqual([expect.stringMatching(/^clean-up of the instance: TerminateInstances/)]);
      expect(r.next).toEqual([{ label: 'Clean up now', command: `drill cleanup ${R}`, style: 'danger' }]);
      expect(await running()).toContain(mine);
    });
  });

  it('instances still running after 40 checks (moto terminates at once: SDK middleware shows them running) are reported with the time waited', async () => {
    const second = await instance(R);
    rewrite<DescribeInstancesCommandOutput>(west(), 'DescribeInstancesCommand', (out) => ({
      ...out,
      Reservations: (out.Reservations ?? []).map((x) => ({ ...x, Instances: (x.Instances ?? []).map((i) => ([mine, second].includes(i.InstanceId ?? '') ? { ...i, State: { Name: 'running', Code: 16 } } : i)) })),
    }));
    let checks = 0;
    rewrite(west(), 'DescribeInstancesCommand', (out) => {
      checks++;
      return out;
    });

    const r = await clean(R);

    // not said to be terminated: only that they are not
    expect(r.removed.join('\n')).not.toContain(mine);
    expect(r.removed.join('\n')).not.toContain(second);
    expect(r.failures).toEqual([`instance ${mine}, ${second} not terminated after 10 min`]);
    // one listing to terminate, then 40 checks
    expect(checks).toBe(41);
  });

  it('an instance still running at the first check and ended at the second: one 15 s wait between them, none after (SDK middleware: running once)', async () => {
    let n = 0;
    rewrite<DescribeInstancesCommandOutput>(west(), 'DescribeInstancesCommand', (out) =>
      // the listing to terminate (1) and the first check (2) see it running; moto has ended it by the second check
      ++n > 2 ? out : { ...out, Reservations: (out.Reservations ?? []).map((x) => ({ ...x, Instances: (x.Instances ?? []).map((i) => (i.InstanceId === mine ? { ...i, State: { Name: 'running', Code: 16 } } : i)) })) },
    );
    let checkpoints: string[] = [];
    const r = await rig.durable<CleanupResult>((ctx, d) => {
      const watched = watchSteps(ctx);
      checkpoints = watched.checkpoints;
      return cleanUp(watched.ctx, d, R);
    });

    expect(r.removed).toContain(`instance \`${mine}\` terminated`);
    expect(r.failures).toEqual([]);
    expect(checkpoints.filter((c) => c.startsWith('cleanup-instances'))).toEqual(['cleanup-instances', 'cleanup-instances-check-0', 'cleanup-instances-wait-0 (wait 15 s)', 'cleanup-instances-check-1']);
  });

  it('a check that fails keeps the instances from the last answer, and the wait goes on (SDK middleware: still running, the first check refused)', async () => {
    rewrite<DescribeInstancesCommandOutput>(west(), 'DescribeInstancesCommand', (out) => ({
      ...out,
      Reservations: (out.Reservations ?? []).map((x) => ({ ...x, Instances: (x.Instances ?? []).map((i) => (i.InstanceId === mine ? { ...i, State: { Name: 'running', Code: 16 } } : i)) })),
    }));
    let n = 0;
    fail(west(), 'DescribeInstancesCommand', ACCESS_DENIED, { when: () => ++n === 2 });

    const r = await clean(R);

    expect(r.failures).toEqual([`instance ${mine} not terminated after 10 min`]);
    expect(n).toBe(41);
  });
});

it('nothing left of a run: nothing found, nothing removed', async () => {
  const none = nextRun();
  expect(await findLeftovers(rig.deps(), none)).toEqual({ instances: [], objects: [], items: [], tables: [] });
  expect(await clean(none)).toEqual({ removed: [], failures: [] });
});

it('`/dr drill cleanup` of a run that left nothing: an empty plan saying so; a run of it removes nothing', async () => {
  const none = nextRun();
  const i = { kind: 'drill-cleanup', runId: nextRun(), requester: 'UALICE', channel: 'C1', commandText: `/dr drill cleanup ${none}`, requestedAt: new Date().toISOString(), drillRunId: none, dryRun: false } as DrillCleanupInput & AnyRunInput;
  const p = await runbook.plan(rig.deps(), i, { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
  expect(p).toMatchObject({ empty: true, lines: [`Drill \`${none}\` left nothing behind: no instance, canary or temporary table carries its id.`] });
  const r = await rig.execute(runbook, i, p.data);
  expect(r).toMatchObject({ ok: true, failures: [], lines: ['Nothing was left to remove.'] });
  expect(r.next).toBeUndefined();
});
