import { type DescribeTableCommandOutput, GetItemCommand, type GetItemCommandInput, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { canaryItemKey, canaryKey, DRILL_TAG } from '../../src/aws/drill';
import { replicateDrillCanaries } from '../../src/local/moto-gaps';
import { SANDBOX_CHANNEL, SANDBOX_CRITICAL_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { parseScheduleEvent, startScheduledRun } from '../../src/schedules/start';
import { type DrillMeasure, type DrillReport, DrillStore } from '../../src/store/drills';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCESS_DENIED, fail, rewrite, SERVICE_UNAVAILABLE } from '../helpers/faults';
import { awsRetryWaits, buttons, click, command, recordedSlackWaits, requestRun, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr drill against moto (the sandbox estate, AMI copies made by /dr backup amis): an instance
 * launched from the newest copy in us-west-2 and terminated, the canary object and items written
 * and removed, a PITR restore into <table>-drill-<run id> and its deletion. moto copies nothing
 * between replicated buckets: the sandbox's own stand-in (replicateDrillCanaries in
 * src/local/moto-gaps.ts) copies the drill's canaries, as `npm start` does. moto has no global
 * tables, so tables report "no replica" here, except in the test that mocks the replica region's
 * client with aws-sdk-client-mock (named in its title).
 */

// A drill is some forty checkpointed steps against moto (a 2,000-item table restored and counted twice): room for a loaded machine.
jest.setTimeout(180_000);

const PRIMARY = 'us-east-1';
const BACKUP = 'us-west-2';
const BUCKET = 'spawn-binaries-us-east-1';
const REPLICA = 'spawn-binaries-us-west-2-backup';
const TABLES = ['spawn-instances', 'spawn-queues', 'spawn-alerts'];

describe('/dr drill', () => {
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ slackRetry });
  let stack: LocalStack;

  /** Every instance tagged by a drill (any run), with its state. */
  const drillInstances = async (runId?: string): Promise<Instance[]> => {
    const r = await stack.clients.ec2(BACKUP).send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${DRILL_TAG}`, Values: [runId ?? 'r-*'] }] }));
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  };
  const live = (is: Instance[]) => is.filter((i) => !['terminated', 'shutting-down'].includes(i.State?.Name ?? ''));
  const drillTables = async (): Promise<string[]> => ((await stack.clients.dynamodb(PRIMARY).send(new ListTablesCommand({}))).TableNames ?? []).filter((t) => t.includes('-drill-'));
  const canaryVersions = async (bucket: string, region: string, runId: string) => {
    const r = await stack.clients.s3(region).send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: canaryKey(runId) }));
    return [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])];
  };
  const canaryItem = async (table: string, runId: string) =>
    (await stack.clients.dynamodb(PRIMARY).send(new GetItemCommand({ TableName: table, Key: canaryItemKey({ schema: [{ name: 'pk', type: 'S' }] }, runId) }))).Item;
  const message = (runId: string) => textOf(runMessage(stack.standIn, runId));

  /** AWS as a drill that cleaned up must leave it: nothing tagged or named with its id. */
  async function expectNothingLeft(runId: string): Promise<void> {
    expect(live(await drillInstances(runId))).toEqual([]);
    expect(await drillTables()).toEqual([]);
    expect(await canaryVersions(BUCKET, PRIMARY, runId)).toEqual([]);
    expect(await canaryVersions(REPLICA, BACKUP, runId)).toEqual([]);
  }

  beforeAll(async () => {
    stack = getStack();
    replicateDrillCanaries(stack.clients, stack.config);
    // the backup AMIs a drill launches from
    const copied = await command(stack, 'alice', 'backup amis');
    expect(runSummary(stack, runIdOf(copied))).toMatchObject({ status: 'succeeded' });
  }, 120_000);

  afterEach(() => {
    delete stack.standIn.fault;
  });

  it('plans a dry run naming the AMI, the instance type, the canaries and the restore, and creates nothing', async () => {
    // prepare: the drill instances other tests' drills left (terminated ones stay listed)
    const instancesBefore = await drillInstances();

    // act
    const reply = await command(stack, 'alice', 'drill --dry-run');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const text = message(runId);
    expect(text).toMatch(/1 instance `t3\.nano` from the newest backup AMI `ami-[0-9a-f]+` `spawn-(worker|controller)-backup-\d{8}`/);
    expect(text).toContain(`canary object \`${canaryKey(runId)}\` in \`${BUCKET}\`; timed until it is in \`${REPLICA}\``);
    expect(text).toContain(`PITR restore of \`spawn-instances\` into \`spawn-instances-drill-${runId}\``);
    expect(text).toContain('All of it is removed at the end, success or failure.');
    expect(await drillInstances(runId)).toEqual([]);
    expect(await drillInstances()).toEqual(instancesBefore);
    expect(await drillTables()).toEqual([]);
    expect(await canaryVersions(BUCKET, PRIMARY, runId)).toEqual([]);
  });

  it('waits for a second person: the requester and a viewer cannot approve; an approver runs it once, and it measures, reports and leaves nothing behind', async () => {
    // prepare: an object someone else keeps under the canary prefix (the drill must not touch it)
    await stack.clients.s3(PRIMARY).send(new PutObjectCommand({ Bucket: BUCKET, Key: '.drbot-drill/notes.txt', Body: 'not the drill\'s' }));
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');

    // act: the requester, a viewer, then an approver
    await click(stack, 'alice', plan, 'run_approve');
    await click(stack, 'carol', plan, 'run_approve');
    expect(await drillInstances(runId)).toEqual([]);
    await click(stack, 'bob', plan, 'run_approve');

    // assess: the run and its report
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = message(runId);
    expect(text).toContain('*Drill report* (objectives: RPO 5 min, RTO 60 min): 3 passed, 0 failed, 3 not measured.');
    expect(text).toMatch(/✅ RTO compute \(t3\.nano from `ami-[0-9a-f]+`\): \d+ s \(objective 60 min\) — instance `i-[0-9a-f]+` running/);
    expect(text).toMatch(new RegExp(`✅ RPO S3 \`${BUCKET}\` → \`${REPLICA}\`: \\d+ s \\(objective 5 min\\)`));
    for (const t of TABLES) expect(text).toContain(`➖ RPO DynamoDB \`${t}\`: not measured (objective 5 min) — no replica in us-west-2`);
    expect(text).toMatch(new RegExp(`✅ RTO restore \`spawn-instances\` → \`spawn-instances-drill-${runId}\`: \\d+ s \\(objective 60 min\\) — ([\\d,]+) items restored, \\1 in the table now: the same`));
    expect(text).toMatch(/\*Removed:\* instance `i-[0-9a-f]+` terminated; 1 canary object version in `spawn-binaries-us-east-1`; 1 canary object version in `spawn-binaries-us-west-2-backup`; canary item in `spawn-instances`; temporary table `spawn-instances-drill-r-[0-9a-f]{12}` deleted; canary item in `spawn-queues`; canary item in `spawn-alerts`\./);
    // AWS: exactly one instance was launched (from a backup copy, tagged), and it is terminated; nothing else left
    const launched = await drillInstances(runId);
    expect(launched).toHaveLength(1);
    expect(launched[0]).toMatchObject({ InstanceType: 't3.nano', State: { Name: 'terminated' } });
    await expectNothingLeft(runId);
    for (const t of TABLES) expect(await canaryItem(t, runId)).toBeUndefined();
    expect((await canaryVersions(BUCKET, PRIMARY, '').then((v) => v.map((x) => x.Key)))).toEqual(['.drbot-drill/notes.txt']);
    // the report is kept for the history
    const kept = await new DrillStore(stack.store.doc, stack.store.tableName).list(10);
    expect(kept.find((r) => r.runId === runId)).toMatchObject({ ok: true, cleanup: 'removed', scheduled: false, failures: 0 });
  });

  it('a PITR restore AWS refuses mid-run: the clean-up still runs, and the report says what failed and what was removed', async () => {
    // prepare
    const undo = fail(stack.clients.dynamodb(PRIMARY), 'RestoreTableToPointInTimeCommand', ACCESS_DENIED);
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');

    // act
    try {
      await click(stack, 'bob', plan, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const text = message(runId);
    expect(text).toContain('❌ RTO restore `spawn-instances` → `spawn-instances-drill-');
    expect(text).toContain('PITR restore of spawn-instances: RestoreTableToPointInTime on `spawn-instances` failed');
    expect(text).toMatch(/\*Removed:\* instance `i-[0-9a-f]+` terminated; 1 canary object version in `spawn-binaries-us-east-1`/);
    await expectNothingLeft(runId);
    expect(await drillInstances(runId)).toHaveLength(1);
  });

  it('a canary write S3 keeps failing (503): that measure fails, the others are taken, and everything is still removed', async () => {
    // prepare: PutObject of the canary answers 503 every time
    const s3 = stack.clients.s3(PRIMARY);
    const undoS3 = fail(s3, 'PutObjectCommand', SERVICE_UNAVAILABLE, { when: (i) => String(i.Key).startsWith('.drbot-drill/') });
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');
    const waited = awsRetryWaits.length;

    // act
    try {
      await click(stack, 'bob', plan, 'run_approve');
    } finally {
      undoS3();
    }

    // assess: S3's measure failed after the step's three tries again (recorded waits), the rest measured, all removed
    expect(awsRetryWaits.slice(waited)).toEqual([500, 1000, 2000]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const text = message(runId);
    expect(text).toContain(`❌ RPO S3 \`${BUCKET}\`: not measured (objective 5 min) — the canary could not be written`);
    expect(text).toContain(`canary object in ${BUCKET}: PutObject on \`${BUCKET}/${canaryKey(runId)}\` failed`);
    expect(text).toMatch(/✅ RTO compute/);
    expect(text).toMatch(/\*Removed:\* instance `i-[0-9a-f]+` terminated; canary item in `spawn-instances`; temporary table/);
    await expectNothingLeft(runId);
  });

  it('a lost RunInstances answer (EC2 launched, the response never came back): the retried step finds the tagged instance and launches no second one', async () => {
    // prepare: the first RunInstances launches in moto, then its answer is replaced by a network error
    let lost = 0;
    const undo = rewrite(stack.clients.ec2(BACKUP), 'RunInstancesCommand', (out) => {
      if (lost++ === 0) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return out;
    });
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');

    // act
    try {
      await click(stack, 'bob', plan, 'run_approve');
    } finally {
      undo();
    }

    // assess: one launch, measured, and terminated
    expect(lost).toBe(1);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await drillInstances(runId)).toHaveLength(1);
    expect(message(runId)).toMatch(/✅ RTO compute/);
    await expectNothingLeft(runId);
  });

  it('a clean-up AWS refuses (TerminateInstances denied) is said, offered as Clean up now, and that button removes the instance after its approval', async () => {
    // prepare
    const ec2 = stack.clients.ec2(BACKUP);
    const undo = fail(ec2, 'TerminateInstancesCommand', ACCESS_DENIED);
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');
    try {
      await click(stack, 'bob', plan, 'run_approve');
    } finally {
      undo();
    }
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const msg = runMessage(stack.standIn, runId);
    expect(textOf(msg)).toContain('clean-up of the instance: TerminateInstances on');
    expect(textOf(msg)).toContain('The clean-up did not finish');
    expect(live(await drillInstances(runId))).toHaveLength(1);
    expect(await drillTables()).toEqual([]);

    // act: Clean up now, then its approval
    await click(stack, 'alice', msg ?? plan, 'Clean up now');
    const cleanupMsg = stack.standIn.message(SANDBOX_CHANNEL, msg?.ts ?? '');
    expect(textOf(cleanupMsg)).toMatch(new RegExp(`Removes what drill \`${runId}\` created[^\\n]*\\n• instance \`i-[0-9a-f]+\` in us-west-2`));
    await click(stack, 'bob', cleanupMsg ?? plan, 'run_approve');

    // assess
    expect(textOf(stack.standIn.message(SANDBOX_CHANNEL, msg?.ts ?? ''))).toMatch(/\*Removed:\* instance `i-[0-9a-f]+` terminated\./);
    await expectNothingLeft(runId);
  });

  it('--keep keeps the instance, canaries and the restored table, with Clean up now, which removes only that run\'s', async () => {
    // prepare: an earlier drill's leftovers must survive another run's clean-up
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill --keep');
    await click(stack, 'bob', plan, 'run_approve');
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const msg = runMessage(stack.standIn, runId);
    expect(textOf(msg)).toContain('Kept for inspection');
    expect(buttons(msg).map((b) => b.text)).toContain('Clean up now');
    expect(live(await drillInstances(runId))).toHaveLength(1);
    expect(await drillTables()).toEqual([`spawn-instances-drill-${runId}`]);
    expect(await canaryVersions(BUCKET, PRIMARY, runId)).toHaveLength(1);
    expect(await canaryVersions(REPLICA, BACKUP, runId)).toHaveLength(1);
    expect(await canaryItem('spawn-instances', runId)).toBeDefined();

    // a cleanup of another run id finds nothing, and changes nothing
    const other = await command(stack, 'alice', 'drill cleanup r-00000000beef');
    expect(runSummary(stack, runIdOf(other))).toMatchObject({ status: 'nothing_to_do' });
    expect(live(await drillInstances(runId))).toHaveLength(1);

    // act: Clean up now (an operator), approved
    await click(stack, 'alice', msg ?? plan, 'Clean up now');
    const cleanupMsg = stack.standIn.message(SANDBOX_CHANNEL, msg?.ts ?? '');
    const planText = textOf(cleanupMsg);
    expect(planText).toContain(`temporary table \`spawn-instances-drill-${runId}\``);
    expect(planText).toContain('canary item in `spawn-alerts`');
    await click(stack, 'bob', cleanupMsg ?? plan, 'run_approve');

    // assess
    await expectNothingLeft(runId);
    for (const t of TABLES) expect(await canaryItem(t, runId)).toBeUndefined();
  });

  it('drill cleanup: DeleteTable denied mid-run leaves only the table, says so and offers Clean up now; again, with 429 on its final update, everything goes and the message ends Done', async () => {
    // prepare: a kept drill
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill --keep');
    await click(stack, 'bob', plan, 'run_approve');
    expect(await drillTables()).toEqual([`spawn-instances-drill-${runId}`]);

    // act 1: the clean-up, with DeleteTable denied
    const first = await requestRun(stack, 'alice', `drill cleanup ${runId}`);
    const undo = fail(stack.clients.dynamodb(PRIMARY), 'DeleteTableCommand', ACCESS_DENIED);
    try {
      await click(stack, 'bob', first.message, 'run_approve');
    } finally {
      undo();
    }

    // assess 1: the table stays (and only it), the message is final and says what to do
    expect(runSummary(stack, first.runId)).toMatchObject({ status: 'failed' });
    expect(await stack.store.getRun(first.runId)).toMatchObject({ status: 'failed' });
    const failed = runMessage(stack.standIn, first.runId);
    expect(textOf(failed)).toMatch(/^❌ Failed/);
    expect(textOf(failed)).toContain('DeleteTable');
    expect(buttons(failed).map((b) => b.text)).toContain('Clean up now');
    expect(live(await drillInstances(runId))).toEqual([]);
    expect(await drillTables()).toEqual([`spawn-instances-drill-${runId}`]);
    expect(await canaryVersions(BUCKET, PRIMARY, runId)).toEqual([]);

    // act 2: again, Slack rate-limiting the final update twice
    const second = await requestRun(stack, 'alice', `drill cleanup ${runId}`);
    const waited = slackRetry.waits.length;
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 2 ? { status: 429, retryAfter: 1 } : undefined);
    try {
      await click(stack, 'bob', second.message, 'run_approve');
    } finally {
      delete stack.standIn.fault;
    }

    // assess 2: waited out (Retry-After: 1 s, each time), the message final, nothing left
    expect(limited).toBe(3);
    expect(slackRetry.waits.slice(waited)).toEqual([1000, 1000]);
    expect(runSummary(stack, second.runId)).toMatchObject({ status: 'succeeded' });
    expect(await stack.store.getRun(second.runId)).toMatchObject({ status: 'succeeded' });
    expect(textOf(runMessage(stack.standIn, second.runId))).toMatch(/^✅ Done/);
    await expectNothingLeft(runId);
  });

  it('refuses a clean-up of something that is not a run id, and a viewer\'s drill, clearly and changing nothing', async () => {
    // act
    const short = await command(stack, 'alice', 'drill cleanup r-12345');
    const hostile = await command(stack, 'alice', 'drill cleanup r-0123456789ab`*x*');
    const viewer = await command(stack, 'carol', 'drill');

    // assess
    expect(short.json?.text ?? '').toContain("RUN must be a drill's run id like `r-0123456789ab`, not `r-12345`.");
    expect(hostile.json?.text ?? '').toContain('RUN must be a plain word');
    expect(hostile.json?.text ?? '').not.toContain('`*x*');
    expect(viewer.json?.text ?? '').toMatch(/operator/);
    expect(live(await drillInstances())).toEqual([]);
  });

  it('slack-429-on-final-update: the drill waits out Retry-After; AWS is cleaned up and the record says succeeded', async () => {
    // prepare
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');
    const waited = slackRetry.waits.length;
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 6 ? { status: 429, retryAfter: 1 } : undefined);

    // act
    await click(stack, 'bob', plan, 'run_approve');

    // assess: each 429 waited out for its Retry-After (1 s)
    expect(limited).toBe(7);
    expect(slackRetry.waits.slice(waited)).toEqual(Array(6).fill(1000));
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    expect(textOf(stack.standIn.message(plan.channel, plan.ts))).toContain('*Drill report*');
    await expectNothingLeft(runId);
  });

  it('runs monthly from its schedule without an approval, posts in the ops channel, and a redelivered firing starts nothing', async () => {
    // act
    const deps = { config: stack.config, catalogue: stack.catalogue, engine: stack.engine, now: stack.now };
    const first = await startScheduledRun(deps, parseScheduleEvent({ schedule: 'drill-monthly', verb: 'drill', scheduledTime: '2027-01-01T03:00:00Z' }));
    await stack.engine.idle();
    const again = await startScheduledRun(deps, parseScheduleEvent({ schedule: 'drill-monthly', verb: 'drill', scheduledTime: '2027-01-01T03:00:00Z' }));
    await stack.engine.idle();

    // assess
    expect(first).toMatchObject({ status: 'started', executionName: 'sched-drill-monthly-20270101T0300Z' });
    expect(again.status).toBe('duplicate');
    expect(runSummary(stack, first.runId)).toMatchObject({ status: 'succeeded' });
    const text = message(first.runId);
    expect(text).toContain('scheduled by `drill-monthly`');
    expect(text).toContain('Drill report');
    await expectNothingLeft(first.runId);
  });

  it('a scheduled drill that fails is raised in the critical channel with Retry now, after cleaning up', async () => {
    // prepare
    const deps = { config: stack.config, catalogue: stack.catalogue, engine: stack.engine, now: stack.now };
    const undo = fail(stack.clients.dynamodb(PRIMARY), 'RestoreTableToPointInTimeCommand', ACCESS_DENIED);

    // act
    let run;
    try {
      run = await startScheduledRun(deps, parseScheduleEvent({ schedule: 'drill-monthly', verb: 'drill', scheduledTime: '2027-02-01T03:00:00Z' }));
      await stack.engine.idle();
    } finally {
      undo();
    }

    // assess
    expect(runSummary(stack, run.runId)).toMatchObject({ status: 'failed' });
    const alert = stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL).find((m) => textOf(m).includes(run.runId));
    expect(textOf(alert)).toContain('Scheduled DR drill failed');
    expect(buttons(alert).map((b) => b.text)).toEqual(['Retry now']);
    await expectNothingLeft(run.runId);
  });

  it('reads the canary item in the replica region of a global table and measures its lag, polling with durable waits (aws-sdk-client-mock: moto lacks global tables; DescribeTable rewritten to show the ACTIVE replica)', async () => {
    // prepare: spawn-queues has an ACTIVE replica in us-west-2, where the canary shows on the third read
    const undo = rewrite<DescribeTableCommandOutput>(stack.clients.dynamodb(PRIMARY), 'DescribeTableCommand', (out, input) =>
      input.TableName === 'spawn-queues' && out.Table ? { ...out, Table: { ...out.Table, Replicas: [{ RegionName: BACKUP, ReplicaStatus: 'ACTIVE' }] } } : out,
    );
    const { runId, message: plan } = await requestRun(stack, 'alice', 'drill');
    const west = mockClient(stack.clients.dynamodb(BACKUP));
    let reads = 0;
    west.on(GetItemCommand).callsFake((input: GetItemCommandInput) => (++reads < 3 ? {} : { Item: { ...input.Key, [DRILL_TAG]: { S: runId }, drbotDrillAt: { S: '2026-12-01T00:00:00.000Z' } } }));

    // act
    try {
      await click(stack, 'bob', plan, 'run_approve');
    } finally {
      undo();
      west.restore();
    }

    // assess: three reads of exactly the canary's key, the lag measured, the others still "no replica"
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(west.commandCalls(GetItemCommand).map((c) => c.args[0].input)).toEqual(Array(3).fill({ TableName: 'spawn-queues', Key: { pk: { S: `drbot-drill#${runId}` } } }));
    const text = message(runId);
    expect(text).toMatch(new RegExp(`✅ RPO DynamoDB \`spawn-queues\` → us-west-2: \\d+ s \\(objective 5 min\\)`));
    expect(text).toContain('➖ RPO DynamoDB `spawn-instances`: not measured (objective 5 min) — no replica in us-west-2');
    expect(await canaryItem('spawn-queues', runId)).toBeUndefined();
    await expectNothingLeft(runId);
  });

  it('drill history shows the kept drills newest first, with pass/fail and the clean-up', async () => {
    // prepare: six kept reports as drills keep them (the runbook's keep-report step), dated after any
    // drill the other tests run (theirs are now and the schedule's 2027 firings), so they are the newest
    const drills = new DrillStore(stack.store.doc, stack.store.tableName);
    const measured = (compute: number, s3: number, restore: number, ok = true): DrillMeasure[] => [
      { component: 'compute', kind: 'rto', seconds: compute, objectiveMinutes: 60, result: 'pass' },
      { component: `s3:${BUCKET}`, kind: 'rpo', seconds: s3, objectiveMinutes: 5, result: 'pass' },
      ...TABLES.map((t): DrillMeasure => ({ component: `dynamodb:${t}`, kind: 'rpo', objectiveMinutes: 5, result: 'none', note: 'no replica in us-west-2' })),
      ok ? { component: 'restore:spawn-instances', kind: 'rto', seconds: restore, objectiveMinutes: 60, result: 'pass' } : { component: 'restore:spawn-instances', kind: 'rto', objectiveMinutes: 60, result: 'fail', note: 'RestoreTableToPointInTime denied' },
    ];
    const reports: DrillReport[] = [
      { runId: 'r-0000000d0001', at: '2030-01-01T03:00:00.000Z', ok: true, scheduled: false, measures: measured(40, 12, 300), failures: 0, cleanup: 'removed' },
      { runId: 'r-0000000d0002', at: '2030-01-02T03:00:00.000Z', ok: false, scheduled: false, measures: measured(42, 11, 0, false), failures: 1, cleanup: 'removed' },
      { runId: 'r-0000000d0003', at: '2030-01-03T03:00:00.000Z', ok: true, scheduled: false, measures: measured(38, 14, 280), failures: 0, cleanup: 'kept' },
      { runId: 'r-0000000d0004', at: '2030-01-04T03:00:00.000Z', ok: false, scheduled: false, measures: measured(90, 13, 310), failures: 1, cleanup: 'incomplete' },
      { runId: 'r-0000000d0005', at: '2030-01-05T03:00:00.000Z', ok: true, scheduled: false, measures: measured(41, 10, 290), failures: 0, cleanup: 'removed' },
      { runId: 'r-0000000d0006', at: '2030-02-01T03:00:00.000Z', ok: true, scheduled: true, measures: measured(39, 12, 295), failures: 0, cleanup: 'removed' },
    ];
    for (const r of reports) await drills.put(r, new Date());

    // act
    const reply = await command(stack, 'carol', 'drill history 10');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = message(runId);
    const kept = await drills.list(10);
    expect(kept.length).toBeGreaterThanOrEqual(6);
    expect(kept.slice(0, 6).map((r) => r.runId)).toEqual(reports.map((r) => r.runId).reverse());
    expect(text).toContain(`The last ${kept.length} drills*, newest first`);
    const rows = text.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} {2}r-[0-9a-f]{12}/.test(l));
    expect(rows.map((l) => l.slice(18, 32))).toEqual(kept.map((r) => r.runId));
    expect(rows[0]).toContain('(scheduled)');
    expect(rows.some((l) => / FAIL /.test(l) && /incomplete/.test(l))).toBe(true);
    expect(rows.some((l) => /kept/.test(l))).toBe(true);
  });
});
