import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { BackupRuleInput } from '@aws-sdk/client-backup';
import { ensureVault, findPlan, findSelection, findVault, putPlan, putSelection } from '../../aws/backup';
import { safeStep } from '../driver';
import type { RunbookDeps } from '../types';
import { ensureBackupRole } from './role';
import type { Change, Target } from './runbook';

/*
 * AWS Backup for the configured tables (the design's "use the kept service"): a vault in each
 * table region and the same name in the backup region, a plan with one daily rule whose backups
 * are kept `retention.dynamodbBackupDays` and copied to the backup region's vault, and a selection
 * of the tables. Rules and selections are drbot's by name; other rules of the plan are kept.
 */

export const BACKUP_RULE = 'drbot-daily';
export const BACKUP_SELECTION = 'drbot-tables';
/** 05:00 UTC every day. */
export const BACKUP_SCHEDULE = 'cron(0 5 * * ? *)';

export const vaultName = (deps: RunbookDeps) => `drbot-${deps.config.name}`;
export const planName = (deps: RunbookDeps) => `drbot-${deps.config.name}-dynamodb`;

export function dailyRule(vault: string, days: number, copyTo: string | undefined): BackupRuleInput {
  return {
    RuleName: BACKUP_RULE,
    TargetBackupVaultName: vault,
    ScheduleExpression: BACKUP_SCHEDULE,
    StartWindowMinutes: 60,
    CompletionWindowMinutes: 360,
    Lifecycle: { DeleteAfterDays: days },
    ...(copyTo ? { CopyActions: [{ DestinationBackupVaultArn: copyTo, Lifecycle: { DeleteAfterDays: days } }] } : {}),
  };
}

function ruleRight(rule: BackupRuleInput | undefined, vault: string, days: number, copyTo: string | undefined): boolean {
  if (!rule || rule.TargetBackupVaultName !== vault || !rule.ScheduleExpression || rule.Lifecycle?.DeleteAfterDays !== days) return false;
  if (!copyTo) return true;
  return (rule.CopyActions ?? []).some((c) => c.DestinationBackupVaultArn === copyTo && c.Lifecycle?.DeleteAfterDays === days);
}

