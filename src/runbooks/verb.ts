import type { Role } from '../config/schema';
import type { DrConfig } from '../config/schema';
import type { ArgDef, ArgSchema, ArgValues, ParsedArgs } from './args';
import type { Runbook } from './driver';

/** What a command needs: nobody (`anyone`) or a role. Roles are cumulative: approver ⊇ operator ⊇ viewer. */
export type RequiredRole = Role | 'anyone';

/** The headings of `/dr help`, in the order it shows them. */
export const GROUPS = ['Look', 'Back up', 'Restore', 'Incidents', 'Admin'] as const;
export type Group = (typeof GROUPS)[number];

/** Everything `/dr` knows about a command: its words, arguments, who may run it, and its help. */
export interface CommandSpec<S extends ArgSchema = ArgSchema> {
  /** Stable id: the run kind of a verb, and its folder under src/runbooks/. */
  id: string;
  /** The words after `/dr`, e.g. ['restore', 's3']. */
  words: readonly string[];
  group: Group;
  /** Derived from the words and the schema, unless a verb's arguments need a special form. */
  usage: string;
  summary: string;
  example: string;
  role: RequiredRole;
  /** Changes something; runs only after a plan and an approval. */
  destructive: boolean;
  /**
   * The flag (a key of `args`) that makes a run of this otherwise non-destructive command delete
   * something (`prune`): with it a person's run posts its plan and waits for an approval, and help
   * says so. The runbook decides the same from its input (runbook.ts).
   */
  approvalWith?: string;
  /** Sandbox only (refused against real AWS). */
  sandboxOnly?: boolean;
  args: S;
  /** Pairs of arguments (keys of `args`) that cannot be used together; checked when the catalogue is built. */
  conflicts?: readonly (readonly [string, string])[];
  /** More words for `/dr help VERB`: what it does and does not do. */
  details?: string;
  /** Rules across arguments (one of several flags, …): throws a UsageError to refuse. */
  check?: (args: ArgValues, config: DrConfig) => void;
}

/** What every run carries besides its own input: who asked, where, and when. */
export interface RunBase {
  runId: string;
  requester: string;
  channel: string;
  commandText: string;
  requestedAt: string;
  /** Post the run's message as a reply in this thread (runs started from an alarm message). */
  threadTs?: string;
  /** Started by an EventBridge schedule (not a person): its name and scheduled time. */
  schedule?: { name: string; at: string };
  /** Started from a next-step button of an earlier run: that run, and the message this run takes over. */
  continues?: { runId: string; channel: string; ts: string };
}

/**
 * A follow-up a run offers when it ends, as a button on its message ("Cut over", "Delete restored
 * table", "Complete rollback"): pressing it runs `/dr <command>` exactly as if typed by the person
 * who pressed (parsed, checked and authorized the same way), in the same message, with its own plan
 * and approval. The run record keeps the list; the button carries only the run id and an index.
 */
export interface NextStep {
  label: string;
  /** The words after `/dr`, e.g. `cutover dynamodb spawn-instances --from spawn-instances-restored-20261201-101500`. */
  command: string;
  style?: 'primary' | 'danger';
}

/**
 * A DR verb: a command whose work is a durable runbook. Its spec and `input` live in
 * src/runbooks/<id>/index.ts (light: the Slack function bundles it); its runbook in
 * src/runbooks/<id>/runbook.ts (only the runbook function bundles it).
 */
export interface Verb<Id extends string = string, S extends ArgSchema = ArgSchema, I extends object = object> extends CommandSpec<S> {
  id: Id;
  /** How the parsed arguments become the run's JSON input (it crosses an async Lambda invoke). */
  input: (args: ArgValues) => I;
}

/** The run input of a verb: the request's fields, the verb's id as `kind`, and its own input. */
export type RunOf<V> = V extends { id: infer Id extends string; input(args: never): infer I } ? RunBase & { kind: Id } & I : never;

/** Any verb's run input, as the driver and the engines handle it. */
export type AnyRunInput = RunBase & { kind: string };

/** What a verb's runbook.ts exports as `runbook`: one runbook, or one chosen by the input (modes). */
export type RunbookExport<In> = Runbook<In, unknown> | ((input: In) => Runbook<In, unknown>);

function argUsage(d: ArgDef): string {
  if (d.at === 'flag') {
    const text = d.kind === 'boolean' ? `--${d.name}` : `--${d.name} ${d.placeholder ?? d.name.toUpperCase()}`;
    return d.required ? text : `[${text}]`;
  }
  const name = d.choices ? d.choices.join('|') : d.name;
  const shown = d.variadic ? `${name}…` : name;
  return d.required ? shown : `[${shown}]`;
}

/** `/dr restore s3 BUCKET [--prefix P] [--dry-run]`, from the words and the schema. */
export function usageOf(words: readonly string[], args: ArgSchema): string {
  const defs = Object.values(args);
  const parts = [...defs.filter((d) => d.at === 'positional'), ...defs.filter((d) => d.at === 'flag')].map(argUsage);
  return ['/dr', ...words, ...parts].join(' ');
}

/** What a command module writes: the spec, with its callbacks typed by its own schema. */
type SpecInput<S extends ArgSchema> = Omit<CommandSpec<S>, 'usage' | 'check'> & {
  usage?: string;
  check?: (args: ParsedArgs<S>, config: DrConfig) => void;
};

/*
 * The casts below are the one place where the schema's types meet the parser's values: bindArgs
 * builds the values from this very schema, so ParsedArgs<S> is what they are.
 */

/** Declares an inline command (answered by the Slack function itself, no run). */
export function defineCommand<const S extends ArgSchema>({ usage, check, ...spec }: SpecInput<S>): CommandSpec<S> {
  return {
    ...spec,
    usage: usage ?? usageOf(spec.words, spec.args),
    ...(check ? { check: (args: ArgValues, config: DrConfig) => check(args as ParsedArgs<S>, config) } : {}),
  };
}

/** Declares a verb: its spec and how its parsed arguments become the run's input. */
export function defineVerb<const Id extends string, const S extends ArgSchema, I extends object>({
  input,
  ...spec
}: SpecInput<S> & { id: Id; input: (args: ParsedArgs<S>) => I }): Verb<Id, S, I> {
  return { ...defineCommand<S>(spec), id: spec.id, input: (args) => input(args as ParsedArgs<S>) };
}

export function isVerb(spec: CommandSpec): spec is Verb {
  return typeof (spec as Partial<Verb>).input === 'function';
}

/** Narrows a parsed command to one command, typing its arguments by that command's schema. */
export function isCommand<S extends ArgSchema>(
  parsed: { spec: CommandSpec; args: ArgValues },
  spec: CommandSpec<S>,
): parsed is { spec: CommandSpec; args: ArgValues & ParsedArgs<S> } {
  return parsed.spec.id === spec.id;
}
