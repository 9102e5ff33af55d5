import { UsageError } from '../errors';
import { INLINE_COMMANDS } from '../slack/inline';
import { type ArgValues, type ValueContext, bindArgs, label, type RawArgs } from './args';
import { verb as backupDynamodb } from './backup-dynamodb';
import { verb as backupAll } from './backup-all';
import { verb as backupAmis } from './backup-amis';
import { verb as backupIam } from './backup-iam';
import { verb as backupJobRetry } from './backup-job-retry';
import { verb as backupLambda } from './backup-lambda';
import { verb as backupRoute53 } from './backup-route53';
import { verb as checkReplication } from './check-replication';
import { verb as restoreIam } from './restore-iam';
import { verb as deleteRestoredTable } from './delete-restored-table';
import { verb as keepDynamodb } from './keep-dynamodb';
import { verb as restoreDynamodb } from './restore-dynamodb';
import { verb as restoreRoute53 } from './restore-route53';
import { verb as cutoverDynamodb } from './cutover-dynamodb';
import { verb as restoreS3 } from './restore-s3';
import { verb as rollbackLambda } from './rollback-lambda';
import { verb as setup } from './setup';
import { verb as status } from './status';
import { verb as drill } from './drill';
import { verb as drillCleanup } from './drill-cleanup';
import { verb as drillHistory } from './drill-history';
import { verb as compromise } from './compromise';
import { verb as failover } from './failover';
import { verb as failback } from './failback';
import { type AnyRunInput, type CommandSpec, GROUPS, type RunbookExport, type RunOf, type Verb } from './verb';

/**
 * The DR verbs drbot knows, one line each. A verb is a folder under src/runbooks/<id>/:
 *   index.ts    its spec (words, arguments, role, help) and how parsed arguments become the run's
 *               input; light, because the Slack function bundles it to parse and authorize;
 *   runbook.ts  `export const runbook` — plan, execute and verify on the driver; only the runbook
 *               function bundles it (handler.ts loads src/runbooks/<id>/runbook.ts by the verb's id).
 * The parser, `/dr help`, role checks, the durable handler's dispatch, the alarm buttons and the
 * RunInput type all read this list.
 */
export const VERBS = [status, checkReplication, backupDynamodb, backupIam, backupAmis, backupRoute53, backupLambda, backupAll, backupJobRetry, restoreS3, restoreDynamodb, cutoverDynamodb, keepDynamodb, deleteRestoredTable, restoreIam, restoreRoute53, rollbackLambda, setup,
  drill, drillCleanup, drillHistory,
  compromise,
  failover, failback,
] as const;

/** Every run's input, inferred from the verbs (what crosses the async invoke into the runbook function). */
export type RunInput = RunOf<(typeof VERBS)[number]>;

/** A parsed command: its spec and its checked, typed arguments. */
export interface ParsedCommand {
  spec: CommandSpec;
  args: ArgValues;
}

/** The commands of one drbot: inline answers and verbs, with lookups by words and by id. */
export interface Catalogue {
  readonly commands: readonly CommandSpec[];
  verb(id: string): Verb | undefined;
  /** The spec whose words start `words` (the longest match), if any. */
  find(words: readonly string[]): CommandSpec | undefined;
  /** Binds raw words to a command's schema and cross-argument rules. */
  bind(spec: CommandSpec, raw: RawArgs, ctx: Omit<ValueContext, 'usage'>): ArgValues;
  /** Runbooks held in memory rather than in src/runbooks/<id>/runbook.ts (tests, extensions). */
  readonly runbooks: Readonly<Record<string, RunbookExport<AnyRunInput>>>;
}

export interface CatalogueOptions {
  inline?: readonly CommandSpec[];
  runbooks?: Record<string, RunbookExport<AnyRunInput>>;
}

/** Builds a catalogue; refuses two commands with the same id or the same words. */
export function createCatalogue(verbs: readonly Verb[], opts: CatalogueOptions = {}): Catalogue {
  const commands: CommandSpec[] = [...(opts.inline ?? INLINE_COMMANDS), ...verbs].sort((a, b) => GROUPS.indexOf(a.group) - GROUPS.indexOf(b.group));
  const ids = new Set<string>();
  const words = new Set<string>();
  for (const c of commands) {
    const w = c.words.join(' ');
    if (ids.has(c.id) || words.has(w)) throw new Error(`catalogue: two commands named ${c.id} / ${w}`);
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(c.id)) throw new Error(`catalogue: ${c.id} is not a valid verb id`);
    for (const pair of c.conflicts ?? []) for (const k of pair) if (!c.args[k]) throw new Error(`catalogue: ${c.id} conflicts name no argument ${k}`);
    if (c.approvalWith && c.args[c.approvalWith]?.at !== 'flag') throw new Error(`catalogue: ${c.id} approvalWith names no flag ${c.approvalWith}`);
    ids.add(c.id);
    words.add(w);
  }
  const byId = new Map(verbs.map((v) => [v.id, v]));
  const byLength = [...commands].sort((a, b) => b.words.length - a.words.length);
  return {
    commands,
    runbooks: opts.runbooks ?? {},
    verb: (id) => byId.get(id),
    find: (typed) => byLength.find((c) => c.words.every((w, i) => typed[i]?.toLowerCase() === w)),
    bind(spec, raw, ctx) {
      const full = { ...ctx, usage: spec.usage };
      for (const [a, b] of spec.conflicts ?? []) {
        const da = spec.args[a];
        const db = spec.args[b];
        if (da && db && raw.flags.has(da.name) && raw.flags.has(db.name)) throw new UsageError(`${label(da)} and ${label(db)} cannot be used together.`, spec.usage);
      }
      const args = bindArgs(spec.args, raw, full);
      spec.check?.(args, ctx.config);
      return args;
    },
  };
}

/** drbot's own commands. */
export const CATALOGUE: Catalogue = createCatalogue(VERBS);

