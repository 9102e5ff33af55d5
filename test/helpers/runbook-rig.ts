import { type DurableContext, type Duration, type StepConfig, type StepFunc, type WaitForConditionCheckFunc, type WaitForConditionConfig, withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { TestResult } from '@aws/durable-execution-sdk-js-testing';
import { type BucketLocationConstraint, CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { setRetryWait } from '../../src/aws/retry-wait';
import type { DrConfig } from '../../src/config/schema';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { Outcome, Progress, Runbook } from '../../src/runbooks/driver';
import { LocalRunEngine } from '../../src/runbooks/engine-local';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import type { SlackPoster } from '../../src/slack/poster';
import { StateStore } from '../../src/store/state';
import { type MotoContext, useMoto } from './moto';

type Bucket = DrConfig['s3']['buckets'][number];
/** The progress a runbook reported, in order: [done, total, label]. */
type Reports = Array<[number, number, string]>;
/** An event of a durable execution's history, as the local runner keeps it. */
export type HistoryEvent = ReturnType<TestResult<unknown>['getHistoryEvents']>[number];

/** What the step named `name` checkpointed when it succeeded (its result, parsed); undefined if it never did. */
export function savedResult<T>(history: readonly HistoryEvent[], name: string): T | undefined {
  const payload = history.find((e) => e.Name === name && e.StepSucceededDetails !== undefined)?.StepSucceededDetails?.Result?.Payload;
  return payload === undefined ? undefined : (JSON.parse(payload) as T);
}

/**
 * `ctx` watched: the checkpoints the runbook makes through it, in order: each step and
 * wait-for-condition by its name, each durable wait as `${name} (wait ${seconds} s)`. Only the named
 * forms are watched (step(name, fn, config), wait(name, duration), waitForCondition(name, check,
 * config)), as the runbooks make them. A step `answer` gives a result for (anything but undefined) is
 * not run: that result is returned instead (a rejected promise: its error is thrown).
 */
export function watchSteps(
  ctx: DurableContext,
  answer: (step: string) => unknown = () => undefined,
  /** Told each delay a wait-for-condition's strategy asks for after a check it ran (a replay runs none). */
  onDelay: (name: string, seconds: number) => void = () => {},
): { ctx: DurableContext; checkpoints: string[] } {
  const checkpoints: string[] = [];
  const watched = new Proxy(ctx, {
    get(target, prop) {
      if (prop === 'step') {
        return (name: string, fn: StepFunc<unknown>, config?: StepConfig<unknown>) => {
          checkpoints.push(name);
          const given = answer(name);
          return given !== undefined ? Promise.resolve(given) : target.step(name, fn, config);
        };
      }
      if (prop === 'wait') {
        return (name: string, duration: Duration) => {
          checkpoints.push(`${name} (wait ${duration.seconds ?? 0} s)`);
          return target.wait(name, duration);
        };
      }
      if (prop === 'waitForCondition') {
        return (name: string, check: WaitForConditionCheckFunc<unknown>, config: WaitForConditionConfig<unknown>) => {
          checkpoints.push(name);
          const waitStrategy: WaitForConditionConfig<unknown>['waitStrategy'] = (state, attempt) => {
            const d = config.waitStrategy(state, attempt);
            if (d.shouldContinue) onDelay(name, d.delay.seconds ?? 0);
            return d;
          };
          return target.waitForCondition(name, check, { ...config, waitStrategy });
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ctx: watched, checkpoints };
}

/** A Progress that keeps every report. */
function reporter(): { reports: Reports; progress: Progress } {
  const reports: Reports = [];
  return {
    reports,
    progress: {
      report: async (done, total, label) => {
        reports.push([done, total, label]);
      },
    },
  };
}

/**
 * The durable SDK's local runner for the calling file, with time skipped and AWS retry waits not
 * slept (beforeAll), put back afterwards (afterAll). Call at the top of a test file.
 */
export function useLocalRunner(): void {
  beforeAll(async () => {
    await LocalRunEngine.setup({ skipTime: true });
    setRetryWait(async () => {});
  });
  afterAll(async () => {
    setRetryWait(undefined);
    await LocalRunEngine.teardown();
  });
}

/**
 * One runbook on its own against moto, without the local stack (Bolt, Slack stand-in, state table):
 * its plan called directly, its execute as a durable function on the SDK's local runner. For tests
 * cheap enough for `npm run mutate` to run per mutant; the flows through Slack and approval are
 * the e2e and integration files'. Call at the top of a test file.
 */
export function useRunbookRig() {
  const moto = useMoto();
  let config: DrConfig = SANDBOX_CONFIG;
  let store: StateStore | undefined;
  let extra: Partial<RunbookDeps> = {};
  let n = 0;

  useLocalRunner();

  const s3 = (region = 'us-east-1'): S3Client => moto().clients.s3(region);

  /** A new bucket (versioned unless told), added to the config (runbooks refuse any other). */
  async function bucket(over: Omit<Partial<Bucket>, 'name'> & { versioned?: boolean } = {}): Promise<string> {
    const { versioned = true, ...entry } = over;
    const name = `rig-${++n}`;
    const added: Bucket = { name, ...entry };
    config = { ...config, s3: { ...config.s3, buckets: [...config.s3.buckets, added] } };
    await makeBucket(name, entry.region ?? config.regions.primary, versioned);
    return name;
  }

  /** A bucket the config does not list (a replica). */
  async function makeBucket(name: string, region: string, versioned = true): Promise<void> {
    const c = s3(region);
    await c.send(new CreateBucketCommand({ Bucket: name, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }) }));
    if (versioned) await c.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  }

  /** Changes the config every later deps() holds (e.g. the hosted zone ID moto assigned), for the rest of the file: a test that needs other settings sets them itself. */
  function configure(patch: Partial<DrConfig>): void {
    config = { ...config, ...patch };
  }

  /** Deps besides config, clients and store that every later deps() holds (e.g. `fetchCode` for Lambda's code packages), for the rest of the file. */
  function provide(patch: Partial<Omit<RunbookDeps, 'config' | 'clients' | 'store'>>): void {
    extra = { ...extra, ...patch };
  }

  /**
   * A state table of the file's own in moto's DynamoDB (for runbooks that keep state there, e.g. the
   * failover's), made before the file's tests and held by every deps() after: the store, for the
   * tests to read and write. Without it a runbook's store call fails (the runbook sees the error).
   */
  function useStateTable(): () => StateStore {
    beforeAll(async () => {
      const ddb = moto().clients.dynamodb('us-east-1');
      const name = `drbot-rig-state-${++n}`;
      await StateStore.createTable(ddb, name);
      store = new StateStore(ddb, name);
    });
    return () => {
      if (!store) throw new Error('useStateTable(): the table is made in beforeAll; read the store inside a test or hook');
      return store;
    };
  }

  /** The runbook's deps: AWS is moto; a Slack call, or a state store call (unless useStateTable), fails as the runbook makes it. */
  function deps(): RunbookDeps {
    const refuse = (what: string) => () => Promise.reject(new Error(`the runbook ${what}`));
    const slack: SlackPoster = { post: refuse('posted to Slack'), update: refuse('updated Slack'), ephemeral: refuse('posted to Slack'), removeCopies: refuse('deleted from Slack') };
    const nowhere = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    return { config, clients: moto().clients, store: store ?? new StateStore(nowhere, 'none'), slack, now: () => new Date(), ...extra };
  }

  /** Executes `plan` as a durable function on the local runner; its outcome and the progress it reported. */
  async function execute<I extends AnyRunInput, P>(rb: Runbook<I, P>, input: I, plan: P): Promise<Outcome & { reports: Reports }> {
    const { reports, progress } = reporter();
    // the input as the runner hands it over (serialized, as on Lambda), not the test's own object
    const outcome = await durable((ctx, d, x) => rb.execute(ctx, d, x as I, plan, progress), input);
    return { ...outcome, reports };
  }

  /**
   * As execute(), also naming the run's checkpoints in order (see watchSteps: its steps, and its
   * durable waits with their length, the local runner skipping their time) and keeping the
   * execution's history; a step `answer` gives a result for is not run. Each invocation replays the
   * run from its start: the checkpoints are the last one's, which names every checkpoint. `delays`:
   * each wait-for-condition's delays after its checks, in order, over every invocation.
   */
  async function executeWatched<I extends AnyRunInput, P>(
    rb: Runbook<I, P>,
    input: I,
    plan: P,
    /** A step's result given instead of running it (undefined: run it). */
    answer?: (step: string) => unknown,
  ): Promise<Outcome & { reports: Reports; checkpoints: string[]; delays: Record<string, number[]>; history: HistoryEvent[] }> {
    const { reports, progress } = reporter();
    let checkpoints: string[] = [];
    const delays: Record<string, number[]> = {};
    const r = await ended((ctx, d, x) => {
      const watched = watchSteps(ctx, answer, (name, seconds) => (delays[name] ??= []).push(seconds));
      checkpoints = watched.checkpoints;
      return rb.execute(watched.ctx, d, x as I, plan, progress);
    }, input);
    return { ...succeeded(how<Outcome>(r)), reports, checkpoints, delays, history: r.getHistoryEvents() };
  }

  /** Runs `fn` as a durable function on a local runner of its own, with the rig's deps, until it ends: the SDK's result. */
  async function ended(fn: (ctx: DurableContext, d: RunbookDeps, x: AnyRunInput) => Promise<unknown>, input?: AnyRunInput): Promise<TestResult<unknown>> {
    const d = deps();
    const engine = new LocalRunEngine(withDurableExecution(async (x: AnyRunInput, ctx: DurableContext) => fn(ctx, d, x)));
    const name = `rig-${input?.runId ?? 'part'}-${++n}`;
    await engine.start(name, input ?? { kind: 'rig', runId: name, requester: 'URIG', channel: 'C0RIG', commandText: '(a runbook part)', requestedAt: new Date().toISOString() });
    await engine.idle(5);
    const r = engine.result(name);
    if (!r) throw new Error('the execution did not end');
    return r;
  }

  /** How an execution ended: its status, and its result or error. */
  function how<T>(r: TestResult<unknown>): { status: string; error?: string; result?: T } {
    const status = String(r.getStatus());
    return status === 'SUCCEEDED' ? { status, result: r.getResult() as T } : { status, error: r.getError()?.errorMessage ?? '' };
  }

  /** The result of an execution that must have succeeded. */
  function succeeded<T>(r: { status: string; error?: string; result?: T }): T {
    // the execution's own error, if any, shows in the failure
    expect({ status: r.status, error: r.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    return r.result as T;
  }

  /**
   * Runs `fn` as a durable function on the local runner (a part of a runbook that needs a durable
   * context: steps, waits), with the rig's deps and the input the runner passes; how it ended.
   */
  async function run<T>(fn: (ctx: DurableContext, d: RunbookDeps, x: AnyRunInput) => Promise<T>, input?: AnyRunInput): Promise<{ status: string; error?: string; result?: T }> {
    return how<T>(await ended(fn, input));
  }

  /** As run(), for a part that must succeed: what it returned, as the SDK checkpoints it. */
  async function durable<T>(fn: (ctx: DurableContext, d: RunbookDeps, x: AnyRunInput) => Promise<T>, input?: AnyRunInput): Promise<T> {
    return succeeded(await run(fn, input));
  }

  return { moto: (): MotoContext => moto(), s3, bucket, makeBucket, configure, provide, useStateTable, deps, execute, executeWatched, run, durable };
}
