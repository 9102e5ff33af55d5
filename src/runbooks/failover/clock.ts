/**
 * The RTO clock: time since the request against the objective, as `T+12:04 of 1 h`. The clock
 * starts at the request (the run's requestedAt), not at the approval: an outage's RTO counts from
 * when someone asked for the failover.
 */

/** `12:04` (minutes:seconds), `1:02:03` past an hour. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** `1 h`, `90 min`, `2 h`. */
export function objective(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** `T+12:04 of 1 h` */
export function clock(requestedAt: string, now: Date, rtoMinutes: number): string {
  return `T+${elapsed(now.getTime() - Date.parse(requestedAt))} of ${objective(rtoMinutes)}`;
}

/** Whether the elapsed time is within the objective. */
export function withinRto(requestedAt: string, now: Date, rtoMinutes: number): boolean {
  return now.getTime() - Date.parse(requestedAt) <= rtoMinutes * 60_000;
}
