import { App, LogLevel, type Receiver } from '@slack/bolt';
import type { SlackDeps } from './deps';
import { register as registerActions } from './listeners/actions';
import { register as registerCommands } from './listeners/commands';

export interface AppOptions {
  receiver: Receiver;
  botToken: string;
  /** Known bot IDs skip Bolt's auth.test; otherwise it runs once per cold start and is cached. */
  botId?: string;
  botUserId?: string;
  /** The local stand-in's Web API URL (sandbox and tests). */
  slackApiUrl?: string;
}

/** The Bolt app: the same listeners in Lambda, in `npm start`, and in the tests. */
export function createApp(opts: AppOptions, deps: SlackDeps): App {
  const app = new App({
    token: opts.botToken,
    receiver: opts.receiver,
    tokenVerificationEnabled: false,
    ...(opts.botId ? { botId: opts.botId } : {}),
    ...(opts.botUserId ? { botUserId: opts.botUserId } : {}),
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
