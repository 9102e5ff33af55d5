import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import { httpEvent, localContext, slashCommandBody } from '../../src/local/signed';
import type { LocalStack } from '../../src/local/stack';
import { LocalRunEngine } from '../../src/runbooks/engine-local';
import { signSlackRequest } from '../../src/slack/verify';
import { startSandboxStack } from '../helpers/flow';

/**
 * The Slack edge end to end on the local stack: signed slash commands into the real Bolt app
 * behind the same signature check as Lambda, AWS in moto, Slack in the stand-in. One stack for
 * the file; the tests run in order and build on each other's audit rows.
 */

jest.setTimeout(120_000);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startSandboxStack();
});

afterAll(async () => {
  await stack?.close();
  await LocalRunEngine.teardown();
});

function dr(user: string, text: string, triggerId?: string): string {
  return slashCommandBody({ user, channel: SANDBOX_CHANNEL, text, ...(triggerId ? { triggerId } : {}) });
}

async function auditCount(): Promise<number> {
  return (await stack.store.listAudit(100)).length;
}

describe('Slack edge on the local stack', () => {
  it('answers a signed `/dr help` with the help text, visible only to the asker', async () => {
    // act
    const reply = await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'help' });

    // assess
    expect(reply.status).toBe(200);
    expect(reply.json?.response_type).toBe('ephemeral');
    expect(reply.json?.text).toContain('drbot commands:');
    expect(reply.json?.text).toContain('/dr restore s3 BUCKET');
    expect(JSON.stringify(reply.json?.blocks)).toContain('e.g. `/dr status`');
  });

  it('answers 401 to a badly signed command, calls no Web API and audits nothing', async () => {
    // prepare
    const body = dr(SANDBOX_USERS.alice, 'status');
    const callsBefore = stack.standIn.calls.length;
    const auditBefore = await auditCount();
    const runsBefore = stack.engine.names().length;

    // act
    const res = await stack.edge(httpEvent(body, signSlackRequest('not-the-secret', body)), localContext());

    // assess
    expect(res.statusCode).toBe(401);
    expect(stack.standIn.calls.length).toBe(callsBefore);
    expect(await auditCount()).toBe(auditBefore);
    expect(stack.engine.names()).toHaveLength(runsBefore);
  });

  it.each(['payload=%7Bnot-json', 'payload=42', 'payload=null', `payload=${encodeURIComponent('"a string"')}`])(
    'answers 400 to a signed interactivity request whose payload is not a JSON object (%s), changing nothing',
    async (body) => {
      // prepare
      const callsBefore = stack.standIn.calls.length;
      const auditBefore = await auditCount();
      const runsBefore = stack.engine.names().length;

      // act
      const res = await stack.edge(httpEvent(body, signSlackRequest(stack.signingSecret, body)), localContext());

      // assess
      expect(res.statusCode).toBe(400);
      expect(stack.standIn.calls.length).toBe(callsBefore);
      expect(await auditCount()).toBe(auditBefore);
      expect(stack.engine.names()).toHaveLength(runsBefore);
    },
  );

  it('starts one run for a command Slack retries with the same trigger_id', async () => {
    // prepare
    const body = dr(SANDBOX_USERS.carol, 'status', `${Date.now()}.retry-test`);
    const runsBefore = stack.engine.names().length;
    const postsBefore = stack.standIn.callsOf('chat.postMessage').length;

    // act
    const first = await stack.client.send(body);
    const retry = await stack.client.send(body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    await stack.engine.idle();

    // assess
    expect(first.status).toBe(200);
    expect(first.json?.text).toMatch(/^:arrow_forward: Started run `r-[0-9a-f]{12}`: the result will be posted here\.$/);
    expect(retry.status).toBe(200);
    expect(retry.json?.text ?? '').not.toContain('Started run');
    expect(stack.engine.names()).toHaveLength(runsBefore + 1);
    const posts = stack.standIn.callsOf('chat.postMessage').slice(postsBefore);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.args.channel).toBe(SANDBOX_CHANNEL);
  });

  it('refuses `/dr status` from eve, who has no role, naming the viewer role; nothing starts', async () => {
    // prepare
    const runsBefore = stack.engine.names().length;
    const postsBefore = stack.standIn.callsOf('chat.postMessage').length;

    // act
    const reply = await stack.client.command({ user: SANDBOX_USERS.eve, channel: SANDBOX_CHANNEL, text: 'status' });
    await stack.engine.idle();

    // assess
    expect(reply.status).toBe(200);
    expect(reply.json?.response_type).toBe('ephemeral');
    expect(reply.json?.text).toContain(`:no_entry_sign: You may not run \`/dr status\`: it needs the *viewer* role, and you have no drbot role.`);
    expect(reply.json?.text).toMatch(/_ref: [0-9a-f]{16}_$/);
    expect(stack.engine.names()).toHaveLength(runsBefore);
    expect(stack.standIn.callsOf('chat.postMessage').length).toBe(postsBefore);
  });

  it('answers 10 kB of junk with a length error', async () => {
    // prepare
    const junk = Array.from({ length: 10_240 }, (_, i) => 'qwerty uiop[]{};:,./?!|~'.charAt((i * 7) % 24)).join('');
    const runsBefore = stack.engine.names().length;

    // act
    const reply = await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: junk });

    // assess
    expect(reply.status).toBe(200);
    expect(reply.json?.text).toContain('that command is 10,240 characters long; the limit is 1,000.');
    expect(reply.json?.text?.length ?? 0).toBeLessThan(500);
    expect(stack.engine.names()).toHaveLength(runsBefore);
  });

  // With skipTime the durable runner's fake clock moves in 20 ms steps, so rows written close
  // together can share a timestamp and their relative order is then arbitrary: the test checks
  // that the newest rows are the ones shown and that times never go up, not a strict order.
  it('shows the refused and the ok commands in `/dr audit 5`, newest first', async () => {
    // prepare: a refused (no role), a refused (usage) and three ok commands, whatever ran before
    await stack.client.command({ user: SANDBOX_USERS.eve, channel: SANDBOX_CHANNEL, text: 'status' });
    await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'qwerty uiop' });
    await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'help' });
    await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'help restore s3' });
    await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'audit 1' });

    // act
    const reply = await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'audit 5' });

    // assess
    const text = reply.json?.text ?? '';
    const lines = text.split('\n').slice(1);
    expect(text.startsWith('Audit events (newest first):')).toBe(true);
    expect(lines).toHaveLength(5);
    expect(lines.some((l) => /<@UCAROL> \*command\* `\/dr audit 1` → ok$/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('<@UCAROL> *command* `/dr ') && l.endsWith('→ refused — usage'))).toBe(true);
    expect(lines.some((l) => l.endsWith('<@UEVE> *command* `/dr status` → refused — forbidden'))).toBe(true);
    const times = lines.map((l) => /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/.exec(l)?.[0] ?? '');
    expect(times.every(Boolean)).toBe(true);
    expect([...times].sort().reverse()).toEqual(times);
  });

  // The stack is started without alarm wiring, so `simulate` is absent and the command is refused
  // with the sandbox-only message, the same one a deployed bot gives.
  it('refuses `/dr simulate alarm garbage` when simulation is not wired, starting nothing', async () => {
    // prepare
    const runsBefore = stack.engine.names().length;
    const callsBefore = stack.standIn.calls.length;

    // act
    const reply = await stack.client.command({ user: SANDBOX_USERS.carol, channel: SANDBOX_CHANNEL, text: 'simulate alarm garbage' });
    const row = (await stack.store.listAudit(5)).find((e) => e.target === '/dr simulate alarm garbage');

    // assess
    expect(reply.status).toBe(200);
    expect(reply.json?.text).toContain('`/dr simulate` works only in the local sandbox, never against real AWS.');
    expect(stack.engine.names()).toHaveLength(runsBefore);
    expect(stack.standIn.calls.length).toBe(callsBefore);
    expect(row).toMatchObject({ actor: SANDBOX_USERS.carol, action: 'command', result: 'refused', detail: 'sandbox_only' });
  });
});
