import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { createHash } from 'node:crypto';
import { DrbotError, toUserMessage } from '../../../errors';
import { CATALOGUE } from '../../../runbooks/catalogue';
import { startRun } from '../../../runbooks/start';
import { isCommand, isVerb } from '../../../runbooks/verb';
import { afterAck } from '../../ack-tail';
import { type SlackDeps, wrongTeam } from '../../deps';
import { AUDIT, HELP, RUNS, SIMULATE_ALARM, SIMULATE_COMPROMISE, SIMULATE_CORRUPTION, SIMULATE_OUTAGE } from '../../inline';
import { type ParsedCommand, parseCommand } from '../../parse';
import type { SlackMessage } from '../../poster';
import { renderAudit } from '../../views/audit';
import { renderHelp } from '../../views/help';
import { renderRuns } from '../../views/runs';
import { deliverUnsent } from '../../../runbooks/recovery';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** Short, log-safe request id for a Slack request (trigger ids are not secrets, but are long). */
export function requestId(triggerId: string): string {
  return createHash('sha256').update(triggerId).digest('hex').slice(0, 16);
}

function ephemeral(msg: SlackMessage) {
  return { response_type: 'ephemeral' as const, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : {}) };
}

/**
 * `/dr …`: parse, authorize, then answer inline or start a durable run — nothing slow before the
 * ack. A Slack retry or replay of the same request (same trigger_id) does nothing the second time.
 */
