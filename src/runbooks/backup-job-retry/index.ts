import { dryRun, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/**
 * `/dr backup retry TABLE JOB`: starts a failed AWS Backup job again, with the vault, resource and
 * IAM role AWS Backup says it had. The "Retry backup" button of a job failure message runs it.
 */
export const verb = defineVerb({
  id: 'backup-job-retry',
  words: ['backup', 'retry'],
  group: 'Back up',
  summary: 'start a failed AWS Backup job of a configured table again (the Retry backup button of a job failure message)',
  example: '/dr backup retry spawn-instances 34176239-e96d-4e1d-9fad-529dbb3c3556',
  role: 'operator',
  destructive: false,
  details:
    "Reads the job with DescribeBackupJob in the table's region; it must be one that did not finish (FAILED, ABORTED, EXPIRED or PARTIAL) and must have backed up that configured table. Then starts a new on-demand job (StartBackupJob) into the same vault with the same IAM role, and posts its job ID. Creates a recovery point only; changes and deletes nothing.",
  args: {
    table: positional('table', 'TABLE', 'the configured table the job backed up', { required: true }),
    job: positional('backup-job', 'JOB', 'the failed AWS Backup job ID', { required: true }),
    dryRun: { ...dryRun, help: 'post the plan only; start nothing' },
  },
  input: (a) => ({ table: a.table, job: a.job, dryRun: a.dryRun }),
});

export type BackupJobRetryInput = RunOf<typeof verb>;
