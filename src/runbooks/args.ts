import type { DrConfig } from '../config/schema';
import { PreconditionError, UnknownResourceError, UsageError } from '../errors';
import { escapeMrkdwn, oneLine } from '../slack/views/format';
import { restoredFrom, TABLE_NAME } from './restored-tables';

/**
 * The arguments of a command as a typed schema: each verb declares its positionals and flags with
 * a value kind, and gets back typed values. The kinds below validate (and, where it helps, convert)
 * what a user typed; a new kind is one entry in KINDS.
 */

/** What each value kind becomes once parsed. */
export interface KindValues {
  /** A configured S3 bucket. */
  bucket: string;
  /** A configured DynamoDB table. */
  table: string;
  /** Any DynamoDB table name (syntax only; not necessarily configured), e.g. a restored copy. */
  'table-name': string;
  /** An S3 key prefix (≤ 1,024 characters). */
  prefix: string;
  /** A time in the past: ISO 8601 or a duration back from now (30m, 2h, 7d); becomes an ISO time. */
  time: string;
  /** A whole number within the argument's min and max. */
  count: number;
  /** One of the argument's choices. */
  choice: string;
  /** A plain word (letters, digits, hyphens), e.g. a help topic. */
  word: string;
  /** The configured Route53 hosted zone ID. */
  zone: string;
  /** A configured Lambda function. */
  function: string;
  /** A published Lambda version number ($LATEST is not a version to move to). */
  version: string;
  /** An IAM role name within the config's iam.rolePrefix. */
  'role-name': string;
  /** The primary or the backup region of the config. */
  region: string;
  /** An IAM user name. */
  user: string;
  /** An S3 key of an export, or a backup name or ARN. */
  'backup-key': string;
  /** An IAM access key ID. */
  'access-key': string;
  /** EC2 instance IDs, comma-separated (i-…,i-…), at most 50. */
  'instance-ids': string;
  /** An AWS Backup job ID (a UUID for the jobs AWS Backup starts). */
  'backup-job': string;
  /** A DynamoDB backup: its ARN, or its name (a system backup's `<table>$DeletedTableBackup` included). */
  'ddb-backup': string;
  /** A table drbot restored: `<configured table>-restored-<yyyymmdd-HHMMSS>` (its tags are checked by the runbook). */
  'restored-table': string;
}

export type ValueKind = keyof KindValues;

export interface ArgOptions<K extends ValueKind | 'boolean'> {
  /** A positional that must be given, or a flag that must be given. */
  required?: boolean;
  /** A positional that takes every remaining positional (duplicates dropped). */
  variadic?: boolean;
  /** The value when the argument is not given. */
  default?: K extends ValueKind ? KindValues[K] : never;
  /** For `choice`: the allowed values. */
  choices?: readonly string[];
  /** For `choice`: what a value is, in a refusal (`is not a simulation`). */
  what?: string;
  /** For `count`: the bounds. */
  min?: number;
  max?: number;
  /** For flags with a value: the placeholder in the usage (`--prefix P`). */
  placeholder?: string;
}

export interface ArgDef extends ArgOptions<ValueKind | 'boolean'> {
  at: 'positional' | 'flag';
  kind: ValueKind | 'boolean';
  /** A positional's name in the usage (BUCKET), or a flag's name without dashes (dry-run). */
  name: string;
  help: string;
  default?: string | number;
}

export type ArgSchema = Readonly<Record<string, ArgDef>>;

/** A positional argument, matched by position in the order the schema lists them. */
export function positional<K extends ValueKind, const O extends ArgOptions<K> = Record<never, never>>(
  kind: K,
  name: string,
  help: string,
  opts?: O,
): { at: 'positional'; kind: K; name: string; help: string } & O {
  return { at: 'positional', kind, name, help, ...(opts as O) };
}

/** A flag: `--name VALUE`, `--name=VALUE`, or, for kind `boolean`, `--name` alone. */
export function flag<K extends ValueKind | 'boolean', const O extends ArgOptions<K> = Record<never, never>>(
  kind: K,
  name: string,
  help: string,
  opts?: O,
): { at: 'flag'; kind: K; name: string; help: string } & O {
  return { at: 'flag', kind, name, help, ...(opts as O) };
}

/** `--dry-run`, the same on every verb that has one. */
export const dryRun = flag('boolean', 'dry-run', 'post the plan only; change nothing');

type IsPresent<D> = D extends { kind: 'boolean' } ? true : D extends { required: true } ? true : D extends { variadic: true } ? true : D extends { default: string | number } ? true : false;
type ValueOf<D> = D extends { kind: 'boolean' }
  ? boolean
  : D extends { kind: 'choice'; choices: readonly (infer C extends string)[] }
    ? C
    : D extends { kind: infer K extends ValueKind } ? (D extends { variadic: true } ? KindValues[K][] : KindValues[K]) : never;
