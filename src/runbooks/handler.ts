import { type DurableContext, type DurableLambdaHandler, withDurableExecution } from '@aws/durable-execution-sdk-js';
import { backupRunbook } from './backup-dynamodb';
import { checkReplicationRunbook } from './check-replication';
import { drive, type RunSummary } from './driver';
import { replicaRunbook } from './restore-replica';
import { undeleteRunbook } from './restore-s3';
import { statusRunbook } from './status.runbook';
import { once } from '../runtime/secrets';
import type { RunbookDeps, RunInput } from './types';

/** Dispatches a run to its runbook. One handler serves Lambda and the local runner. */
export function runRunbook(ctx: DurableContext, deps: RunbookDeps, input: RunInput): Promise<RunSummary> {
  switch (input.kind) {
    case 'status':
      return drive(ctx, deps, input, statusRunbook);
    case 'restore-s3-undelete':
      return drive(ctx, deps, input, undeleteRunbook);
    case 'restore-s3-replica':
      return drive(ctx, deps, input, replicaRunbook);
    case 'backup-dynamodb':
      return drive(ctx, deps, input, backupRunbook);
    case 'check-replication':
      return drive(ctx, deps, input, checkReplicationRunbook);
  }
}

/** The durable handler, with its dependencies built once (per cold start, or per local runtime). */
export function createRunbookHandler(deps: RunbookDeps | (() => Promise<RunbookDeps>)): DurableLambdaHandler {
  // once(): a failed cold start (Secrets Manager briefly unavailable) is retried by the next run.
  const get = once(typeof deps === 'function' ? deps : async () => deps);
  return withDurableExecution(async (input: RunInput, ctx: DurableContext) => runRunbook(ctx, await get(), input));
}
