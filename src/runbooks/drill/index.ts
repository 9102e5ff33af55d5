import { dryRun, flag } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr drill`: the runbook's monthly DR drill, measured and cleaned up. */
export const verb = defineVerb({
  id: 'drill',
  words: ['drill'],
  group: 'Incidents',
  summary: 'the monthly DR drill: launch from the newest backup AMI, measure replication and a PITR restore against RTO/RPO, clean up',
  example: '/dr drill --dry-run',
  role: 'operator',
  destructive: true,
  details:
    'In the backup region, launches one instance from the newest backup AMI (the smallest type its architecture allows: t3.nano, t4g.nano; tagged `drbot-drill=<run id>`) and times it to running (the RTO of compute). Writes a canary object (`.drbot-drill/<run id>`) to each replicated bucket and times its arrival in the replica (the RPO of S3); writes a canary item to each table and reads it in the backup region when the table has a replica there (the lag of DynamoDB), or says it has none; restores one table from PITR into `<table>-drill-<run id>` and compares item counts (the RTO of a restore). The report gives each measure against `objectives` (pass / fail), is posted in the ops channel and kept for `/dr drill history`. Everything the drill created is removed at the end, success or failure, and the report says what was; with `--keep` it stays for inspection and a *Clean up now* button removes it (`/dr drill cleanup RUN`). A drill touches nothing it did not create. Also runs monthly (1st, 03:00 UTC) from its schedule.',
  args: {
    keep: flag('boolean', 'keep', 'keep what the drill created for inspection; *Clean up now* removes it later'),
    dryRun: { ...dryRun, help: 'post the plan only; create nothing' },
  },
  input: (a) => ({ dryRun: a.dryRun, keep: a.keep }),
});

export type DrillInput = RunOf<typeof verb>;
