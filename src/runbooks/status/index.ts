import { defineVerb, type RunOf } from '../verb';

export type { Colour, StatusItem, StatusKind, StatusReport } from './posture';

/** `/dr status`: the backup posture of every configured resource, red / amber / green. Read-only. */
export const verb = defineVerb({
  id: 'status',
  words: ['status'],
  group: 'Look',
  summary: 'backup posture of the estate against the schedule (red / amber / green)',
  example: '/dr status',
  role: 'viewer',
  destructive: false,
  details: 'Reads S3 versioning, noncurrent expiry, Glacier transitions, replication and RTC; DynamoDB PITR, newest backup and replica; the newest copy of each tagged AMI in the backup region; the age of the IAM and Route53 exports (and the zone\'s record count then and now); each Lambda alias, the version to roll back to and what is exported. Each item red, amber or green with the reason.',
  args: {},
  input: () => ({}),
});

export type StatusInput = RunOf<typeof verb>;
