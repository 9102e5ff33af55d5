/**
 * The drill-history runbook (src/runbooks/drill-history/runbook.ts, `/dr drill history [N]`) on its
 * own, against a state table in moto: read-only, the kept drill reports as a table, newest first,
 * each measure's worst with its trend against the drill before. test/unit/drill-aws.test.ts has
 * the table's shape; these read real kept reports, so `npm run mutate` can run them per mutant.
 *
 * moto enforces no IAM policy: a refused Query is SDK middleware on the store's client (faults.ts).
 */
import type { DrillHistoryInput } from '../../src/runbooks/drill-history';
import { runbook } from '../../src/runbooks/drill-history/runbook';
import type { Outcome } from '../../src/runbooks/driver';
import type { AnyRunInput } from '../../src/runbooks/types';
import { type DrillMeasure, type DrillReport, DrillStore } from '../../src/store/drills';
import { StateStore } from '../../src/store/state';
import { ACCESS_DENIED, fail, undoFaults } from '../helpers/faults';
import { useRunbookRig, watchSteps } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const rto = (seconds: number | undefined, result: DrillMeasure['result'] = 'pass', component = 'compute'): DrillMeasure => ({ component, kind: 'rto', ...(seconds === undefined ? {} : { seconds }), objectiveMinutes: 60, result });
const rpo = (seconds: number | undefined, result: DrillMeasure['result'] = 'pass', component = 's3:spawn-binaries'): DrillMeasure => ({ component, kind: 'rpo', ...(seconds === undefined ? {} : { seconds }), objectiveMinutes: 15, result });

let tables = 0;

/** Reports as kept: the n-th (from 0, oldest first) a month after the one before. */
function reports(...over: Array<Partial<DrillReport> & { measures: DrillMeasure[] }>): DrillReport[] {
  return over.map((o, i) => ({ runId: `r-${String(i + 1).padStart(12, '0')}`, at: `2027-${String(i + 1).padStart(2, '0')}-01T03:00:00.000Z`, ok: true, scheduled: false, failures: 0, cleanup: 'removed', ...o }));
}

function input(count: number): DrillHistoryInput & AnyRunInput {
  return { kind: 'drill-history', runId: `h${tables}`, requester: 'UCAROL', channel: 'C1', commandText: `/dr drill history ${count}`, requestedAt: new Date().toISOString(), count } as DrillHistoryInput & AnyRunInput;
}

/** A state table of its own holding `kept`, and the store on it. */
async function storeOf(kept: readonly DrillReport[]): Promise<StateStore> {
  const ddb = rig.moto().clients.dynamodb('us-east-1');
  const name = `drbot-history-${++tables}`;
  await StateStore.createTable(ddb, name);
  const store = new StateStore(ddb, name);
  for (const r of kept) await new DrillStore(store.doc, store.tableName).put(r, new Date());
  return store;
}

/** The runbook run on the local runner over a store holding `kept`: its outcome and checkpoints. */
async function history(kept: readonly DrillReport[], count = 6): Promise<Outcome & { checkpoints: string[] }> {
  const store = await storeOf(kept);
  let checkpoints: string[] = [];
  const outcome = await rig.durable(async (ctx, d, x) => {
    const watched = watchSteps(ctx);
    checkpoints = watched.checkpoints;
    return runbook.execute(watched.ctx, { ...d, store }, x as DrillHistoryInput & AnyRunInput, null, { report: () => Promise.resolve() });
  }, input(count));
  return { ...outcome, checkpoints };
}

/** A row's cells (split where two or more spaces part them). */
const cells = (row: string) => row.split(/ {2,}/);

/** The table's rows (the lines inside the code block, header first). */
function table(lines: readonly string[]): string[] {
  const block = lines[1] ?? '';
  expect(block.startsWith('```') && block.endsWith('```')).toBe(true);
  return block.slice(3, -3).split('\n');
}

const time = (r: DrillReport | undefined) => (r?.at ?? '').slice(0, 16).replace('T', ' ');

