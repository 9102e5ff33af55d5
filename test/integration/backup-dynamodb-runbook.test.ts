/**
 * The backup-dynamodb runbook (src/runbooks/backup-dynamodb/runbook.ts, `/dr backup dynamodb`) on
 * its own, against moto: the plan names each table's backup and checks every table before anything
 * is made; the run starts one on-demand backup per table in the table's region, checks them until
 * they are AVAILABLE (only the ones still CREATING, 90 waits of 10 s at most, a check before each and after the last), and
 * with --prune then deletes the backups the plan listed, each in its own step. The flows through
 * Slack and approval are runbooks.test.ts and prune.test.ts; these need no local stack, so
 * `npm run mutate` can run them for each mutant.
 *
 * moto makes every backup AVAILABLE at once (123 bytes), stamps it with the real time and never
 * throttles or denies: a backup still CREATING, one that ends in another state, and AWS's refusals
 * are SDK middleware on the runbook's client (faults.ts), and each test says so.
 */
import { CreateBackupCommand, type DescribeBackupCommandOutput, DeleteBackupCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import type { BackupDynamodbInput } from '../../src/runbooks/backup-dynamodb';
import { type BackupPlan, runbook } from '../../src/runbooks/backup-dynamodb/runbook';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, SERVICE_UNAVAILABLE, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';
import { createSourceTable } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);

const WEST = 'us-west-2';
const ddb = (region = 'us-east-1') => rig.moto().clients.dynamodb(region);
/** A fixed plan time: the backups are named after it. */
const NOW = new Date('2026-12-04T10:11:12.000Z');
const STAMP = '20261204-101112';
/** moto stamps backups with the real time: a plan made this far ahead sees them as 100 days old (retention 35). */
const AHEAD_MS = 100 * 86_400_000;
const THROTTLED = { name: 'ThrottlingException', message: 'Rate exceeded', status: 400 };
let n = 0;

/**
 * New tables in moto (`{ west: true }`: in us-west-2, as the config says), and the config listing
 * them alone (the runbook backs up only configured tables): their names.
 */
async function tables(...specs: { west?: boolean }[]): Promise<string[]> {
  const names = specs.map(() => `spawn-t${++n}`);
  for (const [i, s] of specs.entries()) await createSourceTable(ddb(s.west ? WEST : 'us-east-1'), names[i] ?? '');
  rig.configure({ dynamodb: { tables: names.map((name, i) => (specs[i]?.west ? { name, region: WEST } : { name })) } });
  return names;
}

/** The backups moto holds of a table (in its region): name, ARN, type. */
async function backupsOf(table: string, region = 'us-east-1'): Promise<{ name: string; arn: string }[]> {
  const r = await ddb(region).send(new ListBackupsCommand({ TableName: table }));
  return (r.BackupSummaries ?? []).map((b) => ({ name: b.BackupName ?? '', arn: b.BackupArn ?? '' }));
}
const namesOf = async (table: string, region = 'us-east-1') => (await backupsOf(table, region)).map((b) => b.name).sort();

/** A backup made directly (as an earlier run or a person did): its ARN. */
async function made(table: string, name: string, region = 'us-east-1'): Promise<string> {
  return (await ddb(region).send(new CreateBackupCommand({ TableName: table, BackupName: name }))).BackupDetails?.BackupArn ?? '';
}

function input(over: Partial<BackupDynamodbInput> = {}): BackupDynamodbInput & AnyRunInput {
  return {
    kind: 'backup-dynamodb',
    runId: `b${++n}`,
    requester: 'UALICE',
    channel: 'C1',
    commandText: '/dr backup dynamodb',
    requestedAt: new Date().toISOString(),
    tables: [],
    dryRun: false,
    prune: false,
    ...over,
  };
}

