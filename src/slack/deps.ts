import type { RoleResolver } from '../approvals/roles';
import type { DrConfig } from '../config/schema';
import type { Catalogue } from '../runbooks/catalogue';
import type { RunEngine } from '../runbooks/types';
import type { StateStore } from '../store/state';
import type { SlackPoster } from './poster';
import type { AlarmSimulation } from './inline';

/** A structured logger: never pass tokens, signatures or response_urls. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** What an alarm message's buttons do (src/alarms); absent until alarms are wired. */
export interface AlarmActions {
  acknowledge(threadId: string, user: string): Promise<void>;
  checkReplication(threadId: string, user: string, requestKey: string): Promise<void>;
  restoreFromReplica(threadId: string, user: string, requestKey: string): Promise<void>;
  runBackup(threadId: string, user: string, requestKey: string): Promise<void>;
  viewLogs(threadId: string, user: string): Promise<void>;
  viewRun(threadId: string, user: string): Promise<void>;
}

/** True when the config names the workspace drbot serves and a request comes from another one. */
export function wrongTeam(deps: Pick<SlackDeps, 'config'>, teamId: string | undefined): boolean {
  const mine = deps.config.slack.teamId;
  return mine !== undefined && teamId !== mine;
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
  /** The commands this bot knows; drbot's own catalogue unless a test or an extension hands in another. */
  catalogue?: Catalogue;
  /** Present only in the sandbox: delivers a simulated alarm the way SNS would. */
  simulate?: (kind: AlarmSimulation, user: string) => Promise<void>;
  /** Present only in the sandbox: overwrites and deletes some items of a table, and says so in the channel. */
  corrupt?: (table: string, user: string, channel: string) => Promise<void>;
  /** Present only in the sandbox: leaks a key of IAM user spawn-user (activity, instances), and says so in the channel. */
  compromise?: (user: string, channel: string) => Promise<void>;
  /** Present only in the sandbox: takes a region down (or brings it back), and says so in the channel. */
  outage?: (region: string, end: boolean, user: string, channel: string) => Promise<void>;
}
