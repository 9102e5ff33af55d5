import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { median } from './util';

/**
 * `npm start` to its ready line, as a newcomer sees it: a fresh `npm start` (npm, then
 * src/local/start.cjs: moto boots while tsx and the bot load; then the seed, state table and
 * durable runner), timed from spawn to the "drbot: ready" line on stderr, with the seed's own
 * figure from its "seeded in" line. The bot is then told to quit.
 */

const ROOT = resolve(__dirname, '..');

export interface StartupRun {
  readyMs: number;
  /** Spawn to the first line ("starting the sandbox"): npm, tsx and main.ts loaded. */
  firstLineMs: number;
  /** From the "sandbox seeded in N s" line: moto ready → seeded, state table and runner set up. */
  seedMs: number;
}

export interface StartupResult {
  runs: StartupRun[];
  medianReadyMs: number;
  medianSeedMs: number;
  medianFirstLineMs: number;
}

function once(timeoutMs: number, root: string): Promise<StartupRun> {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    for (const k of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'DRBOT_CONFIG', 'AWS_ENDPOINT_URL']) delete env[k];
    const child = spawn('npm', ['--silent', 'start'], { cwd: root, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    let readyMs: number | undefined;
    let firstLineMs: number | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`no ready line within ${timeoutMs} ms: ${err.slice(-500)}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      firstLineMs ??= Number(process.hrtime.bigint() - started) / 1e6;
      if (readyMs === undefined && err.includes('drbot: ready')) {
        readyMs = Number(process.hrtime.bigint() - started) / 1e6;
        child.stdin.end('/quit\n');
      }
    });
    child.on('error', fail);
    child.on('exit', () => {
      clearTimeout(timer);
      const seed = /sandbox seeded in ([\d.]+) s/.exec(err);
      if (readyMs === undefined) return fail(new Error(`exited before its ready line: ${err.slice(-500)}`));
      done({ readyMs, firstLineMs: firstLineMs ?? NaN, seedMs: seed ? Number(seed[1]) * 1000 : NaN });
    });
  });
}

/** `runs` fresh starts, one after the other; `root` is the checkout (another one to compare). */
export async function benchStartup(runs = 3, timeoutMs = 90_000, root = ROOT): Promise<StartupResult> {
  const results: StartupRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await once(timeoutMs, root));
  return { runs: results, medianReadyMs: median(results.map((r) => r.readyMs)), medianSeedMs: median(results.map((r) => r.seedMs)), medianFirstLineMs: median(results.map((r) => r.firstLineMs)) };
}

if (require.main === module) {
  // npx tsx bench/startup.ts [RUNS] [CHECKOUT]: e.g. an older checkout, to compare on the same machine.
  void benchStartup(Number(process.argv[2] ?? 3), 90_000, process.argv[3] ? resolve(process.argv[3]) : ROOT).then((r) => console.log(JSON.stringify(r, null, 2)));
}
