import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { handlerConfig } from '../../handlers/_config';
import { SANDBOX_CREDENTIALS } from '../../src/local/moto';
import { SlackStandIn } from '../../src/local/slack-standin';
import type { AnyRunInput } from '../../src/runbooks/types';
import { StateStore } from '../../src/store/state';
import { textOf } from '../helpers/flow';
import { useMoto } from '../helpers/moto';

/*
 * handlers/runbook.ts as Lambda runs it: a durable execution (the SDK's local runner) of the
 * shipped handler, configured by its environment only: the state table and AWS in moto
 * (AWS_ENDPOINT_URL), Slack credentials from the environment, the Web API in the stand-in
 * (SLACK_API_URL).
 */

const TABLE = 'drbot-runbook-handler-state';
const ENV = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'STATE_TABLE', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_API_URL'] as const;

describe('handlers/runbook', () => {
  const moto = useMoto();
  const standIn = new SlackStandIn();
  const saved: Partial<Record<(typeof ENV)[number], string>> = {};
  const config = handlerConfig();
  const bucket = config.s3.buckets[0]?.name ?? '';
  let store: StateStore;

  beforeAll(async () => {
    for (const k of ENV) saved[k] = process.env[k];
    const clientOpts = { region: 'us-east-1', endpoint: moto().endpoint, credentials: SANDBOX_CREDENTIALS };
    const ddb = new DynamoDBClient(clientOpts);
    await StateStore.createTable(ddb, TABLE);
    store = new StateStore(ddb, TABLE);
    const s3 = new S3Client({ ...clientOpts, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto().endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
      STATE_TABLE: TABLE,
      SLACK_SIGNING_SECRET: 'runbook-handler-test-signing',
      SLACK_BOT_TOKEN: 'xoxb-runbook-handler-test',
      SLACK_API_URL: await standIn.start(),
    });
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  });

  afterAll(async () => {
    await LocalDurableTestRunner.teardownTestEnvironment();
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await standIn.stop();
  });

  it('runs a read-only verb to its end: one message in the channel, updated to its result, and the run recorded as run on Lambda', async () => {
    // prepare
    const { handler } = await import('../../handlers/runbook');
    const channel = config.slack.channels.ops;
    const input: AnyRunInput & { bucket: string } = {
      kind: 'check-replication',
      runId: 'r-0a1b2c3d4e5f',
      requester: 'U0ALICE',
      channel,
      commandText: `/dr check replication ${bucket}`,
      requestedAt: new Date().toISOString(),
      bucket,
    };

    // act
    const execution = await new LocalDurableTestRunner({ handlerFunction: handler }).run({ payload: input });

    // assess
    expect(execution.getStatus()).toBe('SUCCEEDED');
    const messages = standIn.channelMessages(channel).filter((m) => m.text.includes(input.runId) || textOf(m).includes(input.runId));
    expect(messages).toHaveLength(1);
    // the bucket has versioning but no replication rule: the check reads it and says what fails
    const text = textOf(messages[0]);
    expect(text).toContain(`Failed: *Replication of ${bucket}*`);
    expect(text).toContain('Versioning: Enabled');
    expect(text).toContain('no replication rule');
    const run = await store.getRun(input.runId);
    expect(run?.status).toBe('failed');
    expect(run).toMatchObject({ kind: 'check-replication', requester: 'U0ALICE', runner: 'lambda' });
  });
});
