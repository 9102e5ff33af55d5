import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { DrbotError, withHint } from '../../errors';
import { runbook as amis } from '../backup-amis/runbook';
import { runbook as dynamodb } from '../backup-dynamodb/runbook';
import { runbook as iam } from '../backup-iam/runbook';
import { runbook as lambda } from '../backup-lambda/runbook';
import { runbook as route53 } from '../backup-route53/runbook';
import { isSdkControlFlow, type Outcome, type PlanResult, type Progress, type Runbook } from '../driver';
import type { RunbookDeps } from '../types';
import type { RunBase } from '../verb';
import type { BackupAllInput } from '.';

/** One backup kind, its own runbook behind a shape the combined run can hold in a list. */
interface Part {
  id: string;
  label: string;
  plan(deps: RunbookDeps, all: BackupAllInput): Promise<PlanResult<unknown>>;
  execute(ctx: DurableContext, deps: RunbookDeps, all: BackupAllInput, data: unknown, progress: Progress): Promise<Outcome>;
}

/** Wraps a kind's runbook; its plan data comes back to its own execute, so the cast is to what it produced. */
function part<I, P>(id: string, label: string, rb: Runbook<I, P> | ((input: I) => Runbook<I, P>), input: (all: BackupAllInput) => I): Part {
  // A kind whose runbook depends on its input (--prune) gets the one for this input.
  const of = (i: I): Runbook<I, P> => (typeof rb === 'function' ? rb(i) : rb);
  return {
    id,
    label,
    plan: (deps, all) => of(input(all)).plan(deps, input(all)),
    execute: (ctx, deps, all, data, progress) => of(input(all)).execute(ctx, deps, input(all), data as P, progress),
  };
}

const base = (all: BackupAllInput): RunBase => ({
  runId: all.runId,
  requester: all.requester,
  channel: all.channel,
  commandText: all.commandText,
  requestedAt: all.requestedAt,
});

/** In the order a DR would want them: data first, then what rebuilds the estate. */
export const PARTS: readonly Part[] = [
  part('dynamodb', 'DynamoDB', dynamodb, (a) => ({ ...base(a), kind: 'backup-dynamodb' as const, tables: [], dryRun: a.dryRun, prune: false })),
  part('amis', 'AMIs', amis, (a) => ({ ...base(a), kind: 'backup-amis' as const, dryRun: a.dryRun, prune: false })),
  part('iam', 'IAM', iam, (a) => ({ ...base(a), kind: 'backup-iam' as const, dryRun: a.dryRun, prune: false })),
  part('route53', 'Route53', route53, (a) => ({ ...base(a), kind: 'backup-route53' as const, dryRun: a.dryRun, prune: false })),
  part('lambda', 'Lambda', lambda, (a) => ({ ...base(a), kind: 'backup-lambda' as const, functions: [], dryRun: a.dryRun, prune: false })),
];

interface PartPlan {
  id: string;
  label: string;
  lines: string[];
  empty: boolean;
  data?: unknown;
  error?: string;
}

export interface AllPlan {
  parts: PartPlan[];
}

const LINE_MAX = 600;
/** A kind's line, at most 600 characters: longer, it ends in `…`. */
export const cut = (s: string) => (s.length > LINE_MAX ? `${s.slice(0, LINE_MAX - 1)}…` : s);
/** A kind's own lines as one: each line's leading bullet dropped, its line breaks spaces, joined by ` · `. */
export const flat = (lines: readonly string[]) => lines.map((l) => l.replace(/^\s*•\s*/, '').replace(/\n\s*/g, ' ')).join(' · ');
const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const runbook: Runbook<BackupAllInput, AllPlan> = {
  title: () => 'Every backup: DynamoDB, AMIs, IAM, Route53, Lambda',
  destructive: false,

  async plan(deps, input) {
    const parts: PartPlan[] = [];
    for (const p of PARTS) {
      try {
        const r = await p.plan(deps, input);
        parts.push({ id: p.id, label: p.label, lines: r.lines, empty: r.empty ?? false, data: r.data });
      } catch (e) {
        // One kind that cannot even plan (no bucket, access denied) is reported; the others go on.
        if (!(e instanceof DrbotError)) throw e;
        parts.push({ id: p.id, label: p.label, lines: [], empty: true, error: withHint(e) });
      }
    }
    return {
      lines: parts.map((p) => cut(p.error ? `:x: *${p.label}*: ${p.error}` : `*${p.label}*: ${flat(p.lines.slice(0, 2))}`)),
      empty: parts.every((p) => p.empty),
      data: { parts },
    };
  },

  async execute(ctx, deps, input, plan, progress) {
    const lines: string[] = [];
    const failures: string[] = [];
    for (const pp of plan.parts) {
      const p = PARTS.find((x) => x.id === pp.id);
      if (!p) continue;
      if (pp.error) {
        lines.push(cut(`:x: *${pp.label}*: ${pp.error}`));
        failures.push(`${pp.label}: ${pp.error}`);
        continue;
      }
      if (pp.empty) {
        lines.push(cut(`:white_check_mark: *${pp.label}*: nothing to do. ${flat(pp.lines.slice(0, 1))}`));
        continue;
      }
      try {
        // Each kind in its own child context: its steps and waits are its own, named under it.
        const out = await ctx.runInChildContext(`backup-${pp.id}`, (child) => p.execute(child, deps, input, pp.data, progress));
        lines.push(cut(`${out.ok ? ':white_check_mark:' : ':x:'} *${pp.label}*: ${flat(out.lines)}`));
        failures.push(...out.failures.map((f) => `${pp.label}: ${f}`));
      } catch (e) {
        if (isSdkControlFlow(e)) throw e;
        lines.push(cut(`:x: *${pp.label}*: ${reason(e)}`));
        failures.push(`${pp.label}: ${reason(e)}`);
      }
    }
    return { ok: failures.length === 0, lines, failures };
  },
};
