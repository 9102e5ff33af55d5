import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  PutResourcePolicyCommand,
  ScanCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { canonical } from '../../src/aws/dynamodb-restore';

export type Item = Record<string, AttributeValue>;

/** An item of every attribute type DynamoDB has, so an item-by-item comparison means something. */
export function richItem(i: number): Item {
  return {
    pk: { S: `i-${String(i).padStart(5, '0')}` },
    n: { N: String(i * 7) },
    state: { S: i % 3 ? 'running' : 'stopped' },
    tags: { M: { team: { S: 'spawn' }, idx: { N: String(i) } } },
    zones: { L: [{ S: 'us-east-1a' }, { N: '2' }] },
    names: { SS: [`a${i}`, `b${i}`] },
    blob: { B: Buffer.from(`bytes-${i}`) },
    live: { BOOL: i % 2 === 0 },
    gone: { NULL: true },
    expiresAt: { N: String(2_000_000_000 + i) },
  };
}

export interface SourceOptions {
  items?: number;
  pitr?: boolean;
  ttl?: string;
  stream?: 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
  tags?: Record<string, string>;
  deletionProtection?: boolean;
  policy?: boolean;
}

/** A table as an SRE would have set it up: items, PITR, TTL, a stream, tags, deletion protection, a resource policy. */
export async function createSourceTable(ddb: DynamoDBClient, name: string, o: SourceOptions = {}): Promise<Item[]> {
  const created = await ddb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      ...(o.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: o.stream } } : {}),
      ...(o.deletionProtection ? { DeletionProtectionEnabled: true } : {}),
      ...(o.tags ? { Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    }),
  );
  const items = Array.from({ length: o.items ?? 0 }, (_, i) => richItem(i));
  await writeItems(ddb, name, items);
  if (o.pitr) await ddb.send(new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
  if (o.ttl) await ddb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: o.ttl } }));
  const arn = created.TableDescription?.TableArn ?? '';
  if (o.policy) await ddb.send(new PutResourcePolicyCommand({ ResourceArn: arn, Policy: policyFor(arn) }));
  return items;
}

export function policyFor(arn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'ReadOnly', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/spawn-reader' }, Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [arn, `${arn}/index/*`] }],
  });
}

export async function writeItems(ddb: DynamoDBClient, table: string, items: Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

/** Every item of a table, by its key, as canonical text (every page). */
export async function itemsOf(ddb: DynamoDBClient, table: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let start: Item | undefined;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const it of r.Items ?? []) out.set(it.pk?.S ?? '', canonical(it));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

export function byKey(items: Item[]): Map<string, string> {
  return new Map(items.map((it) => [it.pk?.S ?? '', canonical(it)]));
}
