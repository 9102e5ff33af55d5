import type { AliasConfiguration, FunctionConfiguration } from '@aws-sdk/client-lambda';
import { codeLocation, httpCodeFetcher, lambdaSha256, listAliases, listVersions } from '../../aws/lambda';
import { DrbotError, withHint } from '../../errors';
import { formatCount } from '../../slack/views/run';
import { mapLimit } from '../../util/limit';
import { type Runbook, safeStep } from '../driver';
import { backupTarget, headObject, putObject, sha256Hex } from '../exports';
import { deleteStoredCopy } from '../export-prune';
import { type Copy, executePrune, planPrune, pruneLines, pruneResultLines, type Retention } from '../retention';
import type { RunbookDeps } from '../types';
import type { BackupLambdaInput } from '.';
import { listStoredVersionCopies } from './prune';

export const versionPrefix = (fn: string, version: string) => `lambda/${fn}/${version}/`;
export const codeKey = (fn: string, version: string) => `${versionPrefix(fn, version)}code.zip`;
export const configKey = (fn: string, version: string) => `${versionPrefix(fn, version)}configuration.json`;
export const manifestKey = (fn: string, date: string, runId: string) => `lambda/${fn}/exports/${date}/${runId}.json`;
export const latestKey = (fn: string) => `lambda/${fn}/latest.json`;

/** A function's state at export time: enough to recreate it and to move its alias back. */
export interface LambdaManifest {
  format: 'drbot-lambda-export/1';
  exportedAt: string;
  runId: string;
  function: string;
  /** $LATEST's configuration, as Lambda returns it. */
  configuration: FunctionConfiguration;
  versions: { version: string; codeSha256: string; lastModified?: string; codeKey: string; configKey: string }[];
  aliases: { name: string; functionVersion: string; description?: string; routing?: Record<string, number> }[];
}

interface FunctionPlan {
  name: string;
  /** Published versions not yet in the backup bucket (or stored with another checksum). */
  toStore: string[];
  stored: string[];
  aliases: string[];
  error?: string;
}

export interface LambdaPlan {
  bucket: string;
  functions: FunctionPlan[];
  /** Stored version folders past retention (group: the function), deleted after that function's export (with --prune). */
  prune?: Copy[];
}

const published = (v: FunctionConfiguration) => v.Version !== undefined && v.Version !== '$LATEST';

/** The run that stored this version's package with the checksum Lambda has for it, or undefined when it is not stored. */
async function storedBy(deps: RunbookDeps, fn: string, v: FunctionConfiguration): Promise<string | undefined> {
  const { bucket, s3 } = backupTarget(deps);
  const head = await headObject(s3, bucket, codeKey(fn, v.Version ?? ''));
  return head !== undefined && head.metadata['code-sha256'] === v.CodeSha256 ? (head.metadata['drbot-run'] ?? '') : undefined;
}

/** Whether a version's package is already in the bucket with the checksum Lambda has for it. */
const isStored = async (deps: RunbookDeps, fn: string, v: FunctionConfiguration): Promise<boolean> => (await storedBy(deps, fn, v)) !== undefined;

async function planFunction(deps: RunbookDeps, fn: string): Promise<FunctionPlan> {
  try {
    const lambda = deps.clients.lambda(deps.config.regions.primary);
    const versions = await listVersions(lambda, fn);
    const aliases = await listAliases(lambda, fn);
    const pub = versions.filter(published);
    const stored = await mapLimit(pub, 8, (v) => isStored(deps, fn, v));
    return {
      name: fn,
      toStore: pub.filter((_, i) => !stored[i]).map((v) => v.Version ?? ''),
      stored: pub.filter((_, i) => stored[i]).map((v) => v.Version ?? ''),
      aliases: aliases.map((a) => `${a.Name} → ${a.FunctionVersion}`),
    };
  } catch (e) {
    if (!(e instanceof DrbotError)) throw e;
    return { name: fn, toStore: [], stored: [], aliases: [], error: e.message };
  }
}

function routing(a: AliasConfiguration): Record<string, number> | undefined {
  const w = a.RoutingConfig?.AdditionalVersionWeights;
  return w && Object.keys(w).length ? { ...w } : undefined;
}

