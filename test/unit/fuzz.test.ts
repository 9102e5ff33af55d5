import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import fc from 'fast-check';
import type { AlarmThread } from '../../src/alarms/model';
import { parseSnsEvent } from '../../src/alarms/parse';
import { renderAlarm, renderNotice } from '../../src/alarms/views';
import { loadConfigFile } from '../../src/config/load';
import { DrbotError, toUserMessage } from '../../src/errors';
import { CATALOGUE } from '../../src/runbooks/catalogue';
import { type Runbook, stoppedText } from '../../src/runbooks/driver';
import type { AnyRunInput, RunbookExport } from '../../src/runbooks/verb';
import { isVerb } from '../../src/runbooks/verb';
import { parseCommand } from '../../src/slack/parse';
import type { SlackMessage } from '../../src/slack/poster';
import { renderAudit } from '../../src/slack/views/audit';
import { renderHelp } from '../../src/slack/views/help';
import { renderRun } from '../../src/slack/views/run';
import { renderRuns } from '../../src/slack/views/runs';
import { threadFromNotification } from '../helpers/alarm-thread';

/*
 * Property-based fuzzing (issue 8): the parser and every view, fed generated hostile input, seeded
 * and reproducible (FUZZ_SEED to replay a failure). The parser never throws anything but our own
 * errors; nothing a user or an AWS event supplies reaches a message as a live mention, a link, a
 * line or paragraph separator, a bidi or zero-width control, or a code span left open.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const COMMANDS = Number(process.env.FUZZ_COMMANDS ?? 10_000);
const VIEWS = Number(process.env.FUZZ_VIEWS ?? 1_000);
const counts = { commands: 0, parsed: 0, refused: 0, views: 0 };

const config = loadConfigFile(join(__dirname, '../../drbot.config.example.yaml'));
const NOW = new Date('2026-12-01T12:00:00Z');

/** What people, clients and attackers put in a command. */
const HOSTILE = [
  '<!channel>', '<!here>', '&lt;!channel&gt;', '<@U0BOB>', '<#C0SPAWNOPS>', '<https://evil.example|click>', 'https://evil.example/x', 'mailto:a@b.c',
  '`', '```', 'a`b', '``', '*pre-approved by SecOps*', '_x_', '~y~', '>quote', '&amp;', '&', '<', '>',
  '\u2028', '\u2029', '\u0085', '\u202e', '\u200b', '\u2066', '\ufeff', '\n', '\r', '\t', '\u0000',
  '—prefix', '–since', '-x', '--', '---', '--dry-run', '--prefix', '--since', '--to', '--backup', '--latest', '--prune', '--from-replica', '--canary',
  '5m', '2h', '90d', '0m', '-5m', '2026-02-30', '2026-12-01T00:00:00Z', '1970-01-01', '9999-12-31', 'NaN', 'Infinity', '1e309', '-1', '0', '101', '99999999999999999999',
  '$LATEST', '1', 'ami-0123456789abcdef0', 'AKIAIOSFODNN7EXAMPLE', 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/01234567890123-abcdefgh',
  'spawn-binaries-us-east-1', 'spawn-results-us-east-1', 'spawn-instances', 'spawn-dns-updater', 'spawn-worker-00', 'Z1234567890ABC', 'us-west-2', 'us-east-1',
  'bin/', 'lib/', '../..', '/', '%00', '\\', '"', "'", '“', '‘', '😀', 'ῼ', 'x'.repeat(300), 'y'.repeat(2000),
];

const word = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

/** A token as typed: bare, or quoted when it holds white space. */
const typed = (t: string) => (/\s/.test(t) && !t.includes('"') ? `"${t}"` : t);

/** Commands shaped like ours (a catalogue command's words, then arguments and flags) and free text. */
const commandText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...CATALOGUE.commands), fc.array(fc.oneof(word, fc.constantFrom(...CATALOGUE.commands.flatMap((c) => Object.values(c.args).filter((d) => d.at === 'flag').map((d) => `--${d.name}`)))), { maxLength: 6 }))
      .map(([spec, args]) => [...spec.words, ...args.map(typed)].join(' ')),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.array(word, { maxLength: 50 }).map((ws) => ws.join(' ')) },
);

