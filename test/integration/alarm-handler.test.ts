import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { simulatedSnsEvent } from '../../src/alarms/simulate';
import { SANDBOX_CREDENTIALS } from '../../src/local/moto';
import { SlackStandIn } from '../../src/local/slack-standin';
import { StateStore } from '../../src/store/state';
import { handlerConfig } from '../../handlers/_config';
import { useMoto } from '../helpers/moto';
import { textOf } from '../helpers/flow';

/*
 * handlers/alarm.ts as Lambda runs it: configured by its environment only (STATE_TABLE, the Slack
 * credentials, SLACK_API_URL pointing at the Slack stand-in, AWS_ENDPOINT_URL at moto), handed the
 * SNS events CloudWatch publishes.
 */

const TABLE = 'drbot-alarm-handler-state';
const ENV = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'STATE_TABLE', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_API_URL'] as const;

describe('handlers/alarm', () => {
  const moto = useMoto();
  const standIn = new SlackStandIn();
  const saved: Partial<Record<(typeof ENV)[number], string>> = {};
  const config = handlerConfig();
  const channel = config.slack.channels.alerts;
  let handler: (typeof import('../../handlers/alarm'))['handler'];

  beforeAll(async () => {
    for (const k of ENV) saved[k] = process.env[k];
    const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: moto().endpoint, credentials: SANDBOX_CREDENTIALS });
    await StateStore.createTable(ddb, TABLE);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto().endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
      STATE_TABLE: TABLE,
      SLACK_SIGNING_SECRET: 'alarm-handler-test-signing',
      SLACK_BOT_TOKEN: 'xoxb-alarm-handler-test',
      SLACK_API_URL: await standIn.start(),
    });
    ({ handler } = await import('../../handlers/alarm'));
  });

  afterAll(async () => {
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await standIn.stop();
  });

  afterEach(() => {
    standIn.fault = undefined;
  });

  const lagMessages = () => standIn.channelMessages(channel).filter((m) => !m.threadTs && textOf(m).includes('replication-lag'));

  it('posts an ALARM to the alerts channel once, records its thread in the state table, and ignores the redelivery', async () => {
    // prepare
    const event = simulatedSnsEvent('replication-lag', config, new Date());

    // act: SNS delivers, then delivers the same message again
    const first = await handler(event);
    const again = await handler(event);

    // assess
    expect(first).toMatchObject({ recorded: 1, posted: 1, failed: 0, rejected: 0 });
    expect(again).toMatchObject({ recorded: 0, duplicates: 1, posted: 0 });
    expect(lagMessages()).toHaveLength(1);
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: moto().endpoint, credentials: SANDBOX_CREDENTIALS }));
    const arn = (JSON.parse(event.Records[0]?.Sns.Message ?? '{}') as { AlarmArn: string }).AlarmArn;
    expect(arn).toMatch(/:alarm:.*-s3-replication-lag$/);
    const thread = (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `ALARM#${arn}`, sk: 'THREAD' } }))).Item;
    expect(thread).toMatchObject({ state: 'ALARM', channel });
  });

  it('fails the invocation when Slack answers 500, so SNS redelivers; the redelivery posts the alarm', async () => {
    // prepare: a fresh alarm episode on another time, Slack down
    const event = simulatedSnsEvent('backup-failure', config, new Date());
    standIn.fault = (method) => (method === 'chat.postMessage' ? { status: 500 } : undefined);
    const crit = config.slack.channels.critical ?? channel;
    const before = standIn.channelMessages(crit).length;

    // act
    const failed = await handler(event).then(
      () => undefined,
      (e: unknown) => e,
    );
    standIn.fault = undefined;
    const redelivered = await handler(event);

    // assess
    expect(failed).toBeInstanceOf(Error);
    expect(redelivered).toMatchObject({ posted: 1, failed: 0 });
    expect(standIn.channelMessages(crit).length).toBe(before + 1);
  });
});
