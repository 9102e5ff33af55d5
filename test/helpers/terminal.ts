import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * `npm start` as a newcomer uses it: the terminal chat reading a script from stdin, against the
 * sandbox (its own moto), printing what the channel would show. Each run takes several seconds.
 * Shared by the terminal-chat tests in test/e2e/ and test/long/.
 */

export const ROOT = resolve(__dirname, '../..');
export const BUCKET = 'spawn-binaries-us-east-1';
const RUN_TIMEOUT_MS = 90_000;

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a newcomer's shell: no Slack tokens, no config, so the sandbox chat starts. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
  for (const k of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'DRBOT_CONFIG', 'AWS_ENDPOINT_URL']) delete env[k];
  return env;
}

export function run(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${cmd} ${args.join(' ')} did not exit within ${RUN_TIMEOUT_MS} ms\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-2000)}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** The terminal chat with a script on stdin. */
export function chat(lines: string[]): Promise<Exit> {
  return run('npx', ['tsx', 'src/local/main.ts'], `${lines.join('\n')}\n`);
}

/** Asserts each needle appears, in this order. */
export function expectInOrder(text: string, needles: (string | RegExp)[]): void {
  let from = 0;
  for (const n of needles) {
    const rest = text.slice(from);
    const m = typeof n === 'string' ? { index: rest.indexOf(n), length: n.length } : ((r) => (r ? { index: r.index, length: r[0].length } : { index: -1, length: 0 }))(n.exec(rest));
    if (m.index < 0) throw new Error(`expected ${String(n)} after offset ${from} in:\n${text.slice(from, from + 4000)}`);
    from += m.index + m.length;
  }
}

export function explain(r: Exit): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-2000)}`;
}


/**
 * The terminal chat (`npx tsx src/local/main.ts`) with stdin kept open, for scripts that type a line
 * only once the chat has answered the one before. `waitFor` looks in `where()` from offset `from`
 * and fails with both streams' tails once `timeoutMs` has passed since the start, or the chat exited.
 */
export interface LiveChat {
  child: ChildProcessWithoutNullStreams;
  readonly out: string;
  readonly err: string;
  exited: Promise<number | null>;
  type(line: string): void;
  waitFor(what: RegExp, where: () => string, from?: number): Promise<RegExpExecArray>;
}

export function liveChat(timeoutMs: number): LiveChat {
  const child = spawn('npx', ['tsx', 'src/local/main.ts'], { cwd: ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  const deadline = Date.now() + timeoutMs;
  return {
    child,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    exited,
    type: (line) => child.stdin.write(`${line}\n`),
    async waitFor(what, where, from = 0) {
      for (;;) {
        const m = what.exec(where().slice(from));
        if (m) return m;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${what} in:\n--- stdout\n${out.slice(-4000)}\n--- stderr\n${err.slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Waits for the sandbox's ready line on stderr and gives the moto endpoint and hosted zone ID it names. */
export async function sandboxReady(chat: LiveChat): Promise<{ endpoint: string; zoneId: string }> {
  const [, endpoint = '', zoneId = ''] = await chat.waitFor(/moto at (http:\/\/127\.0\.0\.1:\d+) .*--hosted-zone-id (\S+)/, () => chat.err);
  return { endpoint, zoneId };
}
