import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { formatMrkdwn, renderBlocks, styled, type TerminalStyle } from './render';
import { SANDBOX_ALERTS_CHANNEL, SANDBOX_CHANNEL, SANDBOX_CRITICAL_CHANNEL, SANDBOX_USERS } from './sandbox';
import type { ButtonRef } from './signed';
import type { StandInEvent, StoredMessage } from './slack-standin';
import type { LocalStack } from './stack';

interface Pressable {
  number: number;
  channel: string;
  ts: string;
  ref: ButtonRef;
}

export interface TerminalChatOptions {
  /** The channel the chat stands for (default: the config's ops channel). */
  channel?: string;
  /** Who types first: a sandbox name or a Slack user ID. Default alice in the sandbox, else the first user ID in the config's roles. */
  user?: string;
  /** ANSI styles (bold, italics, colour), for a terminal; plain text otherwise. */
  colour?: boolean;
}

const SANDBOX_CHANNEL_NAMES: Record<string, string> = { [SANDBOX_CHANNEL]: 'dr-ops', [SANDBOX_ALERTS_CHANNEL]: 'dr-alerts', [SANDBOX_CRITICAL_CHANNEL]: 'dr-critical' };
const PRESS_USAGE = 'Usage: /press N or /press LABEL — press a button shown as [N] LABEL, e.g. /press 1 or /press Approve';

/**
 * A Hubot-style shell over the real Bolt app: lines go in as signed Slack requests, the bot's
 * Web API calls come back through the stand-in and are printed as text.
 */
export class TerminalChat {
  /** Who is typing: a sandbox name, or a Slack user ID (to act as someone in a real config). */
  private user: string;
  private userId: string;
  private readonly names = new Map<string, string>();
  private readonly channelNames: Record<string, string>;
  private readonly channel: string;
  private readonly style: TerminalStyle;
  private readonly numbers = new Map<string, number>();
  private readonly pressables = new Map<number, Pressable>();
  private nextNumber = 1;
  /** While a request is in flight, what the bot posts waits for the request's own answer, to keep Slack's order. */
  private held: StandInEvent[] | undefined;
  /** The prompt line in a terminal; output is written above it. */
  private rl: Interface | undefined;
  private out: Writable | undefined;

  constructor(
    private readonly stack: LocalStack,
    private readonly write: (text: string) => void,
    opts: TerminalChatOptions = {},
  ) {
    const ch = stack.config.slack.channels;
    this.channel = opts.channel ?? ch.ops;
    if (stack.sandbox) {
      for (const [n, id] of Object.entries(SANDBOX_USERS)) this.names.set(id, n);
      this.channelNames = SANDBOX_CHANNEL_NAMES;
    } else {
      // Without Slack the names of real channels are unknown: say which of the config's channels it is.
      this.channelNames = Object.fromEntries(Object.entries(ch).flatMap(([role, id]) => (id ? [[id, `${id} (${role} channel)`]] : [])));
    }
    this.names.set('UDRBOT', 'drbot');
    const first = opts.user ?? (stack.sandbox ? 'alice' : firstUserId(stack));
    this.user = first;
    this.userId = (SANDBOX_USERS as Record<string, string>)[first] ?? first;
    this.style = { userName: this.userName, channelName: (id) => this.channelNames[id] ?? id, colour: opts.colour ?? false };
    stack.standIn.on('event', (e: StandInEvent) => (this.held ? this.held.push(e) : this.onEvent(e)));
    // What drbot posted while starting (runs an earlier drbot left interrupted) is shown first.
    for (const m of [...stack.standIn.messages.values()]) if (!m.visibleTo) this.onEvent({ kind: 'post', message: m });
  }

  private userName = (id: string): string => this.names.get(id) ?? id;

  private channelLabel(id: string): string {
    return `#${this.channelNames[id] ?? id}`;
  }

  /** The user's chat help: who they can be depends on the mode. */
  help(): string {
    const who = this.stack.sandbox ? `${Object.keys(SANDBOX_USERS).join(', ')}, or a Slack user ID (U…)` : 'a Slack user ID (U…) listed under slack.roles in your config';
    return [
      `Terminal chat (a stand-in for the Slack channel ${this.channelLabel(this.channel)}):`,
      '  /dr …           a slash command, e.g. /dr help',
      `  /as NAME        act as another user: ${who}`,
      '  /press N|LABEL  press a button by its number or label, e.g. /press 1 or /press Approve',
      '  /quit           leave',
    ].join('\n');
  }

