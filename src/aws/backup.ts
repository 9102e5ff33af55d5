import {
  type BackupClient,
  type BackupRuleInput,
  CreateBackupPlanCommand,
  CreateBackupSelectionCommand,
  CreateBackupVaultCommand,
  DeleteBackupSelectionCommand,
  DescribeBackupJobCommand,
  DescribeBackupVaultCommand,
  GetBackupPlanCommand,
  GetBackupSelectionCommand,
  ListBackupPlansCommand,
  ListBackupSelectionsCommand,
  StartBackupJobCommand,
  UpdateBackupPlanCommand,
} from '@aws-sdk/client-backup';
import { isErrorLike, wrapAws } from '../errors';

/*
 * AWS Backup: the vaults, the plan and its selection drbot sets up for the configured tables
 * (daily, retention, a copy to the backup region). Read and write; jobs are AWS Backup's to run,
 * except that a failed one can be started again (the "Retry backup" button of its message).
 */

function isMissing(e: unknown): boolean {
  return isErrorLike(e) && (e.name === 'ResourceNotFoundException' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);
}

/** The vault's ARN, or undefined when there is no vault of that name. */
export async function findVault(backup: BackupClient, name: string): Promise<string | undefined> {
  try {
    return (await backup.send(new DescribeBackupVaultCommand({ BackupVaultName: name }))).BackupVaultArn;
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw wrapAws(e, 'DescribeBackupVault', name);
  }
}

/** Creates the vault (or adopts it when it exists); returns its ARN. */
export async function ensureVault(backup: BackupClient, name: string): Promise<string> {
  const found = await findVault(backup, name);
  if (found) return found;
  const r = await backup.send(new CreateBackupVaultCommand({ BackupVaultName: name, BackupVaultTags: { 'drbot:created-by': 'drbot' } })).catch((e: unknown) => {
    throw wrapAws(e, 'CreateBackupVault', name);
  });
  return r.BackupVaultArn ?? '';
}

export interface PlanState {
  id: string;
  rules: BackupRuleInput[];
}

