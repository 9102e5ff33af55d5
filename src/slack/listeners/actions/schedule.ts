import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { DrbotError, toUserMessage } from '../../../errors';
import { CATALOGUE } from '../../../runbooks/catalogue';
import { startRun } from '../../../runbooks/start';
import type { SlackDeps } from '../../deps';
import type { RetryValue } from '../../views/schedule';
import { requestId } from '../commands';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

function retryValue(raw: string | undefined): RetryValue | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Partial<RetryValue>;
    if (typeof v.verb === 'string' && /^backup-[a-z0-9-]{1,30}$/.test(v.verb) && typeof v.schedule === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(v.schedule)) return { verb: v.verb, schedule: v.schedule };
  } catch {
    // not ours
  }
  return undefined;
}

/**
 * "Retry now" on a failed scheduled run: an operator starts the same backup at once, as a run of
 * their own in the alert's thread. It backs up only; pruning waits for the next scheduled run (or
 * a `--prune` with its approval), so a retry never deletes anything.
 */
export function onScheduleRetry(deps: SlackDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.container?.channel_id ?? body.channel?.id ?? deps.config.slack.channels.ops;
    const ts = body.container?.message_ts ?? body.message?.ts;
    const rid = requestId(body.trigger_id ?? `${action.action_ts}:${user}`);
    try {
      const value = retryValue(action.value);
      const verb = value ? (deps.catalogue ?? CATALOGUE).verb(value.verb) : undefined;
      if (!value || !verb) {
        await deps.slack.ephemeral(channel, user, { text: ':no_entry_sign: That button is not one of ours.' });
        await deps.store.audit({ actor: user, action: 'click', target: 'schedule_retry', result: 'refused', detail: 'malformed' });
        return;
      }
      await deps.roles.require(user, 'operator', 'retry a scheduled backup');
      const args = (deps.catalogue ?? CATALOGUE).bind(verb, { positionals: [], flags: new Map() }, { config: deps.config, now: deps.now() });
      const { status, input } = await startRun(deps.engine, deps.now, {
        verb,
        args,
        requester: user,
        channel,
        commandText: `/dr ${verb.words.join(' ')} (retry of schedule ${value.schedule})`,
        requestKey: rid,
        ...(ts ? { threadTs: ts } : {}),
      });
      if (status === 'started') {
        await deps.store.audit({ actor: user, action: 'schedule-retry', target: input.commandText, result: 'pending', runId: input.runId });
        await deps.slack.ephemeral(channel, user, { text: `Started run \`${input.runId}\`: the result will be posted in the thread.` });
      }
    } catch (e) {
      const log = e instanceof DrbotError ? deps.log.info : deps.log.error;
      log('schedule retry failed', { requestId: rid, user, error: String(e) });
      await deps.slack.ephemeral(channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
    }
  };
}
