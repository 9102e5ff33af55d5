import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors';

export interface SlackSecrets {
  signingSecret: string;
  botToken: string;
}

/**
 * The Slack signing secret and bot token: from SLACK_SIGNING_SECRET / SLACK_BOT_TOKEN when set,
 * otherwise from the Secrets Manager secret named by SLACK_SECRET_ARN (JSON with signingSecret and
 * botToken). Never logged.
 */
export async function loadSlackSecrets(env: NodeJS.ProcessEnv = process.env, client?: SecretsManagerClient): Promise<SlackSecrets> {
  if (env.SLACK_SIGNING_SECRET && env.SLACK_BOT_TOKEN) return { signingSecret: env.SLACK_SIGNING_SECRET, botToken: env.SLACK_BOT_TOKEN };
  const arn = env.SLACK_SECRET_ARN;
  if (!arn) throw new ConfigError('no Slack credentials: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or SLACK_SECRET_ARN');
  const sm = client ?? new SecretsManagerClient({});
  const res = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.SecretString ?? '');
  } catch {
    throw new ConfigError('the Slack secret is not JSON; store {"signingSecret": "…", "botToken": "xoxb-…"}');
  }
  // JSON that is not an object (null, a string, a number) has no fields either.
  const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<SlackSecrets>;
  if (typeof p.signingSecret !== 'string' || !p.signingSecret || typeof p.botToken !== 'string' || !p.botToken) {
    throw new ConfigError('the Slack secret needs string fields signingSecret and botToken');
  }
  return { signingSecret: p.signingSecret, botToken: p.botToken };
}

/** Memoizes an async loader for the life of the process (one fetch per cold start), retrying after a failure. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= load().catch((e: unknown) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}
