import { dryRun, flag, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

const USAGE = '/dr compromise USER [--key ACCESS_KEY_ID] [--since DURATION|TIME] [--lock] [--new-key] [--terminate INSTANCE_IDS] [--dry-run]';

/**
 * `/dr compromise USER`: a leaked key's response. Contain (every access key of the IAM user, or the
 * named one, deactivated after one approval), investigate (CloudTrail in every configured region,
 * paced to LookupEvents' 2 calls a second), and list what to clean up (instances, IAM changes) with
 * buttons for the next steps. `--terminate` is the clean-up of instances, its own plan and approval.
 * The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'compromise',
  words: ['compromise'],
  group: 'Incidents',
  usage: USAGE,
  summary: "a leaked key: deactivate the IAM user's access keys, then what CloudTrail saw it do and what to clean up",
  example: '/dr compromise spawn-user --since 24h',
  role: 'operator',
  destructive: true,
  details:
    "After one approval, sets every access key of the user (or only `--key`) Inactive — nothing is deleted, the keys stay as evidence — then looks the user and its keys up in CloudTrail's event history in both configured regions since `--since` (default 24 h): write calls first, grouped by event, region, source IP and user agent, the full list in the thread. It lists the instances that user launched (and any launched since that time) with a *Terminate all listed* button, and the IAM users, roles, keys and policies it changed with *Restore IAM from backup*. `--lock` also attaches an explicit deny-all inline policy (`drbot-compromise-deny-all`) and deletes the console password; `--new-key` creates a replacement key straight into Secrets Manager and shows only the secret's ARN. `--terminate i-…,i-…` terminates those instances (shown first, each with its type, region, launch time and tags), and nothing else.",
  args: {
    user: positional('user', 'USER', 'the IAM user whose credentials leaked', { required: true }),
    key: flag('access-key', 'key', 'only this access key of the user (AKIA…)', { placeholder: 'ACCESS_KEY_ID' }),
    since: flag('time', 'since', 'look back to this time: 30m, 24h, 7d or an ISO time (default 24h)', { placeholder: 'DURATION|TIME' }),
    lock: flag('boolean', 'lock', 'also attach a deny-all inline policy and delete the console password'),
    newKey: flag('boolean', 'new-key', 'also create a replacement key, stored in Secrets Manager (only its ARN is shown)'),
    terminate: flag('instance-ids', 'terminate', 'terminate these instances instead (comma-separated IDs, at most 50)', { placeholder: 'INSTANCE_IDS' }),
    dryRun,
  },
  conflicts: [
    ['terminate', 'key'],
    ['terminate', 'lock'],
    ['terminate', 'newKey'],
  ],
  input: (a) => ({
    user: a.user,
    ...(a.key !== undefined ? { key: a.key } : {}),
    ...(a.since !== undefined ? { since: a.since } : {}),
    lock: a.lock,
    newKey: a.newKey,
    ...(a.terminate !== undefined ? { terminate: a.terminate.split(',') } : {}),
    dryRun: a.dryRun,
  }),
});

export type CompromiseInput = RunOf<typeof verb>;