/** Characters no message may carry from input: controls (but \n between our own lines), separators, bidi, zero-width. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
/** Slack's live tokens; ours are user mentions of known ids, the configured channels, dates and archive links. */
const LIVE = /<[^>]*>/g;

function allowedToken(tok: string, mentions: ReadonlySet<string>): boolean {
  if (/^<!date\^\d+\^[^|>]*\|[^>]*>$/.test(tok)) return true;
  const user = /^<@([UW][A-Z0-9]{2,20})>$/.exec(tok)?.[1];
  if (user) return mentions.has(user);
  const channel = /^<#(C[A-Z0-9]{2,20})>$/.exec(tok)?.[1];
  if (channel) return Object.values(config.slack.channels).includes(channel);
  return /^<https:\/\/(slack\.com\/archives|console\.aws\.amazon\.com|[a-z0-9-]+\.console\.aws\.amazon\.com)\/[^|>\s]*(\|[^>]*)?>$/.test(tok);
}

/** Every text a message shows: its fallback text, sections and fields, context, buttons and their confirms (plain text marked: Slack forms no mention or link in it). */
function texts(msg: SlackMessage): { text: string; plain: boolean }[] {
  const out = [{ text: msg.text, plain: false }];
  const visit = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(visit);
    const o = v as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push({ text: o.text, plain: o.type === 'plain_text' });
    for (const [k, child] of Object.entries(o)) if (k !== 'value' && k !== 'url') visit(child);
  };
  visit(msg.blocks as KnownBlock[] | undefined);
  return out;
}

/** Throws with the offending text when a message breaks a rule. */
function assertSafe(msg: SlackMessage, mentions: ReadonlySet<string> = new Set()): void {
  counts.views++;
  for (const { text: t, plain } of texts(msg)) {
    const bad = FORBIDDEN.exec(t);
    if (bad) throw new Error(`forbidden U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(t.slice(0, 300))}`);
    if (plain) continue;
    for (const tok of t.match(LIVE) ?? []) if (!allowedToken(tok, mentions)) throw new Error(`live token ${JSON.stringify(tok)} in ${JSON.stringify(t.slice(0, 300))}`);
    // Our own preformatted blocks (``` at a line's start) hold raw text; everything else is checked line by line.
    for (const line of t.replace(/(^|\n)```[^]*?```/g, '$1').split('\n')) {
      if ((line.match(/`/g)?.length ?? 0) % 2 !== 0) throw new Error(`code span left open in ${JSON.stringify(line.slice(0, 300))} of ${JSON.stringify(t.slice(0, 600))}`);
    }
  }
}

/** The runbooks, loaded as the durable handler loads them (by the verb's id). */
const runbooks = new Map<string, RunbookExport<AnyRunInput>>();
beforeAll(async () => {
  for (const spec of CATALOGUE.commands.filter(isVerb)) {
    const mod = (await import(`../../src/runbooks/${spec.id}/runbook`)) as { runbook: RunbookExport<AnyRunInput> };
    runbooks.set(spec.id, mod.runbook);
  }
});

function titleOf(input: AnyRunInput): string {
  const exp = runbooks.get(input.kind);
  if (!exp) throw new Error(`no runbook for ${input.kind}`);
  const rb = (typeof exp === 'function' ? exp(input) : exp) as Runbook<AnyRunInput, unknown>;
  return rb.title(input);
}

afterAll(() => {
  // The suite's own figures, for the CI log.
  console.log(`fuzz (seed ${SEED}): ${counts.commands} commands (${counts.parsed} parsed, ${counts.refused} refused), ${counts.views} messages checked, 0 unsafe`);
});

describe('fuzzing the command parser', () => {
  it(`parses ${COMMANDS.toLocaleString('en-US')} generated commands: only our own refusals, safe in words and in the run's title`, () => {
    fc.assert(
      fc.property(commandText, (text) => {
        counts.commands++;
        let parsed;
        try {
          parsed = parseCommand(text, config, NOW);
        } catch (e) {
          if (!(e instanceof DrbotError)) throw new Error(`${String(e)} for ${JSON.stringify(text)}`);
          counts.refused++;
          // Our words around the user's: one line of message (the hint is ours), no live token, spans closed.
          if (/[\n\r]/.test(e.message)) throw new Error(`line break in ${JSON.stringify(e.message)}`);
          assertSafe({ text: toUserMessage(e, 'req-1') });
          return;
        }
        counts.parsed++;
        if (!isVerb(parsed.spec)) return;
        const input = { ...parsed.spec.input(parsed.args), runId: 'r-000000000000', requester: 'U0ALICE', channel: 'C0SPAWNOPS', commandText: `/dr ${text}`, requestedAt: NOW.toISOString(), kind: parsed.spec.id } as AnyRunInput;
        const title = titleOf(input);
        if (/[\n\r]/.test(title)) throw new Error(`line break in the title ${JSON.stringify(title)}`);
        assertSafe(renderRun({ runId: input.runId, title, requester: 'U0ALICE', phase: 'planning' }), new Set(['U0ALICE']));
      }),
      { seed: SEED, numRuns: COMMANDS },
    );
  });

  it('shows every command\'s own help (list and detail) with no live token: placeholders like <table> are escaped', () => {
    assertSafe(renderHelp({ sandbox: true, catalogue: CATALOGUE }));
    for (const c of CATALOGUE.commands) assertSafe(renderHelp({ sandbox: true, catalogue: CATALOGUE, topic: [...c.words] }));
  });

  it('answers /dr help TOPIC safely for any topic', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), (topic) => {
        assertSafe(renderHelp({ sandbox: true, catalogue: CATALOGUE, topic }));
      }),
      { seed: SEED, numRuns: VIEWS },
    );
  });
});

