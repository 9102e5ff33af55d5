import { DrbotError, isErrorLike } from '../../errors';

/**
 * Calls to a region that may be down (the failed primary): each gets a short deadline and its
 * failure comes back as "unreachable" with the reason, never as an error that holds or fails the
 * run. A failover never needs the failed region to answer; what it learns from it is a bonus.
 */

/** How long a call to a possibly failed region may take, retries included. */
export const REACH_TIMEOUT_MS = 3_000;

export type Reached<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The SDK's options for one call: an abort signal ends the call and its retries at the deadline. */
export type CallOptions = { abortSignal: AbortSignal };

/**
 * Runs `fn` with an abort signal that fires after `ms`; a failure or the deadline is `ok: false`
 * with a short reason. `fn` passes the options to every `client.send(command, options)` it makes.
 */
export async function reach<T>(fn: (opts: CallOptions) => Promise<T>, ms = REACH_TIMEOUT_MS): Promise<Reached<T>> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { name: 'TimeoutError' }));
    }, ms);
  });
  try {
    return { ok: true, value: await Promise.race([fn({ abortSignal: controller.signal as CallOptions['abortSignal'] }), deadline]) };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function reasonOf(e: unknown): string {
  if (!isErrorLike(e)) return String(e).slice(0, 200);
  const code = (e as { code?: unknown; Code?: unknown }).Code ?? (e as { code?: unknown }).code;
  const name = e.name === 'Error' && typeof code === 'string' ? code : e.name;
  // drbot's own errors already say which call failed on what: their class name would be noise to the approver.
  const text = e instanceof DrbotError ? e.message : `${name}: ${e.message}`;
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
