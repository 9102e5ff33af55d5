import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  AttachUserPolicyCommand,
  GetUserCommand,
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  ListAttachedUserPoliciesCommand,
  type ListAttachedUserPoliciesCommandOutput,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PreconditionError, wrapAws } from '../errors';

/*
 * An IAM user's credentials, for /dr compromise: its access keys (listed, deactivated, a
 * replacement created straight into Secrets Manager), AWS's managed deny-all policy attached and
 * its console password. Every write here is one IAM can repeat with the same result.
 */

/**
 * The policy /dr compromise attaches to a user: AWS's own managed policy AWSDenyAll (an explicit
 * Deny of every action, whatever else allows it). Attached, never written: the runbook role may
 * attach this one policy and no other (template.yaml's condition on iam:PolicyARN), and writes no
 * inline policy, so it cannot grant anyone anything.
 */
export const DENY_ALL_POLICY = 'AWSDenyAll';
/** AWSDenyAll's ARN in the user's partition (`aws`, `aws-cn`, `aws-us-gov`). */
export const denyAllArn = (partition = 'aws') => `arn:${partition}:iam::aws:policy/${DENY_ALL_POLICY}`;
/** The partition of an ARN (`aws` when it names none). */
export const partitionOf = (arn: string | undefined) => arn?.split(':')[1] || 'aws';

const named = (e: unknown, ...names: string[]): boolean => names.includes((e as { name?: string })?.name ?? '');

export interface AccessKeyInfo {
  id: string;
  status: 'Active' | 'Inactive' | string;
  created?: string;
}

/** IAM's limit of access keys per user. */
export const MAX_ACCESS_KEYS = 2;

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

/** Sets a key Inactive (again, if it already is: IAM answers the same); 'gone' when IAM has no such key of the user (deleted). */
export async function deactivateKey(iam: IAMClient, user: string, keyId: string): Promise<'inactive' | 'gone'> {
  try {
    await iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status: 'Inactive' }));
    return 'inactive';
  } catch (e) {
    if (named(e, 'NoSuchEntityException', 'NoSuchEntity')) return 'gone';
    throw wrapAws(e, 'iam:UpdateAccessKey', `${user}/${keyId}`);
  }
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

/** The managed policies attached to the user (ARNs), every page (Marker). */
export async function attachedPolicies(iam: IAMClient, user: string): Promise<string[]> {
  const out: string[] = [];
  let marker: string | undefined;
  do {
    const r: ListAttachedUserPoliciesCommandOutput = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'iam:ListAttachedUserPolicies', user);
    });
    for (const p of r.AttachedPolicies ?? []) if (p.PolicyArn) out.push(p.PolicyArn);
    marker = r.IsTruncated ? r.Marker : undefined;
  } while (marker);
  return out;
}

/** Whether AWSDenyAll is attached to the user already. */
export async function hasDenyAll(iam: IAMClient, user: string, policyArn = denyAllArn()): Promise<boolean> {
  return (await attachedPolicies(iam, user)).includes(policyArn);
}

/**
 * Attaches AWSDenyAll unless ListAttachedUserPolicies shows it already ('already': nothing sent).
 * Only AttachUserPolicy with that ARN: no inline policy is written.
 */
export async function attachDenyAll(iam: IAMClient, user: string, policyArn = denyAllArn()): Promise<'attached' | 'already'> {
  if (await hasDenyAll(iam, user, policyArn)) return 'already';
  await iam.send(new AttachUserPolicyCommand({ UserName: user, PolicyArn: policyArn })).catch((e: unknown) => {
    throw wrapAws(e, 'iam:AttachUserPolicy', user);
  });
  return 'attached';
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
  const atLimit = () =>
    new PreconditionError('key_limit', `\`${user}\` already has IAM's limit of ${MAX_ACCESS_KEYS} access keys, so no replacement was created.`, 'Delete the compromised key once its CloudTrail record has been reviewed (keys are evidence), then ask for the replacement again.');
  // Asked first: the SDK takes IAM's LimitExceededException for throttling and would retry the
  // refused CreateAccessKey five times over seconds before the answer reached us.
  if ((await listAccessKeys(iam, user)).length >= MAX_ACCESS_KEYS) throw atLimit();
  let created;
  try {
    created = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
  } catch (e) {
    // A key made by someone else since the count above.
    if (named(e, 'LimitExceededException', 'LimitExceeded')) throw atLimit();
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
