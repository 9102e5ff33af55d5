import { type DurableExecutionClient, type DurableExecutionInvocationInput, DurableExecutionInvocationInputWithClient, type DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import type { MiddlewareStack } from '@smithy/types';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { click, deletedObjects, latestMarkerKeys, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8's crash-and-resume test: an approved undelete whose Lambda invocation dies in the middle
 * of a checkpointed step, after one of its DeleteObjects calls went through, and is invoked again.
 *
 * What it models. On Lambda a durable invocation that crashes (the runtime killed, out of memory,
 * the process gone) is invoked again by the service with the operations checkpointed so far; the
 * handler runs from the top, completed steps return their checkpointed results without running,
 * and a step that had started but not checkpointed runs again. Here the invocation "dies" when
 * the undelete step makes its second DeleteObjects call: that call never returns (no request
 * reaches moto, nothing after it runs: a dead process does nothing more), and the invocation is
 * abandoned. The first call, already sent, removes its 1,000 markers. The wrapper around the
 * handler then does what the service does: it invokes the same handler again, as a new
 * invocation (a fresh checkpoint token, no operations in the event but a marker, so the SDK
 * fetches the whole checkpointed state through GetDurableExecutionState from the local runner's
 * checkpoint server, as it pages a long history on Lambda). The local runner's own orchestrator
 * never re-invokes after an invocation error (it fails the execution), hence this wrapper, given
 * to the stack through its `wrapHandler` test hook.
 *
 * The step runs again from its start, over the plan's markers: the 1,000 the dead attempt removed
 * are sent again, and S3 answers a delete of a version that is already gone as deleted, so the
 * count stays exact (issue 13: the undelete no longer lists between its steps).
 *
 * What it does not model: Lambda's own retry limits and delays, and the abandoned invocation's
 * memory (it is left hanging on a promise that never settles; it holds no timer).
 */

const BUCKET = 'drbot-it-crash';
const COUNT = 2000;
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: BUCKET }] } }, 'crash-resume config');

type Stacked = { middlewareStack: MiddlewareStack<object, object> };

/** A call that never returns: what a dead process's next call is. */
const never = (): Promise<never> => new Promise<never>(() => {});

/**
 * The crash and the service's re-invocation. `kill()` ends the invocation running now (once): its
 * pending AWS call and every checkpoint it would still send never happen; the wrapper then invokes
 * the handler again from the checkpoints.
 */
class CrashingRuntime {
  invocations = 0;
  reinvocations = 0;
  private killCurrent: (() => void) | undefined;
  private killed = false;

  wrap = (handler: DurableLambdaHandler): DurableLambdaHandler => {
    return async (event, context) => {
      this.invocations++;
      // The local runner hands its checkpoint client in with the event; a dead invocation's client answers nothing.
      const base = (event as unknown as { durableExecutionClient: DurableExecutionClient }).durableExecutionClient;
      let dead = false;
      const client: DurableExecutionClient = {
        getExecutionState: (params, logger) => (dead ? never() : base.getExecutionState(params, logger)),
        checkpoint: (params, logger) => (dead ? never() : base.checkpoint(params, logger)),
      };
      const death = new Promise<'crashed'>((resolve) => {
        this.killCurrent = () => {
          dead = true;
          resolve('crashed');
        };
      });
      const out = await Promise.race([handler(new DurableExecutionInvocationInputWithClient(event, client) as unknown as DurableExecutionInvocationInput, context), death]);
      if (out !== 'crashed') return out;
      // The service invokes again: a new token, and the state the SDK fetches from the checkpoints.
      this.reinvocations++;
      return handler(new DurableExecutionInvocationInputWithClient(this.afterCrash(event), base) as unknown as DurableExecutionInvocationInput, context);
    };
  };

  private afterCrash(event: DurableExecutionInvocationInput): DurableExecutionInvocationInput {
    const token = JSON.parse(Buffer.from(event.CheckpointToken, 'base64').toString('utf8')) as Record<string, unknown>;
    const execution = (event.InitialExecutionState.Operations ?? []).filter((op) => op.Type === 'EXECUTION');
    return {
      DurableExecutionArn: event.DurableExecutionArn,
      CheckpointToken: Buffer.from(JSON.stringify({ ...token, token: `after-crash-${this.reinvocations}` })).toString('base64'),
      InitialExecutionState: { Operations: execution, NextMarker: 'after-crash' },
    };
  }

  /** Ends the running invocation; returns the call that was under way, which never returns. */
  kill(): Promise<never> {
    if (this.killed || !this.killCurrent) throw new Error('no invocation to kill');
    this.killed = true;
    this.killCurrent();
    return never();
  }
}

const runtime = new CrashingRuntime();

describe('an undelete whose invocation crashes inside a step', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0, wrapHandler: runtime.wrap });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  it('resumes from its checkpoints: every marker deleted, the dead attempt\'s batch sent again, and the message and the record say the exact count', async () => {
    // prepare: 2,000 deleted objects (two DeleteObjects calls of 1,000), every DeleteObjects input recorded
    const s3 = stack.clients.s3('us-east-1');
    const keys = await deletedObjects(s3, BUCKET, COUNT);
    const sent: string[][] = [];
    let armed = false;
    let deletes = 0;
    (s3 as unknown as Stacked).middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        if (context.commandName === 'DeleteObjectsCommand' && input.Bucket === BUCKET) {
          // The second call of the approved run: the first one has gone to AWS.
          if (armed && ++deletes === 2) return runtime.kill();
          sent.push(((input.Delete as { Objects: { Key: string; VersionId?: string }[] }).Objects ?? []).map((o) => `${o.Key}@${o.VersionId ?? ''}`));
        }
        return next(args);
      },
      { step: 'initialize', name: 'crash-resume-probe' },
    );
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/`);
    const invocationsBefore = runtime.invocations;

    // act: bob approves; the run dies inside its undelete step, and is invoked again
    armed = true;
    await click(stack, 'bob', message, 'run_approve');

    // assess: the run was invoked again, and the step ran again from its start
    expect(runtime.reinvocations).toBe(1);
    expect(runtime.invocations).toBeGreaterThan(invocationsBefore);
    expect(sent.map((b) => b.length)).toEqual([1000, 1000, 1000]);
    expect(sent[1]).toEqual(sent[0]);
    // every marker sent, the first batch twice and no other
    const all = sent.flat();
    expect(new Set(all).size).toBe(COUNT);
    expect(new Set(all.map((k) => k.split('@')[0]))).toEqual(new Set(keys));
    // AWS's end state: no delete marker hides an object
    expect(await latestMarkerKeys(s3, BUCKET)).toEqual([]);
    // the exact count, in the run's result, its record and its message
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
    const exact = `Restored *${COUNT.toLocaleString('en-US')}* objects`;
    expect(runSummary(stack, runId)?.lines[0]).toContain(exact);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded', summary: expect.stringContaining(exact) });
    const final = textOf(stack.standIn.message(message.channel, message.ts));
    expect(final).toContain(exact);
    expect(final).toContain('no restorable delete markers remain');
    const results = (await stack.store.listAudit(50)).filter((e) => e.runId === runId && e.action === 'result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ result: 'succeeded', detail: expect.stringContaining(exact) });
  }, 300_000);
});
