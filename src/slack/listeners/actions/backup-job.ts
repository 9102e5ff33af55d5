import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { DrbotError, toUserMessage } from '../../../errors';
import { CATALOGUE } from '../../../runbooks/catalogue';
import { startRun } from '../../../runbooks/start';
import type { SlackDeps } from '../../deps';
import { requestId } from '../commands';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * "Retry backup" on a failed AWS Backup job message: an operator starts `/dr backup dynamodb TABLE`
 * in the message's thread. The table is checked like a typed command's (a table outside the config
 * is refused), so the button's value cannot widen what the bot touches.
 */
export function onBackupJobRetry(deps: SlackDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.container?.channel_id ?? body.channel?.id ?? deps.config.slack.channels.alerts;
    const ts = body.container?.message_ts ?? body.message?.ts;
    const rid = requestId(body.trigger_id ?? `${action.action_ts}:${user}`);
    try {
      const catalogue = deps.catalogue ?? CATALOGUE;
      const verb = catalogue.verb('backup-dynamodb');
      if (!verb) throw new Error('the backup-dynamodb verb is not in the catalogue');
      await deps.roles.require(user, verb.role, 'retry a backup');
      const table = action.value ?? '';
      const args = catalogue.bind(verb, { positionals: [table], flags: new Map() }, { config: deps.config, now: deps.now() });
      const { status, input } = await startRun(deps.engine, deps.now, {
        verb,
        args,
        requester: user,
        channel,
        commandText: `/dr backup dynamodb ${table} (retry of an AWS Backup job)`,
        requestKey: rid,
        ...(ts ? { threadTs: ts } : {}),
      });
      if (status === 'started') await deps.store.audit({ actor: user, action: 'backup-job-retry', target: input.commandText, result: 'pending', runId: input.runId });
    } catch (e) {
      const log = e instanceof DrbotError ? deps.log.info : deps.log.error;
      log('backup job retry failed', { requestId: rid, user, error: String(e) });
      await deps.slack.ephemeral(channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
    }
  };
}

/** "View job" is a link; Slack still sends the click, which only needs an ack. */
export function onBackupJobView() {
  return async ({ ack }: ButtonArgs): Promise<void> => {
    await ack();
  };
}
