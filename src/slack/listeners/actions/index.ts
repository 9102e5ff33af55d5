import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { DrbotError, toUserMessage } from '../../../errors';
import { type ApprovalRecord, RUN_TTL_SECONDS } from '../../../store/state';
import { type SlackDeps, wrongTeam } from '../../deps';
import { slackDate } from '../../views/format';
import { ACTION_APPROVE, ACTION_NEXT, ACTION_REJECT, APPROVAL_STATUS_BLOCK, approvalStatusLine, withDecision } from '../../views/run';
import { CATALOGUE } from '../../../runbooks/catalogue';
import { startRun } from '../../../runbooks/start';
import { isVerb } from '../../../runbooks/verb';
import { parseCommand } from '../../parse';
import { requestId } from '../commands';
import { ACTION_SCHEDULE_RETRY } from '../../views/schedule';
import { onScheduleRetry } from './schedule';
import { ACTION_BACKUP_RETRY, ACTION_BACKUP_VIEW } from '../../../alarms/backup-job';
import { onBackupJobRetry, onBackupJobView } from './backup-job';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Approval ids are ours (`ap-` + 12 hex); anything else in a button value is not. */
const APPROVAL_ID = /^ap-[0-9a-f]{12}$/;
/** Alarm thread ids are CloudWatch alarm ARNs; names may hold spaces and punctuation (≤ 2,000, Slack's value limit). */
const ALARM_THREAD_ID = /^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:[^\u0000-\u001f\u007f]{1,1900}$/;

export const ALARM_ACTIONS = {
  alarm_ack: 'acknowledge',
  alarm_check_replication: 'checkReplication',
  alarm_restore_replica: 'restoreFromReplica',
  alarm_run_backup: 'runBackup',
  alarm_view_logs: 'viewLogs',
  alarm_view_run: 'viewRun',
} as const;

const REFUSALS: Record<string, string> = {
  not_found: 'This approval no longer exists.',
  not_pending: 'This request has already been decided.',
  expired: 'This approval has expired; nothing was changed. Run the command again for a fresh plan.',
  already_voted: 'You have already approved this request.',
};

function when(iso: string): string {
  return slackDate(iso, { seconds: true });
}

/** Replaces the approval context line (votes so far) in place, keeping the buttons. */
function withVotes(blocks: KnownBlock[], rec: ApprovalRecord): KnownBlock[] {
  const line = approvalStatusLine(rec.required, rec.approvers, rec.expiresAt);
  return blocks.map((b): KnownBlock => (b.block_id === APPROVAL_STATUS_BLOCK ? { type: 'context', block_id: APPROVAL_STATUS_BLOCK, elements: [{ type: 'mrkdwn', text: line }] } : b));
}

function messageBlocks(body: BlockAction): KnownBlock[] {
  return ((body.message?.blocks ?? []) as KnownBlock[]).slice(0, 50);
}

function where(body: BlockAction): { channel: string; ts: string } | undefined {
  const channel = body.container?.channel_id ?? body.channel?.id;
  const ts = body.container?.message_ts ?? body.message?.ts;
  return channel && ts ? { channel, ts } : undefined;
}

/**
 * A click from a workspace drbot does not serve: recorded and logged, and answered with nothing
 * (an ephemeral there would need that workspace's token). True when refused.
 */
async function refuseForeign(deps: SlackDeps, body: BlockAction, target: string): Promise<boolean> {
  if (!wrongTeam(deps, body.team?.id ?? body.user.team_id)) return false;
  deps.log.warn('click from another workspace refused', { user: body.user.id, team: String(body.team?.id ?? body.user.team_id).slice(0, 20), target });
  await deps.store.audit({ actor: body.user.id, action: 'click', target, result: 'refused', detail: 'wrong_team' });
  return true;
}

/** The approval a click names must be the one posted in the message it was pressed on. */
function onItsMessage(body: BlockAction, rec: ApprovalRecord): boolean {
  const at = where(body);
  return at !== undefined && at.channel === rec.channel && at.ts === rec.ts;
}

async function refuse(deps: SlackDeps, body: BlockAction, text: string, target: string, detail: string): Promise<void> {
  const at = where(body);
  if (at) await deps.slack.ephemeral(at.channel, body.user.id, { text: `:no_entry_sign: ${text}` });
  await deps.store.audit({ actor: body.user.id, action: 'click', target, result: 'refused', detail });
}