  /** Writes above the prompt, leaving what is being typed as it was. */
  private say(text: string): void {
    const rl = this.rl;
    const out = this.out;
    if (!rl || !out) {
      this.write(text);
      return;
    }
    clearLine(out, 0);
    cursorTo(out, 0);
    out.write(text);
    rl.prompt(true);
  }

  private onEvent(e: StandInEvent): void {
    const m = e.message;
    const key = `${m.channel}:${m.ts}`;
    if (e.kind === 'delete') {
      this.say(`${styled(`[drbot · deleted message ${m.ts}]`, 'dim', this.style.colour)}\n`);
      return;
    }
    const rendered = renderBlocks(m.blocks, m.text, this.style, (ref) => {
      const k = `${key}:${ref.action_id}:${ref.value}`;
      let n = this.numbers.get(k);
      if (n === undefined) {
        n = this.nextNumber++;
        this.numbers.set(k, n);
      }
      this.pressables.set(n, { number: n, channel: m.channel, ts: m.ts, ref });
      return n;
    });
    const head =
      e.kind === 'ephemeral'
        ? `[drbot → only @${this.userName(m.visibleTo ?? '')}]`
        : e.kind === 'update'
          ? `[drbot · updated message ${m.ts}${m.threadTs ? ` in thread ${m.threadTs}` : ''}]`
          : `[drbot · ${this.channelLabel(m.channel)} · message ${m.ts}${m.threadTs ? ` · reply in thread ${m.threadTs}` : ''}]`;
    this.say(`${styled(head, 'dim', this.style.colour)}\n${indent(rendered.text)}\n`);
  }

  prompt(): string {
    return `${this.user}> `;
  }

  /** Runs a request to the bot, showing what it posts meanwhile only after the request's own answer. */
  private async holding(request: () => Promise<void>): Promise<void> {
    this.held = [];
    try {
      await request();
    } finally {
      const held = this.held;
      this.held = undefined;
      for (const e of held) this.onEvent(e);
    }
  }

  /** Handles one input line; resolves when the bot has nothing left running. */
  async line(raw: string): Promise<boolean> {
    const text = raw.trim();
    if (!text || text.startsWith('#')) return true;
    const [word = '', ...rest] = text.split(/\s+/);
    const arg = rest.join(' ');
    if (word === '/quit' || word === '/exit') return false;
    if (word === '/help' || word === '/?') {
      this.say(`${this.help()}\n`);
      return true;
    }
    if (word === '/as') {
      this.as(arg);
      return true;
    }
    if (word === '/press') {
      if (!arg) {
        this.say(`${PRESS_USAGE}\n`);
        return true;
      }
      await this.holding(() => this.press(arg));
      await this.settle();
      return true;
    }
    if (word === '/dr') {
      this.say(`${this.user}: ${text}\n`);
      await this.holding(async () => {
        const reply = await this.stack.client.command({ user: this.userId, userName: this.user, channel: this.channel, text: arg });
        this.showReply(reply.status, reply.json, reply.raw);
      });
      await this.settle();
      return true;
    }
    this.say(`Not a command: ${JSON.stringify(text.slice(0, 80))}. ${this.help()}\n`);
    return true;
  }

  private as(arg: string): void {
    const users = this.stack.sandbox ? `${Object.keys(SANDBOX_USERS).join(', ')}, or a Slack user ID (U…)` : 'a Slack user ID (U…) from slack.roles in your config';
    if (!arg) {
      this.say(`Usage: /as NAME — act as another user: ${users}. You are ${this.user}.\n`);
      return;
    }
    const name = arg.toLowerCase();
    if (this.stack.sandbox && name in SANDBOX_USERS) {
      this.user = name;
      this.userId = SANDBOX_USERS[name as keyof typeof SANDBOX_USERS];
    } else if (/^[UW][A-Z0-9]{2,20}$/.test(arg)) {
      this.user = arg;
      this.userId = arg;
    } else {
      this.say(`No such user ${JSON.stringify(arg)}. Users: ${users}.\n`);
      return;
    }
    this.say(`(you are now ${this.user})\n`);
  }

  private showReply(status: number, json: { text?: string; blocks?: unknown[] } | undefined, raw: string): void {
    if (status !== 200) {
      this.say(`[slack] request failed: HTTP ${status} ${raw.slice(0, 200)}\n`);
      return;
    }
    if (!json) return;
    const blocks = (Array.isArray(json.blocks) ? json.blocks : []) as Parameters<typeof renderBlocks>[0];
    const r = renderBlocks(blocks, json.text ?? '', this.style, () => 0);
    this.say(`${styled(`[drbot → only @${this.user}]`, 'dim', this.style.colour)}\n${indent(r.text)}\n`);
  }

