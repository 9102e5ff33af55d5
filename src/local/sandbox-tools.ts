import { renderCompromise, simulateCompromise } from './compromise';
import { corruptTable, renderCorruption } from './corruption';
import { coverMotoGaps } from './moto-gaps';
import { simulateOutage } from './outage';
import type { LocalStackOptions } from './stack';

/** How far back the seeded tables' point-in-time history reaches: their seeded items count as their state this long before the seed. */
export const SEEDED_HISTORY_MS = 3_600_000;

/**
 * The sandbox's own tools, on its own clients (never against real AWS: the stack calls this in
 * sandbox mode only): moto's gaps covered (moto-gaps.ts, point-in-time history included) and
 * `/dr simulate corruption`.
 */
export const localSandboxTools: NonNullable<LocalStackOptions['sandboxTools']> = (core, seed) => {
  const withPitr = seed?.summary.tables.filter((t) => t.shape !== 'no-pitr').map((t) => t.name) ?? [];
  const { trail } = coverMotoGaps(core.clients, core.config, {
    now: core.now,
    ...(seed ? { historyFrom: { tables: withPitr, at: new Date(seed.at.getTime() - SEEDED_HISTORY_MS) } } : {}),
  });
  return {
    async corrupt(table, user, channel) {
      const report = await corruptTable(core.clients, core.config, table, core.now);
      await core.poster.post(channel, renderCorruption(report, user));
    },
    async compromise(user, channel) {
      const at = core.now();
      const sim = await simulateCompromise(core.clients, core.config, trail, core.now);
      await core.poster.post(channel, renderCompromise(sim, user, at));
    },
    async outage(region, end, _user, channel) {
      const down = core.unreachable;
      if (!down) return;
      await core.poster.post(channel, { text: await simulateOutage(core.clients, core.config, down, region, end, core.now()) });
    },
  };
};
