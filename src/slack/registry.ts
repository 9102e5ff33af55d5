import type { Role } from '../config/schema';

/** What a command needs: nobody (`anyone`) or a role. Roles are cumulative: approver ⊇ operator ⊇ viewer. */
export type RequiredRole = Role | 'anyone';

export type ArgKind = 'bucket' | 'table' | 'prefix' | 'since' | 'count' | 'alarm-kind';

export interface PositionalSpec {
  name: string;
  kind: ArgKind;
  required: boolean;
  /** Takes every remaining positional (e.g. several tables). */
  variadic?: boolean;
}

export interface FlagSpec {
  name: string;
  /** boolean flags take no value. */
  kind: 'boolean' | ArgKind;
  help: string;
}

export type CommandId = 'help' | 'status' | 'audit' | 'restore-s3' | 'backup-dynamodb' | 'simulate-alarm';

export interface CommandSpec {
  id: CommandId;
  /** The words after `/dr`, e.g. ['restore', 's3']. */
  words: string[];
  usage: string;
  summary: string;
  example: string;
  role: RequiredRole;
  /** Changes something; runs only after a plan and an approval. */
  destructive: boolean;
  /** Runs as a durable runbook (posts its own message) rather than answering inline. */
  runbook: boolean;
  positionals: PositionalSpec[];
  flags: FlagSpec[];
  /** Pairs of flags that cannot be used together. */
  conflicts?: [string, string][];
  /** Sandbox only (refused against real AWS). */
  sandboxOnly?: boolean;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    id: 'help',
    words: ['help'],
    usage: '/dr help',
    summary: 'every command, with one example each',
    example: '/dr help',
    role: 'anyone',
    destructive: false,
    runbook: false,
    positionals: [],
    flags: [],
  },
  {
    id: 'status',
    words: ['status'],
    usage: '/dr status',
    summary: 'backup posture of the estate against the schedule (red / amber / green)',
    example: '/dr status',
    role: 'viewer',
    destructive: false,
    runbook: true,
    positionals: [],
    flags: [],
  },
  {
    id: 'audit',
    words: ['audit'],
    usage: '/dr audit [N]',
    summary: 'the last N recorded events: who ran and approved what, when, with what result',
    example: '/dr audit 20',
    role: 'viewer',
    destructive: false,
    runbook: false,
    positionals: [{ name: 'N', kind: 'count', required: false }],
    flags: [],
  },
  {
    id: 'restore-s3',
    words: ['restore', 's3'],
    usage: '/dr restore s3 BUCKET [--prefix P] [--since TIME|DURATION] [--from-replica] [--dry-run]',
    summary: 'undelete objects (remove the newest delete markers), or copy back from the replica with --from-replica',
    example: '/dr restore s3 spawn-binaries-us-east-1 --prefix bin/ --since 2h',
    role: 'operator',
    destructive: true,
    runbook: true,
    positionals: [{ name: 'BUCKET', kind: 'bucket', required: true }],
    flags: [
      { name: 'prefix', kind: 'prefix', help: 'only keys under this prefix' },
      { name: 'since', kind: 'since', help: 'only deletions after this time (ISO 8601) or within this duration (30m, 2h, 7d)' },
      { name: 'from-replica', kind: 'boolean', help: 'copy back from the configured replica bucket instead of undeleting' },
      { name: 'dry-run', kind: 'boolean', help: 'post the plan only; change nothing' },
    ],
    conflicts: [['since', 'from-replica']],
  },
  {
    id: 'backup-dynamodb',
    words: ['backup', 'dynamodb'],
    usage: '/dr backup dynamodb [TABLE…] [--dry-run]',
    summary: 'on-demand backups of the named tables, or of every configured table',
    example: '/dr backup dynamodb spawn-instances',
    role: 'operator',
    destructive: false,
    runbook: true,
    positionals: [{ name: 'TABLE', kind: 'table', required: false, variadic: true }],
    flags: [{ name: 'dry-run', kind: 'boolean', help: 'post the plan only; create nothing' }],
  },
  {
    id: 'simulate-alarm',
    words: ['simulate', 'alarm'],
    usage: '/dr simulate alarm replication-lag|backup-failure|ok|garbage',
    summary: 'sandbox only: deliver a CloudWatch-shaped alarm the way SNS would',
    example: '/dr simulate alarm replication-lag',
    role: 'viewer',
    destructive: false,
    runbook: false,
    positionals: [{ name: 'KIND', kind: 'alarm-kind', required: true }],
    flags: [],
    sandboxOnly: true,
  },
];

export const ALARM_SIMULATIONS = ['replication-lag', 'backup-failure', 'ok', 'garbage'] as const;
export type AlarmSimulation = (typeof ALARM_SIMULATIONS)[number];

export function commandById(id: CommandId): CommandSpec {
  const spec = COMMANDS.find((c) => c.id === id);
  if (!spec) throw new Error(`no command ${id}`);
  return spec;
}
