import { DrbotError, toUserMessage, UnknownResourceError, UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { ArgValues } from '../../src/runbooks/args';
import { CATALOGUE } from '../../src/runbooks/catalogue';
import type { CommandSpec } from '../../src/runbooks/verb';
import { escapeMrkdwn, MAX_COMMAND_CHARS, parseCommand, quote, tokenize } from '../../src/slack/parse';

const NOW = new Date('2026-01-27T12:00:00.000Z');
const BUCKET = 'spawn-binaries-us-east-1';
const RESTORE_USAGE = '/dr restore s3 BUCKET [--prefix P] [--since TIME|DURATION] [--from-replica] [--dry-run]';

/** The parse as one flat object: the command's id and spec beside its arguments. */
type Flat = Record<string, ArgValues[string] | CommandSpec> & { id: string; spec: CommandSpec };
function parse(text: string): Flat {
  const { spec, args } = parseCommand(text, SANDBOX_CONFIG, NOW);
  return { ...args, id: spec.id, spec };
}

/** The error a command is refused with; fails the test if it parses. */
function refusal(text: string): DrbotError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof DrbotError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text.slice(0, 80))} to be refused, but it parsed`);
}

/** What the user would see for a refusal (message, hint and ref). */
function shown(text: string): string {
  return toUserMessage(refusal(text), 'ref-1');
}

describe('parseCommand: commands that parse', () => {
  it('treats empty text and `help` as help, in any case', () => {
    // act
    const empty = parse('   ');
    const help = parse('HeLp');

    // assess
    expect(empty.id).toBe('help');
    expect(empty).toMatchObject({ topic: [] });
    expect(help.id).toBe('help');
    expect(help.spec.usage).toBe('/dr help [VERB…]');
    expect(help).toMatchObject({ topic: [] });
  });

  it('takes the words after help as the topic, in lower case', () => {
    // act
    const topic = parse('help Restore S3');

    // assess
    expect(topic).toMatchObject({ id: 'help', topic: ['restore', 's3'] });
  });

  it('parses status', () => {
    // act
    const parsed = parse('status');

    // assess
    expect(parsed).toMatchObject({ id: 'status', spec: { role: 'viewer' } });
  });

  it('parses audit with the default of 10 and with an explicit N', () => {
    // act
    const dflt = parse('audit');
    const twenty = parse('audit 20');
    const bounds = [parse('audit 1'), parse('audit 100')];

    // assess
    expect(dflt).toMatchObject({ id: 'audit', count: 10 });
    expect(twenty).toMatchObject({ id: 'audit', count: 20 });
    expect(bounds.map((b) => (b.id === 'audit' ? b.count : undefined))).toEqual([1, 100]);
  });

  it('parses restore s3 with only a bucket: undelete everything, not a dry run', () => {
    // act
    const parsed = parse(`restore s3 ${BUCKET}`);

    // assess
    expect(parsed).toEqual(expect.objectContaining({ id: 'restore-s3', bucket: BUCKET, fromReplica: false, dryRun: false }));
    expect(parsed).not.toHaveProperty('prefix');
    expect(parsed).not.toHaveProperty('since');
  });

  it('turns --since DURATION into an ISO time that far before now', () => {
    // act
    const minutes = parse(`restore s3 ${BUCKET} --since 30m`);
    const hours = parse(`restore s3 ${BUCKET} --prefix bin/ --since 2h`);
    const days = parse(`restore s3 ${BUCKET} --since 400d`);

    // assess
    expect(minutes).toMatchObject({ since: '2026-01-27T11:30:00.000Z' });
    expect(hours).toMatchObject({ prefix: 'bin/', since: '2026-01-27T10:00:00.000Z' });
    expect(days).toMatchObject({ since: new Date(NOW.getTime() - 400 * 86_400_000).toISOString() });
  });

  it('accepts --since as an ISO time, with Z, with an offset, or as a date', () => {
    // act
    const zulu = parse(`restore s3 ${BUCKET} --since 2026-01-27T10:30:00Z`);
    const offset = parse(`restore s3 ${BUCKET} --since 2026-01-27T10:30:00+01:00`);
    const date = parse(`restore s3 ${BUCKET} --since 2026-01-20`);

    // assess
    expect(zulu).toMatchObject({ since: '2026-01-27T10:30:00.000Z' });
    expect(offset).toMatchObject({ since: '2026-01-27T09:30:00.000Z' });
    expect(date).toMatchObject({ since: '2026-01-20T00:00:00.000Z' });
  });

  it('parses --from-replica and --dry-run as booleans', () => {
    // act
    const parsed = parse(`restore s3 ${BUCKET} --from-replica --dry-run`);

    // assess
    expect(parsed).toMatchObject({ id: 'restore-s3', bucket: BUCKET, fromReplica: true, dryRun: true });
  });

  it('accepts the --flag=value form and flags in upper case', () => {
    // act
    const parsed = parse(`restore s3 ${BUCKET} --prefix=bin/x86/ --SINCE=7d --DRY-RUN`);

    // assess
    expect(parsed).toMatchObject({ prefix: 'bin/x86/', since: '2026-01-20T12:00:00.000Z', dryRun: true });
  });

  it('accepts flags before the bucket', () => {
    // act
    const parsed = parse(`restore s3 --dry-run ${BUCKET}`);

    // assess
    expect(parsed).toMatchObject({ bucket: BUCKET, dryRun: true });
  });

  it('parses backup dynamodb with no table (all of them), one, and several, dropping duplicates', () => {
    // act
    const none = parse('backup dynamodb');
    const one = parse('backup dynamodb spawn-instances --dry-run');
    const several = parse('backup dynamodb spawn-instances spawn-queues spawn-instances spawn-alerts');

    // assess
    expect(none).toMatchObject({ id: 'backup-dynamodb', tables: [], dryRun: false });
    expect(one).toMatchObject({ id: 'backup-dynamodb', tables: ['spawn-instances'], dryRun: true });
    expect(several).toMatchObject({ tables: ['spawn-instances', 'spawn-queues', 'spawn-alerts'] });
  });

  it('takes values in “curly” and "double" quotes as one word, spaces included', () => {
    // act
    const curly = parse(`restore s3 ${BUCKET} --prefix “daily logs/”`);
    const double = parse(`restore s3 ${BUCKET} --prefix "daily logs/"`);
    const joined = parse(`restore s3 ${BUCKET} --prefix="a b c/"`);

    // assess
    expect(curly).toMatchObject({ prefix: 'daily logs/' });
    expect(double).toMatchObject({ prefix: 'daily logs/' });
    expect(joined).toMatchObject({ prefix: 'a b c/' });
  });

  it('accepts a command Slack sent with & escaped', () => {
    // act
    const parsed = parse(`restore s3 ${BUCKET} --prefix "a&amp;b/"`);

    // assess
    expect(parsed).toMatchObject({ prefix: 'a&b/' });
  });

  it('parses the example of every command in the catalogue', () => {
    // prepare
    const examples = CATALOGUE.commands.map((c) => ({ id: c.id, text: c.example.replace(/^\/dr\s*/, '') }));

    // act
    const parsed = examples.map((e) => parse(e.text).id);

    // assess
    expect(parsed).toEqual(examples.map((e) => e.id));
  });
});

describe('parseCommand: bad input', () => {
  it('refuses an unknown subcommand and suggests the nearest one', () => {
    // act
    const typo = refusal('restor s3 x');
    const alone = refusal('restore');
    const nothingNear = refusal('xyzzy');

    // assess
    expect(typo).toBeInstanceOf(UsageError);
    expect(typo.message).toContain('unknown command `restor s3`');
    expect(typo.message).toContain(`Did you mean: \`${RESTORE_USAGE}\``);
    expect(alone.message).toContain(`Did you mean: \`${RESTORE_USAGE}\``);
    expect(nothingNear.message).toBe('unknown command `xyzzy`.');
    expect(shown('frobnicate').match(/\/dr help/g)).toHaveLength(1);
  });

  it('refuses restore s3 without BUCKET and shows the usage', () => {
    // act
    const e = refusal('restore s3 --dry-run');

    // assess
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('BUCKET is missing.');
    expect((e as UsageError).usage).toBe(RESTORE_USAGE);
    expect(e.hint).toBe(`Usage: \`${RESTORE_USAGE}\``);
  });

  it('refuses extra arguments, naming them', () => {
    // act
    const one = refusal('status now');
    const two = refusal(`restore s3 ${BUCKET} spawn-logs-us-east-1 more`);

    // assess
    expect(one.message).toBe('unexpected argument `now`.');
    expect((one as UsageError).usage).toBe('/dr status');
    expect(two.message).toBe('unexpected arguments `spawn-logs-us-east-1` `more`.');
  });

  it('refuses an unknown flag and lists the flags the command takes', () => {
    // act
    const restore = refusal(`restore s3 ${BUCKET} --force`);
    const status = refusal('status --verbose');

    // assess
    expect(restore.message).toBe('unknown flag `--force` for `/dr restore s3`. Flags: --prefix, --since, --from-replica, --dry-run.');
    expect(status.message).toBe('unknown flag `--verbose` for `/dr status`. It takes no flags.');
  });

  it('refuses a single-hyphen flag', () => {
    // act
    const e = refusal(`restore s3 ${BUCKET} -n`);

    // assess
    expect(e.message).toBe('`-n` is not a flag; flags start with --.');
  });

  it('refuses a flag given twice', () => {
    // act
    const boolean = refusal(`restore s3 ${BUCKET} --dry-run --dry-run`);
    const valued = refusal(`restore s3 ${BUCKET} --prefix a/ --prefix=b/`);

    // assess
    expect(boolean.message).toBe('--dry-run is given twice.');
    expect(valued.message).toBe('--prefix is given twice.');
  });

  it('refuses a value on a boolean flag', () => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --dry-run=yes`);

    // assess
    expect(e.message).toBe('--dry-run takes no value.');
    expect((e as UsageError).usage).toBe(RESTORE_USAGE);
  });

  it.each([
    ['at the end', `restore s3 ${BUCKET} --prefix`],
    ['before another flag', `restore s3 ${BUCKET} --since --dry-run`],
    ['empty after =', `restore s3 ${BUCKET} --prefix=`],
  ])('refuses a value flag without a value (%s)', (_case, text) => {
    // act
    const e = refusal(text);

    // assess
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/^--(prefix|since) needs a value\.$/);
  });

  it('refuses --since in the future', () => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --since 2026-01-27T12:00:01Z`);

    // assess
    expect(e.message).toBe('--since `2026-01-27T12:00:01Z` is in the future.');
  });

  it('refuses --since of zero length', () => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --since 0h`);

    // assess
    expect(e.message).toBe('--since must be longer than 0.');
  });

  it.each(['401d', '9601h', '576001m', '999999d'])('refuses --since %s, more than 400 days back', (value) => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --since ${value}`);

    // assess
    expect(e.message).toBe('--since may go back at most 400 days.');
  });

  it.each(['yesterday', '2h30m', '-2h', '1234567d', '2026/01/27'])('refuses --since %s as neither a time nor a duration', (value) => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --since=${value}`);

    // assess
    expect(e.message).toContain('--since takes an ISO time (2026-01-27T10:30:00Z) or a duration (30m, 2h, 7d)');
    expect(e.message).toContain(quote(value));
  });

  it('refuses an ISO-shaped --since that is not a real time', () => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --since 2026-13-45`);

    // assess
    expect(e.message).toBe('--since `2026-13-45` is not a valid time.');
  });

  it('refuses --since together with --from-replica', () => {
    // act
    const e = refusal(`restore s3 ${BUCKET} --from-replica --since 2h`);

    // assess
    expect(e.message).toBe('--since and --from-replica cannot be used together.');
    expect((e as UsageError).usage).toBe(RESTORE_USAGE);
  });

  it('refuses an unknown bucket and lists the known ones', () => {
    // act
    const e = refusal('restore s3 spawn-nope-us-east-1');

    // assess
    expect(e).toBeInstanceOf(UnknownResourceError);
    expect(e.code).toBe('unknown_bucket');
    expect(e.message).toBe(
      'Unknown bucket `spawn-nope-us-east-1`. Known: `spawn-binaries-us-east-1`, `spawn-results-us-east-1`, `spawn-logs-us-east-1`.',
    );
  });

  it.each(['Spawn-Binaries', 'ab', 'bucket_with_underscore', 'ends-with-hyphen-'])('refuses %s as an invalid bucket name', (name) => {
    // act
    const e = refusal(`restore s3 ${name}`);

    // assess
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe(`${quote(name)} is not a valid S3 bucket name.`);
  });

  it('refuses an unknown table and lists the known ones', () => {
    // act
    const e = refusal('backup dynamodb spawn-instances spawn-nope');

    // assess
    expect(e).toBeInstanceOf(UnknownResourceError);
    expect(e.code).toBe('unknown_table');
    expect(e.message).toBe('Unknown table `spawn-nope`. Known: `spawn-instances`, `spawn-queues`, `spawn-alerts`.');
  });

  it('refuses a table name DynamoDB would not accept', () => {
    // act
    const e = refusal('backup dynamodb x');

    // assess
    expect(e.message).toBe('`x` is not a valid DynamoDB table name.');
  });

  it.each([
    ['0', 'N must be from 1 to 100, not 0.'],
    ['101', 'N must be from 1 to 100, not 101.'],
    ['abc', 'N must be a whole number from 1 to 100, not `abc`.'],
    ['1000', 'N must be a whole number from 1 to 100, not `1000`.'],
    ['2.5', 'N must be a whole number from 1 to 100, not `2.5`.'],
  ])('refuses audit %s', (n, message) => {
    // act
    const e = refusal(`audit ${n}`);

    // assess
    expect(e.message).toBe(message);
    expect((e as UsageError).usage).toBe('/dr audit [N]');
  });

  it('refuses an unterminated quote', () => {
    // act
    const straight = refusal(`restore s3 ${BUCKET} --prefix "logs/`);
    const curly = refusal(`restore s3 ${BUCKET} --prefix “logs/`);

    // assess
    expect(straight.message).toBe('a quote is not closed.');
    expect(curly.message).toBe('a quote is not closed.');
  });

  it.each([
    ['an em dash', '—dry-run'],
    ['an en dash', '–since 2h'],
  ])('explains a flag whose hyphens became %s', (_case, flag) => {
    // act
    const e = refusal(`restore s3 ${BUCKET} ${flag}`);

    // assess
    expect(e.message).toContain('flags start with two hyphens (--); your client may have turned them into a dash.');
    expect(e.message.startsWith(quote(flag.split(' ')[0] ?? ''))).toBe(true);
  });

  it.each([
    ['a user mention', 'restore s3 <@U123>'],
    ['a user mention with a name', 'restore s3 <@U123|alice>'],
    ['@channel', 'status <!channel>'],
    ['@here', 'audit <!here>'],
    ['a channel', 'restore s3 <#C1|x>'],
    ['a link', 'restore s3 <https://evil.example/x|spawn-binaries-us-east-1>'],
    ["a mention in Slack's escaped form", 'restore s3 &lt;@U123&gt;'],
    ["@channel in Slack's escaped form", 'status &lt;!channel&gt;'],
  ])('refuses %s as an argument', (_case, text) => {
    // act
    const e = refusal(text);

    // assess
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('mentions, channels and links are not arguments to /dr; name resources as plain text.');
  });

  it.each([
    ['a bell', 'status\u0007'],
    ['a NUL', 'restore s3 spawn-binaries\u0000-us-east-1'],
    ['an escape sequence', 'status \u001b[31m'],
    ['a carriage return', 'sta\rtus'],
    ['DEL', 'status\u007f'],
    ['a zero-width space', 'restore s3 spawn-binaries-us-east-1\u200b'],
    ['a zero-width joiner', 'sta\u200dtus'],
    ['a right-to-left mark', 'status\u200f'],
    ['a right-to-left override', 'restore s3 \u202e1-tsae-su-seiranib-nwaps'],
    ['a first-strong isolate', 'status \u2068x\u2069'],
  ])('refuses %s', (_case, text) => {
    // act
    const e = refusal(text);

    // assess
    expect(e.message).toBe('the command contains control or invisible characters; type it again by hand.');
  });

  // Regression: U+2060 WORD JOINER is zero-width and invisible, and was once missing from the
  // filter, so the bucket below was shown back to the user as if it were a valid name.
  it('refuses the zero-width word joiner (U+2060) like the other invisible characters', () => {
    // act
    const e = refusal('restore s3 spawn-binaries-us-east-1\u2060');

    // assess
    expect(e.message).toBe('the command contains control or invisible characters; type it again by hand.');
  });

  it('refuses emoji where a name is expected, quoting them back', () => {
    // act
    const bucket = refusal('restore s3 🔥');
    const extra = refusal('status 🚒');

    // assess
    expect(bucket.message).toBe('`🔥` is not a valid S3 bucket name.');
    expect(extra.message).toBe('unexpected argument `🚒`.');
  });

  it('refuses 10 kB of junk with its length, before looking at it', () => {
    // prepare
    const junk = Array.from({ length: 10_240 }, (_, i) => 'a<`@!&\u0000 '.charAt(i % 8)).join('');

    // act
    const e = refusal(junk);

    // assess
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe(`that command is 10,240 characters long; the limit is ${MAX_COMMAND_CHARS.toLocaleString('en-US')}.`);
  });

  it('accepts exactly MAX_COMMAND_CHARS characters and refuses one more', () => {
    // prepare
    const pad = (n: number) => `restore s3 ${BUCKET} --prefix ${'p'.repeat(n - `restore s3 ${BUCKET} --prefix `.length)}`;

    // act
    const atLimit = parse(pad(MAX_COMMAND_CHARS));
    const over = refusal(pad(MAX_COMMAND_CHARS + 1));

    // assess
    expect(atLimit.id).toBe('restore-s3');
    expect(over.message).toContain(`${(MAX_COMMAND_CHARS + 1).toLocaleString('en-US')} characters long`);
  });

  it('refuses 41 words and accepts 40', () => {
    // prepare
    const words = (n: number) => ['backup', 'dynamodb', ...Array.from({ length: n - 2 }, () => 'spawn-instances')].join(' ');

    // act
    const forty = parse(words(40));
    const fortyOne = refusal(words(41));

    // assess
    expect(forty).toMatchObject({ id: 'backup-dynamodb', tables: ['spawn-instances'] });
    expect(fortyOne.message).toBe('too many words (41); see `/dr help`.');
  });

  it.each([
    ['__proto__', 'unknown command `__proto__`.'],
    ['constructor', 'unknown command `constructor`.'],
    ['toString', 'unknown command `toString`.'],
  ])('refuses the prototype word %s as a command', (word, start) => {
    // act
    const e = refusal(word);

    // assess
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message.startsWith(start)).toBe(true);
  });

  it('refuses prototype words as flags, tables and counts', () => {
    // act
    const flag = refusal(`restore s3 ${BUCKET} --__proto__`);
    const flagValue = refusal(`restore s3 ${BUCKET} --constructor=x`);
    const table = refusal('backup dynamodb __proto__');
    const ctor = refusal('backup dynamodb constructor');
    const count = refusal('audit __proto__');

    // assess
    expect(flag.message).toContain('unknown flag `--__proto__`');
    expect(flagValue.message).toContain('unknown flag `--constructor`');
    expect(table.code).toBe('unknown_table');
    expect(ctor.code).toBe('unknown_table');
    expect(count.message).toBe('N must be a whole number from 1 to 100, not `__proto__`.');
  });

  it.each([
    'restore s3 a`b',
    'restore s3 spawn-binaries-us-east-1 --since `rm -rf`',
    'restore s3 spawn-binaries-us-east-1 --<b>bold</b>',
    'restore s3 spawn-binaries-us-east-1 --since "<script>"',
    'fo<o`bar',
    'audit <b>',
    'audit ```',
    'backup dynamodb a<b>c',
    'restore s3 spawn-binaries-us-east-1 extra`<!channel'.replace('<!', '&lt;!'),
    'status `&lt;`',
    `restore s3 ${'`<'.repeat(100)}`,
  ])('never echoes a raw < or an unbalanced backtick for %j', (text) => {
    // act
    const message = shown(text);

    // assess
    expect(message).not.toContain('<');
    expect(message.split('`').length % 2).toBe(1);
  });
});

