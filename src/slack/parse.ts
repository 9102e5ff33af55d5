import type { DrConfig } from '../config/schema';
import { UnknownResourceError, UsageError } from '../errors';
import { escapeMrkdwn } from './views/format';
import { ALARM_SIMULATIONS, type AlarmSimulation, type ArgKind, COMMANDS, type CommandSpec } from './registry';

/** Slack allows 4,000 characters of command text; anything near that is not a DR command. */
export const MAX_COMMAND_CHARS = 1000;
const MAX_TOKENS = 40;
const MAX_SINCE_DAYS = 400;

export type ParsedCommand =
  | { id: 'help'; spec: CommandSpec; topic?: string }
  | { id: 'status'; spec: CommandSpec }
  | { id: 'audit'; spec: CommandSpec; count: number }
  | {
      id: 'restore-s3';
      spec: CommandSpec;
      bucket: string;
      prefix?: string;
      /** ISO time: only delete markers newer than this. */
      since?: string;
      fromReplica: boolean;
      dryRun: boolean;
    }
  | { id: 'backup-dynamodb'; spec: CommandSpec; tables: string[]; dryRun: boolean }
  | { id: 'simulate-alarm'; spec: CommandSpec; kind: AlarmSimulation };

/** Slack sends &, < and > escaped; undo that so we validate what the user typed. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Shows a user-typed value inside an error message without letting it ping or format anything. */
export function quote(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return '`' + escapeMrkdwn(cut.replace(/`/g, "'")) + '`';
}

export { escapeMrkdwn };

/** Splits on white space, honouring "double", 'single' and “curly” quotes. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let inToken = false;
  let quoteChar: string | null = null;
  const closing: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’' };
  for (const ch of text) {
    if (quoteChar) {
      if (ch === quoteChar) quoteChar = null;
      else cur += ch;
      continue;
    }
    if (ch in closing) {
      quoteChar = closing[ch] ?? ch;
      inToken = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inToken) tokens.push(cur);
      cur = '';
      inToken = false;
      continue;
    }
    cur += ch;
    inToken = true;
  }
  if (quoteChar) throw new UsageError('a quote is not closed.');
  if (inToken) tokens.push(cur);
  return tokens;
}

function findSpec(words: string[]): CommandSpec | undefined {
  return [...COMMANDS]
    .sort((a, b) => b.words.length - a.words.length)
    .find((c) => c.words.every((w, i) => words[i]?.toLowerCase() === w));
}

function suggestion(words: string[]): string {
  const first = words[0]?.toLowerCase() ?? '';
  const near = COMMANDS.filter((c) => c.words[0] === first || (first.length >= 2 && c.words[0]?.startsWith(first.slice(0, 2))));
  if (near.length) return `Did you mean: ${near.map((c) => `\`${c.usage}\``).join(' or ')}?`;
  return 'Try `/dr help` for the list.';
}

function parseSince(value: string, now: Date, usage: string): string {
  const dur = /^(\d{1,6})([mhd])$/.exec(value);
  if (dur) {
    const n = Number(dur[1]);
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[dur[2] as 'm' | 'h' | 'd'];
    if (n === 0) throw new UsageError('--since must be longer than 0.', usage);
    if (n * unitMs > MAX_SINCE_DAYS * 86_400_000) throw new UsageError(`--since may go back at most ${MAX_SINCE_DAYS} days.`, usage);
    return new Date(now.getTime() - n * unitMs).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const t = Date.parse(value.replace(' ', 'T'));
    if (Number.isNaN(t)) throw new UsageError(`--since ${quote(value)} is not a valid time.`, usage);
    if (t > now.getTime()) throw new UsageError(`--since ${quote(value)} is in the future.`, usage);
    return new Date(t).toISOString();
  }
  throw new UsageError(`--since takes an ISO time (2026-01-27T10:30:00Z) or a duration (30m, 2h, 7d), not ${quote(value)}.`, usage);
}

interface RawArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

function splitArgs(spec: CommandSpec, tokens: string[]): RawArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] ?? '';
    if (tok.startsWith('—') || tok.startsWith('–')) {
      throw new UsageError(`${quote(tok)}: flags start with two hyphens (--); your client may have turned them into a dash.`, spec.usage);
    }
    if (!tok.startsWith('-') || tok === '-') {
      positionals.push(tok);
      continue;
    }
    if (!tok.startsWith('--')) throw new UsageError(`${quote(tok)} is not a flag; flags start with --.`, spec.usage);
    const eq = tok.indexOf('=');
    const name = (eq > 0 ? tok.slice(2, eq) : tok.slice(2)).toLowerCase();
    const flag = spec.flags.find((f) => f.name === name);
    if (!flag) {
      const known = spec.flags.map((f) => `--${f.name}`).join(', ');
      throw new UsageError(`unknown flag ${quote(`--${name}`)} for \`/dr ${spec.words.join(' ')}\`.${known ? ` Flags: ${known}.` : ' It takes no flags.'}`, spec.usage);
    }
    if (flags.has(name)) throw new UsageError(`--${name} is given twice.`, spec.usage);
    if (flag.kind === 'boolean') {
      if (eq > 0) throw new UsageError(`--${name} takes no value.`, spec.usage);
      flags.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = tok.slice(eq + 1);
    else {
      value = tokens[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value.`, spec.usage);
      i++;
    }
    if (value === '') throw new UsageError(`--${name} needs a value.`, spec.usage);
    flags.set(name, value);
  }
  for (const [a, b] of spec.conflicts ?? []) {
    if (flags.has(a) && flags.has(b)) throw new UsageError(`--${a} and --${b} cannot be used together.`, spec.usage);
  }
  return { positionals, flags };
}

function checkValue(kind: ArgKind, value: string, spec: CommandSpec, cfg: DrConfig): void {
  switch (kind) {
    case 'bucket': {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) throw new UsageError(`${quote(value)} is not a valid S3 bucket name.`, spec.usage);
      const known = cfg.s3.buckets.map((b) => b.name);
      if (!known.includes(value)) throw new UnknownResourceError('bucket', value, known);
      return;
    }
    case 'table': {
      if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) throw new UsageError(`${quote(value)} is not a valid DynamoDB table name.`, spec.usage);
      const known = cfg.dynamodb.tables.map((t) => t.name);
      if (!known.includes(value)) throw new UnknownResourceError('table', value, known);
      return;
    }
    case 'prefix':
      if (value.length > 1024) throw new UsageError('--prefix may be at most 1,024 characters (the S3 key limit).', spec.usage);
      return;
    default:
      return;
  }
}

/**
 * Parses the text after `/dr` against the registry and the config. Every failure is a
 * UsageError or UnknownResourceError with words for the user; nothing is executed here.
 */
export function parseCommand(rawText: string, cfg: DrConfig, now: Date): ParsedCommand {
  if (rawText.length > MAX_COMMAND_CHARS) {
    throw new UsageError(`that command is ${rawText.length.toLocaleString('en-US')} characters long; the limit is ${MAX_COMMAND_CHARS.toLocaleString('en-US')}.`);
  }
  const text = unescapeSlack(rawText).trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/.test(text)) {
    throw new UsageError('the command contains control or invisible characters; type it again by hand.');
  }
  if (/<[@#!][^>]*>|<(https?|mailto|tel|slack):[^>]*>/i.test(text)) {
    throw new UsageError('mentions, channels and links are not arguments to /dr; name resources as plain text.');
  }
  const tokens = tokenize(text);
  // A quoted argument may not span lines: a newline could forge extra lines in the plan an approver reads.
  if (tokens.some((t) => /[\r\n\t]/.test(t))) throw new UsageError('arguments cannot contain line breaks or tabs.');
  if (tokens.length === 0) return { id: 'help', spec: COMMANDS[0] as CommandSpec };
  if (tokens.length > MAX_TOKENS) throw new UsageError(`too many words (${tokens.length}); see \`/dr help\`.`);
  const spec = findSpec(tokens);
  if (!spec) throw new UsageError(`unknown command ${quote(tokens.slice(0, 2).join(' '))}. ${suggestion(tokens)}`);
  const { positionals, flags } = splitArgs(spec, tokens.slice(spec.words.length));

  const variadic = spec.positionals.find((p) => p.variadic);
  if (!variadic && positionals.length > spec.positionals.length) {
    const extra = positionals.slice(spec.positionals.length).map((p) => quote(p)).join(' ');
    throw new UsageError(`unexpected ${positionals.length - spec.positionals.length === 1 ? 'argument' : 'arguments'} ${extra}.`, spec.usage);
  }
  spec.positionals.forEach((p, i) => {
    if (p.required && positionals[i] === undefined) throw new UsageError(`${p.name} is missing.`, spec.usage);
  });
  const str = (name: string): string | undefined => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };

  switch (spec.id) {
    case 'help':
      return { id: 'help', spec };
    case 'status':
      return { id: 'status', spec };
    case 'audit': {
      const n = positionals[0];
      if (n !== undefined && !/^\d{1,3}$/.test(n)) throw new UsageError(`N must be a whole number from 1 to 100, not ${quote(n)}.`, spec.usage);
      const count = n === undefined ? 10 : Number(n);
      if (count < 1 || count > 100) throw new UsageError(`N must be from 1 to 100, not ${count}.`, spec.usage);
      return { id: 'audit', spec, count };
    }
    case 'restore-s3': {
      const bucket = positionals[0] as string;
      checkValue('bucket', bucket, spec, cfg);
      const prefix = str('prefix');
      if (prefix !== undefined) checkValue('prefix', prefix, spec, cfg);
      const sinceRaw = str('since');
      return {
        id: 'restore-s3',
        spec,
        bucket,
        ...(prefix !== undefined ? { prefix } : {}),
        ...(sinceRaw !== undefined ? { since: parseSince(sinceRaw, now, spec.usage) } : {}),
        fromReplica: flags.has('from-replica'),
        dryRun: flags.has('dry-run'),
      };
    }
    case 'backup-dynamodb': {
      const tables = [...new Set(positionals)];
      for (const t of tables) checkValue('table', t, spec, cfg);
      return { id: 'backup-dynamodb', spec, tables, dryRun: flags.has('dry-run') };
    }
    case 'simulate-alarm': {
      const kind = positionals[0] as string;
      if (!(ALARM_SIMULATIONS as readonly string[]).includes(kind)) {
        throw new UsageError(`${quote(kind)} is not a simulation; pick one of ${ALARM_SIMULATIONS.join(', ')}.`, spec.usage);
      }
      return { id: 'simulate-alarm', spec, kind: kind as AlarmSimulation };
    }
  }
}
