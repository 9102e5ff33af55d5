import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WebClient } from '@slack/web-api';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setRetryWait } from '../aws/retry-wait';
import { RoleResolver } from '../approvals/roles';
import { AwsClients } from '../aws/clients';
import type { CodeFetcher } from '../aws/lambda';
import type { DrConfig } from '../config/schema';
import { DrbotError } from '../errors';
import { quietLog } from '../log';
import { LocalRunEngine } from '../runbooks/engine-local';
import { CATALOGUE, type Catalogue } from '../runbooks/catalogue';
import { createRunbookHandler } from '../runbooks/handler';
import type { RunbookDeps } from '../runbooks/types';
import { createApp } from '../slack/app';
import type { AlarmActions, Log, SlackDeps } from '../slack/deps';
import { createSlackEdge, type SlackEdge } from '../slack/edge';
import { RetryingPoster, type RetryOptions, WebApiPoster } from '../slack/poster';
import type { AlarmSimulation } from '../slack/inline';
import { type RunRecord, StateStore } from '../store/state';
import { localRunner, recoverInterrupted } from '../runbooks/recovery';
import { type MotoServer, SANDBOX_CREDENTIALS, startMoto } from './moto';
import { type AwsIdentity, checkAwsIdentity, reason } from './identity';
import { SANDBOX_CONFIG } from './sandbox';
import { packageFetcher, withZone } from './estate';
import { outageHook } from './outage';
import { type SeedOptions, type SeedSummary, seedSandbox } from './seed';
import { SignedSlackClient } from './signed';
import { SlackStandIn } from './slack-standin';

export const LOCAL_STATE_TABLE = 'drbot-state';

export interface LocalStackOptions {
  /** sandbox: moto child process, seeded. aws: the default credential chain (AWS_ENDPOINT_URL honoured). */
  mode: 'sandbox' | 'aws';
  config?: DrConfig;
  /** Seed the sandbox estate (default true in sandbox mode). */
  seed?: boolean;
  deletedObjects?: number;
  /** Durable waits take real time unless true (tests). */
  skipTime?: boolean;
  progressIntervalMs?: number;
  /** Tests only: the approval wait in seconds instead of approvals.expiresMinutes (src/runbooks/types.ts). */
  approvalWaitSeconds?: number;
  now?: () => Date;
  log?: Log;
  /** A real Slack workspace instead of the stand-in (tokens from the environment). */
  realSlack?: { botToken: string };
  /** How runs ride out Slack failures (tests shorten the waits). */
  slackRetry?: RetryOptions;
  /**
   * Tests only: how runs wait before trying AWS again after throttling or a 5xx (src/aws/retry-wait.ts);
   * the test helpers record the waits instead of sleeping them. Default: real time.
   */
  retryWait?: (ms: number) => Promise<void>;
  /**
   * How long a Web API call may go unanswered before the client gives up (and the poster retries):
   * 5000 ms, as on Lambda (src/runtime/aws.ts); tests that stall Slack shorten it.
   */
  slackTimeoutMs?: number;
  /** Downloads Lambda code packages (default: the seeded packages in the sandbox, HTTPS against AWS). */
  fetchCode?: CodeFetcher;
  /** The commands and runbooks (drbot's own unless a test hands in another). */
  catalogue?: Catalogue;
  /** A moto already starting (npm start spawns it before loading the rest). */
  moto?: Promise<MotoServer>;
  /**
   * The sandbox seed already under way into `moto` (npm start begins it as soon as moto answers,
   * while the rest of the bot still loads): its summary and when it began. The stack waits for it
   * instead of seeding itself. It must seed this stack's config.
   */
  seeded?: Promise<{ summary: SeedSummary; at: Date }>;
  /**
   * Called once this stack's own seed and its state table are in moto, before anything else
   * touches them (tests snapshot the seeded sandbox here, to restore it for the next file).
   */
  onSeeded?: (seed: { summary: SeedSummary; at: Date }, moto: MotoServer) => Promise<void>;
  /** Seed progress: objects written of all. */
  onSeedProgress?: (done: number, total: number) => void;
  /**
   * Sandbox only: moto's gaps covered on the sandbox's clients and `/dr simulate corruption`
   * (src/local/sandbox-tools.ts). Given the seed's summary and when it started.
   */
  sandboxTools?: (stack: LocalStackCore, seed: { summary: SeedSummary; at: Date } | undefined) => { corrupt: NonNullable<SlackDeps['corrupt']>; compromise?: SlackDeps['compromise']; outage?: SlackDeps['outage'] };
  /**
   * Tests and the bench only: wraps the runbook handler the local runner invokes (e.g. to make an
   * invocation die the way a crashed Lambda does, and be invoked again from its checkpoints, or to
   * run it in a process of its own, bench/runbook-lambda-host.ts).
   */
  wrapHandler?: (handler: DurableLambdaHandler) => DurableLambdaHandler;
  /** Alarm wiring, added by src/local/alarms.ts when present. */
  alarms?: (stack: LocalStackCore) => { actions: AlarmActions; simulate: (kind: AlarmSimulation, user: string) => Promise<void> };
}