describe('parseCommand: the rules behind the refusals, at their edges', () => {
  it('suggests only the commands whose first word starts with the same two letters, in any case', () => {
    // act
    const one = refusal('STATU');
    const two = refusal('st');
    const several = refusal('drll');
    const single = refusal('s');

    // assess
    expect(one.message).toBe('unknown command `STATU`. Did you mean: `/dr status`?');
    expect(two.message).toBe('unknown command `st`. Did you mean: `/dr status`?');
    const drills = ['drill', 'drill cleanup', 'drill history'].map((w) => `\`${CATALOGUE.find(w.split(' '))?.usage ?? w}\``);
    expect(several.message).toBe(`unknown command \`drll\`. Did you mean: ${drills.join(' or ')}?`);
    expect(single.message).toBe('unknown command `s`.');
  });

  it('takes a lone hyphen as a word, not a flag', () => {
    // act
    const e = refusal('restore s3 -');

    // assess
    expect(e.message).toBe('`-` is not a valid S3 bucket name.');
  });

  it('accepts a command pasted with a trailing line break (CRLF)', () => {
    // act
    const parsed = parse('status\r\n');

    // assess
    expect(parsed.id).toBe('status');
  });

  // Each end of every range the control/invisible filter names, inside a word (not at an end,
  // where trim would take white space away first).
  it.each([
    '\u0000', '\u0008', '\u000b', '\u000c', '\u001f', '\u007f', '\u0085', '\u009b', '\u009f', '\u2028', '\u2029',
    '\u200b', '\u200f', '\u202a', '\u202e', '\u2060', '\u2064', '\u2066', '\u2069', '\ufeff',
  ].map((ch) => [(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0'), ch]))('refuses U+%s inside a command', (_code, ch) => {
    // act
    const e = refusal(`restore s3 spawn-binaries${ch}-us-east-1`);

    // assess
    expect(e.message).toBe('the command contains control or invisible characters; type it again by hand.');
  });

  it.each([
    ['an http link', 'restore s3 <http://evil.example|spawn-binaries-us-east-1>'],
    ['a tel link', 'restore s3 <tel:+15555550100|call>'],
    ['a slack: link', 'restore s3 <slack://open|x>'],
    ['a mention with nothing after it', 'status <@>'],
  ])('refuses %s with the links message', (_case, text) => {
    // act
    const e = refusal(text);

    // assess
    expect(e.message).toBe('mentions, channels and links are not arguments to /dr; name resources as plain text.');
  });

  it('refuses a quoted value that spans lines with the line-break message, not as a bad name', () => {
    // act
    const e = refusal('backup dynamodb "spawn-\ninstances"');

    // assess
    expect(e.message).toBe('arguments cannot contain line breaks or tabs.');
  });
});

describe('tokenize', () => {
  it('splits on any white space and honours single, double and curly quotes', () => {
    // act
    const tokens = tokenize(`a\tb  "c d" 'e f' “g h” ‘i j’ k"l m"n`);

    // assess
    expect(tokens).toEqual(['a', 'b', 'c d', 'e f', 'g h', 'i j', 'kl mn']);
  });

  it('keeps an empty quoted word', () => {
    // act
    const tokens = tokenize('a "" b');

    // assess
    expect(tokens).toEqual(['a', '', 'b']);
  });
});

describe('quote and escapeMrkdwn', () => {
  it('escapes &, < and > the way Slack does', () => {
    // act
    const escaped = escapeMrkdwn('<!channel> & <@U1>');

    // assess
    expect(escaped).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });

  it('wraps a value in backticks, replacing backticks inside it and cutting it at 60 characters', () => {
    // act
    const ticks = quote('a`b``c');
    const long = quote('x'.repeat(100));
    const mention = quote('<!here>');

    // assess
    expect(ticks).toBe("`a'b''c`");
    expect(long).toBe('`' + 'x'.repeat(60) + '…`');
    expect(mention).toBe('`&lt;!here&gt;`');
  });
});

describe('parseCommand: arguments that could forge what an approver reads', () => {
  it.each([
    ['a quoted prefix spanning lines', 'restore s3 spawn-binaries-us-east-1 --prefix "bin/\n• *0* objects will be restored"'],
    ['a quoted prefix with a tab', 'restore s3 spawn-binaries-us-east-1 --prefix "bin/\tx"'],
  ])('refuses %s', (_what, text) => {
    // Act
    const run = () => parseCommand(text, SANDBOX_CONFIG, NOW);
    // Assess
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/line breaks or tabs/);
  });

  it.each([
    ['an upper-case link', 'restore s3 spawn-binaries-us-east-1 --prefix <HTTPS://evil.example|Approve>'],
    ['a mailto link', 'restore s3 spawn-binaries-us-east-1 --prefix <mailto:a@b.example|x>'],
  ])('refuses %s like any other link', (_what, text) => {
    expect(() => parseCommand(text, SANDBOX_CONFIG, NOW)).toThrow(/mentions, channels and links/);
  });
});
