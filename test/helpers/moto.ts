import { AwsClients } from '../../src/aws/clients';
import { motoAt, SANDBOX_CREDENTIALS, startMoto, type MotoServer } from '../../src/local/moto';

export interface MotoContext {
  endpoint: string;
  /** Clients for the moto server: default region us-east-1, sandbox credentials. */
  clients: AwsClients;
}

/** AwsClients pointed at a moto endpoint (us-east-1 by default) with the sandbox credentials. */
export function motoClients(endpoint: string, region = 'us-east-1'): AwsClients {
  return new AwsClients(region, { endpoint, credentials: SANDBOX_CREDENTIALS });
}

/**
 * This jest worker's moto (test/global/setup.ts starts one per worker; a worker runs one file at a
 * time), or undefined when the run has none (then each file starts its own). Its stop() leaves it
 * running: the run's teardown stops it.
 */
export function sharedMoto(): MotoServer | undefined {
  const endpoints = (process.env.DRBOT_TEST_MOTO ?? '').split(',').filter(Boolean);
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const endpoint = endpoints[(worker - 1) % Math.max(1, endpoints.length)];
  return endpoint ? motoAt(endpoint) : undefined;
}

/**
 * A moto server for the calling test file, holding nothing the earlier files left (beforeAll):
 * the worker's shared one restored to its start, or one of its own, stopped afterwards (afterAll).
 * Call at the top of a describe block or file; use the returned getter inside tests and hooks.
 * The server is shared by every test in the file: use distinct resource names or `resetMoto`.
 */
export function useMoto(): () => MotoContext {
  let server: MotoServer | undefined;
  let ctx: MotoContext | undefined;
  beforeAll(async () => {
    server = await freshMoto();
    ctx = { endpoint: server.endpoint, clients: motoClients(server.endpoint) };
  });
  afterAll(async () => {
    await server?.stop();
    server = undefined;
    ctx = undefined;
  });
  return () => {
    if (!ctx) throw new Error('useMoto(): moto is not running; call the getter inside a test or hook, not at collection time');
    return ctx;
  };
}

/** The worker's shared moto as it started (nothing any file made), or a new one of this file's own. */
export async function freshMoto(): Promise<MotoServer> {
  const shared = sharedMoto();
  // A shared moto that died (or never answers) leaves this file to a moto of its own.
  if (shared && (await shared.restore?.('empty').catch(() => undefined))) return shared;
  return startMoto();
}

/**
 * A moto server of the caller's own with one launcher fast path turned off (`DRBOT_MOTO_FAST_*=off`),
 * to compare its answers with moto's own. The variable is set only while the server starts.
 */
export async function startMotoWithout(fastPath: `DRBOT_MOTO_FAST_${string}`): Promise<MotoServer> {
  const before = process.env[fastPath];
  process.env[fastPath] = 'off';
  try {
    return await startMoto();
  } finally {
    if (before === undefined) delete process.env[fastPath];
    else process.env[fastPath] = before;
  }
}

/** Drops every resource in the moto server (POST /moto-api/reset). */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}
