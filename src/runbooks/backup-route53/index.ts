import { PreconditionError } from '../../errors';
import { dryRun, flag, positional } from '../args';
import { requireBackupBucket } from '../exports';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup route53`: every record set of the configured zone, exported whole to the backup bucket. */
export const verb = defineVerb({
  id: 'backup-route53',
  words: ['backup', 'route53'],
  group: 'Back up',
  summary: 'export every record set of the configured hosted zone (alias, weighted, failover, latency and geo kept whole) to the backup bucket',
  example: '/dr backup route53 --dry-run',
  role: 'operator',
  destructive: false,
  approvalWith: 'prune',
  details:
    'Writes one JSON document per run to `s3://<backupBucket>/route53/<zone id>/<UTC yyyy-mm-dd>/<run id>.json`, with the record count and a SHA-256 in its metadata, and points `route53/<zone id>/latest.json` at it. Reads Route53 only (ListResourceRecordSets, 300 a page); changes no record. With `--prune` it also deletes: the plan lists drbot\'s exports of the zone (`route53/<zone id>/<date>/<run id>.json`) past `retention.route53ExportDays` (`forever` by default, so none), which after approval are deleted for good; the newest export, the one `latest.json` points at and anything else under the prefix are never touched.',
  args: {
    zone: positional('zone', 'ZONE', 'the configured hosted zone ID (default: it)'),
    prune: flag('boolean', 'prune', "also delete drbot's exports older than `retention.route53ExportDays` (default forever: none), keeping the newest (needs approval)"),
    dryRun: { ...dryRun, help: 'post the plan only; write nothing' },
  },
  check: (_args, config) => {
    if (!config.route53) throw new PreconditionError('no_zone', 'No hosted zone is configured.', 'Set `route53.hostedZoneId` in the drbot config.');
    requireBackupBucket(config);
  },
  input: (a) => ({ dryRun: a.dryRun, prune: a.prune, ...(a.zone ? { zone: a.zone } : {}) }),
});

export type BackupRoute53Input = RunOf<typeof verb>;
