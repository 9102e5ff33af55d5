/**
 * `npm run mutate`: mutation testing (issue #15) of the modules where a surviving mutant would be a
 * security or data-loss bug. Not in .ci/run: too slow for every change.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  mutate: [
    'src/approvals/roles.ts',
    'src/slack/verify.ts',
    'src/slack/parse.ts',
    'src/alarms/actions.ts',
    'src/store/state.ts',
    'src/runbooks/args.ts',
    'src/runbooks/engine-lambda.ts',
    'src/runbooks/driver.ts',
    'src/runbooks/retention.ts',
    'src/slack/listeners/actions/index.ts',
    'src/slack/listeners/commands/index.ts',
    // the runbooks' data-loss parts with tests that need moto but no local stack (scripts/mutate.ts starts the moto)
    'src/runbooks/restore-s3/undelete.ts',
    'src/runbooks/restore-s3/replica.ts',
    'src/runbooks/restore-route53/diff.ts',
    'src/runbooks/setup/merge.ts',
    'src/runbooks/cutover-dynamodb/diff.ts',
    'src/runbooks/cutover-dynamodb/apply.ts',
    'src/runbooks/restore-dynamodb/compare.ts',
    // what each backup verb's --prune lists as copies (drbot's or not, pinned or not) and how it deletes one
    'src/runbooks/backup-dynamodb/prune.ts',
    'src/runbooks/backup-iam/prune.ts',
    'src/runbooks/backup-route53/prune.ts',
    'src/runbooks/backup-lambda/prune.ts',
    'src/runbooks/backup-amis/prune.ts',
    'src/runbooks/export-prune.ts',
    // the failover's and failback's DNS writes: batches within Route53's limits, INSYNC waits, the check after
    'src/runbooks/failover/dns.ts',
    // the INSYNC wait both use
    'src/runbooks/route53-insync.ts',
    // the spaced wait of the Route53 restore and the cut-over's safety backup: the last check at the limit they report
    'src/runbooks/spaced-wait.ts',
    // what an IAM restore changes in a role and its policies (the plan shows it, the steps apply it)
    'src/runbooks/restore-iam/diff.ts',
    // /dr rollback lambda: what it plans, refuses and leaves the alias on (a rollback, a canary, an abort)
    'src/runbooks/rollback-lambda/runbook.ts',
    // /dr delete restored-table: only drbot's own restores, protection off only where drbot set it
    'src/runbooks/delete-restored-table/runbook.ts',
    'src/runbooks/restore-dynamodb/owned.ts',
    // the drill's clean-up: only what its own run id marks, every part tried
    'src/runbooks/drill/cleanup.ts',
    // /dr compromise: every key contained (and checked), CloudTrail read within its limits, only the listed instances terminated
    'src/runbooks/compromise/runbook.ts',
    // /dr restore route53: the export checked before it is trusted, batches written once, stopped and verified honestly
    'src/runbooks/restore-route53/runbook.ts',
    // /dr restore iam: the export checked before it is trusted, only differences written, verified by exporting again
    'src/runbooks/restore-iam/runbook.ts',
    // /dr failback: only what the failover switched is put back, its instances terminated only once DNS is back
    'src/runbooks/failback/runbook.ts',
    // /dr failover: launched from the copies, DNS switched only once they pass their checks, the state kept for the failback
    'src/runbooks/failover/runbook.ts',
    // /dr restore dynamodb: a new table only, each dropped setting re-applied on its own, an unconfirmed status never taken as ACTIVE
    'src/runbooks/restore-dynamodb/runbook.ts',
    'src/runbooks/restore-dynamodb/plan.ts',
    // /dr cutover dynamodb: only drbot's restored copy of this table, the safety backup AVAILABLE before any write, a verifying diff
    'src/runbooks/cutover-dynamodb/runbook.ts',
    // /dr setup: rules merged with what AWS holds, never replaced; every setting read back
    'src/runbooks/setup/runbook.ts',
    // the read-only runbooks: every weakness of a replication set-up named, the drills' trend, the posture's counts
    'src/runbooks/check-replication/runbook.ts',
    'src/runbooks/drill-history/runbook.ts',
    'src/runbooks/status/runbook.ts',
    // the backup runbooks: the whole export written, verified by reading back, pruned only after it verifies
    'src/runbooks/backup-route53/runbook.ts',
    'src/runbooks/backup-all/runbook.ts',
    'src/runbooks/backup-amis/runbook.ts',
    'src/runbooks/backup-dynamodb/runbook.ts',
    // the "Retry backup" button: only a failed job of exactly the configured table, retried once
    'src/runbooks/backup-job-retry/runbook.ts',
    // /dr keep dynamodb: only drbot's restore of that table, every setting shown as AWS has it, nothing changed
    'src/runbooks/keep-dynamodb/runbook.ts',
    'src/runbooks/backup-iam/runbook.ts',
    'src/runbooks/backup-lambda/runbook.ts',
    // the monthly drill: each RTO and RPO measured against its objective, the clean-up run whatever failed
    'src/runbooks/drill/runbook.ts',
    // /dr drill cleanup (its parts are drill/cleanup.ts above), and which restore-s3 runbook a command gets
    'src/runbooks/drill-cleanup/runbook.ts',
    'src/runbooks/restore-s3/runbook.ts',
    // what the runbooks share on their data-loss paths: an export written and read back (the backups,
    // the restores read it), which restored tables are drbot's, the failover's state the failback reverses
    'src/runbooks/exports.ts',
    'src/runbooks/restored-tables.ts',
    'src/runbooks/failover/state.ts',
    // what /dr failover shows the approver (red, amber, green; the RPO) and which backup copy of each image it launches
    'src/runbooks/failover/readiness.ts',
    // /dr setup's AWS Backup plan (drbot's rule replaced in place, others kept) and the roles it makes (their trust and scope)
    'src/runbooks/setup/aws-backup.ts',
    'src/runbooks/setup/role.ts',
  ],
  testRunner: 'jest',
  jest: { configFile: 'jest.mutate.config.js', enableFindRelatedTests: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutate.json',
  coverageAnalysis: 'perTest',
  // 2-core machines shared with other test runs.
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Over the dry run's time per mutant: the moto-backed e2e files vary under load.
  timeoutMS: 10000,
  thresholds: { high: 90, low: 85, break: null },
};
