import { dryRun, flag } from '../args';
import { requireBackupBucket } from '../exports';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup iam`: every role within the IAM prefix, exported as one JSON document per run to the backup bucket. */
export const verb = defineVerb({
  id: 'backup-iam',
  words: ['backup', 'iam'],
  group: 'Back up',
  summary: 'export every role within the IAM prefix (trust policy, inline and managed policies, boundary, tags) to the backup bucket',
  example: '/dr backup iam --dry-run',
  role: 'operator',
  destructive: false,
  approvalWith: 'prune',
  details:
    'Writes one JSON document per run to `s3://<backupBucket>/iam/<UTC yyyy-mm-dd>/<run id>.json` and points `iam/latest.json` at it. Reads IAM with GetAccountAuthorizationDetails and ListRoles (a few paged calls in all, not one per policy); changes nothing in IAM. With `--prune` it also deletes: the plan lists drbot\'s exports (`iam/<date>/<run id>.json`) past `retention.iamExportDays`, deleted for good after approval; the newest export and anything else under `iam/` are never touched.',
  args: {
    prune: flag('boolean', 'prune', "also delete drbot's exports older than `retention.iamExportDays`, keeping the newest (needs approval)"),
    dryRun: { ...dryRun, help: 'post the plan only; write nothing' },
  },
  check: (_args, config) => {
    requireBackupBucket(config);
  },
  input: (a) => ({ dryRun: a.dryRun, prune: a.prune }),
});

export type BackupIamInput = RunOf<typeof verb>;
