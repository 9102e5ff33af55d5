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

  private async retry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const wait = attempt + 1 < this.attempts ? retryDelay(e, attempt, this.opts) : undefined;
        if (wait === undefined) throw e;
        await this.sleep(wait);
      }
    }
  }

  post(channel: string, msg: SlackMessage, opts?: { threadTs?: string }) {
    return this.retry(() => this.inner.post(channel, msg, opts));
  }

  update(channel: string, ts: string, msg: SlackMessage) {
    return this.retry(() => this.inner.update(channel, ts, msg));
  }

  ephemeral(channel: string, user: string, msg: SlackMessage) {
    return this.retry(() => this.inner.ephemeral(channel, user, msg));
  }
}