/**
 * Recovers an approval whose decision was recorded but never reached its run (the callback call
 * failed and said so by flagging the record): while the run still waits, the next approver's
 * click claims the flag (one click wins) and delivers the decision again. A decision merely in
 * flight is never flagged, so concurrent clicks cannot deliver it twice. True when delivered.
 */
async function redeliver(deps: SlackDeps, a: ApprovalRecord, user: string): Promise<boolean> {
  if (a.status !== 'approved' || !a.deliveryFailed) return false;
  if ((await deps.store.getRun(a.runId))?.status !== 'awaiting_approval') return false;
  if (!(await deps.store.claimRedelivery(a.id))) return false;
  try {
    await deps.engine.approve(a.callbackId, { approvers: a.approvers, decidedAt: a.decidedAt ?? deps.now().toISOString() });
  } catch (e) {
    deps.log.warn('approval redelivery failed', { approvalId: a.id, error: String(e) });
    await deps.store.markDeliveryFailed(a.id).catch(() => {});
    return false;
  }
  await deps.store.audit({ actor: user, action: 'approve', target: a.summary, result: 'approved', runId: a.runId, detail: 'decision redelivered to the waiting run' });
  return true;
}

/**
 * Approve: an approver who is not the requester; the vote is a conditional write, so double
 * clicks, concurrent clicks and Slack retries give one decision, and only the click that reaches
 * the quorum resumes the run.
 */
export function onApprove(deps: SlackDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const id = action.value ?? '';
    const target = `approve ${id.slice(0, 40)}`;
    try {
      if (await refuseForeign(deps, body, target)) return;
      if (!APPROVAL_ID.test(id)) return refuse(deps, body, 'That button is not one of ours.', target, 'malformed');
      const rec = await deps.store.getApproval(id);
      if (!rec) return refuse(deps, body, REFUSALS.not_found as string, target, 'not_found');
      if (!onItsMessage(body, rec)) return refuse(deps, body, 'That button does not belong to this message; nothing was changed.', target, 'wrong_message');
      if (rec.requester === user) return refuse(deps, body, 'You requested this run; someone else must approve it (four eyes).', target, 'own_request');
      if ((await deps.store.getRun(rec.runId))?.status === 'interrupted') {
        return refuse(deps, body, 'This run was interrupted when drbot stopped and will not go on; nothing was changed. Press *Plan again* on its message for a fresh plan.', target, 'interrupted');
      }
      // Membership asked of Slack now, not minutes ago: a removed approver is refused at once.
      if (!(await deps.roles.has(user, 'approver', { fresh: true }))) return refuse(deps, body, await deps.roles.refusal(user, 'approver', 'approve DR runs'), target, 'no_role');
      const vote = await deps.store.voteApprove(id, user);
      if (vote.kind === 'refused') {
        if (vote.reason === 'not_pending' && vote.approval && (await redeliver(deps, vote.approval, user))) {
          return refuse(deps, body, 'This request was already approved; its decision had not reached the run, so drbot delivered it again.', target, 'redelivered');
        }
        return refuse(deps, body, REFUSALS[vote.reason] ?? 'Refused.', target, vote.reason);
      }
      const at = where(body);
      if (!vote.quorum) {
        if (at) await deps.slack.update(at.channel, at.ts, { text: `Approval ${vote.approval.approvers.length} of ${vote.approval.required}`, blocks: withVotes(messageBlocks(body), vote.approval) });
        await deps.store.audit({ actor: user, action: 'approve', target: rec.summary, result: 'pending', runId: rec.runId, detail: `${vote.approval.approvers.length} of ${vote.approval.required}` });
        return;
      }
      const decidedAt = vote.approval.decidedAt ?? deps.now().toISOString();
      // Show the decision first, then resume the run: its own updates must land after ours.
      if (at) {
        const who = vote.approval.approvers.map((u) => `<@${u}>`).join(', ');
        // Best effort: a Slack hiccup here must not keep the decision from reaching the run.
        await deps.slack
          .update(at.channel, at.ts, {
            text: 'Approved; running',
            blocks: withDecision(messageBlocks(body), `:white_check_mark: Approved by ${who} at ${when(decidedAt)} — running…`),
          })
          .catch((e: unknown) => deps.log.warn('could not show the approval', { approvalId: id, error: String(e) }));
      }
      try {
        await deps.engine.approve(rec.callbackId, { approvers: vote.approval.approvers, decidedAt });
      } catch (e) {
        // Flag it and put the buttons back, so another click can deliver the decision (see redeliver).
        await deps.store.markDeliveryFailed(id).catch(() => {});
        if (at) {
          const warning: KnownBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: ':warning: The approval is recorded but did not reach the run; press Approve again to deliver it.' }] };
          await deps.slack.update(at.channel, at.ts, { text: 'Approval not delivered yet', blocks: [...messageBlocks(body).slice(0, 49), warning] }).catch(() => {});
        }
        throw e;
      }
      await deps.store.audit({ actor: user, action: 'approve', target: rec.summary, result: 'approved', runId: rec.runId });
    } catch (e) {
      const rid = requestId(body.trigger_id ?? id);
      deps.log.error('approve failed', { requestId: rid, user, approvalId: id, error: String(e) });
      const at = where(body);
      if (at) await deps.slack.ephemeral(at.channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
    }
  };
}

