import type { LifecycleRule } from '@aws-sdk/client-s3';
import { addReplica, enablePitr, readTableProtection } from '../../aws/dynamodb-setup';
import {
  blockPublicAccess,
  bucketExists,
  createBucket,
  defaultEncryption,
  enableVersioning,
  encryptByDefault,
  getLifecycle,
  getReplication,
  getVersioning,
  publicAccessBlocked,
  putLifecycle,
  putReplication,
} from '../../aws/s3-config';
import { DrbotError } from '../../errors';
import { formatCount, plural } from '../../slack/views/run';
import { type Runbook, safeStep } from '../driver';
import { bucketRegion, tableRegion } from '../resources';
import type { RunbookDeps } from '../types';
import type { SetupInput } from '.';
import { applyAwsBackup, assessAwsBackup } from './aws-backup';
import { lifecycleNeeds, mergeLifecycle, mergeReplication, replicationRight, RTC_MINUTES, RULE_IDS } from './merge';
import { ensureReplicationRole, replicationRoleName } from './role';

/** One change to one resource, as the plan shows it and the run applies it (JSON: it is checkpointed). */
export type Change =
  | { op: 'create-bucket'; bucket: string; region: string; text: string }
  | { op: 'versioning'; bucket: string; region: string; text: string }
  | { op: 'public-access'; bucket: string; region: string; text: string }
  | { op: 'encryption'; bucket: string; region: string; text: string }
  | { op: 'lifecycle'; bucket: string; region: string; rules: LifecycleRule[]; text: string }
  | { op: 'replication'; bucket: string; region: string; replica: string; replicaRegion: string; createReplica: boolean; text: string }
  | { op: 'pitr'; table: string; region: string; text: string }
  | { op: 'table-replica'; table: string; region: string; replicaRegion: string; text: string }
  | { op: 'aws-backup'; region: string; backupRegion: string; tables: string[]; roleTables: string[]; text: string };

/** What setup found on one resource: what is already right, what it would change, and what it leaves alone and why. */
export interface Target {
  kind: 'bucket' | 'backup-bucket' | 'table' | 'aws-backup';
  name: string;
  ok: string[];
  changes: Change[];
  notes: string[];
}

export interface SetupPlan {
  targets: Target[];
}

const ids = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ');

function describeRules(rules: readonly LifecycleRule[]): string {
  return rules
    .map((r) =>
      r.ID === RULE_IDS.noncurrent
        ? `\`${r.ID}\` (noncurrent versions expire after ${r.NoncurrentVersionExpiration?.NoncurrentDays ?? '?'} days)`
        : `\`${r.ID ?? '?'}\` (\`${r.Filter?.Prefix ?? ''}\` to Glacier at 30 days, Deep Archive at 90)`,
    )
    .join(' and ');
}

/** A bucket of the estate: versioning, the runbook's lifecycle rules, replication to its replica. */
async function assessBucket(deps: RunbookDeps, name: string): Promise<Target> {
  const cfg = deps.config;
  const bucket = cfg.s3.buckets.find((b) => b.name === name);
  const region = bucketRegion(cfg, name);
  const s3 = deps.clients.s3(region);
  const t: Target = { kind: 'bucket', name, ok: [], changes: [], notes: [] };
  if (!(await bucketExists(s3, name))) {
    t.notes.push('does not exist in the account: setup protects estate buckets, it does not create them');
    return t;
  }
  const [versioning, lifecycle, replication] = await Promise.all([getVersioning(s3, name), getLifecycle(s3, name), bucket?.replica ? getReplication(s3, name) : undefined]);
  if (versioning === 'Enabled') t.ok.push('versioning on');
  else t.changes.push({ op: 'versioning', bucket: name, region, text: `turns versioning on (now ${versioning === 'Off' ? 'never enabled' : 'suspended'})` });

  const needs = lifecycleNeeds(lifecycle.rules, { noncurrentDays: cfg.schedule.noncurrentVersionDays, ...(bucket?.archivePrefix ? { archivePrefix: bucket.archivePrefix } : {}) });
  t.ok.push(...needs.ok);
  t.notes.push(...needs.conflicts);
  if (needs.upsert.length) {
    const { kept } = mergeLifecycle(lifecycle, needs.upsert);
    const keep = kept.length
      ? `; keeps ${plural(kept.length, 'rule')} written by others (${ids(kept)}), which the runbook's lifecycle script would have replaced`
      : '';
    t.changes.push({ op: 'lifecycle', bucket: name, region, rules: needs.upsert, text: `sets lifecycle rule ${describeRules(needs.upsert)}${keep}` });
  }

  if (bucket?.replica) {
    const { bucket: replica, region: replicaRegion } = bucket.replica;
    const roleName = replicationRoleName(name, replica);
    if (replicationRight(replication, replica)) {
      t.ok.push(`replicates to \`${replica}\` with RTC, metrics and delete markers`);
    } else {
      const merged = mergeReplication(replication, `role/${roleName}`, replica);
      if (!merged.ok) t.notes.push(`replication not changed: ${merged.reason}`);
      else {
        const replicaS3 = deps.clients.s3(replicaRegion);
        const exists = await bucketExists(replicaS3, replica);
        const replicaVersioned = exists && (await getVersioning(replicaS3, replica)) === 'Enabled';
        const parts = [
          ...(exists ? [] : [`creates replica bucket \`${replica}\` in ${replicaRegion}`]),
          ...(replicaVersioned ? [] : [`turns on versioning of \`${replica}\``]),
          `role \`${roleName}\` (S3 may read \`${name}\` and write \`${replica}\`, nothing else)`,
          `replication rule \`${RULE_IDS.replica}\` → \`${replica}\` with Replication Time Control (${RTC_MINUTES} min), metrics and delete-marker replication`,
          ...(merged.kept.length ? [`keeps ${plural(merged.kept.length, 'replication rule')} written by others (${ids(merged.kept)}), which the runbook's script would have replaced`] : []),
        ];
        t.changes.push({ op: 'replication', bucket: name, region, replica, replicaRegion, createReplica: !exists, text: parts.join('; ') });
      }
    }
  }
  return t;
}

