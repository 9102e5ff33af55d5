/**
 * One drbot run of the scale bench (bench/scale.ts), in a process of its own so that its peak RSS
 * is drbot's alone: the local stack (the Bolt app behind the signed Slack edge, the Slack stand-in,
 * the durable runner and its checkpoint server, the runbook) on the moto or the S3 model the
 * parent names, with none of the parent's seeding, anchors or checks. The parent runs it with
 * `node --import tsx` and the V8 heap limits AWS Lambda's Node.js runtime sets for a 256 MB
 * function (LAMBDA_256MB_V8_FLAGS in bench/scale.ts); the result is one stdout line, RESULT_MARKER + JSON.
 *
 * Environment: BENCH_SCALE_RUN = JSON { endpoint, text }: the AWS endpoint (moto, or the model in
 * front of it) and the `/dr` text. The user types it, the plan is timed to the runner idle, an
 * approver clicks Approve, the run is timed to the runner idle again.
 *
 * Peak RSS is the kernel's high-water mark of this process (VmHWM in /proc/self/status), not a
 * sample that can miss a peak. Once the stack is ready the heap is collected (`--expose-gc`, as
 * Lambda's bootstrap also passes), the resident set read (VmRSS), and the high-water mark reset
 * (`5` into /proc/self/clear_refs), so the mark at the end is the run's own peak and the run's
 * growth is that peak less the collected, ready stack. The growth holds everything the run added
 * to the process: the runbook's, and also the Slack app's and stand-in's share of the work and the
 * local durable runner's copies of the checkpoints (in production the service keeps those).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { MotoServer } from '../src/local/moto';
import { startLocalStack } from '../src/local/stack';
import { RESULT_MARKER } from './protocol';
import { APPROVER, benchConfig, CHANNEL, type DrbotTimes, findApproveButton, OPERATOR } from './scale-config';

/** VmHWM (the peak) or VmRSS (now) of this process in MiB, from /proc; `fallback` bytes when /proc cannot say. */
function statusMiB(field: 'VmHWM' | 'VmRSS', fallback: number): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    /* not Linux */
  }
  return fallback / 1024 / 1024;
}

/** Resets VmHWM to the present resident set; false where /proc cannot (the peak then includes startup). */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function secondsSince(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function main(): Promise<void> {
  const { endpoint, text } = JSON.parse(process.env.BENCH_SCALE_RUN ?? '{}') as { endpoint?: string; text?: string };
  if (!endpoint || !text) throw new Error('BENCH_SCALE_RUN must name an endpoint and a text');
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 100);
  // The parent's moto (or the model in front of it), which this stack must not stop.
  const moto: MotoServer = { endpoint, port: Number(new URL(endpoint).port), stop: async () => undefined };
  const stack = await startLocalStack({ mode: 'sandbox', seed: false, skipTime: false, config: benchConfig(), moto: Promise.resolve(moto) });
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const readyRssMiB = statusMiB('VmRSS', process.memoryUsage().rss);
    const startupPeakMiB = statusMiB('VmHWM', sampled);
    const peakReset = resetPeak();
    sampled = 0;
    const known = new Set(stack.engine.names());
    let t = process.hrtime.bigint();
    const ack = await stack.client.command({ user: OPERATOR, channel: CHANNEL, text });
    if (ack.status !== 200 || !/Started run/.test(ack.raw)) throw new Error(`"${text}" was not started: HTTP ${ack.status} ${ack.raw.slice(0, 200)}`);
    await stack.engine.idle(100, 30 * 60_000);
    const planSeconds = secondsSince(t);
    const planPeakMiB = statusMiB('VmHWM', sampled);
    const approve = findApproveButton(stack, CHANNEL);
    if (!approve) throw new Error(`no Approve button was posted for "${text}"; messages: ${stack.standIn.channelMessages(CHANNEL).map((m) => m.text.slice(0, 160)).join(' | ')}`);
    t = process.hrtime.bigint();
    const click = await stack.client.click({ user: APPROVER, channel: CHANNEL, messageTs: approve.ts, messageText: approve.text, blocks: approve.blocks, button: approve.button });
    if (click.status !== 200) throw new Error(`approve click failed: HTTP ${click.status} ${click.raw.slice(0, 200)}`);
    await stack.engine.idle(100, 60 * 60_000);
    const seconds = secondsSince(t);
    const name = stack.engine.names().find((n) => !known.has(n));
    const result = name ? stack.engine.result(name) : undefined;
    const summary = result?.getResult() as { status?: string } | undefined;
    clearInterval(sampler);
    const runPeakMiB = statusMiB('VmHWM', sampled);
    const out: DrbotTimes = {
      planSeconds,
      seconds,
      status: `${result ? String(result.getStatus()) : 'no result'}${summary?.status ? ` / ${summary.status}` : ''}`,
      message: (stack.standIn.message(CHANNEL, approve.ts)?.text ?? '').replace(/\s+/g, ' ').slice(0, 240),
      peakRssMiB: Math.max(startupPeakMiB, runPeakMiB),
      readyRssMiB,
      growthMiB: runPeakMiB - readyRssMiB,
      peakReset,
      heapUsedMiB: process.memoryUsage().heapUsed / 1048576,
      planPeakMiB,
    };
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(out)}\n`);
  } finally {
    clearInterval(sampler);
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
