import type { AliasConfiguration, FunctionConfiguration } from '@aws-sdk/client-lambda';
import { aliasVersionCounts, type VersionCounts } from '../../aws/cloudwatch';
import { getAlias, listVersions, updateAlias, type VersionWeights, weightsOf } from '../../aws/lambda';
import { DrbotError, PreconditionError, sentence, withHint } from '../../errors';
import { code, escapeMrkdwn, oneLine, slackDate } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { type Outcome, type Progress, type Runbook, safeStep, step } from '../driver';
import type { RunbookDeps } from '../types';
import type { NextStep } from '../verb';
import type { RollbackLambdaInput } from '.';

/**
 * How long a canary is watched before its errors are shown and the run offers Complete rollback /
 * Abort: a durable wait (minute by minute, with progress in the message), never a sleeping Lambda.
 */
export const CANARY_WATCH_MINUTES = 5;

/** What the plan shows of a version, and what Lambda's weighted-alias rules compare. */
export interface VersionFacts {
  version: string;
  description: string;
  lastModified?: string;
  codeSha256: string;
  role?: string;
  deadLetter?: string;
}

export interface RollbackPlan {
  mode: 'rollback' | 'canary' | 'abort';
  fn: string;
  alias: string;
  /** The alias's revision when planned: UpdateAlias is refused if it changed since. */
  revisionId: string;
  /** The alias's main version when planned. */
  from: VersionFacts;
  /** The versions the alias also sent traffic to when planned. */
  routing: VersionWeights;
  /** Where the alias goes (rollback), the canary's version (canary), or its main version (abort). */
  to: VersionFacts;
  /** canary: the share of traffic `to` gets, 0.01–0.99. */
  weight?: number;
}

/** The state the alias is to be left in. */
interface AliasState {
  version: string;
  weights: VersionWeights;
}

const lambdaOf = (deps: RunbookDeps) => deps.clients.lambda(deps.config.regions.primary);
const isPublished = (v: FunctionConfiguration) => v.Version !== undefined && v.Version !== '$LATEST';

function factsOf(v: FunctionConfiguration): VersionFacts {
  return {
    version: v.Version ?? '',
    description: v.Description ?? '',
    ...(v.LastModified ? { lastModified: v.LastModified } : {}),
    codeSha256: v.CodeSha256 ?? '',
    ...(v.Role ? { role: v.Role } : {}),
    ...(v.DeadLetterConfig?.TargetArn ? { deadLetter: v.DeadLetterConfig.TargetArn } : {}),
  };
}

/** `v2`, or `$LATEST` as a code span; versions come from AWS but are shown like any other value. */
const ver = (v: string) => (/^\d{1,10}$/.test(v) ? `v${v}` : code(v, 40));
const pct = (w: number) => `${Math.round(w * 1000) / 10} %`;
const routingText = (w: VersionWeights) =>
  Object.entries(w)
    .map(([v, x]) => `${pct(x)} to ${ver(v)}`)
    .join(', ');

function dateText(at: string | undefined): string | undefined {
  if (!at) return undefined;
  const t = Date.parse(at);
  return Number.isNaN(t) ? code(at, 40) : slackDate(new Date(t));
}

/** `v2: "updates DNS", published <date>, code SHA-256 `…`` — every value from AWS escaped. */
export function describeVersion(v: VersionFacts): string {
  const when = dateText(v.lastModified);
  return [`${ver(v.version)}: ${v.description ? code(v.description, 120) : '_no description_'}`, ...(when ? [`published ${when}`] : []), `code SHA-256 ${code(v.codeSha256, 64)}`].join(', ');
}

function sameState(a: AliasConfiguration, want: AliasState): boolean {
  const got = weightsOf(a);
  const keys = new Set([...Object.keys(got), ...Object.keys(want.weights)]);
  return a.FunctionVersion === want.version && [...keys].every((k) => Math.abs((got[k] ?? 0) - (want.weights[k] ?? 0)) < 1e-9);
}

const stateText = (a: AliasConfiguration) => {
  const w = weightsOf(a);
  return `${ver(a.FunctionVersion ?? '?')}${Object.keys(w).length ? ` with ${routingText(w)}` : ' only'}`;
};

