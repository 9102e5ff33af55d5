import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { textOf, useLocalStack } from '../helpers/flow';

describe('a command typed where drbot is not a member', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  it('posts the run in the ops channel instead, saying where it was requested', async () => {
    // Prepare: Slack refuses posts in a private channel the bot was never invited to
    const privateChannel = 'CPRIVATE01';
    stack.standIn.notIn.add(privateChannel);
    // Act
    const reply = await stack.client.command({ user: SANDBOX_USERS.alice, channel: privateChannel, text: 'status' });
    await stack.engine.idle();
    // Assess
    expect(reply.json?.text).toMatch(/Started run/);
    expect(stack.standIn.channelMessages(privateChannel)).toHaveLength(0);
    const inOps = stack.standIn.channelMessages(SANDBOX_CHANNEL);
    expect(inOps).toHaveLength(1);
    const firstPost = stack.standIn.callsOf('chat.postMessage').find((c) => c.args.channel === SANDBOX_CHANNEL);
    expect(String(firstPost?.args.text)).toMatch(/requested in <#CPRIVATE01>/);
    expect(textOf(inOps[0])).toMatch(/DR status/);
    const audit = await stack.store.listAudit(10);
    expect(audit.some((e) => e.action === 'post' && /not_in_channel/.test(e.detail ?? ''))).toBe(true);
  });
});