/** Reject: any approver, or the requester withdrawing their own request. */
export function onReject(deps: SlackDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const id = action.value ?? '';
    const target = `reject ${id.slice(0, 40)}`;
    try {
      if (await refuseForeign(deps, body, target)) return;
      if (!APPROVAL_ID.test(id)) return refuse(deps, body, 'That button is not one of ours.', target, 'malformed');
      const rec = await deps.store.getApproval(id);
      if (!rec) return refuse(deps, body, REFUSALS.not_found as string, target, 'not_found');
      if (!onItsMessage(body, rec)) return refuse(deps, body, 'That button does not belong to this message; nothing was changed.', target, 'wrong_message');
      if (rec.requester !== user && !(await deps.roles.has(user, 'approver', { fresh: true }))) {
        return refuse(deps, body, 'Only an approver, or the requester withdrawing it, may reject this.', target, 'no_role');
      }
      // The decision line names who rejected; the reason only says when it was the requester.
      const reason = rec.requester === user ? 'withdrawn by the requester' : undefined;
      const decided = await deps.store.decide(id, 'rejected', user, reason);
      if (!decided) {
        const now = await deps.store.getApproval(id);
        const why = now && now.status === 'pending' ? 'expired' : 'not_pending';
        return refuse(deps, body, REFUSALS[why] as string, target, why);
      }
      const at = where(body);
      if (at) {
        await deps.slack
          .update(at.channel, at.ts, {
            text: 'Rejected; nothing was changed',
            blocks: withDecision(messageBlocks(body), `:no_entry: Rejected by <@${user}> at ${when(decided.decidedAt ?? deps.now().toISOString())}; nothing was changed.`),
          })
          .catch((e: unknown) => deps.log.warn('could not show the rejection', { approvalId: id, error: String(e) }));
      }
      await deps.engine.reject(rec.callbackId, reason ?? 'rejected by an approver');
      await deps.store.audit({ actor: user, action: 'reject', target: rec.summary, result: 'rejected', runId: rec.runId, ...(reason ? { detail: reason } : {}) });
    } catch (e) {
      const rid = requestId(body.trigger_id ?? id);
      deps.log.error('reject failed', { requestId: rid, user, approvalId: id, error: String(e) });
      const at = where(body);
      if (at) await deps.slack.ephemeral(at.channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
    }
  };
}

/** A next-step button's value: the run that offered it and the step's index. */
const NEXT_VALUE = /^(r-[0-9a-f]{12}):(\d{1,2})$/;

/**
 * A next-step button ("Cut over", "Delete restored table", …): the step comes from the run record
 * (the button names only the run and an index), must be pressed on that run's own message, and is
 * parsed, checked and authorized exactly as if the person who pressed had typed it. The new run
 * takes over the message. One press per message starts one run: a double or concurrent press, or
 * another of its buttons, starts nothing more.
 */
