/**
 * Child-process side of the latency benches. The bench bundles this file with esbuild into its
 * temp dir and runs it with plain `node` (no tsx in the measured process), once per cold start
 * and once per warm series:
 *
 *   node runner.js cold   require the bundle, send one signed request, report timings
 *   node runner.js warm   require the bundle, BENCH_WARMUP + BENCH_COUNT sequential requests
 *
 * Environment: BENCH_BUNDLE (absolute path of the Lambda bundle), BENCH_SECRET (signing secret),
 * BENCH_USER, BENCH_CHANNEL, BENCH_TEXT (the `/dr` text), BENCH_EXPECT (a substring every
 * response body must contain), BENCH_WARMUP, BENCH_COUNT; plus whatever the bundle itself reads.
 * The result is one stdout line `BENCH_RESULT {json}`; anything else on stdout (the app's logs)
 * is ignored by the parent.
 */
const runnerStart = process.hrtime.bigint();

import { randomBytes } from 'node:crypto';
import { httpEvent, localContext, slashCommandBody } from '../src/local/signed';
import { signSlackRequest } from '../src/slack/verify';
import { type ColdResult, RESULT_MARKER, type WarmResult } from './protocol';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string }>;

const env = process.env;
const secret = env.BENCH_SECRET ?? '';
const user = env.BENCH_USER ?? 'UBENCH';
const channel = env.BENCH_CHANNEL ?? 'CBENCH';
const text = env.BENCH_TEXT ?? 'help';
const expected = env.BENCH_EXPECT ?? '';

/** A fresh signed `/dr` request: every one has its own trigger_id, as every Slack request does. */
function signedEvent(): unknown {
  const body = slashCommandBody({ user, channel, text, triggerId: `${Date.now()}.${randomBytes(8).toString('hex')}` });
  return httpEvent(body, signSlackRequest(secret, body));
}

function ms(from: bigint, to: bigint): number {
  return Number(to - from) / 1e6;
}

function good(res: { statusCode: number; body?: string } | undefined): boolean {
  return !!res && res.statusCode === 200 && (res.body ?? '').includes(expected);
}

function report(result: ColdResult | WarmResult): never {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
  // The app keeps sockets (keep-alive agents) open; a Lambda sandbox would be frozen here.
  process.exit(0);
}

async function cold(): Promise<void> {
  const event = signedEvent();
  const context = localContext('bench');
  const t0 = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(env.BENCH_BUNDLE as string) as { handler: Handler };
  const t1 = process.hrtime.bigint();
  const res = await mod.handler(event, context);
  const t2 = process.hrtime.bigint();
  const sinceProcessStartMs = performance.now();
  report({
    mode: 'cold',
    sinceProcessStartMs,
    runnerMs: ms(runnerStart, t2),
    requireMs: ms(t0, t1),
    firstRequestMs: ms(t1, t2),
    status: res?.statusCode ?? 0,
    ok: good(res),
    body: (res?.body ?? '').slice(0, 300),
  });
}

async function warm(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(env.BENCH_BUNDLE as string) as { handler: Handler };
  const warmup = Number(env.BENCH_WARMUP ?? 50);
  const count = Number(env.BENCH_COUNT ?? 1000);
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  for (let i = 0; i < warmup + count; i++) {
    const event = signedEvent(); // signing is the client's work: outside the measured window
    const context = localContext('bench');
    const t0 = process.hrtime.bigint();
    const res = await mod.handler(event, context);
    const t1 = process.hrtime.bigint();
    if (!good(res)) {
      failures++;
      firstFailure ??= `HTTP ${res?.statusCode}: ${(res?.body ?? '').slice(0, 300)}`;
    }
    if (i >= warmup) latencies.push(ms(t0, t1));
  }
  report({ mode: 'warm', latencies, failures, ...(firstFailure ? { firstFailure } : {}) });
}

const mode = process.argv[2];
(mode === 'cold' ? cold() : mode === 'warm' ? warm() : Promise.reject(new Error(`unknown mode ${mode}`))).catch((e: unknown) => {
  process.stderr.write(`bench runner failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
