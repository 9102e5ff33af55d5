/** The messages between the scale bench's runbook Lambda (bench/runbook-lambda.ts) and its host (bench/runbook-lambda-host.ts). */
import type { DurableExecutionInvocationInput } from '@aws/durable-execution-sdk-js';

/** What Lambda's invoke carries to a durable function (the client to the service stays with the host). */
export type InvokeEvent = Pick<DurableExecutionInvocationInput, 'DurableExecutionArn' | 'CheckpointToken' | 'InitialExecutionState'>;

export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** An error as it crosses the channel (name, message and stack; the rest stays behind). */
export function toWire(e: unknown): WireError {
  return e instanceof Error ? { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } : { name: 'Error', message: String(e) };
}

export function fromWire(w: WireError): Error {
  const err = new Error(w.message);
  err.name = w.name;
  if (w.stack) err.stack = w.stack;
  return err;
}

/** Host → Lambda: an invocation, the answer to a durable-service call, a memory reading wanted. */
export type FromHost =
  | { t: 'invoke'; id: number; event: InvokeEvent; context: Record<string, unknown>; remainingMs: number }
  | { t: 'answer'; id: number; ok: true; value: unknown }
  | { t: 'answer'; id: number; ok: false; error: WireError }
  | { t: 'memory'; id: number };

/** Lambda → host: loaded, an invocation's end, a durable-service call, a memory reading. */
export type ToHost =
  | { t: 'ready'; rssMiB: number; peakMiB: number }
  | { t: 'done'; id: number; ok: true; value: unknown }
  | { t: 'done'; id: number; ok: false; error: WireError }
  | { t: 'call'; id: number; inv: number; api: 'getExecutionState' | 'checkpoint'; params: unknown }
  | { t: 'memory'; id: number; rssMiB: number; peakMiB: number };