/** The rig's deps with the clock at `now`. */
const at = (now: Date): RunbookDeps => ({ ...rig.deps(), now: () => now });
const plan = (i: BackupDynamodbInput, now: Date = NOW) => runbook(i).plan(at(now), i);
const execute = (i: BackupDynamodbInput & AnyRunInput, p: BackupPlan) => rig.executeWatched(runbook(i), i, p);

/**
 * DescribeBackup answered without asking moto (moto's backups are AVAILABLE at once) while
 * `status(arn, n)` gives a status for the n-th check of that backup (undefined: moto answers);
 * `size` false leaves BackupSizeBytes out. Returns the checks made of each ARN.
 */
function describing(status: (arn: string, n: number) => string | undefined, opts: { size?: boolean; region?: string } = {}): Map<string, number> {
  const checks = new Map<string, number>();
  stub<DescribeBackupCommandOutput>(ddb(opts.region), 'DescribeBackupCommand', (q) => {
    const arn = String(q.BackupArn);
    const k = (checks.get(arn) ?? 0) + 1;
    checks.set(arn, k);
    const s = status(arn, k);
    if (s === undefined) return undefined;
    return { BackupDescription: { BackupDetails: { BackupArn: arn, BackupName: 'x', BackupStatus: s as 'CREATING', BackupType: 'USER', BackupCreationDateTime: new Date(), ...(opts.size === false ? {} : { BackupSizeBytes: 2048 }) } } };
  });
  return checks;
}

