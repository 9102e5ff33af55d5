import { positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr drill history`: the last drills' reports as a table, with the trend. */
export const verb = defineVerb({
  id: 'drill-history',
  words: ['drill', 'history'],
  group: 'Incidents',
  summary: 'the last drills: measured RTO and RPO per drill against the objectives, and the trend',
  example: '/dr drill history',
  role: 'viewer',
  destructive: false,
  args: {
    count: positional('count', 'N', 'how many drills, 1 to 24', { min: 1, max: 24, default: 6 }),
  },
  input: (a) => ({ count: a.count }),
});

export type DrillHistoryInput = RunOf<typeof verb>;
