import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SANDBOX_CREDENTIALS } from '../../src/local/moto';
import { SlackStandIn } from '../../src/local/slack-standin';
import { StateStore } from '../../src/store/state';
import type { MotoContext } from './moto';

const VARS = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'STATE_TABLE', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_API_URL'] as const;

export interface LambdaEnv {
  standIn: SlackStandIn;
  /** The state table the handler uses (STATE_TABLE), read directly. */
  store: () => StateStore;
  /** A DynamoDB client on moto, for the test's own reads. */
  ddb: () => DynamoDBClient;
}

/**
 * A handler's environment as template.yaml gives it on Lambda, pointed at the test's moto
 * (AWS_ENDPOINT_URL) and a Slack stand-in (SLACK_API_URL), with a fresh state table: set in
 * beforeAll (after useMoto's), and the process's own values put back in afterAll.
 */
export function useLambdaEnv(moto: () => MotoContext, table: string, name: string): LambdaEnv {
  const standIn = new SlackStandIn();
  const saved: Partial<Record<(typeof VARS)[number], string>> = {};
  let ddb: DynamoDBClient | undefined;
  let store: StateStore | undefined;
  beforeAll(async () => {
    for (const k of VARS) saved[k] = process.env[k];
    ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: moto().endpoint, credentials: SANDBOX_CREDENTIALS });
    await StateStore.createTable(ddb, table);
    store = new StateStore(ddb, table);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto().endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
      STATE_TABLE: table,
      SLACK_SIGNING_SECRET: `${name}-test-signing`,
      SLACK_BOT_TOKEN: `xoxb-${name}-test`,
      SLACK_API_URL: await standIn.start(),
    });
  });
  afterAll(async () => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await standIn.stop();
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useLambdaEnv(): use it inside a test or hook');
    return v;
  };
  return { standIn, store: () => need(store), ddb: () => need(ddb) };
}
