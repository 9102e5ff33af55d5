import {
  type AttributeValue,
  BatchGetItemCommand,
  DeleteTableCommand,
  DescribeBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetResourcePolicyCommand,
  type KeySchemaElement,
  ListBackupsCommand,
  ListTagsOfResourceCommand,
  PutResourcePolicyCommand,
  RestoreTableFromBackupCommand,
  RestoreTableToPointInTimeCommand,
  ScanCommand,
  type TableDescription,
  type Tag,
  TagResourceCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { isErrorLike, PreconditionError, wrapAws } from '../errors';

/*
 * The DynamoDB calls of a restore into a new table and of what comes after it (keep, delete):
 * reading a table's settings, restoring, re-applying the settings AWS drops, and reading items to
 * compare. AWS's limits are kept here: BatchGetItem ≤ 100 keys, 50 tags a table, Scan pages ≤ 1 MB.
 */

/** BatchGetItem takes at most 100 keys a call. */
export const BATCH_GET_MAX = 100;
/** A table carries at most 50 tags (user tags; `aws:` ones are AWS's). */
export const TAGS_MAX = 50;

export function awsErrorName(e: unknown): string {
  if (!isErrorLike(e)) return '';
  return (e as { Code?: string }).Code ?? e.name;
}

export function isTableMissing(e: unknown): boolean {
  return /^(ResourceNotFoundException|TableNotFoundException|SourceTableNotFoundException)$/.test(awsErrorName(e));
}

/** DescribeTable, or undefined when the table does not exist. */
export async function describeTableIfAny(ddb: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (e) {
    if (isTableMissing(e)) return undefined;
    throw wrapAws(e, 'DescribeTable', table);
  }
}

export interface PitrWindow {
  enabled: boolean;
  /** ISO times. */
  earliest?: string;
  latest?: string;
}

export async function readPitrWindow(ddb: DynamoDBClient, table: string): Promise<PitrWindow> {
  try {
    const r = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    const d = r.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
    return {
      enabled: d?.PointInTimeRecoveryStatus === 'ENABLED',
      ...(d?.EarliestRestorableDateTime ? { earliest: d.EarliestRestorableDateTime.toISOString() } : {}),
      ...(d?.LatestRestorableDateTime ? { latest: d.LatestRestorableDateTime.toISOString() } : {}),
    };
  } catch (e) {
    throw wrapAws(e, 'DescribeContinuousBackups', table);
  }
}

export interface BackupInfo {
  arn: string;
  name: string;
  /** USER, SYSTEM (made when a table with PITR was deleted) or AWS_BACKUP. */
  type: string;
  status: string;
  /** ISO time the backup was requested: the state it holds. */
  created: string;
  sizeBytes?: number;
  table: string;
}

/** Every backup DynamoDB lists for a table (USER, SYSTEM, AWS_BACKUP), every page. */
export async function listTableBackups(ddb: DynamoDBClient, table: string): Promise<BackupInfo[]> {
  const out: BackupInfo[] = [];
  let start: string | undefined;
  do {
    const r = await ddb.send(new ListBackupsCommand({ TableName: table, BackupType: 'ALL', ...(start ? { ExclusiveStartBackupArn: start } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListBackups', table);
    });
    for (const b of r.BackupSummaries ?? []) {
      if (!b.BackupArn || b.TableName !== table) continue;
      out.push({
        arn: b.BackupArn,
        name: b.BackupName ?? '',
        type: b.BackupType ?? 'USER',
        status: b.BackupStatus ?? 'UNKNOWN',
        created: (b.BackupCreationDateTime ?? new Date(0)).toISOString(),
        ...(b.BackupSizeBytes !== undefined ? { sizeBytes: b.BackupSizeBytes } : {}),
        table,
      });
    }
    start = r.LastEvaluatedBackupArn;
  } while (start);
  return out;
}

/** What a backup remembers of its table's features (DescribeBackup's SourceTableFeatureDetails). */
export interface BackupFeatures {
  ttlAttribute?: string;
  streamViewType?: string;
}

export interface BackupDetails extends BackupInfo {
  sourceArn?: string;
  billingMode?: string;
  features: BackupFeatures;
}

/** DescribeBackup, or undefined when there is no such backup. */
export async function describeBackupIfAny(ddb: DynamoDBClient, arn: string): Promise<BackupDetails | undefined> {
  let r;
  try {
    r = await ddb.send(new DescribeBackupCommand({ BackupArn: arn }));
  } catch (e) {
    if (awsErrorName(e) === 'BackupNotFoundException') return undefined;
    throw wrapAws(e, 'DescribeBackup', arn);
  }
  const d = r.BackupDescription?.BackupDetails;
  const src = r.BackupDescription?.SourceTableDetails;
  const feat = r.BackupDescription?.SourceTableFeatureDetails;
  const ttl = feat?.TimeToLiveDescription;
  const stream = feat?.StreamDescription;
  return {
    arn: d?.BackupArn ?? arn,
    name: d?.BackupName ?? '',
    type: d?.BackupType ?? 'USER',
    status: d?.BackupStatus ?? 'UNKNOWN',
    created: (d?.BackupCreationDateTime ?? new Date(0)).toISOString(),
    ...(d?.BackupSizeBytes !== undefined ? { sizeBytes: d.BackupSizeBytes } : {}),
    table: src?.TableName ?? '',
    ...(src?.TableArn ? { sourceArn: src.TableArn } : {}),
    ...(src?.BillingMode ? { billingMode: src.BillingMode } : {}),
    features: {
      ...((ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') && ttl.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
      ...(stream?.StreamEnabled && stream.StreamViewType ? { streamViewType: stream.StreamViewType } : {}),
    },
  };
}

/** The settings a restore does not carry over, as read from a table. */
export interface TableSettings {
  pitr?: boolean;
  ttlAttribute?: string;
  streamViewType?: string;
  tags?: Tag[];
  deletionProtection?: boolean;
  /** The resource-based policy document, when the table has one. */
  resourcePolicy?: string;
  billingMode?: string;
}

/** Every tag of a resource, every page. */
export async function listTags(ddb: DynamoDBClient, arn: string): Promise<Tag[]> {
  const tags: Tag[] = [];
  let next: string | undefined;
  do {
    const r = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn, ...(next ? { NextToken: next } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListTagsOfResource', arn);
    });
    tags.push(...(r.Tags ?? []));
    next = r.NextToken;
  } while (next);
  return tags;
}

/** The table's resource-based policy, or undefined when it has none. */
export async function getTablePolicy(ddb: DynamoDBClient, arn: string): Promise<string | undefined> {
  try {
    return (await ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn }))).Policy;
  } catch (e) {
    if (awsErrorName(e) === 'PolicyNotFoundException') return undefined;
    throw wrapAws(e, 'GetResourcePolicy', arn);
  }
}

/**
 * Reads each setting of a live table on its own: one that cannot be read (access denied, say) is
 * named in `unread` with the reason, and the others are still returned.
 */
export async function readTableSettings(ddb: DynamoDBClient, desc: TableDescription): Promise<{ settings: TableSettings; unread: { setting: string; reason: string }[] }> {
  const table = desc.TableName ?? '';
  const arn = desc.TableArn ?? '';
  const settings: TableSettings = {
    ...(desc.StreamSpecification?.StreamEnabled && desc.StreamSpecification.StreamViewType ? { streamViewType: desc.StreamSpecification.StreamViewType } : {}),
    deletionProtection: desc.DeletionProtectionEnabled === true,
    billingMode: desc.BillingModeSummary?.BillingMode ?? 'PROVISIONED',
  };
  const unread: { setting: string; reason: string }[] = [];
  const read = async (setting: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      unread.push({ setting, reason: e instanceof Error ? e.message : String(e) });
    }
  };
  await Promise.all([
    read('PITR', async () => {
      settings.pitr = (await readPitrWindow(ddb, table)).enabled;
    }),
    read('TTL', async () => {
      const t = await ddb.send(new DescribeTimeToLiveCommand({ TableName: table })).catch((e: unknown) => {
        throw wrapAws(e, 'DescribeTimeToLive', table);
      });
      const d = t.TimeToLiveDescription;
      if ((d?.TimeToLiveStatus === 'ENABLED' || d?.TimeToLiveStatus === 'ENABLING') && d.AttributeName) settings.ttlAttribute = d.AttributeName;
    }),
    read('tags', async () => {
      settings.tags = await listTags(ddb, arn);
    }),
    read('resource policy', async () => {
      const p = await getTablePolicy(ddb, arn);
      if (p) settings.resourcePolicy = p;
    }),
  ]);
  return { settings, unread };
}

