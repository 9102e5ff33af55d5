import { AwsLambdaReceiver } from '@slack/bolt';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { SlackSecrets } from '../runtime/secrets';
import type { Log } from './deps';
import { verifySlackSignature } from './verify';

export type SlackEdge = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResult>;

const unauthorized: APIGatewayProxyResult = { statusCode: 401, body: 'invalid request signature' };

/**
 * The Slack edge as a Lambda handler: the signature is verified before anything else (no config,
 * no AWS client, no Bolt), so a forged or stale request gets 401 and nothing runs; then the Bolt
 * app, built once, handles it. `build` registers the app on the receiver it is given.
 */
export function createSlackEdge(opts: { secrets: () => Promise<SlackSecrets>; build: (s: SlackSecrets, receiver: AwsLambdaReceiver) => void; log: Log }): SlackEdge {
  let bolt: ReturnType<AwsLambdaReceiver['toHandler']> | undefined;
  return async (event, context) => {
    let s: SlackSecrets;
    try {
      s = await opts.secrets();
    } catch (e) {
      opts.log.error('cannot load Slack credentials; refusing request', { error: (e as Error).message });
      return unauthorized;
    }
    const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const verdict = verifySlackSignature(s.signingSecret, event.headers ?? {}, body);
    if (!verdict.ok) {
      opts.log.warn('rejected Slack request', { reason: verdict.reason });
      return unauthorized;
    }
    if (!bolt) {
      const receiver = new AwsLambdaReceiver({ signingSecret: s.signingSecret });
      opts.build(s, receiver);
      bolt = receiver.toHandler();
    }
    return (await bolt(event, context)) as APIGatewayProxyResult;
  };
}
