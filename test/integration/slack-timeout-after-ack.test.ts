import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { Log } from '../../src/slack/deps';
import { command, ephemeralsFor, eventually, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, the listener side of a Slack timeout: Slack gives a slash command 3 seconds for its
 * answer. `/dr runs` answers in its ack, then (src/slack/ack-tail.ts) brings undelivered run
 * messages up to date and tells the user so, through the Web API. Here those calls stall with the
 * client's real 5 s timeout: the signed edge must answer while they are still held open, and the
 * work must finish once Slack answers again. (Ordering, not time, is asserted: the stalled call is
 * still open when the answer arrives.)
 */

const BUCKET = 'spawn-binaries-us-east-1';

describe('a slash command whose post-ack Slack calls stall', () => {
  const warnings: { message: string; extra?: Record<string, unknown> }[] = [];
  const log: Log = { info: () => {}, warn: (message, extra) => void warnings.push({ message, ...(extra ? { extra } : {}) }), error: () => {} };
  const getStack = useLocalStack({ log, slackRetry: { attempts: 3, baseDelayMs: 10, maxWaitMs: 50 } });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  afterEach(() => {
    delete stack.standIn.fault;
    stack.standIn.cut();
  });

  it('slack-timeout-after-ack: /dr runs is answered through the signed edge while its chat.update is stalled, and delivers once Slack answers', async () => {
    // prepare: a dry run whose final state Slack refused (kept as unsent), then a Slack that takes calls and never answers
    const dry = await (async () => {
      stack.standIn.fault = (method) => (method === 'chat.update' ? { status: 500 } : undefined);
      try {
        return await command(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/ --dry-run`);
      } finally {
        delete stack.standIn.fault;
      }
    })();
    const runId = /r-[0-9a-f]{12}/.exec(dry.json?.text ?? '')?.[0] ?? '';
    const record = await stack.store.getRun(runId);
    stack.standIn.fault = () => ({ stall: 'before' });

    // act: the request through the signed edge, as Slack sends it
    const reply = await stack.client.command({ user: SANDBOX_USERS.carol, userName: 'carol', channel: SANDBOX_CHANNEL, text: 'runs 5' });
    const heldAtAnswer = stack.standIn.stalled;

    // assess 1: answered with the listing while the Web API call was still open; the edge said it left work unfinished
    expect(record?.unsent).toContain('Dry run');
    expect(reply.status).toBe(200);
    expect(JSON.stringify(reply.json)).toContain(runId);
    expect(heldAtAnswer).toBe(1);
    expect(stack.standIn.callsOf('chat.update').at(-1)?.args.ts).toBe(record?.ts);
    expect(warnings.find((w) => w.message === 'post-ack work unfinished when the response was sent')?.extra).toMatchObject({ work: ['unsent run messages'] });

    // act 2: Slack answers again (the held connection drops; the poster's retry gets through)
    delete stack.standIn.fault;
    stack.standIn.cut();

    // assess 2: the message brought up to date, carol told so
    await eventually(async () => ((await stack.store.getRun(runId))?.unsent === undefined ? true : undefined), { timeoutMs: 5000, everyMs: 50, what: 'the unsent state delivered' });
    expect(textOf(stack.standIn.message(SANDBOX_CHANNEL, record?.ts ?? ''))).toMatch(/Dry run/);
    await eventually(() => (ephemeralsFor(stack.standIn, 'carol').some((m) => /Brought 1 run message up to date/.test(textOf(m))) ? true : undefined), { timeoutMs: 5000, everyMs: 50, what: 'carol told' });
  });
});
