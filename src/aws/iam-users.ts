import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PreconditionError, wrapAws } from '../errors';

/*
 * An IAM user's credentials, for /dr compromise: its access keys (listed, deactivated, a
 * replacement created straight into Secrets Manager), an explicit deny-all inline policy and its
 * console password. Every write here is one IAM can repeat with the same result.
 */

/** The inline policy /dr compromise puts on a user: deny everything, whatever else allows it. */
export const DENY_ALL_POLICY = 'drbot-compromise-deny-all';
export const DENY_ALL_DOCUMENT = { Version: '2012-10-17', Statement: [{ Sid: 'DrbotCompromiseDenyAll', Effect: 'Deny', Action: '*', Resource: '*' }] };

const named = (e: unknown, ...names: string[]): boolean => names.includes((e as { name?: string })?.name ?? '');

export interface AccessKeyInfo {
  id: string;
  status: 'Active' | 'Inactive' | string;
  created?: string;
}

/** The user's ARN, or undefined when IAM has no such user. */
export async function getUserArn(iam: IAMClient, user: string): Promise<string | undefined> {
  try {
    return (await iam.send(new GetUserCommand({ UserName: user }))).User?.Arn ?? '';
  } catch (e) {
    if (named(e, 'NoSuchEntityException', 'NoSuchEntity')) return undefined;
    throw wrapAws(e, 'iam:GetUser', user);
  }
}

/** Every access key of the user (IAM allows two; Marker honoured anyway). */
export async function listAccessKeys(iam: IAMClient, user: string): Promise<AccessKeyInfo[]> {
  const out: AccessKeyInfo[] = [];
  let marker: string | undefined;
  do {
    const r: ListAccessKeysCommandOutput = await iam.send(new ListAccessKeysCommand({ UserName: user, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'iam:ListAccessKeys', user);
    });
    for (const k of r.AccessKeyMetadata ?? []) out.push({ id: k.AccessKeyId ?? '', status: k.Status ?? '', ...(k.CreateDate ? { created: k.CreateDate.toISOString() } : {}) });
    marker = r.IsTruncated ? r.Marker : undefined;
  } while (marker);
  return out;
}

/** Sets a key Inactive (again, if it already is: IAM answers the same). */
export async function deactivateKey(iam: IAMClient, user: string, keyId: string): Promise<void> {
  await iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status: 'Inactive' })).catch((e: unknown) => {
    throw wrapAws(e, 'iam:UpdateAccessKey', `${user}/${keyId}`);
  });
}

/** Whether the user can sign in to the console (has a login profile). */
export async function hasLoginProfile(iam: IAMClient, user: string): Promise<boolean> {
  try {
    await iam.send(new GetLoginProfileCommand({ UserName: user }));
    return true;
  } catch (e) {
    if (named(e, 'NoSuchEntityException', 'NoSuchEntity')) return false;
    throw wrapAws(e, 'iam:GetLoginProfile', user);
  }
}

/** Whether the deny-all inline policy is on the user already. */
export async function hasDenyAll(iam: IAMClient, user: string): Promise<boolean> {
  try {
    await iam.send(new GetUserPolicyCommand({ UserName: user, PolicyName: DENY_ALL_POLICY }));
    return true;
  } catch (e) {
    if (named(e, 'NoSuchEntityException', 'NoSuchEntity')) return false;
    throw wrapAws(e, 'iam:GetUserPolicy', user);
  }
}

export async function putDenyAll(iam: IAMClient, user: string): Promise<void> {
  await iam.send(new PutUserPolicyCommand({ UserName: user, PolicyName: DENY_ALL_POLICY, PolicyDocument: JSON.stringify(DENY_ALL_DOCUMENT) })).catch((e: unknown) => {
    throw wrapAws(e, 'iam:PutUserPolicy', user);
  });
}

/** Revokes the console password; 'none' when there was none (or it is gone already). */
export async function deleteLoginProfile(iam: IAMClient, user: string): Promise<'deleted' | 'none'> {
  try {
    await iam.send(new DeleteLoginProfileCommand({ UserName: user }));
    return 'deleted';
  } catch (e) {
    if (named(e, 'NoSuchEntityException', 'NoSuchEntity')) return 'none';
    throw wrapAws(e, 'iam:DeleteLoginProfile', user);
  }
}

/** The Secrets Manager name of a run's replacement key. */
export const replacementSecretName = (user: string, runId: string) => `drbot/compromise/${user}/${runId}`;

/**
 * A new access key for the user, written straight into a new Secrets Manager secret: only the
 * secret's ARN and the key's ID come back, so the secret access key is never returned, logged,
 * checkpointed or posted. The same name again (a retried step) finds the secret it made and creates
 * no second key; a key whose secret could not be written is deleted again (nobody could use it).
 */
export async function createKeyIntoSecret(iam: IAMClient, sm: SecretsManagerClient, user: string, name: string): Promise<{ accessKeyId: string; secretArn: string; again?: boolean }> {
  try {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const id = d.Tags?.find((t) => t.Key === 'drbot-access-key-id')?.Value ?? '';
    return { accessKeyId: id, secretArn: d.ARN ?? '', again: true };
  } catch (e) {
    if (!named(e, 'ResourceNotFoundException')) throw wrapAws(e, 'secretsmanager:DescribeSecret', name);
  }
  let created;
  try {
    created = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
  } catch (e) {
    if (named(e, 'LimitExceededException', 'LimitExceeded')) {
      throw new PreconditionError('key_limit', `\`${user}\` already has IAM's limit of 2 access keys, so no replacement was created.`, 'Delete the compromised key once its CloudTrail record has been reviewed (keys are evidence), then ask for the replacement again.');
    }
    throw wrapAws(e, 'iam:CreateAccessKey', user);
  }
  const accessKeyId = created?.AccessKeyId ?? '';
  try {
    const r = await sm.send(
      new CreateSecretCommand({
        Name: name,
        Description: `Replacement access key of IAM user ${user}, made by drbot's /dr compromise`,
        SecretString: JSON.stringify({ accessKeyId, secretAccessKey: created?.SecretAccessKey ?? '' }),
        Tags: [
          { Key: 'drbot-access-key-id', Value: accessKeyId },
          { Key: 'drbot-iam-user', Value: user },
        ],
      }),
    );
    return { accessKeyId, secretArn: r.ARN ?? '' };
  } catch (e) {
    // A key nobody can read is of no use and one more credential to leak: take it back.
    await iam.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: accessKeyId })).catch(() => undefined);
    throw wrapAws(e, 'secretsmanager:CreateSecret', name);
  }
}
