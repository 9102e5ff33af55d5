import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedSandbox } from '../../src/local/seed';
import { StateStore } from '../../src/store/state';
import { useMoto } from '../helpers/moto';

/*
 * Issue 8, fault 12: a local crash. `npm start` is a tree (npm → sh → tsx → node → python moto);
 * SIGKILL of the bot must not orphan moto, SIGTERM to npm must end the whole tree, and against a
 * state table that outlives the process (--aws with an endpoint) the next start must say which
 * runs the killed bot left unfinished.
 */

const ROOT = resolve(__dirname, '../..');

/** Every process's parent, from /proc (Linux). */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(d), ppid);
    } catch {
      // gone meanwhile
    }
  }
  return map;
}

function descendants(root: number): number[] {
  const ps = parents();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, ppid] of ps) if (ppid === p) (out.push(pid), walk(pid));
  };
  walk(root);
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const k of Object.keys(e)) if (/^(SLACK_|DRBOT_|AWS_ENDPOINT)/.test(k)) delete e[k];
  return { ...e, ...extra };
}

interface Started {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function npmStart(args: string[], e: NodeJS.ProcessEnv): Started {
  const child = spawn('npm', ['--silent', 'start', '--', ...args], { cwd: ROOT, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exited };
}

/** The node process running src/local/main.ts, and the moto launcher, under an npm start. */
function tree(npm: number): { bot?: number; moto?: number; all: number[] } {
  const all = descendants(npm);
  return {
    all,
    bot: all.find((p) => cmdline(p).includes('src/local/main.ts') && !cmdline(p).includes('tsx/dist/cli')) ?? all.find((p) => cmdline(p).includes('main.ts')),
    moto: all.find((p) => cmdline(p).includes('moto_launcher.py')),
  };
}

describe('a local crash', () => {
  const moto = useMoto();

  it('SIGKILL of the bot does not leave its moto server running', async () => {
    // prepare
    const s = npmStart([], env());
    await until('ready', () => s.out.stderr.includes('drbot: ready'), 60_000);
    const t = tree(s.child.pid ?? 0);
    expect(t.moto).toBeDefined();
    expect(t.bot).toBeDefined();

    // act
    process.kill(t.bot ?? 0, 'SIGKILL');

    // assess
    await until('moto is gone', () => !alive(t.moto ?? 0));
    s.child.stdin?.end();
    s.child.kill('SIGKILL');
    for (const p of tree(s.child.pid ?? 0).all) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 90_000);

  it('SIGTERM to npm start ends the whole tree, moto included', async () => {
    // prepare
    const s = npmStart([], env());
    await until('ready', () => s.out.stderr.includes('drbot: ready'), 60_000);
    const t = tree(s.child.pid ?? 0);
    expect(t.all.length).toBeGreaterThanOrEqual(2);

    // act: what a supervisor or `kill` sends; stdin stays open
    s.child.kill('SIGTERM');
    await s.exited;

    // assess
    await until('every process of the tree is gone', () => t.all.every((p) => !alive(p)));
  }, 90_000);

  it('the next start against a kept state table marks the killed bot\'s waiting run interrupted, with Plan again', async () => {
    // prepare: an estate at an AWS-compatible endpoint, and a bot with a run waiting for approval
    const { endpoint, clients } = moto();
    await seedSandbox(clients);
    const e = env({ AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint, DRBOT_STATE_TABLE: 'drbot-state-crash' });
    // The example config with Slack user IDs for the roles, as the README says to write it.
    const config = join(mkdtempSync(join(tmpdir(), 'drbot-crash-')), 'crash.config.yaml');
    writeFileSync(
      config,
      readFileSync(join(ROOT, 'drbot.config.example.yaml'), 'utf8').replace('viewer: [S0SREVIEW]', 'viewer: [U0CAROL]').replace('operator: [S0SREOPS]', 'operator: [U0ALICE]').replace('approver: [S0SRELEADS]', 'approver: [U0BOB]'),
    );
    const first = npmStart(['--aws', '--config', config], e);
    await until('ready', () => first.out.stderr.includes('drbot: ready'), 60_000);
    first.child.stdin?.write('/dr restore s3 spawn-binaries-us-east-1 --prefix bin/\n');
    await until('the plan waits for approval', () => /Waiting for approval/.test(first.out.stdout), 60_000);
    const runId = /Started run `?(r-[0-9a-f]{12})/.exec(first.out.stdout)?.[1] ?? 'none';
    // The message says so a moment before the run record does: kill once the record is written too.
    const state = new StateStore(clients.dynamodb(), 'drbot-state-crash');
    await until('the run record says awaiting approval', async () => (await state.getRun(runId))?.status === 'awaiting_approval', 60_000);

    // act: the bot is killed; a second one starts on the same state table
    const t = tree(first.child.pid ?? 0);
    process.kill(t.bot ?? 0, 'SIGKILL');
    await until('the first bot is gone', () => !alive(t.bot ?? 0));
    first.child.kill('SIGKILL');
    const second = npmStart(['--aws', '--config', config], e);
    second.child.stdin?.end('');
    await second.exited;

    // assess
    expect(runId).toMatch(/^r-/);
    expect(second.out.stderr).toContain('1 run of an earlier drbot never finished');
    expect(second.out.stderr).toContain(`${runId} /dr restore s3 spawn-binaries-us-east-1 --prefix bin/ (was awaiting approval)`);
    expect(second.out.stdout).toMatch(/Interrupted/);
    expect(second.out.stdout).toMatch(/\[\d+\] Plan again/);
  }, 180_000);
});
