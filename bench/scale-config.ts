/**
 * The scale bench's estate and its one drbot run's result: shared by bench/scale.ts and the process
 * each drbot run gets (bench/scale-drbot.ts), which must not load the bench's own tools (esbuild,
 * the anchors) into the memory it measures.
 */
import { parseConfig } from '../src/config/load';
import type { DrConfig } from '../src/config/schema';

export const SCALE_BUCKET = 'drbot-bench-scale';
export const CB_PRIMARY = 'drbot-bench-copyback';
export const CB_REPLICA = 'drbot-bench-copyback-replica';
export const OPERATOR = 'UBENCHOPS';
export const APPROVER = 'UBENCHAPPR';
export const CHANNEL = 'CBENCHOPS';
export const REGION = 'us-east-1';

export interface DrbotTimes {
  planSeconds: number;
  seconds: number;
  status: string;
  message: string;
  /** The run's process (bench/scale-drbot.ts, the whole local stack), its peak resident set: VmHWM. */
  peakRssMiB: number;
  /** Its resident set once the stack was ready, before the command. */
  readyRssMiB: number;
  /** peakRssMiB less readyRssMiB: what the run added, the stand-in's and the runner's share included. */
  growthMiB: number;
  /** The JavaScript heap in use at the end (not collected first). */
  heapUsedMiB: number;
  /** The process's peak once the plan was posted, before the approval. */
  planPeakMiB: number;
}

export function benchConfig(): DrConfig {
  return parseConfig(
    {
      name: 'bench-scale',
      regions: { primary: REGION, backup: 'us-west-2' },
      s3: { buckets: [{ name: SCALE_BUCKET }, { name: CB_PRIMARY, replica: { bucket: CB_REPLICA, region: REGION } }] },
      dynamodb: { tables: [] },
      slack: { channels: { ops: CHANNEL, alerts: 'CBENCHALERT' }, roles: { viewer: [], operator: [OPERATOR], approver: [APPROVER] } },
      approvals: { required: 1, expiresMinutes: 60 },
    },
    'bench scale config',
  );
}