describe('the plan', () => {
  it('is read-only and says so', async () => {
    const p = await runbook.plan(rig.deps(), input(6), { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
    expect(p).toEqual({ lines: ['Reading the kept drill reports (read-only).'], data: null });
    expect(runbook.destructive).toBe(false);
    expect(runbook.title(input(6))).toBe('DR drill history');
  });
});

describe('the history', () => {
  it('says no drill has run when none is kept, in one checkpointed read', async () => {
    const r = await history([]);
    expect(r).toMatchObject({ ok: true, failures: [], lines: ['No drill has been run yet. `/dr drill --dry-run` shows what one does.'] });
    expect(r.checkpoints).toEqual(['history']);
  });

  it('shows the newest N, newest first: each row its time, run, result, worst RTO and RPO with their trend, passes/fails and the clean-up', async () => {
    // oldest first: a baseline, then slower (↑), the same within 10 % (→), faster (↓)
    const kept = reports(
      { measures: [rto(600), rto(100, 'pass', 'restore:spawn-instances'), rpo(60)] },
      { measures: [rto(900), rpo(30, 'fail')], ok: false, failures: 1, cleanup: 'incomplete' },
      { measures: [rto(950), rpo(29)], scheduled: true, cleanup: 'kept' },
      { measures: [rto(100), rpo(5)] },
    );
    const [, b, c, d] = kept;

    const r = await history(kept, 3);

    expect(r.ok).toBe(true);
    expect(r.lines[0]).toBe('*The last 3 drills*, newest first (2 passed). Arrows: the trend against the drill before (↑ slower, ↓ faster).');
    const rows = table(r.lines);
    expect(cells(rows[0] ?? '')).toEqual(['time (UTC)', 'run', 'drill', 'worst RTO', 'worst RPO', '✓/✗', 'clean-up']);
    expect(rows.slice(1).map(cells)).toEqual([
      [time(d), d?.runId, 'pass', '1 min 40 s ↓', '5 s ↓', '2/0', 'removed'],
      [time(c), c?.runId, 'pass', '15 min 50 s →', '29 s →', '2/0', 'kept (scheduled)'],
      // the oldest shown has no drill before it among the three read: no trend
      [time(b), b?.runId, 'FAIL', '15 min 0 s', '30 s', '1/1', 'incomplete'],
    ]);
  });

  it('a single drill is "drill", not "drills"; its worst RTO is the largest of its RTOs', async () => {
    const r = await history(reports({ measures: [rto(30, 'pass', 'restore:spawn-instances'), rto(120), rpo(10)] }));
    expect(r.lines[0]).toBe('*The last 1 drill*, newest first (1 passed). Arrows: the trend against the drill before (↑ slower, ↓ faster).');
    expect(cells(table(r.lines)[1] ?? '').slice(3, 5)).toEqual(['2 min 0 s', '10 s']);
  });

  it('a measure not taken shows — and no trend; the worst is the largest measured; a change under a second is steady; not-measured results count as neither pass nor fail', async () => {
    const r = await history(reports({ measures: [rto(0.4), rpo(undefined, 'none')] }, { measures: [rto(1.2), rto(undefined, 'none', 'dynamodb:spawn-instances'), rpo(undefined, 'none')] }));
    const rows = table(r.lines);
    // newest first: 1.2 s against 0.4 s is under a second apart (the 10 % rule is at least 1 s): steady
    expect(cells(rows[1] ?? '').slice(3, 6)).toEqual(['1 s →', '—', '1/0']);
    expect(cells(rows[2] ?? '').slice(3, 6)).toEqual(['0 s', '—', '1/0']);
  });

  it('a change of 10 % of the drill before or more is a trend; under it, steady', async () => {
    const r = await history(reports({ measures: [rto(1000), rpo(100)] }, { measures: [rto(1100), rpo(89.9)] }, { measures: [rto(1209), rpo(98.9)] }));
    const rows = table(r.lines).slice(1).map(cells);
    // 1209 against 1100: 109 < 110, steady; 98.9 against 89.9: 9 ≥ 8.99, slower
    expect(rows[0]?.slice(3, 5)).toEqual(['20 min 9 s →', '1 min 39 s ↑']);
    // 1100 against 1000: 100 is not < 100, slower; 89.9 against 100: 10.1, faster
    expect(rows[1]?.slice(3, 5)).toEqual(['18 min 20 s ↑', '1 min 30 s ↓']);
  });

  it('escapes report text that Slack would read as markup inside the table', async () => {
    const r = await history(reports({ runId: 'r-<!channel>&', measures: [rto(60)] }));
    const block = r.lines[1] ?? '';
    expect(block).toContain('r-&lt;!channel&gt;&amp;');
    expect(block).not.toContain('<!channel>');
  });

  it('a refused read fails the run with the refusal, naming the call and the table (the driver reports it)', async () => {
    const store = await storeOf(reports({ measures: [rto(60)] }));
    fail(store.doc, 'QueryCommand', ACCESS_DENIED);
    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, { ...d, store }, x as DrillHistoryInput & AnyRunInput, null, { report: () => Promise.resolve() }), input(6));
    expect(r).toEqual({ status: 'FAILED', error: `Query on \`${store.tableName}\` failed: ${ACCESS_DENIED.message}` });
  });
});
