import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type KeySchemaElement,
  ListTagsOfResourceCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, type EC2Client, type Image, type Instance, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DrbotError, PreconditionError, wrapAws } from '../errors';
import { awsErrorName, describeTableIfAny } from './dynamodb-restore';
import { describeAllImages } from './ec2';

/*
 * What the monthly drill creates and removes, and nothing else. Everything it makes is named or
 * tagged with its run id, so a clean-up needs only that id:
 *   - one EC2 instance in the backup region, tagged `drbot-drill=<run id>`;
 *   - one canary object a replicated bucket, key `.drbot-drill/<run id>` (a key no one else writes);
 *   - one canary item a table, its key `drbot-drill#<run id>` and attribute `drbot-drill=<run id>`;
 *   - one temporary table, `<table>-drill-<run id>`, tagged `drbot-drill=<run id>`.
 * Deletes check that mark first: a drill never removes what it did not create.
 */

export const DRILL_TAG = 'drbot-drill';
export const RUN_ID = /^r-[0-9a-f]{12}$/;
/** Where the canary objects live in a bucket. */
export const CANARY_PREFIX = '.drbot-drill/';

export const canaryKey = (runId: string): string => `${CANARY_PREFIX}${runId}`;
/** The temporary table of a PITR restore (names ≤ 255 characters). */
export const drillTableName = (table: string, runId: string): string => `${table.slice(0, 255 - `-drill-${runId}`.length)}-drill-${runId}`;

const code = (e: unknown): string => awsErrorName(e);

// ---- EC2 ----------------------------------------------------------------------------------------

/** The newest available copy drbot made in the backup region (tagged backup=true), if any. */
export async function newestBackupAmi(ec2: EC2Client, region: string): Promise<Image | undefined> {
  const images = await describeAllImages(ec2, { Owners: ['self'], Filters: [{ Name: 'tag:backup', Values: ['true'] }] }, `backup copies in ${region}`);
  return images.filter((i) => i.State === 'available' && i.ImageId).sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
}

/**
 * The smallest current instance type an image can boot on, by its architecture: t3.nano (x86_64),
 * t4g.nano (arm64), t2.nano (i386, which Nitro types do not take). Mac images need a dedicated host.
 */
export function smallestInstanceType(image: Pick<Image, 'Architecture' | 'ImageId'>): string {
  switch (image.Architecture) {
    case 'arm64':
      return 't4g.nano';
    case 'i386':
      return 't2.nano';
    case 'x86_64':
    case undefined:
      return 't3.nano';
    default:
      throw new PreconditionError('drill_ami_unsupported', `The newest backup AMI \`${image.ImageId ?? ''}\` is a ${image.Architecture} image, which needs a dedicated host.`, 'Drill with an x86_64 or arm64 image: copy one with `/dr backup amis`.');
  }
}

/** Instances tagged with this drill run, not yet terminated (or all, with `all`). */
export async function drillInstances(ec2: EC2Client, runId: string, opts: { all?: boolean } = {}): Promise<Instance[]> {
  const out: Instance[] = [];
  let token: string | undefined;
  do {
    const page = await ec2
      .send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${DRILL_TAG}`, Values: [runId] }], MaxResults: 1000, ...(token ? { NextToken: token } : {}) }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'DescribeInstances', `instances tagged ${DRILL_TAG}=${runId}`);
      });
    for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
    token = page.NextToken;
  } while (token);
  return out.filter((i) => i.InstanceId && i.Tags?.some((t) => t.Key === DRILL_TAG && t.Value === runId) && (opts.all || !['terminated', 'shutting-down'].includes(i.State?.Name ?? '')));
}

/**
 * Launches the drill's instance, or finds the one this run launched already (a retried or replayed
 * step launches no second one: the tag is looked up first, and the client token is the run's).
 */
export async function launchDrillInstance(ec2: EC2Client, runId: string, imageId: string, instanceType: string, subnetId?: string): Promise<string> {
  const existing = (await drillInstances(ec2, runId))[0]?.InstanceId;
  if (existing) return existing;
  const tags = [
    { Key: DRILL_TAG, Value: runId },
    { Key: 'Name', Value: `drbot-drill-${runId}` },
  ];
  const r = await ec2
    .send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        ClientToken: `drbot-drill-${runId}`,
        InstanceInitiatedShutdownBehavior: 'terminate',
        MetadataOptions: { HttpTokens: 'required' },
        ...(subnetId ? { SubnetId: subnetId } : {}),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      }),
    )
    .catch((e: unknown) => {
      throw wrapAws(e, 'RunInstances', imageId);
    });
  const id = r.Instances?.[0]?.InstanceId;
  if (!id) throw new DrbotError('drill_no_instance', `RunInstances of \`${imageId}\` answered without an instance.`, 'Check the EC2 console of the backup region for an instance tagged with the run id.');
  return id;
}

