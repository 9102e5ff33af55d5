import { dryRun, positional } from '../args';
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
  details: 'Creates backups only; no table is changed. Waits until each backup is AVAILABLE and reports its ARN and size.',
  args: {
    tables: positional('table', 'TABLE', 'configured tables (default: all of them)', { variadic: true }),
    dryRun: { ...dryRun, help: 'post the plan only; create nothing' },
  },
  input: (a) => ({ tables: a.tables, dryRun: a.dryRun }),
});

export type BackupDynamodbInput = RunOf<typeof verb>;
