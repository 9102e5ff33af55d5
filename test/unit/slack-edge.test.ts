import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { httpEvent, localContext, slashCommandBody } from '../../src/local/signed';
import { signSlackRequest } from '../../src/slack/verify';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResult>;

const SECRET = 'test-signing-secret-0123456789ab';
const ENV_KEYS = ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_SECRET_ARN', 'STATE_TABLE', 'RUNBOOK_FUNCTION', 'DRBOT_CONFIG', 'POWERTOOLS_DEV'] as const;
const BODY = slashCommandBody({ user: 'UALICE', channel: 'C0SPAWNOPS', text: 'restore s3 spawn-binaries-us-east-1', triggerId: '1.2.edge' });

/**
 * Loads the real Lambda handler in a fresh module registry (its secrets are memoized per cold
 * start), with the AWS clients of that registry mocked and `createApp` spied on.
 */
function coldStart() {
  let handler: Handler | undefined;
  let mocks: { dynamodb: { calls(): unknown[] }; lambda: { calls(): unknown[] }; secrets: { calls(): unknown[] } } | undefined;
  let createApp: jest.SpyInstance | undefined;
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    mocks = {
      dynamodb: mockClient(require('@aws-sdk/client-dynamodb').DynamoDBClient),
      lambda: mockClient(require('@aws-sdk/client-lambda').LambdaClient),
      secrets: mockClient(require('@aws-sdk/client-secrets-manager').SecretsManagerClient),
    };
    createApp = jest.spyOn(require('../../src/slack/app') as typeof import('../../src/slack/app'), 'createApp');
    handler = (require('../../handlers/slack') as typeof import('../../handlers/slack')).handler;
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
  if (!handler || !mocks || !createApp) throw new Error('handler did not load');
  return {
    handler,
    createApp,
    awsCalls: () => mocks!.dynamodb.calls().length + mocks!.lambda.calls().length + mocks!.secrets.calls().length,
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Everything written to stdout/stderr while `fn` runs (the Powertools logger writes there). */
async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const record = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(record);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(record);
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void record(a.join(' ')));
  const warn = jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void record(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void record(a.join(' ')));
  try {
    return { result: await fn(), output: chunks.join('') };
  } finally {
    for (const s of [out, err, log, warn, error]) s.mockRestore();
  }
}

