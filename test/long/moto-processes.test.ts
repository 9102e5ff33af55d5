import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { alive, freePort, startMoto } from '../../src/local/moto';

/*
 * The moto processes `npm start` and the test run start (src/local/moto.ts, src/local/start.cjs):
 * an early server adopted or replaced, and servers started at once on ports moto binds itself. Each
 * test starts real moto processes (a few seconds of CPU each), so they are long proofs; what the
 * bot reads from DRBOT_EARLY_MOTO is checked in test/integration/early-moto.test.ts.
 */

const LAUNCHER = join(__dirname, '../../src/local/moto_launcher.py');

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('DRBOT_EARLY_MOTO', () => {
  it('an early server that answers is adopted, and stopping the bot\'s moto stops it', async () => {
    // prepare: what start.cjs does
    const port = await freePort();
    const child = spawn('python3', [LAUNCHER, '127.0.0.1', String(port)], { stdio: 'ignore', env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' } });
    const pid = child.pid ?? 0;

    // act
    const moto = await startMoto({ adopt: { port, pid } });
    const answered = (await fetch(`${moto.endpoint}/moto-api/`)).status;
    await moto.stop();

    // assess
    expect(moto.port).toBe(port);
    expect(answered).toBeLessThan(500);
    await until('the early moto is gone', () => child.exitCode !== null || child.signalCode !== null);
    expect(alive(pid)).toBe(false);
  }, 60_000);

  it('an early server that died is not waited for: the bot starts its own', async () => {
    // prepare: a pid that is gone, and a port nobody listens on
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    const port = await freePort();

    // act
    const moto = await startMoto({ adopt: { port, pid: gone.pid ?? 0 } });
    try {
      // assess
      expect(moto.port).not.toBe(port);
      expect((await fetch(`${moto.endpoint}/moto-api/`)).status).toBeLessThan(500);
    } finally {
      await moto.stop();
    }
  }, 60_000);
});

describe('startMoto', () => {
  it('gives servers started at once each their own port and their own state (the port is bound by moto, not chosen before)', async () => {
    // act
    const servers = await Promise.all([startMoto(), startMoto(), startMoto()]);
    try {
      // assess: distinct ports, and a bucket made in one is not in the others
      expect(new Set(servers.map((s) => s.port)).size).toBe(3);
      await fetch(`${servers[0]?.endpoint}/only-in-the-first`, { method: 'PUT', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/s3/aws4_request' } });
      const listed = await Promise.all(servers.map(async (s) => (await (await fetch(`${s.endpoint}/`)).text()).includes('only-in-the-first')));
      expect(listed).toEqual([true, false, false]);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 60_000);
});
