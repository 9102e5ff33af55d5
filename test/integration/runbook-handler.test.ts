import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { handlerConfig } from '../../handlers/_config';
import type { AnyRunInput } from '../../src/runbooks/types';
import { textOf } from '../helpers/flow';
import { useLambdaEnv } from '../helpers/lambda-env';
import { useMoto } from '../helpers/moto';

/*
 * handlers/runbook.ts as Lambda runs it: a durable execution (the SDK's local runner) of the
 * shipped handler, configured by its environment only: the state table and AWS in moto
 * (AWS_ENDPOINT_URL), Slack credentials from the environment, the Web API in the stand-in
 * (SLACK_API_URL).
 */

describe('handlers/runbook', () => {
  const moto = useMoto();
  const env = useLambdaEnv(moto, 'drbot-runbook-handler-state', 'runbook-handler');
  const { standIn } = env;
  const config = handlerConfig();
  const bucket = config.s3.buckets[0]?.name ?? '';

  beforeAll(async () => {
    const s3 = moto().clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  });

  afterAll(async () => {
    await LocalDurableTestRunner.teardownTestEnvironment();
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
    const run = await env.store().getRun(input.runId);
    expect(run?.status).toBe('failed');
    expect(run).toMatchObject({ kind: 'check-replication', requester: 'U0ALICE', runner: 'lambda' });
  });
});
