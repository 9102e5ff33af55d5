import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import type { SlackEdge } from '../slack/edge';
import { signSlackRequest } from '../slack/verify';

export interface ButtonRef {
  action_id: string;
  value: string;
  text: string;
  block_id?: string;
}

export interface EdgeReply {
  status: number;
  /** The ack body: JSON (an ephemeral reply) or empty. */
  json?: { text?: string; blocks?: unknown[]; response_type?: string };
  raw: string;
}

/** A minimal Lambda context for local invocations. */
export function localContext(name = 'drbot-slack'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomBytes(8).toString('hex'),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** An API Gateway HTTP API (payload 2.0) event, as Slack's POST arrives in Lambda. */
export function httpEvent(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'POST', path: '/slack/events', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'Slackbot 1.0' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: 'POST /slack/events',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

export function slashCommandBody(p: { user: string; userName?: string; channel: string; text: string; triggerId?: string; team?: string }): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: p.team ?? 'TSANDBOX',
    team_domain: 'sandbox',
    channel_id: p.channel,
    channel_name: 'dr-ops',
    user_id: p.user,
    user_name: p.userName ?? p.user.toLowerCase(),
    command: '/dr',
    text: p.text,
    api_app_id: 'ADRBOT',
    response_url: 'https://hooks.slack.invalid/commands/local',
    trigger_id: p.triggerId ?? `${Date.now()}.${randomBytes(6).toString('hex')}`,
  }).toString();
}

export function blockActionBody(p: {
  user: string;
  channel: string;
  messageTs: string;
  messageText: string;
  blocks: unknown[];
  button: ButtonRef;
  triggerId?: string;
  /** The workspace the click comes from (the sandbox's unless a test says otherwise). */
  team?: string;
}): string {
  const team = p.team ?? 'TSANDBOX';
  const payload = {
    type: 'block_actions',
    user: { id: p.user, username: p.user.toLowerCase(), team_id: team },
    api_app_id: 'ADRBOT',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: p.messageTs, channel_id: p.channel, is_ephemeral: false },
    trigger_id: p.triggerId ?? `${Date.now()}.${randomBytes(6).toString('hex')}`,
    team: { id: team, domain: 'sandbox' },
    channel: { id: p.channel, name: 'dr-ops' },
    message: { type: 'message', user: 'UDRBOT', ts: p.messageTs, text: p.messageText, blocks: p.blocks },
    response_url: 'https://hooks.slack.invalid/actions/local',
    actions: [
      {
        type: 'button',
        action_id: p.button.action_id,
        block_id: p.button.block_id ?? 'b',
        text: { type: 'plain_text', text: p.button.text },
        value: p.button.value,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Sends HMAC-signed requests into a Slack edge, exactly as Slack would. */
export class SignedSlackClient {
  constructor(
    private readonly edge: SlackEdge,
    private readonly signingSecret: string,
    /** The workspace requests come from unless a call says otherwise: the config's, so they are not refused as foreign. */
    private readonly team?: string,
  ) {}

  async send(body: string, extraHeaders: Record<string, string> = {}, timestamp?: number): Promise<EdgeReply> {
    const headers = { ...signSlackRequest(this.signingSecret, body, timestamp), ...extraHeaders };
    const res = await this.edge(httpEvent(body, headers), localContext());
    const raw = typeof res.body === 'string' ? res.body : '';
    let json: EdgeReply['json'];
    if (raw.startsWith('{')) {
      try {
        json = JSON.parse(raw) as EdgeReply['json'];
      } catch {
        /* not JSON */
      }
    }
    return { status: res.statusCode, raw, ...(json ? { json } : {}) };
  }

  command(p: Parameters<typeof slashCommandBody>[0], extraHeaders?: Record<string, string>): Promise<EdgeReply> {
    return this.send(slashCommandBody({ ...(this.team ? { team: this.team } : {}), ...p }), extraHeaders);
  }

  click(p: Parameters<typeof blockActionBody>[0]): Promise<EdgeReply> {
    return this.send(blockActionBody({ ...(this.team ? { team: this.team } : {}), ...p }));
  }
}
