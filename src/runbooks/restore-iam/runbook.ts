import type { IAMClient } from '@aws-sdk/client-iam';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  attach,
  createPolicy,
  createRole,
  deleteBoundary,
  deleteInline,
  detach,
  policyName,
  putBoundary,
  putInline,
  readPolicy,
  readRole,
  setPolicyDocument,
  tag,
  untag,
  updateRole,
  updateTrust,
} from '../../aws/iam';
import { PreconditionError, withHint, wrapAws } from '../../errors';
import { code, slackDate } from '../../slack/views/format';
import { formatCount, plural } from '../../slack/views/run';
import { type IamExport, LATEST_KEY, readIam, type RoleExport } from '../backup-iam/runbook';
import { EXPORT_KEY, listExportCopies } from '../backup-iam/prune';
import { type Runbook, safeStep, step } from '../driver';
import { backupTarget, getText, sha256Hex } from '../exports';
import type { RunbookDeps } from '../types';
import { type Change, diffPolicy, diffRole, isAwsManaged, type PolicyDiff, type RoleDiff, sameDocument } from './diff';
import { policyDetail, policySummary, renderPlan, roleDetail, roleSummary } from './view';
import { IAM_EXPORT_KEY, type RestoreIamInput } from '.';

/*
 * /dr restore iam: an export of /dr backup iam, compared with IAM role by role; the plan is the
 * diff; after approval one checkpointed step per managed policy and per role reads IAM afresh and
 * writes only what still differs (so a replayed step writes nothing twice); then IAM is exported
 * again with the backup's own reader and compared: 0 differences, or the ones that remain.
 */

export interface RestoreIamPlan {
  bucket: string;
  key: string;
  /** Of the export read at plan time: execution refuses an export that changed since. */
  sha256: string;
  /** Roles that differ from the export, in the export's order. */
  roles: string[];
  /** Customer-managed policies (ARNs) whose document differs or which are gone, named within the prefix. */
  policies: string[];
}

interface Loaded {
  key: string;
  sha256: string;
  doc: IamExport;
}

const FORMAT = 'drbot-iam-export/1';
/** Role and policy lines in a result before "…and N more". */
const RESULT_LINES = 12;

function noExport(bucket: string): PreconditionError {
  return new PreconditionError(
    'no_iam_export',
    `There is no IAM export in \`s3://${bucket}/iam/\` yet, so there is nothing to restore from.`,
    'Make one with `/dr backup iam` (the daily schedule writes one too), then run the restore again.',
  );
}

/** The key `iam/latest.json` points at, or undefined when there is no pointer. */
async function latestKey(s3: S3Client, bucket: string): Promise<string | undefined> {
  const text = await getText(s3, bucket, LATEST_KEY);
  if (text === undefined) return undefined;
  let key: unknown;
  try {
    key = (JSON.parse(text) as { key?: unknown }).key;
  } catch {
    key = undefined;
  }
  if (typeof key !== 'string' || !IAM_EXPORT_KEY.test(key)) {
    throw new PreconditionError('bad_export_pointer', `\`s3://${bucket}/${LATEST_KEY}\` does not point at an IAM export.`, 'Run `/dr backup iam` to write a new export and pointer, or name an export with `--backup iam/<yyyy-mm-dd>/<run id>.json`.');
  }
  return key;
}

/** The newest few of drbot's exports, to name in a refusal. */
async function newestExports(s3: S3Client, bucket: string, n = 3): Promise<string[]> {
  try {
    const copies = await listExportCopies(s3, bucket);
    const keys = copies
      .filter((c) => c.ours && EXPORT_KEY.test(c.label ?? ''))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((c) => c.label ?? '');
    return [...new Set(keys)].slice(0, n);
  } catch {
    // Only a hint: a listing that fails must not hide why the restore was refused.
    return [];
  }
}

async function unknownExport(s3: S3Client, bucket: string, key: string): Promise<PreconditionError> {
  const newest = await newestExports(s3, bucket);
  return new PreconditionError(
    'unknown_export',
    `There is no IAM export ${code(key)} in \`s3://${bucket}\`.`,
    newest.length ? `The newest: ${newest.map((k) => code(k)).join(', ')}. Or leave out \`--backup\` to use the latest.` : 'There is no IAM export yet: make one with `/dr backup iam`.',
  );
}

