import { type BackupSummary, DeleteBackupCommand, type DynamoDBClient, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { backupName } from '../../aws/dynamodb';
import { isErrorLike, wrapAws } from '../../errors';
import type { Copy } from '../retention';

/*
 * Retention adapter for on-demand DynamoDB backups: what exists, as copies the planner can judge,
 * and how one is deleted. drbot's are USER backups named `<table>-backup-<yyyymmdd-HHMMSS>` (the
 * name backupName gives); AWS Backup's, SYSTEM ones and any other name are someone else's.
 */

const STAMP = '19700101-000000';

/** The exact name pattern backupName produces for this table (its truncation included). */
export function ourBackupPattern(table: string): RegExp {
  const prefix = backupName(table, new Date(0)).slice(0, -STAMP.length);
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d{8}-\\d{6}$`);
}

function toCopy(b: BackupSummary, ours: RegExp): Copy | undefined {
  if (!b.BackupArn || b.BackupStatus === 'DELETED') return undefined;
  return {
    id: b.BackupArn,
    group: b.TableName ?? '',
    createdAt: b.BackupCreationDateTime?.toISOString() ?? '',
    state: b.BackupStatus === 'AVAILABLE' ? 'good' : 'pending',
    ours: b.BackupType === 'USER' && ours.test(b.BackupName ?? ''),
    label: b.BackupName ?? b.BackupArn,
  };
}

/** Every backup of one table (all types, paginated), as copies. */
export async function listTableCopies(ddb: DynamoDBClient, table: string): Promise<Copy[]> {
  const ours = ourBackupPattern(table);
  const out: Copy[] = [];
  let start: string | undefined;
  do {
    const r = await ddb.send(new ListBackupsCommand({ TableName: table, BackupType: 'ALL', ...(start ? { ExclusiveStartBackupArn: start } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListBackups', table);
    });
    for (const b of r.BackupSummaries ?? []) {
      const c = b.TableName === table ? toCopy(b, ours) : undefined;
      if (c) out.push(c);
    }
    start = r.LastEvaluatedBackupArn;
  } while (start);
  return out;
}

/** Deletes one backup; one already gone counts as deleted (a retried step). */
export async function deleteTableBackup(ddb: DynamoDBClient, arn: string): Promise<void> {
  try {
    await ddb.send(new DeleteBackupCommand({ BackupArn: arn }));
  } catch (e) {
    if (isErrorLike(e) && e.name === 'BackupNotFoundException') return;
    throw wrapAws(e, 'DeleteBackup', arn);
  }
}
