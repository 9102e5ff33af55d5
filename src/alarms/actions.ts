import type { RoleResolver } from '../approvals/roles';
import type { DrConfig } from '../config/schema';
import { PreconditionError, UnknownResourceError } from '../errors';
import type { ArgValues, RawArgs } from '../runbooks/args';
import { CATALOGUE, type Catalogue } from '../runbooks/catalogue';
import { replicaOf } from '../runbooks/resources';
import { backupTargetOf } from './backup-target';
import { startRun } from '../runbooks/start';
import type { RunEngine } from '../runbooks/types';
import type { Verb } from '../runbooks/verb';
import type { AlarmActions } from '../slack/deps';
import type { SlackPoster } from '../slack/poster';
import type { StateStore } from '../store/state';
import type { AlarmThread } from './model';

/** What the buttons need from the alarm service. */
export interface AlarmThreads {
  getThread(threadId: string): Promise<AlarmThread | undefined>;
  acknowledge(threadId: string, userId: string): Promise<AlarmThread>;
}

export interface AlarmActionDeps {
  config: DrConfig;
  threads: AlarmThreads;
  store: StateStore;
  engine: RunEngine;
  roles: RoleResolver;
  slack: SlackPoster;
  now: () => Date;
  catalogue?: Catalogue;
}

