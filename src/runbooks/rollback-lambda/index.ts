import { UsageError } from '../../errors';
import { dryRun, flag, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/**
 * `/dr rollback lambda`: moves the configured alias of a function back to an earlier published
 * version (by default the one before the alias's current version), at once or, with --canary, a
 * share of the traffic first; --abort-canary sends all traffic back to the alias's main version.
 * The runbook: ./runbook.ts.
 */
export const verb = defineVerb({
  id: 'rollback-lambda',
  words: ['rollback', 'lambda'],
  group: 'Restore',
  summary: "move the function's alias back to an earlier published version (default: the one before its current), at once or as a --canary first",
  example: '/dr rollback lambda spawn-dns-updater',
  role: 'operator',
  destructive: true,
  details:
    "Points the alias named by `lambda.alias` in the config at VERSION with UpdateAlias, clearing any weighted routing, then reads it back with GetAlias. The plan shows both versions with their description, date and code SHA-256. `--canary 10` keeps the alias on its version and sends 10 % of its traffic to VERSION, watches for a few minutes, shows each version's invocations and errors, and offers *Complete rollback* and *Abort*, each with its own plan and approval. `$LATEST` is never a target: it can change under you.",
  args: {
    fn: positional('function', 'FUNCTION', 'a configured Lambda function', { required: true }),
    version: positional('version', 'VERSION', "the published version to move the alias to (default: the one before the alias's current version)"),
    canary: flag('count', 'canary', 'send only this share of traffic (1–99 %) to VERSION first, show the errors, then offer Complete rollback / Abort', { min: 1, max: 99, placeholder: 'PERCENT' }),
    abortCanary: flag('boolean', 'abort-canary', "end a canary: clear the alias's routing, so all traffic goes to its main version again"),
    dryRun,
  },
  conflicts: [['canary', 'abortCanary']],
  check: (a) => {
    if (a.abortCanary && a.version !== undefined) {
      throw new UsageError("--abort-canary takes no VERSION: it sends all traffic back to the alias's main version.", verb.usage);
    }
  },
  input: (a) => ({
    fn: a.fn,
    ...(a.version !== undefined ? { version: a.version } : {}),
    ...(a.canary !== undefined ? { canary: a.canary } : {}),
    abortCanary: a.abortCanary,
    dryRun: a.dryRun,
  }),
});

export type RollbackLambdaInput = RunOf<typeof verb>;