describe('the plan', () => {
  it('names each table and the backup it gets, in the table’s region, after checking the table; creates nothing', async () => {
    // prepare
    const [a = '', b = ''] = await tables({}, { west: true });
    const i = input({ tables: [a, b] });

    // act
    const p = await plan(i);

    // assess
    expect(p.data).toStrictEqual({
      targets: [
        { table: a, region: 'us-east-1', backupName: `${a}-backup-${STAMP}` },
        { table: b, region: WEST, backupName: `${b}-backup-${STAMP}` },
      ],
    });
    expect(p.lines).toEqual([`2 tables: \`${a}\` → \`${a}-backup-${STAMP}\`, \`${b}\` → \`${b}-backup-${STAMP}\``, 'Creates on-demand backups only; no table is changed.']);
    expect(p.empty).toBeUndefined();
    expect(await backupsOf(a)).toEqual([]);
    expect(await backupsOf(b, WEST)).toEqual([]);
    expect(runbook(i).title(i)).toBe(`On-demand backup of ${a}, ${b}`);
  });

  it('no table named: every configured table; one table is said in the singular', async () => {
    // prepare
    const [a = ''] = await tables({ west: true });
    const i = input();

    // act
    const p = await plan(i);

    // assess
    expect(p.data.targets).toEqual([{ table: a, region: WEST, backupName: `${a}-backup-${STAMP}` }]);
    expect(p.lines[0]).toBe(`1 table: \`${a}\` → \`${a}-backup-${STAMP}\``);
    expect(runbook(i).title(i)).toBe('On-demand backup of every configured table');
  });

  it('no table configured (none named): nothing to back up, said, and an empty plan, with --prune too', async () => {
    // prepare
    rig.configure({ dynamodb: { tables: [] } });

    // act
    const p = await plan(input());
    const pruning = await plan(input({ prune: true }));

    // assess
    for (const x of [p, pruning]) expect(x).toStrictEqual({ lines: ['No table is configured under `dynamodb.tables`: nothing to back up.'], empty: true, data: { targets: [] } });
  });

  it('refuses a table the config does not list, and a configured table AWS does not have or will not describe', async () => {
    // prepare
    const [a = ''] = await tables({});
    const gone = `spawn-t${++n}`;
    rig.configure({ dynamodb: { tables: [{ name: a }, { name: gone }] } });

    // act / assess: not configured
    await expect(plan(input({ tables: [a, 'payments-ledger'] }))).rejects.toMatchObject({ code: 'unknown_table', message: expect.stringContaining('Unknown table `payments-ledger`.') });
    // configured, not in AWS: DescribeTable's error, wrapped with the table and the fix
    await expect(plan(input({ tables: [a, gone] }))).rejects.toMatchObject({
      code: 'aws_not_found',
      message: expect.stringMatching(new RegExp(`^DescribeTable on \`${gone}\` failed: `)),
      hint: 'Check that the resource exists in the configured region.',
    });
    // denied (moto enforces no IAM: middleware refuses)
    fail(ddb(), 'DescribeTableCommand', ACCESS_DENIED);
    await expect(plan(input({ tables: [a] }))).rejects.toMatchObject({
      code: 'aws_access_denied',
      message: `DescribeTable on \`${a}\` failed: User is not authorized to perform this action`,
      hint: "Grant the bot's role permission for `DescribeTable` on this resource (see template.yaml).",
    });
    expect(await backupsOf(a)).toEqual([]);
  });

  it('--prune lists drbot’s backups past retention, oldest first, keeping the newest of each table and every backup drbot did not make; a dry run says would', async () => {
    // prepare: made in this order (moto's ARNs carry the millisecond: the later one is the newer)
    const [a = '', b = ''] = await tables({}, { west: true });
    const oldA = await made(a, `${a}-backup-20260101-000000`);
    await made(a, `${a}-backup-20260102-000000`);
    await made(a, 'before-migration-manual');
    const oldB = await made(b, `${b}-backup-20260101-000000`, WEST);
    await made(b, `${b}-backup-20260103-000000`, WEST);
    const later = new Date(Date.now() + AHEAD_MS);
    const i = input({ tables: [a, b], prune: true });

    // act
    const p = await plan(i, later);
    const dry = await plan(input({ tables: [a, b], prune: true, dryRun: true }), later);

    // assess
    expect(p.data.prune?.map((c) => ({ id: c.id, group: c.group, label: c.label, ours: c.ours, state: c.state }))).toEqual([
      { id: oldA, group: a, label: `${a}-backup-20260101-000000`, ours: true, state: 'good' },
      { id: oldB, group: b, label: `${b}-backup-20260101-000000`, ours: true, state: 'good' },
    ]);
    expect(p.data.targets.map((t) => t.table)).toEqual([a, b]);
    const day = new Date().toISOString().slice(0, 10);
    expect(p.lines.slice(1)).toEqual([
      'Creates on-demand backups only; no table is changed.',
      `Prune: deletes 2 on-demand backups older than 35 days: \`${a}-backup-20260101-000000\` (${day}), \`${b}-backup-20260101-000000\` (${day})`,
      'Prune keeps the newest good copy of each (2), whatever its age; 1 not made by drbot, never touched.',
    ]);
    expect(dry.lines[2]).toMatch(/^Prune: would delete 2 on-demand backups older than 35 days: /);
    // one backup past retention is named in the singular
    const one = await plan(input({ tables: [a], prune: true, dryRun: true }), later);
    expect(one.lines[2]).toBe(`Prune: would delete 1 on-demand backup older than 35 days: \`${a}-backup-20260101-000000\` (${day})`);
    // planning deleted nothing
    expect(await namesOf(a)).toEqual([`${a}-backup-20260101-000000`, `${a}-backup-20260102-000000`, 'before-migration-manual'].sort());
    expect(await namesOf(b, WEST)).toHaveLength(2);
  });

  it('--prune with nothing past retention plans no deletion and says so', async () => {
    // prepare
    const [a = ''] = await tables({});
    await made(a, `${a}-backup-20260101-000000`);
    await made(a, `${a}-backup-20260102-000000`);

    // act
    const p = await plan(input({ prune: true }), new Date());

    // assess
    expect(p.data.prune).toEqual([]);
    expect(p.lines.slice(2)).toEqual(['Prune: no on-demand backups older than 35 days beyond the newest of each.', 'Prune keeps the newest good copy of each (1), whatever its age.']);
  });

  it('needs an approval only for a person’s --prune: a scheduled prune runs by the config’s retention', () => {
    expect(runbook(input()).destructive).toBe(false);
    expect(runbook(input({ prune: true })).destructive).toBe(true);
    expect(runbook(input({ prune: true, schedule: { name: 'nightly', at: '2026-12-04T03:00:00Z' } })).destructive).toBe(false);
    expect(runbook(input({ schedule: { name: 'nightly', at: '2026-12-04T03:00:00Z' } })).destructive).toBe(false);
  });
});