/** The function's published versions and the alias, with the function or alias missing said in words. */
async function readFunction(deps: RunbookDeps, fn: string, alias: string): Promise<{ published: FunctionConfiguration[]; all: FunctionConfiguration[]; alias: AliasConfiguration }> {
  const lambda = lambdaOf(deps);
  const missing = () =>
    new PreconditionError('function_not_in_lambda', `\`${fn}\` is in the drbot config but Lambda has no such function in ${deps.config.regions.primary}.`, 'Check the name in `lambda.functions`, or whether the function was deleted (`/dr backup lambda` keeps its versions in the backup bucket).');
  const all = await listVersions(lambda, fn).catch((e: unknown) => {
    throw e instanceof DrbotError && e.code === 'aws_not_found' ? missing() : e;
  });
  // An existing function always lists $LATEST (moto lists nothing for a missing one; AWS says ResourceNotFound).
  if (!all.length) throw missing();
  const published = all.filter(isPublished).sort((a, b) => Number(a.Version) - Number(b.Version));
  // A function deleted between the two calls: GetAlias says "Function not found".
  const a = await getAlias(lambda, fn, alias).catch((e: unknown) => {
    throw e instanceof DrbotError && e.code === 'aws_not_found' && /function not found/i.test(e.message) ? missing() : e;
  });
  return { published, all, alias: a };
}

/** The version the alias goes to: the one named, or the newest published before the alias's main version. */
function targetOf(fn: string, alias: string, published: FunctionConfiguration[], main: string, named: string | undefined): FunctionConfiguration {
  const list = published.map((v) => ver(v.Version ?? '')).join(', ') || 'none';
  if (named !== undefined) {
    const found = published.find((v) => v.Version === named);
    if (!found) {
      throw new PreconditionError('no_such_version', `Version ${named} of \`${fn}\` does not exist. Published versions: ${list}.`, `Name one of them, or leave VERSION out to go back to the version before the one \`${alias}\` is on.`);
    }
    return found;
  }
  const earlier = main === '$LATEST' ? published : published.filter((v) => Number(v.Version) < Number(main));
  const prev = earlier[earlier.length - 1];
  if (!prev) {
    throw new PreconditionError('no_earlier_version', `\`${alias}\` of \`${fn}\` is on ${ver(main)}: there is no published version before it to roll back to (published: ${list}).`, 'Name a VERSION to move to, or publish the version you want first.');
  }
  return prev;
}

/** Lambda's rules for an alias that routes to two versions (it refuses anything else). */
function checkCanary(fn: string, alias: string, from: VersionFacts, to: VersionFacts): void {
  if (from.version === '$LATEST') {
    throw new PreconditionError('canary_on_latest', `\`${alias}\` of \`${fn}\` is on \`$LATEST\`, and Lambda does not split an alias on \`$LATEST\` between two versions.`, 'Roll back without --canary, or point the alias at a published version first.');
  }
  if (from.version === to.version) {
    throw new PreconditionError('canary_same_version', `\`${alias}\` is already on ${ver(to.version)}: a canary needs another version.`, 'Name the VERSION to send part of the traffic to.');
  }
  if ((from.role ?? '') !== (to.role ?? '') || (from.deadLetter ?? '') !== (to.deadLetter ?? '')) {
    throw new PreconditionError(
      'canary_incompatible',
      `Lambda splits an alias only between versions with the same execution role and dead-letter queue; ${ver(from.version)} and ${ver(to.version)} of \`${fn}\` differ.`,
      'Roll back without --canary (all traffic at once).',
    );
  }
}

/**
 * Puts the alias in the wanted state. A replayed or retried step whose earlier call did land finds
 * the revision changed (AWS refuses the update): if the alias is already as wanted, that was us.
 */
async function apply(deps: RunbookDeps, plan: RollbackPlan, want: AliasState): Promise<'updated' | 'already'> {
  const lambda = lambdaOf(deps);
  try {
    await updateAlias(lambda, plan.fn, plan.alias, want.version, want.weights, plan.revisionId);
    return 'updated';
  } catch (e) {
    if (!(e instanceof DrbotError) || e.code !== 'alias_changed') throw e;
    const now = await getAlias(lambda, plan.fn, plan.alias);
    if (sameState(now, want)) return 'already';
    throw e;
  }
}

