import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import { handleSnsEvent, type SnsOutcome } from '../src/alarms/handle';
import { type AlarmService, createAlarmService } from '../src/alarms/service';
import { DynamoAlarmStore } from '../src/alarms/store';
import { lambdaLog } from '../src/log';
import { required, slackClient } from '../src/runtime/aws';
import { loadSlackSecrets, once } from '../src/runtime/secrets';
import { WebApiPoster } from '../src/slack/poster';
import { handlerConfig } from './_config';

const log = lambdaLog();

/** Built once per cold start. */
const service = once(async (): Promise<AlarmService> => {
  const config = handlerConfig();
  const { botToken } = await loadSlackSecrets();
  const ddb = new DynamoDBClient({ region: process.env.AWS_REGION ?? config.regions.primary });
  return createAlarmService({
    store: new DynamoAlarmStore({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: required(process.env, 'STATE_TABLE') }),
    slack: new WebApiPoster(slackClient(botToken)),
    config,
    clock: () => new Date(),
    log: (msg, extra) => log.info(msg, extra),
  });
});

/** SNS (spawn-alerts, spawn-critical) → one Slack message per alarm, kept up to date. */
export const handler = async (event: SNSEvent): Promise<SnsOutcome> => handleSnsEvent(event, await service(), log, new Date());
