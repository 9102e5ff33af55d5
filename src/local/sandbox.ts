import type { DrConfig } from '../config/schema';
import { parseConfig } from '../config/load';

/** The sandbox's people: name -> Slack user ID. Roles are set in SANDBOX_CONFIG below. */
export const SANDBOX_USERS = {
  alice: 'UALICE',
  bob: 'UBOB',
  carol: 'UCAROL',
  dave: 'UDAVE',
  eve: 'UEVE',
} as const;
export type SandboxUser = keyof typeof SANDBOX_USERS;

export const SANDBOX_TEAM = 'TSANDBOX';
export const SANDBOX_CHANNEL = 'CSANDBOXOPS';
export const SANDBOX_ALERTS_CHANNEL = 'CSANDBOXALERT';
export const SANDBOX_CRITICAL_CHANNEL = 'CSANDBOXCRIT';

/**
 * The small "spawn" estate the sandbox seeds (src/local/seed.ts) so every status colour shows:
 * - spawn-binaries-us-east-1: versioned, 90-day expiry, replication with RTC to a populated replica,
 *   and a few hundred deleted objects (green; the bucket to undelete or copy back).
 * - spawn-results-us-east-1: versioned but no noncurrent expiry and no Glacier transition (amber).
 * - spawn-logs-us-east-1: versioning never enabled (red).
 * - spawn-instances: PITR and a fresh on-demand backup; spawn-queues: PITR, no backup;
 *   spawn-alerts: no PITR (red).
 */
export const SANDBOX_CONFIG: DrConfig = parseConfig(
  {
    name: 'spawn',
    regions: { primary: 'us-east-1', backup: 'us-west-2' },
    s3: {
      buckets: [
        { name: 'spawn-binaries-us-east-1', replica: { bucket: 'spawn-binaries-us-west-2-backup', region: 'us-west-2' } },
        { name: 'spawn-results-us-east-1', archivePrefix: 'results/' },
        { name: 'spawn-logs-us-east-1' },
      ],
    },
    dynamodb: { tables: [{ name: 'spawn-instances' }, { name: 'spawn-queues' }, { name: 'spawn-alerts' }] },
    lambda: { functions: ['spawn-dns-updater'], alias: 'production' },
    // moto assigns zone IDs: seeding creates spawn.example.com and the stack puts its ID here.
    route53: { hostedZoneId: 'ZSANDBOXSEEDED' },
    backupBucket: 'spawn-backups',
    // `/dr failover us-west-2`: one instance per tagged image from its newest copy there; www and the
    // api failover record (zone: route53.hostedZoneId) switched to the new instances' private IPs.
    failover: {
      instances: { type: 't3.micro', count: 1, tags: { app: 'spawn' } },
      dns: {
        records: [
          { name: 'www.spawn.example.com', type: 'A' },
          { name: 'api.spawn.example.com', type: 'A', setIdentifier: 'primary' },
        ],
      },
    },
    slack: {
      teamId: SANDBOX_TEAM,
      channels: { ops: SANDBOX_CHANNEL, alerts: SANDBOX_ALERTS_CHANNEL, critical: SANDBOX_CRITICAL_CHANNEL },
      roles: {
        viewer: [SANDBOX_USERS.carol],
        operator: [SANDBOX_USERS.alice],
        approver: [SANDBOX_USERS.bob, SANDBOX_USERS.dave],
      },
    },
    approvals: { required: 1, expiresMinutes: 30 },
  },
  'sandbox config',
);
