import { UsageError } from '../../errors';
import { flag, positional } from '../args';
import { restoredFrom } from '../restored-tables';
import { defineVerb, type RunOf } from '../verb';

/**
 * `/dr keep dynamodb TABLE --restored RESTORED`: end a restore with both tables side by side. It
 * changes nothing; it checks the restored table is drbot's restore of TABLE and says how to point an
 * application at it. The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'keep-dynamodb',
  words: ['keep', 'dynamodb'],
  group: 'Restore',
  summary: 'keep a restored table beside the live one, and say how to point an application at it',
  example: '/dr keep dynamodb spawn-instances --restored spawn-instances-restored-20261201-101500',
  role: 'operator',
  destructive: false,
  details:
    'Changes nothing. Checks that the restored table exists and that drbot made it from TABLE (its `drbot-run` and `drbot-restored-from` tags), shows both tables side by side, and lists what to change so an application uses the restored one: its name or ARN, IAM policies, stream consumers, alarms, backups. Offers *Delete restored table*.',
  args: {
    table: positional('table', 'TABLE', 'the configured table it was restored from', { required: true }),
    restored: flag('restored-table', 'restored', 'the restored table (`<table>-restored-<yyyymmdd-HHMMSS>`)', { required: true, placeholder: 'RESTORED' }),
  },
  check(a, config) {
    const from = restoredFrom(a.restored, config.dynamodb.tables.map((t) => t.name));
    if (from !== a.table) throw new UsageError(`\`${a.restored}\` is a restore of \`${from ?? '?'}\`, not of \`${a.table}\`.`, '/dr keep dynamodb TABLE --restored RESTORED');
  },
  input: (a) => ({ table: a.table, restored: a.restored }),
});

export type KeepDynamodbInput = RunOf<typeof verb>;
