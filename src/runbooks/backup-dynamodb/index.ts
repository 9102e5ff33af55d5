import { dryRun, flag, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup dynamodb`: on-demand backups named `<table>-backup-<UTC yyyymmdd-HHMMSS>`, waited on until AVAILABLE. */
export const verb = defineVerb({
  id: 'backup-dynamodb',
  words: ['backup', 'dynamodb'],
  group: 'Back up',
  summary: 'on-demand backups of the named tables, or of every configured table',
  example: '/dr backup dynamodb spawn-instances',
  role: 'operator',
  destructive: false,
  approvalWith: 'prune',
  details:
    "Creates backups; no table is changed. Waits until each backup is AVAILABLE and reports its ARN and size. With `--prune` it also deletes: the plan lists drbot's own backups (named `<table>-backup-…`) past `retention.dynamodbBackupDays`, which are deleted after approval; the newest of each table and every backup drbot did not make are never touched.",
  args: {
    tables: positional('table', 'TABLE', 'configured tables (default: all of them)', { variadic: true }),
    prune: flag('boolean', 'prune', "also delete drbot's backups older than `retention.dynamodbBackupDays`, keeping the newest of each table (needs approval)"),
    dryRun: { ...dryRun, help: 'post the plan only; create nothing' },
  },
  input: (a) => ({ tables: a.tables, dryRun: a.dryRun, prune: a.prune }),
});

export type BackupDynamodbInput = RunOf<typeof verb>;
