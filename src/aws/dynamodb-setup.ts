import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { wrapAws } from '../errors';

/** The two protections the runbook asks of every table: PITR, and a global-table replica in the backup region. */
export interface TableProtection {
  table: string;
  arn: string;
  pitr: boolean;
  /** ReplicaStatus of the replica in the backup region (ACTIVE, CREATING, …); undefined when there is none. */
  replicaStatus?: string;
}

export async function readTableProtection(ddb: DynamoDBClient, table: string, backupRegion: string): Promise<TableProtection> {
  const [described, continuous] = await Promise.all([
    ddb.send(new DescribeTableCommand({ TableName: table })).catch((e: unknown) => {
      throw wrapAws(e, 'DescribeTable', table);
    }),
    ddb.send(new DescribeContinuousBackupsCommand({ TableName: table })).catch((e: unknown) => {
      throw wrapAws(e, 'DescribeContinuousBackups', table);
    }),
  ]);
  const replica = (described.Table?.Replicas ?? []).find((r) => r.RegionName === backupRegion);
  return {
    table,
    arn: described.Table?.TableArn ?? '',
    pitr: continuous.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED',
    ...(replica ? { replicaStatus: replica.ReplicaStatus ?? 'UNKNOWN' } : {}),
  };
}

export async function enablePitr(ddb: DynamoDBClient, table: string): Promise<void> {
  await ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })).catch((e: unknown) => {
    throw wrapAws(e, 'UpdateContinuousBackups', table);
  });
}

/** Adds a global-table (2019.11.21) replica of `table` in `region`; AWS builds it in the background (CREATING → ACTIVE). */
export async function addReplica(ddb: DynamoDBClient, table: string, region: string): Promise<void> {
  try {
    await ddb.send(new UpdateTableCommand({ TableName: table, ReplicaUpdates: [{ Create: { RegionName: region } }] }));
  } catch (e) {
    // A retried step finds the replica it asked for already on its way.
    if (/already exists|is already a replica/i.test((e as Error).message ?? '')) return;
    throw wrapAws(e, 'UpdateTable', table);
  }
}
