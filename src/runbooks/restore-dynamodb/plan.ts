import type { DynamoDBClient, TableDescription, Tag } from '@aws-sdk/client-dynamodb';
import {
  type BackupInfo,
  describeBackupIfAny,
  describeTableIfAny,
  listTableBackups,
  readPitrWindow,
  readTableSettings,
  TAGS_MAX,
  type TableSettings,
} from '../../aws/dynamodb-restore';
import { DDB_BACKUP_ARN } from '../args';
import { PreconditionError } from '../../errors';
import { code, slackDate } from '../../slack/views/format';
import { formatBytes } from '../../util/limit';
import { DRBOT_TAGS } from '../restored-tables';

/** What is restored: the table at a time (PITR), or a backup (named, the newest, or a deleted table's system backup). */
export type RestoreSource =
  | { kind: 'pitr'; at: string; earliest: string; latest: string }
  | { kind: 'backup'; backup: BackupInfo; why: 'named' | 'latest' | 'deleted'; sameName?: number };

/** What the restored table gets after the restore, and where it came from. */
export interface Reapply {
  from: 'source' | 'backup';
  settings: TableSettings;
  /** Tags copied from the source (no `aws:` tags, none of drbot's own). */
  tags: Tag[];
  /** Settings that will not be re-applied, each with the reason (read failures, a gone source, limits). */
  skipped: string[];
}

/** A time as Slack shows it (the reader's zone), with a UTC fallback. */
export const at = (iso: string) => slackDate(iso, { seconds: true });
const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

function newestFirst(a: BackupInfo, b: BackupInfo): number {
  return b.created.localeCompare(a.created);
}

function backupList(backups: BackupInfo[]): string {
  const names = [...backups].sort(newestFirst).slice(0, 5).map((b) => `\`${b.name}\``);
  return names.length ? ` Its newest: ${names.join(', ')}.` : ' It has none.';
}

function available(b: BackupInfo, table: string): BackupInfo {
  if (b.status !== 'AVAILABLE') {
    throw new PreconditionError('backup_not_available', `Backup ${code(b.name)} of \`${table}\` is ${b.status}, not AVAILABLE.`, 'Wait until it is AVAILABLE, or pick another with `--backup NAME` or `--latest-backup`.');
  }
  return b;
}

/** `--backup ARN|NAME`: that backup of that table, AVAILABLE; the newest when several share the name. */
export async function namedBackup(ddb: DynamoDBClient, table: string, wanted: string): Promise<RestoreSource> {
  if (DDB_BACKUP_ARN.test(wanted)) {
    const d = await describeBackupIfAny(ddb, wanted);
    if (!d || (d.table && d.table !== table)) {
      const known = await listTableBackups(ddb, table).catch(() => []);
      throw new PreconditionError('unknown_backup', `There is no backup ${code(wanted)} of \`${table}\`.${backupList(known)}`, 'Name a backup of this table (its ARN or its name), or use `--latest-backup`.');
    }
    return { kind: 'backup', backup: available({ ...d, table }, table), why: 'named' };
  }
  const all = await listTableBackups(ddb, table);
  const named = all.filter((b) => b.name === wanted).sort(newestFirst);
  if (!named.length) throw new PreconditionError('unknown_backup', `\`${table}\` has no backup named ${code(wanted)}.${backupList(all)}`, 'Name one of its backups (or its ARN), or use `--latest-backup`.');
  const pick = named.find((b) => b.status === 'AVAILABLE') ?? named[0];
  return { kind: 'backup', backup: available(pick as BackupInfo, table), why: 'named', ...(named.length > 1 ? { sameName: named.length } : {}) };
}

