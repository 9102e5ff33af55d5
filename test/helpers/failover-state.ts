import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { FAILOVER_STATE_KEY } from '../../src/runbooks/failover/state';
import type { StateStore } from '../../src/store/state';

/** No failover recorded: the state item deleted (a test arranges the state it needs itself). */
export async function noFailoverRecorded(store: StateStore): Promise<void> {
  await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: FAILOVER_STATE_KEY }));
}
