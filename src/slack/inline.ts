import { flag, positional } from '../runbooks/args';
import { defineCommand } from '../runbooks/verb';

/**
 * The commands the Slack function answers itself, with no run: declared like the verbs (the same
 * spec type, so the parser, help and role checks treat them alike) and answered in
 * listeners/commands. Everything that does DR work is a verb under src/runbooks/.
 */

export const ALARM_SIMULATIONS = ['replication-lag', 'backup-failure', 'ok', 'garbage'] as const;
export type AlarmSimulation = (typeof ALARM_SIMULATIONS)[number];

export const HELP = defineCommand({
  id: 'help',
  words: ['help'],
  group: 'Look',
  summary: 'the commands, grouped; `/dr help VERB` for one in detail',
  example: '/dr help restore s3',
  role: 'anyone',
  destructive: false,
  args: {
    topic: positional('word', 'VERB', 'a command, e.g. `restore s3`', { variadic: true }),
  },
});

export const AUDIT = defineCommand({
  id: 'audit',
  words: ['audit'],
  group: 'Look',
  summary: 'the last N recorded events: who ran and approved what, when, with what result',
  example: '/dr audit 20',
  role: 'viewer',
  destructive: false,
  args: {
    count: positional('count', 'N', 'how many events, 1 to 100', { min: 1, max: 100, default: 10 }),
  },
});

export const RUNS = defineCommand({
  id: 'runs',
  words: ['runs'],
  group: 'Look',
  summary: 'the last N runs, unfinished ones first, with their state and a link to their message',
  example: '/dr runs 20',
  role: 'viewer',
  destructive: false,
  details: "Also brings up to date any run message whose final state Slack did not take when the run ended (it answered 429 or 500 every time), and shows runs a stopped local bot left behind as interrupted.",
  args: {
    count: positional('count', 'N', 'how many runs, 1 to 50', { min: 1, max: 50, default: 10 }),
  },
});

export const SIMULATE_ALARM = defineCommand({
  id: 'simulate-alarm',
  words: ['simulate', 'alarm'],
  group: 'Admin',
  summary: 'deliver a CloudWatch-shaped alarm the way SNS would',
  example: '/dr simulate alarm replication-lag',
  role: 'viewer',
  destructive: false,
  sandboxOnly: true,
  args: {
    kind: positional('choice', 'KIND', 'which notification', { required: true, choices: ALARM_SIMULATIONS, what: 'a simulation' }),
  },
});

export const SIMULATE_CORRUPTION = defineCommand({
  id: 'simulate-corruption',
  words: ['simulate', 'corruption'],
  group: 'Admin',
  summary: 'overwrite some items of a table and delete others, to restore them',
  example: '/dr simulate corruption spawn-instances',
  role: 'operator',
  destructive: false,
  sandboxOnly: true,
  details: 'Overwrites about 5 % of the items and deletes about 3 %, and says which. The sandbox keeps the table as it was just before (its stand-in for point-in-time recovery), so `/dr restore dynamodb TABLE --to 5m` brings it back.',
  args: {
    table: positional('table', 'TABLE', 'a configured table', { required: true }),
  },
});

export const SIMULATE_COMPROMISE = defineCommand({
  id: 'simulate-compromise',
  words: ['simulate', 'compromise'],
  group: 'Admin',
  summary: 'leak an access key of IAM user spawn-user: some activity, a few instances, a backdoor',
  example: '/dr simulate compromise',
  role: 'operator',
  destructive: false,
  sandboxOnly: true,
  details: "Creates IAM user `spawn-user` with an access key (its secret is discarded), launches instances with it in both regions, creates a backdoor user and an allow-all inline policy on a spawn role, and records what CloudTrail would have seen in the sandbox's event history (moto has none). Then respond with `/dr compromise spawn-user`.",
  args: {},
});

export const SIMULATE_OUTAGE = defineCommand({
  id: 'simulate-outage',
  words: ['simulate', 'outage'],
  group: 'Admin',
  summary: "make a region's endpoints fail, to fail over from it (`--end` ends it)",
  example: '/dr simulate outage us-east-1',
  role: 'operator',
  destructive: false,
  sandboxOnly: true,
  details: "Every request of the sandbox to a regional endpoint of REGION (S3, DynamoDB, EC2, Lambda, …) then fails at once like a refused connection; Route53 and IAM, being global, still answer. Before the primary goes down, the backup region gets a copy of each tagged image that has none yet (what the nightly `/dr backup amis` would have left), so `/dr failover` has something to launch. `--end` brings the region back.",
  args: {
    region: positional('region', 'REGION', 'the region to take down (or bring back)', { required: true }),
    end: flag('boolean', 'end', 'end the outage: the region answers again'),
  },
});

export const INLINE_COMMANDS = [HELP, AUDIT, RUNS, SIMULATE_ALARM, SIMULATE_CORRUPTION, SIMULATE_COMPROMISE, SIMULATE_OUTAGE] as const;
