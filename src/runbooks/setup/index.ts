import { dryRun, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr setup [s3|dynamodb|all]`: the runbook's protective settings on the configured estate, merged, never clobbered. */
export const verb = defineVerb({
  id: 'setup',
  words: ['setup'],
  group: 'Admin',
  summary: "apply the runbook's protections: S3 versioning, noncurrent expiry, archive transitions, replication with RTC; DynamoDB PITR, a replica in the backup region and an AWS Backup plan",
  example: '/dr setup s3 --dry-run',
  role: 'operator',
  destructive: true,
  details:
    'Plans per resource what is already right and the exact change for the rest, then applies after approval and reads every setting back. Lifecycle and replication rules are merged by rule ID: rules someone else wrote are kept (the runbook scripts would replace them). Also makes the backup bucket versioned, private and encrypted by default, and gives the tables an AWS Backup vault and daily plan (kept `retention.dynamodbBackupDays`, copied to a vault in the backup region).',
  args: {
    scope: positional('choice', 's3|dynamodb|all', 'what to set up (default: all)', { choices: ['s3', 'dynamodb', 'all'], what: 'a setup scope', default: 'all' }),
    dryRun: { ...dryRun, help: 'post the plan only; change nothing' },
  },
  input: (a) => ({ scope: a.scope, dryRun: a.dryRun }),
});

export type SetupInput = RunOf<typeof verb>;