/** Stores one published version: its code package (checked against Lambda's SHA-256) and its configuration. */
async function storeVersion(deps: RunbookDeps, runId: string, fn: string, version: string): Promise<'stored' | 'already'> {
  const { bucket, s3 } = backupTarget(deps);
  const lambda = deps.clients.lambda(deps.config.regions.primary);
  const conf = (await listVersions(lambda, fn)).find((v) => v.Version === version);
  if (!conf) throw new DrbotError('aws_not_found', `Version ${version} of \`${fn}\` no longer exists.`, 'It was deleted after the plan; nothing to store.');
  // A replayed or retried step finds the package already there and writes nothing twice: stored by
  // this run (its own earlier try), or by another since the plan.
  const by = await storedBy(deps, fn, conf);
  if (by !== undefined) return by === runId ? 'stored' : 'already';
  const location = await codeLocation(lambda, fn, version);
  const bytes = await (deps.fetchCode ?? httpCodeFetcher)(location, conf.CodeSha256 ?? '');
  const got = lambdaSha256(bytes);
  if (got !== conf.CodeSha256) {
    throw new DrbotError('code_checksum_mismatch', `The code package downloaded for \`${fn}:${version}\` has SHA-256 ${got}, Lambda says ${conf.CodeSha256 ?? 'nothing'}.`, 'Run it again; if it persists, the package in Lambda is not what its configuration claims.');
  }
  const meta = { 'drbot-run': runId, 'code-sha256': conf.CodeSha256 ?? '', function: fn, version };
  await putObject(s3, bucket, configKey(fn, version), JSON.stringify(conf), meta);
  // The code last: its presence (with the checksum) is what marks the version stored.
  await putObject(s3, bucket, codeKey(fn, version), bytes, meta, 'application/zip');
  return 'stored';
}

async function writeManifest(deps: RunbookDeps, runId: string, requestedAt: string, fn: string): Promise<{ key: string; versions: number; aliases: LambdaManifest['aliases'] }> {
  const { bucket, s3 } = backupTarget(deps);
  const lambda = deps.clients.lambda(deps.config.regions.primary);
  const [versions, aliases] = await Promise.all([listVersions(lambda, fn), listAliases(lambda, fn)]);
  const latest = versions.find((v) => v.Version === '$LATEST') ?? versions[0] ?? {};
  const manifest: LambdaManifest = {
    format: 'drbot-lambda-export/1',
    exportedAt: deps.now().toISOString(),
    runId,
    function: fn,
    configuration: latest,
    versions: versions.filter(published).map((v) => ({
      version: v.Version ?? '',
      codeSha256: v.CodeSha256 ?? '',
      ...(v.LastModified ? { lastModified: v.LastModified } : {}),
      codeKey: codeKey(fn, v.Version ?? ''),
      configKey: configKey(fn, v.Version ?? ''),
    })),
    aliases: aliases.map((a) => {
      const r = routing(a);
      return { name: a.Name ?? '', functionVersion: a.FunctionVersion ?? '', ...(a.Description ? { description: a.Description } : {}), ...(r ? { routing: r } : {}) };
    }),
  };
  const key = manifestKey(fn, requestedAt.slice(0, 10), runId);
  const body = JSON.stringify(manifest);
  const sha256 = sha256Hex(body);
  await putObject(s3, bucket, key, body, { 'drbot-run': runId, 'version-count': String(manifest.versions.length), sha256 });
  await putObject(s3, bucket, latestKey(fn), JSON.stringify({ key, runId, exportedAt: manifest.exportedAt, sha256, count: manifest.versions.length }), { 'drbot-run': runId });
  return { key, versions: manifest.versions.length, aliases: manifest.aliases };
}

/** `all` (the runbook's "all versions") keeps everything, as `forever` does for the other kinds. */
const retentionOf = (deps: RunbookDeps): Retention => {
  const r = deps.config.retention.lambdaVersions;
  return r === 'all' ? 'forever' : r;
};

/** The prune lines and deletions of every function the plan could read; one that cannot be listed is skipped, saying why. */
async function planPruning(deps: RunbookDeps, input: BackupLambdaInput, bucket: string, functions: readonly FunctionPlan[]): Promise<{ lines: string[]; prune: Copy[] }> {
  const { s3 } = backupTarget(deps);
  const lambda = deps.clients.lambda(deps.config.regions.primary);
  const retention = retentionOf(deps);
  const copies: Copy[] = [];
  const skipped: string[] = [];
  for (const f of functions.filter((x) => !x.error)) {
    try {
      copies.push(...(await listStoredVersionCopies(s3, bucket, lambda, f.name)));
    } catch (e) {
      if (!(e instanceof DrbotError)) throw e;
      skipped.push(`:warning: Prune skipped for \`${f.name}\`: ${e.message}`);
    }
  }
  const pruning = planPrune(copies, retention, deps.now());
  return { lines: [...pruneLines(pruning, ['stored Lambda version', 'stored Lambda versions'], retention, input.dryRun), ...skipped], prune: pruning.delete };
}

