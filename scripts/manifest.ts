/**
 * Keeps manifest.yaml's description of /dr in step with the command catalogue: the slash command's
 * description and usage hint and the app's long description are written from it, so the manifest
 * never advertises a command that does not exist (nor hides one that does).
 *
 *   npm run manifest          rewrite manifest.yaml from the catalogue
 *   npm run manifest -- --check   exit 1 if manifest.yaml differs from what the catalogue gives
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE, type Catalogue } from '../src/runbooks/catalogue';
import { type CommandSpec, GROUPS } from '../src/runbooks/verb';

export const MANIFEST_FILE = join(__dirname, '..', 'manifest.yaml');

/** Slack's limits for a slash command's description and usage hint (characters). */
const DESCRIPTION_MAX = 100;
const USAGE_HINT_MAX = 1000;

/** The commands a workspace can use: sandbox-only ones are not for a real workspace. */
function published(catalogue: Catalogue): CommandSpec[] {
  return catalogue.commands.filter((c) => !c.sandboxOnly);
}

/** `restore s3 BUCKET`: the words and the required positionals. */
function hint(c: CommandSpec): string {
  const required = Object.values(c.args).filter((d) => d.at === 'positional' && d.required).map((d) => d.name);
  return [...c.words, ...required].join(' ');
}

export function manifestFields(catalogue: Catalogue = CATALOGUE): { description: string; usageHint: string; longDescription: string } {
  const commands = published(catalogue);
  const groups = GROUPS.filter((g) => commands.some((c) => c.group === g)).map((g) => g.toLowerCase());
  const description = `Disaster recovery for AWS: ${groups.join(', ')}`.slice(0, DESCRIPTION_MAX);
  const usageHint = commands.map(hint).join(' | ').slice(0, USAGE_HINT_MAX);
  const needApproval = commands.filter((c) => c.destructive).map((c) => `/dr ${c.words.join(' ')}`);
  const rest = commands.filter((c) => !c.destructive && c.role !== 'anyone').map((c) => `/dr ${c.words.join(' ')}`);
  const longDescription = [
    'drbot runs the DR runbook from Slack.',
    needApproval.length ? `Commands that change things (${needApproval.join(', ')}) post a plan and wait for a second person to approve it.` : '',
    rest.length ? `Also: ${rest.join(', ')}.` : '',
    'CloudWatch backup and replication alarms arrive as messages with actions, and every decision is audited. /dr help lists the commands.',
  ]
    .filter(Boolean)
    .join(' ');
  return { description, usageHint, longDescription };
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur && indent.length + cur.length + 1 + word.length > width) {
      lines.push(indent + cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(indent + cur);
  return lines.join('\n');
}

function replaceOnce(text: string, re: RegExp, by: string): string {
  if (!re.test(text)) throw new Error(`manifest.yaml: no match for ${re}`);
  return text.replace(re, by);
}

/** manifest.yaml with the catalogue's fields written in; every other line (comments included) kept as it is. */
export function renderManifest(text: string, catalogue: Catalogue = CATALOGUE): string {
  const f = manifestFields(catalogue);
  let out = replaceOnce(text, /^( {2}long_description: >-\n)(?: {4}.*\n)+/m, `$1${wrap(f.longDescription, 100, '    ')}\n`);
  out = replaceOnce(out, /^( {6}description: ).*$/m, `$1${JSON.stringify(f.description)}`);
  out = replaceOnce(out, /^( {6}usage_hint: ).*$/m, `$1${JSON.stringify(f.usageHint)}`);
  return out;
}

if (require.main === module) {
  const current = readFileSync(MANIFEST_FILE, 'utf8');
  const next = renderManifest(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      process.stderr.write('manifest.yaml does not match the command catalogue; run `npm run manifest`.\n');
      process.exit(1);
    }
    process.stdout.write('manifest.yaml matches the command catalogue.\n');
  } else {
    writeFileSync(MANIFEST_FILE, next);
    process.stdout.write('manifest.yaml written from the command catalogue.\n');
  }
}
