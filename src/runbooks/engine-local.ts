import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { type DurableOperation, LocalDurableTestRunner, type TestResult } from '@aws/durable-execution-sdk-js-testing';
import { APPROVAL_OPERATION } from './driver';
import type { ApprovalPayload, RunEngine, AnyRunInput } from './types';

interface LocalRun {
  name: string;
  input: AnyRunInput;
  runner: LocalDurableTestRunner;
  result?: TestResult<unknown>;
  settled: boolean;
  /** An approval decision was sent; the run is working again until it settles. */
  resumed: boolean;
}

/**
 * Runs runbooks in this process on the durable SDK's local runner — the same handler code as on
 * Lambda. Used by `npm start` and the tests. Approvals go in through the callback operation, the
 * local equivalent of SendDurableExecutionCallbackSuccess/Failure.
 */
export class LocalRunEngine implements RunEngine {
  private readonly runs = new Map<string, LocalRun>();

  constructor(
    private readonly handler: DurableLambdaHandler,
    private readonly onSettled: (run: { name: string; input: AnyRunInput; status: string; error?: string }) => void = () => {},
  ) {}

  /** Once per process: with skipTime false, durable waits take real time. */
  static setup(opts: { skipTime: boolean }): Promise<void> {
    return LocalDurableTestRunner.setupTestEnvironment({ skipTime: opts.skipTime });
  }

  static teardown(): Promise<void> {
    return LocalDurableTestRunner.teardownTestEnvironment();
  }

  async start(executionName: string, input: AnyRunInput): Promise<'started' | 'duplicate'> {
    if (this.runs.has(executionName)) return 'duplicate';
    const runner = new LocalDurableTestRunner({ handlerFunction: this.handler });
    const run: LocalRun = { name: executionName, input, runner, settled: false, resumed: false };
    this.runs.set(executionName, run);
    void runner
      .run({ payload: input })
      .then((result) => {
        run.result = result;
        const status = String(result.getStatus());
        const err = status === 'SUCCEEDED' ? undefined : result.getError();
        this.onSettled({ name: executionName, input, status, ...(err ? { error: err.errorMessage ?? '' } : {}) });
      })
      .catch((e: unknown) => {
        this.onSettled({ name: executionName, input, status: 'FAILED', error: String(e) });
      })
      .finally(() => {
        run.settled = true;
      });
    return 'started';
  }

  private approvalOp(run: LocalRun): DurableOperation | undefined {
    try {
      const op = run.runner.getOperation(APPROVAL_OPERATION);
      return op.getOperationData() ? op : undefined;
    } catch {
      return undefined;
    }
  }

  private findByCallback(callbackId: string): { run: LocalRun; op: DurableOperation } {
    for (const run of this.runs.values()) {
      if (run.settled) continue;
      const op = this.approvalOp(run);
      if (op?.getCallbackDetails()?.callbackId === callbackId) return { run, op };
    }
    throw Object.assign(new Error('no run is waiting on that callback'), { name: 'ResourceNotFoundException' });
  }

  async approve(callbackId: string, payload: ApprovalPayload): Promise<void> {
    const { run, op } = this.findByCallback(callbackId);
    run.resumed = true;
    await op.sendCallbackSuccess(JSON.stringify(payload));
  }

  async reject(callbackId: string, reason: string): Promise<void> {
    const { run, op } = this.findByCallback(callbackId);
    run.resumed = true;
    await op.sendCallbackFailure({ ErrorType: 'Rejected', ErrorMessage: reason });
  }

  /** True when the run has posted its approval request and is parked waiting for a click. */
  private parked(run: LocalRun): boolean {
    if (run.resumed) return false;
    const op = this.approvalOp(run);
    if (!op || op.getStatus() !== 'STARTED') return false;
    const children = op.getChildOperations() ?? [];
    const callback = children.find((c) => c.getType() === 'CALLBACK');
    const submitter = children.find((c) => c.getType() === 'STEP');
    return callback?.getStatus() === 'STARTED' && submitter?.getStatus() === 'SUCCEEDED';
  }

  /** Runs that are neither finished nor parked at an approval. */
  busy(): string[] {
    return [...this.runs.values()].filter((r) => !r.settled && !this.parked(r)).map((r) => r.name);
  }

  /** Runs parked at an approval: what is lost if the process ends now. */
  waiting(): AnyRunInput[] {
    return [...this.runs.values()].filter((r) => !r.settled && this.parked(r)).map((r) => r.input);
  }

  /** Resolves once every run is done, failed, or waiting for an approval. */
  async idle(pollMs = 25, timeoutMs = 15 * 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.busy().length > 0) {
      if (Date.now() > deadline) throw new Error(`runs still busy after ${timeoutMs} ms: ${this.busy().join(', ')}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Finished results, for tests: execution name -> result. */
  result(executionName: string): TestResult<unknown> | undefined {
    return this.runs.get(executionName)?.result;
  }

  names(): string[] {
    return [...this.runs.keys()];
  }
}
