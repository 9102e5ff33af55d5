/** What bench/runner.ts (a child process) reports to bench/run.ts: one stdout line, marker + JSON. */
export const RESULT_MARKER = 'BENCH_RESULT ';

export interface ColdResult {
  mode: 'cold';
  /** performance.now() at the response: ms since the child process started (Node bootstrap included). */
  sinceProcessStartMs: number;
  /** From the runner's first line to the response: require + first request. */
  runnerMs: number;
  requireMs: number;
  firstRequestMs: number;
  status: number;
  ok: boolean;
  body: string;
}

export interface WarmResult {
  mode: 'warm';
  /** Per measured request, ms, in order. */
  latencies: number[];
  failures: number;
  firstFailure?: string;
}
