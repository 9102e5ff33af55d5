import type { DrConfig } from '../config/schema';
import { UsageError } from '../errors';
import { quote } from '../runbooks/args';
import { CATALOGUE, type Catalogue, type ParsedCommand } from '../runbooks/catalogue';
import type { CommandSpec } from '../runbooks/verb';
import { escapeMrkdwn } from './views/format';
import { HELP } from './inline';

/** Slack allows 4,000 characters of command text; anything near that is not a DR command. */
export const MAX_COMMAND_CHARS = 1000;
const MAX_TOKENS = 40;

export type { ParsedCommand };

/** Slack sends &, < and > escaped; undo that so we validate what the user typed. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export { escapeMrkdwn, quote };

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

/** `Did you mean …?` for commands that start like the typed words; empty when none does (the hint then says `/dr help`). */
function suggestion(words: string[], catalogue: Catalogue): string {
  const first = words[0]?.toLowerCase() ?? '';
  const near = catalogue.commands.filter((c) => c.words[0] === first || (first.length >= 2 && c.words[0]?.startsWith(first.slice(0, 2))));
  return near.length ? ` Did you mean: ${near.map((c) => `\`${c.usage}\``).join(' or ')}?` : '';
}

/** Splits the words after the command into positionals and flags, checking flags against the spec. */
function splitArgs(spec: CommandSpec, tokens: string[]): { positionals: string[]; flags: Map<string, string | true> } {
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
    const flagDefs = Object.values(spec.args).filter((d) => d.at === 'flag');
    const flag = flagDefs.find((f) => f.name === name);
    if (!flag) {
      const known = flagDefs.map((f) => `--${f.name}`).join(', ');
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
  return { positionals, flags };
}

/**
 * Parses the text after `/dr` against the catalogue and the config. Every failure is a
 * UsageError or UnknownResourceError with words for the user; nothing is executed here.
 */
export function parseCommand(rawText: string, cfg: DrConfig, now: Date, catalogue: Catalogue = CATALOGUE): ParsedCommand {
  if (rawText.length > MAX_COMMAND_CHARS) {
    throw new UsageError(`that command is ${rawText.length.toLocaleString('en-US')} characters long; the limit is ${MAX_COMMAND_CHARS.toLocaleString('en-US')}.`);
  }
  const text = unescapeSlack(rawText).trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/.test(text)) {
    throw new UsageError('the command contains control or invisible characters; type it again by hand.');
  }
  if (/<[@#!][^>]*>|<(https?|mailto|tel|slack):[^>]*>/i.test(text)) {
    throw new UsageError('mentions, channels and links are not arguments to /dr; name resources as plain text.');
  }
  const tokens = tokenize(text);
  // A quoted argument may not span lines: a newline could forge extra lines in the plan an approver reads.
  if (tokens.some((t) => /[\r\n\t]/.test(t))) throw new UsageError('arguments cannot contain line breaks or tabs.');
  if (tokens.length === 0) return { spec: HELP, args: { topic: [] } };
  if (tokens.length > MAX_TOKENS) throw new UsageError(`too many words (${tokens.length}); see \`/dr help\`.`);
  const spec = catalogue.find(tokens);
  if (!spec) throw new UsageError(`unknown command ${quote(tokens.slice(0, 2).join(' '))}.${suggestion(tokens, catalogue)}`);
  const raw = splitArgs(spec, tokens.slice(spec.words.length));
  return { spec, args: catalogue.bind(spec, raw, { config: cfg, now }) };
}
