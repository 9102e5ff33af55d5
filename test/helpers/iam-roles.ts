import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';

/** IAM roles read and removed for tests with plain SDK calls (not drbot's adapters, which are what the tests check). */

/** A role as IAM holds it, in plain values, to compare with what it was. */
export async function roleState(iam: IAMClient, name: string) {
  const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
  const inlines: Record<string, unknown> = {};
  for (const p of names.sort()) inlines[p] = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: p }))).PolicyDocument ?? '')) as unknown;
  const attached = ((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? []).map((p) => p.PolicyName).sort();
  return {
    trust: JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')) as unknown,
    description: role?.Description,
    maxSession: role?.MaxSessionDuration,
    tags: Object.fromEntries((role?.Tags ?? []).map((t) => [t.Key, t.Value])),
    inlines,
    attached,
  };
}

export async function roleExists(iam: IAMClient, name: string): Promise<boolean> {
  return iam.send(new GetRoleCommand({ RoleName: name })).then(
    () => true,
    () => false,
  );
}

/** Deletes a role as IAM requires: its inline policies and attachments first. */
export async function deleteRole(iam: IAMClient, name: string): Promise<void> {
  for (const p of (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? []) await iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: p }));
  for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? []) await iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn }));
  await iam.send(new DeleteRoleCommand({ RoleName: name }));
}

/** A managed policy's default version's document, parsed. */
export async function defaultDocument(iam: IAMClient, arn: string): Promise<unknown> {
  const p = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy;
  const v = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: p?.DefaultVersionId }));
  const raw = v.PolicyVersion?.Document ?? '';
  return JSON.parse(raw.startsWith('{') ? raw : decodeURIComponent(raw)) as unknown;
}
