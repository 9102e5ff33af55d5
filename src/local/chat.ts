import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { renderBlocks } from './render';
import { SANDBOX_ALERTS_CHANNEL, SANDBOX_CHANNEL, SANDBOX_CRITICAL_CHANNEL, SANDBOX_USERS } from './sandbox';
import type { ButtonRef } from './signed';
import type { StandInEvent } from './slack-standin';
import type { LocalStack } from './stack';

interface Pressable {
  number: number;
  channel: string;
  ts: string;
  ref: ButtonRef;
}

const CHAT_HELP = [
  'Terminal chat (a stand-in for a Slack channel):',
  '  /dr …           a slash command, e.g. /dr help',
  '  /as NAME        act as another user: ' + Object.keys(SANDBOX_USERS).join(', ') + ', or a Slack user ID (U…)',
  '  /press N|LABEL  press a button by its number or label, e.g. /press 1 or /press Approve',
  '  /quit           leave',
].join('\n');

/**
 * A Hubot-style shell over the real Bolt app: lines go in as signed Slack requests, the bot's
 * Web API calls come back through the stand-in and are printed as text.
 */
export class TerminalChat {
  /** Who is typing: a sandbox name, or a Slack user ID (to act as someone in a real config). */
  private user = 'alice';
  private userId: string = SANDBOX_USERS.alice;
  private readonly names = new Map<string, string>(Object.entries(SANDBOX_USERS).map(([n, id]) => [id, n]));
  private readonly numbers = new Map<string, number>();
  private readonly pressables = new Map<number, Pressable>();
  /** Message keys in the order they were last rendered, newest last. */
  private readonly recent: string[] = [];
  private nextNumber = 1;

  constructor(
    private readonly stack: LocalStack,
    private readonly write: (text: string) => void,
    private readonly channel = SANDBOX_CHANNEL,
  ) {
    stack.standIn.on('event', (e: StandInEvent) => this.onEvent(e));
  }

  private userName = (id: string): string => this.names.get(id) ?? (id === 'UDRBOT' ? 'drbot' : id);

  private onEvent(e: StandInEvent): void {
    const m = e.message;
    const key = `${m.channel}:${m.ts}`;
    const rendered = renderBlocks(m.blocks, m.text, this.userName, (ref) => {
      const k = `${key}:${ref.action_id}:${ref.value}`;
      let n = this.numbers.get(k);
      if (n === undefined) {
        n = this.nextNumber++;
        this.numbers.set(k, n);
      }
      this.pressables.set(n, { number: n, channel: m.channel, ts: m.ts, ref });
      return n;
    });
    const idx = this.recent.indexOf(key);
    if (idx >= 0) this.recent.splice(idx, 1);
    this.recent.push(key);
    const head =
      e.kind === 'ephemeral'
        ? `[drbot → only @${this.userName(m.visibleTo ?? '')}]`
        : e.kind === 'update'
          ? `[drbot · updated message ${m.ts}${m.threadTs ? ` in thread ${m.threadTs}` : ''}]`
          : `[drbot · #${channelName(m.channel)} · message ${m.ts}${m.threadTs ? ` · reply in thread ${m.threadTs}` : ''}]`;
    this.write(`${head}\n${indent(rendered.text)}\n`);
  }

  prompt(): string {
    return `${this.user}> `;
  }