/** The instance's state name (`pending`, `running`, …), or `gone`. */
export async function instanceState(ec2: EC2Client, instanceId: string): Promise<string> {
  try {
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return r.Reservations?.[0]?.Instances?.[0]?.State?.Name ?? 'gone';
  } catch (e) {
    if (code(e) === 'InvalidInstanceID.NotFound') return 'gone';
    throw wrapAws(e, 'DescribeInstances', instanceId);
  }
}

/** Terminates the run's instances (only those tagged with its id); returns their ids. */
export async function terminateDrillInstances(ec2: EC2Client, runId: string): Promise<string[]> {
  const ids = (await drillInstances(ec2, runId)).map((i) => i.InstanceId ?? '');
  if (!ids.length) return [];
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })).catch((e: unknown) => {
    throw wrapAws(e, 'TerminateInstances', ids.join(', '));
  });
  return ids;
}

// ---- S3 -----------------------------------------------------------------------------------------

/** Writes the canary object; its version id (a versioned bucket) is what the clean-up deletes. */
export async function putCanaryObject(s3: S3Client, bucket: string, runId: string, at: string): Promise<{ versionId?: string }> {
  const r = await s3
    .send(new PutObjectCommand({ Bucket: bucket, Key: canaryKey(runId), Body: `drbot drill ${runId} ${at}\n`, ContentType: 'text/plain', Metadata: { [DRILL_TAG]: runId } }))
    .catch((e: unknown) => {
      throw wrapAws(e, 'PutObject', `${bucket}/${canaryKey(runId)}`);
    });
  return r.VersionId ? { versionId: r.VersionId } : {};
}

/** The canary in the replica, if it arrived: its version id there. */
export async function findCanaryObject(s3: S3Client, bucket: string, runId: string): Promise<{ found: boolean; versionId?: string }> {
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: canaryKey(runId) }));
    return { found: true, ...(r.VersionId ? { versionId: r.VersionId } : {}) };
  } catch (e) {
    if (/^(NotFound|NoSuchKey)$/.test(code(e)) || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return { found: false };
    throw wrapAws(e, 'HeadObject', `${bucket}/${canaryKey(runId)}`);
  }
}

/**
 * Deletes every version (and delete marker) of the run's canary key, by version id: the key holds
 * nothing but what this run wrote (or what replication copied of it). Returns how many went.
 */
export async function deleteCanaryObjects(s3: S3Client, bucket: string, runId: string): Promise<number> {
  const key = canaryKey(runId);
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 1000 })).catch((e: unknown) => {
    throw wrapAws(e, 'ListObjectVersions', `${bucket}/${key}`);
  });
  const versions = [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].filter((v) => v.Key === key);
  let n = 0;
  for (const v of versions) {
    // `null` is a real version id (an object written while versioning was off or suspended): sent as
    // is, S3 deletes that version; left out, a versioned bucket would only get a new delete marker.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'DeleteObject', `${bucket}/${key}`);
    });
    n++;
  }
  return n;
}

// ---- DynamoDB -----------------------------------------------------------------------------------

export interface TableKey {
  schema: { name: string; type: 'S' | 'N' | 'B' }[];
}

