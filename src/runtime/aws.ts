import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAlarmActions } from '../alarms/actions';
import { createAlarmService } from '../alarms/service';
import { DynamoAlarmStore } from '../alarms/store';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { WebClient } from '@slack/web-api';
import { RoleResolver } from '../approvals/roles';
import type { DrConfig } from '../config/schema';
import { ConfigError } from '../errors';
import { lambdaLog } from '../log';
import { LambdaRunEngine } from '../runbooks/engine-lambda';
import type { SlackDeps } from '../slack/deps';
import { WebApiPoster } from '../slack/poster';
import { StateStore } from '../store/state';

/**
 * Wiring for the Slack function. It builds only the two AWS clients the edge uses (state table,
 * runbook invoke), so its bundle carries no S3/EC2 client code and its cold start stays short.
 */
export function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new ConfigError(`environment variable ${name} is not set (template.yaml sets it)`);
  return v;
}

/**
 * A Slack Web API client that fails fast: the default retries a rate-limited call for up to half
 * an hour, far past a Lambda's timeout. A failure instead surfaces to a step retry (runbooks), an
 * SNS redelivery (alarms), or an ephemeral error (clicks).
 */
export function slackClient(botToken: string, env: NodeJS.ProcessEnv = process.env, retries = 2): WebClient {
  return new WebClient(botToken, { ...slackApiUrlOf(env), timeout: 5000, retryConfig: { retries, minTimeout: 200, maxTimeout: 2000 }, rejectRateLimitedCalls: true });
}

/**
 * SLACK_API_URL, when set: another Web API base than https://slack.com/api/ (GovSlack's
 * https://slack-gov.com/api/, or a stand-in in tests). Anything but an http(s) URL is refused.
 */
export function slackApiUrlOf(env: NodeJS.ProcessEnv): { slackApiUrl?: string } {
  const raw = env.SLACK_API_URL;
  if (!raw) return {};
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`SLACK_API_URL is not a URL; set it to the Web API base, e.g. https://slack-gov.com/api/, or unset it for slack.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`SLACK_API_URL must be an http(s) URL, not ${url.protocol}`);
  if (url.search || url.hash || url.username || url.password) throw new ConfigError('SLACK_API_URL must be a plain base URL: no query, fragment or credentials');
  return { slackApiUrl: url.href.endsWith('/') ? url.href : `${url.href}/` };
}

export function stateStore(config: DrConfig, env: NodeJS.ProcessEnv = process.env): StateStore {
  return new StateStore(new DynamoDBClient({ region: env.AWS_REGION ?? config.regions.primary }), required(env, 'STATE_TABLE'));
}

export function roleResolver(config: DrConfig, web: WebClient): RoleResolver {
  return new RoleResolver(config, async (usergroup) => (await web.usergroups.users.list({ usergroup })).users ?? []);
}

export function slackDepsForLambda(config: DrConfig, botToken: string, env: NodeJS.ProcessEnv = process.env): SlackDeps {
  const web = slackClient(botToken, env);
  const store = stateStore(config, env);
  const slack = new WebApiPoster(web);
  const engine = new LambdaRunEngine(new LambdaClient({ region: env.AWS_REGION ?? config.regions.primary }), required(env, 'RUNBOOK_FUNCTION'));
  const roles = roleResolver(config, web);
  const log = lambdaLog();
  const now = () => new Date();
  // Alarm messages' buttons arrive here, at the interactivity URL.
  const threads = createAlarmService({
    store: new DynamoAlarmStore({ client: store.doc, tableName: store.tableName }),
    slack,
    config,
    clock: now,
    log: (m, extra) => log.info(m, extra),
  });
  return {
    config,
    store,
    engine,
    roles,
    slack,
    now,
    log,
    alarms: createAlarmActions({ config, threads, store, engine, roles, slack, now }),
  };
}