export function drCommand(deps: SlackDeps) {
  return async ({ command, ack: slackAck }: CommandArgs): Promise<void> => {
    let acked = false;
    const ack: CommandArgs['ack'] = async (response) => {
      acked = true;
      await slackAck(response);
    };
    const rid = requestId(command.trigger_id);
    const user = command.user_id;
    const text = command.text ?? '';
    const shown = `/dr ${text.slice(0, 200)}`;
    const catalogue = deps.catalogue ?? CATALOGUE;
    if (wrongTeam(deps, command.team_id)) {
      deps.log.warn('command from another workspace refused', { requestId: rid, user, team: String(command.team_id).slice(0, 20) });
      await ack(ephemeral({ text: ':no_entry_sign: This drbot serves another Slack workspace.' }));
      await afterAck('audit', () => deps.store.audit({ actor: user, action: 'command', target: shown, result: 'refused', detail: 'wrong_team' }));
      return;
    }
    let parsed: ParsedCommand;
    try {
      parsed = parseCommand(text, deps.config, deps.now(), catalogue);
      await deps.roles.require(user, parsed.spec.role, `run \`/dr ${parsed.spec.words.join(' ')}\``);
      // Each sandbox-only command has its hook, which only the sandbox provides.
      const hooks: Record<string, unknown> = { [SIMULATE_ALARM.id]: deps.simulate, [SIMULATE_CORRUPTION.id]: deps.corrupt, [SIMULATE_COMPROMISE.id]: deps.compromise, [SIMULATE_OUTAGE.id]: deps.outage };
      if (parsed.spec.sandboxOnly && !hooks[parsed.spec.id]) {
        throw new DrbotError('sandbox_only', '`/dr simulate` works only in the local sandbox, never against real AWS.', 'Run `npm start` to try it.');
      }
    } catch (e) {
      // A refusal (ours) is an answer; anything else broke on our side, and is recorded as such.
      const refused = e instanceof DrbotError;
      const code = refused ? e.code : 'internal';
      if (refused) deps.log.info('command refused', { requestId: rid, user, code });
      else deps.log.error('command check failed', { requestId: rid, user, code, error: String(e) });
      await ack(ephemeral({ text: toUserMessage(e, rid) }));
      await afterAck('audit', () => deps.store.audit({ actor: user, action: 'command', target: shown, result: refused ? 'refused' : 'error', detail: code }));
      return;
    }

    // A retry or replay of the same Slack request (same trigger_id) changes nothing twice: runs are
    // deduplicated by their execution name (derived from it), the simulator by a claim here, and
    // read-only answers may simply be given again.
    if ([SIMULATE_ALARM.id, SIMULATE_CORRUPTION.id, SIMULATE_COMPROMISE.id, SIMULATE_OUTAGE.id].includes(parsed.spec.id) && !(await deps.store.claim(`cmd:${rid}`))) {
      deps.log.info('duplicate slash command ignored', { requestId: rid, user });
      await ack();
      return;
    }

    try {
      const { spec } = parsed;
      if (isVerb(spec)) {
        const { status, input } = await startRun(deps.engine, deps.now, { verb: spec, args: parsed.args, requester: user, channel: command.channel_id, commandText: shown, requestKey: rid });
        if (status === 'duplicate') {
          await ack();
          return;
        }
        const what = spec.destructive && !('dryRun' in input && input.dryRun) ? 'the plan will be posted here for approval' : 'the result will be posted here';
        const elsewhere = command.channel_id === deps.config.slack.channels.ops ? '' : ` (or in <#${deps.config.slack.channels.ops}> if drbot is not a member of this channel)`;
        await ack(ephemeral({ text: `:arrow_forward: Started run \`${input.runId}\`: ${what}${elsewhere}.` }));
        await afterAck('audit', () => deps.store.audit({ actor: user, action: 'command', target: shown, result: 'pending', runId: input.runId }));
      } else if (isCommand(parsed, HELP)) {
        await Promise.all([
          ack(ephemeral(renderHelp({ sandbox: Boolean(deps.simulate), catalogue, topic: parsed.args.topic }))),
          afterAck('audit', () => deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' })),
        ]);
      } else if (isCommand(parsed, AUDIT)) {
        const events = await deps.store.listAudit(parsed.args.count);
        await ack(ephemeral(renderAudit(events, parsed.args.count)));
        await afterAck('audit', () => deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' }));
      } else if (isCommand(parsed, RUNS)) {
        const runs = await deps.store.listRuns(parsed.args.count);
        await ack(ephemeral(renderRuns(runs)));
        // Then, after the ack (Slack may be slow to take them): the final states Slack did not take when their runs ended.
        await afterAck('unsent run messages', async () => {
          const delivered = await deliverUnsent(deps, runs);
          if (delivered) await deps.slack.ephemeral(command.channel_id, user, { text: `Brought ${delivered} run message${delivered === 1 ? '' : 's'} up to date that Slack had not taken when the run ended.` });
          await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok', ...(delivered ? { detail: `${delivered} run message(s) brought up to date` } : {}) });
        });
      } else if (isCommand(parsed, SIMULATE_ALARM)) {
        const { kind } = parsed.args;
        await ack(ephemeral({ text: `Delivering a simulated \`${kind}\` alarm notification to the alarm handler, as SNS would…` }));
        await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' });
        await deps.simulate?.(kind, user);
      } else if (isCommand(parsed, SIMULATE_CORRUPTION)) {
        const { table } = parsed.args;
        await ack(ephemeral({ text: `Corrupting \`${table}\` (sandbox only): overwriting some items and deleting others…` }));
        await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' });
        await deps.corrupt?.(table, user, command.channel_id);
      } else if (isCommand(parsed, SIMULATE_OUTAGE)) {
        const { region, end } = parsed.args;
        await ack(ephemeral({ text: end ? `Ending the simulated outage of \`${region}\`…` : `Taking \`${region}\` down (sandbox only)…` }));
        await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' });
        await deps.outage?.(region, end, user, command.channel_id);
      } else if (isCommand(parsed, SIMULATE_COMPROMISE)) {
        await ack(ephemeral({ text: 'Leaking an access key of `spawn-user` (sandbox only): some activity, a few instances, a backdoor…' }));
        await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' });
        await deps.compromise?.(user, command.channel_id);
      } else {
        throw new Error(`command ${spec.id} has no answer`);
      }
    } catch (e) {
      deps.log.error('command failed', { requestId: rid, user, command: parsed.spec.id, error: String(e) });
      const msg = { text: toUserMessage(e, rid) };
      if (!acked) await ack(ephemeral(msg));
      else await afterAck('error message', () => deps.slack.ephemeral(command.channel_id, user, msg).catch(() => {}));
      await afterAck('audit', () => deps.store.audit({ actor: user, action: 'command', target: shown, result: 'error', detail: e instanceof DrbotError ? e.code : 'internal' }).catch(() => {}));
    }
  };
}

export function register(app: App, deps: SlackDeps): void {
  app.command('/dr', drCommand(deps));
}
