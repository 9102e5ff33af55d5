import { App, type Authorize, LogLevel, type Receiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { SlackDeps } from './deps';
import { register as registerActions } from './listeners/actions';
import { register as registerCommands } from './listeners/commands';

export interface AppOptions {
  receiver: Receiver;
  botToken: string;
  /** Known bot IDs skip Bolt's auth.test entirely; otherwise it runs once per cold start and is cached. */
  botId?: string;
  botUserId?: string;
  /** The local stand-in's Web API URL (sandbox and tests). */
  slackApiUrl?: string;
}

/**
 * Bolt calls auth.test on every request unless it is given both bot IDs or an authorize function.
 * This one never makes the ack wait on Slack: it answers with the token at once and asks auth.test
 * for the bot's IDs in the background, once (again after a failure, which it logs in words), adding
 * them to later answers. Slash commands and button clicks need only the token.
 */
export function cachedAuthorize(botToken: string, slackApiUrl?: string, warn: (message: string) => void = (m) => console.warn(m)): Authorize<boolean> {
  let ids: { botId: string; botUserId: string } | undefined;
  let asking: Promise<void> | undefined;
  const client = new WebClient(botToken, { ...(slackApiUrl ? { slackApiUrl } : {}), timeout: 5000, retryConfig: { retries: 0 } });
  return async () => {
    asking ??= client.auth.test().then(
      (r) => {
        ids = { botId: r.bot_id ?? '', botUserId: r.user_id ?? '' };
      },
      (e: unknown) => {
        asking = undefined;
        warn(`drbot: cannot reach Slack's Web API (auth.test: ${String((e as Error)?.message ?? e).slice(0, 200)}); commands are still answered, but drbot cannot post until Slack answers. Set SLACK_BOT_ID and SLACK_BOT_USER_ID to skip this check.`);
      },
    );
    return { botToken, ...(ids ?? {}) };
  };
}

/** The Bolt app: the same listeners in Lambda, in `npm start`, and in the tests. */
export function createApp(opts: AppOptions, deps: SlackDeps): App {
  const auth =
    opts.botId && opts.botUserId
      ? { token: opts.botToken, botId: opts.botId, botUserId: opts.botUserId }
      : { authorize: cachedAuthorize(opts.botToken, opts.slackApiUrl) };
  const app = new App({
    ...auth,
    receiver: opts.receiver,
    tokenVerificationEnabled: false,
    // INFO, never DEBUG: Bolt's receivers log whole requests at debug level.
    logLevel: LogLevel.INFO,
    ...(opts.slackApiUrl ? { clientOptions: { slackApiUrl: opts.slackApiUrl } } : {}),
  });
  registerCommands(app, deps);
  registerActions(app, deps);
  app.error(async (e) => {
    deps.log.error('unhandled listener error', { error: String(e.message ?? e) });
  });
  return app;
}
