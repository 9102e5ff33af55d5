import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type IAMClient,
  ListRolesCommand,
  type ListRolesCommandOutput,
  type ManagedPolicyDetail,
  type RoleDetail,
} from '@aws-sdk/client-iam';
import { policyDocument } from '../../aws/iam';
import { wrapAws } from '../../errors';
import { formatCount, plural } from '../../slack/views/run';
import { formatBytes } from '../../util/limit';
import { type Runbook, step } from '../driver';
import { backupTarget, putObject, readBack, readBackFailure, readBackLine, sha256Hex } from '../exports';
import { type Copy, executePrune, planPrune, pruneLines, pruneResultLines } from '../retention';
import type { BackupIamInput } from '.';
import { deleteExportCopy, listExportCopies } from './prune';

/** What an export holds for one role: everything needed to recreate it as it was. */
export interface RoleExport {
  name: string;
  arn: string;
  path: string;
  description?: string;
  maxSessionDuration?: number;
  trustPolicy: unknown;
  permissionsBoundary?: string;
  tags: { key: string; value: string }[];
  inlinePolicies: { name: string; document: unknown }[];
  attachedPolicies: { name: string; arn: string }[];
}

/** The document written to the backup bucket. Versioned by `format`, so a restore can tell what it reads. */
export interface IamExport {
  format: 'drbot-iam-export/1';
  exportedAt: string;
  runId: string;
  rolePrefix: string;
  roles: RoleExport[];
  /** The customer-managed policies attached to those roles, with their default version's document. */
  managedPolicies: { name: string; arn: string; defaultVersionId: string; document: unknown }[];
}

/** AWS-managed policies are named by AWS (arn:aws:iam::aws:policy/…); their documents are not ours to keep. */
const isAwsManaged = (arn: string) => arn.startsWith('arn:aws:iam::aws:policy/');

/**
 * Reads every role within the prefix with its policies in a few paged calls: GetAccountAuthorizationDetails
 * (roles with trust, inline and attached policies, boundary and tags; customer-managed policies with their
 * versions) and ListRoles (description and max session duration, which the former leaves out).
 */
