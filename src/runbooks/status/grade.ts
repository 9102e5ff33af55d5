import type { StatusItem, StatusKind } from './posture';

/** A green item and the two ways to mark it down: red always wins, amber never lowers a red. */
export function grader(kind: StatusKind, name: string) {
  const item: StatusItem = { kind, name, colour: 'green', reasons: [], facts: [] };
  return {
    item,
    red(reason: string) {
      item.colour = 'red';
      item.reasons.push(reason);
    },
    amber(reason: string) {
      if (item.colour !== 'red') item.colour = 'amber';
      item.reasons.push(reason);
    },
  };
}
