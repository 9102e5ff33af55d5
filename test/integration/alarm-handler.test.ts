import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { simulatedSnsEvent } from '../../src/alarms/simulate';
import { handlerConfig } from '../../handlers/_config';
import { useLambdaEnv } from '../helpers/lambda-env';
import { useMoto } from '../helpers/moto';
import { textOf } from '../helpers/flow';

/*
 * handlers/alarm.ts as Lambda runs it: configured by its environment only (STATE_TABLE, the Slack
 * credentials, SLACK_API_URL pointing at the Slack stand-in, AWS_ENDPOINT_URL at moto), handed the
 * SNS events CloudWatch publishes.
 */

const TABLE = 'drbot-alarm-handler-state';

describe('handlers/alarm', () => {
  const moto = useMoto();
  const env = useLambdaEnv(moto, TABLE, 'alarm-handler');
  const { standIn } = env;
  const config = handlerConfig();
  const channel = config.slack.channels.alerts;
  let handler: (typeof import('../../handlers/alarm'))['handler'];

  beforeAll(async () => {
    ({ handler } = await import('../../handlers/alarm'));
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
    const doc = DynamoDBDocumentClient.from(env.ddb());
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