/** The backup bucket: exists, versioned, private, encrypted by default. */
async function assessBackupBucket(deps: RunbookDeps, name: string): Promise<Target> {
  const region = deps.config.regions.primary;
  const s3 = deps.clients.s3(region);
  const t: Target = { kind: 'backup-bucket', name, ok: [], changes: [], notes: [] };
  const exists = await bucketExists(s3, name);
  if (!exists) t.changes.push({ op: 'create-bucket', bucket: name, region, text: `creates the bucket in ${region}` });
  const [versioning, blocked, encryption] = exists ? await Promise.all([getVersioning(s3, name), publicAccessBlocked(s3, name), defaultEncryption(s3, name)]) : ['Off', false, undefined];
  if (versioning === 'Enabled') t.ok.push('versioning on');
  else t.changes.push({ op: 'versioning', bucket: name, region, text: 'turns versioning on' });
  if (blocked) t.ok.push('public access blocked');
  else t.changes.push({ op: 'public-access', bucket: name, region, text: 'blocks all public access (ACLs and policies)' });
  if (encryption) t.ok.push(`encrypted by default (${encryption})`);
  else t.changes.push({ op: 'encryption', bucket: name, region, text: 'encrypts new objects by default (SSE-S3)' });
  return t;
}

/** A table: PITR, and a global-table replica in the backup region. */
async function assessTable(deps: RunbookDeps, table: string, found: { region: string; arn: string }[]): Promise<Target> {
  const region = tableRegion(deps.config, table);
  const backup = deps.config.regions.backup;
  const t: Target = { kind: 'table', name: table, ok: [], changes: [], notes: [] };
  let p;
  try {
    p = await readTableProtection(deps.clients.dynamodb(region), table, backup);
  } catch (e) {
    if (e instanceof DrbotError && e.code === 'aws_not_found') {
      t.notes.push(`does not exist in ${region}: setup protects tables, it does not create them`);
      return t;
    }
    throw e;
  }
  if (p.arn) found.push({ region, arn: p.arn });
  if (p.pitr) t.ok.push('PITR on');
  else t.changes.push({ op: 'pitr', table, region, text: 'turns point-in-time recovery on (35 days of restore points)' });
  if (region === backup) t.notes.push(`lives in the backup region ${backup}: no replica to add there`);
  else if (p.replicaStatus) t.ok.push(`replica in ${backup} (${p.replicaStatus})`);
  else t.changes.push({ op: 'table-replica', table, region, replicaRegion: backup, text: `adds a global-table replica in ${backup} (UpdateTable ReplicaUpdates; AWS copies the table in the background)` });
  return t;
}

/** Every resource in scope, read now: the plan, and (again after the run) the verification. */
export async function assess(deps: RunbookDeps, scope: SetupInput['scope']): Promise<Target[]> {
  const targets: Target[] = [];
  if (scope !== 'dynamodb') {
    for (const b of deps.config.s3.buckets) targets.push(await assessBucket(deps, b.name));
    if (deps.config.backupBucket) targets.push(await assessBackupBucket(deps, deps.config.backupBucket));
  }
  if (scope !== 's3') {
    const found: { region: string; arn: string }[] = [];
    for (const t of deps.config.dynamodb.tables) targets.push(await assessTable(deps, t.name, found));
    if (found.length) targets.push(...(await assessAwsBackup(deps, found)));
  }
  return targets;
}