type Flatten<T> = { [K in keyof T]: T[K] };

/** The typed values of a schema: required, boolean, variadic and defaulted arguments are always there. */
export type ParsedArgs<S extends ArgSchema> = string extends keyof S
  ? ArgValues
  : Flatten<
      { -readonly [K in keyof S as IsPresent<S[K]> extends true ? K : never]: ValueOf<S[K]> } & {
        -readonly [K in keyof S as IsPresent<S[K]> extends true ? never : K]?: ValueOf<S[K]>;
      }
    >;

/** The untyped shape every ParsedArgs is assignable to (and what a schema not known here parses to). */
export type ArgValues = Record<string, string | number | boolean | string[] | undefined>;

/** Shows a user-typed value inside an error message without letting it ping or format anything. */
export function quote(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  // One line: a quoted token ("a\nb") may hold a line break or a bidi control; they become `�`.
  return '`' + escapeMrkdwn(oneLine(cut).replace(/`/g, "'")) + '`';
}

export interface ValueContext {
  config: DrConfig;
  now: Date;
  usage: string;
}

const MAX_TIME_BACK_DAYS = 400;
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
/** A DynamoDB backup ARN: `arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/backup/ID`. */
export const DDB_BACKUP_ARN = /^arn:aws[a-z-]{0,20}:dynamodb:[a-z0-9-]{1,30}:\d{12}:table\/([A-Za-z0-9_.-]{3,255})\/backup\/[A-Za-z0-9.-]{1,64}$/;
/** Backup names are [A-Za-z0-9_.-] (3-255); system backups add `$` (`<table>$DeletedTableBackup`). */
const DDB_BACKUP_NAME = /^[A-Za-z0-9_.$-]{3,255}$/;

/** How a label reads in a message: `BUCKET` for a positional, `--since` for a flag. */
export function label(def: ArgDef): string {
  return def.at === 'flag' ? `--${def.name}` : def.name;
}

function parseTime(value: string, def: ArgDef, ctx: ValueContext): string {
  const name = label(def);
  const dur = /^(\d{1,6})([mhd])$/.exec(value);
  if (dur) {
    const n = Number(dur[1]);
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[dur[2] as 'm' | 'h' | 'd'];
    if (n === 0) throw new UsageError(`${name} must be longer than 0.`, ctx.usage);
    if (n * unitMs > MAX_TIME_BACK_DAYS * 86_400_000) throw new UsageError(`${name} may go back at most ${MAX_TIME_BACK_DAYS} days.`, ctx.usage);
    return new Date(ctx.now.getTime() - n * unitMs).toISOString();
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/.exec(value);
  if (iso) {
    // Date.parse rolls 2026-02-30 over to March 2; a time that does not exist is refused instead.
    const [y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0] = iso.slice(1).map((p) => (p === undefined ? undefined : Number(p)));
    const daysInMonth = new Date(Date.UTC(y ?? 0, mo ?? 0, 0)).getUTCDate();
    const valid = (mo ?? 0) >= 1 && (mo ?? 0) <= 12 && (d ?? 0) >= 1 && (d ?? 0) <= daysInMonth && h <= 23 && mi <= 59 && se <= 59 && oh <= 14 && om <= 59;
    const t = Date.parse(value.replace(' ', 'T'));
    if (!valid || Number.isNaN(t)) throw new UsageError(`${name} ${quote(value)} is not a valid time.`, ctx.usage);
    if (t > ctx.now.getTime()) throw new UsageError(`${name} ${quote(value)} is in the future.`, ctx.usage);
    return new Date(t).toISOString();
  }
  throw new UsageError(`${name} takes an ISO time (2026-01-27T10:30:00Z) or a duration (30m, 2h, 7d), not ${quote(value)}.`, ctx.usage);
}

function parseCount(value: string, def: ArgDef, ctx: ValueContext): number {
  const min = def.min ?? 0;
  const max = def.max ?? 1_000_000;
  const digits = String(max).length;
  if (!new RegExp(`^\\d{1,${digits}}$`).test(value)) throw new UsageError(`${label(def)} must be a whole number from ${min} to ${max}, not ${quote(value)}.`, ctx.usage);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${label(def)} must be from ${min} to ${max}, not ${n}.`, ctx.usage);
  return n;
}

type Parser<K extends ValueKind> = (value: string, def: ArgDef, ctx: ValueContext) => KindValues[K];

/** One entry per value kind: how a typed word is checked and converted. */
const KINDS: { [K in ValueKind]: Parser<K> } = {
  bucket(value, _def, ctx) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) throw new UsageError(`${quote(value)} is not a valid S3 bucket name.`, ctx.usage);
    const known = ctx.config.s3.buckets.map((b) => b.name);
    if (!known.includes(value)) throw new UnknownResourceError('bucket', value, known);
    return value;
  },
  table(value, _def, ctx) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) throw new UsageError(`${quote(value)} is not a valid DynamoDB table name.`, ctx.usage);
    const known = ctx.config.dynamodb.tables.map((t) => t.name);
    if (!known.includes(value)) throw new UnknownResourceError('table', value, known);
    return value;
  },
  'table-name'(value, def, ctx) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) throw new UsageError(`${label(def)} ${quote(value)} is not a valid DynamoDB table name.`, ctx.usage);
    return value;
  },
  prefix(value, def, ctx) {
    if (value.length > 1024) throw new UsageError(`${label(def)} may be at most 1,024 characters (the S3 key limit).`, ctx.usage);
    return value;
  },
  time: parseTime,
  count: parseCount,
  choice(value, def, ctx) {
    const choices = def.choices ?? [];
    if (!choices.includes(value)) throw new UsageError(`${quote(value)} is not ${def.what ?? 'a choice'}; pick one of ${choices.join(', ')}.`, ctx.usage);
    return value;
  },
  word(value, def, ctx) {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/i.test(value)) throw new UsageError(`${label(def)} must be a plain word, not ${quote(value)}.`, ctx.usage);
    return value.toLowerCase();
  },
  zone(value, _def, ctx) {
    const id = value.replace(/^\/hostedzone\//, '');
    // AWS's zone IDs usually start with Z, but AWS does not promise it (moto's do not).
    if (!/^[A-Z0-9]{2,32}$/.test(id)) throw new UsageError(`${quote(value)} is not a Route53 hosted zone ID (Z…).`, ctx.usage);
    const configured = ctx.config.route53?.hostedZoneId.replace(/^\/hostedzone\//, '');
    if (!configured) throw new PreconditionError('no_zone', 'No hosted zone is configured.', 'Set `route53.hostedZoneId` in the drbot config.');
    if (id !== configured) throw new UnknownResourceError('zone', id, [configured]);
    return id;
  },
  function(value, _def, ctx) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new UsageError(`${quote(value)} is not a valid Lambda function name.`, ctx.usage);
    const known = ctx.config.lambda.functions;
    if (!known.includes(value)) throw new UnknownResourceError('function', value, known);
    return value;
  },
  version(value, def, ctx) {
    if (value.toUpperCase() === '$LATEST') throw new UsageError(`${label(def)} must be a published version; \`$LATEST\` can change under you.`, ctx.usage);
    if (!/^[1-9]\d{0,9}$/.test(value)) throw new UsageError(`${label(def)} must be a published version number, not ${quote(value)}.`, ctx.usage);
    return value;
  },
  'role-name'(value, _def, ctx) {
    if (!IAM_NAME.test(value)) throw new UsageError(`${quote(value)} is not a valid IAM role name.`, ctx.usage);
    const prefix = ctx.config.iam.rolePrefix;
    if (!value.startsWith(prefix)) {
      throw new PreconditionError('role_outside_prefix', `${quote(value)} is not a drbot role: only roles whose names start with \`${escapeMrkdwn(prefix)}\` are managed.`, 'Name a role within `iam.rolePrefix`, or change the prefix in the drbot config.');
    }
    return value;
  },
  region(value, _def, ctx) {
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(value)) throw new UsageError(`${quote(value)} is not an AWS region (such as us-west-2).`, ctx.usage);
    const known = [ctx.config.regions.primary, ctx.config.regions.backup];
    if (!known.includes(value)) throw new UnknownResourceError('region', value, known);
    return value;
  },
  user(value, _def, ctx) {
    if (!IAM_NAME.test(value)) throw new UsageError(`${quote(value)} is not a valid IAM user name.`, ctx.usage);
    return value;
  },
  'backup-key'(value, def, ctx) {
    if (value.length > 1024 || !/^[A-Za-z0-9!_.*'()/:@=+-]+$/.test(value)) throw new UsageError(`${label(def)} ${quote(value)} is not an export key or a backup name or ARN.`, ctx.usage);
    return value;
  },
  'backup-job'(value, def, ctx) {
    if (!/^[A-Za-z0-9-]{1,100}$/.test(value)) throw new UsageError(`${label(def)} ${quote(value)} is not an AWS Backup job ID.`, ctx.usage);
    return value;
  },
  'access-key'(value, def, ctx) {
    if (!/^(AKIA|ASIA)[A-Z0-9]{16}$/.test(value)) throw new UsageError(`${label(def)} ${quote(value)} is not an access key ID (AKIA…).`, ctx.usage);
    return value;
  },
  'instance-ids'(value, def, ctx) {
    const ids = value.split(',');
    if (value.length > 1000 || ids.length > 50 || !ids.every((id) => /^i-[0-9a-f]{8,17}$/.test(id))) {
      throw new UsageError(`${label(def)} takes up to 50 EC2 instance IDs separated by commas (i-0abc…,i-0def…), not ${quote(value)}.`, ctx.usage);
    }
    return [...new Set(ids)].join(',');
  },
  'ddb-backup'(value, def, ctx) {
    if (value.length > 1024 || !(DDB_BACKUP_ARN.test(value) || DDB_BACKUP_NAME.test(value))) {
      throw new UsageError(`${label(def)} ${quote(value)} is not a DynamoDB backup name or ARN (arn:aws:dynamodb:…:table/TABLE/backup/…).`, ctx.usage);
    }
    return value;
  },
  'restored-table'(value, def, ctx) {
    if (!TABLE_NAME.test(value)) throw new UsageError(`${label(def)} ${quote(value)} is not a valid DynamoDB table name.`, ctx.usage);
    const tables = ctx.config.dynamodb.tables.map((t) => t.name);
    if (tables.includes(value)) {
      throw new PreconditionError('not_restored_table', `${quote(value)} is a configured table, not a table drbot restored.`, 'Name the restored table (`&lt;table&gt;-restored-&lt;yyyymmdd-HHMMSS&gt;`), as the restore run reported it.');
    }
    if (!restoredFrom(value, tables)) {
      throw new PreconditionError(
        'not_restored_table',
        `${quote(value)} is not a table drbot restored: those are named \`&lt;configured table&gt;-restored-&lt;yyyymmdd-HHMMSS&gt;\`.`,
        'Use the name the restore run reported (`/dr restore dynamodb TABLE …` makes them).',
      );
    }
    return value;
  },
};

/** Checks and converts one typed word by its argument's kind. */
export function parseValue(def: ArgDef, value: string, ctx: ValueContext): string | number {
  if (def.kind === 'boolean') throw new Error(`flag --${def.name} takes no value`);
  return (KINDS[def.kind] as Parser<ValueKind>)(value, def, ctx);
}

/** What the words after the command split into: positionals in order, flags by name. */
export interface RawArgs {
  positionals: string[];
  flags: ReadonlyMap<string, string | true>;
}

/**
 * Binds raw words to a schema: positionals in the schema's order (a variadic one takes the rest),
 * flags by name, each value checked by its kind. Every failure is a UsageError (or an unknown
 * resource) with words for the user.
 */
export function bindArgs(schema: ArgSchema, raw: RawArgs, ctx: ValueContext): ArgValues {
  const defs = Object.entries(schema);
  const positionals = defs.filter(([, d]) => d.at === 'positional');
  const variadic = positionals.some(([, d]) => d.variadic);
  if (!variadic && raw.positionals.length > positionals.length) {
    const extra = raw.positionals.slice(positionals.length).map((p) => quote(p)).join(' ');
    throw new UsageError(`unexpected ${raw.positionals.length - positionals.length === 1 ? 'argument' : 'arguments'} ${extra}.`, ctx.usage);
  }
  positionals.forEach(([, d], i) => {
    if (d.required && raw.positionals[i] === undefined) throw new UsageError(`${d.name} is missing.`, ctx.usage);
  });
  for (const [, d] of defs) {
    if (d.at === 'flag' && d.required && !raw.flags.has(d.name)) throw new UsageError(`--${d.name} is missing.`, ctx.usage);
  }
  const out: ArgValues = {};
  let next = 0;
  for (const [key, d] of defs) {
    if (d.at === 'positional') {
      if (d.variadic) {
        out[key] = [...new Set(raw.positionals.slice(next))].map((v) => String(parseValue(d, v, ctx)));
        next = raw.positionals.length;
        continue;
      }
      const v = raw.positionals[next++];
      if (v !== undefined) out[key] = parseValue(d, v, ctx);
      else if (d.default !== undefined) out[key] = d.default;
      continue;
    }
    const v = raw.flags.get(d.name);
    if (d.kind === 'boolean') out[key] = v !== undefined;
    else if (typeof v === 'string') out[key] = parseValue(d, v, ctx);
    else if (d.default !== undefined) out[key] = d.default;
  }
  return out;
}