/** Reads the alias back; the run fails, saying what AWS holds, unless it is as wanted. */
async function verify(ctx: Ctx, deps: RunbookDeps, plan: RollbackPlan, want: AliasState, name: string): Promise<{ ok: true } | { ok: false; line: string; reason: string }> {
  const read = await safeStep(ctx, name, async () => {
    const a = await getAlias(lambdaOf(deps), plan.fn, plan.alias);
    return { ok: sameState(a, want), text: stateText(a), plain: `${a.FunctionVersion ?? '?'} ${JSON.stringify(weightsOf(a))}` };
  });
  if (!read.ok) return { ok: false, line: `The update was sent, but GetAlias could not read the alias back: ${said(read.message)}`, reason: `GetAlias after the update: ${read.message}` };
  if (!read.value.ok) {
    const wanted = stateText({ FunctionVersion: want.version, RoutingConfig: { AdditionalVersionWeights: want.weights } });
    return { ok: false, line: `GetAlias reads ${code(plan.alias)} on ${read.value.text}, not ${wanted}.`, reason: `alias ${plan.alias} reads ${read.value.plain} after the update` };
  }
  return { ok: true };
}

/** AWS's own words (an error message) inside a message: one line, nothing that can mention or link. */
const said = (text: string) => escapeMrkdwn(oneLine(text));

/** A run that ends failed: the line in the result, the reason (plain text) in the failures. */
const failed = (line: string, reason: string, hint?: string, next?: NextStep[]): Outcome => ({
  ok: false,
  lines: [`:x: ${line}`, ...(hint ? [said(hint)] : [])],
  failures: [reason],
  ...(next?.length ? { next } : {}),
});

/** The plan an approver reads: every value from AWS or the user escaped. */
export function planLines(p: RollbackPlan, dryRun: boolean): string[] {
  const head = `${code(p.fn)} alias ${code(p.alias)}`;
  const now = Object.keys(p.routing).length ? ` (now also ${routingText(p.routing)})` : '';
  const verb = dryRun ? 'Would apply' : 'Applies';
  if (p.mode === 'abort') {
    return [
      `${head}: ${ver(p.from.version)} with ${routingText(p.routing)} → *${ver(p.from.version)} only*: the routing is cleared, all traffic goes to its main version.`,
      `Main ${describeVersion(p.from)}`,
      `${verb} with UpdateAlias, then reads the alias back with GetAlias.`,
    ];
  }
  if (p.mode === 'canary') {
    const replaced = Object.entries(p.routing).filter(([v]) => v !== p.to.version);
    return [
      `${head}: stays on ${ver(p.from.version)}; *${pct(p.weight ?? 0)}* of its traffic goes to ${ver(p.to.version)}${now}.`,
      `Main ${describeVersion(p.from)}`,
      `Canary ${describeVersion(p.to)}`,
      ...(replaced.length ? [`Replaces the alias's current routing (${routingText(Object.fromEntries(replaced))}).`] : []),
      `${verb} with UpdateAlias, reads it back with GetAlias, watches ${CANARY_WATCH_MINUTES} minutes, then shows each version's invocations and errors with *Complete rollback* (all traffic to ${ver(p.to.version)}) and *Abort* (all back to ${ver(p.from.version)}).`,
    ];
  }
  const forward = /^\d+$/.test(p.from.version) && Number(p.to.version) > Number(p.from.version);
  return [
    `${head}: ${ver(p.from.version)} → *${ver(p.to.version)}*${now}.`,
    `From ${describeVersion(p.from)}`,
    `To ${describeVersion(p.to)}`,
    ...(forward ? [`:warning: ${ver(p.to.version)} is newer than ${ver(p.from.version)}: this rolls forward.`] : []),
    ...(Object.keys(p.routing).length ? [`The alias's routing (${routingText(p.routing)}) is cleared: all traffic goes to ${ver(p.to.version)}.`] : []),
    `${verb} with UpdateAlias, then reads the alias back with GetAlias.`,
  ];
}