function restoreError(e: unknown, operation: string, what: string): Error {
  const name = awsErrorName(e);
  const msg = isErrorLike(e) ? e.message : String(e);
  if (name === 'InvalidRestoreTimeException') {
    return new PreconditionError('outside_pitr_window', `AWS refused the restore time for \`${what}\`: ${msg}`, 'Pick a time within the table’s PITR window (`/dr status` shows it) and run the restore again.');
  }
  if (name === 'PointInTimeRecoveryUnavailableException') {
    return new PreconditionError('pitr_unavailable', `Point-in-time recovery is not available for \`${what}\`: ${msg}`, 'Restore from a backup instead: `--backup NAME` or `--latest-backup`.');
  }
  if (name === 'BackupNotFoundException') {
    return new PreconditionError('unknown_backup', `The backup is gone: ${msg}`, 'List the table’s backups in the console or run the restore with `--latest-backup`.');
  }
  return wrapAws(e, operation, what);
}

/** Starts a point-in-time restore of `source` into `target`; an existing target (a retried step) is described instead. */
export async function restoreToPointInTime(ddb: DynamoDBClient, source: string, target: string, at: Date): Promise<TableDescription> {
  try {
    const r = await ddb.send(new RestoreTableToPointInTimeCommand({ SourceTableName: source, TargetTableName: target, RestoreDateTime: at }));
    return r.TableDescription ?? {};
  } catch (e) {
    if (awsErrorName(e) === 'TableAlreadyExistsException') return (await describeTableIfAny(ddb, target)) ?? {};
    throw restoreError(e, 'RestoreTableToPointInTime', source);
  }
}

