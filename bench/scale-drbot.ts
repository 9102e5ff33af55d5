/**
 * One drbot run of the scale bench (bench/scale.ts), in a process of its own: the local stack (the
 * Bolt app behind the signed Slack edge, the Slack stand-in, the durable SDK's local runner and its
 * checkpoint server) on the moto or the S3 model the parent names, with none of the parent's
 * seeding, anchors or checks. The runbook itself runs in a third process, the runbook Lambda
 * (bench/runbook-lambda.ts, started by bench/runbook-lambda-host.ts), which the local runner
 * invokes: its peak RSS over its whole life is the figure the bench holds to 256 MiB. The parent
 * runs this process with `node --import tsx` and the same V8 limits; the result is one stdout
 * line, RESULT_MARKER + JSON.
 *
 * Environment: BENCH_SCALE_RUN = JSON { endpoint, text, runbookBundle }: the AWS endpoint (moto,
 * or the model in front of it), the `/dr` text and the runbook Lambda's bundle. The user types the
 * command, the plan is timed to the runner idle, an approver clicks Approve, the run is timed to
 * the runner idle again.
 *
 * This process's own memory is reported beside the runbook's, for comparison: its peak RSS is the
 * kernel's high-water mark (VmHWM in /proc/self/status). Once the stack is ready the heap is
 * collected, the resident set read (VmRSS) and the high-water mark reset (`5` into
 * /proc/self/clear_refs), so the growth is the run's: the Slack side's share of the work and the
 * local runner's copies of every checkpoint (in production the durable service keeps those).
 */
import { writeFileSync } from 'node:fs';
import type { MotoServer } from '../src/local/moto';
import { LOCAL_STATE_TABLE, startLocalStack } from '../src/local/stack';
import { statusMiB } from './proc-memory';
import { RESULT_MARKER } from './protocol';
import { type RunbookLambda, startRunbookLambda } from './runbook-lambda-host';
import { APPROVER, benchConfig, CHANNEL, type DrbotTimes, findApproveButton, OPERATOR } from './scale-config';

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
  const { endpoint, text, runbookBundle } = JSON.parse(process.env.BENCH_SCALE_RUN ?? '{}') as { endpoint?: string; text?: string; runbookBundle?: string };
  if (!endpoint || !text || !runbookBundle) throw new Error('BENCH_SCALE_RUN must name an endpoint, a text and the runbook Lambda bundle');
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 100);
  // The parent's moto (or the model in front of it), which this stack must not stop.
  const moto: MotoServer = { endpoint, port: Number(new URL(endpoint).port), stop: async () => undefined };
  // The local runner invokes the runbook Lambda in its own process, started once the stand-in is up.
  let lambda: Promise<RunbookLambda> | undefined;
  const stack = await startLocalStack({
    mode: 'sandbox',
    seed: false,
    skipTime: false,
    config: benchConfig(),
    moto: Promise.resolve(moto),
    wrapHandler: () => async (event, context) => {
      if (!lambda) throw new Error('the runbook Lambda was invoked before it was started');
      return (await lambda).handler(event, context);
    },
  });
  lambda = startRunbookLambda(runbookBundle, { endpoint, slackApiUrl: stack.standIn.url, table: LOCAL_STATE_TABLE, config: stack.config });
  try {
    const runbook = await lambda;
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
    const runbookEnd = await runbook.memory();
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
      runbookLoadedMiB: runbook.loaded.rssMiB,
      runbookPeakMiB: runbookEnd.peakMiB,
    };
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(out)}\n`);
  } finally {
    clearInterval(sampler);
    void lambda.then((l) => l.stop(), () => undefined);
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
