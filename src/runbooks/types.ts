import type { AwsClients } from '../aws/clients';
import type { CodeFetcher } from '../aws/lambda';
import type { DrConfig } from '../config/schema';
import type { SlackPoster } from '../slack/poster';
import type { StateStore } from '../store/state';
import type { AnyRunInput } from './verb';

export type { AnyRunInput, RunBase } from './verb';
export type { RunInput } from './catalogue';

/** What an approver's click sends into the waiting run. */
export interface ApprovalPayload {
  approvers: string[];
  decidedAt: string;
}

/** Starts runs and delivers approval decisions: Lambda durable functions in AWS, the local runner here. */
export interface RunEngine {
  /** Starts a run under an execution name; the same name again starts nothing. */
  start(executionName: string, input: AnyRunInput): Promise<'started' | 'duplicate'>;
  approve(callbackId: string, payload: ApprovalPayload): Promise<void>;
  reject(callbackId: string, reason: string): Promise<void>;
}

export interface RunbookDeps {
  config: DrConfig;
  clients: AwsClients;
  store: StateStore;
  slack: SlackPoster;
  now: () => Date;
  /** Downloads Lambda code packages (default: HTTPS from GetFunction's presigned location). */
  fetchCode?: CodeFetcher;
  /** Where runs execute, recorded on each run: `lambda`, or `local:<host>:<pid>` (see runs/interrupted.ts). */
  runner?: string;
  /** Minimum milliseconds between progress updates of a message (Slack rate limits). */
  progressIntervalMs?: number;
  /**
   * Tests only: how long a run waits for its approval, in seconds, instead of
   * `approvals.expiresMinutes` (the shortest the config allows, a minute, would pass on real timers:
   * the local runner keeps callback timeouts off its skipped clock).
   */
  approvalWaitSeconds?: number;
}

/** The execution name for a Slack request: stable across Slack retries and double submits. */
export function executionName(kind: string, requestKey: string): string {
  const safe = requestKey.replace(/[^A-Za-z0-9_-]/g, '').slice(-40);
  return `dr-${kind}-${safe}`.slice(0, 64);
}
