/*
 * A spaced durable wait: checked often at first, when most things finish (a Route53 change, an
 * on-demand backup), then less: fewer AWS calls and fewer operations in the run's durable history.
 */

/** A spaced wait: checks this far apart in its first minute, then further. */
const SOON = { seconds: 10, checks: 6 };
const LATER_SECONDS = 30;

/** The wait after check `checks` (from 1) of a spaced wait: every 10 s in its first minute, then every 30 s. */
export function spacedDelay(checks: number): number {
  return checks <= SOON.checks ? SOON.seconds : LATER_SECONDS;
}

/**
 * The checks of a spaced wait (spacedDelay) over `minutes` (whole, at least 1), the first at once
 * and the last at the limit: 35 in 15 min.
 */
export function spacedChecks(minutes: number): number {
  return 1 + SOON.checks + (minutes * 60 - SOON.checks * SOON.seconds) / LATER_SECONDS;
}