describe('fuzzing the views with hostile stored and AWS-supplied text', () => {
  const text = fc.array(word, { minLength: 1, maxLength: 8 }).map((ws) => ws.join(' '));
  const users = new Set(['U0ALICE', 'U0BOB']);

  it('renders a run whose title, failures and error hold hostile text', () => {
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 25 }), text, (title, failures, error) => {
        // Failures are plain text (the view escapes them); an unexpected error's words go through the driver's stoppedText.
        assertSafe(renderRun({ runId: 'r-000000000000', title, requester: 'U0ALICE', phase: 'failed', failures, error: stoppedText(error, 'r-000000000000'), next: [{ label: title, command: 'status' }] }), users);
      }),
      { seed: SEED, numRuns: VIEWS },
    );
  });

  it('renders /dr audit and /dr runs whose entries hold hostile commands and details', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text, fc.constantFrom('U0ALICE', 'system', '<@U0EVE>')), { minLength: 1, maxLength: 30 }), (rows) => {
        const at = NOW.toISOString();
        assertSafe(renderAudit(rows.map(([target, detail, actor], i) => ({ id: `a-${i}`, at, actor, action: 'command', target, result: 'refused' as const, detail })), 30), users);
        assertSafe(
          renderRuns(rows.map(([commandText, summary], i) => ({ id: `r-00000000000${i % 10}`, kind: 'restore-s3', requester: 'U0ALICE', commandText, channel: 'C0SPAWNOPS', ts: '1.2', status: 'failed' as const, createdAt: at, updatedAt: at, summary }))),
          users,
        );
      }),
      { seed: SEED, numRuns: VIEWS },
    );
  });

  it('renders alarm messages whose name, reason and description hold hostile text', () => {
    const raw = JSON.parse(readFileSync(join(__dirname, '../fixtures/events/sns-cloudwatch-alarm.json'), 'utf8')) as { Records: { Sns: { Message: string } }[] };
    fc.assert(
      fc.property(text, text, text, (name, reason, description) => {
        const event = structuredClone(raw);
        const record = event.Records[0];
        if (!record) throw new Error('fixture has no record');
        const msg = JSON.parse(record.Sns.Message) as Record<string, unknown>;
        record.Sns.Message = JSON.stringify({ ...msg, AlarmName: name.slice(0, 255), NewStateReason: reason, AlarmDescription: description });
        for (const n of parseSnsEvent(event).records) {
          if (n.type === 'alarm') assertSafe(renderAlarm({ ...threadFromNotification(n), version: 1, renderedVersion: 0 } as AlarmThread), users);
          else if (n.type === 'notice') assertSafe(renderNotice(n), users);
        }
      }),
      { seed: SEED, numRuns: VIEWS },
    );
  });
});