/** Starts a restore of a backup into `target`; an existing target (a retried step) is described instead. */
export async function restoreFromBackup(ddb: DynamoDBClient, backupArn: string, target: string): Promise<TableDescription> {
  try {
    const r = await ddb.send(new RestoreTableFromBackupCommand({ BackupArn: backupArn, TargetTableName: target }));
    return r.TableDescription ?? {};
  } catch (e) {
    if (awsErrorName(e) === 'TableAlreadyExistsException') return (await describeTableIfAny(ddb, target)) ?? {};
    throw restoreError(e, 'RestoreTableFromBackup', backupArn);
  }
}

export async function tagTable(ddb: DynamoDBClient, arn: string, tags: Tag[]): Promise<void> {
  if (!tags.length) return;
  await ddb.send(new TagResourceCommand({ ResourceArn: arn, Tags: tags })).catch((e: unknown) => {
    throw wrapAws(e, 'TagResource', arn);
  });
}

export async function enablePitrOn(ddb: DynamoDBClient, table: string): Promise<void> {
  await ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })).catch((e: unknown) => {
    throw wrapAws(e, 'UpdateContinuousBackups', table);
  });
}

/** TTL on `attribute`; already on with that attribute (a retried step) is fine. */
export async function enableTtl(ddb: DynamoDBClient, table: string, attribute: string): Promise<void> {
  try {
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: attribute } }));
  } catch (e) {
    if (/already enabled/i.test(isErrorLike(e) ? e.message : '')) {
      const now = (await ddb.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
      if (now?.AttributeName === attribute) return;
    }
    throw wrapAws(e, 'UpdateTimeToLive', table);
  }
}

/** A stream of `viewType`; one already enabled with that view (a retried step) is fine. */
export async function enableStream(ddb: DynamoDBClient, table: string, viewType: string): Promise<void> {
  try {
    await ddb.send(new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: true, StreamViewType: viewType as 'NEW_IMAGE' } }));
  } catch (e) {
    if (/already has an enabled stream/i.test(isErrorLike(e) ? e.message : '')) {
      const now = await describeTableIfAny(ddb, table);
      if (now?.StreamSpecification?.StreamViewType === viewType) return;
    }
    throw wrapAws(e, 'UpdateTable', table);
  }
}

export async function setDeletionProtection(ddb: DynamoDBClient, table: string, on: boolean): Promise<void> {
  await ddb.send(new UpdateTableCommand({ TableName: table, DeletionProtectionEnabled: on })).catch((e: unknown) => {
    throw wrapAws(e, 'UpdateTable', table);
  });
}

