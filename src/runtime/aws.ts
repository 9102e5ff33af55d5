import { WebClient } from '@slack/web-api';
import { RoleResolver } from '../approvals/roles';
import { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';
import { ConfigError } from '../errors';
import { lambdaLog } from '../log';
import { LambdaRunEngine } from '../runbooks/engine-lambda';
import type { RunbookDeps } from '../runbooks/types';
import type { SlackDeps } from '../slack/deps';
import { WebApiPoster } from '../slack/poster';
import { StateStore } from '../store/state';

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new ConfigError(`environment variable ${name} is not set (template.yaml sets it)`);
  return v;
}

export interface AwsRuntime {
  config: DrConfig;
  clients: AwsClients;
  store: StateStore;
  web: WebClient;
  slack: WebApiPoster;
}

/** Clients, store and Slack client for a Lambda, built once per cold start. */
export function awsRuntime(config: DrConfig, botToken: string, env: NodeJS.ProcessEnv = process.env): AwsRuntime {
  const clients = new AwsClients(config.regions.primary);
  const store = new StateStore(clients.dynamodb(env.AWS_REGION ?? config.regions.primary), required(env, 'STATE_TABLE'));
  const web = new WebClient(botToken);
  return { config, clients, store, web, slack: new WebApiPoster(web) };
}

export function roleResolver(config: DrConfig, web: WebClient): RoleResolver {
  return new RoleResolver(config, async (usergroup) => (await web.usergroups.users.list({ usergroup })).users ?? []);
}

export function slackDepsForLambda(rt: AwsRuntime, env: NodeJS.ProcessEnv = process.env): SlackDeps {
  return {
    config: rt.config,
    store: rt.store,
    engine: new LambdaRunEngine(rt.clients.lambda(env.AWS_REGION ?? rt.config.regions.primary), required(env, 'RUNBOOK_FUNCTION')),
    roles: roleResolver(rt.config, rt.web),
    slack: rt.slack,
    now: () => new Date(),
    log: lambdaLog(),
  };
}

export function runbookDepsForLambda(rt: AwsRuntime): RunbookDeps {
  return { config: rt.config, clients: rt.clients, store: rt.store, slack: rt.slack, now: () => new Date() };
}
