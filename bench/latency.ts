/**
 * Sections 2-4: cold start, warm `/dr help` latency, and warm `/dr restore s3` ack latency.
 * Every measurement runs in a child `node` process (bench/runner.ts, bundled) that loads a Lambda
 * bundle and calls its `handler` with HMAC-signed API Gateway events, exactly as Lambda would.
 * drbot's state table is dynalite and the runbook function a fake Lambda endpoint, both served
 * from this (parent) process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { REPO_ROOT, EXAMPLE_CONFIG_FILE } from '../scripts/build';
import { BENCH_CREDENTIALS, BENCH_REGION, BENCH_STATE_TABLE, type FakeDynamo, type FakeLambda } from './fakes';
import type { ColdResult, WarmResult } from './protocol';
import { median, percentile, runNode } from './util';

export const BENCH_OPERATOR = 'UBENCHOPS';

export const RUNBOOK_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:drbot-runbook:live';

export interface Apps {
  runner: string;
  slackBundle: string;
  minimalBundle: string;
  dynamo: FakeDynamo;
  lambda: FakeLambda;
  tmp: string;
}

const signingSecret = randomBytes(16).toString('hex');

/** The parent's environment without anything that could point the child at real AWS or Slack. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|SLACK_|DRBOT_|POWERTOOLS_|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

export function drbotEnv(apps: Apps, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_BOT_TOKEN: 'xoxb-bench-not-a-token',
    SLACK_BOT_ID: 'BBENCH',
    SLACK_BOT_USER_ID: 'UBENCHBOT',
    STATE_TABLE: BENCH_STATE_TABLE,
    RUNBOOK_FUNCTION,
    AWS_REGION: BENCH_REGION,
    AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: apps.dynamo.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: apps.lambda.endpoint,
    BENCH_BUNDLE: apps.slackBundle,
    BENCH_SECRET: signingSecret,
    BENCH_USER: 'UBENCHUSER',
    BENCH_CHANNEL: 'CBENCHOPS',
    BENCH_TEXT: 'help',
    BENCH_EXPECT: 'drbot commands',
    ...extra,
  };
}

function minimalEnv(apps: Apps): NodeJS.ProcessEnv {
  return {
    ...drbotEnv(apps),
    BENCH_BUNDLE: apps.minimalBundle,
    BENCH_EXPECT: 'help',
  };
}

// ---- 2. cold start -----------------------------------------------------------------------------

export interface ColdSide {
  /** Medians over the measured runs. */
  startToResponseMs: number;
  requireMs: number;
  firstRequestMs: number;
  runnerMs: number;
  wallMs: number;
  runs: number;
  failures: number;
  samples: number[];
}

export interface ColdStartResult {
  drbot: ColdSide;
  minimal: ColdSide;
}

function side(samples: { result: ColdResult; wallMs: number }[]): ColdSide {
  return {
    startToResponseMs: median(samples.map((s) => s.result.sinceProcessStartMs)),
    requireMs: median(samples.map((s) => s.result.requireMs)),
    firstRequestMs: median(samples.map((s) => s.result.firstRequestMs)),
    runnerMs: median(samples.map((s) => s.result.runnerMs)),
    wallMs: median(samples.map((s) => s.wallMs)),
    runs: samples.length,
    failures: samples.filter((s) => !s.result.ok).length,
    samples: samples.map((s) => s.result.sinceProcessStartMs),
  };
}

/**
 * `runs` fresh processes per app, alternating A/B (and which goes first each round) so machine
 * noise spreads over both. One unmeasured pair first warms the OS file cache.
 */
