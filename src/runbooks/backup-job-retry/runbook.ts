import { describeBackupJob, startBackupJob } from '../../aws/backup';
import { PreconditionError } from '../../errors';
import { code } from '../../slack/views/format';
import { type Runbook, step } from '../driver';
import { tableRegion } from '../resources';
import type { BackupJobRetryInput } from '.';

/** The states of a job that ended without a usable recovery point: the ones worth retrying. */
const RETRYABLE = new Set(['FAILED', 'ABORTED', 'EXPIRED', 'PARTIAL']);
const TABLE_ARN = /^arn:aws[\w-]*:dynamodb:([a-z0-9-]+):(\d{12}):table\/([A-Za-z0-9_.-]{3,255})$/;

export interface RetryPlan {
  region: string;
  vaultName: string;
  resourceArn: string;
  iamRoleArn: string;
}

/**
 * The job is read from AWS, never taken from the button: what it backed up must be the configured
 * table the request names (its region included), so a forged value cannot aim the bot elsewhere.
 */
export const runbook: Runbook<BackupJobRetryInput, RetryPlan> = {
  title: (input) => `Retry of AWS Backup job for ${input.table}`,
  destructive: false,

  async plan(deps, input) {
    const region = tableRegion(deps.config, input.table);
    const job = await describeBackupJob(deps.clients.backup(region), input.job);
    const arn = TABLE_ARN.exec(job.resourceArn);
    if (!arn || arn[3] !== input.table || arn[1] !== region) {
      throw new PreconditionError(
        'job_not_for_table',
        `AWS Backup job ${code(input.job)} backed up ${code(job.resourceArn || 'nothing drbot knows')}, not the configured table ${code(input.table)} in ${region}; nothing was started.`,
        'Retry only jobs of the tables in the drbot config, from their own failure message.',
      );
    }
    if (!RETRYABLE.has(job.state)) {
      throw new PreconditionError('job_not_failed', `AWS Backup job ${code(input.job)} is ${job.state}: there is nothing to retry.`, 'A job can be retried once it has FAILED, ABORTED, EXPIRED or ended PARTIAL.');
    }
    return {
      lines: [
        `AWS Backup job ${code(job.id)} for table ${code(input.table)} (${region}) ended *${job.state}*${job.statusMessage ? `: ${code(job.statusMessage, 300)}` : ''}.`,
        `${input.dryRun ? 'Would start' : 'Starts'} a new on-demand backup job into vault ${code(job.vaultName)} with role ${code(job.iamRoleArn)}; nothing is changed or deleted.`,
      ],
      data: { region, vaultName: job.vaultName, resourceArn: job.resourceArn, iamRoleArn: job.iamRoleArn },
    };
  },

  async execute(ctx, deps, input, plan) {
    // The run's id is the token: one click is one run (a retried click starts no second run), and a
    // replayed step sends the same token, so AWS Backup starts one job however often it is asked.
    const started = await step(ctx, 'start-job', () =>
      startBackupJob(deps.clients.backup(plan.region), { vaultName: plan.vaultName, resourceArn: plan.resourceArn, iamRoleArn: plan.iamRoleArn, idempotencyToken: `drbot-${input.runId}` }),
    );
    const url = `https://${plan.region}.console.aws.amazon.com/backup/home?region=${plan.region}#/jobs/backup/details/${encodeURIComponent(started.jobId)}`;
    return {
      ok: true,
      lines: [`:arrows_counterclockwise: Started AWS Backup job ${code(started.jobId)} for table ${code(input.table)} into vault ${code(plan.vaultName)} (<${url}|view job>).`],
      failures: [],
    };
  },
};
