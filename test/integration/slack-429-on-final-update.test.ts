import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { click, command, ephemeralsFor, latestMarkerKeys, recordedSlackWaits, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, fault 2: Slack failing must not hide finished work. The Slack stand-in answers chosen
 * Web API calls with 429 (Retry-After) or 500; the run's AWS work, its record, its audit and, once
 * Slack answers, its message must all end in a final state.
 */

const BUCKET = 'spawn-binaries-us-east-1';

describe('Slack failing while a run reports', () => {
  // The posters' waits are recorded, not slept: each test asserts the ones its faults caused.
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ slackRetry });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  afterEach(() => {
    delete stack.standIn.fault;
  });

  it('slack-429-on-final-update: the run waits out Retry-After and its message ends Done; record and audit say succeeded', async () => {
    // prepare: the final update (text "Done: …") is rate limited six times, more than a step's own retries
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/`);
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 6 ? { status: 429, retryAfter: 1 } : undefined);
    const waited = slackRetry.waits.length;

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: Retry-After (1 s) waited once per 429, nothing else waited
    expect(limited).toBe(7);
    expect(slackRetry.waits.slice(waited)).toEqual(Array(6).fill(1000));
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toMatch(/^✅ Done/);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    const audit = (await stack.store.listAudit(100)).filter((e) => e.runId === runId && e.action === 'result');
    expect(audit).toMatchObject([{ result: 'succeeded' }]);
    expect(await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET, 'bin/')).toEqual([]);
  });

  it('slack-500-on-every-update: the restore still completes, and its record and audit say so', async () => {
    // prepare: a fresh set of deleted objects under lib/, and Slack failing every update from the approval on
    const s3 = stack.clients.s3('us-east-1');
    const before = await latestMarkerKeys(s3, BUCKET, 'lib/');
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix lib/`);
    stack.standIn.fault = (method) => (method === 'chat.update' ? { status: 500 } : undefined);
    const waited = slackRetry.waits.length;

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: each refused update was tried 8 times, backing off from 20 ms and capped at 1 s
    const waits = slackRetry.waits.slice(waited);
    expect(waits.slice(0, 7)).toEqual([20, 40, 80, 160, 320, 640, 1000]);
    expect(waits.length % 7).toBe(0);
    // AWS end state, the record, the audit
    expect(before.length).toBeGreaterThan(0);
    expect(await latestMarkerKeys(s3, BUCKET, 'lib/')).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    const audit = (await stack.store.listAudit(100)).filter((e) => e.runId === runId && e.action === 'result');
    expect(audit).toMatchObject([{ result: 'succeeded' }]);
    // the message still shows the plan: the stand-in refused every update
    expect(textOf(stack.standIn.message(SANDBOX_CHANNEL, message.ts))).not.toMatch(/Done/);
  });

  it('slack-500-then-dr-runs: the final state Slack refused is kept with the run, and /dr runs delivers it once Slack answers', async () => {
    // prepare: a dry run whose every update fails, so its final state never reaches Slack
    const reply = await (async () => {
      stack.standIn.fault = (method) => (method === 'chat.update' ? { status: 500 } : undefined);
      try {
        return await command(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/ --dry-run`);
      } finally {
        delete stack.standIn.fault;
      }
    })();
    const runId = /r-[0-9a-f]{12}/.exec(reply.json?.text ?? '')?.[0] ?? '';
    const record = await stack.store.getRun(runId);
    const stale = textOf(stack.standIn.message(SANDBOX_CHANNEL, record?.ts ?? ''));

    // act: Slack answers again; carol lists the runs
    const listed = await command(stack, 'carol', 'runs 5');

    // assess: the listing names the run and says its state had not reached Slack; then the message is brought up to date
    expect(record).toMatchObject({ status: 'dry_run' });
    expect(record?.unsent).toContain('Dry run');
    expect(stale).not.toMatch(/Dry run/);
    expect(JSON.stringify(listed.json)).toContain(runId);
    expect(JSON.stringify(listed.json)).toContain('its final state had not reached Slack');
    expect(textOf(stack.standIn.message(SANDBOX_CHANNEL, record?.ts ?? ''))).toMatch(/Dry run/);
    expect((await stack.store.getRun(runId))?.unsent).toBeUndefined();
    // (the earlier test's run, whose updates all failed, is brought up to date too)
    expect(textOf(ephemeralsFor(stack.standIn, 'carol').at(-1))).toMatch(/Brought [12] run messages? up to date/);
  });
});
