import { newId } from '../store/state';
import type { ArgValues } from './args';
import { type AnyRunInput, executionName, type RunEngine } from './types';
import type { Verb } from './verb';

export interface StartRequest {
  verb: Verb;
  /** Arguments already bound and checked against the verb's schema (catalogue.bind). */
  args: ArgValues;
  requester: string;
  channel: string;
  /** What the audit and the run message show as the request. */
  commandText: string;
  /** Stable across retries of the same request (Slack's trigger_id, a button click's id): names the execution. */
  requestKey: string;
  /** Post the run's message in this thread (runs started from an alarm message). */
  threadTs?: string;
  /** Started from a next-step button: the run it continues and the message it takes over. */
  continues?: { runId: string; channel: string; ts: string };
}

/**
 * Starts a verb's run: its input from the verb, the request's fields, and an execution name derived
 * from the request key, so a retried request starts nothing new. The same path serves slash
 * commands and alarm buttons.
 */
export async function startRun(engine: RunEngine, now: () => Date, req: StartRequest): Promise<{ status: 'started' | 'duplicate'; input: AnyRunInput }> {
  const input: AnyRunInput = {
    ...req.verb.input(req.args),
    runId: newId('r'),
    requester: req.requester,
    channel: req.channel,
    commandText: req.commandText,
    requestedAt: now().toISOString(),
    ...(req.threadTs ? { threadTs: req.threadTs } : {}),
    ...(req.continues ? { continues: req.continues } : {}),
    kind: req.verb.id,
  };
  const status = await engine.start(executionName(req.verb.id, req.requestKey), input);
  return { status, input };
}
