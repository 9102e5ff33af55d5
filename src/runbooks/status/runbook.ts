import { renderStatus } from '../../slack/views/status';
import { type Runbook, STEP } from '../driver';
import type { StatusInput } from '.';
import { computeStatus } from './posture';

/** `/dr status` as a run: read-only, no approval; the report replaces the run message. */
export const runbook: Runbook<StatusInput, null> = {
  title: () => 'Backup posture',
  destructive: false,
  async plan() {
    return { lines: ['Reading the backup settings of every configured resource (read-only).'], data: null };
  },
  async execute(ctx, deps) {
    const report = await ctx.step('status', async () => {
      const r = await computeStatus(deps.config, deps.clients, deps.now());
      return JSON.parse(JSON.stringify(r)) as typeof r;
    }, STEP);
    const counts = { red: 0, amber: 0, green: 0, grey: 0 };
    for (const i of report.items) counts[i.colour]++;
    return {
      ok: true,
      lines: [`overall ${report.overall}: ${counts.red} red, ${counts.amber} amber, ${counts.green} green, ${counts.grey} not checked`],
      failures: [],
      message: renderStatus({ ...report, generatedAt: new Date(report.generatedAt) }, deps.config),
    };
  },
};