/** What the error metric says about the canary, in words and numbers. */
function metricLines(p: RollbackPlan, counts: VersionCounts[], start: Date, end: Date): string[] {
  const rate = (c: VersionCounts) => (c.invocations ? c.errors / c.invocations : 0);
  const row = (c: VersionCounts, role: string) =>
    `• ${ver(c.version)} (${role}): ${formatCount(c.invocations)} invocation${c.invocations === 1 ? '' : 's'}, ${formatCount(c.errors)} error${c.errors === 1 ? '' : 's'}${c.invocations ? ` (${(rate(c) * 100).toFixed(rate(c) < 0.1 ? 2 : 1)} %)` : ''}`;
  const canary = counts.find((c) => c.version === p.to.version) ?? { version: p.to.version, invocations: 0, errors: 0 };
  const main = counts.find((c) => c.version === p.from.version) ?? { version: p.from.version, invocations: 0, errors: 0 };
  const verdict =
    canary.invocations === 0 && main.invocations === 0
      ? ':grey_question: No invocations were recorded in the window: there is nothing to compare yet. Look at the function\'s metrics again before completing.'
      : canary.invocations === 0
        ? `:grey_question: ${ver(canary.version)} received no invocations in the window yet.`
        : rate(canary) > rate(main)
          ? `:warning: ${ver(canary.version)} fails more often than ${ver(main.version)}: consider *Abort*.`
          : `:white_check_mark: ${ver(canary.version)} fails no more often than ${ver(main.version)}.`;
  return [
    `*Errors* (AWS/Lambda, alias ${code(p.alias)}, ${slackDate(start)} to ${slackDate(end)}; Lambda publishes them a minute or two late):`,
    row(canary, `canary, ${pct(p.weight ?? 0)}`),
    row(main, 'main'),
    verdict,
  ];
}

const MINUTE = 60_000;

type Ctx = Parameters<Runbook<RollbackLambdaInput, RollbackPlan>['execute']>[0];

/** After a failed update, what the alias holds now (read, not assumed: a 5xx may have landed). */
async function updateFailed(ctx: Ctx, deps: RunbookDeps, p: RollbackPlan, r: { message: string; hint?: string }, next?: NextStep[]): Promise<Outcome> {
  const read = await safeStep(ctx, 'read-after-failure', async () => {
    const a = await getAlias(lambdaOf(deps), p.fn, p.alias);
    return { text: stateText(a), unchanged: sameState(a, { version: p.from.version, weights: p.routing }) };
  });
  const now = read.ok ? ` ${code(p.alias)} is on ${read.value.text}${read.value.unchanged ? ', as before: nothing was changed' : ''}.` : '';
  return failed(`UpdateAlias failed: ${said(sentence(r.message))}${now}`, r.message, r.hint, next);
}

async function runCanary(ctx: Ctx, deps: RunbookDeps, p: RollbackPlan, progress: Progress): Promise<Outcome> {
  const want: AliasState = { version: p.from.version, weights: { [p.to.version]: p.weight ?? 0 } };
  const next: NextStep[] = [
    { label: 'Complete rollback', command: `rollback lambda ${p.fn} ${p.to.version}`, style: 'primary' },
    { label: 'Abort', command: `rollback lambda ${p.fn} --abort-canary`, style: 'danger' },
  ];
  const shifted = await safeStep(ctx, 'shift', async () => ({ result: await apply(deps, p, want), at: deps.now().toISOString() }));
  if (!shifted.ok) return updateFailed(ctx, deps, p, shifted);
  const checked = await verify(ctx, deps, p, want, 'verify-shift');
  // The alias is in a state nobody planned: offer Abort (its own plan shows what it would clear).
  if (!checked.ok) return failed(checked.line, checked.reason, undefined, next.slice(1));

  const label = `minutes watched, ${pct(p.weight ?? 0)} of ${code(p.alias)} on ${ver(p.to.version)}:`;
  for (let i = 0; i < CANARY_WATCH_MINUTES; i++) {
    await step(ctx, `watch-${i}`, () => progress.report(i, CANARY_WATCH_MINUTES, label));
    await ctx.wait(`watch-wait-${i}`, { seconds: 60 });
  }

  const shiftedAt = new Date(shifted.value.at);
  const start = new Date(Math.floor(shiftedAt.getTime() / MINUTE) * MINUTE);
  const read = await safeStep(ctx, 'read-metrics', async () => {
    const end = new Date(Math.ceil(Math.max(deps.now().getTime(), shiftedAt.getTime() + CANARY_WATCH_MINUTES * MINUTE) / MINUTE) * MINUTE);
    const counts = await aliasVersionCounts(deps.clients.cloudwatch(deps.config.regions.primary), p.fn, p.alias, [p.to.version, p.from.version], start, end);
    const a = await getAlias(lambdaOf(deps), p.fn, p.alias);
    return { counts, end: end.toISOString(), unchanged: sameState(a, want), now: stateText(a) };
  });
  const lines = [`:white_check_mark: ${code(p.alias)} of ${code(p.fn)} stays on ${ver(p.from.version)} and sends *${pct(p.weight ?? 0)}* of its traffic to ${ver(p.to.version)}${shifted.value.result === 'already' ? ' (already so)' : ''}; verified with GetAlias.`];
  if (read.ok) {
    lines.push(...metricLines(p, read.value.counts, start, new Date(read.value.end)));
    if (!read.value.unchanged) lines.push(`:warning: The alias changed during the watch: it is now on ${read.value.now}. The buttons plan from what it is now.`);
  } else {
    lines.push(`:warning: Could not read the error metrics: ${said(sentence(withHint(read)))} Check the function's Errors metric in CloudWatch before completing.`);
  }
  lines.push(`*Complete rollback* moves all traffic to ${ver(p.to.version)}; *Abort* sends it all back to ${ver(p.from.version)}. Each has its own plan and approval.`);
  return { ok: true, lines, failures: [], next };
}

