import { positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr check replication BUCKET`: a bucket's replication set-up, read-only (also the alarms' "Check replication" button). */
export const verb = defineVerb({
  id: 'check-replication',
  words: ['check', 'replication'],
  group: 'Look',
  summary: "a bucket's replication: rule, destination, RTC, metrics and delete-marker replication",
  example: '/dr check replication spawn-binaries-us-east-1',
  role: 'viewer',
  destructive: false,
  args: {
    bucket: positional('bucket', 'BUCKET', 'a configured bucket', { required: true }),
  },
  input: (a) => ({ bucket: a.bucket }),
});

export type CheckReplicationInput = RunOf<typeof verb>;
