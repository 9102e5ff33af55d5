import { readFileSync } from 'node:fs';

/** VmHWM (the peak) or VmRSS (now) of this process in MiB, from /proc; `fallback` bytes when /proc cannot say. */
export function statusMiB(field: 'VmHWM' | 'VmRSS', fallback: number): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    /* not Linux */
  }
  return fallback / 1024 / 1024;
}
