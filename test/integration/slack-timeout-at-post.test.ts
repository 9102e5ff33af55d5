import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { command, eventually, runIdOf, runSummary, textOf } from '../helpers/flow';
import { useSlackTimeoutStack } from '../helpers/slack-timeout';

/*
 * Issue 8: Slack timing out when a run posts its message. chat.postMessage has no idempotency
 * key: a post whose answer was lost (stall after applying) and is then retried leaves two copies
 * in the channel. The RetryingPoster then finds the copy in the channel's history (the bot's own
 * message with the same text) and deletes it, so the channel keeps the one message the run
 * records and updates (src/slack/poster.ts).
 */

const TABLE = 'spawn-queues';

describe('Slack timing out when a run posts', () => {
  const { getStack, backups, resultAudit, runMessages } = useSlackTimeoutStack(3, TABLE);
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  const runPosts = () => stack.standIn.callsOf('chat.postMessage').filter((c) => c.args.channel === SANDBOX_CHANNEL);

  it('slack-timeout-after-post: the post reached Slack but its answer did not; the retry’s copy is the one kept, the first deleted', async () => {
    // prepare: the run's first post is stored, and its answer never comes
    let stalls = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.postMessage' && args.channel === SANDBOX_CHANNEL && stalls++ < 1 ? { stall: 'after' } : undefined);
    const posts = runPosts().length;
    const deletes = stack.standIn.callsOf('chat.delete').length;

    // act
    const reply = await command(stack, 'alice', `backup dynamodb ${TABLE}`);

    // assess: posted twice, one copy deleted; the channel holds one message for the run: the recorded one, final
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(runPosts().length - posts).toBe(2);
    expect(stack.standIn.callsOf('chat.delete').length - deletes).toBe(1);
    const messages = runMessages(runId);
    expect(messages).toHaveLength(1);
    const record = await stack.store.getRun(runId);
    expect(record).toMatchObject({ status: 'succeeded', ts: messages[0]?.ts });
    expect(textOf(messages[0])).toMatch(/^✅ Done/);
    expect(await resultAudit(runId)).toMatchObject([{ result: 'succeeded' }]);
  });

  it('slack-timeout-before-post: the post never reached Slack; the retry posts the one message, nothing is deleted', async () => {
    // prepare
    let stalls = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.postMessage' && args.channel === SANDBOX_CHANNEL && stalls++ < 1 ? { stall: 'before' } : undefined);
    const deletes = stack.standIn.callsOf('chat.delete').length;

    // act
    const reply = await command(stack, 'alice', `backup dynamodb ${TABLE}`);

    // assess
    const runId = runIdOf(reply);
    expect(stalls).toBe(2);
    expect(stack.standIn.callsOf('chat.delete').length - deletes).toBe(0);
    const messages = runMessages(runId);
    expect(messages).toHaveLength(1);
    expect(textOf(messages[0])).toMatch(/^✅ Done/);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded', ts: messages[0]?.ts });
  });

  it('slack-timeout-on-every-post: the backup is taken without a message; record and audit are final, and /dr runs posts the final state once Slack answers', async () => {
    // prepare: Slack takes no call at all (every post and update stalls before applying)
    const before = await backups();
    stack.standIn.fault = (method) => (method === 'chat.postMessage' || method === 'chat.update' ? { stall: 'before' } : undefined);

    // act 1
    const reply = await command(stack, 'alice', `backup dynamodb ${TABLE}`);

    // assess 1: the work, the record (final, no message, its final state kept), the audit
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await backups()).toBe(before + 1);
    const record = await stack.store.getRun(runId);
    expect(record).toMatchObject({ status: 'succeeded', ts: '' });
    expect(record?.unsent).toContain('Done');
    expect(await resultAudit(runId)).toMatchObject([{ result: 'succeeded' }]);
    expect(runMessages(runId)).toHaveLength(0);

    // act 2: Slack answers again; bob lists the runs
    delete stack.standIn.fault;
    await command(stack, 'bob', 'runs 5');

    // assess 2: the final state is posted, once, and recorded as the run's message
    const delivered = await eventually(async () => {
      const r = await stack.store.getRun(runId);
      return r?.unsent === undefined && r?.ts ? r : undefined;
    }, { timeoutMs: 5000, everyMs: 50, what: 'the final state posted' });
    const messages = runMessages(runId);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.ts).toBe(delivered.ts);
    expect(textOf(messages[0])).toMatch(/^✅ Done/);

    // a second listing posts nothing more
    await command(stack, 'bob', 'runs 5');
    expect(runMessages(runId)).toHaveLength(1);
  });

  it('slack-timeout-on-every-post, then the bot removed from the channel: /dr runs posts the kept final state in the ops channel, saying where it was requested', async () => {
    // prepare: a run requested in another channel while Slack takes no call, then that channel lost to the bot
    const elsewhere = 'CELSEWHERE1';
    stack.standIn.fault = (method) => (method === 'chat.postMessage' || method === 'chat.update' ? { stall: 'before' } : undefined);
    const reply = await stack.client.command({ user: SANDBOX_USERS.alice, userName: 'alice', channel: elsewhere, text: `backup dynamodb ${TABLE}` });
    await stack.engine.idle();
    const runId = runIdOf(reply);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded', ts: '', channel: elsewhere });
    delete stack.standIn.fault;
    stack.standIn.notIn.add(elsewhere);

    // act
    await command(stack, 'bob', 'runs 5');

    // assess: posted once, in the ops channel, the record pointing at it
    const delivered = await eventually(async () => {
      const r = await stack.store.getRun(runId);
      return r?.unsent === undefined && r?.ts ? r : undefined;
    }, { timeoutMs: 5000, everyMs: 50, what: 'the final state posted' });
    expect(delivered.channel).toBe(SANDBOX_CHANNEL);
    const messages = runMessages(runId);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.ts).toBe(delivered.ts);
    expect(messages[0]?.text).toContain(`(requested in <#${elsewhere}>, where drbot is not a member)`);
    expect(stack.standIn.channelMessages(elsewhere)).toHaveLength(0);
  });
});
