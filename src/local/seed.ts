import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateBackupCommand,
  CreateTableCommand,
  PutItemCommand,
  PutResourcePolicyCommand,
  type Tag,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { backupName } from '../aws/dynamodb';
import { DELETE_OBJECTS_MAX } from '../aws/s3';
import type { BucketConfig, DrConfig } from '../config/schema';
import { isErrorLike } from '../errors';
import { type EstateSummary, seedBackupEstate } from './estate';
import { SANDBOX_CONFIG } from './sandbox';
import { mapLimit } from '../util/limit';
import type { BulkItems, BulkPut } from './moto';
import { createBucket } from '../aws/s3-config';

/** moto's default account; the replication role ARN only has to look right (moto does not check it). */
const SANDBOX_ACCOUNT = '123456789012';
export const SANDBOX_REPLICATION_ROLE_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/s3-replication-role`;

/** Objects under bin/ and lib/ in each replicated bucket. */
export const SEED_OBJECT_COUNT = 300;
/** How many of them get a delete marker in the primary unless opts say otherwise. */
export const SEED_DELETED_DEFAULT = 250;
/** How many surviving objects get different content in the replica than in the primary. */
export const SEED_DIFFERENT_COUNT = 5;
const PUT_CONCURRENCY = 16;

export interface SeedOptions {
  /** Objects of each replicated bucket that get a delete marker in the primary (default 250). */
  deletedObjects?: number;
  /** Writes many objects in one request (moto's bulk call, see moto_launcher.py); PutObject one by one otherwise. */
  putMany?: BulkPut;
  /** Writes many table items in one request (moto's bulk call); BatchWriteItem, 25 a call, otherwise. */
  putItems?: BulkItems;
  /** Called as objects are written: how many of how many. */
  onProgress?: (done: number, total: number) => void;
}

/** Objects in one bulk request, and bulk requests in flight at once. */
const BULK_BATCH = 150;
const BULK_CONCURRENCY = 4;

/** How the seed writes objects: in batches when it can, and counting for the progress line. */
interface Writer {
  putAll(s3: S3Client, bucket: string, objects: readonly { key: string; body: string }[]): Promise<void>;
}

function writer(opts: SeedOptions, total: number): Writer {
  let done = 0;
  const count = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };
  return {
    async putAll(s3, bucket, objects) {
      const bulk = opts.putMany;
      if (!bulk) {
        await putAll(s3, bucket, objects, count);
        return;
      }
      const batches: (readonly { key: string; body: string }[])[] = [];
      for (let i = 0; i < objects.length; i += BULK_BATCH) batches.push(objects.slice(i, i + BULK_BATCH));
      await mapLimit(batches, BULK_CONCURRENCY, async (batch) => {
        try {
          await bulk(bucket, batch);
          count(batch.length);
        } catch {
          // Not our launcher (a plain moto): the ordinary way, one request per object.
          await putAll(s3, bucket, batch, count);
        }
      });
    },
  };
}

export interface SeededBucket {
  name: string;
  region: string;
  shape: 'replicated' | 'versioned-bare' | 'unversioned';
  replica?: { bucket: string; region: string };
  /** Every key written (current in the replica). */
  keys: string[];
  /** Keys with a delete marker as their latest version in the primary. */
  deletedKeys: string[];
  /** Keys present in both whose replica body differs from the primary's. */
  differentKeys: string[];
}

export interface SeededTable {
  name: string;
  region: string;
  shape: 'pitr-and-backup' | 'pitr-only' | 'no-pitr';
  /** Items written (SEED_TABLE_ITEMS). */
  items: number;
  backupArn?: string;
}

export interface SeedSummary {
  buckets: SeededBucket[];
  tables: SeededTable[];
  /** AMIs, roles, the hosted zone, the Lambda function and the backup bucket (src/local/estate.ts). */
  estate: EstateSummary;
}


function named(e: unknown, ...names: string[]): boolean {
  return isErrorLike(e) && names.includes(e.name);
}

async function enableVersioning(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

async function putAll(s3: S3Client, bucket: string, objects: readonly { key: string; body: string }[], count: (n: number) => void = () => {}): Promise<void> {
  await mapLimit(objects, PUT_CONCURRENCY, async ({ key, body }) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));
    count(1);
  });
}

/** 300 keys, alternating bin/ and lib/, so deleted and surviving objects are spread over both prefixes. */
function seedKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < SEED_OBJECT_COUNT; i++) {
    const n = String(Math.floor(i / 2)).padStart(3, '0');
    keys.push(i % 2 === 0 ? `bin/spawn-tool-${n}` : `lib/libspawn-${n}.so`);
  }
  return keys;
}

async function seedReplicatedBucket(clients: AwsClients, cfg: DrConfig, b: BucketConfig, deletedObjects: number, w: Writer): Promise<SeededBucket> {
  const region = b.region ?? cfg.regions.primary;
  const replica = b.replica as NonNullable<BucketConfig['replica']>;
  const s3 = clients.s3(region);
  const s3r = clients.s3(replica.region);

  await Promise.all([createBucket(s3, b.name, region), createBucket(s3r, replica.bucket, replica.region)]);
  await Promise.all([enableVersioning(s3, b.name), enableVersioning(s3r, replica.bucket)]);
  const keys = seedKeys();
  const deletedCount = Math.max(0, Math.min(deletedObjects, keys.length));
  const deletedKeys = keys.slice(0, deletedCount);
  const differentKeys = keys.slice(deletedCount, deletedCount + SEED_DIFFERENT_COUNT);
  const different = new Set(differentKeys);
  const body = (key: string) => `spawn build artefact ${key}\n`;

  // The bucket settings and the objects are independent: write them side by side.
  // moto does not replicate: write what replication would have copied, then make a few differ.
  const objects = Promise.all([
    w.putAll(s3, b.name, keys.map((key) => ({ key, body: body(key) }))),
    w.putAll(s3r, replica.bucket, keys.map((key) => ({ key, body: different.has(key) ? `${body(key)}replica drift\n` : body(key) }))),
  ]);
  const lifecycle = s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: b.name,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'ExpireNoncurrentVersions',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            NoncurrentVersionExpiration: { NoncurrentDays: cfg.schedule.noncurrentVersionDays },
          },
        ],
      },
    }),
  );
  const replication = s3.send(
    new PutBucketReplicationCommand({
      Bucket: b.name,
      ReplicationConfiguration: {
        Role: SANDBOX_REPLICATION_ROLE_ARN,
        Rules: [
          {
            ID: 'ReplicateAll',
            Priority: 1,
            Status: 'Enabled',
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: {
              Bucket: `arn:aws:s3:::${replica.bucket}`,
              ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
              Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
            },
          },
        ],
      },
    }),
  );
  await Promise.all([objects, lifecycle, replication]);
  for (let i = 0; i < deletedKeys.length; i += DELETE_OBJECTS_MAX) {
    // No VersionId: each key gets a delete marker, as an accidental `aws s3 rm` would leave.
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: b.name,
        Delete: { Objects: deletedKeys.slice(i, i + DELETE_OBJECTS_MAX).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
  return { name: b.name, region, shape: 'replicated', replica: { ...replica }, keys, deletedKeys, differentKeys };
}

async function seedVersionedBucket(clients: AwsClients, cfg: DrConfig, b: BucketConfig, w: Writer): Promise<SeededBucket> {
  const region = b.region ?? cfg.regions.primary;
  const s3 = clients.s3(region);
  await createBucket(s3, b.name, region);
  await enableVersioning(s3, b.name);
  const prefix = b.archivePrefix ?? '';
  const keys = [`${prefix}run-0001/summary.json`, `${prefix}run-0002/summary.json`, `${prefix}run-0003/summary.json`];
  await w.putAll(s3, b.name, keys.map((key) => ({ key, body: `{"run":"${key}"}` })));
  return { name: b.name, region, shape: 'versioned-bare', keys, deletedKeys: [], differentKeys: [] };
}

async function seedUnversionedBucket(clients: AwsClients, cfg: DrConfig, b: BucketConfig, w: Writer): Promise<SeededBucket> {
  const region = b.region ?? cfg.regions.primary;
  const s3 = clients.s3(region);
  await createBucket(s3, b.name, region);
  const keys = ['2026/11/20/spawn.log', '2026/11/21/spawn.log'];
  await w.putAll(s3, b.name, keys.map((key) => ({ key, body: `log line for ${key}\n` })));
  return { name: b.name, region, shape: 'unversioned', keys, deletedKeys: [], differentKeys: [] };
}

/** Creates a table (one that exists already is kept); its ARN. */
async function createTable(ddb: DynamoDBClient, table: string, o: { tags: Tag[]; deletionProtection?: boolean }): Promise<string> {
  try {
    const r = await ddb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Tags: o.tags,
        ...(o.deletionProtection ? { DeletionProtectionEnabled: true } : {}),
      }),
    );
    return r.TableDescription?.TableArn ?? '';
  } catch (e) {
    if (!named(e, 'ResourceInUseException')) throw e;
    return '';
  }
}

/** Items in the seeded tables, in config order (any further table gets the last figure): a few thousand in all. */
export const SEED_TABLE_ITEMS = [2000, 600, 200] as const;
/** Items in one bulk request, and bulk requests (or BatchWriteItem calls) in flight at once. */
const ITEMS_BULK_BATCH = 500;
const ITEMS_CONCURRENCY = 8;
/** BatchWriteItem takes at most 25 puts a call. */
const BATCH_WRITE_MAX = 25;

const STATES = ['running', 'running', 'running', 'stopped', 'pending'] as const;
const TYPES = ['t3.micro', 't3.large', 'c6i.xlarge', 'm6i.2xlarge'] as const;

/**
 * Item `i` of a seeded table: a spawn record of strings and numbers (no binary: the bulk call is
 * JSON). Flat and small on purpose: moto's cost per item grows with its attributes.
 */
export function seedItem(table: string, i: number): Record<string, AttributeValue> {
  const at = Date.UTC(2026, 10, 1) + i * 977_000;
  return {
    pk: { S: `${table}#${String(i).padStart(5, '0')}` },
    state: { S: STATES[i % STATES.length] ?? 'running' },
    type: { S: TYPES[i % TYPES.length] ?? 't3.micro' },
    az: { S: `us-east-1${'abcd'[i % 4] ?? 'a'}` },
    launchedAt: { S: new Date(at).toISOString() },
    cpu: { N: String((i * 37) % 100) },
    expiresAt: { N: String(Math.floor(at / 1000) + 400 * 86_400) },
  };
}

