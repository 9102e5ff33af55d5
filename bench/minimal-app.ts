/**
 * The comparison app for `npm run bench`: the smallest useful Bolt app on Lambda — one `/dr`
 * command that acks "help", behind `AwsLambdaReceiver`, with the bot IDs set so Bolt skips
 * auth.test, exactly as drbot's Slack handler does. The bench builds it with the same
 * `buildOptions()` as drbot's handlers, so bundle size, cold start and warm latency compare
 * like with like.
 */
import { App, AwsLambdaReceiver } from '@slack/bolt';

const receiver = new AwsLambdaReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '' });

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  botId: process.env.SLACK_BOT_ID ?? 'BMINIMAL',
  botUserId: process.env.SLACK_BOT_USER_ID ?? 'UMINIMAL',
  tokenVerificationEnabled: false,
});

app.command('/dr', async ({ ack }) => {
  await ack('help');
});

export const handler = receiver.toHandler();
