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
    // The client fails fast and never retries by itself; the run's posts ride out 429s, 5xx and
    // timeouts inside their steps, through the RetryingPoster, which must see each failed try: a
    // post retried after a timeout may have left a copy to delete (src/slack/poster.ts).
    slack: new RetryingPoster(new WebApiPoster(slackClient(botToken, env, 0))),
    now: () => new Date(),
    runner: 'lambda',
  };
}
