import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  type ListAttachedRolePoliciesCommandOutput,
  ListPolicyVersionsCommand,
  type ListPolicyVersionsCommandOutput,
  ListRolePoliciesCommand,
  type ListRolePoliciesCommandOutput,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { wrapAws } from '../errors';
import type { RoleExport } from '../runbooks/backup-iam/runbook';

/**
 * IAM, one role or one managed policy at a time: reads that come back in the shape of the IAM
 * export (so a restore can compare the two), and writes that are safe to repeat (deleting what is
 * already gone, creating what already exists and attaching what is attached all succeed).
 */

/** IAM's limits: tags a TagRole / UntagRole call, versions a managed policy keeps. */
export const TAGS_PER_CALL = 50;
export const POLICY_VERSIONS_MAX = 5;
const DEFAULT_MAX_SESSION = 3600;

/** IAM returns policy documents URL-encoded; the export keeps them as JSON. */
export function policyDocument(raw: string | undefined): unknown {
  if (!raw) return null;
  const text = raw.trimStart().startsWith('{') ? raw : decodeURIComponent(raw);
  return JSON.parse(text) as unknown;
}

const errName = (e: unknown): string => String((e as { name?: unknown })?.name ?? '');
const isNoSuchEntity = (e: unknown): boolean => /NoSuchEntity/.test(errName(e));
const isAlreadyExists = (e: unknown): boolean => /EntityAlreadyExists/.test(errName(e));

async function call<T>(operation: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw wrapAws(e, operation, resource);
  }
}

/** A removal of something already gone succeeds: the end state is what was asked. */
async function remove(operation: string, resource: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isNoSuchEntity(e)) return;
    throw wrapAws(e, operation, resource);
  }
}

/** `arn:aws:iam::123456789012:policy/some/path/name` → `/some/path/`. */
export function policyPath(arn: string): string {
  const rest = arn.split(':policy')[1] ?? '/';
  const cut = rest.lastIndexOf('/');
  return cut <= 0 ? '/' : rest.slice(0, cut + 1);
}

/** `…:policy/some/path/name` → `name`. */
export function policyName(arn: string): string {
  return arn.split('/').pop() ?? arn;
}

/** One role as the export holds it, read with GetRole and its policy listings; undefined when there is no such role. */
export async function readRole(iam: IAMClient, name: string): Promise<RoleExport | undefined> {
  let role;
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
  } catch (e) {
    if (isNoSuchEntity(e)) return undefined;
    throw wrapAws(e, 'GetRole', name);
  }
  if (!role) return undefined;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page: ListRolePoliciesCommandOutput = await call('ListRolePolicies', name, () => iam.send(new ListRolePoliciesCommand({ RoleName: name, MaxItems: 1000, ...(marker ? { Marker: marker } : {}) })));
    names.push(...(page.PolicyNames ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  const inlinePolicies: RoleExport['inlinePolicies'] = [];
  for (const p of names) {
    const got = await call('GetRolePolicy', `${name}/${p}`, () => iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: p })));
    inlinePolicies.push({ name: p, document: policyDocument(got.PolicyDocument) });
  }
  const attachedPolicies: RoleExport['attachedPolicies'] = [];
  marker = undefined;
  do {
    const page: ListAttachedRolePoliciesCommandOutput = await call('ListAttachedRolePolicies', name, () =>
      iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, MaxItems: 1000, ...(marker ? { Marker: marker } : {}) })),
    );
    attachedPolicies.push(...(page.AttachedPolicies ?? []).map((p) => ({ name: p.PolicyName ?? '', arn: p.PolicyArn ?? '' })));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return {
    name: role.RoleName ?? name,
    arn: role.Arn ?? '',
    path: role.Path ?? '/',
    ...(role.Description ? { description: role.Description } : {}),
    ...(role.MaxSessionDuration ? { maxSessionDuration: role.MaxSessionDuration } : {}),
    trustPolicy: policyDocument(role.AssumeRolePolicyDocument),
    ...(role.PermissionsBoundary?.PermissionsBoundaryArn ? { permissionsBoundary: role.PermissionsBoundary.PermissionsBoundaryArn } : {}),
    tags: (role.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
    inlinePolicies,
    attachedPolicies,
  };
}

export interface PolicyVersionInfo {
  versionId: string;
  isDefault: boolean;
  createdAt?: Date;
}

export interface LivePolicy {
  arn: string;
  defaultVersionId: string;
  document: unknown;
  versions: PolicyVersionInfo[];
}

async function listPolicyVersions(iam: IAMClient, arn: string): Promise<PolicyVersionInfo[]> {
  const out: PolicyVersionInfo[] = [];
  let marker: string | undefined;
  do {
    const page: ListPolicyVersionsCommandOutput = await call('ListPolicyVersions', arn, () => iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn, ...(marker ? { Marker: marker } : {}) })));
    out.push(...(page.Versions ?? []).map((v) => ({ versionId: v.VersionId ?? '', isDefault: Boolean(v.IsDefaultVersion), ...(v.CreateDate ? { createdAt: v.CreateDate } : {}) })));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return out;
}

/** A customer-managed policy's default document and its versions; undefined when there is no such policy. */
export async function readPolicy(iam: IAMClient, arn: string): Promise<LivePolicy | undefined> {
  let policy;
  try {
    policy = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy;
  } catch (e) {
    if (isNoSuchEntity(e)) return undefined;
    throw wrapAws(e, 'GetPolicy', arn);
  }
  const defaultVersionId = policy?.DefaultVersionId ?? '';
  const version = await call('GetPolicyVersion', arn, () => iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: defaultVersionId })));
  return { arn, defaultVersionId, document: policyDocument(version.PolicyVersion?.Document), versions: await listPolicyVersions(iam, arn) };
}

