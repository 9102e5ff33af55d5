import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { StateStore } from '../../src/store/state';

export interface DynaliteContext {
  endpoint: string;
  client: DynamoDBClient;
  /** A document client marshalling the way production's does (handlers/alarm.ts, `StateStore.doc`). */
  doc: DynamoDBDocumentClient;
  /** Creates an empty state table of its own (`StateStore.createTable`) and returns its name. */
  freshTable(prefix?: string): Promise<string>;
}

let tables = 0;

/**
 * Starts one dynalite server (DynamoDB in process, in memory) for the calling test file (beforeAll)
 * and stops it afterwards (afterAll). Call at the top of a file or describe block; use the returned
 * getter inside tests and hooks. Tests stay independent by taking a `freshTable()` each.
 *
 * The client does not retry (`maxAttempts: 1`): an engine error shows as the error, not as a slow test.
 */
export function useDynalite(): () => DynaliteContext {
  let server: Server | undefined;
  let ctx: DynaliteContext | undefined;
  beforeAll(async () => {
    const s = dynalite({ createTableMs: 0 });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve());
    });
    const endpoint = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const freshTable = async (prefix = 'drbot-state-test') => {
      const name = `${prefix}-${++tables}`;
      await StateStore.createTable(client, name);
      return name;
    };
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    ctx = { endpoint, client, doc, freshTable };
  });
  afterAll(async () => {
    ctx?.client.destroy();
    ctx = undefined;
    const s = server;
    server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
  return () => {
    if (!ctx) throw new Error('useDynalite(): dynalite is not running; call the getter inside a test or hook, not at collection time');
    return ctx;
  };
}
