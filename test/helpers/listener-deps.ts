import { RoleResolver } from '../../src/approvals/roles';
import type { DrConfig } from '../../src/config/schema';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { AnyRunInput, ApprovalPayload, RunEngine } from '../../src/runbooks/types';
import type { Log, SlackDeps } from '../../src/slack/deps';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import { type AuditEvent, StateStore } from '../../src/store/state';
import type { DynaliteContext } from './dynalite';

/**
 * The sandbox's people and a group: UALICE operator, UBOB and UDAVE approvers, UCAROL viewer, UEVE
 * nobody; SAPPROVERS, an approver group whose members the test sets (`members`).
 */
export const LISTENER_CONFIG: DrConfig = {
  ...SANDBOX_CONFIG,
  slack: { ...SANDBOX_CONFIG.slack, roles: { ...SANDBOX_CONFIG.slack.roles, approver: [...SANDBOX_CONFIG.slack.roles.approver, 'SAPPROVERS'] } },
};

export const T0 = Date.parse('2026-01-27T12:00:00.000Z');

export type Call =
  | { kind: 'start'; name: string; input: AnyRunInput }
  | { kind: 'approve'; callbackId: string; payload: ApprovalPayload }
  | { kind: 'reject'; callbackId: string; reason: string };

export interface ListenerRig {
  deps: SlackDeps;
  store: StateStore;
  /** What reached the engine, in order. */
  calls: Call[];
  /** What reached Slack, in order. */
  slack: Array<{ kind: 'update' | 'ephemeral' | 'post'; channel: string; ts?: string; user?: string; msg: SlackMessage }>;
  logs: Array<{ level: string; message: string; extra?: Record<string, unknown> }>;
  /** The members of SAPPROVERS, as Slack answers now. */
  members: string[];
  /** Makes the next engine calls of this kind fail with `e` (until set back to undefined). */
  failEngine: Partial<Record<Call['kind'], Error | undefined>>;
  /** Makes the next Slack calls of this kind fail with `e` (until set back to undefined). */
  failSlack: Partial<Record<'update' | 'ephemeral' | 'post', Error | undefined>>;
  /** The group lookups made (one per fresh or expired read of SAPPROVERS). */
  lookups: string[];
  /** The audit events written to the store, in the order they were written. */
  audited: Array<Omit<AuditEvent, 'id' | 'at'>>;
  setNow(ms: number): void;
}

/**
 * The listeners' dependencies with the real parts where they decide something: the state store (on
 * dynalite, a fresh table per rig) and the role resolver (over a fake usergroups lookup). The engine
 * and Slack record what reached them and fail on demand.
 */
export async function listenerRig(db: DynaliteContext, opts: { config?: DrConfig; start?: 'started' | 'duplicate' } = {}): Promise<ListenerRig> {
  let now = T0;
  const clock = () => new Date(now);
  const store = new StateStore(db.client, await db.freshTable(), clock);
  // The store's audit, recorded in call order once written (events at the same instant list in id order).
  const audited: ListenerRig['audited'] = [];
  const write = store.audit.bind(store);
  store.audit = async (e) => {
    const out = await write(e);
    audited.push(e);
    return out;
  };
  const calls: Call[] = [];
  const slackCalls: ListenerRig['slack'] = [];
  const logs: ListenerRig['logs'] = [];
  const failEngine: ListenerRig['failEngine'] = {};
  const failSlack: ListenerRig['failSlack'] = {};
  const lookups: string[] = [];
  const rig = { members: [] as string[] };
  const engine: RunEngine = {
    start: async (name, input) => {
      if (failEngine.start) throw failEngine.start;
      calls.push({ kind: 'start', name, input });
      return opts.start ?? 'started';
    },
    approve: async (callbackId, payload) => {
      if (failEngine.approve) throw failEngine.approve;
      calls.push({ kind: 'approve', callbackId, payload });
    },
    reject: async (callbackId, reason) => {
      if (failEngine.reject) throw failEngine.reject;
      calls.push({ kind: 'reject', callbackId, reason });
    },
  };
  const slack: SlackPoster = {
    post: async (channel, msg) => {
      if (failSlack.post) throw failSlack.post;
      slackCalls.push({ kind: 'post', channel, msg });
      return { channel, ts: '1769515300.000100' };
    },
    update: async (channel, ts, msg) => {
      if (failSlack.update) throw failSlack.update;
      slackCalls.push({ kind: 'update', channel, ts, msg });
    },
    ephemeral: async (channel, user, msg) => {
      if (failSlack.ephemeral) throw failSlack.ephemeral;
      slackCalls.push({ kind: 'ephemeral', channel, user, msg });
    },
  };
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void logs.push({ level, message, ...(extra ? { extra } : {}) });
  const log: Log = { info: at('info'), warn: at('warn'), error: at('error') };
  const config = opts.config ?? LISTENER_CONFIG;
  const roles = new RoleResolver(
    config,
    async (group) => {
      lookups.push(group);
      return group === 'SAPPROVERS' ? [...rig.members] : [];
    },
    () => now,
  );
  const deps: SlackDeps = { config, store, engine, roles, slack, now: clock, log };
  return Object.assign(rig, {
    deps,
    store,
    calls,
    slack: slackCalls,
    logs,
    failEngine,
    failSlack,
    lookups,
    audited,
    setNow: (ms: number) => {
      now = ms;
    },
  });
}