/** A change in a few words, for the read-back. */
function short(c: Change): string {
  switch (c.op) {
    case 'create-bucket':
      return 'bucket missing';
    case 'versioning':
      return 'versioning off';
    case 'public-access':
      return 'public access not blocked';
    case 'encryption':
      return 'no default encryption';
    case 'lifecycle':
      return `lifecycle rule ${ids(c.rules.map((r) => r.ID ?? ''))} missing`;
    case 'replication':
      return `no replication to \`${c.replica}\` with RTC`;
    case 'pitr':
      return 'PITR off';
    case 'table-replica':
      return `no replica in ${c.replicaRegion}`;
    case 'aws-backup':
      return 'AWS Backup vault, plan or selection missing';
  }
}

function targetLine(t: Target): string {
  const head = `\`${t.name}\`${t.kind === 'backup-bucket' ? ' (backup bucket)' : t.kind === 'aws-backup' ? ' (AWS Backup)' : ''}`;
  const ok = t.ok.length ? ` already right: ${t.ok.join('; ')}.` : '';
  const changes = t.changes.map((c) => `\n   → ${c.text}`).join('');
  const notes = t.notes.map((n) => `\n   :warning: ${n}`).join('');
  // The check mark only on a resource with nothing to change and nothing to note (a missing one is not "right"; the summary's count is the same).
  return `${head}${t.changes.length || t.notes.length ? '' : ' :white_check_mark:'}${ok}${changes}${notes}`;
}

/** Applies one change; each AWS write is inside the step that calls this, merged with what AWS holds at that moment. */
async function apply(deps: RunbookDeps, c: Change): Promise<string> {
  switch (c.op) {
    case 'create-bucket':
      await createBucket(deps.clients.s3(c.region), c.bucket, c.region);
      return `created \`${c.bucket}\``;
    case 'versioning':
      await enableVersioning(deps.clients.s3(c.region), c.bucket);
      return `versioning on for \`${c.bucket}\``;
    case 'public-access':
      await blockPublicAccess(deps.clients.s3(c.region), c.bucket);
      return `public access blocked on \`${c.bucket}\``;
    case 'encryption':
      await encryptByDefault(deps.clients.s3(c.region), c.bucket);
      return `default encryption on \`${c.bucket}\``;
    case 'lifecycle': {
      const s3 = deps.clients.s3(c.region);
      // Read again now: rules added since the plan are kept too.
      const { lifecycle, kept } = mergeLifecycle(await getLifecycle(s3, c.bucket), c.rules);
      await putLifecycle(s3, c.bucket, lifecycle);
      return `lifecycle of \`${c.bucket}\`: ${ids(c.rules.map((r) => r.ID ?? ''))} set${kept.length ? `, ${plural(kept.length, 'other rule')} kept` : ''}`;
    }
    case 'pitr':
      await enablePitr(deps.clients.dynamodb(c.region), c.table);
      return `PITR on for \`${c.table}\``;
    case 'table-replica':
      await addReplica(deps.clients.dynamodb(c.region), c.table, c.replicaRegion);
      return `replica of \`${c.table}\` in ${c.replicaRegion} requested`;
    case 'replication':
    case 'aws-backup':
      throw new Error(`${c.op} is applied in its own steps`);
  }
}

/** Replication in steps: replica bucket, its versioning, the role, then the merged configuration. */
async function applyReplication(ctx: Parameters<Runbook<SetupInput, SetupPlan>['execute']>[0], deps: RunbookDeps, c: Extract<Change, { op: 'replication' }>): Promise<{ ok: true; line: string } | { ok: false; failure: string }> {
  const replicaS3 = () => deps.clients.s3(c.replicaRegion);
  const fail = (r: { message: string; hint?: string }) => ({ ok: false as const, failure: `${r.message}${r.hint ? ` — ${r.hint}` : ''}` });
  if (c.createReplica) {
    const made = await safeStep(ctx, `replica-bucket:${c.replica}`, () => createBucket(replicaS3(), c.replica, c.replicaRegion));
    if (!made.ok) return fail(made);
  }
  const versioned = await safeStep(ctx, `replica-versioning:${c.replica}`, async () => {
    if ((await getVersioning(replicaS3(), c.replica)) !== 'Enabled') await enableVersioning(replicaS3(), c.replica);
  });
  if (!versioned.ok) return fail(versioned);
  const role = await safeStep(ctx, `replication-role:${c.bucket}`, () => ensureReplicationRole(deps.clients.iam(deps.config.regions.primary), c.bucket, c.replica));
  if (!role.ok) return fail(role);
  const put = await safeStep(ctx, `replication:${c.bucket}`, async () => {
    const s3 = deps.clients.s3(c.region);
    const merged = mergeReplication(await getReplication(s3, c.bucket), role.value, c.replica);
    if (!merged.ok) return { written: false as const, reason: merged.reason };
    await putReplication(s3, c.bucket, merged.config);
    return { written: true as const, kept: merged.kept.length };
  });
  if (!put.ok) return fail(put);
  if (!put.value.written) return { ok: false, failure: `\`${c.bucket}\`: ${put.value.reason}` };
  return { ok: true, line: `replication \`${c.bucket}\` → \`${c.replica}\` set${put.value.kept ? `, ${plural(put.value.kept, 'other rule')} kept` : ''}` };
}

