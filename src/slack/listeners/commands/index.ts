import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { createHash } from 'node:crypto';
import { DrbotError, toUserMessage } from '../../../errors';
import { executionName, type RunInput } from '../../../runbooks/types';
import { newId } from '../../../store/state';
import type { SlackDeps } from '../../deps';
import { type ParsedCommand, parseCommand } from '../../parse';
import type { SlackMessage } from '../../poster';
import { renderAudit } from '../../views/audit';
import { renderHelp } from '../../views/help';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** Short, log-safe request id for a Slack request (trigger ids are not secrets, but are long). */
export function requestId(triggerId: string): string {
  return createHash('sha256').update(triggerId).digest('hex').slice(0, 16);
}

function ephemeral(msg: SlackMessage) {
  return { response_type: 'ephemeral' as const, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : {}) };
}

/** Builds the run input for a runbook command; the parse already validated every value. */
function runInput(parsed: ParsedCommand, base: Omit<RunInput, 'kind'>): RunInput | undefined {
  switch (parsed.id) {
    case 'status':
      return { ...base, kind: 'status' };
    case 'restore-s3':
      return parsed.fromReplica
        ? { ...base, kind: 'restore-s3-replica', bucket: parsed.bucket, ...(parsed.prefix ? { prefix: parsed.prefix } : {}), dryRun: parsed.dryRun }
        : {
            ...base,
            kind: 'restore-s3-undelete',
            bucket: parsed.bucket,
            ...(parsed.prefix ? { prefix: parsed.prefix } : {}),
            ...(parsed.since ? { since: parsed.since } : {}),
            dryRun: parsed.dryRun,
          };
    case 'backup-dynamodb':
      return { ...base, kind: 'backup-dynamodb', tables: parsed.tables, dryRun: parsed.dryRun };
    default:
      return undefined;
  }
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
    let parsed: ParsedCommand;
    try {
      parsed = parseCommand(text, deps.config, deps.now());
      await deps.roles.require(user, parsed.spec.role, `run \`/dr ${parsed.spec.words.join(' ')}\``);
      if (parsed.spec.sandboxOnly && !deps.simulate) {
        throw new DrbotError('sandbox_only', '`/dr simulate` works only in the local sandbox, never against real AWS.', 'Run `npm start` to try it.');
      }
    } catch (e) {
      const code = e instanceof DrbotError ? e.code : 'error';
      deps.log.info('command refused', { requestId: rid, user, code });
      await ack(ephemeral({ text: toUserMessage(e, rid) }));
      await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'refused', detail: code });
      return;
    }

    // A retry or replay of the same Slack request (same trigger_id) changes nothing twice: runs are
    // deduplicated by their execution name (derived from it), the simulator by a claim here, and
    // read-only answers may simply be given again.
    if (parsed.id === 'simulate-alarm' && !(await deps.store.claim(`cmd:${rid}`))) {
      deps.log.info('duplicate slash command ignored', { requestId: rid, user });
      await ack();
      return;
    }

    try {
      switch (parsed.id) {
        case 'help':
          await Promise.all([
            ack(ephemeral(renderHelp({ sandbox: Boolean(deps.simulate) }))),
            deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' }),
          ]);
          return;
        case 'audit': {
          const events = await deps.store.listAudit(parsed.count);
          await ack(ephemeral(renderAudit(events, parsed.count)));
          await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' });
          return;
        }
        case 'simulate-alarm': {
          await ack(ephemeral({ text: `Delivering a simulated \`${parsed.kind}\` alarm notification to the alarm handler, as SNS would…` }));
          await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'ok' });
          await deps.simulate?.(parsed.kind, user);
          return;
        }
        default: {
          const runId = newId('r');
          const input = runInput(parsed, {
            runId,
            requester: user,
            channel: command.channel_id,
            commandText: shown,
            requestedAt: deps.now().toISOString(),
          });
          if (!input) throw new Error(`command ${parsed.id} has no runbook`);
          const started = await deps.engine.start(executionName(input.kind, rid), input);
          if (started === 'duplicate') {
            await ack();
            return;
          }
          const what = parsed.spec.destructive && !('dryRun' in input && input.dryRun) ? 'the plan will be posted here for approval' : 'the result will be posted here';
          const elsewhere = command.channel_id === deps.config.slack.channels.ops ? '' : ` (or in <#${deps.config.slack.channels.ops}> if drbot is not a member of this channel)`;
          await ack(ephemeral({ text: `:arrow_forward: Started run \`${runId}\`: ${what}${elsewhere}.` }));
          await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'pending', runId });
        }
      }
    } catch (e) {
      deps.log.error('command failed', { requestId: rid, user, command: parsed.id, error: String(e) });
      const msg = { text: toUserMessage(e, rid) };
      if (!acked) await ack(ephemeral(msg));
      else await deps.slack.ephemeral(command.channel_id, user, msg).catch(() => {});
      await deps.store.audit({ actor: user, action: 'command', target: shown, result: 'error', detail: e instanceof DrbotError ? e.code : 'internal' }).catch(() => {});
    }
  };
}

export function register(app: App, deps: SlackDeps): void {
  app.command('/dr', drCommand(deps));
}
