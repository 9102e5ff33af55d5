import { UsageError } from '../../errors';
import { dryRun, flag, positional, quote } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** The name `/dr restore dynamodb` gives the tables it restores: `<table>-restored-<UTC yyyymmdd-HHMMSS>`. */
export function restoredNamePattern(table: string): RegExp {
  return new RegExp(`^${table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-restored-\\d{8}-\\d{6}$`);
}

/**
 * `/dr cutover dynamodb TABLE --from RESTORED`: makes the live table hold the data of its restored
 * copy, item by item, so it keeps its name, ARN, stream, alarms and IAM (a table cannot be renamed).
 * The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'cutover-dynamodb',
  words: ['cutover', 'dynamodb'],
  group: 'Restore',
  summary: 'make a live table hold the data of its restored copy, keeping its name, ARN, stream, alarms and IAM',
  example: '/dr cutover dynamodb spawn-instances --from spawn-instances-restored-20260127-101500',
  role: 'operator',
  destructive: true,
  details:
    "The plan diffs both tables in full: items to write (missing or different in the live table), items to delete (not in the restored copy), unchanged, and the name of the safety backup. After approval it takes an on-demand backup of the live table (`<table>-before-cutover-<UTC stamp>-<run id>`) and waits until it is AVAILABLE, writes only the differing items (BatchWriteItem, 25 a call) and deletes the extra ones, then verifies by a second full diff. Only drbot's restored copies of the table are accepted (their name and `drbot-restored-from` tag). Pause the table's writers first: their writes during the cut-over may be overwritten.",
  args: {
    table: positional('table', 'TABLE', 'the configured (live) table', { required: true }),
    from: flag('table-name', 'from', "drbot's restored copy of TABLE, named `TABLE-restored-<UTC yyyymmdd-HHMMSS>`", { required: true, placeholder: 'RESTORED' }),
    dryRun: { ...dryRun, help: 'post the plan (the full diff) only; change nothing' },
  },
  check(a) {
    if (!restoredNamePattern(a.table).test(a.from)) {
      throw new UsageError(`--from ${quote(a.from)} is not a restored copy of ${quote(a.table)}: drbot names those \`${a.table}-restored-<UTC yyyymmdd-HHMMSS>\`.`, verb.usage);
    }
  },
  input: (a) => ({ table: a.table, from: a.from, dryRun: a.dryRun }),
});

export type CutoverDynamodbInput = RunOf<typeof verb>;