export const runbook: Runbook<RollbackLambdaInput, RollbackPlan> = {
  title: (input) =>
    input.abortCanary
      ? `Abort of the canary on Lambda ${input.fn}`
      : input.canary !== undefined
        ? `Canary rollback of Lambda ${input.fn}${input.version ? ` to v${input.version}` : ''} at ${input.canary} %`
        : `Rollback of Lambda ${input.fn}${input.version ? ` to v${input.version}` : ''}`,
  destructive: true,
  resources: (input) => [`lambda:${input.fn}`],

  async plan(deps, input) {
    const alias = deps.config.lambda.alias;
    const fn = input.fn;
    const { published, all, alias: a } = await readFunction(deps, fn, alias);
    const main = a.FunctionVersion ?? '';
    const routing = weightsOf(a);
    const mainConf = all.find((v) => v.Version === main) ?? { Version: main };
    const base = { fn, alias, revisionId: a.RevisionId ?? '', from: factsOf(mainConf), routing };

    if (input.abortCanary) {
      const plan: RollbackPlan = { ...base, mode: 'abort', to: factsOf(mainConf) };
      if (!Object.keys(routing).length) {
        return { lines: [`${code(fn)} alias ${code(alias)} is on ${ver(main)} with no routing: there is no canary to abort.`], empty: true, data: plan };
      }
      return { lines: planLines(plan, input.dryRun), data: plan };
    }

    const to = factsOf(targetOf(fn, alias, published, main, input.version));
    if (input.canary !== undefined) {
      const plan: RollbackPlan = { ...base, mode: 'canary', to, weight: input.canary / 100 };
      checkCanary(fn, alias, plan.from, to);
      return { lines: planLines(plan, input.dryRun), data: plan };
    }
    const plan: RollbackPlan = { ...base, mode: 'rollback', to };
    if (to.version === main && !Object.keys(routing).length) {
      return { lines: [`${code(fn)} alias ${code(alias)} is already on ${ver(main)} with no routing: nothing to do.`], empty: true, data: plan };
    }
    return { lines: planLines(plan, input.dryRun), data: plan };
  },

  async execute(ctx, deps, _input, p, progress) {
    if (p.mode === 'canary') return runCanary(ctx, deps, p, progress);
    const want: AliasState = { version: p.mode === 'abort' ? p.from.version : p.to.version, weights: {} };
    const applied = await safeStep(ctx, 'update-alias', () => apply(deps, p, want));
    if (!applied.ok) return updateFailed(ctx, deps, p, applied);
    const checked = await verify(ctx, deps, p, want, 'verify');
    if (!checked.ok) return failed(checked.line, checked.reason);
    const was = `${ver(p.from.version)}${Object.keys(p.routing).length ? ` with ${routingText(p.routing)}` : ''}`;
    const line =
      p.mode === 'abort'
        ? `:white_check_mark: ${code(p.alias)} of ${code(p.fn)} sends all traffic to ${ver(p.from.version)} again (was ${was}); verified with GetAlias.`
        : `:white_check_mark: ${code(p.alias)} of ${code(p.fn)} is on ${ver(p.to.version)} (was ${was}), with no routing; verified with GetAlias.`;
    return { ok: true, lines: [`${line}${applied.value === 'already' ? ' It was already so when the step ran again.' : ''}`], failures: [] };
  },
};