export async function putTablePolicy(ddb: DynamoDBClient, arn: string, policy: string): Promise<void> {
  await ddb.send(new PutResourcePolicyCommand({ ResourceArn: arn, Policy: policy })).catch((e: unknown) => {
    throw wrapAws(e, 'PutResourcePolicy', arn);
  });
}

/** Deletes a table; one already gone (a retried step) counts as deleted. */
export async function deleteTable(ddb: DynamoDBClient, table: string): Promise<'deleting' | 'gone'> {
  try {
    await ddb.send(new DeleteTableCommand({ TableName: table }));
    return 'deleting';
  } catch (e) {
    if (isTableMissing(e)) return 'gone';
    throw wrapAws(e, 'DeleteTable', table);
  }
}

export type Item = Record<string, AttributeValue>;

/** The key attributes of an item, by the table's key schema. */
export function keyOf(item: Item, schema: readonly KeySchemaElement[]): Item {
  const key: Item = {};
  for (const k of schema) {
    const name = k.AttributeName ?? '';
    const v = item[name];
    if (v) key[name] = v;
  }
  return key;
}

/** A stable text for an attribute value: map keys sorted, sets sorted, binaries in base64. */
export function canonical(v: unknown): string {
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined && k !== '$unknown').sort();
    return `{${keys
      .map((k) => {
        const inner = o[k];
        // String, number and binary sets are unordered.
        const val = (k === 'SS' || k === 'NS' || k === 'BS') && Array.isArray(inner) ? `[${inner.map(canonical).sort().join(',')}]` : canonical(inner);
        return `${JSON.stringify(k)}:${val}`;
      })
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Exact item count by Scan, every page, unless the table is bigger than `maxPages` pages of 1 MB:
 * then DynamoDB's own ItemCount (refreshed about every six hours), marked approximate. The scan
 * asks for the key attributes only: the read units are the same as Select COUNT, and moto (which
 * answers COUNT with every item anyway) serializes a fraction of the data.
 */
export async function countItems(ddb: DynamoDBClient, table: string, keyNames: readonly string[], maxPages: number): Promise<{ count: number; exact: boolean }> {
  let count = 0;
  let start: Item | undefined;
  const names = Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k]));
  for (let page = 0; page < maxPages; page++) {
    const r = await ddb
      .send(
        new ScanCommand({
          TableName: table,
          ...(keyNames.length ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : { Select: 'COUNT' }),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      )
      .catch((e: unknown) => {
        throw wrapAws(e, 'Scan', table);
      });
    count += r.Count ?? 0;
    start = r.LastEvaluatedKey;
    if (!start) return { count, exact: true };
  }
  const d = await describeTableIfAny(ddb, table);
  return { count: d?.ItemCount ?? count, exact: false };
}

/**
 * Up to `perSegment` items from each of `segments` parallel-scan segments: a sample spread over the
 * key space at a bounded cost (one Scan call of at most 1 MB a segment).
 */
export async function sampleItems(ddb: DynamoDBClient, table: string, segments: number, perSegment: number): Promise<Item[]> {
  const out: Item[] = [];
  for (let s = 0; s < segments; s++) {
    const r = await ddb.send(new ScanCommand({ TableName: table, Segment: s, TotalSegments: segments, Limit: perSegment })).catch((e: unknown) => {
      throw wrapAws(e, 'Scan', table);
    });
    out.push(...(r.Items ?? []));
  }
  return out;
}

/**
 * The items with these keys (≤ 100 keys a BatchGetItem, UnprocessedKeys asked again with backoff),
 * by their canonical key. Keys still unprocessed after `rounds` are returned in `unread`: neither
 * found nor known to be absent.
 */
export async function getItems(
  ddb: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  opts: { rounds?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<{ items: Map<string, Item>; unread: Item[] }> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const items = new Map<string, Item>();
  const unread: Item[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    let pending: Item[] = keys.slice(i, i + BATCH_GET_MAX);
    for (let round = 0; pending.length && round < (opts.rounds ?? 6); round++) {
      if (round) await sleep(50 * 2 ** round);
      const r = await ddb.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })).catch((e: unknown) => {
        throw wrapAws(e, 'BatchGetItem', table);
      });
      for (const it of r.Responses?.[table] ?? []) items.set(canonical(it), it);
      pending = r.UnprocessedKeys?.[table]?.Keys ?? [];
    }
    unread.push(...pending);
  }
  return { items, unread };
}
