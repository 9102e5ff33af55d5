import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { click, deletedObjects, latestMarkerKeys, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * A progress update is sent from inside a step without being awaited. When Slack is slow to take
 * it (here: the first one is stalled until the client's 200 ms timeout, then retried), it used to
 * land after the run's final update, and the message went back to "Running … 10 / 10" for good.
 * The run now waits until no progress update is on its way before it writes its final state.
 */

const BUCKET = 'drbot-it-progress-race';
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: BUCKET }] } }, 'progress race config');

describe('a slow progress update', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0, slackTimeoutMs: 200, slackRetry: { attempts: 5, baseDelayMs: 10, maxWaitMs: 50 } });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  afterEach(() => {
    delete stack.standIn.fault;
  });

  it('never lands over the final report: the message ends Done, with the result', async () => {
    // prepare: the run's first progress update is taken and never answered
    const s3 = stack.clients.s3('us-east-1');
    await deletedObjects(s3, BUCKET, 10, stack.moto?.putMany ? { putMany: stack.moto.putMany } : {});
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${BUCKET}`);
    let stalled = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && /restored \d+ \/ 10/.test(JSON.stringify(args.blocks ?? '')) && stalled++ === 0 ? { stall: 'before' } : undefined);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: the stalled update was retried, and the last update written is the final report
    expect(stalled).toBeGreaterThanOrEqual(2);
    expect(await latestMarkerKeys(s3, BUCKET)).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const updates = stack.standIn.callsOf('chat.update').filter((c) => c.args.ts === message.ts);
    expect(String(updates.at(-1)?.args.text)).toMatch(/^Done/);
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toMatch(/^✅ Done/);
    expect(final).toContain('Restored *10* objects');
  });
});
