import type { RoleResolver } from '../approvals/roles';
import type { DrConfig } from '../config/schema';
import { PreconditionError, UnknownResourceError } from '../errors';
import { executionName, type RunEngine, type RunInput } from '../runbooks/types';
import type { AlarmActions } from '../slack/deps';
import type { SlackPoster } from '../slack/poster';
import { newId, type StateStore } from '../store/state';
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
}

/** CloudWatch Logs console link for a Lambda function's log group. */
export function logsUrl(region: string, functionName: string): string {
  const group = `/aws/lambda/${functionName}`.replace(/\//g, '$252F');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${group}`;
}

/**
 * The alarm message's buttons, authorized like commands: acknowledge, check and logs for viewers;
 * run backup and restore for operators (the restore then waits for an approval). Work that reads or
 * changes AWS runs as a durable run whose message is a reply in the alarm's thread.
 */
export function createAlarmActions(deps: AlarmActionDeps): AlarmActions {
  const thread = async (id: string): Promise<AlarmThread> => {
    const t = await deps.threads.getThread(id);
    if (!t) throw new UnknownResourceError('alarm', id.slice(0, 60));
    return t;
  };
  const bucketOf = (t: AlarmThread): string => {
    const b = t.alarm.bucket;
    if (!b) throw new PreconditionError('no_bucket', `Alarm \`${t.alarm.name}\` names no bucket (no SourceBucket dimension).`, 'Run `/dr status` to see every bucket.');
    if (!deps.config.s3.buckets.some((x) => x.name === b)) throw new UnknownResourceError('bucket', b, deps.config.s3.buckets.map((x) => x.name));
    return b;
  };
  const start = async (t: AlarmThread, user: string, requestKey: string, what: string, make: (base: Omit<RunInput, 'kind'>) => RunInput) => {
    const channel = t.tsChannel ?? t.channel;
    const input = make({
      runId: newId('r'),
      requester: user,
      channel,
      commandText: `${what} (alarm ${t.alarm.name.slice(0, 80)})`,
      requestedAt: deps.now().toISOString(),
      ...(t.ts ? { threadTs: t.ts } : {}),
    });
    const started = await deps.engine.start(executionName(input.kind, requestKey), input);
    if (started === 'started') await deps.store.audit({ actor: user, action: 'alarm-button', target: input.commandText, result: 'pending', runId: input.runId });
  };
  return {
    async acknowledge(id, user) {
      await deps.roles.require(user, 'viewer', 'acknowledge alarms');
      const t = await deps.threads.acknowledge(id, user);
      await deps.store.audit({ actor: user, action: 'acknowledge', target: t.alarm.name, result: 'ok' });
    },
    async checkReplication(id, user) {
      await deps.roles.require(user, 'viewer', 'check replication');
      const t = await thread(id);
      const bucket = bucketOf(t);
      await start(t, user, `${id}:${user}:check:${deps.now().getTime()}`, 'check replication', (b) => ({ ...b, kind: 'check-replication', bucket }));
    },
    async restoreFromReplica(id, user, requestKey) {
      await deps.roles.require(user, 'operator', 'restore from a replica');
      const t = await thread(id);
      const bucket = bucketOf(t);
      if (!deps.config.s3.buckets.find((b) => b.name === bucket)?.replica) {
        throw new PreconditionError('no_replica', `\`${bucket}\` has no replica bucket in the drbot config.`, 'Add one under s3.buckets, or undelete with `/dr restore s3`.');
      }
      await start(t, user, requestKey, `/dr restore s3 ${bucket} --from-replica`, (b) => ({ ...b, kind: 'restore-s3-replica', bucket, dryRun: false }));
    },
    async runBackup(id, user, requestKey) {
      await deps.roles.require(user, 'operator', 'run backups');
      const t = await thread(id);
      await start(t, user, requestKey, '/dr backup dynamodb', (b) => ({ ...b, kind: 'backup-dynamodb', tables: [], dryRun: false }));
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