export async function readIam(iam: IAMClient, prefix: string, opts: { alsoPolicies?: readonly string[] } = {}): Promise<Omit<IamExport, 'format' | 'exportedAt' | 'runId'>> {
  const roles: RoleDetail[] = [];
  const policies: ManagedPolicyDetail[] = [];
  let marker: string | undefined;
  do {
    const page: GetAccountAuthorizationDetailsCommandOutput = await iam
      .send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role', 'LocalManagedPolicy'], MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'GetAccountAuthorizationDetails', 'IAM');
      });
    roles.push(...(page.RoleDetailList ?? []).filter((r) => r.RoleName?.startsWith(prefix)));
    policies.push(...(page.Policies ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const extra = new Map<string, { description?: string; maxSessionDuration?: number }>();
  marker = undefined;
  do {
    const page: ListRolesCommandOutput = await iam.send(new ListRolesCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListRoles', 'IAM');
    });
    for (const r of page.Roles ?? []) {
      if (!r.RoleName?.startsWith(prefix)) continue;
      extra.set(r.RoleName, { ...(r.Description ? { description: r.Description } : {}), ...(r.MaxSessionDuration ? { maxSessionDuration: r.MaxSessionDuration } : {}) });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const out: RoleExport[] = roles
    .map((r) => ({
      name: r.RoleName ?? '',
      arn: r.Arn ?? '',
      path: r.Path ?? '/',
      ...extra.get(r.RoleName ?? ''),
      trustPolicy: policyDocument(r.AssumeRolePolicyDocument),
      ...(r.PermissionsBoundary?.PermissionsBoundaryArn ? { permissionsBoundary: r.PermissionsBoundary.PermissionsBoundaryArn } : {}),
      tags: (r.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
      inlinePolicies: (r.RolePolicyList ?? []).map((p) => ({ name: p.PolicyName ?? '', document: policyDocument(p.PolicyDocument) })),
      attachedPolicies: (r.AttachedManagedPolicies ?? []).map((p) => ({ name: p.PolicyName ?? '', arn: p.PolicyArn ?? '' })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  // With alsoPolicies (a restore comparing an export with IAM), those policies too, attached or not.
  const attached = new Set([...out.flatMap((r) => r.attachedPolicies.map((p) => p.arn)), ...(opts.alsoPolicies ?? [])].filter((a) => !isAwsManaged(a)));
  const managedPolicies = policies
    .filter((p) => p.Arn && attached.has(p.Arn))
    .map((p) => {
      const v = (p.PolicyVersionList ?? []).find((x) => x.IsDefaultVersion) ?? p.PolicyVersionList?.[0];
      // moto leaves PolicyName out of this listing; the ARN ends with it.
      return { name: p.PolicyName || (p.Arn?.split('/').pop() ?? ''), arn: p.Arn ?? '', defaultVersionId: v?.VersionId ?? p.DefaultVersionId ?? '', document: policyDocument(v?.Document) };
    })
    .sort((a, b) => a.arn.localeCompare(b.arn));
  return { rolePrefix: prefix, roles: out, managedPolicies };
}

export interface IamPlan {
  bucket: string;
  key: string;
  roles: number;
  /** drbot's exports past retention, deleted after the new export is verified (with --prune). */
  prune?: Copy[];
}

interface Written {
  key: string;
  bytes: number;
  sha256: string;
  roles: number;
}

export const LATEST_KEY = 'iam/latest.json';

const exportRoles: Runbook<BackupIamInput, IamPlan> = {
  title: () => 'Export of the IAM roles',
  destructive: false,

  async plan(deps, input) {
    const { bucket } = backupTarget(deps);
    const prefix = deps.config.iam.rolePrefix;
    const read = await readIam(deps.clients.iam(deps.config.regions.primary), prefix);
    const key = `iam/${input.requestedAt.slice(0, 10)}/${input.runId}.json`;
    const inline = read.roles.reduce((n, r) => n + r.inlinePolicies.length, 0);
    const attached = read.roles.reduce((n, r) => n + r.attachedPolicies.length, 0);
    const lines = read.roles.length
      ? [
          `*${formatCount(read.roles.length)}* ${read.roles.length === 1 ? 'role' : 'roles'} named \`${prefix}…\`: ${plural(inline, 'inline policy', 'inline policies')}, ${plural(attached, 'attached managed policy', 'attached managed policies')} (${formatCount(read.managedPolicies.length)} customer-managed, their documents included)`,
          `${input.dryRun ? 'Would write' : 'Writes'} \`s3://${bucket}/${key}\` and points \`${LATEST_KEY}\` at it`,
          'Reads IAM only: no role or policy is changed.',
        ]
      : [`No role's name starts with \`${prefix}\`: there is nothing to export.`, 'Check `iam.rolePrefix` in the drbot config.'];
    if (!input.prune || read.roles.length === 0) return { lines, empty: read.roles.length === 0, data: { bucket, key, roles: read.roles.length } };
    const retention = deps.config.retention.iamExportDays;
    const pruning = planPrune(await listExportCopies(deps.clients.s3(deps.config.regions.primary), bucket), retention, deps.now());
    lines.push(...pruneLines(pruning, ['IAM export', 'IAM exports'], retention, input.dryRun));
    return { lines, data: { bucket, key, roles: read.roles.length, prune: pruning.delete } };
  },

  async execute(ctx, deps, input, plan, progress) {
    const { s3 } = backupTarget(deps);
    // Read again at execution: the export is what IAM holds now, not at plan time.
    const written: Written = await step(ctx, 'export', async () => {
      const read = await readIam(deps.clients.iam(deps.config.regions.primary), deps.config.iam.rolePrefix);
      const doc: IamExport = { format: 'drbot-iam-export/1', exportedAt: deps.now().toISOString(), runId: input.runId, ...read };
      const body = JSON.stringify(doc, null, 1);
      const sha256 = sha256Hex(body);
      await putObject(s3, plan.bucket, plan.key, body, { 'drbot-run': input.runId, 'role-count': String(read.roles.length), sha256 });
      await progress.report(1, 2, 'written');
      return { key: plan.key, bytes: Buffer.byteLength(body), sha256, roles: read.roles.length };
    });
    await step(ctx, 'latest', async () => {
      const pointer = JSON.stringify({ key: written.key, runId: input.runId, roles: written.roles, sha256: written.sha256 });
      await putObject(s3, plan.bucket, LATEST_KEY, pointer, { 'drbot-run': input.runId });
    });
    const check = await step(ctx, 'verify', () => readBack(s3, plan.bucket, written.key, written.sha256, (doc) => (doc as Partial<IamExport>).roles?.length));
    const ok = check.same && check.count === written.roles;
    // Prune only once the new export is known good: the newest copy must be a usable one.
    const pruned = ok && plan.prune?.length ? await executePrune(ctx, 'iam', plan.prune, (c) => deleteExportCopy(s3, plan.bucket, c)) : { deleted: [], failures: [] };
    return {
      ok: ok && pruned.failures.length === 0,
      lines: [
        `Exported *${formatCount(written.roles)}* ${written.roles === 1 ? 'role' : 'roles'} to \`s3://${plan.bucket}/${written.key}\` (${formatBytes(written.bytes)}); \`${LATEST_KEY}\` points at it.`,
        ok ? ':mag: Verified by reading it back: same checksum, every role present.' : readBackLine(check, 'role'),
        ...(!ok && plan.prune?.length ? ['Nothing was pruned: the new export did not verify.'] : []),
        ...pruneResultLines(pruned, 'old export'),
      ],
      failures: [...(ok ? [] : [readBackFailure(check)]), ...pruned.failures],
    };
  },
};

/**
 * Pruning deletes: a person's --prune waits for an approval of the plan that lists what goes. A
 * scheduled run prunes by the config's retention (reviewed policy) without waiting on anyone.
 */
export const runbook = (input: BackupIamInput): Runbook<BackupIamInput, IamPlan> => (input.prune && !input.schedule ? { ...exportRoles, destructive: true } : exportRoles);
