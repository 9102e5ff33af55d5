import { createAlarmActions } from '../alarms/actions';
import { handleSnsEvent } from '../alarms/handle';
import { createAlarmService } from '../alarms/service';
import { simulatedSnsEvent } from '../alarms/simulate';
import { DynamoAlarmStore } from '../alarms/store';
import type { LocalStackOptions } from './stack';

/**
 * Alarms in the local runtime: the same service as the alarm Lambda over the same state table;
 * `/dr simulate alarm` hands it an SNS-shaped event, as SNS would.
 */
/** The alarm ARN a simulated CloudWatch notification is about. */
function alarmArnOf(event: ReturnType<typeof simulatedSnsEvent>): string | undefined {
  try {
    const msg = JSON.parse(event.Records[0]?.Sns.Message ?? '{}') as { AlarmArn?: unknown };
    return typeof msg.AlarmArn === 'string' ? msg.AlarmArn : undefined;
  } catch {
    return undefined;
  }
}

export const localAlarms: NonNullable<LocalStackOptions['alarms']> = (core) => {
  const alarmStore = new DynamoAlarmStore({ client: core.store.doc, tableName: core.store.tableName });
  const service = createAlarmService({
    store: alarmStore,
    slack: core.poster,
    config: core.config,
    clock: core.now,
    log: (m, extra) => core.log.info(m, extra),
  });
  const actions = createAlarmActions({
    config: core.config,
    threads: service,
    store: core.store,
    engine: core.engine,
    roles: core.roles,
    slack: core.poster,
    now: core.now,
    catalogue: core.catalogue,
  });
  const simulate = async (kind: Parameters<typeof simulatedSnsEvent>[0], user: string) => {
    const event = simulatedSnsEvent(kind, core.config, core.now());
    // An OK with no open alarm changes nothing anyone can see: say so rather than nothing.
    const arn = kind === 'ok' ? alarmArnOf(event) : undefined;
    const open = arn ? (await alarmStore.getThread(arn))?.state : undefined;
    await handleSnsEvent(event, service, core.log, core.now());
    if (arn && (open === undefined || open === 'OK')) {
      const name = arn.slice(arn.indexOf(':alarm:') + 7);
      await core.poster.ephemeral(core.config.slack.channels.ops, user, {
        text: `There was no open \`${name}\` alarm to resolve, so the OK notification changed nothing. Raise it first with \`/dr simulate alarm replication-lag\`.`,
      });
    }
  };
  return { actions, simulate };
};