/** The export's text and the checksum it was written with, or undefined when there is no such key. */
async function getExport(s3: S3Client, bucket: string, key: string): Promise<{ body: string; sha256?: string } | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { body: (await r.Body?.transformToString()) ?? '', ...(r.Metadata?.sha256 ? { sha256: r.Metadata.sha256 } : {}) };
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw wrapAws(e, 'GetObject', `${bucket}/${key}`);
  }
}

/** Reads and checks an export: present, the checksum it was written with, drbot's format (and, at execution, the one planned). */
async function loadExport(s3: S3Client, bucket: string, key: string, expectSha?: string): Promise<Loaded> {
  const got = await getExport(s3, bucket, key);
  if (!got) throw await unknownExport(s3, bucket, key);
  const sha256 = sha256Hex(got.body);
  if (got.sha256 && got.sha256 !== sha256) {
    throw new PreconditionError('export_corrupt', `The export ${code(key)} does not match the checksum it was written with.`, 'Restore from another export with `--backup`, or make a new one with `/dr backup iam`.');
  }
  if (expectSha && sha256 !== expectSha) {
    throw new PreconditionError('export_changed', `The export ${code(key)} changed after the plan was made; nothing was written.`, 'Run the restore again to review the diff against it as it is now.');
  }
  let doc: Partial<IamExport>;
  try {
    doc = JSON.parse(got.body) as Partial<IamExport>;
  } catch {
    doc = {};
  }
  if (doc.format !== FORMAT || !Array.isArray(doc.roles) || !Array.isArray(doc.managedPolicies)) {
    throw new PreconditionError('export_format', `${code(key)} is not an IAM export drbot can read (format ${FORMAT}).`, 'Name an export `/dr backup iam` wrote, or make a new one.');
  }
  return { key, sha256, doc: doc as IamExport };
}

/** The export's roles the run is about: every one within the prefix (--all), or the named ones, all of which must be in it. */
function select(loaded: Loaded, input: RestoreIamInput, prefix: string): RoleExport[] {
  const inPrefix = loaded.doc.roles.filter((r) => r.name.startsWith(prefix));
  if (input.all) return inPrefix;
  const byName = new Map(inPrefix.map((r) => [r.name, r]));
  const missing = input.roles.filter((n) => !byName.has(n));
  if (missing.length) {
    throw new PreconditionError(
      'role_not_in_export',
      `${missing.map((n) => code(n)).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in the export ${code(loaded.key)} (${formatCount(inPrefix.length)} roles, exported ${slackDate(loaded.doc.exportedAt)}), so there is nothing to restore ${missing.length === 1 ? 'it' : 'them'} from.`,
      'Check the spelling, or name an older export with `--backup iam/<yyyy-mm-dd>/<run id>.json`.',
    );
  }
  return input.roles.map((n) => byName.get(n) as RoleExport);
}

/** The customer-managed policies attached to these roles in the export, with their documents. */
function policiesOf(doc: IamExport, roles: readonly RoleExport[]): IamExport['managedPolicies'] {
  const arns = new Set(roles.flatMap((r) => r.attachedPolicies.map((p) => p.arn)).filter((a) => !isAwsManaged(a)));
  return doc.managedPolicies.filter((p) => arns.has(p.arn));
}

interface Comparison {
  roles: { want: RoleExport; diff: RoleDiff }[];
  policies: PolicyDiff[];
  /** Roles within the prefix that IAM has and the export does not. */
  notInExport: string[];
}

/** IAM read with the backup's own reader (a few paged calls), compared with the export. */
async function compare(iam: IAMClient, prefix: string, doc: IamExport, roles: readonly RoleExport[]): Promise<Comparison> {
  const policies = policiesOf(doc, roles);
  const read = await readIam(iam, prefix, { alsoPolicies: policies.map((p) => p.arn) });
  const live = new Map(read.roles.map((r) => [r.name, r]));
  const livePolicies = new Map(read.managedPolicies.map((p) => [p.arn, p]));
  const exported = new Set(doc.roles.map((r) => r.name));
  return {
    roles: roles.map((want) => ({ want, diff: diffRole(want, live.get(want.name)) })).filter((x) => x.diff.changes.length > 0),
    policies: policies.map((p) => diffPolicy(p, livePolicies.get(p.arn), prefix)).filter((p): p is PolicyDiff => p !== undefined),
    notInExport: read.roles.map((r) => r.name).filter((n) => !exported.has(n)),
  };
}

