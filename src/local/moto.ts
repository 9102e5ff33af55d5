import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DrbotError } from '../errors';

export const MOTO_INSTALL_HINT = "python3 -m pip install 'moto[server]'";

export class MotoMissingError extends DrbotError {
  constructor(detail: string) {
    super('moto_missing', `The sandbox needs moto, which is not installed (${detail}).`, `Install it with: ${MOTO_INSTALL_HINT}`);
  }
}

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Many S3 objects in one request, through moto's own backend (the seed's batches). */
  putMany?: BulkPut;
  /** Many DynamoDB items in one request, through moto's own backend (the seed's tables). */
  putItems?: BulkItems;
  /**
   * Keeps a copy of everything moto holds under a name, with a note (any JSON) about it; restore()
   * puts it all back, as often as asked, and gives the note back (undefined for an unknown name).
   * Tests restore a seeded sandbox this way instead of seeding it again for every file.
   */
  snapshot?: (name: string, meta?: unknown) => Promise<void>;
  restore?: (name: string) => Promise<{ meta: unknown } | undefined>;
  stop(): Promise<void>;
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function python(): string {
  return process.env.DRBOT_PYTHON ?? 'python3';
}

/** True when `python3 -m moto.server` can run here. */
export function motoAvailable(): { ok: true } | { ok: false; detail: string } {
  const r = spawnSync(python(), ['-c', 'import moto.server, flask, werkzeug'], { encoding: 'utf8' });
  if (r.error) return { ok: false, detail: `${python()} not found` };
  if (r.status !== 0) return { ok: false, detail: (r.stderr.trim().split('\n').pop() ?? 'import failed').slice(0, 200) };
  return { ok: true };
}

async function waitReady(endpoint: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new DrbotError('moto_failed', 'moto exited before it was ready', 'Run `python3 -m moto.server` by hand to see why.');
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new DrbotError('moto_failed', `moto did not answer on ${endpoint} within ${timeoutMs} ms`, 'Run `python3 -m moto.server` by hand to see why.');
}

/** The port the launcher bound, from its `PORT <n>` line on stdout (see moto_launcher.py). */
function boundPort(stdout: NodeJS.ReadableStream | null, exited: () => boolean, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (f: () => void) => {
      clearInterval(watch);
      clearTimeout(timer);
      stdout?.removeListener('data', onData);
      // Whatever moto writes later is drained, so it never blocks on a full pipe.
      stdout?.resume();
      f();
    };
    const onData = (d: Buffer) => {
      seen = (seen + d.toString()).slice(-200);
      const m = /^PORT (\d{1,5})$/m.exec(seen);
      if (m) done(() => resolve(Number(m[1])));
    };
    stdout?.on('data', onData);
    const watch = setInterval(() => {
      if (exited()) done(() => reject(new DrbotError('moto_failed', 'moto exited before it was ready', 'Run `python3 -m moto.server` by hand to see why.')));
    }, 50);
    const timer = setTimeout(() => done(() => reject(new DrbotError('moto_failed', `moto did not bind a port within ${timeoutMs} ms`, 'Run `python3 -m moto.server` by hand to see why.'))), timeoutMs);
  });
}

/** moto's server plus a bulk S3 write for the seed (see moto_launcher.py). */
const LAUNCHER = join(__dirname, 'moto_launcher.py');

/** Objects written in one bulk call. */
export type BulkPut = (bucket: string, objects: readonly { key: string; body: string }[]) => Promise<void>;
/** DynamoDB items (AttributeValue JSON: no binary values) written in one bulk call. */
export type BulkItems = (region: string, table: string, items: readonly Record<string, unknown>[]) => Promise<void>;

/**
 * Starts a moto server as a child process on a free loopback port and waits until it answers.
 * The child is killed when stop() is called or when this process exits. Whether moto is installed
 * is asked only when it fails to start (the import check alone costs a second of Python).
 */