export async function coldStart(apps: Apps, runs = 10, log: (l: string) => void = () => {}): Promise<ColdStartResult> {
  const one = (env: NodeJS.ProcessEnv) => runNode<ColdResult>(apps.runner, ['cold'], env);
  await one(drbotEnv(apps));
  await one(minimalEnv(apps));
  const a: { result: ColdResult; wallMs: number }[] = [];
  const b: { result: ColdResult; wallMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const pair = i % 2 === 0 ? (['drbot', 'minimal'] as const) : (['minimal', 'drbot'] as const);
    for (const which of pair) {
      const r = await one(which === 'drbot' ? drbotEnv(apps) : minimalEnv(apps));
      if (!r.result.ok) log(`  ! ${which} cold run ${i + 1}: HTTP ${r.result.status} ${r.result.body.slice(0, 120)}`);
      (which === 'drbot' ? a : b).push(r);
    }
  }
  return { drbot: side(a), minimal: side(b) };
}

// ---- 3 and 4. warm latency ------------------------------------------------------------------------

export interface WarmSide {
  p50: number;
  p99: number;
  max: number;
  count: number;
  failures: number;
  firstFailure?: string;
}

function warmSide(r: WarmResult): WarmSide {
  return {
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    max: Math.max(...r.latencies),
    count: r.latencies.length,
    failures: r.failures,
    ...(r.firstFailure ? { firstFailure: r.firstFailure } : {}),
  };
}

export async function warmHelp(apps: Apps, count = 1000, warmup = 50): Promise<{ drbot: WarmSide; minimal: WarmSide }> {
  const extra = { BENCH_COUNT: String(count), BENCH_WARMUP: String(warmup) };
  const drbot = await runNode<WarmResult>(apps.runner, ['warm'], { ...drbotEnv(apps), ...extra }, 300_000);
  const minimal = await runNode<WarmResult>(apps.runner, ['warm'], { ...minimalEnv(apps), ...extra }, 300_000);
  return { drbot: warmSide(drbot.result), minimal: warmSide(minimal.result) };
}

/**
 * The bundled config names roles by user group, resolved through Slack's usergroups.users.list
 * (and role checks look at approver before operator). The ack bench uses a copy of the example
 * with user IDs in every role, so no request leaves the machine.
 */
export function writeBenchConfig(tmp: string): { path: string; bucket: string } {
  const raw = parseYaml(readFileSync(join(REPO_ROOT, EXAMPLE_CONFIG_FILE), 'utf8')) as {
    s3: { buckets: { name: string }[] };
    slack: { roles: Record<string, string[]> };
  };
  raw.slack.roles = { viewer: ['UBENCHVIEW'], operator: [BENCH_OPERATOR], approver: ['UBENCHAPPR'] };
  const bucket = raw.s3.buckets[0]?.name;
  if (!bucket) throw new Error(`${EXAMPLE_CONFIG_FILE} lists no S3 bucket`);
  const path = join(tmp, 'drbot.bench.yaml');
  writeFileSync(path, stringifyYaml(raw));
  return { path, bucket };
}

export interface AckResult extends WarmSide {
  bucket: string;
  /** Invoke calls the fake Lambda answered during the series, and distinct execution names. */
  invokes: number;
  distinctExecutions: number;
  requests: number;
}

export async function warmAck(apps: Apps, count = 200, warmup = 20): Promise<AckResult> {
  const { path, bucket } = writeBenchConfig(apps.tmp);
  const before = apps.lambda.invokes;
  const namesBefore = apps.lambda.executionNames.size;
  const r = await runNode<WarmResult>(
    apps.runner,
    ['warm'],
    drbotEnv(apps, {
      DRBOT_CONFIG: path,
      BENCH_USER: BENCH_OPERATOR,
      BENCH_TEXT: `restore s3 ${bucket}`,
      BENCH_EXPECT: 'Started run',
      BENCH_COUNT: String(count),
      BENCH_WARMUP: String(warmup),
    }),
    300_000,
  );
  return {
    ...warmSide(r.result),
    bucket,
    invokes: apps.lambda.invokes - before,
    distinctExecutions: apps.lambda.executionNames.size - namesBefore,
    requests: count + warmup,
  };
}
