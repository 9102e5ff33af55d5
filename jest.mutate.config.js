/**
 * The tests Stryker runs for `npm run mutate` (stryker.config.mjs): the unit tests of the mutated
 * modules, so each mutant costs about a second. The moto-backed e2e files that also reach them
 * (test/e2e/alarms.test.ts, alarm-button-retries, slack-edge-local, plan-forgery) start a local
 * stack per file: with them a run of these four modules was estimated at two hours on 2 cores.
 * Files here that need moto (replica-diff, undelete-runbook, copy-back-runbook, cutover-apply, restore-compare, prune-adapters, failover-dns, rollback-lambda-runbook, delete-restored-runbook, drill-cleanup, compromise-runbook, restore-route53-runbook, restore-iam-runbook, failback-runbook, failover-runbook, restore-dynamodb-runbook, restore-dynamodb-plan, cutover-runbook, setup-runbook, check-replication-runbook, drill-history-runbook, status-runbook, backup-route53-runbook, backup-all-runbook, backup-amis-runbook, backup-dynamodb-runbook, backup-job-retry-runbook (its AWS Backup client is a mock), keep-dynamodb-runbook, backup-iam-runbook, backup-lambda-runbook, drill-runbook, exports, failover-state, readiness, setup-aws-backup in integration/) use the one scripts/mutate.ts starts.
 * Same transforms and setup as jest.config.js. Stryker runs per test (coverageAnalysis perTest).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

// The parser fuzz test's 10,000 commands take seconds per mutant; 1,000 with the same seed here.
process.env.FUZZ_COMMANDS ??= '1000';

// MUTATE_TESTS=prune-adapters,failover-dns: only the files of the list below whose path holds one of
// these. A run over a few modules then loads only their tests; a static mutant (one in a module's
// top-level code) runs every test of the list, which with all of them takes about 3 minutes.
const only = (process.env.MUTATE_TESTS ?? '').split(',').filter(Boolean);
// Pair it with --mutate: the other modules' mutants would be judged without their tests.
function pick(files) {
  if (!only.length) return files;
  const picked = files.filter((f) => only.some((o) => f.includes(o)));
  if (!picked.length) throw new Error(`MUTATE_TESTS=${only.join(',')} names none of the test files in jest.mutate.config.js`);
  return picked;
}

module.exports = {
  ...base,
  // Neither the secrets-scan journal (test/setup.ts, global setup and teardown) nor its imports
  // (the Slack stand-in, the state store's SDK) are needed by these tests; loading them took
  // seconds of every mutant's run. The full scan stays in npm test.
  setupFilesAfterEnv: [],
  globalSetup: undefined,
  globalTeardown: undefined,
  testMatch: pick([
    // src/approvals/roles.ts
    '<rootDir>/test/unit/roles.test.ts',
    // src/slack/verify.ts: the function, then the real handler behind it
    '<rootDir>/test/unit/verify.test.ts',
    '<rootDir>/test/unit/slack-edge.test.ts',
    '<rootDir>/test/unit/ack-tail.test.ts',
    // src/slack/parse.ts
    '<rootDir>/test/unit/parse.test.ts',
    '<rootDir>/test/unit/fuzz.test.ts',
    // src/alarms/actions.ts
    '<rootDir>/test/unit/alarm-run-failure.test.ts',
    '<rootDir>/test/unit/alarm-actions.test.ts',
    // src/store/state.ts: its conditional writes, on dynalite
    '<rootDir>/test/integration/state-store.test.ts',
    // src/runbooks/args.ts (the verbs' flags and their checks) and engine-lambda.ts (duplicate starts)
    '<rootDir>/test/unit/args.test.ts',
    '<rootDir>/test/unit/catalogue.test.ts',
    '<rootDir>/test/unit/views.test.ts',
    '<rootDir>/test/unit/restore-dynamodb.test.ts',
    '<rootDir>/test/unit/cutover-dynamodb.test.ts',
    '<rootDir>/test/unit/compromise.test.ts',
    '<rootDir>/test/unit/manifest.test.ts',
    '<rootDir>/test/unit/engine-lambda.test.ts',
    // src/runbooks/driver.ts: runs of made-up runbooks on the durable local runner, the store on dynalite
    '<rootDir>/test/integration/driver-flow.test.ts',
    '<rootDir>/test/integration/driver.test.ts',
    // src/runbooks/retention.ts: what every prune deletes
    '<rootDir>/test/unit/retention.test.ts',
    // the approval and command listeners, called directly over the state store on dynalite
    '<rootDir>/test/integration/approval-listener.test.ts',
    '<rootDir>/test/integration/command-listener.test.ts',
    // the runbooks' pure parts: what a Route53 restore and a DynamoDB cutover change, the setup merge
    // (cutover-dynamodb/diff.ts also by the cutover unit file above)
    '<rootDir>/test/unit/route53-diff.test.ts',
    // src/runbooks/spaced-wait.ts: the spaced wait's arithmetic (its waits: restore-route53-runbook, cutover-runbook)
    '<rootDir>/test/unit/spaced-wait.test.ts',
    '<rootDir>/test/unit/setup-merge.test.ts',
    // copy-back: which objects it copies (restore-s3/replica.ts), the comparison on moto
    '<rootDir>/test/unit/merge-listings.test.ts',
    '<rootDir>/test/integration/replica-diff.test.ts',
    // undelete (restore-s3/undelete.ts): its plan, execution and verify on moto, no local stack
    '<rootDir>/test/integration/undelete-runbook.test.ts',
    // copy-back (restore-s3/replica.ts): what it copies, never deletes, and AWS failing on the way
    '<rootDir>/test/integration/copy-back-runbook.test.ts',
    // the DynamoDB cut-over's table work (cutover-dynamodb/diff.ts and apply.ts) on moto
    '<rootDir>/test/integration/cutover-apply.test.ts',
    // what a DynamoDB restore reports of the restored table against the live one, on moto
    '<rootDir>/test/integration/restore-compare.test.ts',
    // what the runbooks share on their data-loss paths: exports written and read back (exports.ts) on
    // moto's S3, drbot's restored tables' names (restored-tables.ts), the failover state on moto's DynamoDB
    '<rootDir>/test/integration/exports.test.ts',
    '<rootDir>/test/unit/restored-tables.test.ts',
    '<rootDir>/test/integration/failover-state.test.ts',
    // the failover's readiness (failover/readiness.ts): each colour, reason and RPO, and which copy of each image it launches
    '<rootDir>/test/unit/readiness.test.ts',
    '<rootDir>/test/integration/readiness.test.ts',
    // the prune adapters (backup-*/prune.ts, export-prune.ts): what --prune lists and deletes, on moto
    '<rootDir>/test/integration/prune-adapters.test.ts',
    // the failover's DNS writes (failover/dns.ts): pure parts, then batches written on moto
    '<rootDir>/test/unit/failover.test.ts',
    '<rootDir>/test/integration/failover-dns.test.ts',
    // what an IAM restore changes (restore-iam/diff.ts)
    '<rootDir>/test/unit/restore-iam.test.ts',
    // the rollback-lambda runbook's plan and execution on moto (rollback-lambda/runbook.ts)
    '<rootDir>/test/unit/rollback-lambda-plan.test.ts',
    '<rootDir>/test/integration/rollback-lambda-runbook.test.ts',
    // the delete-restored-table runbook and the ownership check it shares with keep (restore-dynamodb/owned.ts)
    '<rootDir>/test/integration/delete-restored-runbook.test.ts',
    // the drill's clean-up (drill/cleanup.ts) on moto
    '<rootDir>/test/integration/drill-cleanup.test.ts',
    // the compromise runbook (compromise/runbook.ts): containment, investigation, report, --terminate on moto
    '<rootDir>/test/integration/compromise-runbook.test.ts',
    // the Route53 restore runbook (restore-route53/runbook.ts): the export it trusts, its batches and report, on moto
    '<rootDir>/test/integration/restore-route53-runbook.test.ts',
    // the IAM restore runbook (restore-iam/runbook.ts): the export it trusts, what it writes and verifies, on moto
    '<rootDir>/test/integration/restore-iam-runbook.test.ts',
    // the failback runbook (failback/runbook.ts): its state in a moto table, DNS and instances on moto
    '<rootDir>/test/integration/failback-runbook.test.ts',
    // the failover runbook (failover/runbook.ts): launch, checks, DNS switch and state on moto
    '<rootDir>/test/integration/failover-runbook.test.ts',
    // the DynamoDB restore runbook and its plan's reads (restore-dynamodb/runbook.ts, plan.ts) on moto
    '<rootDir>/test/integration/restore-dynamodb-runbook.test.ts',
    // what a DynamoDB restore starts from and re-applies (restore-dynamodb/plan.ts), called directly on moto
    '<rootDir>/test/integration/restore-dynamodb-plan.test.ts',
    // the cut-over runbook (cutover-dynamodb/runbook.ts): refusals, the safety backup, the phases and the verify, on moto
    '<rootDir>/test/integration/cutover-runbook.test.ts',
    // the setup runbook (setup/runbook.ts): what it finds, writes and reads back, on moto
    '<rootDir>/test/integration/setup-runbook.test.ts',
    // setup's AWS Backup plan and roles (setup/aws-backup.ts, setup/role.ts), called directly on moto
    '<rootDir>/test/integration/setup-aws-backup.test.ts',
    // the read-only runbooks (check-replication, drill-history, status runbook.ts): what each reads and reports, on moto
    '<rootDir>/test/integration/check-replication-runbook.test.ts',
    '<rootDir>/test/integration/drill-history-runbook.test.ts',
    '<rootDir>/test/integration/status-runbook.test.ts',
    // the backup runbooks (backup-*/runbook.ts): what each writes, verifies and prunes, on moto
    '<rootDir>/test/integration/backup-route53-runbook.test.ts',
    '<rootDir>/test/integration/backup-all-runbook.test.ts',
    '<rootDir>/test/integration/backup-amis-runbook.test.ts',
    '<rootDir>/test/integration/backup-dynamodb-runbook.test.ts',
    '<rootDir>/test/integration/backup-job-retry-runbook.test.ts',
    // /dr keep dynamodb (keep-dynamodb/runbook.ts): what it checks and shows, and that it changes nothing, on moto
    '<rootDir>/test/integration/keep-dynamodb-runbook.test.ts',
    '<rootDir>/test/integration/backup-iam-runbook.test.ts',
    '<rootDir>/test/integration/backup-lambda-runbook.test.ts',
    // the monthly drill (drill/runbook.ts): each measure against its objective, the report kept, the clean-up whatever failed, on moto
    '<rootDir>/test/integration/drill-runbook.test.ts',
  ]),
};
