import { createHash } from 'node:crypto';
import { CreateRoleCommand, GetRoleCommand, type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { isErrorLike, wrapAws } from '../../errors';

/** Replication roles drbot makes are named `drbot-s3-replication-<8 hex of the pair>` (template.yaml scopes iam:* to it). */
export const REPLICATION_ROLE_PREFIX = 'drbot-s3-replication-';
export const REPLICATION_POLICY = 'drbot-replication';

export function replicationRoleName(source: string, replica: string): string {
  return REPLICATION_ROLE_PREFIX + createHash('sha256').update(`${source}\u0000${replica}`).digest('hex').slice(0, 8);
}

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/** What S3 needs to replicate `source` into `replica`, and nothing else. */
export function replicationPolicy(source: string, replica: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: `arn:aws:s3:::${source}` },
      { Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: `arn:aws:s3:::${source}/*` },
      { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: `arn:aws:s3:::${replica}/*` },
    ],
  });
}

/** The role's ARN when it exists. */
export async function findRole(iam: IAMClient, name: string): Promise<string | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: name }))).Role?.Arn;
  } catch (e) {
    if (isErrorLike(e) && e.name === 'NoSuchEntityException') return undefined;
    throw wrapAws(e, 'GetRole', name);
  }
}

/** Creates (or adopts) the replication role and sets its one inline policy; returns its ARN. */
export async function ensureReplicationRole(iam: IAMClient, source: string, replica: string): Promise<string> {
  const name = replicationRoleName(source, replica);
  let arn = await findRole(iam, name);
  if (!arn) {
    const made = await iam
      .send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: TRUST,
          // Bucket names are at most 63 characters: well within IAM's 1,000 for a description.
          Description: `drbot: S3 replication ${source} -> ${replica}`,
          Tags: [
            { Key: 'drbot:created-by', Value: 'drbot' },
            { Key: 'drbot:source', Value: source },
            { Key: 'drbot:replica', Value: replica },
          ],
        }),
      )
      .catch((e: unknown) => {
        throw wrapAws(e, 'CreateRole', name);
      });
    arn = made.Role?.Arn ?? '';
  }
  await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: REPLICATION_POLICY, PolicyDocument: replicationPolicy(source, replica) })).catch((e: unknown) => {
    throw wrapAws(e, 'PutRolePolicy', name);
  });
  return arn;
}

/** The role AWS Backup assumes to back up the selected tables. */
export const BACKUP_ROLE = 'drbot-aws-backup';
const BACKUP_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/**
 * What AWS Backup needs for the DynamoDB part of AWS's AWSBackupServiceRolePolicyForBackup, scoped to
 * the configured tables and drbot's vaults (the managed policy allows every table and vault).
 */
export function backupRolePolicy(tableArns: readonly string[], vault: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'BackUpTheTables', Effect: 'Allow', Action: ['dynamodb:CreateBackup', 'dynamodb:DescribeTable', 'dynamodb:ListTagsOfResource', 'dynamodb:StartAwsBackupJob'], Resource: [...tableArns] },
      { Sid: 'TheirBackups', Effect: 'Allow', Action: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'], Resource: tableArns.map((a) => `${a}/backup/*`) },
      { Sid: 'CopyToTheBackupRegion', Effect: 'Allow', Action: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], Resource: `arn:aws:backup:*:*:backup-vault:${vault}` },
      { Sid: 'FindByTag', Effect: 'Allow', Action: 'tag:GetResources', Resource: '*' },
    ],
  });
}

/** Creates (or adopts) the AWS Backup role and sets its one inline policy for these tables; returns its ARN. */
export async function ensureBackupRole(iam: IAMClient, tableArns: readonly string[], vault: string): Promise<string> {
  let arn = await findRole(iam, BACKUP_ROLE);
  if (!arn) {
    const made = await iam
      .send(new CreateRoleCommand({ RoleName: BACKUP_ROLE, AssumeRolePolicyDocument: BACKUP_TRUST, Description: 'drbot: AWS Backup of the configured DynamoDB tables', Tags: [{ Key: 'drbot:created-by', Value: 'drbot' }] }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'CreateRole', BACKUP_ROLE);
      });
    arn = made.Role?.Arn ?? '';
  }
  await iam.send(new PutRolePolicyCommand({ RoleName: BACKUP_ROLE, PolicyName: 'drbot-aws-backup', PolicyDocument: backupRolePolicy(tableArns, vault) })).catch((e: unknown) => {
    throw wrapAws(e, 'PutRolePolicy', BACKUP_ROLE);
  });
  return arn;
}
