/**
 * Concurrency that adapts to throttling, as TCP's congestion window does (AIMD): every call
 * answered at once widens the window by 1/window (about one more call in flight per window of
 * answers), and a throttled one halves it; the answers to the calls already in flight when it
 * halved do not halve it again (a burst of SlowDowns from one overload halves it once, not to the
 * floor).
 *
 * S3 throttles per partitioned prefix (3,500 writes and 5,500 reads a second each), so callers
 * keep one window per prefix (`AdaptiveWindows`).
 */
export interface AdaptiveOptions {
  initial: number;
  min?: number;
  max: number;
}

export class AdaptiveConcurrency {
  private window: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Answers since the last halving, and how many of them are still for calls sent before it (the window then). */
  private sinceDecrease = 0;
  private quietFor = 0;
  private readonly min: number;

  constructor(private readonly opts: AdaptiveOptions) {
    this.min = Math.max(1, opts.min ?? 1);
    this.window = Math.min(opts.max, Math.max(this.min, opts.initial));
  }

  /** How many calls may be in flight now. */
  get limit(): number {
    return Math.floor(this.window);
  }

  get inFlight(): number {
    return this.active;
  }

  /** Runs `task` once a slot is free; the task reports how its calls were answered through `answered`. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A waiting task is woken by pump() with its slot already taken.
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.active--;
      this.pump();
    }
  }

  /** One call's answer: throttled (SlowDown, or retried by the SDK) or not. */
  answered(throttled: boolean): void {
    this.sinceDecrease++;
    if (throttled) {
      // Calls sent before the last halving answer for the old window: they must not halve it again.
      if (this.sinceDecrease >= this.quietFor) {
        this.quietFor = this.limit;
        this.window = Math.max(this.min, this.window / 2);
        this.sinceDecrease = 0;
      }
    } else {
      this.window = Math.min(this.opts.max, this.window + 1 / this.window);
    }
    this.pump();
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.active < this.limit) {
      this.active++;
      this.waiting.shift()?.();
    }
  }
}

/** S3's partition of a key as our windows see it: up to and including its first `/` (the bucket's root otherwise). */
export function partitionOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

/** One adaptive window per prefix. */
export class AdaptiveWindows {
  private readonly windows = new Map<string, AdaptiveConcurrency>();
  constructor(private readonly opts: AdaptiveOptions) {}

  for(prefix: string): AdaptiveConcurrency {
    let w = this.windows.get(prefix);
    if (!w) {
      w = new AdaptiveConcurrency(this.opts);
      this.windows.set(prefix, w);
    }
    return w;
  }
}
