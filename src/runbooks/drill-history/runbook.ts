import { escapeMrkdwn } from '../../slack/views/format';
import { formatDuration } from '../../slack/views/run';
import { type DrillReport, DrillStore } from '../../store/drills';
import { type Runbook, step } from '../driver';
import type { DrillHistoryInput } from '.';

/*
 * `/dr drill history`: the kept reports (src/store/drills.ts) as a table, newest first, with the
 * trend of each measure since the drill before. Read-only.
 */

const cell = (s: number | undefined) => (s === undefined ? '—' : formatDuration(s * 1000));

/** The worst (largest) measured seconds of a kind in a report. */
function worst(r: DrillReport, kind: 'rto' | 'rpo'): number | undefined {
  const s = r.measures.filter((m) => m.kind === kind && m.seconds !== undefined).map((m) => m.seconds as number);
  return s.length ? Math.max(...s) : undefined;
}

function trend(now: number | undefined, before: number | undefined): string {
  if (now === undefined || before === undefined) return '';
  if (Math.abs(now - before) < Math.max(1, before * 0.1)) return ' →';
  return now > before ? ' ↑' : ' ↓';
}

/** The history table: one line a drill, worst RTO and RPO with their trend, pass/fail counts and the clean-up. */
export function historyLines(reports: readonly DrillReport[]): string[] {
  if (!reports.length) return ['No drill has been run yet. `/dr drill --dry-run` shows what one does.'];
  const rows = reports.map((r, i) => {
    const prev = reports[i + 1];
    const passed = r.measures.filter((m) => m.result === 'pass').length;
    const failed = r.measures.filter((m) => m.result === 'fail').length;
    const rto = worst(r, 'rto');
    const rpo = worst(r, 'rpo');
    return `${r.at.slice(0, 16).replace('T', ' ')}  ${r.runId}  ${(r.ok ? 'pass' : 'FAIL').padEnd(4)}  ${`${cell(rto)}${prev ? trend(rto, worst(prev, 'rto')) : ''}`.padEnd(14)}  ${`${cell(rpo)}${prev ? trend(rpo, worst(prev, 'rpo')) : ''}`.padEnd(14)}  ${`${passed}/${failed}`.padEnd(5)}  ${r.cleanup}${r.scheduled ? ' (scheduled)' : ''}`;
  });
  const header = `${'time (UTC)'.padEnd(16)}  ${'run'.padEnd(14)}  ${'drill'.padEnd(4)}  ${'worst RTO'.padEnd(14)}  ${'worst RPO'.padEnd(14)}  ${'✓/✗'.padEnd(5)}  clean-up`;
  const oks = reports.filter((r) => r.ok).length;
  return [
    `*The last ${reports.length} drill${reports.length === 1 ? '' : 's'}*, newest first (${oks} passed). Arrows: the trend against the drill before (↑ slower, ↓ faster).`,
    '```' + escapeMrkdwn([header, ...rows].join('\n')) + '```',
  ];
}

export const runbook: Runbook<DrillHistoryInput, null> = {
  title: () => 'DR drill history',
  destructive: false,
  async plan() {
    return { lines: ['Reading the kept drill reports (read-only).'], data: null };
  },
  async execute(ctx, deps, input) {
    // `step`, not ctx.step: a refused read keeps its code and hint (a thrown error loses them in the SDK's serialization).
    const reports = await step(ctx, 'history', () => new DrillStore(deps.store.doc, deps.store.tableName).list(input.count));
    return { ok: true, lines: historyLines(reports), failures: [] };
  },
};