  /** Handles one input line; resolves when the bot has nothing left running. */
  async line(raw: string): Promise<boolean> {
    const text = raw.trim();
    if (!text || text.startsWith('#')) return true;
    if (text === '/quit' || text === '/exit') return false;
    if (text === '/help' || text === '/?') {
      this.write(`${CHAT_HELP}\n`);
      return true;
    }
    if (text.startsWith('/as')) {
      const arg = text.slice(3).trim();
      const name = arg.toLowerCase();
      if (name in SANDBOX_USERS) {
        this.user = name;
        this.userId = SANDBOX_USERS[name as keyof typeof SANDBOX_USERS];
      } else if (/^[UW][A-Z0-9]{2,20}$/.test(arg)) {
        this.user = arg;
        this.userId = arg;
      } else {
        this.write(`No such user ${JSON.stringify(arg)}. Users: ${Object.keys(SANDBOX_USERS).join(', ')}, or a Slack user ID (U…)\n`);
        return true;
      }
      this.write(`(you are now ${this.user})\n`);
      return true;
    }
    if (text.startsWith('/press')) {
      await this.press(text.slice(6).trim());
      await this.settle();
      return true;
    }
    if (text === '/dr' || text.startsWith('/dr ')) {
      this.write(`${this.user}: ${text}\n`);
      const reply = await this.stack.client.command({ user: this.userId, userName: this.user, channel: this.channel, text: text.slice(3).trim() });
      this.showReply(reply.status, reply.json, reply.raw);
      await this.settle();
      return true;
    }
    this.write(`Not a command. ${CHAT_HELP}\n`);
    return true;
  }

  private showReply(status: number, json: { text?: string; blocks?: unknown[] } | undefined, raw: string): void {
    if (status !== 200) {
      this.write(`[slack] request failed: HTTP ${status} ${raw.slice(0, 200)}\n`);
      return;
    }
    if (!json) return;
    const blocks = (Array.isArray(json.blocks) ? json.blocks : []) as Parameters<typeof renderBlocks>[0];
    const r = renderBlocks(blocks, json.text ?? '', this.userName, () => 0);
    this.write(`[drbot → only @${this.user}]\n${indent(r.text)}\n`);
  }

  private find(arg: string): Pressable | undefined {
    if (/^\d+$/.test(arg)) return this.pressables.get(Number(arg));
    const label = arg.toLowerCase();
    for (const key of [...this.recent].reverse()) {
      const [channel, ts] = key.split(':') as [string, string];
      const m = this.stack.standIn.message(channel, ts);
      if (!m) continue;
      for (const b of m.blocks) {
        if (b.type !== 'actions') continue;
        for (const el of b.elements) {
          if (el.type === 'button' && el.text.text.toLowerCase() === label) {
            const n = [...this.pressables.values()].find((p) => p.ts === ts && p.ref.action_id === el.action_id && p.ref.value === (el.value ?? ''));
            if (n) return n;
          }
        }
      }
    }
    return undefined;
  }

  private async press(arg: string): Promise<void> {
    const p = this.find(arg);
    const m = p ? this.stack.standIn.message(p.channel, p.ts) : undefined;
    const stillThere = m?.blocks.some((b) => b.type === 'actions' && b.elements.some((el) => el.type === 'button' && el.action_id === p?.ref.action_id && el.value === p?.ref.value));
    if (!p || !m || !stillThere) {
      this.write(`No button ${JSON.stringify(arg)} on screen.\n`);
      return;
    }
    this.write(`${this.user}: pressed [${p.number}] ${p.ref.text}${p.ref.action_id === 'run_approve' ? ' (and confirmed)' : ''}\n`);
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

  /** Reads lines until end of input; a terminal gets a prompt, a pipe is run line by line. */
  async run(input: Readable, interactive: boolean): Promise<void> {
    const rl = createInterface({ input, ...(interactive ? { output: process.stdout, prompt: this.prompt() } : {}), terminal: interactive });
    if (interactive) {
      this.write(`${CHAT_HELP}\n`);
      rl.prompt();
    }
    for await (const l of rl) {
      const more = await this.line(l);
      if (!more) break;
      if (interactive) {
        rl.setPrompt(this.prompt());
        rl.prompt();
      }
    }
    rl.close();
    await this.settle();
  }
}

const CHANNEL_NAMES: Record<string, string> = { [SANDBOX_CHANNEL]: 'dr-ops', [SANDBOX_ALERTS_CHANNEL]: 'dr-alerts', [SANDBOX_CRITICAL_CHANNEL]: 'dr-critical' };

function channelName(id: string): string {
  return CHANNEL_NAMES[id] ?? id;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