  /** Buttons still on screen (their message still shows them), oldest first. */
  private onScreen(): { p: Pressable; m: StoredMessage }[] {
    const found: { p: Pressable; m: StoredMessage }[] = [];
    for (const p of [...this.pressables.values()].sort((a, b) => a.number - b.number)) {
      const m = this.stack.standIn.message(p.channel, p.ts);
      const there = m?.blocks.some((b) => b.type === 'actions' && b.elements.some((el) => el.type === 'button' && el.action_id === p.ref.action_id && (el.value ?? '') === p.ref.value));
      if (m && there) found.push({ p, m });
    }
    return found;
  }

  private async press(arg: string): Promise<void> {
    const shown = this.onScreen();
    let hit: { p: Pressable; m: StoredMessage } | undefined;
    if (/^\d+$/.test(arg)) {
      hit = shown.find((s) => s.p.number === Number(arg));
    } else {
      const matches = shown.filter((s) => s.p.ref.text.toLowerCase() === arg.toLowerCase());
      if (matches.length > 1) {
        const list = matches.map((s) => `  /press ${s.p.number}   ${s.p.ref.text} — ${formatMrkdwn(s.m.text, this.style).slice(0, 120)} (${this.channelLabel(s.p.channel)}, message ${s.p.ts})`);
        this.say(`${matches.length} buttons are labelled ${JSON.stringify(matches[0]?.p.ref.text)}; press one by its number:\n${list.join('\n')}\n`);
        return;
      }
      hit = matches[0];
    }
    if (!hit) {
      const labels = [...new Set(shown.map((s) => s.p.ref.text))];
      this.say(`No button ${JSON.stringify(arg)} on screen.${labels.length ? ` Buttons on screen: ${labels.join(', ')}.` : ' There are no buttons on screen.'}\n`);
      return;
    }
    const { p, m } = hit;
    this.say(`${this.user}: pressed [${p.number}] ${p.ref.text}${p.ref.action_id === 'run_approve' ? ' (and confirmed)' : ''}\n`);
    const reply = await this.stack.client.click({
      user: this.userId,
      channel: p.channel,
      messageTs: p.ts,
      messageText: m.text,
      blocks: m.blocks,
      button: p.ref,
    });
    this.showReply(reply.status, reply.json, reply.raw);
  }

  /** Waits until every run is done, failed, or parked at an approval. */
  async settle(): Promise<void> {
    await this.stack.engine.idle();
  }

  /** What is lost when the chat ends now: runs parked at an approval, with where their message is. */
  async leftWaiting(): Promise<string[]> {
    const lines: string[] = [];
    for (const input of this.stack.engine.waiting()) {
      const rec = await this.stack.store.getRun(input.runId).catch(() => undefined);
      const where = rec?.ts ? `${this.channelLabel(rec.channel)}, message ${rec.ts}` : this.channelLabel(rec?.channel ?? input.channel);
      lines.push(`  ${input.runId}  ${input.commandText} (requested by @${this.userName(input.requester)}) — waiting for approval in ${where}`);
    }
    return lines;
  }

  /**
   * Reads lines until end of input. In a terminal there is a prompt, and the bot's messages are
   * written above it without disturbing what is being typed; a pipe is run line by line.
   */
  async run(input: Readable, interactive: boolean, output: Writable = process.stdout): Promise<void> {
    const rl = createInterface({ input, ...(interactive ? { output, prompt: this.prompt() } : {}), terminal: interactive });
    if (interactive) {
      this.rl = rl;
      this.out = output;
      this.say(`${this.help()}\n`);
    }
    try {
      for await (const l of rl) {
        const more = await this.line(l);
        if (!more) break;
        if (interactive) {
          // Keep what was typed meanwhile, and the cursor where it was.
          rl.setPrompt(this.prompt());
          rl.prompt(true);
        }
      }
    } finally {
      this.rl = undefined;
      this.out = undefined;
      rl.close();
    }
    await this.settle();
  }
}

/** In --aws mode: the first Slack user ID the config gives a role (operator first), else a placeholder. */
function firstUserId(stack: LocalStack): string {
  const roles = stack.config.slack.roles;
  for (const r of ['operator', 'approver', 'viewer'] as const) {
    const id = roles[r].find((p) => /^[UW][A-Z0-9]{2,20}$/.test(p));
    if (id) return id;
  }
  return 'ULOCALUSER';
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