const changeCount = (c: Comparison) => c.roles.reduce((n, r) => n + r.diff.changes.length, 0) + c.policies.filter((p) => !p.outside).length;
const list = (names: readonly string[], max = 5) => `${names.slice(0, max).map((n) => code(n)).join(', ')}${names.length > max ? `, …and ${formatCount(names.length - max)} more` : ''}`;

// ---- the steps' work: read IAM afresh, write only what still differs ---------------------------------

/** One change, written; every write is one IAM can repeat (see src/aws/iam.ts). */
async function applyChange(iam: IAMClient, want: RoleExport, c: Change): Promise<void> {
  const role = want.name;
  switch (c.kind) {
    case 'create':
      return; // done by restoreRole before the rest
    case 'trust':
      await updateTrust(iam, role, c.to);
      return;
    case 'settings':
      await updateRole(iam, role, c.to.description, c.to.maxSessionDuration);
      return;
    case 'boundary':
      if (c.to) await putBoundary(iam, role, c.to);
      else await deleteBoundary(iam, role);
      return;
    case 'inline':
      if (c.to === undefined) await deleteInline(iam, role, c.name);
      else await putInline(iam, role, c.name, c.to);
      return;
    case 'attach':
      await attach(iam, role, c.arn);
      return;
    case 'detach':
      await detach(iam, role, c.arn);
      return;
    case 'tag':
    case 'untag':
      return; // batched by restoreRole
  }
}

export interface RoleResult {
  created: boolean;
  changes: number;
  summary: string;
}

/**
 * Makes one role equal the export: reads it, creates it when it is gone (trust, path, description,
 * session, boundary and tags in CreateRole), then writes only what differs. Run again, it finds
 * nothing left to write.
 */
export async function restoreRole(iam: IAMClient, want: RoleExport): Promise<RoleResult> {
  let live = await readRole(iam, want.name);
  let created = false;
  if (!live) {
    // "exists": made by an earlier try whose checkpoint did not land, or by someone else meanwhile; compare with it as it is.
    if ((await createRole(iam, want)) === 'created') {
      created = true;
      live = { ...want, inlinePolicies: [], attachedPolicies: [] };
    } else live = await readRole(iam, want.name);
  }
  const diff = diffRole(want, live);
  for (const c of diff.changes) await applyChange(iam, want, c);
  const tags = diff.changes.flatMap((c) => (c.kind === 'tag' ? [{ key: c.key, value: c.to }] : []));
  if (tags.length) await tag(iam, want.name, tags);
  const keys = diff.changes.flatMap((c) => (c.kind === 'untag' ? [c.key] : []));
  if (keys.length) await untag(iam, want.name, keys);
  const shown: RoleDiff = created ? { role: want.name, changes: [{ kind: 'create' }, ...diff.changes] } : diff;
  return { created, changes: diff.changes.length + (created ? 1 : 0), summary: shown.changes.length ? roleSummary(shown, want) : `${code(want.name)}: already matched the export` };
}

export interface PolicyResult {
  summary: string;
}

