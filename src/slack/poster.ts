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
