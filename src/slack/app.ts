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
 * Bolt calls auth.test on every request unless it is given both bot IDs or an authorize function:
 * this one asks once per cold start and keeps the answer (a failure is retried next request).
 */
export function cachedAuthorize(botToken: string, slackApiUrl?: string): Authorize<boolean> {
  let ids: Promise<{ botId: string; botUserId: string }> | undefined;
  const client = new WebClient(botToken, slackApiUrl ? { slackApiUrl } : {});
  return async () => {
    ids ??= client.auth.test().then(
      (r) => ({ botId: r.bot_id ?? '', botUserId: r.user_id ?? '' }),
      (e: unknown) => {
        ids = undefined;
        throw e;
      },
    );
    return { botToken, ...(await ids) };
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
