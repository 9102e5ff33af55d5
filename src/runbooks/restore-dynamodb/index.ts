import { UsageError } from '../../errors';
import { DDB_BACKUP_ARN, dryRun, flag, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

const USAGE = '/dr restore dynamodb TABLE (--to TIME|DURATION | --backup ARN|NAME | --latest-backup) [--dry-run]';

/**
 * `/dr restore dynamodb`: restore a configured table into a new table
 * `<table>-restored-<UTC yyyymmdd-HHMMSS>` — to a point in time (PITR), from a named backup, or from
 * the newest backup — re-apply what a restore drops, compare with the live table, and offer the next
 * steps (cut over, keep both, delete the restored table). The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'restore-dynamodb',
  words: ['restore', 'dynamodb'],
  group: 'Restore',
  usage: USAGE,
  summary: 'restore a table into a new table (PITR time, a backup, or the newest backup), re-apply its settings and compare with the live one',
  example: '/dr restore dynamodb spawn-instances --to 30m',
  role: 'operator',
  destructive: true,
  details:
    'Writes only to a new table, `<table>-restored-<UTC yyyymmdd-HHMMSS>`: the live table is not touched. It still creates a table that costs money until it is deleted, so it needs an approval. A time is checked against the table’s PITR window; a deleted table is restored from its system backup (AWS keeps only its state just before the deletion) or a named backup. After the restore, PITR, TTL, the stream, tags, deletion protection and the resource policy are copied from the source (from the backup’s description when the source is gone) and the report says what could not be. The result compares item counts and a sample of items, and offers *Cut over*, *Keep both* and *Delete restored table*.',
  args: {
    table: positional('table', 'TABLE', 'a configured table (also one that was deleted)', { required: true }),
    to: flag('time', 'to', 'restore the table as it was at this time (ISO 8601) or this long ago (30m, 2h, 7d)', { placeholder: 'TIME|DURATION' }),
    backup: flag('ddb-backup', 'backup', "restore this backup of the table (its ARN, or its name)", { placeholder: 'ARN|NAME' }),
    latestBackup: flag('boolean', 'latest-backup', 'restore the newest AVAILABLE backup of the table'),
    dryRun,
  },
  conflicts: [
    ['to', 'backup'],
    ['to', 'latestBackup'],
    ['backup', 'latestBackup'],
  ],
  check(a) {
    if (a.to === undefined && a.backup === undefined && !a.latestBackup) throw new UsageError('say what to restore: `--to TIME|DURATION`, `--backup ARN|NAME` or `--latest-backup`.', USAGE);
    const of = a.backup ? DDB_BACKUP_ARN.exec(a.backup)?.[1] : undefined;
    if (of !== undefined && of !== a.table) throw new UsageError(`that backup is of table \`${of}\`, not \`${a.table}\`.`, USAGE);
  },
  input: (a) => ({
    table: a.table,
    ...(a.to !== undefined ? { to: a.to } : {}),
    ...(a.backup !== undefined ? { backup: a.backup } : {}),
    latestBackup: a.latestBackup,
    dryRun: a.dryRun,
  }),
});

export type RestoreDynamodbInput = RunOf<typeof verb>;
