import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { command, ephemeralsFor, eventually, runIdOf, runSummary, textOf } from '../helpers/flow';
import { useSlackTimeoutStack } from '../helpers/slack-timeout';

/*
 * Issue 8: Slack timeouts. The stand-in takes chosen Web API calls and never answers them, either
 * before applying them (the request never reached Slack) or after (Slack did it, the answer was
 * lost). The local WebClient gives up after 200 ms here (5 s by default, as on Lambda), and the
 * run's RetryingPoster tries again, inside the step.
 */

const TABLE = 'spawn-queues';

describe('Slack timing out while a run reports', () => {
  const { getStack, backups, resultAudit, runMessages } = useSlackTimeoutStack(4, TABLE);
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  it.each(['before', 'after'] as const)('slack-timeout-on-final-update (stall %s applying, twice): the run succeeds once, its one message ends Done', async (stall) => {
    // prepare: the final update (text "Done…") stalls twice, then Slack answers
    const before = await backups();
    let finals = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && finals++ < 2 ? { stall } : undefined);

    // act
    const reply = await command(stack, 'alice', `backup dynamodb ${TABLE}`);

    // assess: two stalls and the answered third try; the backup taken once; one message for the run, final
    const runId = runIdOf(reply);
    expect(finals).toBe(3);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await backups()).toBe(before + 1);
    const messages = runMessages(runId);
    expect(messages).toHaveLength(1);
    expect(textOf(messages[0])).toMatch(/^✅ Done/);
    const record = await stack.store.getRun(runId);
    expect(record).toMatchObject({ status: 'succeeded', ts: messages[0]?.ts });
    expect(record?.unsent).toBeUndefined();
    expect(await resultAudit(runId)).toMatchObject([{ result: 'succeeded' }]);
    expect(stack.standIn.stalled).toBe(0);
  });

  it('slack-timeout-on-every-update: the backup is taken, the record and audit are final, and /dr runs brings the message up to date once Slack answers', async () => {
    // prepare: every chat.update stalls without being applied, from the run's start to its end
    const before = await backups();
    let stalls = 0;
    stack.standIn.fault = (method) => (method === 'chat.update' && ++stalls ? { stall: 'before' } : undefined);

    // act 1: the run
    const reply = await command(stack, 'alice', `backup dynamodb ${TABLE}`);

    // assess 1: AWS work done; the record is final with its undelivered final state; the audit says succeeded
    const runId = runIdOf(reply);
    expect(stalls).toBeGreaterThanOrEqual(4);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await backups()).toBe(before + 1);
    const record = await stack.store.getRun(runId);
    expect(record).toMatchObject({ status: 'succeeded' });
    expect(record?.unsent).toContain('Done');
    expect(await resultAudit(runId)).toMatchObject([{ result: 'succeeded' }]);
    const message = stack.standIn.message(SANDBOX_CHANNEL, record?.ts ?? '');
    expect(textOf(message)).toContain(runId);
    expect(textOf(message)).not.toMatch(/Done/);

    // act 2: Slack answers again; carol lists the runs
    delete stack.standIn.fault;
    const listed = await command(stack, 'carol', 'runs 5');

    // assess 2: listed as not delivered, then delivered to the same message
    expect(JSON.stringify(listed.json)).toContain('its final state had not reached Slack');
    await eventually(async () => ((await stack.store.getRun(runId))?.unsent === undefined ? true : undefined), { timeoutMs: 5000, everyMs: 50, what: 'the unsent final state delivered' });
    expect(textOf(stack.standIn.message(SANDBOX_CHANNEL, record?.ts ?? ''))).toMatch(/^✅ Done/);
    expect(runMessages(runId)).toHaveLength(1);
    expect(textOf(ephemeralsFor(stack.standIn, 'carol').at(-1))).toMatch(/Brought \d+ run messages? up to date/);
  });
});