/** CloudWatch Logs console link for a Lambda function's log group. */
export function logsUrl(region: string, functionName: string): string {
  const group = `/aws/lambda/${functionName}`.replace(/\//g, '$252F');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${group}`;
}

/** The command line a button stands for, as the run message and the audit show it. */
function commandLine(words: readonly string[], raw: RawArgs): string {
  const flags = [...raw.flags].map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`));
  return ['/dr', ...words, ...raw.positionals, ...flags].join(' ');
}

/**
 * The alarm message's buttons, authorized like commands: acknowledge, check and logs for viewers;
 * run backup and restore for operators (the restore then waits for an approval). Work that reads or
 * changes AWS starts the catalogue's verb, with the role the verb needs and its arguments checked as
 * a typed command's would be; the run's message is a reply in the alarm's thread.
 */
export function createAlarmActions(deps: AlarmActionDeps): AlarmActions {
  const catalogue = deps.catalogue ?? CATALOGUE;
  const thread = async (id: string): Promise<AlarmThread> => {
    const t = await deps.threads.getThread(id);
    if (!t) throw new UnknownResourceError('alarm', id.slice(0, 60));
    return t;
  };
  const bucketOf = (t: AlarmThread): string => {
    const b = t.alarm.bucket;
    if (!b) throw new PreconditionError('no_bucket', `Alarm \`${t.alarm.name}\` names no bucket (no SourceBucket dimension).`, 'Run `/dr status` to see every bucket.');
    return b;
  };
  const verbFor = async (verbId: string, user: string, what: string): Promise<Verb> => {
    const verb = catalogue.verb(verbId);
    if (!verb) throw new Error(`the alarm buttons need the ${verbId} verb, which is not in the catalogue`);
    await deps.roles.require(user, verb.role, what);
    return verb;
  };
  /** The button's arguments, checked like a typed command's: a bucket outside the config is refused. */
  const bind = (verb: Verb, raw: RawArgs) => ({ raw, args: catalogue.bind(verb, raw, { config: deps.config, now: deps.now() }) });
  const start = async (t: AlarmThread, user: string, requestKey: string, verb: Verb, bound: { raw: RawArgs; args: ArgValues }) => {
    const { status, input } = await startRun(deps.engine, deps.now, {
      verb,
      args: bound.args,
      requester: user,
      channel: t.tsChannel ?? t.channel,
      commandText: `${commandLine(verb.words, bound.raw)} (alarm ${t.alarm.name.slice(0, 80)})`,
      requestKey,
      ...(t.ts ? { threadTs: t.ts } : {}),
    });
    if (status === 'started') await deps.store.audit({ actor: user, action: 'alarm-button', target: input.commandText, result: 'pending', runId: input.runId });
  };
  return {
    async acknowledge(id, user) {
      await deps.roles.require(user, 'viewer', 'acknowledge alarms');
      const t = await deps.threads.acknowledge(id, user);
      await deps.store.audit({ actor: user, action: 'acknowledge', target: t.alarm.name, result: 'ok' });
    },
    async checkReplication(id, user, requestKey) {
      const verb = await verbFor('check-replication', user, 'check replication');
      const t = await thread(id);
      const bound = bind(verb, { positionals: [bucketOf(t)], flags: new Map() });
      await start(t, user, requestKey, verb, bound);
    },
    async restoreFromReplica(id, user, requestKey) {
      const verb = await verbFor('restore-s3', user, 'restore from a replica');
      const t = await thread(id);
      const bound = bind(verb, { positionals: [bucketOf(t)], flags: new Map([['from-replica', true]]) });
      // Said at the click, before any run starts: the bucket needs a configured replica.
      replicaOf(deps.config, String(bound.args.bucket));
      await start(t, user, requestKey, verb, bound);
    },
    async runBackup(id, user, requestKey) {
      await deps.roles.require(user, 'operator', 'run backups');
      const t = await thread(id);
      // The backup that failed, not some other: the AMI backup for the AMI function, and so on.
      const target = backupTargetOf(t.alarm);
      if (!target) {
        throw new PreconditionError('unknown_backup', `Alarm \`${t.alarm.name}\` does not say which backup failed, so drbot will not guess.`, 'Run the backup by hand: `/dr help` lists the `/dr backup` commands.');
      }
      if (!catalogue.verb(target.verb)) {
        throw new PreconditionError('backup_unavailable', `The failed backup is \`/dr ${target.verb.replace('-', ' ')}\`, which this drbot does not have.`, 'Rerun it with the tool that schedules it, or see `/dr help` for the backups drbot can run.');
      }
      const verb = await verbFor(target.verb, user, 'run backups');
      await start(t, user, requestKey, verb, bind(verb, { positionals: [], flags: new Map() }));
    },
    async viewLogs(id, user) {
      await deps.roles.require(user, 'viewer', 'view logs');
      const t = await thread(id);
      const fn = t.alarm.functionName ?? t.alarm.metric?.dimensions?.FunctionName;
      const region = t.alarm.region;
      const text = fn
        ? `Logs of \`${fn}\`: <${logsUrl(region, fn)}|CloudWatch Logs (${region})>`
        : `Alarm \`${t.alarm.name}\` names no function; see <https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups|CloudWatch Logs>.`;
      await deps.slack.ephemeral(t.tsChannel ?? t.channel, user, { text });
    },
    async viewRun(id, user) {
      await deps.roles.require(user, 'viewer', 'view runs');
      const t = await thread(id);
      const fn = t.alarm.functionName ?? t.alarm.metric?.dimensions?.FunctionName;
      await deps.slack.ephemeral(t.tsChannel ?? t.channel, user, { text: fn ? failedRunsText(t.alarm.region, fn) : `Alarm \`${t.alarm.name}\` names no function (no FunctionName dimension); \`/dr audit\` lists recent runs.` });
    },
  };
}

/** Where the failed and timed-out durable executions (runs) of a function are listed. */
export function failedRunsText(region: string, functionName: string): string {
  const fn = encodeURIComponent(functionName);
  return [
    `Failed and timed-out runs of \`${functionName}\`: <https://${region}.console.aws.amazon.com/lambda/home?region=${region}#/functions/${fn}?tab=durable-executions|Lambda console (${region}), Durable executions>.`,
    `From a shell: \`aws lambda list-durable-executions-by-function --region ${region} --function-name ${functionName} --statuses FAILED TIMED_OUT\`.`,
    `Each run's own message in Slack says where it stopped; execution names are \`dr-<kind>-…\`.`,
  ].join('\n');
}