describe('the execution', () => {
  it('backs up each table in its region under the planned name, reports each ARN and size once AVAILABLE; nothing else is touched', async () => {
    // prepare
    const [a = '', b = ''] = await tables({}, { west: true });
    const manual = await made(a, 'before-migration-manual');
    const i = input({ tables: [a, b] });
    const p = (await plan(i)).data;

    // act
    const r = await execute(i, p);

    // assess: AWS
    const [newA] = (await backupsOf(a)).filter((x) => x.arn !== manual);
    const [newB] = await backupsOf(b, WEST);
    expect(await namesOf(a)).toEqual(['before-migration-manual', `${a}-backup-${STAMP}`].sort());
    expect(newB?.name).toBe(`${b}-backup-${STAMP}`);
    expect(await backupsOf(b)).toEqual([]);
    // the outcome
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.lines).toEqual(['2 of 2 backups AVAILABLE:', `• \`${a}\` AVAILABLE 123 B\n   \`${newA?.arn}\``, `• \`${b}\` AVAILABLE 123 B\n   \`${newB?.arn}\``]);
    expect(r.checkpoints).toEqual([`create-${a}`, `create-${b}`, 'check-0']);
    expect(r.reports).toEqual([
      [1, 2, 'backups started'],
      [2, 2, 'backups started'],
      [2, 2, 'backups available'],
    ]);
  });

  it('checks again after a wait only the backups still CREATING, until they are AVAILABLE (moto: middleware answers CREATING)', async () => {
    // prepare: a's backup is CREATING for two checks, b's is AVAILABLE at once
    const [a = '', b = ''] = await tables({}, {});
    const i = input({ tables: [a, b] });
    const p = (await plan(i)).data;
    let aArn = '';
    const checks = describing((arn, k) => (arn.includes(`:table/${a}/`) && k <= 2 ? ((aArn = arn), 'CREATING') : undefined));

    // act
    const r = await execute(i, p);

    // assess
    expect(r.checkpoints).toEqual([`create-${a}`, `create-${b}`, 'check-0', 'wait-0 (wait 10 s)', 'check-1', 'wait-1 (wait 10 s)', 'check-2']);
    const bArn = (await backupsOf(b))[0]?.arn ?? '';
    expect(Object.fromEntries(checks)).toEqual({ [aArn]: 3, [bArn]: 1 });
    expect(r.reports.slice(2)).toEqual([
      [1, 2, 'backups available'],
      [1, 2, 'backups available'],
      [2, 2, 'backups available'],
    ]);
    expect(r).toMatchObject({ ok: true, failures: [], lines: ['2 of 2 backups AVAILABLE:', `• \`${a}\` AVAILABLE 123 B\n   \`${aArn}\``, `• \`${b}\` AVAILABLE 123 B\n   \`${bArn}\``] });
  });

  it('a size AWS does not give is left out; a size given is shown as AWS counts it', async () => {
    // prepare (moto always says 123 bytes: middleware answers)
    const [a = ''] = await tables({});
    const i = input({ tables: [a] });
    const p = (await plan(i)).data;
    describing(() => 'AVAILABLE', { size: false });

    // act
    const r = await execute(i, p);
    undoFaults();
    describing(() => 'AVAILABLE');
    const sized = await execute(input({ tables: [a] }), p);

    // assess
    const arn = (await backupsOf(a))[0]?.arn ?? '';
    expect(r.lines[1]).toBe(`• \`${a}\` AVAILABLE\n   \`${arn}\``);
    expect(sized.lines[1]).toMatch(new RegExp(`^• \`${a}\` AVAILABLE 2\\.0 KB\n   \``));
  });

  it('a backup still CREATING after 90 waits (15 min): the run ends, not ok, saying when to look again; the others are reported', async () => {
    // prepare (middleware: moto never leaves a backup CREATING)
    const [a = '', b = ''] = await tables({}, {});
    const i = input({ tables: [a, b] });
    const p = (await plan(i)).data;
    const checks = describing((arn) => (arn.includes(`:table/${a}/`) ? 'CREATING' : undefined), { size: false });

    // act
    const r = await execute(i, p);

    // assess
    const aArn = (await backupsOf(a))[0]?.arn ?? '';
    const bArn = (await backupsOf(b))[0]?.arn ?? '';
    expect(checks.get(aArn)).toBe(91);
    expect(checks.get(bArn)).toBe(1);
    // 90 waits of 10 s (the 15 min said), a check before each and one after the last
    const polls = Array.from({ length: 90 }, (_, k) => [`check-${k}`, `wait-${k} (wait 10 s)`]).flat();
    expect(r.checkpoints).toEqual([`create-${a}`, `create-${b}`, ...polls, 'check-90']);
    expect(r).toMatchObject({
      ok: false,
      failures: [],
      lines: ['1 of 2 backups AVAILABLE:', `• \`${a}\` CREATING\n   \`${aArn}\``, `• \`${b}\` AVAILABLE 123 B\n   \`${bArn}\``, ':hourglass: 1 still CREATING after 15 min; check `/dr status` later.'],
    });
    expect(r.reports.at(-1)).toEqual([1, 2, 'backups available']);
  });

  it('a backup that ends in another state than AVAILABLE is a failure, named (moto: middleware answers DELETED)', async () => {
    // prepare
    const [a = ''] = await tables({});
    const i = input({ tables: [a] });
    const p = (await plan(i)).data;
    describing(() => 'DELETED', { size: false });

    // act
    const r = await execute(i, p);

    // assess
    const arn = (await backupsOf(a))[0]?.arn ?? '';
    expect(r).toMatchObject({ ok: false, failures: [`${a}: backup DELETED`], lines: ['0 of 1 backups AVAILABLE:', `• \`${a}\` DELETED\n   \`${arn}\``] });
    expect(r.checkpoints).toEqual([`create-${a}`, 'check-0']);
    expect(r.reports).toEqual([
      [1, 1, 'backups started'],
      [0, 1, 'backups available'],
    ]);
  });

  it('--prune: once the new backups are AVAILABLE, deletes the planned ones, each in its table’s region; nothing else', async () => {
    // prepare
    const [a = '', b = ''] = await tables({}, { west: true });
    await made(a, `${a}-backup-20260101-000000`);
    await made(a, `${a}-backup-20260102-000000`);
    await made(a, 'before-migration-manual');
    await made(b, `${b}-backup-20260101-000000`, WEST);
    await made(b, `${b}-backup-20260103-000000`, WEST);
    const i = input({ prune: true });
    const p = (await plan(i, new Date(Date.now() + AHEAD_MS))).data;

    // act
    const r = await execute(i, p);

    // assess: AWS
    const left = await namesOf(a);
    expect(left).toHaveLength(3);
    expect(left).toEqual(expect.arrayContaining([`${a}-backup-20260102-000000`, 'before-migration-manual']));
    expect(left).not.toContain(`${a}-backup-20260101-000000`);
    expect(await namesOf(b, WEST)).toEqual([`${b}-backup-20260103-000000`, p.targets[1]?.backupName ?? ''].sort());
    // the outcome
    expect(r.checkpoints).toEqual([`create-${a}`, `create-${b}`, 'check-0', 'prune-ddb-0', 'prune-ddb-1']);
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.lines.slice(0, 1)).toEqual(['2 of 2 backups AVAILABLE:']);
    expect(r.lines.slice(3)).toEqual([':wastebasket: Pruned 2 old backups.']);
  });

  it('--prune with nothing planned for deletion deletes nothing and says nothing of it', async () => {
    // prepare
    const [a = ''] = await tables({});
    await made(a, `${a}-backup-20260101-000000`);
    const i = input({ prune: true });
    const p = (await plan(i, new Date())).data;

    // act
    const r = await execute(i, p);

    // assess
    expect(r.checkpoints).toEqual([`create-${a}`, 'check-0']);
    expect(r.lines).toHaveLength(2);
    expect(await namesOf(a)).toHaveLength(2);
  });
});