export async function startMoto(opts: { timeoutMs?: number; adopt?: EarlyMoto } = {}): Promise<MotoServer> {
  if (opts.adopt) {
    const adopted = await adoptMoto(opts.adopt, opts.timeoutMs ?? 30000);
    if (adopted) return adopted;
  }
  // Port 0: the launcher binds a port the OS picks and says which, so no other process (another
  // test worker's moto) can take it between choosing and binding, as with a port chosen here.
  const child = spawn(python(), [LAUNCHER, '127.0.0.1', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.on('error', () => {});
  const kill = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  let exited = false;
  const gone = () => {
    exited = true;
  };
  child.once('exit', gone);
  child.once('error', gone);
  const timeoutMs = opts.timeoutMs ?? 30000;
  let port = 0;
  try {
    port = await boundPort(child.stdout, () => exited || child.exitCode !== null, timeoutMs);
    await waitReady(`http://127.0.0.1:${port}`, () => exited || child.exitCode !== null, timeoutMs);
  } catch (e) {
    kill();
    process.removeListener('exit', kill);
    const avail = motoAvailable();
    if (!avail.ok) throw new MotoMissingError(avail.detail);
    if (e instanceof DrbotError && stderr) throw new DrbotError(e.code, `${e.message}: ${stderr.trim().split('\n').pop()}`, e.hint);
    throw e;
  }
  return server(`http://127.0.0.1:${port}`, port, () =>
    new Promise<void>((resolve) => {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(kill, 2000).unref();
    }),
  );
}

/**
 * A moto server `npm start` spawned before this process loaded (src/local/start.cjs: it boots
 * while tsx and the bot's modules load). Named by DRBOT_EARLY_MOTO=PORT:PID, which is taken out of
 * the environment so that nothing this process spawns adopts it too.
 */
export interface EarlyMoto {
  port: number;
  pid: number;
}

export function takeEarlyMoto(env: NodeJS.ProcessEnv = process.env): EarlyMoto | undefined {
  const raw = env.DRBOT_EARLY_MOTO;
  delete env.DRBOT_EARLY_MOTO;
  const m = /^(\d{1,5}):(\d{1,10})$/.exec(raw ?? '');
  if (!m) return undefined;
  const port = Number(m[1]);
  const pid = Number(m[2]);
  return port > 0 && port < 65536 && pid > 1 ? { port, pid } : undefined;
}

/** True while a process with that pid exists and is ours to signal. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The early server once it answers; undefined when it died (then startMoto spawns its own and says why it failed). */
async function adoptMoto(early: EarlyMoto, timeoutMs: number): Promise<MotoServer | undefined> {
  const endpoint = `http://127.0.0.1:${early.port}`;
  const kill = () => {
    if (alive(early.pid)) process.kill(early.pid, 'SIGKILL');
  };
  try {
    await waitReady(endpoint, () => !alive(early.pid), timeoutMs);
  } catch {
    kill();
    return undefined;
  }
  process.once('exit', kill);
  return server(endpoint, early.port, async () => {
    process.removeListener('exit', kill);
    if (!alive(early.pid)) return;
    process.kill(early.pid, 'SIGTERM');
    const deadline = Date.now() + 2000;
    while (alive(early.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    kill();
  });
}

function server(endpoint: string, port: number, stop: () => Promise<void>): MotoServer {
  const putMany: BulkPut = async (bucket, objects) => {
    const res = await fetch(`${endpoint}/_drbot/s3/put-many`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bucket, objects }) });
    if (!res.ok) throw new Error(`bulk put into ${bucket} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  };
  const putItems: BulkItems = async (region, table, items) => {
    const res = await fetch(`${endpoint}/_drbot/dynamodb/put-many`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ region, table, items }) });
    if (!res.ok) throw new Error(`bulk put into ${table} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  };
  const snapshot = async (name: string, meta?: unknown) => {
    const res = await fetch(`${endpoint}/_drbot/snapshot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, meta }) });
    if (!res.ok) throw new Error(`moto snapshot ${name} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  };
  const restore = async (name: string) => {
    const res = await fetch(`${endpoint}/_drbot/restore`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`moto restore ${name} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return { meta: ((await res.json()) as { meta?: unknown }).meta };
  };
  return { endpoint, port, putMany, putItems, snapshot, restore, stop };
}

/**
 * A moto server someone else started and will stop (a test run's shared server): the same calls,
 * and a stop() that leaves it running.
 */
export function motoAt(endpoint: string): MotoServer {
  return server(endpoint, Number(new URL(endpoint).port), async () => {});
}

/** Static credentials for the sandbox: moto accepts any. */
export const SANDBOX_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;
