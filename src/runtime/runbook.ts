import { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';
import type { RunbookDeps } from '../runbooks/types';
import { RetryingPoster, WebApiPoster } from '../slack/poster';
import { slackClient, stateStore } from './aws';

/** Wiring for the runbook function: every AWS adapter, the state table and Slack. */
export function runbookDepsForLambda(config: DrConfig, botToken: string, env: NodeJS.ProcessEnv = process.env): RunbookDeps {
  return {
    config,
    clients: new AwsClients(config.regions.primary),
    store: stateStore(config, env),
    // The client fails fast; the run's posts ride out 429s and 5xx inside their steps.
    slack: new RetryingPoster(new WebApiPoster(slackClient(botToken, env))),
    now: () => new Date(),
    runner: 'lambda',
  };
}
