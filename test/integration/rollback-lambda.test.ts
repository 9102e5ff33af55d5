import { type AliasConfiguration, GetAliasCommand, type LambdaClient, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import type { MiddlewareStack } from '@smithy/types';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_LAMBDA_ROLE, storedZip } from '../../src/local/estate';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { StoredMessage } from '../../src/local/slack-standin';
import type { LocalStack } from '../../src/local/stack';
import { CANARY_WATCH_MINUTES } from '../../src/runbooks/rollback-lambda/runbook';
import { ACCESS_DENIED, fail, rewrite } from '../helpers/faults';
import { ALIAS, lambdaRoles, makeFunction, putInvocations as putMetrics } from '../helpers/lambda-fns';
import { buttons, click, command, ephemeralsFor, recordedSlackWaits, requestRun, runIdOf, runSummary, snapshot, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr rollback lambda against moto: versions, aliases and their routing are moto's; the alias's end
 * state is read back with GetAlias after every run. moto records no Lambda metrics of its own, so the
 * canary tests put the AWS/Lambda Errors and Invocations points (per ExecutedVersion, as Lambda
 * publishes them for a weighted alias) into moto's CloudWatch themselves. Faults moto never makes
 * (throttling, AccessDenied, a revision that changed) are SDK middleware on the runbook's own client.
 */

const FN = 'spawn-dns-updater';
const F = {
  routed: 'spawn-rb-routed',
  canary: 'spawn-rb-canary',
  abort: 'spawn-rb-abort',
  throttled: 'spawn-rb-throttled',
  denied: 'spawn-rb-denied',
  changed: 'spawn-rb-changed',
  replayed: 'spawn-rb-replayed',
  slack: 'spawn-rb-slack',
  first: 'spawn-rb-first',
  hostile: 'spawn-rb-hostile',
  ghost: 'spawn-rb-ghost',
  noAlias: 'spawn-rb-noalias',
  metricsDenied: 'spawn-rb-nometrics',
  role: 'spawn-rb-role',
};
const config = parseConfig({ ...SANDBOX_CONFIG, lambda: { functions: [FN, ...Object.values(F)], alias: ALIAS } }, 'rollback lambda test config');

/** Counts the UpdateAlias calls moto answered (a call a fault refused never reaches it). */
function countUpdates(lambda: LambdaClient): { sent: Record<string, unknown>[]; undo: () => void } {
  const sent: Record<string, unknown>[] = [];
  const undo = rewrite<object>(lambda, 'UpdateAliasCommand', (out, input) => {
    sent.push(input);
    return out;
  });
  return { sent, undo };
}

describe('/dr rollback lambda', () => {
  // The posters' waits are recorded, not slept: the Slack fault tests assert the ones their faults caused.
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0, slackRetry });
  let stack: LocalStack;
  let lambda: LambdaClient;

  const alias = async (fn: string): Promise<AliasConfiguration> => lambda.send(new GetAliasCommand({ FunctionName: fn, Name: ALIAS }));
  const routing = async (fn: string) => ({ ...((await alias(fn)).RoutingConfig?.AdditionalVersionWeights ?? {}) });
  const current = (m: StoredMessage) => stack.standIn.message(m.channel, m.ts);
  const finalText = (m: StoredMessage) => textOf(current(m));
  /** What alice was told when a command was refused before any run started. */
  const refusal = async (text: string): Promise<{ said: string; started: number }> => {
    const before = stack.engine.names().length;
    const reply = await command(stack, 'alice', text);
    const said = `${reply.json?.text ?? ''}\n${ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).at(-1) ?? ''}`;
    return { said, started: stack.engine.names().length - before };
  };
  /** The AWS/Lambda points Lambda would publish for the alias, per executed version, a minute after now. */
  const putInvocations = (fn: string, points: Record<string, { invocations: number; errors: number }>) =>
    putMetrics(stack.clients.cloudwatch('us-east-1'), fn, points, new Date(stack.now().getTime() + 60_000));

  beforeAll(async () => {
    stack = getStack();
    lambda = stack.clients.lambda('us-east-1');
    await lambdaRoles(stack.clients.iam('us-east-1'), [SANDBOX_LAMBDA_ROLE, 'spawn-rb-other-exec']);
    await Promise.all([
      makeFunction(lambda, FN, 3),
      makeFunction(lambda, F.routed, 3, { routing: { '2': 0.25 } }),
      makeFunction(lambda, F.canary, 3),
      makeFunction(lambda, F.abort, 3),
      makeFunction(lambda, F.throttled, 3),
      makeFunction(lambda, F.denied, 3),
      makeFunction(lambda, F.changed, 3),
      makeFunction(lambda, F.replayed, 3),
      makeFunction(lambda, F.slack, 4),
      makeFunction(lambda, F.first, 3, { aliasOn: '1' }),
      makeFunction(lambda, F.hostile, 2, { descriptions: ['ok', 'x`y <!channel> <https://evil.example|click> *bold*\u2028forged line'] }),
      makeFunction(lambda, F.noAlias, 2, { alias: false }),
      makeFunction(lambda, F.metricsDenied, 2),
    ]);
    // A function whose versions run under different roles: Lambda splits no alias between them.
    await makeFunction(lambda, F.role, 1);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: F.role, ZipFile: storedZip('index.js', 'exports.handler = async () => 2;\n') }));
    const { UpdateFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: F.role, Role: 'arn:aws:iam::123456789012:role/spawn-rb-other-exec' }));
    await lambda.send(new PublishVersionCommand({ FunctionName: F.role }));
  }, 60_000);

  // Each test starts with FN's alias on its newest version and no routing, whatever ran before.
  beforeEach(async () => {
    await lambda.send(new UpdateAliasCommand({ FunctionName: FN, Name: ALIAS, FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: {} } }));
  });

  afterEach(() => {
    delete stack.standIn.fault;
  });

  describe('plan and dry run', () => {
    it('plans the alias back to the version before its current one, with each version\'s description, date and code SHA-256, and a dry run changes nothing', async () => {
      // prepare
      const versions = await import('../../src/aws/lambda').then((m) => m.listVersions(lambda, FN));
      const sha = (v: string) => versions.find((x) => x.Version === v)?.CodeSha256 ?? '';

      // act
      const reply = await command(stack, 'alice', `rollback lambda ${FN} --dry-run`);

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
      const text = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
      expect(text).toContain(`\`${FN}\` alias \`${ALIAS}\`: v3 → *v2*.`);
      expect(text).toContain(`From v3: \`release 3 of ${FN}\`, published `);
      expect(text).toContain(`To v2: \`release 2 of ${FN}\`, published `);
      expect(text).toContain(`code SHA-256 \`${sha('3')}\``);
      expect(text).toContain(`code SHA-256 \`${sha('2')}\``);
      expect(sha('2')).not.toBe(sha('3'));
      expect(text).toContain('Would apply with UpdateAlias');
      expect(buttons(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)))).toEqual([]);
      const a = await alias(FN);
      expect(a.FunctionVersion).toBe('3');
      expect(a.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    });

    it('escapes a hostile version description: one line, no mention, no link, no closing backtick', async () => {
      // act
      await command(stack, 'alice', `rollback lambda ${F.hostile} --dry-run`);

      // assess
      const m = stack.standIn.channelMessages(SANDBOX_CHANNEL).at(-1);
      const raw = JSON.stringify(m?.blocks);
      expect(raw).not.toContain('<!channel>');
      expect(raw).not.toContain('<https://evil');
      expect(raw).not.toContain('\\u2028');
      expect(raw).toContain('xˋy &lt;!channel&gt; &lt;https://evil.example|click&gt; *bold*�forged line');
      const planLine = textOf(m).split('\n').find((l) => l.startsWith('• From'));
      expect(planLine).toMatch(/^• From v2: `[^`]*`, published .*, code SHA-256 `[^`]+`$/);
    });
  });

  describe('rollback with approval', () => {
    it('moves the alias back once a second person approves: the requester cannot approve it, and GetAlias reads the target back', async () => {
      // prepare
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${FN}`);
      const { sent, undo } = countUpdates(lambda);

      // act
      let ownTry;
      try {
        ownTry = await click(stack, 'alice', message, 'run_approve');
        await click(stack, 'bob', message, 'run_approve');
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undo();
      }

      // assess: refused for alice, executed once for bob, the alias on v2 with no routing
      expect(JSON.stringify(ownTry.json ?? {}) + ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).join('\n')).toContain('You requested this run; someone else must approve it (four eyes).');
      expect(sent).toEqual([{ FunctionName: FN, Name: ALIAS, FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} }, RevisionId: expect.any(String) }]);
      const a = await alias(FN);
      expect(a.FunctionVersion).toBe('2');
      expect(a.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(finalText(message)).toContain(`✅ \`${ALIAS}\` of \`${FN}\` is on v2 (was v3), with no routing; verified with GetAlias.`);
      expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    });

    it('clears the routing of an alias already split between two versions', async () => {
      // prepare
      expect(await routing(F.routed)).toEqual({ '2': 0.25 });
      const { message } = await requestRun(stack, 'alice', `rollback lambda ${F.routed} 1`);
      const planned = textOf(message);

      // act
      await click(stack, 'bob', message, 'run_approve');

      // assess
      expect(planned).toContain(`\`${F.routed}\` alias \`${ALIAS}\`: v3 → *v1* (now also 25 % to v2).`);
      expect(planned).toContain("The alias's routing (25 % to v2) is cleared: all traffic goes to v1.");
      const a = await alias(F.routed);
      expect(a.FunctionVersion).toBe('1');
      expect(a.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
      expect(finalText(message)).toContain('is on v1 (was v3 with 25 % to v2), with no routing');
    });

    it('a rejected rollback changes nothing', async () => {
      // prepare
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.first} 3`);

      // act
      await click(stack, 'bob', message, 'run_reject');

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'rejected' });
      expect((await alias(F.first)).FunctionVersion).toBe('1');
    });
  });

  describe('--canary', () => {
    it('sends 10 % to the previous version, shows each version\'s errors after the watch, and Complete rollback moves all traffic there with its own approval', async () => {
      // prepare: Lambda's per-version points for the watch window
      await putInvocations(F.canary, { '2': { invocations: 40, errors: 0 }, '3': { invocations: 360, errors: 18 } });
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.canary} --canary 10`);
      const planned = textOf(message);

      // act: bob approves the canary
      await click(stack, 'bob', message, 'run_approve');
      const afterCanary = snapshot(current(message) ?? message);
      const routed = await alias(F.canary);

      // assess the canary: main version kept, 10 % to v2, the metrics shown, two buttons
      expect(planned).toContain(`\`${F.canary}\` alias \`${ALIAS}\`: stays on v3; *10 %* of its traffic goes to v2.`);
      expect(planned).toContain(`watches ${CANARY_WATCH_MINUTES} minutes`);
      expect(routed.FunctionVersion).toBe('3');
      expect(routed.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.1 });
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      const text = textOf(afterCanary);
      expect(text).toContain('stays on v3 and sends *10 %* of its traffic to v2; verified with GetAlias.');
      expect(text).toContain('• v2 (canary, 10 %): 40 invocations, 0 errors (0.00 %)');
      expect(text).toContain('• v3 (main): 360 invocations, 18 errors (5.00 %)');
      expect(text).toContain('✅ v2 fails no more often than v3.');
      expect(buttons(afterCanary).map((b) => [b.text, b.action_id])).toEqual([
        ['Complete rollback', 'run_next:0'],
        ['Abort', 'run_next:1'],
      ]);
      expect((await stack.store.getRun(runId))?.next).toEqual([
        { label: 'Complete rollback', command: `rollback lambda ${F.canary} 2`, style: 'primary' },
        { label: 'Abort', command: `rollback lambda ${F.canary} --abort-canary`, style: 'danger' },
      ]);

      // act: alice presses Complete rollback; its plan in the same message; bob approves
      await click(stack, 'alice', afterCanary, 'Complete rollback');
      const completePlan = snapshot(current(message) ?? message);
      const beforeApproval = await alias(F.canary);
      await click(stack, 'bob', completePlan, 'run_approve');

      // assess: all traffic on v2, routing cleared
      expect(textOf(completePlan)).toContain(`v3 → *v2* (now also 10 % to v2).`);
      expect(textOf(completePlan)).toContain(`continues run \`${runId}\``);
      expect(beforeApproval.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.1 });
      const done = await alias(F.canary);
      expect(done.FunctionVersion).toBe('2');
      expect(done.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
      expect(finalText(message)).toContain('is on v2 (was v3 with 10 % to v2), with no routing; verified with GetAlias.');
    });

    it('Abort clears the routing back to the main version, with its own approval; the canary\'s worse error rate is called out', async () => {
      // prepare
      await putInvocations(F.abort, { '2': { invocations: 50, errors: 10 }, '3': { invocations: 450, errors: 9 } });
      const { message } = await requestRun(stack, 'alice', `rollback lambda ${F.abort} --canary 25`);
      await click(stack, 'bob', message, 'run_approve');
      const afterCanary = snapshot(current(message) ?? message);
      const routed = await routing(F.abort);

      // act
      await click(stack, 'alice', afterCanary, 'Abort');
      const abortPlan = snapshot(current(message) ?? message);
      await click(stack, 'bob', abortPlan, 'run_approve');

      // assess
      expect(routed).toEqual({ '2': 0.25 });
      expect(textOf(afterCanary)).toContain('• v2 (canary, 25 %): 50 invocations, 10 errors (20.0 %)');
      expect(textOf(afterCanary)).toContain('⚠️ v2 fails more often than v3: consider *Abort*.');
      expect(textOf(abortPlan)).toContain(`\`${F.abort}\` alias \`${ALIAS}\`: v3 with 25 % to v2 → *v3 only*: the routing is cleared`);
      const a = await alias(F.abort);
      expect(a.FunctionVersion).toBe('3');
      expect(a.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
      expect(finalText(message)).toContain('sends all traffic to v3 again (was v3 with 25 % to v2); verified with GetAlias.');
    });

    it('says so when no invocation was recorded, and still offers both buttons when the metrics cannot be read', async () => {
      // prepare: GetMetricData denied
      const cw = stack.clients.cloudwatch('us-east-1');
      const undo = fail(cw, 'GetMetricDataCommand', { name: 'AccessDenied', message: 'User is not authorized to perform: cloudwatch:GetMetricData', status: 403 });
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.metricsDenied} --canary 5`);

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(await routing(F.metricsDenied)).toEqual({ '1': 0.05 });
      const text = finalText(message);
      expect(text).toContain('⚠️ Could not read the error metrics: GetMetricData on `AWS/Lambda spawn-rb-nometrics:production` failed: User is not authorized');
      expect(buttons(current(message)).map((b) => b.text)).toEqual(['Complete rollback', 'Abort']);
    });

    it('with no points in the window, says there is nothing to compare yet', async () => {
      // prepare: F.denied has no metric points
      const { message } = await requestRun(stack, 'alice', `rollback lambda ${F.first} 3 --canary 50`);

      // act
      await click(stack, 'bob', message, 'run_approve');

      // assess
      expect(finalText(message)).toContain('No invocations were recorded in the window: there is nothing to compare yet.');
      expect(await routing(F.first)).toEqual({ '3': 0.5 });
      expect((await alias(F.first)).FunctionVersion).toBe('1');
    });

    it('refuses a canary to the version the alias is on, and between versions with different execution roles', async () => {
      // act
      const same = await command(stack, 'alice', `rollback lambda ${F.first} 1 --canary 10`);
      const roles = await command(stack, 'alice', `rollback lambda ${F.role} 2 --canary 10`);

      // assess
      const msg = (r: typeof same) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runIdOf(r))));
      expect(runSummary(stack, runIdOf(same))).toMatchObject({ status: 'failed' });
      expect(msg(same)).toContain('`production` is already on v1: a canary needs another version.');
      expect(msg(roles)).toContain('Lambda splits an alias only between versions with the same execution role and dead-letter queue; v1 and v2');
      expect((await alias(F.first)).FunctionVersion).toBe('1');
      expect(await routing(F.role)).toEqual({});
    });
  });

  describe('faults', () => {
    it('update-alias-throttled: UpdateAlias throttled twice, retried in its step; the alias ends exactly on the target, updated once', async () => {
      // prepare
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.throttled}`);
      const undoFail = fail(lambda, 'UpdateAliasCommand', { name: 'ThrottlingException', message: 'Rate exceeded', status: 429 }, { times: 2 });
      const { sent, undo } = countUpdates(lambda);

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undoFail();
        undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(sent).toHaveLength(1);
      const a = await alias(F.throttled);
      expect(a.FunctionVersion).toBe('2');
      expect(a.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    });

    it('update-alias-denied: the run fails saying UpdateAlias was denied and how to grant it; the alias is unchanged', async () => {
      // prepare
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.denied}`);
      const undo = fail(lambda, 'UpdateAliasCommand', ACCESS_DENIED);

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
      const text = finalText(message);
      expect(text).toMatch(/^❌ Failed/);
      expect(text).toContain(`UpdateAlias failed: UpdateAlias on \`${F.denied}:${ALIAS}\` failed: User is not authorized to perform this action. \`${ALIAS}\` is on v3 only, as before: nothing was changed.`);
      expect(text).toContain("Grant the bot's role permission for `UpdateAlias`");
      expect((await alias(F.denied)).FunctionVersion).toBe('3');
      expect(await stack.store.getRun(runId)).toMatchObject({ status: 'failed' });
    });

    it('alias-changed-after-plan: AWS refuses the stale revision; the run fails naming it and leaves the alias where the other change put it', async () => {
      // prepare: the plan reads v3; then someone moves the alias to v1 (moto ignores RevisionId, so AWS's refusal is injected)
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.changed}`);
      await lambda.send(new UpdateAliasCommand({ FunctionName: F.changed, Name: ALIAS, FunctionVersion: '1' }));
      const undo = fail(lambda, 'UpdateAliasCommand', { name: 'PreconditionFailedException', message: 'The Revision Id provided does not match the latest Revision Id.', status: 412 });

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const text = finalText(message);
      expect(text).toContain(`The alias \`${ALIAS}\` of \`${F.changed}\` changed after the plan was made.`);
      expect(text).toContain(`\`${ALIAS}\` is on v1 only.`);
      expect((await alias(F.changed)).FunctionVersion).toBe('1');
    });

    it('update-alias-replayed: an update that landed but whose answer was lost is recognised on the retry (same revision refused, alias already as wanted)', async () => {
      // prepare: the first UpdateAlias reaches moto, then the caller sees a 503; the retry is refused as a stale revision
      const { runId, message } = await requestRun(stack, 'alice', `rollback lambda ${F.replayed}`);
      let calls = 0;
      const id = 'lost-answer';
      (lambda as unknown as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'UpdateAliasCommand') return next(args);
          calls++;
          if (calls === 1) {
            await next(args);
            throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailableException', $fault: 'server', $metadata: { httpStatusCode: 503 } });
          }
          throw Object.assign(new Error('The Revision Id provided does not match the latest Revision Id.'), { name: 'PreconditionFailedException', $fault: 'client', $metadata: { httpStatusCode: 412 } });
        },
        { step: 'initialize', name: id },
      );

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        (lambda as unknown as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.remove(id);
      }

      // assess
      expect(calls).toBe(2);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect((await alias(F.replayed)).FunctionVersion).toBe('2');
      expect(finalText(message)).toContain('It was already so when the step ran again.');
    });

    it('slack-429-on-final-update and slack-500-on-every-update: the alias still moves and the record says succeeded', async () => {
      // prepare: 429 on the final update, five times
      const first = await requestRun(stack, 'alice', `rollback lambda ${F.slack}`);
      let limited = 0;
      stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 3 ? { status: 429, retryAfter: 1 } : undefined);
      const waited = slackRetry.waits.length;

      // act
      await click(stack, 'bob', first.message, 'run_approve');
      stack.standIn.fault = undefined;
      const waitsFirst = slackRetry.waits.slice(waited);
      const waitedSecond = slackRetry.waits.length;
      const afterFirst = (await alias(F.slack)).FunctionVersion;
      const second = await requestRun(stack, 'alice', `rollback lambda ${F.slack}`);
      stack.standIn.fault = (method) => (method === 'chat.update' ? { status: 500 } : undefined);
      await click(stack, 'bob', second.message, 'run_approve');

      // assess: Retry-After (1 s) waited for each 429; each refused update tried 8 times, backing off from 20 ms to 1 s
      expect(limited).toBe(4);
      expect(waitsFirst).toEqual([1000, 1000, 1000]);
      const waitsSecond = slackRetry.waits.slice(waitedSecond);
      expect(waitsSecond.slice(0, 7)).toEqual([20, 40, 80, 160, 320, 640, 1000]);
      expect(waitsSecond.length % 7).toBe(0);
      expect(afterFirst).toBe('3');
      expect(finalText(first.message)).toMatch(/^✅ Done/);
      expect(runSummary(stack, first.runId)).toMatchObject({ status: 'succeeded' });
      expect((await alias(F.slack)).FunctionVersion).toBe('2');
      expect(runSummary(stack, second.runId)).toMatchObject({ status: 'succeeded' });
      expect(await stack.store.getRun(second.runId)).toMatchObject({ status: 'succeeded' });
      const audit = (await stack.store.listAudit(200)).filter((e) => e.runId === second.runId && e.action === 'result');
      expect(audit).toMatchObject([{ result: 'succeeded' }]);
      expect(finalText(second.message)).not.toMatch(/Done/);
    });
  });

  describe('bad input', () => {
    it('refuses an unknown function, $LATEST, and a malformed version at the command, starting nothing', async () => {
      const unknown = await refusal('rollback lambda spawn-nope');
      const latest = await refusal(`rollback lambda ${FN} $LATEST`);
      const word = await refusal(`rollback lambda ${FN} v2`);
      const missing = await refusal('rollback lambda');

      expect(unknown.said).toContain('Unknown function `spawn-nope`.');
      expect(latest.said).toContain('VERSION must be a published version; `$LATEST` can change under you.');
      expect(word.said).toContain('VERSION must be a published version number, not `v2`.');
      expect(missing.said).toContain('FUNCTION is missing.');
      expect([unknown, latest, word, missing].map((r) => r.started)).toEqual([0, 0, 0, 0]);
    });

    it.each([
      ['zero', '0', '--canary must be from 1 to 99, not 0.'],
      ['a hundred', '100', '--canary must be a whole number from 1 to 99, not `100`.'],
      ['a word', 'abc', '--canary must be a whole number from 1 to 99, not `abc`.'],
      ['a negative number', '-5', '--canary must be a whole number from 1 to 99, not `-5`.'],
      ['a fraction', '10.5', '--canary must be a whole number from 1 to 99, not `10.5`.'],
      ['a percent sign', '10%', '--canary must be a whole number from 1 to 99, not `10%`.'],
      ['400 digits (cut at 60 in the answer)', '9'.repeat(400), `--canary must be a whole number from 1 to 99, not \`${'9'.repeat(60)}…\`.`],
      ['a backtick and markup', '"1`0 *x*"', '--canary must be a whole number from 1 to 99, not `1\'0 *x*`.'],
      ['a mention', '<!channel>', 'mentions, channels and links are not arguments to /dr'],
      ['nothing', '', '--canary needs a value.'],
    ])('refuses --canary with %s, clearly, starting nothing', async (_what, value, words) => {
      const r = await refusal(`rollback lambda ${FN} --canary ${value}`);
      expect(r.started).toBe(0);
      expect(r.said).toContain(words);
      expect(r.said).not.toContain('<!channel>');
    });

    it('refuses --abort-canary with a VERSION or with --canary', async () => {
      const withVersion = await refusal(`rollback lambda ${FN} 2 --abort-canary`);
      const withCanary = await refusal(`rollback lambda ${FN} --abort-canary --canary 10`);
      expect(withVersion.said).toContain('--abort-canary takes no VERSION');
      expect(withCanary.said).toContain('--canary and --abort-canary cannot be used together.');
      expect(withVersion.started + withCanary.started).toBe(0);
    });

    it('fails the plan, changing nothing, for a version that does not exist, a first version, a function Lambda does not have, and a missing alias', async () => {
      // act
      const runs = {
        missing: await command(stack, 'alice', `rollback lambda ${FN} 9`),
        first: await command(stack, 'alice', `rollback lambda ${F.first}`),
        ghost: await command(stack, 'alice', `rollback lambda ${F.ghost}`),
        noAlias: await command(stack, 'alice', `rollback lambda ${F.noAlias} 1`),
        noCanary: await command(stack, 'alice', `rollback lambda ${F.hostile} --abort-canary`),
      };

      // assess
      const msg = (r: (typeof runs)['missing']) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runIdOf(r))));
      expect(runSummary(stack, runIdOf(runs.missing))).toMatchObject({ status: 'failed' });
      expect(msg(runs.missing)).toContain(`Version 9 of \`${FN}\` does not exist. Published versions: v1, v2, v3.`);
      expect(msg(runs.first)).toContain(`\`${ALIAS}\` of \`${F.first}\` is on v1: there is no published version before it to roll back to (published: v1, v2, v3).`);
      expect(msg(runs.ghost)).toContain(`\`${F.ghost}\` is in the drbot config but Lambda has no such function in us-east-1.`);
      expect(msg(runs.noAlias)).toContain(`\`${F.noAlias}\` has no alias \`${ALIAS}\`.`);
      expect(runSummary(stack, runIdOf(runs.noCanary))).toMatchObject({ status: 'nothing_to_do' });
      expect(msg(runs.noCanary)).toContain('there is no canary to abort.');
      for (const r of Object.values(runs)) expect(buttons(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runIdOf(r))))).toEqual([]);
      expect((await alias(FN)).FunctionVersion).toBe('3');
      expect((await alias(F.hostile)).FunctionVersion).toBe('2');
    });

    it('says there is nothing to do when the alias is already on the version, with no routing', async () => {
      const reply = await command(stack, 'alice', `rollback lambda ${FN} 3`);
      expect(runSummary(stack, runIdOf(reply))).toMatchObject({ status: 'nothing_to_do' });
      expect(textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runIdOf(reply))))).toContain('is already on v3 with no routing: nothing to do.');
    });
  });
});
