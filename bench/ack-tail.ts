/**
 * Section 4b: request → HTTP response on the Lambda handler path, post-ack work included.
 *
 * `AwsLambdaReceiver` returns the HTTP response only when the listener returns, so what a listener
 * awaits after `ack()` (the audit write; on errors, Web API calls) is part of what Slack waits for.
 * Here the bundled Slack handler runs in a child process (bench/runner.ts, cold: a fresh process
 * and its first request; warm: sequential requests in one process) with DynamoDB behind a proxy
 * that delays each PutItem (the audit write) by a chosen time, so the cost of that tail shows:
 *
 *   in-region   PutItem + 15 ms     an ordinary DynamoDB write from Lambda
 *   stalled     PutItem + 2,000 ms  a throttled write, retried by the SDK
 *
 * The handler waits for post-ack work at most ACK_TAIL_BUDGET_MS (src/slack/ack-tail.ts), so the
 * stalled write costs the response at most that; the write itself completes in the background.
 */
import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACK_TAIL_BUDGET_MS } from '../src/slack/ack-tail';
import { drbotEnv, type Apps, writeBenchConfig, BENCH_OPERATOR } from './latency';
import type { ColdResult, WarmResult } from './protocol';
import { median, percentile, runNode } from './util';

export interface TailScenario {
  name: string;
  putItemDelayMs: number;
}

export const TAIL_SCENARIOS: TailScenario[] = [
  { name: 'in-region', putItemDelayMs: 15 },
  { name: 'stalled', putItemDelayMs: 2000 },
];

export interface TailRow {
  scenario: string;
  command: string;
  putItemDelayMs: number;
  cold: { medianMs: number; maxMs: number; runs: number; failures: number };
  warm: { p50: number; p99: number; count: number; failures: number };
}

export interface AckTailResult {
  budgetMs: number;
  rows: TailRow[];
}

/** A proxy in front of the fake DynamoDB that holds each PutItem for `delayMs` before forwarding it. */
async function delayingProxy(target: string, delayMs: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '');
      const wait = op.endsWith('.PutItem') ? delayMs : 0;
      setTimeout(() => {
        const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        });
        up.on('error', () => res.writeHead(502).end());
        up.end(Buffer.concat(chunks));
      }, wait);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export async function benchAckTail(apps: Apps, coldRuns = 5, warmCount = 40, warmup = 5, log: (l: string) => void = () => {}): Promise<AckTailResult> {
  const { path, bucket } = writeBenchConfig(apps.tmp);
  const commands = [
    { label: '/dr help', env: { BENCH_TEXT: 'help', BENCH_EXPECT: 'drbot commands' } },
    { label: `/dr restore s3 ${bucket}`, env: { DRBOT_CONFIG: path, BENCH_USER: BENCH_OPERATOR, BENCH_TEXT: `restore s3 ${bucket}`, BENCH_EXPECT: 'Started run' } },
  ];
  const rows: TailRow[] = [];
  for (const scenario of TAIL_SCENARIOS) {
    const proxy = await delayingProxy(apps.dynamo.endpoint, scenario.putItemDelayMs);
    try {
      for (const c of commands) {
        const env = drbotEnv(apps, { ...c.env, AWS_ENDPOINT_URL: proxy.endpoint });
        const cold: ColdResult[] = [];
        for (let i = 0; i < coldRuns; i++) cold.push((await runNode<ColdResult>(apps.runner, ['cold'], env)).result);
        const warm = (await runNode<WarmResult>(apps.runner, ['warm'], { ...env, BENCH_COUNT: String(warmCount), BENCH_WARMUP: String(warmup) }, 300_000)).result;
        const coldFailures = cold.filter((r) => !r.ok);
        if (coldFailures[0]) log(`  ! ${scenario.name} ${c.label} cold: HTTP ${coldFailures[0].status} ${coldFailures[0].body.slice(0, 120)}`);
        rows.push({
          scenario: scenario.name,
          command: c.label,
          putItemDelayMs: scenario.putItemDelayMs,
          cold: { medianMs: median(cold.map((r) => r.firstRequestMs)), maxMs: Math.max(...cold.map((r) => r.firstRequestMs)), runs: cold.length, failures: coldFailures.length },
          warm: { p50: percentile(warm.latencies, 50), p99: percentile(warm.latencies, 99), count: warm.latencies.length, failures: warm.failures },
        });
      }
    } finally {
      await proxy.close();
    }
  }
  return { budgetMs: ACK_TAIL_BUDGET_MS, rows };
}
