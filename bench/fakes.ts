/**
 * Local stand-ins for the AWS services the Slack handler touches while acking: DynamoDB (dynalite,
 * holding the state table) and Lambda (a tiny HTTP server that answers the async Invoke of the
 * runbook function with 202, as Lambda does for InvocationType Event).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateStore } from '../src/store/state';

export const BENCH_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;
export const BENCH_REGION = 'us-east-1';
export const BENCH_STATE_TABLE = 'drbot-bench-state';

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

export interface FakeDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** dynalite on a free loopback port with the state table created. */
export async function startDynamo(table = BENCH_STATE_TABLE): Promise<FakeDynamo> {
  const server = dynalite({ createTableMs: 0 });
  const endpoint = await listen(server);
  const client = new DynamoDBClient({ region: BENCH_REGION, endpoint, credentials: BENCH_CREDENTIALS });
  await StateStore.createTable(client, table);
  client.destroy();
  return { endpoint, close: () => close(server) };
}

export interface FakeLambda {
  endpoint: string;
  /** Invoke requests answered, and the durable execution names seen (each should be unique). */
  invokes: number;
  executionNames: Set<string>;
  unexpected: string[];
  close(): Promise<void>;
}

/** Answers `POST /2015-03-31/functions/<fn>/invocations` with 202; anything else with 404. */
export async function startFakeLambda(): Promise<FakeLambda> {
  const state: Omit<FakeLambda, 'endpoint' | 'close'> = { invokes: 0, executionNames: new Set(), unexpected: [] };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'POST' && /^\/2015-03-31\/functions\/[^/]+\/invocations/.test(url)) {
        state.invokes++;
        const name = req.headers['x-amz-durable-execution-name'];
        if (typeof name === 'string') state.executionNames.add(name);
        res.writeHead(202, { 'content-type': 'application/json', 'x-amzn-requestid': `bench-${state.invokes}` }).end();
        return;
      }
      if (state.unexpected.length < 10) state.unexpected.push(`${req.method} ${url}`);
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' }).end('{"message":"not faked"}');
    });
  });
  const endpoint = await listen(server);
  return Object.assign(state, { endpoint, close: () => close(server) });
}
