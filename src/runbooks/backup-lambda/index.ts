import { dryRun, flag, positional } from '../args';
import { requireBackupBucket } from '../exports';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup lambda`: each function's configuration, versions, aliases and code packages to the backup bucket. */
export const verb = defineVerb({
  id: 'backup-lambda',
  words: ['backup', 'lambda'],
  group: 'Back up',
  summary: 'export the configured functions: configuration, every published version with its code package, aliases and their routing',
  example: '/dr backup lambda spawn-dns-updater',
  role: 'operator',
  destructive: false,
  approvalWith: 'prune',
  details:
    'Stores each published version once, as `s3://<backupBucket>/lambda/<function>/<version>/code.zip` (its SHA-256 checked against Lambda\'s) and `configuration.json`; a version already stored is skipped. Writes a manifest of the configuration, versions and aliases per run and points `lambda/<function>/latest.json` at it. Changes nothing in Lambda. With `--prune` it also deletes: when `retention.lambdaVersions` is a number of days (the default, `all`, keeps every version), the plan lists the stored version folders older than that, which after approval are deleted for good from the backup bucket; the newest stored version, any version an alias points at, the manifests and anything else under `lambda/<function>/` are never touched.',
  args: {
    functions: positional('function', 'FUNCTION', 'configured functions (default: all of them)', { variadic: true }),
    prune: flag('boolean', 'prune', 'also delete stored versions older than `retention.lambdaVersions` days (default all: none), keeping the newest and every alias target (needs approval)'),
    dryRun: { ...dryRun, help: 'post the plan only; write nothing' },
  },
  check: (_args, config) => {
    requireBackupBucket(config);
  },
  input: (a) => ({ functions: a.functions, dryRun: a.dryRun, prune: a.prune }),
});

export type BackupLambdaInput = RunOf<typeof verb>;
