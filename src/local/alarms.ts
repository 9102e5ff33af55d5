import type { LocalStackOptions } from './stack';

/** Alarm wiring for the local runtime (filled in with the alarm service). */
export const localAlarms: LocalStackOptions['alarms'] = undefined;
