import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlarmThread } from '../../src/alarms/model';
import type { DynamoAlarmStore } from '../../src/alarms/store';

type Item = Record<string, unknown>;

/**
 * What a test can read back from the alarm items of a state table, by the keys DynamoAlarmStore
 * documents: `ALARMMSG#<messageId>` / `NOTIFICATION` and `ALARM#<arn>` / `THREAD`.
 */
export function alarmTable(doc: DynamoDBDocumentClient, table: string, store: DynamoAlarmStore) {
  async function scan(pkPrefix: string, sk: string, projection?: string): Promise<Item[]> {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await doc.send(
        new ScanCommand({
          TableName: table,
          ConsistentRead: true,
          FilterExpression: 'begins_with(pk, :p) AND sk = :sk',
          ExpressionAttributeValues: { ':p': pkPrefix, ':sk': sk },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      out.push(...((res.Items ?? []) as Item[]));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  return {
    /** The notification item of a MessageId, as stored. */
    async notification(messageId: string): Promise<Item | undefined> {
      const res = await doc.send(new GetCommand({ TableName: table, Key: { pk: `ALARMMSG#${messageId}`, sk: 'NOTIFICATION' }, ConsistentRead: true }));
      return res.Item as Item | undefined;
    },
    /** How many notifications the table records. */
    async notificationCount(): Promise<number> {
      return (await scan('ALARMMSG#', 'NOTIFICATION', 'pk')).length;
    },
    /** Every alarm thread in the table, read back through the store. */
    async threads(): Promise<AlarmThread[]> {
      const keys = await scan('ALARM#', 'THREAD', 'pk');
      return store.getThreads(keys.map((k) => String(k['pk']).slice('ALARM#'.length)));
    },
  };
}