/** `--latest-backup`: the newest AVAILABLE backup of the table (a deleted table's system backup included). */
export async function latestBackup(ddb: DynamoDBClient, table: string): Promise<RestoreSource> {
  const all = await listTableBackups(ddb, table);
  const newest = all.filter((b) => b.status === 'AVAILABLE').sort(newestFirst)[0];
  if (!newest) {
    throw new PreconditionError('no_backup', `\`${table}\` has no AVAILABLE backup.${all.length ? backupList(all) : ''}`, `Make one with \`/dr backup dynamodb ${table}\`, or restore to a time with \`--to\`.`);
  }
  return { kind: 'backup', backup: newest, why: 'latest' };
}

/**
 * `--to TIME`: within the table's PITR window; or, for a table that was deleted, its system backup
 * (AWS keeps a deleted table's state just before the deletion only, not earlier times).
 */
export async function pointInTime(ddb: DynamoDBClient, table: string, to: string, live: TableDescription | undefined): Promise<RestoreSource> {
  if (!live) {
    const system = (await listTableBackups(ddb, table)).filter((b) => b.type === 'SYSTEM' && b.status === 'AVAILABLE').sort(newestFirst)[0];
    if (!system) {
      throw new PreconditionError(
        'table_gone',
        `\`${table}\` does not exist, and DynamoDB keeps no system backup of it (it had no PITR when it was deleted, or that was more than 35 days ago).`,
        'Restore an on-demand backup of it with `--backup NAME` or `--latest-backup`.',
      );
    }
    if (to < system.created) {
      throw new PreconditionError(
        'before_deletion',
        `\`${table}\` was deleted at ${utc(system.created)}. AWS keeps only its state just before the deletion (system backup ${code(system.name)}), not its state at ${utc(to)}.`,
        `Restore that state with \`--backup ${system.name}\`, or an older on-demand backup with \`--backup NAME\`.`,
      );
    }
    return { kind: 'backup', backup: system, why: 'deleted' };
  }
  const w = await readPitrWindow(ddb, table);
  if (!w.enabled || !w.earliest || !w.latest) {
    throw new PreconditionError('no_pitr', `Point-in-time recovery is not enabled on \`${table}\`, so it cannot be restored to a time.`, `Restore a backup with \`--latest-backup\` or \`--backup NAME\`; \`/dr setup dynamodb\` turns PITR on for next time.`);
  }
  if (to < w.earliest || to > w.latest) {
    throw new PreconditionError(
      'outside_pitr_window',
      `${utc(to)} is outside the PITR window of \`${table}\`: it can be restored to any time from ${utc(w.earliest)} to ${utc(w.latest)}.`,
      `Pick a time in that window (\`--to ${w.latest.slice(0, 19)}Z\` is the latest), or restore a backup with \`--backup NAME\`.`,
    );
  }
  return { kind: 'pitr', at: to, earliest: w.earliest, latest: w.latest };
}

/** What to copy onto the restored table: from the live source, or (when it is gone) from the backup's description. */
export async function settingsToReapply(ddb: DynamoDBClient, live: TableDescription | undefined, source: RestoreSource): Promise<Reapply> {
  if (live) {
    const { settings, unread } = await readTableSettings(ddb, live);
    const own = (settings.tags ?? []).filter((t) => t.Key && !t.Key.startsWith('aws:') && !DRBOT_TAGS.includes(t.Key));
    // Room for drbot's own three tags within the 50 a table may carry.
    const room = TAGS_MAX - DRBOT_TAGS.length;
    const skipped = unread.map((u) => `${u.setting}: could not be read (${u.reason})`);
    if (own.length > room) skipped.push(`${own.length - room} of the source's ${own.length} tags: a table carries at most ${TAGS_MAX} and drbot adds ${DRBOT_TAGS.length}`);
    const aws = (settings.tags ?? []).filter((t) => t.Key?.startsWith('aws:')).length;
    if (aws) skipped.push(`${aws} \`aws:\` tag${aws === 1 ? '' : 's'}: only AWS sets those`);
    return { from: 'source', settings, tags: own.slice(0, room), skipped };
  }
  const backup = source.kind === 'backup' ? source.backup : undefined;
  const d = backup ? await describeBackupIfAny(ddb, backup.arn) : undefined;
  const settings: TableSettings = {
    ...(d?.features.ttlAttribute ? { ttlAttribute: d.features.ttlAttribute } : {}),
    ...(d?.features.streamViewType ? { streamViewType: d.features.streamViewType } : {}),
    // Only a table with PITR on leaves a system backup when it is deleted.
    ...(backup?.type === 'SYSTEM' ? { pitr: true } : {}),
    ...(d?.billingMode ? { billingMode: d.billingMode } : {}),
  };
  const gone = 'the source table is gone and a backup does not keep it';
  const skipped = [`tags, deletion protection and the resource policy: ${gone}`];
  if (backup?.type !== 'SYSTEM') skipped.push(`PITR: ${gone}; turn it on with \`/dr setup dynamodb\` if the restored table is to stay`);
  if (!d?.features.ttlAttribute && !d?.features.streamViewType) skipped.push('TTL and the stream: the backup’s description lists neither');
  return { from: 'backup', settings, tags: [], skipped };
}

