import { AwsClients } from '../../src/aws/clients';
import { SANDBOX_CREDENTIALS, startMoto, type MotoServer } from '../../src/local/moto';

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
 * Starts one moto server for the calling test file (beforeAll) and stops it afterwards (afterAll).
 * Call at the top of a describe block or file; use the returned getter inside tests and hooks.
 * The server is shared by every test in the file: use distinct resource names or `resetMoto`.
 */
export function useMoto(): () => MotoContext {
  let server: MotoServer | undefined;
  let ctx: MotoContext | undefined;
  beforeAll(async () => {
    server = await startMoto();
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

/** Drops every resource in the moto server (POST /moto-api/reset). */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}