describe('faults', () => {
  it('CreateBackup denied for one table: the others are still backed up; the run fails naming the table and the permission', async () => {
    // prepare (moto enforces no IAM: middleware refuses)
    const [a = '', b = ''] = await tables({}, {});
    const i = input({ tables: [a, b] });
    const p = (await plan(i)).data;
    fail(ddb(), 'CreateBackupCommand', ACCESS_DENIED, { when: (q) => q.TableName === a });

    // act
    const r = await execute(i, p);

    // assess
    expect(await backupsOf(a)).toEqual([]);
    const [newB] = await backupsOf(b);
    expect(newB?.name).toBe(`${b}-backup-${STAMP}`);
    expect(r).toMatchObject({
      ok: false,
      failures: [`${a}: CreateBackup on \`${a}\` failed: User is not authorized to perform this action. Grant the bot's role permission for \`CreateBackup\` on this resource (see template.yaml).`],
      lines: ['1 of 2 backups AVAILABLE:', `• \`${b}\` AVAILABLE 123 B\n   \`${newB?.arn}\``],
    });
    expect(r.checkpoints).toEqual([`create-${a}`, `create-${b}`, 'check-0']);
    expect(r.reports).toEqual([
      [1, 2, 'backups started'],
      [2, 2, 'backups started'],
      [1, 1, 'backups available'],
    ]);
  });

  it('every CreateBackup denied: nothing to check; the run fails with each table', async () => {
    // prepare
    const [a = ''] = await tables({});
    const i = input({ tables: [a] });
    const p = (await plan(i)).data;
    fail(ddb(), 'CreateBackupCommand', ACCESS_DENIED);

    // act
    const r = await execute(i, p);

    // assess
    expect(await backupsOf(a)).toEqual([]);
    expect(r.checkpoints).toEqual([`create-${a}`]);
    expect(r).toMatchObject({ ok: false, lines: ['0 of 1 backups AVAILABLE:'] });
    expect(r.failures).toHaveLength(1);
    expect(r.reports).toEqual([[1, 1, 'backups started']]);
  });

  it('CreateBackup throttled: retried within its step, one backup made; throttled past the retries: a failure saying to wait', async () => {
    // prepare (moto never throttles: middleware does)
    const [a = '', b = ''] = await tables({}, {});
    fail(ddb(), 'CreateBackupCommand', THROTTLED, { when: (q) => q.TableName === a, times: 2 });
    const creates = countTries(ddb(), 'CreateBackupCommand');
    const i = input({ tables: [a] });

    // act
    const r = await execute(i, (await plan(i)).data);

    // assess: two refused before the SDK sent anything, the third sent once
    expect(r.ok).toBe(true);
    expect(creates.tries()).toBe(1);
    expect(await namesOf(a)).toEqual([`${a}-backup-${STAMP}`]);

    // prepare: throttled for good
    let asked = 0;
    fail(ddb(), 'CreateBackupCommand', THROTTLED, {
      when: (q) => {
        if (q.TableName === b) asked++;
        return q.TableName === b;
      },
    });
    const j = input({ tables: [b] });

    // act
    const t = await execute(j, (await plan(j)).data);

    // assess: four tries in the step (its own retries), then a failure with AWS's words and the fix
    expect(asked).toBe(4);
    expect(await backupsOf(b)).toEqual([]);
    expect(t).toMatchObject({ ok: false, failures: [`${b}: CreateBackup on \`${b}\` failed: Rate exceeded. AWS is throttling; wait a minute and run it again.`] });
    creates.undo();
  });

  it('DescribeBackup 503 once: the check step is tried again and the run ends ok; denied: the run stops, the backup made stays', async () => {
    // prepare (moto never fails a call: middleware does)
    const [a = ''] = await tables({});
    const i = input({ tables: [a] });
    const p = (await plan(i)).data;
    fail(ddb(), 'DescribeBackupCommand', SERVICE_UNAVAILABLE, { times: 1 });
    const describes = countTries(ddb(), 'DescribeBackupCommand');

    // act
    const r = await execute(i, p);

    // assess
    expect(r.ok).toBe(true);
    expect(r.lines[0]).toBe('1 of 1 backups AVAILABLE:');
    expect(describes.tries()).toBe(1);
    undoFaults();

    // prepare: denied
    fail(ddb(), 'DescribeBackupCommand', ACCESS_DENIED);
    const j = input({ tables: [a] });

    // act
    const d = await rig.run((ctx, deps, x) => runbook(j).execute(ctx, deps, x as BackupDynamodbInput, p, { report: async () => {} }), j);

    // assess
    expect(d.status).toBe('FAILED');
    expect(d.error).toMatch(/^DescribeBackup on `arn:aws:dynamodb:us-east-1:\d+:table\/spawn-t\d+\/backup\/[^`]+` failed: User is not authorized to perform this action$/);
    expect(await backupsOf(a)).toHaveLength(2);
  });

  it('DeleteBackup denied for one planned backup: the others are deleted; the run fails naming the one kept', async () => {
    // prepare (moto enforces no IAM: middleware refuses)
    const [a = '', b = ''] = await tables({}, { west: true });
    const oldA = await made(a, `${a}-backup-20260101-000000`);
    await made(a, `${a}-backup-20260102-000000`);
    await made(b, `${b}-backup-20260101-000000`, WEST);
    await made(b, `${b}-backup-20260103-000000`, WEST);
    const i = input({ prune: true });
    const p = (await plan(i, new Date(Date.now() + AHEAD_MS))).data;
    fail(ddb(), 'DeleteBackupCommand', ACCESS_DENIED, { when: (q) => q.BackupArn === oldA });

    // act
    const r = await execute(i, p);

    // assess
    expect(await namesOf(a)).toContain(`${a}-backup-20260101-000000`);
    expect(await namesOf(a)).toHaveLength(3);
    expect(await namesOf(b, WEST)).not.toContain(`${b}-backup-20260101-000000`);
    expect(r).toMatchObject({ ok: false, failures: [`${a}-backup-20260101-000000: DeleteBackup on \`${oldA}\` failed: User is not authorized to perform this action`] });
    expect(r.lines.at(-1)).toBe(':wastebasket: Pruned 1 old backup; 1 could not be deleted.');
    expect(r.lines[0]).toBe('2 of 2 backups AVAILABLE:');
  });

  it('a planned backup already gone when its step runs counts as pruned', async () => {
    // prepare
    const [a = ''] = await tables({});
    const old = await made(a, `${a}-backup-20260101-000000`);
    await made(a, `${a}-backup-20260102-000000`);
    const i = input({ prune: true });
    const p = (await plan(i, new Date(Date.now() + AHEAD_MS))).data;
    await ddb().send(new DeleteBackupCommand({ BackupArn: old }));

    // act
    const r = await execute(i, p);

    // assess
    expect(r).toMatchObject({ ok: true, failures: [] });
    expect(r.lines.at(-1)).toBe(':wastebasket: Pruned 1 old backup.');
    expect(await namesOf(a)).toHaveLength(2);
  });
});
