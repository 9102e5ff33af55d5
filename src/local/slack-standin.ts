import type { KnownBlock } from '@slack/types';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as the stand-in received it. */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  user: string;
  text: string;
  blocks: KnownBlock[];
  threadTs?: string;
  /** Ephemeral messages are seen only by `visibleTo`. */
  visibleTo?: string;
  updatedAt?: number;
}

export type StandInEvent = { kind: 'post' | 'update' | 'ephemeral' | 'delete'; message: StoredMessage };

/**
 * What the stand-in does with a call a test chose to fail: answer with an HTTP failure (a 429 with
 * its Retry-After in seconds, or a 5xx), or stall: accept the request and never answer, as a Slack
 * whose answer is lost does, until the client gives up (its timeout) or the stand-in stops.
 * `before`: the call is not applied (it never reached Slack); `after`: it is applied (a message is
 * stored, an update made) and only the answer is lost, so the client cannot know it happened.
 */
export type StandInFault = { status: 429 | 500 | 502 | 503; retryAfter?: number } | { stall: 'before' | 'after' };

const MAX_BODY = 1024 * 1024;
const BOT_USER = 'UDRBOT';

/**
 * A local stand-in for the Slack Web API (the WebClient's `slackApiUrl` points here): it answers
 * the calls drbot makes, keeps the messages, and records every call. The terminal chat renders
 * from it and the tests assert on it. It enforces Slack's own limits so an oversized message
 * fails here as it would in Slack.
 */
export class SlackStandIn extends EventEmitter {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, StoredMessage>();
  /** Channels the bot is not a member of: posting there fails with not_in_channel, as in Slack. */
  readonly notIn = new Set<string>();
  /**
   * Fails chosen calls as a Slack outage would (tests): an HTTP failure, or a stall (StandInFault).
   * The call is still recorded.
   */
  fault?: (method: string, args: Record<string, unknown>) => StandInFault | undefined;
  /** Stalled requests still held open: their clients have not given up yet. */
  private readonly held = new Set<ServerResponse>();
  private server?: Server;
  private seq = 0;
  url = '';

