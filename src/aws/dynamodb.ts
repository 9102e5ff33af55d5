import {
  CreateBackupCommand,
  DescribeBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  ListBackupsCommand,
  type BackupSummary,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { isErrorLike, wrapAws } from '../errors';

export interface TableBackup {
  arn: string;
  name: string;
  created: Date;
  sizeBytes?: number;
  status: string;
}

export interface TablePosture {
  table: string;
  exists: boolean;
  pitr: boolean;
  earliestRestorable?: Date;
  latestRestorable?: Date;
  /** Newest AVAILABLE user or AWS Backup backup (newest of any status when none is available yet). */
  newestBackup?: TableBackup;
  /** Regions of the table's global-table replicas, as DescribeTable lists them. */
  replicaRegions: string[];
  /** ReplicaStatus (ACTIVE, CREATING, …) of the replica in the backup region, when there is one. */
  backupReplicaStatus?: string;
  /** Set when a call failed for a reason other than "table not found"; the rest is what we could read. */
  error?: string;
}

function errorName(e: unknown): string {
  if (!isErrorLike(e)) return '';
  return (e as { Code?: string }).Code ?? e.name;
}

function isTableMissing(e: unknown): boolean {
  const n = errorName(e);
  return n === 'ResourceNotFoundException' || n === 'TableNotFoundException';
}

async function listTableBackups(ddb: DynamoDBClient, table: string): Promise<BackupSummary[]> {
  const out: BackupSummary[] = [];
  let start: string | undefined;
  do {
    const r = await ddb.send(
      new ListBackupsCommand({ TableName: table, BackupType: 'ALL', ...(start ? { ExclusiveStartBackupArn: start } : {}) }),
    );
    out.push(...(r.BackupSummaries ?? []).filter((b) => b.TableName === table && b.BackupType !== 'SYSTEM'));
    start = r.LastEvaluatedBackupArn;
  } while (start);
  return out;
}

function newest(backups: BackupSummary[]): TableBackup | undefined {
  const dated = backups.filter((b) => b.BackupArn && b.BackupCreationDateTime);
  const byNewest = (a: BackupSummary, b: BackupSummary) =>
    (b.BackupCreationDateTime?.getTime() ?? 0) - (a.BackupCreationDateTime?.getTime() ?? 0);
  const pick = [...dated.filter((b) => b.BackupStatus === 'AVAILABLE')].sort(byNewest)[0] ?? [...dated].sort(byNewest)[0];
  if (!pick?.BackupArn || !pick.BackupCreationDateTime) return undefined;
  return {
    arn: pick.BackupArn,
    name: pick.BackupName ?? '',
    created: pick.BackupCreationDateTime,
    ...(pick.BackupSizeBytes !== undefined ? { sizeBytes: pick.BackupSizeBytes } : {}),
    status: pick.BackupStatus ?? 'UNKNOWN',
  };
}

/**
 * PITR window, newest on-demand backup and global-table replicas of one table. Never throws for
 * the table's own state: a missing table is `exists: false`; other failures land in `error`.
 */
export async function getTablePosture(ddb: DynamoDBClient, table: string, backupRegion: string): Promise<TablePosture> {
  const posture: TablePosture = { table, exists: true, pitr: false, replicaRegions: [] };
  const errors: string[] = [];
  let missing = false;
  const fail = (e: unknown, operation: string) => {
    if (isTableMissing(e)) missing = true;
    else errors.push(wrapAws(e, operation, table).message);
  };

  await Promise.all([
    ddb.send(new DescribeTableCommand({ TableName: table })).then(
      (r) => {
        for (const replica of r.Table?.Replicas ?? []) {
          if (!replica.RegionName) continue;
          posture.replicaRegions.push(replica.RegionName);
          if (replica.RegionName === backupRegion && replica.ReplicaStatus) posture.backupReplicaStatus = replica.ReplicaStatus;
        }
      },
      (e: unknown) => fail(e, 'DescribeTable'),
    ),
    ddb.send(new DescribeContinuousBackupsCommand({ TableName: table })).then(
      (r) => {
        const d = r.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
        posture.pitr = d?.PointInTimeRecoveryStatus === 'ENABLED';
        if (posture.pitr && d?.EarliestRestorableDateTime) posture.earliestRestorable = d.EarliestRestorableDateTime;
        if (posture.pitr && d?.LatestRestorableDateTime) posture.latestRestorable = d.LatestRestorableDateTime;
      },
      (e: unknown) => fail(e, 'DescribeContinuousBackups'),
    ),
    listTableBackups(ddb, table).then(
      (backups) => {
        const b = newest(backups);
        if (b) posture.newestBackup = b;
      },
      (e: unknown) => fail(e, 'ListBackups'),
    ),
  ]);

  if (missing) return { table, exists: false, pitr: false, replicaRegions: [] };
  if (errors.length) posture.error = errors.join('; ');
  return posture;
}

const BACKUP_NAME_MAX = 255;

/** `<table>-backup-<UTC yyyymmdd-HHMMSS>`, within DynamoDB's backup-name rules ([a-zA-Z0-9_.-], ≤ 255). */
export function backupName(table: string, now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}` +
    `-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const suffix = `-backup-${stamp}`;
  const safe = table.replace(/[^a-zA-Z0-9_.-]/g, '_');
  return safe.slice(0, BACKUP_NAME_MAX - suffix.length) + suffix;
}

export interface BackupRef {
  arn: string;
  name: string;
  status: string;
}

export interface BackupDetails extends BackupRef {
  sizeBytes?: number;
  created?: Date;
}

/** Starts an on-demand backup of `table`. */
export async function createBackup(ddb: DynamoDBClient, table: string, name: string): Promise<BackupRef> {
  try {
    const r = await ddb.send(new CreateBackupCommand({ TableName: table, BackupName: name }));
    const d = r.BackupDetails;
    return { arn: d?.BackupArn ?? '', name: d?.BackupName ?? name, status: d?.BackupStatus ?? 'UNKNOWN' };
  } catch (e) {
    throw wrapAws(e, 'CreateBackup', table);
  }
}

/** Status, size and creation time of one backup. */
export async function describeBackup(ddb: DynamoDBClient, arn: string): Promise<BackupDetails> {
  try {
    const r = await ddb.send(new DescribeBackupCommand({ BackupArn: arn }));
    const d = r.BackupDescription?.BackupDetails;
    return {
      arn: d?.BackupArn ?? arn,
      name: d?.BackupName ?? '',
      status: d?.BackupStatus ?? 'UNKNOWN',
      ...(d?.BackupSizeBytes !== undefined ? { sizeBytes: d.BackupSizeBytes } : {}),
      ...(d?.BackupCreationDateTime ? { created: d.BackupCreationDateTime } : {}),
    };
  } catch (e) {
    throw wrapAws(e, 'DescribeBackup', arn);
  }
}