export function onRunNext(deps: SlackDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const value = action.value ?? '';
    const target = `next ${value.slice(0, 40)}`;
    const rid = requestId(body.trigger_id ?? `${value}:${user}`);
    try {
      if (await refuseForeign(deps, body, target)) return;
      const m = NEXT_VALUE.exec(value);
      if (!m) return refuse(deps, body, 'That button is not one of ours.', target, 'malformed');
      const [, runId = '', index = ''] = m;
      const run = await deps.store.getRun(runId);
      const at = where(body);
      if (!run || !at || run.channel !== at.channel || run.ts !== at.ts) return refuse(deps, body, 'That button does not belong to this message; nothing was changed.', target, 'wrong_message');
      const step = run.next?.[Number(index)];
      if (!step) return refuse(deps, body, 'That step is no longer offered; nothing was changed.', target, 'not_offered');
      const catalogue = deps.catalogue ?? CATALOGUE;
      const parsed = parseCommand(step.command, deps.config, deps.now(), catalogue);
      if (!isVerb(parsed.spec)) return refuse(deps, body, 'That button is not one of ours.', target, 'not_a_verb');
      await deps.roles.require(user, parsed.spec.role, `run \`/dr ${parsed.spec.words.join(' ')}\``);
      // Held as long as the run record itself: one press per message for the run's whole life, not a day.
      if (!(await deps.store.claim(`next:${runId}`, RUN_TTL_SECONDS))) return refuse(deps, body, 'A next step of this run was already started from this message.', target, 'already_started');
      const shown = `/dr ${step.command}`.slice(0, 300);
      // A start that fails gives the press back, so the buttons are not dead for a day.
      const { status, input } = await startRun(deps.engine, deps.now, {
        verb: parsed.spec,
        args: parsed.args,
        requester: user,
        channel: at.channel,
        commandText: shown,
        requestKey: rid,
        continues: { runId, channel: at.channel, ts: at.ts },
      }).catch(async (e: unknown) => {
        await deps.store.unclaim(`next:${runId}`).catch(() => {});
        throw e;
      });
      if (status === 'started') await deps.store.audit({ actor: user, action: 'next-step', target: shown, result: 'pending', runId: input.runId, detail: `continues ${runId}` });
    } catch (e) {
      const ours = e instanceof DrbotError;
      (ours ? deps.log.info : deps.log.error)('next step failed', { requestId: rid, user, error: String(e) });
      const at = where(body);
      if (at) await deps.slack.ephemeral(at.channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
      await deps.store.audit({ actor: user, action: 'click', target, result: ours ? 'refused' : 'error', detail: ours ? e.code : 'internal' }).catch(() => {});
    }
  };
}

/** Alarm buttons: validated here, authorized and carried out by the alarm actions. */
export function onAlarmAction(deps: SlackDeps, actionId: keyof typeof ALARM_ACTIONS) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const threadId = action.value ?? '';
    if (await refuseForeign(deps, body, actionId)) return;
    if (!ALARM_THREAD_ID.test(threadId)) return refuse(deps, body, 'That button is not one of ours.', actionId, 'malformed');
    if (!deps.alarms) return refuse(deps, body, 'Alarm actions are not available in this deployment.', actionId, 'unavailable');
    const rid = requestId(body.trigger_id ?? `${threadId}:${user}`);
    try {
      const method = ALARM_ACTIONS[actionId];
      // The click's trigger id names the run, so a retried or replayed click starts nothing new.
      if (method === 'restoreFromReplica' || method === 'runBackup' || method === 'checkReplication') await deps.alarms[method](threadId, user, rid);
      else await deps.alarms[method](threadId, user);
    } catch (e) {
      // Our own errors (a refusal, an unknown alarm) are answers, not faults; both are recorded,
      // as refused approval clicks are.
      const ours = e instanceof DrbotError;
      (ours ? deps.log.info : deps.log.error)('alarm action failed', { requestId: rid, user, action: actionId, error: String(e) });
      const at = where(body);
      if (at) await deps.slack.ephemeral(at.channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
      const alarm = threadId.slice(threadId.indexOf(':alarm:') + 7, threadId.indexOf(':alarm:') + 107);
      await deps.store
        .audit({ actor: user, action: 'click', target: `${actionId} ${alarm}`, result: ours ? 'refused' : 'error', detail: ours ? e.code : 'internal' })
        .catch((err: unknown) => deps.log.warn('could not record the refusal', { requestId: rid, error: String(err) }));
    }
  };
}

export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_APPROVE, onApprove(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_REJECT, onReject(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_NEXT, onRunNext(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_SCHEDULE_RETRY, onScheduleRetry(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_BACKUP_RETRY, onBackupJobRetry(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_BACKUP_VIEW, onBackupJobView());
  for (const id of Object.keys(ALARM_ACTIONS) as (keyof typeof ALARM_ACTIONS)[]) {
    app.action<BlockAction<ButtonAction>>(id, onAlarmAction(deps, id));
  }
}
