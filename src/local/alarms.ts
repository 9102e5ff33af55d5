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
export const localAlarms: NonNullable<LocalStackOptions['alarms']> = (core) => {
  const service = createAlarmService({
    store: new DynamoAlarmStore({ client: core.store.doc, tableName: core.store.tableName }),
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
  const simulate = async (kind: Parameters<typeof simulatedSnsEvent>[0]) => {
    await handleSnsEvent(simulatedSnsEvent(kind, core.config, core.now()), service, core.log, core.now());
  };
  return { actions, simulate };
};
