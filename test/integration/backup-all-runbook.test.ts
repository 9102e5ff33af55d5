/**
 * The backup-all runbook (src/runbooks/backup-all/runbook.ts, `/dr backup all`) on its own, against
 * moto's seeded backup estate (AMIs, IAM roles, a zone, a Lambda function, a table): every kind
 * planned and run in one run, a line each, a kind that cannot plan or fails reported with its
 * reason while the others go on, one with nothing to do not run, and nothing ever pruned. The
 * flows through Slack are backup-all.test.ts; these need no local stack, so `npm run mutate` can
 * run them per mutant.
 *
 * moto enforces no IAM policy: refusals are SDK middleware on the runbook's clients (faults.ts).
 * Lambda's code packages are served by the estate's package fetcher, as in the local stack (moto's
 * presigned Code.Location is not reachable over HTTP).
 */
import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { DrConfig } from '../../src/config/schema';
import { packageFetcher, seedBackupEstate, withZone } from '../../src/local/estate';
import type { BackupAllInput } from '../../src/runbooks/backup-all';
import { StepInterruptedError } from '@aws/durable-execution-sdk-js';
import { type AllPlan, cut, flat, PARTS, runbook } from '../../src/runbooks/backup-all/runbook';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';
import { createSourceTable } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);

const BACKUPS = 'rig-all-backups';
const TABLE = 'rig-all-orders';
let runs = 0;
let config: DrConfig;

beforeAll(async () => {
  const d = rig.deps();
  const cfg: DrConfig = { ...d.config, backupBucket: BACKUPS, s3: { buckets: [] }, dynamodb: { tables: [{ name: TABLE }] } };
  const estate = await seedBackupEstate(rig.moto().clients, cfg);
  await createSourceTable(rig.moto().clients.dynamodb('us-east-1'), TABLE);
  config = withZone(cfg, estate.zoneId);
  rig.configure(config);
  rig.provide({ fetchCode: packageFetcher(estate.packages) });
}, 120_000);

function input(over: Partial<BackupAllInput> = {}): BackupAllInput & AnyRunInput {
  const runId = `r-${(0xa000 + ++runs).toString(16).padStart(12, '0')}`;
  // a day of its own: AMIs are copied once a day, so a run on another test's day would find them copied
  const requestedAt = new Date(Date.UTC(2026, 11, 1) + runs * 86_400_000 + 10 * 3_600_000).toISOString();
  return { kind: 'backup-all', runId, requester: 'UALICE', channel: 'C1', commandText: '/dr backup all', requestedAt, dryRun: false, ...over } as BackupAllInput & AnyRunInput;
}

