import { dryRun, flag, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/**
 * `/dr restore s3`: undelete (remove the delete markers that are the newest version of their key),
 * or, with --from-replica, copy back from the configured replica what is missing or different.
 * The runbooks: ./undelete.ts and ./replica.ts, chosen in ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'restore-s3',
  words: ['restore', 's3'],
  group: 'Restore',
  summary: 'undelete objects (remove the newest delete markers), or copy back from the replica with --from-replica',
  example: '/dr restore s3 spawn-binaries-us-east-1 --prefix bin/ --since 2h',
  role: 'operator',
  destructive: true,
  details:
    'Undelete removes only delete markers that are the newest version of their key, so nothing is overwritten and older versions stay. --from-replica copies server-side from the replica every object that is missing or different in the primary; it never deletes.',
  args: {
    bucket: positional('bucket', 'BUCKET', 'a configured bucket', { required: true }),
    prefix: flag('prefix', 'prefix', 'only keys under this prefix', { placeholder: 'P' }),
    since: flag('time', 'since', 'only deletions after this time (ISO 8601) or within this duration (30m, 2h, 7d)', { placeholder: 'TIME|DURATION' }),
    fromReplica: flag('boolean', 'from-replica', 'copy back from the configured replica bucket instead of undeleting'),
    dryRun,
  },
  conflicts: [['since', 'fromReplica']],
  input: (a) => ({
    bucket: a.bucket,
    ...(a.prefix !== undefined ? { prefix: a.prefix } : {}),
    ...(a.since !== undefined ? { since: a.since } : {}),
    fromReplica: a.fromReplica,
    dryRun: a.dryRun,
  }),
});

export type RestoreS3Input = RunOf<typeof verb>;