async function writeItems(ddb: DynamoDBClient, region: string, table: string, items: Record<string, AttributeValue>[], bulk: BulkItems | undefined): Promise<void> {
  const batches = (size: number) => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  const batchWrite = async (batch: Record<string, AttributeValue>[]) => {
    let left = batch.map((Item) => ({ PutRequest: { Item } }));
    // Unprocessed items are asked again, as AWS may leave some.
    for (let round = 0; left.length && round < 5; round++) {
      const r = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: left } }));
      left = (r.UnprocessedItems?.[table] ?? []) as typeof left;
    }
    for (const req of left) if (req.PutRequest?.Item) await ddb.send(new PutItemCommand({ TableName: table, Item: req.PutRequest.Item }));
  };
  await mapLimit(batches(bulk ? ITEMS_BULK_BATCH : BATCH_WRITE_MAX), ITEMS_CONCURRENCY, async (batch) => {
    if (!bulk) return batchWrite(batch);
    try {
      await bulk(region, table, batch);
    } catch {
      // Not our launcher (a plain moto): the ordinary way, 25 a call.
      await mapLimit(Array.from({ length: Math.ceil(batch.length / BATCH_WRITE_MAX) }, (_, i) => batch.slice(i * BATCH_WRITE_MAX, (i + 1) * BATCH_WRITE_MAX)), 2, batchWrite);
    }
  });
}

