import { type Runbook } from '../driver';
import { cleanUp, findLeftovers, type Leftovers, leftoverLines } from '../drill/cleanup';
import type { DrillCleanupInput } from '.';

/** `/dr drill cleanup RUN_ID`: the plan lists what the drill left (found by its id); after approval it goes. */
export const runbook: Runbook<DrillCleanupInput, Leftovers> = {
  title: (input) => `Clean-up of drill \`${input.drillRunId}\``,
  destructive: true,
  resources: (input) => [`drill-cleanup:${input.drillRunId}`],

  async plan(deps, input) {
    const found = await findLeftovers(deps, input.drillRunId);
    const items = leftoverLines(found, deps.config.regions.backup);
    if (!items.length) return { lines: [`Drill \`${input.drillRunId}\` left nothing behind: no instance, canary or temporary table carries its id.`], empty: true, data: found };
    return {
      lines: [`${input.dryRun ? 'Would remove' : 'Removes'} what drill \`${input.drillRunId}\` created (found by its id; nothing else is touched):`, ...items],
      data: found,
    };
  },

  async execute(ctx, deps, input) {
    const r = await cleanUp(ctx, deps, input.drillRunId);
    return {
      ok: r.failures.length === 0,
      lines: [r.removed.length ? `*Removed:* ${r.removed.join('; ')}.` : 'Nothing was left to remove.'],
      failures: r.failures,
      ...(r.failures.length ? { next: [{ label: 'Clean up now', command: `drill cleanup ${input.drillRunId}`, style: 'danger' as const }] } : {}),
    };
  },
};