/** Everything but the Slack edge: what alarm wiring needs. */
export interface LocalStackCore {
  config: DrConfig;
  clients: AwsClients;
  store: StateStore;
  standIn: SlackStandIn;
  poster: WebApiPoster;
  engine: LocalRunEngine;
  roles: RoleResolver;
  now: () => Date;
  log: Log;
  sandbox: boolean;
  catalogue: Catalogue;
  /** Sandbox only: the regions `/dr simulate outage` took down (the clients' requests there fail). */
  unreachable?: Set<string>;
}

/** Where approvals, runs and the audit are kept. */
export type StateLocation =
  /** In moto, gone with the sandbox. */
  | { kind: 'sandbox'; table: string }
  /** A table at AWS_ENDPOINT_URL, created if missing and kept from one start to the next. */
  | { kind: 'table'; table: string; endpoint: string }
  /** An embedded engine in this process: gone at exit. */
  | { kind: 'memory' };

export interface LocalStack extends LocalStackCore {
  moto?: MotoServer;
  /** --aws mode: the account and region drbot acts on. */
  identity?: AwsIdentity;
  state: StateLocation;
  slackDeps: SlackDeps;
  edge: SlackEdge;
  client: SignedSlackClient;
  signingSecret: string;
  /** Runs an earlier local drbot left unfinished when it stopped, marked interrupted at this start. */
  interrupted: RunRecord[];
  close(): Promise<void>;
}

