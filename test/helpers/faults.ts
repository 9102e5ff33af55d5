import type { MiddlewareStack } from '@smithy/types';

type Stacked = { middlewareStack: MiddlewareStack<object, object> };
let seq = 0;
/** The undo of every fault and rewrite still in place (see undoFaults). */
const active = new Set<() => void>();

/** Takes off every fault and rewrite still in place: `afterEach(undoFaults)` keeps a failed test's fault from reaching the next. */
export function undoFaults(): void {
  for (const undo of [...active]) undo();
}

function tracked(undo: () => void): () => void {
  const once = () => {
    active.delete(once);
    undo();
  };
  active.add(once);
  return once;
}

/** An error as the SDK throws AWS's refusal: `name`, `message`, a client or server `$fault` and the HTTP status (default 403) in `$metadata`. */
export function sdkError(error: { name: string; message: string; status?: number }): Error {
  const status = error.status ?? 403;
  return Object.assign(new Error(error.message), { name: error.name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

/**
 * Makes calls of one SDK command fail the way AWS refuses them (moto enforces no IAM policy and
 * never throttles), as middleware on the stack's own client. `when` picks which calls (default all);
 * `times` stops after that many failures. An Error given is thrown as it is (an SDK error of an
 * unusual shape); otherwise one like the SDK's is made. Returns the undo.
 */
export function fail(
  client: unknown,
  commandName: string,
  error: { name: string; message: string; status?: number } | Error,
  opts: { when?: (input: Record<string, unknown>) => boolean; times?: number } = {},
): () => void {
  const id = `fault-${commandName}-${++seq}`;
  let left = opts.times ?? Infinity;
  (client as Stacked).middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName && left > 0 && (opts.when?.(args.input as Record<string, unknown>) ?? true)) {
        left--;
        throw error instanceof Error ? error : sdkError(error);
      }
      return next(args);
    },
    { step: 'initialize', name: id },
  );
  return tracked(() => {
    (client as Stacked).middlewareStack.remove(id);
  });
}

/** Rewrites the output of one SDK command (to show a state moto never reaches, e.g. a failed AMI copy). */
export function rewrite<O extends object>(client: unknown, commandName: string, fn: (output: O, input: Record<string, unknown>) => O): () => void {
  const id = `rewrite-${commandName}-${++seq}`;
  (client as Stacked).middlewareStack.add(
    (next, context) => async (args) => {
      const r = await next(args);
      if (context.commandName !== commandName) return r;
      return { ...r, output: fn(r.output as O, args.input as Record<string, unknown>) as object };
    },
    { step: 'initialize', name: id },
  );
  return tracked(() => {
    (client as Stacked).middlewareStack.remove(id);
  });
}

/**
 * Answers one SDK command without sending it, where `answer` gives an output (undefined: send it as
 * usual): a state moto never shows, e.g. a table still DELETING. Returns the undo.
 */
export function stub<O extends object>(client: unknown, commandName: string, answer: (input: Record<string, unknown>) => Omit<O, '$metadata'> | undefined): () => void {
  const id = `stub-${commandName}-${++seq}`;
  (client as Stacked).middlewareStack.add(
    (next, context) => async (args) => {
      const output = context.commandName === commandName ? answer(args.input as Record<string, unknown>) : undefined;
      return output ? { output: { $metadata: {}, ...output }, response: {} } : next(args);
    },
    { step: 'initialize', name: id },
  );
  return tracked(() => {
    (client as Stacked).middlewareStack.remove(id);
  });
}

/**
 * Changes the input of one SDK command before it is sent: a small MaxKeys or Limit, so a listing of
 * a few items comes back in pages and a caller's paging is exercised. Returns the undo.
 */
export function patchInput(client: unknown, commandName: string, patch: Record<string, unknown>): () => void {
  const id = `patch-${commandName}-${++seq}`;
  (client as Stacked).middlewareStack.add(
    (next, context) => async (args) => (context.commandName === commandName ? next({ ...args, input: { ...(args.input as object), ...patch } }) : next(args)),
    { step: 'initialize', name: id },
  );
  return tracked(() => {
    (client as Stacked).middlewareStack.remove(id);
  });
}

/**
 * Counts the tries AWS is sent of one SDK command, the SDK's own retries included (the middleware
 * sits after the retry middleware). Returns the count so far and the undo.
 */
export function countTries(client: unknown, commandName: string): { tries: () => number; undo: () => void } {
  const id = `count-${commandName}-${++seq}`;
  let n = 0;
  (client as Stacked).middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) n++;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: id },
  );
  return {
    tries: () => n,
    undo: tracked(() => {
      (client as Stacked).middlewareStack.remove(id);
    }),
  };
}

export const ACCESS_DENIED = { name: 'AccessDenied', message: 'User is not authorized to perform this action', status: 403 };
export const SERVICE_UNAVAILABLE = { name: 'ServiceUnavailable', message: 'Service Unavailable', status: 503 };
export const THROUGHPUT_EXCEEDED = { name: 'ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.', status: 400 };
