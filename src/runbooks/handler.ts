import { type DurableContext, type DurableLambdaHandler, withDurableExecution } from '@aws/durable-execution-sdk-js';
import { once } from '../runtime/secrets';
import { CATALOGUE, type Catalogue } from './catalogue';
import { drive, type Runbook, type RunSummary } from './driver';
import type { AnyRunInput, RunbookDeps } from './types';
import type { RunbookExport } from './verb';

function isRunbookExport(v: unknown): v is RunbookExport<AnyRunInput> {
  if (typeof v === 'function') return true;
  const r = v as Partial<Runbook<AnyRunInput, unknown>> | undefined;
  return typeof r?.plan === 'function' && typeof r.execute === 'function' && typeof r.title === 'function';
}

/**
 * A verb's runbook: held by the catalogue, or `export const runbook` of src/runbooks/<id>/runbook.ts.
 * The id comes from the catalogue, never from the run's input, so no input names a file. The
 * Slack function never calls this, so its bundle carries no runbook code.
 */
export async function loadRunbook(catalogue: Catalogue, id: string): Promise<RunbookExport<AnyRunInput>> {
  const held = catalogue.runbooks[id];
  if (held) return held;
  if (!catalogue.verb(id)) throw new Error(`no verb ${JSON.stringify(id.slice(0, 64))} in the catalogue`);
  const mod = (await import(`./${id}/runbook.ts`)) as { runbook?: unknown };
  if (!isRunbookExport(mod.runbook)) throw new Error(`src/runbooks/${id}/runbook.ts does not export a runbook`);
  return mod.runbook;
}

/** Dispatches a run to its verb's runbook. One handler serves Lambda and the local runner. */
export async function runRunbook(ctx: DurableContext, deps: RunbookDeps, input: AnyRunInput, catalogue: Catalogue = CATALOGUE): Promise<RunSummary> {
  const exp = await loadRunbook(catalogue, input.kind);
  return drive(ctx, deps, input, typeof exp === 'function' ? exp(input) : exp);
}

/** The durable handler, with its dependencies built once (per cold start, or per local runtime). */
export function createRunbookHandler(deps: RunbookDeps | (() => Promise<RunbookDeps>), catalogue: Catalogue = CATALOGUE): DurableLambdaHandler {
  // once(): a failed cold start (Secrets Manager briefly unavailable) is retried by the next run.
  const get = once(typeof deps === 'function' ? deps : async () => deps);
  return withDurableExecution(async (input: AnyRunInput, ctx: DurableContext) => runRunbook(ctx, await get(), input, catalogue));
}