/** An embedded DynamoDB engine for the state table when no endpoint is given (--aws locally). */
async function startDynalite(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** The local runner's environment is process-wide: set up by the first stack, torn down by the last. */
let runnerReady: Promise<void> | undefined;
/** Captured before the runner installs fake timers (skipTime), so the app keeps real time. */
const RealDate = globalThis.Date;
let openStacks = 0;

/**
 * Builds the local runtime: AWS (sandbox moto or real), the state table, the Slack stand-in, the
 * durable runner, and the real Bolt app behind the same signature-checking edge as Lambda.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const sandbox = opts.mode === 'sandbox';
  let config = opts.config ?? SANDBOX_CONFIG;
  let fetchCode = opts.fetchCode;
  const now = opts.now ?? (() => new RealDate());
  const log = opts.log ?? quietLog();
  const closers: (() => Promise<void>)[] = [];
  if (opts.retryWait) {
    setRetryWait(opts.retryWait);
    closers.push(async () => setRetryWait(undefined));
  }

  let moto: MotoServer | undefined;
  let clients: AwsClients;
  let store: StateStore;
  let identity: AwsIdentity | undefined;
  let state: StateLocation = { kind: 'memory' };
  let seed: { summary: SeedSummary; at: Date } | undefined;
  const unreachable = sandbox ? new Set<string>() : undefined;
  if (sandbox) {
    const m = await (opts.moto ?? startMoto());
    moto = m;
    closers.push(() => m.stop());
    clients = new AwsClients(config.regions.primary, { endpoint: m.endpoint, credentials: SANDBOX_CREDENTIALS, ...(unreachable ? { onClient: outageHook(unreachable) } : {}) });
    // drbot's own state table keeps answering through a simulated outage: its own client.
    const stateDdb = new AwsClients(config.regions.primary, { endpoint: m.endpoint, credentials: SANDBOX_CREDENTIALS }).dynamodb();
    const seedOpts: SeedOptions = {
      ...(opts.deletedObjects !== undefined ? { deletedObjects: opts.deletedObjects } : {}),
      ...(m.putMany ? { putMany: m.putMany } : {}),
      ...(m.putItems ? { putItems: m.putItems } : {}),
      ...(opts.onSeedProgress ? { onProgress: opts.onSeedProgress } : {}),
    };
    // The seed, the state table and the durable runner do not wait on each other.
    const early = opts.seeded;
    const started = now();
    const [seeded] = await Promise.all([
      (opts.seed ?? true) ? (early ?? seedSandbox(clients, config, seedOpts).then((summary) => ({ summary, at: started }))) : undefined,
      StateStore.createTable(stateDdb, LOCAL_STATE_TABLE),
      // Fake timers (skipTime, in tests) are installed only once the seed is done.
      opts.skipTime ? undefined : (runnerReady ??= LocalRunEngine.setup({ skipTime: false })),
    ]);
    if (seeded && !early) await opts.onSeeded?.(seeded, m);
    if (seeded) {
      seed = seeded;
      // moto picks the zone ID; moto's code locations cannot be downloaded, so serve the seeded packages.
      config = withZone(config, seeded.summary.estate.zoneId);
      fetchCode ??= packageFetcher(seeded.summary.estate.packages);
    }
    store = new StateStore(stateDdb, LOCAL_STATE_TABLE, now);
    state = { kind: 'sandbox', table: LOCAL_STATE_TABLE };
  } else {
    clients = new AwsClients(config.regions.primary);
    identity = await checkAwsIdentity(clients);
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (endpoint) {
      const table = process.env.DRBOT_STATE_TABLE ?? LOCAL_STATE_TABLE;
      state = { kind: 'table', table, endpoint };
      try {
        await StateStore.createTable(clients.dynamodb(), table);
      } catch (e) {
        throw new DrbotError(
          'state_table',
          `Could not create or find the state table \`${table}\` at ${endpoint}: ${reason(e)}`,
          'drbot keeps approvals, runs and the audit there (DRBOT_STATE_TABLE names it). Check that the endpoint is up and allows dynamodb:CreateTable and DescribeTable, or unset AWS_ENDPOINT_URL to keep state in memory.',
        );
      }
      store = new StateStore(clients.dynamodb(), table, now);
    } else {
      const d = await startDynalite();
      closers.push(d.close);
      const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: d.endpoint, credentials: SANDBOX_CREDENTIALS });
      await StateStore.createTable(ddb, LOCAL_STATE_TABLE);
      store = new StateStore(ddb, LOCAL_STATE_TABLE, now);
    }
  }

  const standIn = new SlackStandIn();
  const slackApiUrl = opts.realSlack ? undefined : await standIn.start();
  if (slackApiUrl) closers.push(() => standIn.stop());
  const botToken = opts.realSlack?.botToken ?? 'xoxb-local-sandbox';
  // Fail fast like the Lambda functions' client; runs retry through a RetryingPoster. Without a
  // timeout a Slack that takes a request and never answers would hang the run forever.
  const timeout = opts.slackTimeoutMs ?? 5000;
  const web = slackApiUrl ? new WebClient(botToken, { slackApiUrl, timeout, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }) : new WebClient(botToken, { timeout });
  const poster = new WebApiPoster(web);

  const runbookDeps: RunbookDeps = {
    config,
    clients,
    store,
    slack: new RetryingPoster(poster, opts.slackRetry ?? {}),
    now,
    runner: localRunner(),
    ...(fetchCode ? { fetchCode } : {}),
    ...(opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {}),
    ...(opts.approvalWaitSeconds !== undefined ? { approvalWaitSeconds: opts.approvalWaitSeconds } : {}),
  };
  runnerReady ??= LocalRunEngine.setup({ skipTime: opts.skipTime ?? false });
  await runnerReady;
  openStacks++;
  closers.push(async () => {
    // Its worker thread would otherwise keep the process (and jest) alive.
    if (--openStacks === 0) {
      runnerReady = undefined;
      await LocalRunEngine.teardown();
    }
  });
  const catalogue = opts.catalogue ?? CATALOGUE;
  const engine = new LocalRunEngine((opts.wrapHandler ?? ((h) => h))(createRunbookHandler(runbookDeps, catalogue)), (r) => {
    if (r.status !== 'SUCCEEDED') log.error('run ended', { name: r.name, status: r.status, error: r.error });
  });
  const roles = new RoleResolver(config, async (usergroup) => (await web.usergroups.users.list({ usergroup })).users ?? []);
  const core: LocalStackCore = { config, clients, store, standIn, poster, engine, roles, now, log, sandbox, catalogue, ...(unreachable ? { unreachable } : {}) };
  const alarms = opts.alarms?.(core);
  const tools = sandbox ? opts.sandboxTools?.(core, seed) : undefined;

  const slackDeps: SlackDeps = {
    config,
    store,
    engine,
    roles,
    slack: new RetryingPoster(poster, opts.slackRetry ?? {}),
    now,
    log,
    catalogue,
    ...(alarms ? { alarms: alarms.actions } : {}),
    ...(alarms && sandbox ? { simulate: alarms.simulate } : {}),
    ...(tools ? { corrupt: tools.corrupt } : {}),
    ...(tools?.compromise ? { compromise: tools.compromise } : {}),
    ...(tools?.outage ? { outage: tools.outage } : {}),
  };
  // A persistent state table may hold runs an earlier local drbot never finished: say they died.
  const interrupted = await recoverInterrupted({ store, slack: slackDeps.slack, config, catalogue, now }).catch((e: unknown) => {
    log.warn('could not check for interrupted runs', { error: String(e) });
    return [];
  });
  const signingSecret = randomBytes(16).toString('hex');
  const edge = createSlackEdge({
    secrets: async () => ({ signingSecret, botToken }),
    log,
    build: (_s, receiver) => createApp({ receiver, botToken, botId: 'BDRBOT', botUserId: 'UDRBOT', ...(slackApiUrl ? { slackApiUrl } : {}) }, slackDeps),
  });

  return {
    ...core,
    ...(moto ? { moto } : {}),
    ...(identity ? { identity } : {}),
    state,
    slackDeps,
    edge,
    client: new SignedSlackClient(edge, signingSecret, config.slack.teamId),
    signingSecret,
    interrupted,
    async close() {
      for (const c of closers.reverse()) await c().catch(() => {});
    },
  };
}
