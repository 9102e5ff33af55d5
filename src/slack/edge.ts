import { AwsLambdaReceiver } from '@slack/bolt';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DrbotError } from '../errors';
import type { SlackSecrets } from '../runtime/secrets';
import { AckTail, tailBudget, withAckTail } from './ack-tail';
import type { Log } from './deps';
import { verifySlackSignature } from './verify';

export type SlackEdge = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResult>;

const unauthorized: APIGatewayProxyResult = { statusCode: 401, body: 'invalid request signature' };
const malformed: APIGatewayProxyResult = { statusCode: 400, body: 'malformed payload' };

/** An interactivity request whose `payload` is not JSON: Bolt would throw on it (a 5xx), so it is answered 400 here. */
function badPayload(body: string): boolean {
  if (!body.includes('payload=')) return false;
  const payload = new URLSearchParams(body).get('payload');
  if (payload === null) return false;
  try {
    const v: unknown = JSON.parse(payload);
    return typeof v !== 'object' || v === null;
  } catch {
    return true;
  }
}

/**
 * The Slack edge as a Lambda handler: the signature is verified before anything else (no config,
 * no AWS client, no Bolt), so a forged or stale request gets 401 and nothing runs; then the Bolt
 * app, built once, handles it. `build` registers the app on the receiver it is given.
 */
export function createSlackEdge(opts: {
  secrets: () => Promise<SlackSecrets>;
  build: (s: SlackSecrets, receiver: AwsLambdaReceiver) => void;
  log: Log;
  /** How long to wait for post-ack work before answering, given the ms since the request arrived (ack-tail.ts). */
  tailBudget?: (elapsedMs: number) => number;
}): SlackEdge {
  let bolt: ReturnType<AwsLambdaReceiver['toHandler']> | undefined;
  return async (event, context) => {
    const arrived = Date.now();
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
    if (badPayload(body)) {
      opts.log.warn('rejected Slack request', { reason: 'payload is not a JSON object' });
      return malformed;
    }
    if (!bolt) {
      // Verified above already; Bolt need not compute the same HMAC again.
      const receiver = new AwsLambdaReceiver({ signingSecret: s.signingSecret, signatureVerification: false });
      try {
        opts.build(s, receiver);
      } catch (e) {
        // A bad config or a missing environment variable: say so in Slack, not "dispatch_failed".
        opts.log.error('cannot start drbot', { error: (e as Error).message });
        const why = e instanceof DrbotError ? e.message : 'it could not start';
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: `:x: drbot is misconfigured: ${why}\nThe on-call can find details in the Slack function's logs.` }) };
      }
      bolt = receiver.toHandler();
    }
    // The listener returns right after its ack; what it left for later runs here, bounded.
    const handle = bolt;
    const tail = new AckTail(opts.log);
    const response = (await withAckTail(tail, () => handle(event, context))) as APIGatewayProxyResult;
    await tail.settle((opts.tailBudget ?? tailBudget)(Date.now() - arrived));
    return response;
  };
}
