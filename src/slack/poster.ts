import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';

export interface SlackMessage {
  /** Plain-text fallback (notifications, screen readers); always set. */
  text: string;
  blocks?: KnownBlock[];
}

/** The Slack Web API calls drbot makes, as a port: runbooks, alarms and listeners post through it. */
export interface SlackPoster {
  post(channel: string, msg: SlackMessage, opts?: { threadTs?: string }): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, msg: SlackMessage): Promise<void>;
  ephemeral(channel: string, user: string, msg: SlackMessage): Promise<void>;
  /**
   * Deletes the bot's other copies of `msg` (same text) posted in `channel` (or in the thread
   * `threadTs`) from `sinceMs` up to the one kept, `keepTs`; returns how many it deleted. For a
   * post whose earlier try may have reached Slack without its answer reaching us (a timeout).
   */
  removeCopies?(channel: string, msg: SlackMessage, keepTs: string, sinceMs: number, opts?: { threadTs?: string }): Promise<number>;
}

/** Slack's answers when the bot cannot post in a channel (not invited, private, archived): the ops channel takes the post. */
const CANNOT_POST_HERE = /not_in_channel|channel_not_found|is_archived|restricted_action/;

/**
 * Posts in `channel`; where the bot may not post (not invited, private, archived), in the ops
 * channel instead, saying where it was meant to go. `onFallback` hears Slack's answer first.
 */
export async function postOrOps(slack: SlackPoster, channel: string, ops: string, msg: SlackMessage, opts: { threadTs?: string } = {}, onFallback?: (code: string) => Promise<void>): Promise<{ channel: string; ts: string }> {
  try {
    return await slack.post(channel, msg, opts);
  } catch (e) {
    const code = String((e as { data?: { error?: string } }).data?.error ?? (e as Error).message);
    if (!CANNOT_POST_HERE.test(code) || channel === ops) throw e;
    await onFallback?.(code);
    return slack.post(ops, { ...msg, text: `${msg.text} (requested in <#${channel}>, where drbot is not a member)` });
  }
}

/** A Web API error that leaves the call's outcome unknown: no answer came (a timeout, a cut connection), so Slack may have applied it. */
export function isUncertain(e: unknown): boolean {
  return (e as { code?: unknown })?.code === 'slack_webapi_request_error';
}

/** SlackPoster over a WebClient (real Slack, or the local stand-in via `slackApiUrl`). */
export class WebApiPoster implements SlackPoster {
  constructor(private readonly client: WebClient) {}

  async post(channel: string, msg: SlackMessage, opts: { threadTs?: string } = {}) {
    const res = await this.client.chat.postMessage({
      channel,
      text: msg.text,
      ...(msg.blocks ? { blocks: msg.blocks } : {}),
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
      unfurl_links: false,
    });
    return { channel: res.channel ?? channel, ts: res.ts ?? '' };
  }

  async update(channel: string, ts: string, msg: SlackMessage) {
    await this.client.chat.update({ channel, ts, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : { blocks: [] }) });
  }

  async ephemeral(channel: string, user: string, msg: SlackMessage) {
    await this.client.chat.postEphemeral({ channel, user, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : {}) });
  }

  /**
   * chat.postMessage has no idempotency key, so a post retried after a timeout may leave a copy
   * nobody updates. The copies are found in the channel's history (the thread's replies for a
   * reply): the bot's own messages with the same text, from shortly before the first try up to
   * now, other than the kept one, and deleted (chat.delete: a bot may delete its own messages). Needs the
   * channels:history / groups:history scopes; without them Slack answers missing_scope, thrown.
   */
  async removeCopies(channel: string, msg: SlackMessage, keepTs: string, sinceMs: number, opts: { threadTs?: string } = {}) {
    // Slack's clock, not ours, stamps ts: a minute's slack either side of the first try.
    const oldest = String(Math.floor(sinceMs / 1000) - 60);
    // Up to now, not to the kept one: a timed-out try may reach Slack after the retry's message.
    const window = { channel, oldest, inclusive: true, limit: 100 };
    const res = opts.threadTs ? await this.client.conversations.replies({ ...window, ts: opts.threadTs }) : await this.client.conversations.history(window);
    const me = await this.botUser();
    const mine = (m: { user?: string; bot_id?: string }) => (m.user !== undefined ? m.user === me.user : m.bot_id !== undefined && m.bot_id === me.bot);
    const copies = (res.messages ?? []).filter((m) => m.ts && m.ts !== keepTs && m.ts !== opts.threadTs && m.text === msg.text && mine(m));
    for (const m of copies) await this.client.chat.delete({ channel, ts: m.ts as string });
    return copies.length;
  }

  private me?: Promise<{ user: string; bot: string }>;
  private botUser(): Promise<{ user: string; bot: string }> {
    this.me ??= this.client.auth.test().then(
      (r) => ({ user: r.user_id ?? '', bot: r.bot_id ?? '' }),
      (e: unknown) => {
        this.me = undefined;
        throw e;
      },
    );
    return this.me;
  }
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Backoff after a 5xx or a network error: base × 2^n milliseconds. */
  baseDelayMs?: number;
  /** Slack's Retry-After is honoured up to this many milliseconds a wait. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a failed Web API call says about trying again: wait this long, or never (Slack said no). */
