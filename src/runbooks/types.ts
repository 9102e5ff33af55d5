import type { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';
import type { SlackPoster } from '../slack/poster';
import type { StateStore } from '../store/state';

interface RunBase {
  runId: string;
  requester: string;
  channel: string;
  commandText: string;
  requestedAt: string;
  /** Post the run's message as a reply in this thread (runs started from an alarm message). */
  threadTs?: string;
}

/** What the Slack edge hands a runbook: JSON only (it crosses an async Lambda invoke). */
export type RunInput = RunBase &
  (
    | { kind: 'status' }
    | { kind: 'restore-s3-undelete'; bucket: string; prefix?: string; since?: string; dryRun: boolean }
    | { kind: 'restore-s3-replica'; bucket: string; prefix?: string; dryRun: boolean }
    | { kind: 'backup-dynamodb'; tables: string[]; dryRun: boolean }
    | { kind: 'check-replication'; bucket: string }
  );

export type RunKind = RunInput['kind'];

/** What an approver's click sends into the waiting run. */
export interface ApprovalPayload {
  approvers: string[];
  decidedAt: string;
}

/** Starts runs and delivers approval decisions: Lambda durable functions in AWS, the local runner here. */
export interface RunEngine {
  /** Starts a run under an execution name; the same name again starts nothing. */
  start(executionName: string, input: RunInput): Promise<'started' | 'duplicate'>;
  approve(callbackId: string, payload: ApprovalPayload): Promise<void>;
  reject(callbackId: string, reason: string): Promise<void>;
}

export interface RunbookDeps {
  config: DrConfig;
  clients: AwsClients;
  store: StateStore;
  slack: SlackPoster;
  now: () => Date;
  /** Minimum milliseconds between progress updates of a message (Slack rate limits). */
  progressIntervalMs?: number;
}

/** The execution name for a Slack request: stable across Slack retries and double submits. */
export function executionName(kind: RunKind, requestKey: string): string {
  const safe = requestKey.replace(/[^A-Za-z0-9_-]/g, '').slice(-40);
  return `dr-${kind}-${safe}`.slice(0, 64);
}