/** Calls the handler with its log lines kept out of the test output. */
async function invoke(handler: Handler, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResult> {
  return (await captureOutput(() => handler(event, localContext()))).result;
}

const saved: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};
beforeEach(() => {
  for (const k of ENV_KEYS) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

/** The ephemeral text a misconfigured app answers with (200, so Slack shows it instead of "dispatch_failed"). */
function misconfigured(res: { statusCode: number; body?: string }): string {
  expect(res.statusCode).toBe(200);
  const text = (JSON.parse(res.body ?? '{}') as { text?: string }).text ?? '';
  expect(text).toMatch(/^:x: drbot is misconfigured: /);
  return text;
}

describe('handlers/slack handler with Slack credentials in the environment', () => {
  beforeEach(() => {
    process.env.SLACK_SIGNING_SECRET = SECRET;
    process.env.SLACK_BOT_TOKEN = 'xoxb-test-token';
  });

  it.each<[string, () => Record<string, string>, string?]>([
    ['forged with another secret', () => signSlackRequest('attacker-secret', BODY, now())],
    ['stale by more than five minutes', () => signSlackRequest(SECRET, BODY, now() - 301)],
    ['dated in the future', () => signSlackRequest(SECRET, BODY, now() + 600)],
    ['missing its signature headers', () => ({})],
    ['missing its timestamp', () => ({ 'x-slack-signature': signSlackRequest(SECRET, BODY, now())['x-slack-signature'] ?? '' })],
    ['with a non-numeric timestamp', () => ({ ...signSlackRequest(SECRET, BODY, now()), 'x-slack-request-timestamp': 'now' })],
    ['with its body changed after signing', () => signSlackRequest(SECRET, BODY, now()), BODY.replace('restore', 'status')],
  ])('answers 401 to a request %s and builds nothing', async (_case, headers, body = BODY) => {
    // prepare
    const edge = coldStart();

    // act
    const res = await invoke(edge.handler, httpEvent(body, headers()));

    // assess
    expect(res).toEqual({ statusCode: 401, body: 'invalid request signature' });
    expect(edge.createApp).not.toHaveBeenCalled();
    expect(edge.awsCalls()).toBe(0);
  });

  it('checks upper-case header names too', async () => {
    // prepare
    const edge = coldStart();
    const signed = signSlackRequest('attacker-secret', BODY, now());
    const headers = { 'X-Slack-Signature': signed['x-slack-signature'] ?? '', 'X-Slack-Request-Timestamp': signed['x-slack-request-timestamp'] ?? '' };

    // act
    const res = await invoke(edge.handler, httpEvent(BODY, headers));

    // assess
    expect(res.statusCode).toBe(401);
    expect(edge.createApp).not.toHaveBeenCalled();
  });

  it('still refuses a forged request after a genuine one reached the app build', async () => {
    // prepare
    const edge = coldStart();
    const genuine = invoke(edge.handler, httpEvent(BODY, signSlackRequest(SECRET, BODY, now())));
    expect(misconfigured(await genuine)).toContain('STATE_TABLE');

    // act
    const res = await invoke(edge.handler, httpEvent(BODY, signSlackRequest('attacker-secret', BODY, now())));

    // assess
    expect(res.statusCode).toBe(401);
  });

  it('lets a correctly signed request through to build the app, which answers that STATE_TABLE is unset', async () => {
    // prepare
    const edge = coldStart();

    // act
    const res = invoke(edge.handler, httpEvent(BODY, signSlackRequest(SECRET, BODY, now())));

    // assess
    expect(misconfigured(await res)).toContain('environment variable STATE_TABLE is not set');
    expect(edge.awsCalls()).toBe(0);
  });

  it('verifies a base64-encoded body after decoding it', async () => {
    // prepare
    const edge = coldStart();
    const event = { ...httpEvent(Buffer.from(BODY).toString('base64'), signSlackRequest(SECRET, BODY, now())), isBase64Encoded: true };
    const forged = { ...event, headers: { ...event.headers, ...signSlackRequest('attacker-secret', BODY, now()) } };

    // act
    const refused = await invoke(edge.handler, forged);
    const accepted = invoke(edge.handler, event);

    // assess
    expect(refused.statusCode).toBe(401);
    expect(misconfigured(await accepted)).toContain('STATE_TABLE');
  });

  it('logs why it refused without logging the signature', async () => {
    // prepare
    const edge = coldStart();
    const headers = signSlackRequest('attacker-secret', BODY, now());

    // act
    const { result, output } = await captureOutput(() => edge.handler(httpEvent(BODY, headers), localContext()));

    // assess
    expect(result.statusCode).toBe(401);
    expect(output).toContain('bad_signature');
    expect(output).not.toContain(headers['x-slack-signature']);
    expect(output).not.toContain(SECRET);
  });
});

describe('handlers/slack handler without Slack credentials', () => {
  it('fails closed: 401 even for a request signed with the old secret, and no AWS call', async () => {
    // prepare
    const edge = coldStart();

    // act
    const { result: res, output } = await captureOutput(() => edge.handler(httpEvent(BODY, signSlackRequest(SECRET, BODY, now())), localContext()));

    // assess
    expect(res).toEqual({ statusCode: 401, body: 'invalid request signature' });
    expect(output).toContain('cannot load Slack credentials');
    expect(edge.createApp).not.toHaveBeenCalled();
    expect(edge.awsCalls()).toBe(0);
  });

  it('fails closed for a request signed with an empty secret', async () => {
    // prepare
    const edge = coldStart();

    // act
    const res = await invoke(edge.handler, httpEvent(BODY, signSlackRequest('', BODY, now())));

    // assess
    expect(res.statusCode).toBe(401);
    expect(edge.createApp).not.toHaveBeenCalled();
  });

  it('fails closed with a signing secret but no bot token', async () => {
    // prepare
    process.env.SLACK_SIGNING_SECRET = SECRET;
    const edge = coldStart();

    // act
    const res = await invoke(edge.handler, httpEvent(BODY, signSlackRequest(SECRET, BODY, now())));

    // assess
    expect(res.statusCode).toBe(401);
    expect(edge.createApp).not.toHaveBeenCalled();
    expect(edge.awsCalls()).toBe(0);
  });
});
