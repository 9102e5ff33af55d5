import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../slack/poster';
import { escapeMrkdwn, slackDate } from '../slack/views/format';
import type { NoticeNotification } from './model';

/*
 * AWS Backup job events (EventBridge "Backup Job State Change", delivered through the alarm topics)
 * as their own message: what failed, on which resource, AWS's reason, and two buttons: "Retry
 * backup" (the same AWS Backup job started again, for operators: `/dr backup retry TABLE JOB`) and
 * "View job" (the job in the AWS Backup console). Everything else stays a generic notice.
 */

export const ACTION_BACKUP_RETRY = 'backup_job_retry';
export const ACTION_BACKUP_VIEW = 'backup_job_view';

/** What "Retry backup" carries: the table and the job, both checked again when clicked (a value can be forged). */
export interface RetryJobValue {
  table: string;
  job: string;
}

/** The button's value back, or undefined when it is not one of ours. */
export function parseRetryJobValue(raw: string | undefined): RetryJobValue | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Partial<RetryJobValue>;
    if (typeof v.table === 'string' && /^[A-Za-z0-9_.-]{3,255}$/.test(v.table) && typeof v.job === 'string' && /^[A-Za-z0-9-]{1,100}$/.test(v.job)) return { table: v.table, job: v.job };
  } catch {
    // not ours
  }
  return undefined;
}

export interface BackupJob {
  jobId: string;
  state: string;
  region: string;
  resourceArn: string;
  resourceType: string;
  vault: string;
  statusMessage?: string;
  /** The DynamoDB table the job backs up, when it is one. */
  table?: string;
}

const OK_STATES = new Set(['COMPLETED', 'CREATED', 'PENDING', 'RUNNING']);
const str = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

/** The job in an SNS message, when the message is an AWS Backup job state change; undefined otherwise. */
export function parseBackupJob(raw: string): BackupJob | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.trim());
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const e = parsed as Record<string, unknown>;
  if (e['source'] !== 'aws.backup' || e['detail-type'] !== 'Backup Job State Change') return undefined;
  const d = (typeof e['detail'] === 'object' && e['detail'] !== null ? e['detail'] : {}) as Record<string, unknown>;
  const jobId = str(d, 'backupJobId');
  const state = str(d, 'state');
  const resourceArn = str(d, 'resourceArn');
  const region = str(e, 'region');
  if (!jobId || !/^[A-Za-z0-9-]{1,100}$/.test(jobId) || !state || !resourceArn || !region || !/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) return undefined;
  const table = /^arn:aws[\w-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/([A-Za-z0-9_.-]{3,255})$/.exec(resourceArn)?.[1];
  const statusMessage = str(d, 'statusMessage');
  return {
    jobId,
    state,
    region,
    resourceArn,
    resourceType: str(d, 'resourceType') ?? 'resource',
    vault: str(d, 'backupVaultName') ?? '?',
    ...(statusMessage ? { statusMessage } : {}),
    ...(table ? { table } : {}),
  };
}

export function jobConsoleUrl(job: BackupJob): string {
  return `https://${job.region}.console.aws.amazon.com/backup/home?region=${job.region}#/jobs/backup/details/${encodeURIComponent(job.jobId)}`;
}

const clip = (s: string, n: number) => escapeMrkdwn(s.length > n ? `${s.slice(0, n)}…` : s);

/** The job's own message: a failure with its reason and buttons, or a plain line for a job that went well. */
export function renderBackupJob(job: BackupJob, n: Pick<NoticeNotification, 'receivedAt'>): SlackMessage & { blocks: KnownBlock[] } {
  const failed = !OK_STATES.has(job.state);
  const what = job.table ? `table \`${clip(job.table, 255)}\`` : `\`${clip(job.resourceArn, 300)}\``;
  const head = `${failed ? ':x:' : ':white_check_mark:'} *AWS Backup job ${clip(job.state, 40)}*: ${clip(job.resourceType, 40)} ${what}, vault \`${clip(job.vault, 100)}\` (${job.region})`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: job.statusMessage ? `${head}\n${clip(job.statusMessage, 1500)}` : head } }];
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `job \`${clip(job.jobId, 100)}\` · received ${slackDate(n.receivedAt)}` }] });
  blocks.push({
    type: 'actions',
    block_id: `backup-job:${job.jobId}`.slice(0, 255),
    elements: [
      ...(failed && job.table ? [{ type: 'button' as const, action_id: ACTION_BACKUP_RETRY, text: { type: 'plain_text' as const, text: 'Retry backup' }, style: 'primary' as const, value: JSON.stringify({ table: job.table, job: job.jobId } satisfies RetryJobValue) }] : []),
      { type: 'button', action_id: ACTION_BACKUP_VIEW, text: { type: 'plain_text', text: 'View job' }, url: jobConsoleUrl(job) },
    ],
  });
  return { text: `AWS Backup job ${job.state}${job.table ? ` for ${job.table}` : ''}`, blocks };
}
