import type { RoleResolver } from '../approvals/roles';
import type { DrConfig } from '../config/schema';
import type { RunEngine } from '../runbooks/types';
import type { StateStore } from '../store/state';
import type { SlackPoster } from './poster';
import type { AlarmSimulation } from './registry';

/** A structured logger: never pass tokens, signatures or response_urls. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** What an alarm message's buttons do (src/alarms); absent until alarms are wired. */
export interface AlarmActions {
  acknowledge(threadId: string, user: string): Promise<void>;
  checkReplication(threadId: string, user: string): Promise<void>;
  restoreFromReplica(threadId: string, user: string, requestKey: string): Promise<void>;
  runBackup(threadId: string, user: string, requestKey: string): Promise<void>;
  viewLogs(threadId: string, user: string): Promise<void>;
  viewRun(threadId: string, user: string): Promise<void>;
}

/** Everything the Slack listeners need, built once per cold start (or per local runtime). */
export interface SlackDeps {
  config: DrConfig;
  store: StateStore;
  engine: RunEngine;
  roles: RoleResolver;
  slack: SlackPoster;
  now: () => Date;
  log: Log;
  alarms?: AlarmActions;
  /** Present only in the sandbox: delivers a simulated alarm the way SNS would. */
  simulate?: (kind: AlarmSimulation, user: string) => Promise<void>;
}
