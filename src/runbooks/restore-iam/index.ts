import { UsageError } from '../../errors';
import { dryRun, flag, positional, quote } from '../args';
import { requireBackupBucket } from '../exports';
import { defineVerb, type RunOf } from '../verb';

/** The keys `/dr backup iam` writes: `iam/<UTC yyyy-mm-dd>/<run id>.json`. */
export const IAM_EXPORT_KEY = /^iam\/\d{4}-\d{2}-\d{2}\/[A-Za-z0-9_-]{1,64}\.json$/;
/** Roles one command may name; more is what --all is for (and what one plan can show). */
export const MAX_NAMED_ROLES = 50;

const USAGE = '/dr restore iam ROLE…|--all [--backup KEY|--latest] [--dry-run]';

/**
 * `/dr restore iam`: puts roles back as an export of `/dr backup iam` holds them. The plan is the
 * diff (trust, inline policies statement by statement, managed policies and their documents,
 * boundary, description, session, tags); after approval only the differences are written, then
 * IAM is exported again and compared. The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'restore-iam',
  words: ['restore', 'iam'],
  group: 'Restore',
  usage: USAGE,
  summary: 'put roles back as an IAM export holds them: the diff for review, then only the differences, verified by exporting again',
  example: '/dr restore iam spawn-worker-00 --dry-run',
  role: 'operator',
  destructive: true,
  details:
    'Reads the export `/dr backup iam` wrote (`iam/latest.json` by default, or `--backup iam/<yyyy-mm-dd>/<run id>.json`) and compares each role with IAM: trust policy, inline policies statement by statement, attached managed policies, customer-managed policy documents (default version), permissions boundary, description, maximum session and tags. A role deleted since the export is created again with its policies and tags (it gets a new role ID). Only the differences are written; a policy document becomes a new default version (the oldest non-default one is deleted first when the policy has five). Roles outside `iam.rolePrefix` are refused; documents of managed policies named outside it are shown but not written. Roles that are not in the export are never deleted.',
  args: {
    roles: positional('role-name', 'ROLE', 'roles within `iam.rolePrefix`', { variadic: true }),
    all: flag('boolean', 'all', 'every role the export holds'),
    backup: flag('backup-key', 'backup', 'the export to restore from, `iam/<yyyy-mm-dd>/<run id>.json`', { placeholder: 'KEY' }),
    latest: flag('boolean', 'latest', 'the newest export, which `iam/latest.json` points at (the default)'),
    dryRun,
  },
  conflicts: [['backup', 'latest']],
  check: (a, config) => {
    requireBackupBucket(config);
    if (a.all && a.roles.length) throw new UsageError('name roles or give --all, not both.', USAGE);
    if (!a.all && !a.roles.length) throw new UsageError('ROLE is missing: name the roles to restore, or give --all for every role of the export.', USAGE);
    if (a.roles.length > MAX_NAMED_ROLES) throw new UsageError(`name at most ${MAX_NAMED_ROLES} roles, or give --all.`, USAGE);
    if (a.backup !== undefined && !IAM_EXPORT_KEY.test(a.backup)) {
      throw new UsageError(`--backup takes the key of an IAM export, \`iam/<yyyy-mm-dd>/<run id>.json\` (what \`/dr backup iam\` writes), not ${quote(a.backup)}.`, USAGE);
    }
  },
  input: (a) => ({ roles: a.roles, all: a.all, ...(a.backup !== undefined ? { backup: a.backup } : {}), dryRun: a.dryRun }),
});

export type RestoreIamInput = RunOf<typeof verb>;