export const runbook: Runbook<SetupInput, SetupPlan> = {
  title: (input) => `Set up protections (${input.scope})`,
  destructive: true,

  async plan(deps, input) {
    const targets = await assess(deps, input.scope);
    const changes = targets.reduce((n, t) => n + t.changes.length, 0);
    const right = targets.filter((t) => t.changes.length === 0 && t.notes.length === 0).length;
    const lines = [
      changes
        ? `${plural(changes, 'change')} on ${plural(targets.filter((t) => t.changes.length).length, 'resource')}; ${formatCount(right)} already right.`
        : `Nothing to change: ${plural(right, 'resource')} already right.`,
      ...targets.map(targetLine),
      'Lifecycle and replication rules are merged by rule ID: every rule someone else wrote is written back unchanged.',
    ];
    return { lines, empty: changes === 0, data: { targets } };
  },

  async execute(ctx, deps, input, plan, progress) {
    const applied: string[] = [];
    const failures: string[] = [];
    const all = plan.targets.flatMap((t) => t.changes);
    // Counted outside the steps (a replay counts the same), reported inside them: a change that
    // failed counts as done too, and the read-back reports the total (the driver may still drop a
    // report made within its interval of the last one).
    let done = 0;
    for (const t of plan.targets) {
      for (const c of t.changes) {
        const n = ++done;
        if (c.op === 'replication' || c.op === 'aws-backup') {
          const r = c.op === 'replication' ? await applyReplication(ctx, deps, c) : await applyAwsBackup(ctx, deps, c);
          if (r.ok) applied.push(r.line);
          else failures.push(r.failure);
        } else {
          const r = await safeStep(ctx, `${c.op}:${t.name}`, async () => {
            const line = await apply(deps, c);
            await progress.report(n, all.length, 'changes done');
            return line;
          });
          if (r.ok) applied.push(r.value);
          else failures.push(`${r.message}${r.hint ? ` — ${r.hint}` : ''}`);
        }
      }
    }
    // Verify: read every setting back; what the plan changed must now be right. A planned resource
    // is also not right when the read-back finds a note the plan did not have (replication another
    // role took over, a bucket gone): it is then no longer a change, but it is not as planned. The
    // note's head is said (the run's failures say the rest).
    const check = await safeStep(ctx, 'verify', async () => {
      await progress.report(all.length, all.length, 'changes done; reading every setting back');
      return assess(deps, input.scope);
    });
    // A planned resource the read-back no longer finds (the config changed by a deploy, AWS Backup's
    // target gone with the tables it selected) is not as planned either.
    const key = (t: Target) => `${t.kind}:${t.name}`;
    const now = new Map(check.ok ? check.value.map((t) => [key(t), t]) : []);
    const left = check.ok
      ? plan.targets
          .filter((was) => was.changes.length)
          .flatMap((was) => {
            const t = now.get(key(was));
            if (!t) return [`\`${was.name}\`: not found on reading back`];
            const wrong = [...t.changes.map(short), ...t.notes.filter((note) => !was.notes.includes(note)).map((note) => note.split(': ')[0])];
            return wrong.length ? [`\`${t.name}\`: ${wrong.join(', ')}`] : [];
          })
      : [];
    const lines = [
      `Applied ${formatCount(applied.length)} of ${plural(all.length, 'change')}.`,
      ...applied.map((a) => `• ${a}`),
      !check.ok
        ? `:warning: Could not read the settings back: ${check.message}`
        : left.length
          ? `:warning: Read back, still not right: ${left.join('; ')}`
          : ':mag: Verified by reading every setting back: all as planned.',
    ];
    return { ok: failures.length === 0 && check.ok && left.length === 0, lines, failures };
  },
};