/** The key of a table, and whether it has an ACTIVE replica in `region` (a global table). */
export async function tableKeyAndReplica(ddb: DynamoDBClient, table: string, region: string): Promise<{ key: TableKey; replica: 'active' | 'none' | string; arn: string }> {
  const d = await describeTableIfAny(ddb, table);
  if (!d) throw new PreconditionError('drill_table_missing', `Table \`${table}\` does not exist.`, 'Check `dynamodb.tables` in the drbot config.');
  const types = new Map((d.AttributeDefinitions ?? []).map((a) => [a.AttributeName ?? '', a.AttributeType ?? 'S']));
  const schema = (d.KeySchema ?? []).map((k: KeySchemaElement) => ({ name: k.AttributeName ?? '', type: (types.get(k.AttributeName ?? '') ?? 'S') as 'S' | 'N' | 'B' }));
  const rep = (d.Replicas ?? []).find((r) => r.RegionName === region);
  return { key: { schema }, replica: !rep ? 'none' : rep.ReplicaStatus === 'ACTIVE' ? 'active' : (rep.ReplicaStatus ?? 'unknown').toLowerCase(), arn: d.TableArn ?? '' };
}

/** The canary item's key: strings and binaries carry the run id; numbers a value no real id takes (negative, from the run id). */
export function canaryItemKey(key: TableKey, runId: string): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const k of key.schema) {
    const text = `drbot-drill#${runId}`;
    out[k.name] = k.type === 'N' ? { N: `-${parseInt(runId.slice(2), 16)}` } : k.type === 'B' ? { B: Buffer.from(text) } : { S: text };
  }
  return out;
}

/** Writes the canary item, never over an item that exists. */
export async function putCanaryItem(ddb: DynamoDBClient, table: string, key: TableKey, runId: string, at: string): Promise<void> {
  const first = key.schema[0]?.name ?? '';
  try {
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...canaryItemKey(key, runId), [DRILL_TAG]: { S: runId }, drbotDrillAt: { S: at } },
        ConditionExpression: 'attribute_not_exists(#k) OR #d = :run',
        ExpressionAttributeNames: { '#k': first, '#d': DRILL_TAG },
        ExpressionAttributeValues: { ':run': { S: runId } },
      }),
    );
  } catch (e) {
    if (code(e) === 'ConditionalCheckFailedException') throw new PreconditionError('drill_key_taken', `An item with the drill's canary key exists in \`${table}\` and is not this drill's: it was left alone.`, 'Nothing to do; the lag of this table was not measured.');
    throw wrapAws(e, 'PutItem', table);
  }
}

/** Whether the canary item is readable in this (replica) region. */
export async function canaryItemVisible(ddb: DynamoDBClient, table: string, key: TableKey, runId: string): Promise<boolean> {
  try {
    const r = await ddb.send(new GetItemCommand({ TableName: table, Key: canaryItemKey(key, runId) }));
    return r.Item?.[DRILL_TAG]?.S === runId;
  } catch (e) {
    throw wrapAws(e, 'GetItem', table);
  }
}

/** Deletes the canary item, only while it is this run's; an item already gone counts. */
export async function deleteCanaryItem(ddb: DynamoDBClient, table: string, key: TableKey, runId: string): Promise<boolean> {
  try {
    const r = await ddb.send(
      new DeleteItemCommand({
        TableName: table,
        Key: canaryItemKey(key, runId),
        ConditionExpression: '#d = :run',
        ExpressionAttributeNames: { '#d': DRILL_TAG },
        ExpressionAttributeValues: { ':run': { S: runId } },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Boolean(r.Attributes);
  } catch (e) {
    if (code(e) === 'ConditionalCheckFailedException') return false;
    throw wrapAws(e, 'DeleteItem', table);
  }
}

/** A table's tags as a map (one page: a table carries at most 50). */
export async function tableTags(ddb: DynamoDBClient, arn: string): Promise<Record<string, string>> {
  const r = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn })).catch((e: unknown) => {
    throw wrapAws(e, 'ListTagsOfResource', arn);
  });
  return Object.fromEntries((r.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