/** One target per region that holds configured tables: what AWS Backup already does for them, and what is missing. */
export async function assessAwsBackup(deps: RunbookDeps, tables: readonly { region: string; arn: string }[]): Promise<Target[]> {
  const vault = vaultName(deps);
  const plan = planName(deps);
  const days = deps.config.retention.dynamodbBackupDays;
  const backupRegion = deps.config.regions.backup;
  const regions = [...new Set(tables.map((t) => t.region))];
  const out: Target[] = [];
  for (const region of regions) {
    const arns = tables.filter((t) => t.region === region).map((t) => t.arn);
    const copies = region !== backupRegion;
    const t: Target = { kind: 'aws-backup', name: `${plan} (${region})`, ok: [], changes: [], notes: [] };
    const [here, there, found] = await Promise.all([
      findVault(deps.clients.backup(region), vault),
      copies ? findVault(deps.clients.backup(backupRegion), vault) : undefined,
      findPlan(deps.clients.backup(region), plan),
    ]);
    const rule = found?.rules.find((r) => r.RuleName === BACKUP_RULE);
    const selection = found ? await findSelection(deps.clients.backup(region), found.id, BACKUP_SELECTION) : undefined;
    const missing = arns.filter((a) => !selection?.resources.includes(a));
    const parts: string[] = [];
    if (here) t.ok.push(`vault \`${vault}\` in ${region}`);
    else parts.push(`creates vault \`${vault}\` in ${region}`);
    if (copies) {
      if (there) t.ok.push(`vault \`${vault}\` in ${backupRegion}`);
      else parts.push(`creates vault \`${vault}\` in ${backupRegion}`);
    }
    if (ruleRight(rule, vault, days, copies ? there : undefined) && (!copies || there !== undefined)) {
      t.ok.push(`plan \`${plan}\` backs up daily, keeps ${days} days${copies ? `, copies to ${backupRegion}` : ''}`);
    } else {
      const kept = (found?.rules ?? []).filter((r) => r.RuleName !== BACKUP_RULE).map((r) => `\`${r.RuleName ?? '?'}\``);
      parts.push(
        `${found ? 'updates' : 'creates'} plan \`${plan}\`: rule \`${BACKUP_RULE}\` daily at 05:00 UTC, backups kept ${days} days${copies ? `, each copied to \`${vault}\` in ${backupRegion} (kept ${days} days)` : ''}${kept.length ? `; keeps its other rule${kept.length === 1 ? '' : 's'} ${kept.join(', ')}` : ''}`,
      );
    }
    if (missing.length) parts.push(`selects ${missing.length} table${missing.length === 1 ? '' : 's'} (selection \`${BACKUP_SELECTION}\`, role \`drbot-aws-backup\`)`);
    else t.ok.push(`selects every configured table in ${region}`);
    if (parts.length) t.changes.push({ op: 'aws-backup', region, backupRegion, tables: arns, roleTables: tables.map((x) => x.arn), text: parts.join('; ') });
    out.push(t);
  }
  return out;
}

/** Vaults, role, plan and selection, each in its own step; the plan and selection merged with what AWS holds now. */
export async function applyAwsBackup(ctx: DurableContext, deps: RunbookDeps, c: Extract<Change, { op: 'aws-backup' }>): Promise<{ ok: true; line: string } | { ok: false; failure: string }> {
  const vault = vaultName(deps);
  const plan = planName(deps);
  const days = deps.config.retention.dynamodbBackupDays;
  const copies = c.region !== c.backupRegion;
  const backup = () => deps.clients.backup(c.region);
  const fail = (r: { message: string; hint?: string }) => ({ ok: false as const, failure: `${r.message}${r.hint ? ` — ${r.hint}` : ''}` });
  const here = await safeStep(ctx, `backup-vault:${c.region}`, () => ensureVault(backup(), vault));
  if (!here.ok) return fail(here);
  const there = copies ? await safeStep(ctx, `backup-vault:${c.backupRegion}`, () => ensureVault(deps.clients.backup(c.backupRegion), vault)) : undefined;
  if (there && !there.ok) return fail(there);
  const role = await safeStep(ctx, 'backup-role', () => ensureBackupRole(deps.clients.iam(deps.config.regions.primary), c.roleTables, vault));
  if (!role.ok) return fail(role);
  const planId = await safeStep(ctx, `backup-plan:${c.region}`, async () => {
    const found = await findPlan(backup(), plan);
    // Rules are keyed by RuleName in a plan: ours replaced in place, the others written back as read.
    const ours = dailyRule(vault, days, there?.ok ? there.value : undefined);
    const existing = found?.rules ?? [];
    const rules = existing.some((r) => r.RuleName === BACKUP_RULE) ? existing.map((r) => (r.RuleName === BACKUP_RULE ? ours : r)) : [...existing, ours];
    return putPlan(backup(), plan, found?.id, rules);
  });
  if (!planId.ok) return fail(planId);
  const selected = await safeStep(ctx, `backup-selection:${c.region}`, async () => {
    const found = await findSelection(backup(), planId.value, BACKUP_SELECTION);
    const want = [...new Set([...(found?.resources ?? []), ...c.tables])];
    if (found && c.tables.every((a) => found.resources.includes(a))) return 0;
    await putSelection(backup(), planId.value, BACKUP_SELECTION, role.value, want, found?.id);
    return want.length;
  });
  if (!selected.ok) return fail(selected);
  return { ok: true, line: `AWS Backup plan \`${plan}\` in ${c.region}: daily, ${days} days${copies ? `, copied to ${c.backupRegion}` : ''}; ${c.tables.length} table${c.tables.length === 1 ? '' : 's'} selected` };
}