/** Makes a customer-managed policy's default document the export's: created when gone, else a new default version. */
export async function restorePolicy(iam: IAMClient, want: { arn: string; name: string; document: unknown }): Promise<PolicyResult> {
  const name = want.name || policyName(want.arn);
  let live = await readPolicy(iam, want.arn);
  if (!live) {
    if ((await createPolicy(iam, want.arn, want.document)) === 'created') return { summary: `Managed policy ${code(name)} created again from the export` };
    live = await readPolicy(iam, want.arn);
    if (!live) throw new PreconditionError('policy_vanished', `Managed policy ${code(name)} exists and does not; IAM is changing under the restore.`, 'Run the restore again in a minute.');
  }
  if (sameDocument(live.document, want.document)) return { summary: `Managed policy ${code(name)}: already matched the export` };
  const set = await setPolicyDocument(iam, live, want.document);
  return { summary: `Managed policy ${code(name)}: the export's document is the new default version ${code(set.versionId)}${set.deleted ? ` (deleted the oldest version, ${code(set.deleted)}, to stay within IAM's 5)` : ''}` };
}

// ---- the runbook ------------------------------------------------------------------------------------

/** An export read once per process and kept (it cannot change under its checksum); a failed read is tried again. */
function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= fn().catch((e: unknown) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}

export const runbook: Runbook<RestoreIamInput, RestoreIamPlan> = {
  // Role names are IAM's ([\w+=,.@-]): nothing in one can format or link.
  title: (input) => (input.all ? 'Restore the IAM roles of an export' : input.roles.length === 1 ? `Restore IAM role ${input.roles[0]}` : `Restore ${input.roles.length} IAM roles`),
  destructive: true,
  // Before the plan the named roles; once planned, the roles and policies it changes (all that --all can know).
  resources: (input, plan) => (plan ? [...plan.roles.map((r) => `iam:${r}`), ...plan.policies.map((a) => `iam:policy/${policyName(a)}`)] : input.roles.map((r) => `iam:${r}`)),

  async plan(deps: RunbookDeps, input) {
    const { bucket, s3 } = backupTarget(deps);
    const prefix = deps.config.iam.rolePrefix;
    const key = input.backup ?? (await latestKey(s3, bucket));
    if (!key) throw noExport(bucket);
    const loaded = await loadExport(s3, bucket, key);
    const roles = select(loaded, input, prefix);
    const source = `From the IAM export ${code(key)}${input.backup ? '' : ' (the latest)'}, taken ${slackDate(loaded.doc.exportedAt)} by run ${code(loaded.doc.runId ?? '?')}`;
    const data: RestoreIamPlan = { bucket, key, sha256: loaded.sha256, roles: [], policies: [] };
    if (!roles.length) {
      return { lines: [source, `It holds no role named \`${prefix}…\`: there is nothing to restore.`], empty: true, data };
    }
    const cmp = await compare(deps.clients.iam(deps.config.regions.primary), prefix, loaded.doc, roles);
    const writable = cmp.policies.filter((p) => !p.outside);
    const outside = cmp.policies.filter((p) => p.outside);
    const notes = [
      ...outside.map(policySummary),
      ...(input.all && cmp.notInExport.length ? [`Not in the export, left as ${cmp.notInExport.length === 1 ? 'it is' : 'they are'} (drbot never deletes a role): ${list(cmp.notInExport)}`] : []),
    ];
    if (!cmp.roles.length && !writable.length) {
      return { lines: [source, `${roles.length === 1 ? `The role ${code(roles[0]?.name ?? '')} matches` : `All ${plural(roles.length, 'role')} match`} the export: nothing to restore.`, ...notes], empty: true, data };
    }
    const created = cmp.roles.filter((r) => r.diff.changes.some((c) => c.kind === 'create')).length;
    const will = input.dryRun ? 'would be' : 'will be';
    const same = roles.length - cmp.roles.length;
    const differ = [
      cmp.roles.length ? `*${formatCount(cmp.roles.length)}* ${cmp.roles.length === 1 ? 'role differs' : 'roles differ'}${created ? ` (${formatCount(created)} deleted since the export, to create again)` : ''}` : '',
      writable.length ? `*${formatCount(writable.length)}* managed ${writable.length === 1 ? 'policy document differs' : 'policy documents differ'}` : '',
    ].filter(Boolean);
    const head = [
      `${source}: ${plural(roles.length, 'role')} compared with IAM`,
      `${differ.join(' and ')}: ${plural(changeCount(cmp), 'change')} ${will} written, nothing else${same ? `; ${formatCount(same)} ${same === 1 ? 'role already matches' : 'roles already match'}` : ''}`,
    ];
    if (created) notes.unshift('A role created again gets a new role ID: resource policies that named the old role (S3 buckets, KMS keys, trust in other accounts) now show its old ID and must name the role again.');
    const view = renderPlan({
      runId: input.runId,
      head,
      summaries: [...writable.map(policySummary), ...cmp.roles.map((r) => roleSummary(r.diff, r.want))],
      detail: [...writable.flatMap((p) => [...policyDetail(p), '']), ...cmp.roles.flatMap((r) => [...roleDetail(r.diff, r.want), ''])].slice(0, -1),
      notes,
    });
    data.roles = cmp.roles.map((r) => r.want.name);
    data.policies = writable.map((p) => p.arn);
    return { lines: view.lines, thread: view.thread, data };
  },

  async execute(ctx, deps, input, plan, progress) {
    const { s3 } = backupTarget(deps);
    const iam = deps.clients.iam(deps.config.regions.primary);
    const prefix = deps.config.iam.rolePrefix;
    const load = memo(() => loadExport(s3, plan.bucket, plan.key, plan.sha256));
    // The export approved is the export written: refused here if it changed since the plan.
    await step(ctx, 'export', async () => {
      await load();
    });
    const total = plan.policies.length + plan.roles.length;
    const lines: string[] = [];
    const failures: string[] = [];
    const failed: string[] = [];
    let policiesDone = 0;

    // Policies first: a role attaches a policy that was deleted only once it exists again.
    for (const [i, arn] of plan.policies.entries()) {
      const r = await safeStep(ctx, `policy ${policyName(arn)}`, async () => {
        const want = (await load()).doc.managedPolicies.find((p) => p.arn === arn);
        if (!want) throw new PreconditionError('policy_not_in_export', `Managed policy ${code(arn)} is not in the export.`, 'Run the restore again.');
        const out = await restorePolicy(iam, want);
        await progress.report(i + 1, total, 'policies and roles restored');
        return out;
      });
      if (r.ok) {
        policiesDone++;
        lines.push(r.value.summary);
      } else {
        failed.push(policyName(arn));
        failures.push(`managed policy ${policyName(arn)}: ${withHint(r)}`);
      }
    }

    let restored = 0;
    let created = 0;
    const roleLines: string[] = [];
    // One step per role: AccessDenied or throttling on one role is its own failure, and the others go on.
    for (const [i, name] of plan.roles.entries()) {
      const r = await safeStep(ctx, `role ${name}`, async () => {
        const want = (await load()).doc.roles.find((x) => x.name === name);
        if (!want) throw new PreconditionError('role_not_in_export', `Role ${code(name)} is not in the export.`, 'Run the restore again.');
        const out = await restoreRole(iam, want);
        await progress.report(plan.policies.length + i + 1, total, 'policies and roles restored');
        return out;
      });
      if (r.ok) {
        restored++;
        if (r.value.created) created++;
        roleLines.push(r.value.summary);
      } else {
        failed.push(name);
        failures.push(`${name}: ${withHint(r)}`);
      }
    }

    // Verify as the backup reads IAM: the export's roles (and their policies) compared again.
    const verify = await step(ctx, 'verify', async () => {
      const loaded = await load();
      const roles = select(loaded, input, prefix);
      const cmp = await compare(iam, prefix, loaded.doc, roles);
      const remaining = [...cmp.policies.filter((p) => !p.outside).map(policySummary), ...cmp.roles.map((x) => roleSummary(x.diff, x.want))];
      return { compared: roles.length, differences: changeCount(cmp), remaining: remaining.slice(0, 5), more: Math.max(0, remaining.length - 5) };
    });

    const out = [
      `Restored *${formatCount(restored)}* of ${plural(plan.roles.length, 'role')} from ${code(plan.key)}${created ? ` (${formatCount(created)} created again)` : ''}${plan.policies.length ? ` and ${formatCount(policiesDone)} of ${plural(plan.policies.length, 'managed policy', 'managed policies')}` : ''}.`,
      ...[...lines, ...roleLines].slice(0, RESULT_LINES).map((l) => `• ${l}`),
      ...(lines.length + roleLines.length > RESULT_LINES ? [`• …and ${formatCount(lines.length + roleLines.length - RESULT_LINES)} more`] : []),
      verify.differences === 0
        ? `:mag: Verified by exporting IAM again: the ${plural(verify.compared, 'role')} ${verify.compared === 1 ? 'matches' : 'match'} the export, *0* differences.`
        : `:warning: Verified by exporting IAM again: *${formatCount(verify.differences)}* ${verify.differences === 1 ? 'difference remains' : 'differences remain'}: ${verify.remaining.join('; ')}${verify.more ? `; …and ${formatCount(verify.more)} more` : ''}`,
      ...(failed.length ? [`:x: Not restored: ${list(failed, 10)}${restored ? '; the others were' : ''}. The reasons are below.`] : []),
    ];
    return { ok: failures.length === 0 && verify.differences === 0, lines: out, failures };
  },
};
