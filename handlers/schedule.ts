import { LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaLog } from '../src/log';
import { CATALOGUE } from '../src/runbooks/catalogue';
import { LambdaRunEngine } from '../src/runbooks/engine-lambda';
import { required } from '../src/runtime/aws';
import { once } from '../src/runtime/secrets';
import { parseScheduleEvent, type ScheduleDeps, type ScheduleResult, startScheduledRun } from '../src/schedules/start';
import { handlerConfig } from './_config';

const log = lambdaLog();

/** Built once per cold start. */
const deps = once(async (): Promise<ScheduleDeps> => {
  const config = handlerConfig();
  const lambda = new LambdaClient({ region: process.env.AWS_REGION ?? config.regions.primary });
  return { config, catalogue: CATALOGUE, engine: new LambdaRunEngine(lambda, required(process.env, 'RUNBOOK_FUNCTION')), now: () => new Date() };
});

/** EventBridge Scheduler → one durable backup run per firing (a redelivery starts nothing). */
export const handler = async (event: unknown): Promise<ScheduleResult> => {
  const parsed = parseScheduleEvent(event);
  const result = await startScheduledRun(await deps(), parsed);
  log.info('scheduled run', { schedule: parsed.schedule, verb: parsed.verb, scheduledTime: parsed.scheduledTime, ...result });
  return result;
};
