/** Small helpers for the bench: statistics, tables, temp dirs and child processes that are always cleaned up. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULT_MARKER } from './protocol';

// ---- statistics ------------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : NaN;
}

/** Rounds for the JSON summary. */
export function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

// ---- formatting ------------------------------------------------------------------------------

export function fmtMs(n: number): string {
  return Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a';
}

export function fmtX(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a';
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** PASS/MISS against a target; never fails the run. */
export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

/** Prints rows as an aligned table (first row is the header). Numbers and ratios right-aligned. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const numeric = (c: string) => /^[-+]?[\d,.]+(\s?(ms|B|KiB|MiB|×|\/s|%))?$|^n\/a$/.test(c);
  const line = (r: string[]) =>
    '  ' +
    r
      .map((c, i) => (i > 0 && numeric(c) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0] as string[]), '  ' + widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r));
  return out.join('\n');
}

export function heading(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 86 - title.length))}`);
}

// ---- warnings ---------------------------------------------------------------------------------

/*
 * The AWS SDK warns once per process that its future versions need Node 22; in the middle of the
 * tables that is noise (drbot runs on Node 20 by design). Off in this process only: the children
 * get a clean environment (bench/latency.ts drops AWS_*), so the measured bundles pay for it as
 * they would in production.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// ---- cleanup ---------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const closers: (() => Promise<void>)[] = [];

function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

function removeTempDirs(): void {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', () => {
  killChildren();
  removeTempDirs();
});
/**
 * The moto server that src/local/moto.ts starts is our direct child, but only the local stack
 * knows its handle. When a signal reaches this process alone (`kill PID`, `timeout`), tsx may
 * SIGKILL us within milliseconds, before any async cleanup: so first, synchronously, end our own
 * moto children by PID (Linux /proc: parent is us, command is moto.server) and drop the temp dirs.
 */
function killOwnMotoSync(): void {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) continue;
        if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('moto.server')) continue;
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        /* gone meanwhile, or not ours to read */
      }
    }
  } catch {
    /* no /proc: the stack's own exit hook and the async cleanup remain */
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\nbench: ${sig}, cleaning up`);
    killChildren();
    killOwnMotoSync();
    removeTempDirs();
    void cleanup().finally(() => process.exit(130));
  });
}

export function tempDir(prefix = 'drbot-bench-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** Registers something to close at the end (servers, moto, the local stack), last registered first. */
export function onCleanup(close: () => Promise<void>): void {
  closers.push(close);
}

export async function cleanup(): Promise<void> {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  killChildren();
  removeTempDirs();
}

// ---- child processes ---------------------------------------------------------------------------

export interface ChildRun<T> {
  result: T;
  /** Spawn to exit, as the parent saw it. */
  wallMs: number;
}

/**
 * Runs `node [nodeArgs] <script> <args>` with the given environment, waits for it to exit, and returns the
 * JSON after the RESULT_MARKER line together with the wall time from spawn to exit.
 */
export function runNode<T>(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000, nodeArgs: readonly string[] = []): Promise<ChildRun<T>> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        reject(new Error(`child ${script} ${args.join(' ')} failed (${why}): ${err.trim().split('\n').slice(-5).join(' | ') || out.slice(-500)}`));
        return;
      }
      resolve({ result: JSON.parse(line.slice(RESULT_MARKER.length)) as T, wallMs });
    });
  });
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