  constructor(private readonly groups: Record<string, string[]> = {}) {
    super();
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api/`;
    return this.url;
  }

  /** Cuts the connections of the stalled calls held now: their clients see the connection drop. */
  cut(): void {
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  /** Never waits on a stalled request: its socket is cut, as Slack going away would. */
  stop(): Promise<void> {
    this.cut();
    const server = this.server;
    if (!server) return Promise.resolve();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  }

  /** How many stalled calls are held open now (their clients have not timed out yet). */
  get stalled(): number {
    return this.held.size;
  }

  /** Calls of one method, in order. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.get(`${channel}:${ts}`);
  }

  /** Messages in a channel (not ephemeral), oldest first. */
  channelMessages(channel: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && !m.visibleTo);
  }

  private nextTs(): string {
    this.seq++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.seq).padStart(6, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = parseArgs(raw, req.headers['content-type'] ?? '');
    this.calls.push({ method, args, at: Date.now() });
    const f = this.fault?.(method, args);
    if (f && 'stall' in f) {
      if (f.stall === 'after') this.answer(method, args);
      // No answer: held until the client aborts (its timeout) or stop() cuts it.
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    if (f) {
      res.writeHead(f.status, f.status === 429 ? { 'retry-after': String(f.retryAfter ?? 1) } : {}).end(f.status === 429 ? '' : 'upstream error');
      return;
    }
    const reply = this.answer(method, args);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  }

  private answer(method: string, a: Record<string, unknown>): Record<string, unknown> {
    const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
    const blocks = (Array.isArray(a.blocks) ? a.blocks : []) as KnownBlock[];
    const limits = checkLimits(str('text') ?? '', blocks);
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: BOT_USER, bot_id: 'BDRBOT', team_id: 'TSANDBOX', user: 'drbot' };
      case 'chat.postMessage': {
        if (limits) return { ok: false, error: limits };
        const channel = str('channel');
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (this.notIn.has(channel)) return { ok: false, error: 'not_in_channel' };
        const ts = this.nextTs();
        const threadTs = str('thread_ts');
        const m: StoredMessage = { channel, ts, user: BOT_USER, text: str('text') ?? '', blocks, ...(threadTs ? { threadTs } : {}) };
        this.messages.set(`${channel}:${ts}`, m);
        this.emit('event', { kind: 'post', message: m } satisfies StandInEvent);
        return { ok: true, channel, ts, message: { text: m.text, ts } };
      }
      case 'chat.update': {
        if (limits) return { ok: false, error: limits };
        const channel = str('channel') ?? '';
        const ts = str('ts') ?? '';
        const m = this.messages.get(`${channel}:${ts}`);
        if (!m) return { ok: false, error: 'message_not_found' };
        m.text = str('text') ?? m.text;
        m.blocks = blocks;
        m.updatedAt = Date.now();
        this.emit('event', { kind: 'update', message: m } satisfies StandInEvent);
        return { ok: true, channel, ts };
      }
      case 'chat.postEphemeral': {
        if (limits) return { ok: false, error: limits };
        const channel = str('channel') ?? '';
        const user = str('user') ?? '';
        const ts = this.nextTs();
        const m: StoredMessage = { channel, ts, user: BOT_USER, text: str('text') ?? '', blocks, visibleTo: user };
        this.messages.set(`${channel}:${ts}`, m);
        this.emit('event', { kind: 'ephemeral', message: m } satisfies StandInEvent);
        return { ok: true, message_ts: ts };
      }
      case 'chat.delete': {
        const channel = str('channel') ?? '';
        const ts = str('ts') ?? '';
        const m = this.messages.get(`${channel}:${ts}`);
        if (!m || m.visibleTo) return { ok: false, error: 'message_not_found' };
        if (m.user !== BOT_USER) return { ok: false, error: 'cant_delete_message' };
        this.messages.delete(`${channel}:${ts}`);
        this.emit('event', { kind: 'delete', message: m } satisfies StandInEvent);
        return { ok: true, channel, ts };
      }
      case 'conversations.history':
      case 'conversations.replies': {
        // Newest first, between oldest and latest (inclusive only when asked), as Slack answers;
        // history holds the channel's messages, replies a thread's (its parent first in Slack's
        // answer, here among the rest).
        const channel = str('channel') ?? '';
        const thread = method === 'conversations.replies' ? (str('ts') ?? '') : undefined;
        const oldest = Number(str('oldest') ?? 0);
        const latest = Number(str('latest') ?? Number.POSITIVE_INFINITY);
        const inclusive = str('inclusive') === 'true' || a.inclusive === true;
        const inWindow = (ts: number) => (inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest);
        const messages = this.channelMessages(channel)
          .filter((m) => (thread === undefined ? !m.threadTs : m.threadTs === thread || m.ts === thread) && inWindow(Number(m.ts)))
          .sort((x, y) => Number(y.ts) - Number(x.ts))
          .map((m) => ({ type: 'message', user: m.user, bot_id: 'BDRBOT', text: m.text, ts: m.ts, ...(m.threadTs ? { thread_ts: m.threadTs } : {}) }));
        return { ok: true, messages, has_more: false };
      }
      case 'usergroups.users.list': {
        const g = str('usergroup') ?? '';
        return this.groups[g] ? { ok: true, users: this.groups[g] } : { ok: false, error: 'no_such_subteam' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** Slack's message limits: 50 blocks, section text 3,000, button value 2,000, ~40k text. */
export function checkLimits(text: string, blocks: KnownBlock[]): string | undefined {
  if (blocks.length > 50) return 'invalid_blocks';
  if (text.length > 40000) return 'msg_too_long';
  for (const b of blocks) {
    if (b.type === 'section' && b.text && b.text.text.length > 3000) return 'invalid_blocks';
    if (b.type === 'actions') {
      for (const el of b.elements) {
        if (el.type === 'button' && (el.value?.length ?? 0) > 2000) return 'invalid_blocks';
      }
    }
  }
  return undefined;
}

function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if ((k === 'blocks' || k === 'attachments') && v.startsWith('[')) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        /* keep as text */
      }
    }
    out[k] = v;
  }
  return out;
}
