/** Sleeps for real: what drbot does between tries everywhere it runs (Lambda, npm start). */
const realWait = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

let current: (ms: number) => Promise<void> = realWait;

/**
 * Waits before AWS is tried again after throttling or a 5xx (in-step retries of the runbooks, the
 * S3 and DynamoDB batch retries). Real time, unless a local stack was started with `retryWait`
 * (tests: the waits are recorded instead of slept, so a throttling fault costs no real seconds and
 * the waits it caused stay assertable).
 */
export function retryWait(ms: number): Promise<void> {
  return current(ms);
}

/** Sets how retryWait waits (undefined: real time again). One per process: the local stack calls it. */
export function setRetryWait(wait: ((ms: number) => Promise<void>) | undefined): void {
  current = wait ?? realWait;
}