/** A read-only grant to one of the estate's roles: what a resource policy on a real table looks like. */
function readPolicy(arn: string, prefix: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'WorkersRead', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:role/${prefix}-worker-00` }, Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [arn, `${arn}/index/*`] }],
  });
}

async function seedTable(clients: AwsClients, cfg: DrConfig, name: string, region: string | undefined, index: number, bulk: BulkItems | undefined): Promise<SeededTable> {
  const r = region ?? cfg.regions.primary;
  const ddb = clients.dynamodb(r);
  const shape: SeededTable['shape'] = index === 0 ? 'pitr-and-backup' : index === 1 ? 'pitr-only' : 'no-pitr';
  // The first table is set up the way a real one is (the restore story re-applies all of it):
  // a stream, TTL, tags, deletion protection and a resource policy.
  const story = index === 0;
  const arn = await createTable(ddb, name, {
    tags: [
      { Key: 'team', Value: 'spawn' },
      { Key: 'env', Value: 'sandbox' },
    ],
    ...(story ? { deletionProtection: true } : {}),
  });
  const count = SEED_TABLE_ITEMS[Math.min(index, SEED_TABLE_ITEMS.length - 1)] ?? 0;
  const items = Array.from({ length: count }, (_, i) => seedItem(name, i));
  await Promise.all([
    writeItems(ddb, r, name, items, bulk),
    shape !== 'no-pitr'
      ? ddb.send(new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }))
      : Promise.resolve(),
    story ? ddb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } })) : Promise.resolve(),
    story && arn ? ddb.send(new PutResourcePolicyCommand({ ResourceArn: arn, Policy: readPolicy(arn, cfg.iam.rolePrefix) })) : Promise.resolve(),
  ]);
  const seeded: SeededTable = { name, region: r, shape, items: count };
  await Promise.all([
    shape === 'pitr-and-backup'
      ? ddb.send(new CreateBackupCommand({ TableName: name, BackupName: backupName(name, new Date()) })).then((b) => {
          if (b.BackupDetails?.BackupArn) seeded.backupArn = b.BackupDetails.BackupArn;
        })
      : undefined,
    // The stream once the items are in: moto keeps a record of every write to a table with a
    // stream (and copies them into every backup), which would triple the seed's cost.
    story ? ddb.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } })) : undefined,
  ]);
  return seeded;
}

/**
 * Creates the sandbox estate (see SANDBOX_CONFIG) in a fresh moto. The config shapes it:
 * - a bucket with a replica: versioned, noncurrent expiry (schedule days), replication with RTC,
 *   metrics and delete-marker replication; 300 objects under bin/ and lib/ written to both buckets
 *   (moto does not replicate), `deletedObjects` of them delete-marked in the primary, and a few
 *   surviving ones with different content in the replica (green);
 * - a bucket with an archivePrefix: versioned, no lifecycle (amber);
 * - any other bucket: versioning never enabled, a couple of objects (red);
 * - tables in config order, with a few thousand items in all (SEED_TABLE_ITEMS): the first gets
 *   PITR, an on-demand backup made once its items are in, a stream, TTL, tags, deletion
 *   protection and a resource policy (what a restore must re-apply); the second PITR only; the
 *   rest neither. moto has no global-table replicas, so none get one.
 */
export async function seedSandbox(clients: AwsClients, cfg: DrConfig = SANDBOX_CONFIG, opts: SeedOptions = {}): Promise<SeedSummary> {
  const deletedObjects = opts.deletedObjects ?? SEED_DELETED_DEFAULT;
  const total = cfg.s3.buckets.reduce((n, b) => n + (b.replica ? 2 * SEED_OBJECT_COUNT : b.archivePrefix !== undefined ? 3 : 2), 0);
  const w = writer(opts, total);
  const [buckets, tables, estate] = await Promise.all([
    Promise.all(
      cfg.s3.buckets.map((b) =>
        b.replica
          ? seedReplicatedBucket(clients, cfg, b, deletedObjects, w)
          : b.archivePrefix !== undefined
            ? seedVersionedBucket(clients, cfg, b, w)
            : seedUnversionedBucket(clients, cfg, b, w),
      ),
    ),
    Promise.all(cfg.dynamodb.tables.map((t, i) => seedTable(clients, cfg, t.name, t.region, i, opts.putItems))),
    seedBackupEstate(clients, cfg),
  ]);
  return { buckets, tables, estate };
}
