import { AsyncLocalStorage } from 'node:async_hooks';
import type { Log } from './deps';

/**
 * Work a listener does after `ack()` that the requester does not wait for: the audit write, an
 * error message sent through the Web API. On Lambda, `AwsLambdaReceiver` answers Slack only when
 * the listener returns, so everything awaited after the ack counts toward Slack's 3 seconds (a
 * DynamoDB retry, a Web API call with its timeouts and retries). Registered with afterAck(), it
 * starts at once and the listener returns; the edge then waits for it only as long as the budget
 * allows before returning the HTTP response.
 *
 * Past the budget the work continues in the background: in a long-lived process it completes; on
 * Lambda it resumes when the instance is next invoked, and is lost if the instance is retired
 * meanwhile (logged as `post-ack work unfinished`). The budget is therefore generous for the
 * normal case (a DynamoDB write takes milliseconds) and only cuts off the pathological one.
 */
export class AckTail {
  private readonly pending = new Map<number, { name: string; done: Promise<void> }>();
  private next = 0;

  constructor(private readonly log: Log) {}

  /** Starts `work` now; its failure is logged, never thrown into the request. */
  defer(name: string, work: () => Promise<unknown>): void {
    const id = this.next++;
    const started = Date.now();
    const done = Promise.resolve()
      .then(work)
      .then(
        () => undefined,
        (e: unknown) => this.log.warn('post-ack work failed', { work: name, error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => {
        this.pending.delete(id);
        const ms = Date.now() - started;
        if (ms > 1000) this.log.info('post-ack work finished late', { work: name, ms });
      });
    this.pending.set(id, { name, done });
  }

  /** Names of the work not finished yet. */
  unfinished(): string[] {
    return [...this.pending.values()].map((p) => p.name);
  }

  /** Waits until every deferred piece of work is done, or `budgetMs` passed; returns what is still running. */
  async settle(budgetMs: number): Promise<string[]> {
    if (this.pending.size === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, budgetMs));
    });
    // Work deferred while settling (a tail that defers more) is waited for too, within the budget.
    const all = async (): Promise<void> => {
      while (this.pending.size > 0) await Promise.all([...this.pending.values()].map((p) => p.done));
    };
    await Promise.race([all(), timeout]);
    clearTimeout(timer);
    const left = this.unfinished();
    if (left.length) this.log.warn('post-ack work unfinished when the response was sent', { work: left, budgetMs });
    return left;
  }
}

const current = new AsyncLocalStorage<AckTail>();

/** Runs one request's handling with `tail` collecting its post-ack work. */
export function withAckTail<T>(tail: AckTail, fn: () => Promise<T>): Promise<T> {
  return current.run(tail, fn);
}

/**
 * Work after the ack. Inside a request the edge handles (withAckTail), it is deferred and this
 * resolves at once; elsewhere (a listener called directly) it is awaited here, as plain code would.
 */
export async function afterAck(name: string, work: () => Promise<unknown>): Promise<void> {
  const tail = current.getStore();
  if (tail) tail.defer(name, work);
  else await work();
}

/** How long the edge waits for post-ack work at most, and the point after a request's arrival it never waits past. */
export const ACK_TAIL_BUDGET_MS = 400;
export const ACK_DEADLINE_MS = 2500;

/** The wait for a request that arrived `elapsedMs` ago: the budget, but never past the deadline. */
export function tailBudget(elapsedMs: number, budgetMs = ACK_TAIL_BUDGET_MS, deadlineMs = ACK_DEADLINE_MS): number {
  return Math.max(0, Math.min(budgetMs, deadlineMs - elapsedMs));
}
