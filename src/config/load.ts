import { readFileSync } from 'node:fs';
import type * as z from 'zod/mini';
import { ConfigError } from '../errors';
import { configSchema, type DrConfig } from './schema';

/** Formats zod issues as `path: what was expected`, one per line. */
export function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 20)
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      if (i.code === 'unrecognized_keys') return `${where}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      if (i.code === 'invalid_type' && i.input === undefined) return `${where}: missing (expected ${i.expected})`;
      return `${where}: ${i.message}`;
    })
    .join('\n');
}

/** Validates a parsed config object; throws ConfigError naming every bad field. */
export function parseConfig(raw: unknown, source = 'config'): DrConfig {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(`${source} is invalid:\n${describeIssues(result.error.issues)}`);
  }
  const cfg = result.data;
  const names = new Set<string>();
  for (const b of cfg.s3.buckets) {
    if (names.has(b.name)) throw new ConfigError(`${source} is invalid:\ns3.buckets: bucket ${b.name} is listed twice`);
    names.add(b.name);
  }
  const tables = new Set<string>();
  for (const t of cfg.dynamodb.tables) {
    if (tables.has(t.name)) throw new ConfigError(`${source} is invalid:\ndynamodb.tables: table ${t.name} is listed twice`);
    tables.add(t.name);
  }
  if (cfg.regions.primary === cfg.regions.backup) {
    throw new ConfigError(`${source} is invalid:\nregions.backup: must differ from regions.primary`);
  }
  return cfg;
}

/** Parses YAML text into a validated config. */
export function parseConfigText(text: string, source = 'config'): DrConfig {
  let raw: unknown;
  try {
    // Loaded on first use: bundles whose config was converted at build time never evaluate it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parse: parseYaml } = require('yaml') as typeof import('yaml');
    raw = parseYaml(text, { maxAliasCount: 50 });
  } catch (e) {
    throw new ConfigError(`${source} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseConfig(raw, source);
}

/** Reads and validates a config file once; fails fast with the path of what is wrong. */
export function loadConfigFile(path: string): DrConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigText(text, path);
}