const plan = (i: BackupAllInput, deps: RunbookDeps = rig.deps()) => runbook.plan(deps, i, { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
const withConfig = (patch: Partial<DrConfig>): RunbookDeps => ({ ...rig.deps(), config: { ...config, ...patch } });
const keys = async (prefix: string) => ((await rig.s3().send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '');
const tableBackups = async () => ((await rig.moto().clients.dynamodb('us-east-1').send(new ListBackupsCommand({ TableName: TABLE }))).BackupSummaries ?? []).length;

/** The run's child contexts, in the order they started (each kind runs in its own). */
const kindsRun = (history: Array<{ Name?: string; ContextStartedDetails?: unknown }>) => history.filter((e) => e.ContextStartedDetails !== undefined).map((e) => e.Name);

describe('the plan', () => {
  it('plans every kind, in the order a DR wants them, a line each: the kind and its own plan\'s first two lines on one line', async () => {
    const i = input();
    const p = await plan(i);

    expect(p.data.parts.map((x) => [x.id, x.label, x.empty, x.error])).toEqual([
      ['dynamodb', 'DynamoDB', false, undefined],
      ['amis', 'AMIs', false, undefined],
      ['iam', 'IAM', false, undefined],
      ['route53', 'Route53', false, undefined],
      ['lambda', 'Lambda', false, undefined],
    ]);
    expect(p.empty).toBe(false);
    expect(p.lines).toHaveLength(5);
    // each line: the label, then the kind's first two plan lines joined by " · ", bullets and line breaks flattened
    for (const [n, part] of p.data.parts.entries()) {
      const [first = '', second = ''] = part.lines;
      expect(p.lines[n]).toBe(`*${part.label}*: ${first.replace(/\n\s*/g, ' ')} · ${second.replace(/^\s*•\s*/, '').replace(/\n\s*/g, ' ')}`);
    }
    expect(p.lines[1]).toMatch(/^\*AMIs\*: \*2\* images tagged `spawn=true` in us-east-1; copies \*2\* to us-west-2 · `ami-[0-9a-f]+` spawn-controller → /);
    expect(p.lines.join('\n')).not.toContain('•');
    expect(p.lines[3]).toContain(`Writes \`s3://${BACKUPS}/route53/`);
    // the kinds' own plans, never a prune: no kind's plan carries a list of copies to delete
    for (const part of p.data.parts) expect(part.data).not.toHaveProperty('prune');
    expect(runbook.title(i)).toBe('Every backup: DynamoDB, AMIs, IAM, Route53, Lambda');
    expect(runbook.destructive).toBe(false);
  });

  it('passes the dry run on to every kind', async () => {
    const p = await plan(input({ dryRun: true }));
    expect(p.lines[2]).toContain('Would write');
    expect(p.lines[3]).toContain('Would write');
  });

  it('a kind that cannot plan is a line with its reason and hint; the others are planned; the plan is empty only when no kind has work', async () => {
    const p = await plan(input(), withConfig({ backupBucket: undefined }));

    const byId = Object.fromEntries(p.data.parts.map((x) => [x.id, x]));
    for (const id of ['iam', 'route53', 'lambda']) expect(byId[id]).toMatchObject({ empty: true, lines: [] });
    expect(byId['iam']?.error).toMatch(/backup bucket/i);
    expect(byId['dynamodb']).toMatchObject({ empty: false });
    expect(byId['dynamodb']?.error).toBeUndefined();
    expect(p.lines[2]).toBe(`:x: *IAM*: ${byId['iam']?.error}`);
    expect(p.empty).toBe(false);

    // no AMI tagged, no bucket, and a table that is not there: nothing has work
    const none = await plan(input(), withConfig({ backupBucket: undefined, ami: { tagKey: 'spawn', tagValue: 'nothing-carries-this' }, dynamodb: { tables: [{ name: 'rig-all-no-such-table' }] } }));
    expect(none.data.parts.map((x) => x.empty)).toEqual([true, true, true, true, true]);
    expect(none.empty).toBe(true);
    expect(none.lines[0]).toMatch(/^:x: \*DynamoDB\*: .*rig-all-no-such-table/);
    expect(none.lines[1]).toMatch(/^\*AMIs\*: /);
  });

  it('cuts a line past 600 characters with an ellipsis', async () => {
    const long = `rig-all-${'t'.repeat(240)}`;
    const p = await plan(input(), withConfig({ dynamodb: { tables: [{ name: long }] } }));
    const line = p.lines[0] ?? '';
    expect(p.data.parts[0]?.error?.length).toBeGreaterThan(600);
    expect(line).toHaveLength(600);
    expect(line.endsWith('…')).toBe(true);
    expect(line.startsWith(`:x: *DynamoDB*: ${(p.data.parts[0]?.error ?? '').slice(0, 100)}`)).toBe(true);
  });
});

describe('the run', () => {
  it('runs each kind in its own child context, in order, a line each with its outcome; every kind\'s backup is made', async () => {
    const i = input();
    const p = await plan(i);
    const backupsBefore = await tableBackups();

    const r = await rig.executeWatched(runbook, i, p.data);

    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(kindsRun(r.history)).toEqual(['backup-dynamodb', 'backup-amis', 'backup-iam', 'backup-route53', 'backup-lambda']);
    expect(r.lines.map((l) => l.split('*')[1])).toEqual(['DynamoDB', 'AMIs', 'IAM', 'Route53', 'Lambda']);
    for (const l of r.lines) expect(l.startsWith(':white_check_mark: *')).toBe(true);
    expect(r.lines[2]).toMatch(/^:white_check_mark: \*IAM\*: Exported \*12\* roles to .* · :mag: Verified by reading it back/);
    expect(await tableBackups()).toBe(backupsBefore + 1);
    expect(await keys(`iam/${i.requestedAt.slice(0, 10)}/${i.runId}`)).toHaveLength(1);
    expect((await keys('route53/')).some((k) => k.endsWith(`/${i.runId}.json`))).toBe(true);
    expect((await keys('lambda/')).some((k) => k.includes(i.runId))).toBe(true);
  });

  it('a kind with an error from its plan is a failure and is not run; one with nothing to do is not run either; the others still run', async () => {
    const i = input();
    const d = withConfig({ ami: { tagKey: 'spawn', tagValue: 'nothing-carries-this' } });
    const p = await plan(i, d);
    // the plan's error for IAM, as the plan of a run that lost its bucket would carry it (message and hint: withHint)
    const parts = p.data.parts.map((x) => (x.id === 'iam' ? { ...x, lines: [], empty: true, error: 'No backup bucket is configured, so there is nowhere to write the export. Set `backupBucket` in the drbot config (a versioned bucket; `/dr setup` can create it).' } : x));
    const copies = countTries(rig.moto().clients.ec2('us-west-2'), 'CopyImageCommand');

    const r = await rig.executeWatched(runbook, i, { parts });

    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['IAM: No backup bucket is configured, so there is nowhere to write the export. Set `backupBucket` in the drbot config (a versioned bucket; `/dr setup` can create it).']);
    expect(r.lines[1]).toBe(`:white_check_mark: *AMIs*: nothing to do. ${p.data.parts[1]?.lines[0]}`);
    expect(r.lines[2]).toBe(':x: *IAM*: No backup bucket is configured, so there is nowhere to write the export. Set `backupBucket` in the drbot config (a versioned bucket; `/dr setup` can create it).');
    expect(kindsRun(r.history)).toEqual(['backup-dynamodb', 'backup-route53', 'backup-lambda']);
    expect(copies.tries()).toBe(0);
    expect(await keys(`iam/${i.requestedAt.slice(0, 10)}/${i.runId}`)).toEqual([]);
  });

  it('a kind that fails mid-run is a line with its reason and a failure; the kinds after it still run', async () => {
    const i = input();
    const p = await plan(i);
    fail(rig.moto().clients.route53('us-east-1'), 'ListResourceRecordSetsCommand', ACCESS_DENIED);

    const r = await rig.executeWatched(runbook, i, p.data);

    expect(r.ok).toBe(false);
    expect(r.lines[3]).toMatch(/^:x: \*Route53\*: ListResourceRecordSets on `[A-Z0-9]+` failed: User is not authorized/);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/^Route53: ListResourceRecordSets on /);
    expect(r.lines[4]).toMatch(/^:white_check_mark: \*Lambda\*/);
    expect((await keys('lambda/')).some((k) => k.includes(i.runId))).toBe(true);
    expect((await keys('route53/')).some((k) => k.endsWith(`/${i.runId}.json`))).toBe(false);
  });

  it('a kind whose own outcome has failures is a :x: line and its failures, each under its label', async () => {
    const i = input();
    const p = await plan(i);
    fail(rig.moto().clients.dynamodb('us-east-1'), 'CreateBackupCommand', ACCESS_DENIED);

    const r = await rig.executeWatched(runbook, i, p.data);

    expect(r.ok).toBe(false);
    expect(r.lines[0]).toMatch(/^:x: \*DynamoDB\*: /);
    expect(r.failures.length).toBeGreaterThan(0);
    for (const f of r.failures) expect(f.startsWith('DynamoDB: ')).toBe(true);
    expect(r.lines.slice(1).every((l) => l.startsWith(':white_check_mark:'))).toBe(true);
  });

  it('a part of a plan no kind knows is skipped; a line past 600 characters is cut', async () => {
    const i = input();
    const plan: AllPlan = { parts: [{ id: 'tape', label: 'Tape', lines: [], empty: false }, { id: 'iam', label: 'IAM', lines: [], empty: true, error: 'x'.repeat(700) }] };
    const r = await rig.executeWatched(runbook, i, plan);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toHaveLength(600);
    expect(r.lines[0]?.startsWith(':x: *IAM*: xxx')).toBe(true);
    expect(r.lines[0]?.endsWith('x…')).toBe(true);
    expect(r.failures).toEqual([`IAM: ${'x'.repeat(700)}`]);
    expect(PARTS.map((x) => x.id)).not.toContain('tape');
  });
});

describe('a kind\'s line', () => {
  it('is cut only past 600 characters', () => {
    expect(cut('x'.repeat(600))).toBe('x'.repeat(600));
    expect(cut('x'.repeat(601))).toBe(`${'x'.repeat(599)}…`);
  });

  it('drops only a leading bullet (with the spaces around it), makes each line break one space, joins the lines with " · "', () => {
    expect(flat(['  •  a', '•\tb', 'c • d', 'e\n   f', 'g\nhi'])).toBe('a · b · c • d · e f · g hi');
    expect(flat([])).toBe('');
  });
});

describe('an SDK error inside a kind', () => {
  it('reaches the run wrapped by its child context (ChildContextError): the kind\'s failure, and the kinds after it still run', async () => {
    const i = input();
    const p: AllPlan = {
      parts: [
        { id: 'iam', label: 'IAM', lines: ['x'], empty: false, data: {} },
        { id: 'route53', label: 'Route53', lines: ['no export needed'], empty: true },
      ],
    };
    const iam = PARTS.find((x) => x.id === 'iam');
    if (!iam) throw new Error('no IAM part');
    const original = iam.execute;
    (iam as { execute: typeof original }).execute = () => Promise.reject(new StepInterruptedError('1', 'export'));
    try {
      const r = await rig.executeWatched(runbook, i, p);
      expect(r.ok).toBe(false);
      expect(r.failures).toEqual(['IAM: The step execution process was initiated but failed to reach completion due to an interruption.']);
      expect(r.lines).toEqual([':x: *IAM*: The step execution process was initiated but failed to reach completion due to an interruption.', ':white_check_mark: *Route53*: nothing to do. no export needed']);
    } finally {
      (iam as { execute: typeof original }).execute = original;
    }
  });

  it('one the SDK raises before it enters a child (a replay finding another operation at its id) is not a kind\'s failure: it ends the invocation, as the SDK needs', async () => {
    // The SDK does not export NonDeterministicExecutionError; drbot's guard reads the class name, so a class of that name stands in.
    class NonDeterministicExecutionError extends Error {}
    const i = input();
    const p: AllPlan = { parts: [{ id: 'iam', label: 'IAM', lines: ['x'], empty: false, data: {} }] };
    const r = await rig.run((ctx, d, x) => {
      const replayed = new Proxy(ctx, {
        get(target, prop) {
          if (prop === 'runInChildContext') return () => Promise.reject(new NonDeterministicExecutionError('Operation at backup-iam was a STEP in the last invocation'));
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      return runbook.execute(replayed, d, x as BackupAllInput & AnyRunInput, p, { report: async () => {} });
    }, i);
    expect(r).toEqual({ status: 'FAILED', error: 'Operation at backup-iam was a STEP in the last invocation' });
  });
});