/**
 * Makes the policy's default version hold `document`: a new version set as default, after deleting
 * the oldest non-default version when the policy already has IAM's five. Returns what it did.
 */
export async function setPolicyDocument(iam: IAMClient, live: LivePolicy, document: unknown): Promise<{ versionId: string; deleted?: string }> {
  let deleted: string | undefined;
  if (live.versions.length >= POLICY_VERSIONS_MAX) {
    const oldest = live.versions
      .filter((v) => !v.isDefault)
      .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || versionNumber(a.versionId) - versionNumber(b.versionId))[0];
    if (oldest) {
      await remove('DeletePolicyVersion', `${live.arn} ${oldest.versionId}`, () => iam.send(new DeletePolicyVersionCommand({ PolicyArn: live.arn, VersionId: oldest.versionId })));
      deleted = oldest.versionId;
    }
  }
  const made = await call('CreatePolicyVersion', live.arn, () => iam.send(new CreatePolicyVersionCommand({ PolicyArn: live.arn, PolicyDocument: JSON.stringify(document), SetAsDefault: true })));
  return { versionId: made.PolicyVersion?.VersionId ?? '', ...(deleted ? { deleted } : {}) };
}

const versionNumber = (id: string): number => Number(/\d+/.exec(id)?.[0] ?? 0);

/** Creates a customer-managed policy under the name and path of its ARN; one that exists already is left for the caller to compare. */
export async function createPolicy(iam: IAMClient, arn: string, document: unknown): Promise<'created' | 'exists'> {
  try {
    await iam.send(new CreatePolicyCommand({ PolicyName: policyName(arn), Path: policyPath(arn), PolicyDocument: JSON.stringify(document) }));
    return 'created';
  } catch (e) {
    if (isAlreadyExists(e)) return 'exists';
    throw wrapAws(e, 'CreatePolicy', arn);
  }
}

/** Creates a role as the export holds it (trust, path, description, session, boundary, tags); policies come after. */
export async function createRole(iam: IAMClient, role: RoleExport): Promise<'created' | 'exists'> {
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        Path: role.path || '/',
        AssumeRolePolicyDocument: JSON.stringify(role.trustPolicy),
        ...(role.description ? { Description: role.description } : {}),
        MaxSessionDuration: role.maxSessionDuration ?? DEFAULT_MAX_SESSION,
        ...(role.permissionsBoundary ? { PermissionsBoundary: role.permissionsBoundary } : {}),
        ...(role.tags.length ? { Tags: role.tags.slice(0, TAGS_PER_CALL).map((t) => ({ Key: t.key, Value: t.value })) } : {}),
      }),
    );
    return 'created';
  } catch (e) {
    if (isAlreadyExists(e)) return 'exists';
    throw wrapAws(e, 'CreateRole', role.name);
  }
}

export const updateTrust = (iam: IAMClient, role: string, document: unknown) =>
  call('UpdateAssumeRolePolicy', role, () => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: JSON.stringify(document) })));

/** Description and maximum session together: UpdateRole resets a session duration it is not given to one hour. */
export const updateRole = (iam: IAMClient, role: string, description: string | undefined, maxSessionDuration: number | undefined) =>
  call('UpdateRole', role, () => iam.send(new UpdateRoleCommand({ RoleName: role, Description: description ?? '', MaxSessionDuration: maxSessionDuration ?? DEFAULT_MAX_SESSION })));

export const putBoundary = (iam: IAMClient, role: string, arn: string) =>
  call('PutRolePermissionsBoundary', role, () => iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: role, PermissionsBoundary: arn })));

export const deleteBoundary = (iam: IAMClient, role: string) =>
  remove('DeleteRolePermissionsBoundary', role, () => iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: role })));

export const putInline = (iam: IAMClient, role: string, name: string, document: unknown) =>
  call('PutRolePolicy', `${role}/${name}`, () => iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: name, PolicyDocument: JSON.stringify(document) })));

export const deleteInline = (iam: IAMClient, role: string, name: string) =>
  remove('DeleteRolePolicy', `${role}/${name}`, () => iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: name })));

/** Attaching an attached policy succeeds (IAM's AttachRolePolicy is idempotent). */
export const attach = (iam: IAMClient, role: string, arn: string) =>
  call('AttachRolePolicy', `${role} ${arn}`, () => iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn })));

export const detach = (iam: IAMClient, role: string, arn: string) =>
  remove('DetachRolePolicy', `${role} ${arn}`, () => iam.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: arn })));

export async function tag(iam: IAMClient, role: string, tags: readonly { key: string; value: string }[]): Promise<void> {
  for (let i = 0; i < tags.length; i += TAGS_PER_CALL) {
    const Tags = tags.slice(i, i + TAGS_PER_CALL).map((t) => ({ Key: t.key, Value: t.value }));
    await call('TagRole', role, () => iam.send(new TagRoleCommand({ RoleName: role, Tags })));
  }
}

export async function untag(iam: IAMClient, role: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += TAGS_PER_CALL) {
    const TagKeys = keys.slice(i, i + TAGS_PER_CALL);
    await call('UntagRole', role, () => iam.send(new UntagRoleCommand({ RoleName: role, TagKeys })));
  }
}
