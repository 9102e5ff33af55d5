import { spacedChecks, spacedDelay } from '../../src/runbooks/spaced-wait';

describe('spacedDelay and spacedChecks', () => {
  it('waits 10 s after each of the first six checks, then 30 s', () => {
    // act
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 34].map(spacedDelay);

    // assess
    expect(delays).toEqual([10, 10, 10, 10, 10, 10, 30, 30, 30]);
  });

  it('makes its last check at the limit: the minutes said are the minutes waited', () => {
    expect(spacedChecks(15)).toBe(35);
    for (let minutes = 1; minutes <= 60; minutes++) {
      // act
      const checks = spacedChecks(minutes);
      // the waits come between checks: one fewer than the checks
      const waited = Array.from({ length: checks - 1 }, (_, k) => spacedDelay(k + 1)).reduce((a, b) => a + b, 0);

      // assess
      expect(Number.isInteger(checks)).toBe(true);
      expect(waited).toBe(minutes * 60);
    }
  });
});
