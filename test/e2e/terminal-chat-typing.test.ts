import { PassThrough, Writable } from 'node:stream';
import { TerminalChat } from '../../src/local/chat';
import { localAlarms } from '../../src/local/alarms';
import { useLocalStack } from '../helpers/flow';

/**
 * The terminal chat in a terminal, as a person types into it: keystrokes go into readline while
 * the bot is still printing. What is typed must reach the bot as typed, and the bot's output must
 * be written above the prompt with the half-typed line redrawn below it.
 */

/** A terminal's output side: readline and the chat write escape sequences and text here. */
class FakeTty extends Writable {
  readonly isTTY = true;
  readonly columns = 200;
  readonly rows = 50;
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The text without escape sequences. */
function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`gave up waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Types one key at a time, as a person does (a multi-character chunk is taken as a paste). */
async function type(keys: PassThrough, text: string): Promise<void> {
  for (const k of text) {
    keys.write(k);
    await new Promise((r) => setImmediate(r));
  }
}

describe('terminal chat: typing while the bot prints', () => {
  const getStack = useLocalStack({ alarms: localAlarms });
  // readline redraws lines only on a capable terminal (not TERM=dumb, as under some CI shells).
  const term = process.env.TERM;
  beforeAll(() => {
    process.env.TERM = 'xterm-256color';
  });
  afterAll(() => {
    if (term === undefined) delete process.env.TERM;
    else process.env.TERM = term;
  });

  it('keeps a half-typed line intact while output arrives, and sends it as typed', async () => {
    // prepare
    const stack = getStack();
    const keys = new PassThrough();
    const tty = new FakeTty();
    const lines: string[] = [];
    const chat = new TerminalChat(stack, () => {}, { colour: false });
    const line = chat.line.bind(chat);
    chat.line = async (raw: string) => {
      lines.push(raw);
      return line(raw);
    };
    const done = chat.run(keys, true, tty);

    // act: a command that prints for a while, and the next one typed in two halves meanwhile
    await type(keys, '/dr status\r/dr au');
    await waitFor(() => plain(tty.text).includes('DR STATUS'), 'the status report');
    await stack.engine.idle();
    // The chat shows its prompt again once the command is done: the half-typed line is below it.
    await waitFor(() => /alice> \/dr au$/.test(plain(tty.text)), 'the prompt after the report');
    const before = tty.text.length;
    await type(keys, 'dit\r');
    await waitFor(() => plain(tty.text.slice(before)).includes('audit events (newest first)'), 'the audit');
    await type(keys, '/dr he');
    await stack.slackDeps.simulate?.('replication-lag', 'UALICE');
    await waitFor(() => plain(tty.text).includes('ALARM spawn-s3-replication-lag'), 'the alarm');
    await type(keys, 'lp\r');
    await waitFor(() => lines.length === 3, 'the third line');
    keys.end();
    await done;

    // assess
    expect(lines).toEqual(['/dr status', '/dr audit', '/dr help']);
    const screen = plain(tty.text);
    expect(screen).not.toContain('Not a command');
    expect(screen).toContain('alice: /dr audit');
    // The alarm was written above the prompt, and the half-typed line redrawn after it.
    const alarm = screen.lastIndexOf('ALARM spawn-s3-replication-lag');
    expect(screen.indexOf('alice> /dr he', alarm)).toBeGreaterThan(alarm);
    // Each write above the prompt starts by clearing the prompt line (ESC [2K or ESC [K … ESC [1G).
    expect(tty.text.slice(0, tty.text.indexOf('ALARM spawn-s3-replication-lag'))).toMatch(/\x1b\[2K\x1b\[1G\[drbot · #dr-alerts[^\n]*\n[^\n]*$/);
  }, 120_000);
});
