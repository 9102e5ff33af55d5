import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { parseRetryJobValue } from '../../../alarms/backup-job';
import { DrbotError, toUserMessage } from '../../../errors';
import { CATALOGUE } from '../../../runbooks/catalogue';
import { startRun } from '../../../runbooks/start';
import { type SlackDeps, wrongTeam } from '../../deps';
import { requestId } from '../commands';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * "Retry backup" on a failed AWS Backup job message: an operator starts `/dr backup retry TABLE JOB`
 * in the message's thread, where the run answers with the new job's ID (or why there is none). The
 * table is checked like a typed command's (one outside the config is refused), and the run reads the
 * job from AWS Backup and starts it again only if it backed up that table, so the button's value
 * cannot widen what the bot touches. The click's id names the run: a retried click starts nothing new.
 */
export function onBackupJobRetry(deps: SlackDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.container?.channel_id ?? body.channel?.id ?? deps.config.slack.channels.alerts;
    const ts = body.container?.message_ts ?? body.message?.ts;
    const rid = requestId(body.trigger_id ?? `${action.action_ts}:${user}`);
    try {
      if (wrongTeam(deps, body.team?.id ?? body.user.team_id)) {
        deps.log.warn('click from another workspace refused', { user, target: 'backup_job_retry' });
        await deps.store.audit({ actor: user, action: 'click', target: 'backup_job_retry', result: 'refused', detail: 'wrong_team' });
        return;
      }
      const value = parseRetryJobValue(action.value);
      const catalogue = deps.catalogue ?? CATALOGUE;
      const verb = catalogue.verb('backup-job-retry');
      if (!verb) throw new Error('the backup-job-retry verb is not in the catalogue');
      if (!value) {
        await deps.slack.ephemeral(channel, user, { text: ':no_entry_sign: That button is not one of ours.' });
        await deps.store.audit({ actor: user, action: 'click', target: 'backup_job_retry', result: 'refused', detail: 'malformed' });
        return;
      }
      await deps.roles.require(user, verb.role, 'retry an AWS Backup job');
      const args = catalogue.bind(verb, { positionals: [value.table, value.job], flags: new Map() }, { config: deps.config, now: deps.now() });
      const { status, input } = await startRun(deps.engine, deps.now, {
        verb,
        args,
        requester: user,
        channel,
        commandText: `/dr backup retry ${value.table} ${value.job}`,
        requestKey: rid,
        ...(ts ? { threadTs: ts } : {}),
      });
      if (status === 'started') {
        await deps.store.audit({ actor: user, action: 'backup-job-retry', target: input.commandText, result: 'pending', runId: input.runId });
        await deps.slack.ephemeral(channel, user, { text: `Started run \`${input.runId}\`: the new job's ID will be posted in the thread.` });
      }
    } catch (e) {
      const ours = e instanceof DrbotError;
      (ours ? deps.log.info : deps.log.error)('backup job retry failed', { requestId: rid, user, error: String(e) });
      await deps.slack.ephemeral(channel, user, { text: toUserMessage(e, rid) }).catch(() => {});
      await deps.store.audit({ actor: user, action: 'click', target: 'backup_job_retry', result: ours ? 'refused' : 'error', detail: ours ? e.code : 'internal' }).catch(() => {});
    }
  };
}

/** "View job" is a link; Slack still sends the click, which only needs an ack. */
export function onBackupJobView() {
  return async ({ ack }: ButtonArgs): Promise<void> => {
    await ack();
  };
}
