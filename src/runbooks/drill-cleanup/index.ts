import { UsageError } from '../../errors';
import { dryRun, positional, quote } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr drill cleanup RUN_ID`: removes what one drill run created (its --keep, or a clean-up that failed). */
export const verb = defineVerb({
  id: 'drill-cleanup',
  words: ['drill', 'cleanup'],
  group: 'Incidents',
  summary: "remove what one drill left behind: its instance, canaries and temporary table, found by its run id",
  example: '/dr drill cleanup r-0123456789ab',
  role: 'operator',
  destructive: true,
  details:
    'Finds, by the run id alone, what that drill created: instances in the backup region tagged `drbot-drill=<run id>`, the canary object `.drbot-drill/<run id>` in each replicated bucket and its replica (every version of that key), the canary item of each table (only while it carries the run id) and the temporary tables `<table>-drill-<run id>` (only untagged or tagged with that run). The plan lists them; after approval they are removed. Nothing else is touched.',
  args: {
    runId: positional('word', 'RUN', 'the drill run id, `r-` and 12 hex digits', { required: true }),
    dryRun: { ...dryRun, help: 'post what would be removed; remove nothing' },
  },
  check: (a) => {
    if (!/^r-[0-9a-f]{12}$/.test(a.runId)) throw new UsageError(`RUN must be a drill's run id like \`r-0123456789ab\`, not ${quote(a.runId)}.`, '/dr drill cleanup RUN [--dry-run]');
  },
  input: (a) => ({ drillRunId: a.runId, dryRun: a.dryRun }),
});

export type DrillCleanupInput = RunOf<typeof verb>;