const exportFunctions: Runbook<BackupLambdaInput, LambdaPlan> = {
  title: (input) => `Export of Lambda ${input.functions.length ? input.functions.join(', ') : 'functions'}`,
  destructive: false,

  async plan(deps, input) {
    const { bucket } = backupTarget(deps);
    const names = input.functions.length ? input.functions : deps.config.lambda.functions;
    const functions = await mapLimit(names, 4, (fn) => planFunction(deps, fn));
    const verb = input.dryRun ? 'would store' : 'stores';
    const lines = functions.map((f) =>
      f.error
        ? `:x: \`${f.name}\`: ${f.error}`
        : `\`${f.name}\`: ${formatCount(f.toStore.length + f.stored.length)} published version${f.toStore.length + f.stored.length === 1 ? '' : 's'}; ${verb} ${f.toStore.length ? f.toStore.map((v) => `v${v}`).join(', ') : 'none'}${f.stored.length ? ` (${f.stored.map((v) => `v${v}`).join(', ')} already stored)` : ''}; aliases: ${f.aliases.join(', ') || 'none'}`,
    );
    if (names.length === 0) lines.push('No Lambda function is configured: set `lambda.functions` in the drbot config.');
    lines.push(`To \`s3://${bucket}/lambda/<function>/<version>/\`, with a manifest per run; reads Lambda only.`);
    if (!input.prune || names.length === 0) return { lines, empty: names.length === 0, data: { bucket, functions } };
    const pruning = await planPruning(deps, input, bucket, functions);
    lines.push(...pruning.lines);
    return { lines, data: { bucket, functions, prune: pruning.prune } };
  },

  async execute(ctx, deps, input, plan, progress) {
    const failures: string[] = [];
    const lines: string[] = [];
    // Each version stored and each manifest written counts once; a function the plan could not read has neither.
    const total = plan.functions.reduce((n, f) => n + (f.error ? 0 : f.toStore.length + 1), 0);
    let done = 0;
    const exported = new Set<string>();
    for (const f of plan.functions) {
      if (f.error) {
        failures.push(`${f.name}: ${f.error}`);
        lines.push(`:x: \`${f.name}\`: ${f.error}`);
        continue;
      }
      const stored: string[] = [];
      /** Stored since the plan by another run: there, but not by this one. */
      let already = 0;
      const failed: string[] = [];
      const reasons: string[] = [];
      for (const v of f.toStore) {
        // Counted outside the step: a replay skips finished steps but runs this again, so the count holds.
        const n = ++done;
        const r = await safeStep(ctx, `store-${f.name}-${v}`, async () => {
          try {
            return await storeVersion(deps, input.runId, f.name, v);
          } finally {
            // done, refused or not: the count reaches its total
            await progress.report(n, total, 'versions and manifests stored');
          }
        });
        if (r.ok && r.value === 'already') already++;
        else if (r.ok) stored.push(v);
        else {
          failed.push(v);
          failures.push(`${f.name}:${v}: ${r.message}`);
          // the hint too: what to do about it (a version deleted since the plan, a download to try again)
          reasons.push(`   • v${v}: ${withHint(r)}`);
        }
      }
      const n = ++done;
      const m = await safeStep(ctx, `manifest-${f.name}`, async () => {
        try {
          return await writeManifest(deps, input.runId, input.requestedAt, f.name);
        } finally {
          await progress.report(n, total, 'versions and manifests stored');
        }
      });
      if (!m.ok) {
        failures.push(`${f.name}: ${m.message}`);
        lines.push(`:x: \`${f.name}\`: manifest not written: ${withHint(m)}`, ...reasons);
        continue;
      }
      const aliasText = m.value.aliases.map((a) => `${a.name} → v${a.functionVersion}${a.routing ? ` (+ ${Object.entries(a.routing).map(([ver, w]) => `v${ver} ${Math.round(w * 100)}%`).join(', ')})` : ''}`).join(', ');
      lines.push(
        `${failed.length ? ':warning:' : ':white_check_mark:'} \`${f.name}\`: ${formatCount(m.value.versions)} version${m.value.versions === 1 ? '' : 's'} in the backup bucket; stored ${stored.length ? stored.map((v) => `v${v}`).join(', ') : 'none new'}` +
          `${f.stored.length + already ? `, ${f.stored.length + already} already there` : ''}${failed.length ? `; *failed* ${failed.map((v) => `v${v}`).join(', ')}` : ''}; aliases ${aliasText || 'none'}; manifest \`${m.value.key}\``,
      );
      lines.push(...reasons);
      if (!failed.length) exported.add(f.name);
    }
    // A function's old versions go only once this run exported it whole: its newest version is then in the bucket.
    const prune = (plan.prune ?? []).filter((c) => exported.has(c.group));
    if (prune.length) {
      const { s3 } = backupTarget(deps);
      const pruned = await executePrune(ctx, 'lambda', prune, (c) => deleteStoredCopy(s3, plan.bucket, c));
      lines.push(...pruneResultLines(pruned, 'old stored version'));
      failures.push(...pruned.failures);
    }
    const held = (plan.prune ?? []).length - prune.length;
    if (held) lines.push(`Nothing pruned for ${formatCount(held)} stored version${held === 1 ? '' : 's'} of functions whose export did not complete.`);
    return { ok: failures.length === 0, lines, failures };
  },
};

/**
 * Pruning deletes: a person's --prune waits for an approval of the plan that lists what goes. A
 * scheduled run prunes by the config's retention (reviewed policy) without waiting on anyone.
 */
export const runbook = (input: BackupLambdaInput): Runbook<BackupLambdaInput, LambdaPlan> => (input.prune && !input.schedule ? { ...exportFunctions, destructive: true } : exportFunctions);
