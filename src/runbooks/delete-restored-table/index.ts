import { dryRun, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/**
 * `/dr delete restored-table RESTORED`: delete a table `/dr restore dynamodb` made, and nothing else
 * (the name pattern and drbot's tags must both say so). The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'delete-restored-table',
  words: ['delete', 'restored-table'],
  group: 'Restore',
  summary: 'delete a table that `/dr restore dynamodb` made (no other table)',
  example: '/dr delete restored-table spawn-instances-restored-20261201-101500',
  role: 'operator',
  destructive: true,
  details:
    'Refuses any table that is not drbot’s restore: its name must be `<configured table>-restored-<yyyymmdd-HHMMSS>` and it must carry the `drbot-run` and `drbot-restored-from` tags. Turns off deletion protection only if drbot turned it on, deletes the table, and waits until it is gone. The live table is never touched.',
  args: {
    restored: positional('restored-table', 'RESTORED', 'a table drbot restored (`<table>-restored-<yyyymmdd-HHMMSS>`)', { required: true }),
    dryRun,
  },
  input: (a) => ({ restored: a.restored, dryRun: a.dryRun }),
});

export type DeleteRestoredTableInput = RunOf<typeof verb>;
