import { PreconditionError, UsageError } from '../../errors';
import { escapeMrkdwn } from '../../slack/views/format';
import { dryRun, flag, positional, quote } from '../args';
import { requireBackupBucket } from '../exports';
import { defineVerb, type RunOf } from '../verb';

/** `s3://<bucket>/route53/…` or `route53/…` → the key, and the bucket if one was named. */
export function splitExportRef(ref: string): { bucket?: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
  return m ? { bucket: m[1] as string, key: m[2] as string } : { key: ref.replace(/^\/+/, '') };
}

const WORDS = ['restore', 'route53'] as const;
const ARGS = {
  zone: positional('zone', 'ZONE', 'the configured hosted zone ID (default: it)'),
  backup: flag('backup-key', 'backup', 'the export to restore: its key, route53/ZONE-ID/YYYY-MM-DD/RUN-ID.json', { placeholder: 'KEY' }),
  latest: flag('boolean', 'latest', 'restore the newest export (the default)'),
  deleteExtra: flag('boolean', 'delete-extra', 'also delete record sets the export does not have'),
  dryRun,
};
/** --backup and --latest are one choice: the usage says so. */
const USAGE = '/dr restore route53 [ZONE] [--backup KEY | --latest] [--delete-extra] [--dry-run]';

const EXPORT_KEY = /^route53\/[A-Z0-9]{2,32}\/\d{4}-\d{2}-\d{2}\/[A-Za-z0-9_.-]+\.json$/;

/**
 * `/dr restore route53`: puts the configured hosted zone back as an export (`/dr backup route53`)
 * has it — record sets created, changed and, with --delete-extra, deleted — in change batches AWS
 * accepts, each waited for until INSYNC, then verified by listing the zone. The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'restore-route53',
  words: WORDS,
  usage: USAGE,
  group: 'Restore',
  summary: 'put the hosted zone back as an export has it: record sets created, changed and (--delete-extra) deleted, in batches AWS accepts, verified by listing',
  example: '/dr restore route53 --latest --dry-run',
  role: 'operator',
  destructive: true,
  details:
    'Diffs the export (the newest, or `--backup route53/ZONE-ID/YYYY-MM-DD/RUN-ID.json`) against the live zone by name, type and set identifier, and writes only the differences: UPSERTs for record sets that are missing or different (alias, weighted, failover, latency, geo and multivalue record sets whole), and with --delete-extra DELETEs of record sets the export does not have. The SOA and the apex NS are never touched. Batches keep to AWS\'s limits (1,000 records and 32,000 value characters, an UPSERT counting twice), each is waited for until INSYNC, and the zone is listed again at the end: it must equal the export. The change set sent is kept in the backup bucket under `route53-restores/`.',
  args: ARGS,
  conflicts: [['backup', 'latest']],
  check: (args, config) => {
    if (!config.route53) throw new PreconditionError('no_zone', 'No hosted zone is configured.', 'Set `route53.hostedZoneId` in the drbot config.');
    const bucket = requireBackupBucket(config);
    if (args.backup === undefined) return;
    const ref = splitExportRef(args.backup);
    if (ref.bucket !== undefined && ref.bucket !== bucket) {
      throw new UsageError(`--backup names bucket ${quote(ref.bucket)}; exports are read from the backup bucket \`${escapeMrkdwn(bucket)}\` only.`, USAGE);
    }
    if (/\/latest\.json$/.test(ref.key)) {
      throw new UsageError('--backup names the latest pointer, not an export; use `--latest` for the newest export.', USAGE);
    }
    if (!EXPORT_KEY.test(ref.key)) {
      throw new UsageError(
        `--backup ${quote(args.backup)} is not a Route53 export key; they look like \`route53/ZONE-ID/YYYY-MM-DD/RUN-ID.json\` (\`/dr status\` shows the newest).`,
        USAGE,
      );
    }
  },
  input: (a) => ({
    ...(a.zone ? { zone: a.zone } : {}),
    ...(a.backup !== undefined ? { backup: splitExportRef(a.backup).key } : {}),
    deleteExtra: a.deleteExtra,
    dryRun: a.dryRun,
  }),
});

export type RestoreRoute53Input = RunOf<typeof verb>;