/** The plan of that name, with its rules, or undefined. */
export async function findPlan(backup: BackupClient, name: string): Promise<PlanState | undefined> {
  let token: string | undefined;
  let id: string | undefined;
  do {
    const r = await backup.send(new ListBackupPlansCommand({ ...(token ? { NextToken: token } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListBackupPlans', name);
    });
    id = r.BackupPlansList?.find((p) => p.BackupPlanName === name && !p.DeletionDate)?.BackupPlanId;
    token = id ? undefined : r.NextToken;
  } while (token);
  if (!id) return undefined;
  const planId = id;
  const got = await backup.send(new GetBackupPlanCommand({ BackupPlanId: planId })).catch((e: unknown) => {
    throw wrapAws(e, 'GetBackupPlan', name);
  });
  const rules: BackupRuleInput[] = (got.BackupPlan?.Rules ?? []).map((r) => ({
    RuleName: r.RuleName,
    TargetBackupVaultName: r.TargetBackupVaultName,
    ...(r.ScheduleExpression ? { ScheduleExpression: r.ScheduleExpression } : {}),
    ...(r.StartWindowMinutes !== undefined ? { StartWindowMinutes: r.StartWindowMinutes } : {}),
    ...(r.CompletionWindowMinutes !== undefined ? { CompletionWindowMinutes: r.CompletionWindowMinutes } : {}),
    ...(r.Lifecycle ? { Lifecycle: r.Lifecycle } : {}),
    ...(r.CopyActions ? { CopyActions: r.CopyActions } : {}),
    ...(r.RecoveryPointTags ? { RecoveryPointTags: r.RecoveryPointTags } : {}),
    ...(r.EnableContinuousBackup !== undefined ? { EnableContinuousBackup: r.EnableContinuousBackup } : {}),
  }));
  return { id: planId, rules };
}

/** Creates the plan, or writes its rules (all of them: UpdateBackupPlan replaces the plan); returns its id. */
export async function putPlan(backup: BackupClient, name: string, existingId: string | undefined, rules: BackupRuleInput[]): Promise<string> {
  if (existingId) {
    await backup.send(new UpdateBackupPlanCommand({ BackupPlanId: existingId, BackupPlan: { BackupPlanName: name, Rules: rules } })).catch((e: unknown) => {
      throw wrapAws(e, 'UpdateBackupPlan', name);
    });
    return existingId;
  }
  const r = await backup.send(new CreateBackupPlanCommand({ BackupPlan: { BackupPlanName: name, Rules: rules }, BackupPlanTags: { 'drbot:created-by': 'drbot' } })).catch((e: unknown) => {
    throw wrapAws(e, 'CreateBackupPlan', name);
  });
  return r.BackupPlanId ?? '';
}

export interface SelectionState {
  id: string;
  resources: string[];
}

export async function findSelection(backup: BackupClient, planId: string, name: string): Promise<SelectionState | undefined> {
  let token: string | undefined;
  let id: string | undefined;
  do {
    const r = await backup.send(new ListBackupSelectionsCommand({ BackupPlanId: planId, ...(token ? { NextToken: token } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListBackupSelections', planId);
    });
    id = r.BackupSelectionsList?.find((s) => s.SelectionName === name)?.SelectionId;
    token = id ? undefined : r.NextToken;
  } while (token);
  if (!id) return undefined;
  const selectionId = id;
  const got = await backup.send(new GetBackupSelectionCommand({ BackupPlanId: planId, SelectionId: selectionId })).catch((e: unknown) => {
    throw wrapAws(e, 'GetBackupSelection', planId);
  });
  return { id: selectionId, resources: got.BackupSelection?.Resources ?? [] };
}

/** A selection cannot be changed in place: drbot's own is replaced (deleted, then created) with the new resources. */
export async function putSelection(backup: BackupClient, planId: string, name: string, roleArn: string, resources: string[], replace?: string): Promise<void> {
  if (replace) {
    await backup.send(new DeleteBackupSelectionCommand({ BackupPlanId: planId, SelectionId: replace })).catch((e: unknown) => {
      if (!isMissing(e)) throw wrapAws(e, 'DeleteBackupSelection', planId);
    });
  }
  await backup.send(new CreateBackupSelectionCommand({ BackupPlanId: planId, BackupSelection: { SelectionName: name, IamRoleArn: roleArn, Resources: resources } })).catch((e: unknown) => {
    throw wrapAws(e, 'CreateBackupSelection', planId);
  });
}

/** What a retry needs of a backup job: where it wrote, what it backed up, with which role, and how it ended. */
export interface BackupJobInfo {
  id: string;
  state: string;
  vaultName: string;
  resourceArn: string;
  iamRoleArn: string;
  resourceType?: string;
  statusMessage?: string;
}

/** One backup job, as AWS Backup describes it (jobs are kept for 30 days). */
export async function describeBackupJob(backup: BackupClient, jobId: string): Promise<BackupJobInfo> {
  const r = await backup.send(new DescribeBackupJobCommand({ BackupJobId: jobId })).catch((e: unknown) => {
    throw wrapAws(e, 'DescribeBackupJob', jobId);
  });
  return {
    id: r.BackupJobId ?? jobId,
    state: r.State ?? 'UNKNOWN',
    vaultName: r.BackupVaultName ?? '',
    resourceArn: r.ResourceArn ?? '',
    iamRoleArn: r.IamRoleArn ?? '',
    ...(r.ResourceType ? { resourceType: r.ResourceType } : {}),
    ...(r.StatusMessage ? { statusMessage: r.StatusMessage } : {}),
  };
}

export interface StartJobInput {
  vaultName: string;
  resourceArn: string;
  iamRoleArn: string;
  /** The same token again starts no second job (AWS Backup answers with success and does nothing). */
  idempotencyToken: string;
}

/** Starts an on-demand backup job; returns its ID. */
export async function startBackupJob(backup: BackupClient, input: StartJobInput): Promise<{ jobId: string; creationDate?: string }> {
  const r = await backup
    .send(new StartBackupJobCommand({ BackupVaultName: input.vaultName, ResourceArn: input.resourceArn, IamRoleArn: input.iamRoleArn, IdempotencyToken: input.idempotencyToken }))
    .catch((e: unknown) => {
      throw wrapAws(e, 'StartBackupJob', input.resourceArn);
    });
  if (!r.BackupJobId) throw wrapAws(new Error('StartBackupJob returned no job ID'), 'StartBackupJob', input.resourceArn);
  return { jobId: r.BackupJobId, ...(r.CreationDate ? { creationDate: r.CreationDate.toISOString() } : {}) };
}