/** "PITR on; TTL on `expiresAt`; …": what will be (or was) re-applied. */
export function reapplyList(r: Reapply): string[] {
  const s = r.settings;
  return [
    ...(s.pitr ? ['PITR'] : []),
    ...(s.ttlAttribute ? [`TTL on ${code(s.ttlAttribute)}`] : []),
    ...(s.streamViewType ? [`stream (${s.streamViewType})`] : []),
    ...(r.tags.length ? [`${r.tags.length} tag${r.tags.length === 1 ? '' : 's'}`] : []),
    ...(s.resourcePolicy ? ['resource policy (the source’s ARN replaced by the restored table’s)'] : []),
    ...(s.deletionProtection ? ['deletion protection'] : []),
  ];
}

/**
 * What will not be re-applied, as one line: the skipped settings, and auto scaling, which drbot
 * cannot copy (it has no Application Auto Scaling client) and which matters only for provisioned capacity.
 */
export function notReappliedLine(table: string, r: Reapply): string {
  const provisioned = r.settings.billingMode !== 'PAY_PER_REQUEST';
  const all = [
    ...r.skipped,
    ...(provisioned
      ? [
          `auto scaling: drbot does not copy scaling targets and policies yet; if \`${table}\` scales, register the restored table the same way (\`aws application-autoscaling describe-scalable-targets --service-namespace dynamodb --resource-ids table/${table}\` shows them)`,
        ]
      : []),
  ];
  return all.length ? `Not re-applied: ${all.join('; ')}.` : 'Not re-applied: nothing (auto scaling is not used: on-demand capacity).';
}

export function sourceLine(table: string, target: string, s: RestoreSource, dryRun: boolean): string {
  const verb = dryRun ? 'Would restore' : 'Restores';
  if (s.kind === 'pitr') {
    return `${verb} \`${table}\` as it was at *${at(s.at)}* (point-in-time recovery; its window is ${at(s.earliest)} to ${at(s.latest)}) into a new table \`${target}\`.`;
  }
  const b = s.backup;
  const what = `backup ${code(b.name)} (${b.type}, taken ${at(b.created)}${b.sizeBytes !== undefined ? `, ${formatBytes(b.sizeBytes)}` : ''})`;
  const why =
    s.why === 'deleted'
      ? `\`${table}\` was deleted: ${verb.toLowerCase()} its state just before the deletion, from its system `
      : s.why === 'latest'
        ? `${verb} \`${table}\` from its newest AVAILABLE `
        : `${verb} \`${table}\` from `;
  const same = s.kind === 'backup' && s.sameName ? ` (${s.sameName} backups have that name: the newest AVAILABLE)` : '';
  return `${why}${what}${same} into a new table \`${target}\`.`;
}
