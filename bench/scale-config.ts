/**
 * The scale bench's estate and its one drbot run's result: shared by bench/scale.ts and the process
 * each drbot run gets (bench/scale-drbot.ts), which must not load the bench's own tools (esbuild,
 * the anchors) into the memory it measures.
 */
import { parseConfig } from '../src/config/load';
import type { DrConfig } from '../src/config/schema';
import type { LocalStack } from '../src/local/stack';
import { ACTION_APPROVE } from '../src/slack/views/run';

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
  /** The local stack's process (bench/scale-drbot.ts: Bolt app, stand-in, local runner), its peak resident set, startup included: VmHWM. */
  peakRssMiB: number;
  /** Its resident set once the stack was ready and its heap collected, before the command. */
  readyRssMiB: number;
  /** Its own peak in the run (VmHWM reset when ready) less readyRssMiB: the Slack side's and the local runner's share of the run. */
  growthMiB: number;
  /** Whether the high-water mark could be reset when ready; if not, growthMiB may be the startup's peak. */
  peakReset: boolean;
  /** The JavaScript heap in use at the end (not collected first). */
  heapUsedMiB: number;
  /** The run's peak once the plan was posted, before the approval. */
  planPeakMiB: number;
  /** The runbook Lambda's process (bench/runbook-lambda.ts): its resident set once loaded, MiB. */
  runbookLoadedMiB: number;
  /** Its peak resident set over its whole life, load, plan, replays and work (VmHWM), MiB. */
  runbookPeakMiB: number;
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

/** The newest message of `channel` with an Approve button, and that button: what an approver clicks. */
export function findApproveButton(
  stack: LocalStack,
  channel: string,
  skip: ReadonlySet<string> = new Set(),
): { ts: string; text: string; blocks: unknown[]; button: { action_id: string; value: string; text: string; block_id?: string } } | undefined {
  for (const m of stack.standIn.channelMessages(channel).reverse()) {
    if (skip.has(m.ts)) continue;
    for (const b of m.blocks) {
      if (b.type !== 'actions') continue;
      for (const el of b.elements) {
        if (el.type === 'button' && el.action_id === ACTION_APPROVE) {
          return {
            ts: m.ts,
            text: m.text,
            blocks: m.blocks,
            button: { action_id: el.action_id, value: el.value ?? '', text: el.text.text, ...(b.block_id ? { block_id: b.block_id } : {}) },
          };
        }
      }
    }
  }
  return undefined;
}
