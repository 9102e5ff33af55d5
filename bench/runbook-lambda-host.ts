/**
 * Starts the scale bench's runbook Lambda (bench/runbook-lambda.ts, bundled) in a process of its
 * own and hands the local runner a handler that invokes it: the runbook's memory is then measured
 * alone, as Lambda's "Max Memory Used" would be, apart from the Bolt app, the Slack stand-in and the
 * local runner that stay in the bench's process.
 */
import type { DurableExecutionClient, DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { type ChildProcess, fork } from 'node:child_process';
import type { DrConfig } from '../src/config/schema';
import { type FromHost, fromWire, type ToHost, toWire } from './runbook-lambda-protocol';

/**
 * The V8 heap limits AWS Lambda's Node.js runtime gives a function of 256 MB, the target's size: its
 * bootstrap takes a tenth of the memory for the new space (half of it a semi-space) and the rest for
 * the old space (`--max-semi-space-size=$((MEM/10/2)) --max-old-space-size=$((MEM - MEM/10))`, in
 * /var/runtime/bootstrap of the Lambda Node.js base images), and passes `--expose-gc`. Without them
 * V8 sizes its heap for this machine's memory and lets garbage stand far longer than a 256 MB
 * function would.
 */
export const LAMBDA_256MB_V8_FLAGS = ['--max-semi-space-size=12', '--max-old-space-size=231', '--expose-gc'] as const;

/**
 * The runbook function's NODE_OPTIONS in template.yaml (Globals → Function → Environment). Source
 * maps cost memory: Node reads the bundle's map when it loads the bundle. bench/scale.ts checks the
 * template still says so.
 */
export const RUNBOOK_NODE_OPTIONS = ['--enable-source-maps'] as const;

export interface MemoryReading {
  /** Resident set now (VmRSS), MiB. */
  rssMiB: number;
  /** The process's peak resident set since it started (VmHWM), MiB: what Lambda reports as Max Memory Used. */
  peakMiB: number;
}

export interface RunbookLambda {
  /** What the local runner invokes: forwards each invocation to the Lambda process. */
  handler: DurableLambdaHandler;
  /** Its memory once the bundle was loaded and the handler built. */
  loaded: MemoryReading;
  memory(): Promise<MemoryReading>;
  stop(): void;
}

export interface RunbookLambdaEnv {
  /** The AWS endpoint (moto, or the S3 model in front of it). */
  endpoint: string;
  /** The Slack stand-in's Web API base. */
  slackApiUrl: string;
  /** The state table the local stack keeps its runs in. */
  table: string;
  config: DrConfig;
}

/** The plain fields of a Lambda context (its functions do not cross a process). */
function plainFields(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function'));
}

/** Forks `bundle` (built from bench/runbook-lambda.ts) and waits until it has loaded. */
export async function startRunbookLambda(bundle: string, env: RunbookLambdaEnv): Promise<RunbookLambda> {
  const child: ChildProcess = fork(bundle, [], {
    execArgv: [...LAMBDA_256MB_V8_FLAGS, ...RUNBOOK_NODE_OPTIONS],
    // Operations carry Dates: structured clone keeps them.
    serialization: 'advanced',
    // Its logs (Powertools, to stdout) are not the bench's output; its errors are.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'WARN', RUNBOOK_LAMBDA: JSON.stringify(env) },
  });
  let nextId = 0;
  let gone: Error | undefined;
  const invocations = new Map<number, { client: DurableExecutionClient; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const readings = new Map<number, { resolve: (m: MemoryReading) => void; reject: (e: Error) => void }>();
  // A send after the child died is dropped: its exit has already failed what was waiting on it.
  const send = (m: FromHost) => {
    if (!gone && child.connected) child.send(m, (e) => e && fail(e));
  };
  const fail = (e: Error) => {
    gone ??= e;
    for (const waiting of [...invocations.values(), ...readings.values()]) waiting.reject(gone);
    invocations.clear();
    readings.clear();
  };
  // Without a listener a failed spawn or a closed channel would crash the host with the wrong error.
  child.on('error', fail);

  const loaded = await new Promise<MemoryReading>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the runbook Lambda process exited (code ${code}) before it loaded`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (m: ToHost) => {
      child.off('exit', onExit);
      child.off('error', reject);
      if (m.t === 'ready') resolve({ rssMiB: m.rssMiB, peakMiB: m.peakMiB });
      else reject(new Error(`the runbook Lambda process said ${m.t} before it was ready`));
    });
  });

  child.on('exit', (code, signal) => fail(new Error(`the runbook Lambda process exited (${signal ?? `code ${code}`})`)));
  child.on('message', (m: ToHost) => {
    if (m.t === 'done') {
      const inv = invocations.get(m.id);
      invocations.delete(m.id);
      if (m.ok) inv?.resolve(m.value);
      else inv?.reject(fromWire(m.error));
    } else if (m.t === 'call') {
      const inv = invocations.get(m.inv);
      if (!inv) {
        send({ t: 'answer', id: m.id, ok: false, error: { name: 'Error', message: `no invocation ${m.inv} in progress` } });
        return;
      }
      // The params are the SDK's own request objects, as the Lambda API would receive them.
      const params = m.params as Parameters<DurableExecutionClient['checkpoint']>[0] & Parameters<DurableExecutionClient['getExecutionState']>[0];
      const answer = m.api === 'checkpoint' ? inv.client.checkpoint(params) : inv.client.getExecutionState(params);
      answer.then(
        (value) => send({ t: 'answer', id: m.id, ok: true, value }),
        (e: unknown) => send({ t: 'answer', id: m.id, ok: false, error: toWire(e) }),
      );
    } else if (m.t === 'memory') {
      readings.get(m.id)?.resolve({ rssMiB: m.rssMiB, peakMiB: m.peakMiB });
      readings.delete(m.id);
    }
  });

  const handler: DurableLambdaHandler = (event, context) => {
    if (gone) return Promise.reject(gone);
    const client = (event as { durableExecutionClient?: DurableExecutionClient }).durableExecutionClient;
    if (!client) return Promise.reject(new Error('the local runner invoked the runbook without its checkpoint client'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      invocations.set(id, { client, resolve: resolve as (v: unknown) => void, reject });
      send({
        t: 'invoke',
        id,
        event: { DurableExecutionArn: event.DurableExecutionArn, CheckpointToken: event.CheckpointToken, InitialExecutionState: event.InitialExecutionState },
        context: plainFields(context),
        remainingMs: context.getRemainingTimeInMillis(),
      });
    });
  };

  return {
    handler,
    loaded,
    memory() {
      if (gone) return Promise.reject(gone);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        readings.set(id, { resolve, reject });
        send({ t: 'memory', id });
      });
    },
    stop() {
      child.kill();
    },
  };
}
