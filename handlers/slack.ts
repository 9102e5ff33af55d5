import { lambdaLog } from '../src/log';
import { slackApiUrlOf, slackDepsForLambda } from '../src/runtime/aws';
import { loadSlackSecrets, once } from '../src/runtime/secrets';
import { createApp } from '../src/slack/app';
import { createSlackEdge } from '../src/slack/edge';
import { handlerConfig } from './_config';

/** Slack → API Gateway → here: verify, then the Bolt app (built once per cold start). */
export const handler = createSlackEdge({
  secrets: once(() => loadSlackSecrets()),
  log: lambdaLog(),
  build: ({ botToken }, receiver) => {
    const env = process.env;
    createApp(
      { receiver, botToken, ...slackApiUrlOf(env), ...(env.SLACK_BOT_ID ? { botId: env.SLACK_BOT_ID } : {}), ...(env.SLACK_BOT_USER_ID ? { botUserId: env.SLACK_BOT_USER_ID } : {}) },
      slackDepsForLambda(handlerConfig(), botToken),
    );
  },
});