export function retryDelay(e: unknown, attempt: number, opts: Required<Pick<RetryOptions, 'baseDelayMs' | 'maxWaitMs'>>): number | undefined {
  const err = e as { code?: unknown; retryAfter?: unknown; statusCode?: unknown };
  if (err?.code === 'slack_webapi_rate_limited_error') {
    const s = typeof err.retryAfter === 'number' && err.retryAfter > 0 ? err.retryAfter : 1;
    return Math.min(opts.maxWaitMs, s * 1000);
  }
  const server = err?.code === 'slack_webapi_http_error' && typeof err.statusCode === 'number' && (err.statusCode >= 500 || err.statusCode === 429);
  if (server || err?.code === 'slack_webapi_request_error') return Math.min(opts.maxWaitMs, opts.baseDelayMs * 2 ** attempt);
  // A platform error (not_in_channel, message_not_found, …) is Slack's answer: asking again changes nothing.
  return undefined;
}

/**
 * A SlackPoster that rides out Slack's bad moments: 429 honouring Retry-After, 5xx and network
 * errors with backoff, a few times; Slack's own refusals pass straight through. Runs post through
 * it, inside their steps, so a brief outage does not fail finished work.
 */
export class RetryingPoster implements SlackPoster {
  private readonly attempts: number;
  private readonly opts: Required<Pick<RetryOptions, 'baseDelayMs' | 'maxWaitMs'>>;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly inner: SlackPoster,
    opts: RetryOptions = {},
  ) {
    this.attempts = Math.max(1, opts.attempts ?? 5);
    this.opts = { baseDelayMs: opts.baseDelayMs ?? 500, maxWaitMs: opts.maxWaitMs ?? 30_000 };
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private async retry<T>(call: () => Promise<T>, onUncertain?: () => void): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const wait = attempt + 1 < this.attempts ? retryDelay(e, attempt, this.opts) : undefined;
        if (wait === undefined) throw e;
        if (isUncertain(e)) onUncertain?.();
        await this.sleep(wait);
      }
    }
  }

  /**
   * A try that timed out may have posted the message all the same (the answer was lost, not the
   * request), and the retry then posts a second copy that nobody would ever update. So once a
   * retry succeeds after such a try, the copies are looked for and deleted: the channel keeps one
   * message, the one whose ts the caller records. Best effort: the post has succeeded either way.
   */
  async post(channel: string, msg: SlackMessage, opts?: { threadTs?: string }) {
    const since = Date.now();
    let uncertain = false;
    const posted = await this.retry(
      () => this.inner.post(channel, msg, opts),
      () => {
        uncertain = true;
      },
    );
    if (uncertain && this.inner.removeCopies) {
      await this.inner.removeCopies(posted.channel, msg, posted.ts, since, opts).then(
        (n) => n && console.warn(JSON.stringify({ level: 'WARN', message: 'deleted copies of a post retried after a timeout', channel: posted.channel, ts: posted.ts, copies: n })),
        (e: unknown) => console.warn(JSON.stringify({ level: 'WARN', message: 'a post retried after a timeout may have left a copy', channel: posted.channel, ts: posted.ts, code: String((e as { data?: { error?: unknown } })?.data?.error ?? (e as { code?: unknown })?.code ?? ''), error: String((e as Error)?.message ?? e).slice(0, 300) })),
      );
    }
    return posted;
  }

  update(channel: string, ts: string, msg: SlackMessage) {
    return this.retry(() => this.inner.update(channel, ts, msg));
  }

  ephemeral(channel: string, user: string, msg: SlackMessage) {
    return this.retry(() => this.inner.ephemeral(channel, user, msg));
  }

  removeCopies(channel: string, msg: SlackMessage, keepTs: string, sinceMs: number, opts?: { threadTs?: string }) {
    return this.inner.removeCopies ? this.inner.removeCopies(channel, msg, keepTs, sinceMs, opts) : Promise.resolve(0);
  }
}
