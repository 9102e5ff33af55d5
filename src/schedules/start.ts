import { createHash } from 'node:crypto';
import type { DrConfig } from '../config/schema';
import { DrbotError, PreconditionError } from '../errors';
import type { Catalogue } from '../runbooks/catalogue';
import type { AnyRunInput, RunEngine } from '../runbooks/types';

/*
 * Scheduled backups: EventBridge Scheduler invokes handlers/schedule.ts with the schedule's name,
 * the verb to run and the scheduled time (template.yaml fills `<aws.scheduler.scheduled-time>`).
 * The run's execution name is made of the schedule and that time, so a redelivered or retried
 * invocation of the same firing starts nothing new. Scheduled runs post in the ops channel and
 * prune what is past retention (config-reviewed policy, so no approval waits on a person).
 */

export interface ScheduleEvent {
  /** The schedule's name (template.yaml), e.g. `backup-iam-daily`. */
  schedule: string;
  /** The catalogue verb it runs, e.g. `backup-iam`. */
  verb: string;
  /** ISO time the schedule fired for (not when the invocation arrived). */
  scheduledTime: string;
}

export class ScheduleEventError extends DrbotError {
  constructor(message: string) {
    super('schedule_event_invalid', message, 'Check the schedule target Input in template.yaml.');
  }
}

const SCHEDULE_NAME = /^[A-Za-z0-9_.-]{1,40}$/;
/** The backups, and the monthly drill (which creates and removes only its own resources). */
const VERB_ID = /^(backup-[a-z0-9-]{1,30}|drill)$/;

/** Checks the event's shape: what Scheduler sends is config, but a hand-made invoke is not. */
export function parseScheduleEvent(raw: unknown): ScheduleEvent {
  const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const { schedule, verb, scheduledTime } = e;
  if (typeof schedule !== 'string' || !SCHEDULE_NAME.test(schedule)) throw new ScheduleEventError('schedule: missing or not a schedule name');
  if (typeof verb !== 'string' || !VERB_ID.test(verb)) throw new ScheduleEventError('verb: missing or not a backup verb (backup-…) or the drill');
  if (typeof scheduledTime !== 'string' || Number.isNaN(Date.parse(scheduledTime))) throw new ScheduleEventError('scheduledTime: missing or not an ISO time');
  return { schedule, verb, scheduledTime: new Date(Date.parse(scheduledTime)).toISOString() };
}

/** `sched-<schedule>-<yyyymmddTHHMMZ>`: one execution per firing (Lambda allows 64 characters). */
export function scheduledExecutionName(schedule: string, scheduledTime: string): string {
  const stamp = scheduledTime.replace(/[-:]/g, '').replace(/\.\d+/, '').replace(/\d{2}Z$/, 'Z');
  return `sched-${schedule}-${stamp}`.slice(0, 64);
}

/** The run id of a firing, stable across redeliveries (`r-` + 12 hex, like every run id). */
function runIdOf(executionName: string): string {
  return `r-${createHash('sha256').update(executionName).digest('hex').slice(0, 12)}`;
}

export interface ScheduleDeps {
  config: DrConfig;
  catalogue: Catalogue;
  engine: RunEngine;
  now: () => Date;
}

export interface ScheduleResult {
  status: 'started' | 'duplicate';
  executionName: string;
  runId: string;
}

/** Starts the scheduled run of a firing, or nothing if that firing already started one. */
export async function startScheduledRun(deps: ScheduleDeps, event: ScheduleEvent): Promise<ScheduleResult> {
  const verb = deps.catalogue.verb(event.verb);
  if (!verb) {
    throw new PreconditionError('unknown_verb', `Schedule \`${event.schedule}\` runs \`${event.verb}\`, which this deployment does not have.`, 'Deploy the version with that verb, or disable the schedule.');
  }
  const flags = new Map<string, true>(Object.values(verb.args).some((a) => a.name === 'prune') ? [['prune', true]] : []);
  const args = deps.catalogue.bind(verb, { positionals: [], flags }, { config: deps.config, now: deps.now() });
  const executionName = scheduledExecutionName(event.schedule, event.scheduledTime);
  const runId = runIdOf(executionName);
  const input: AnyRunInput = {
    ...verb.input(args),
    runId,
    requester: `schedule:${event.schedule}`,
    channel: deps.config.slack.channels.ops,
    commandText: `/dr ${verb.words.join(' ')}${flags.size ? ' --prune' : ''} (schedule ${event.schedule}, ${event.scheduledTime})`,
    requestedAt: event.scheduledTime,
    schedule: { name: event.schedule, at: event.scheduledTime },
    kind: verb.id,
  };
  const status = await deps.engine.start(executionName, input);
  return { status, executionName, runId };
}
