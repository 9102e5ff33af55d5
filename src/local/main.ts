// Only what is needed before moto starts is imported here; the rest (the AWS SDK, Bolt) loads
// while moto boots (see main).
import { resolve as resolvePath } from 'node:path';
import { DrbotError } from '../errors';
import { reason } from './identity';
import type { DrConfig } from '../config/schema';
import { type MotoServer, MotoMissingError, MOTO_INSTALL_HINT, SANDBOX_CREDENTIALS, startMoto, takeEarlyMoto } from './moto';
import type { SeedSummary } from './seed';
import type { LocalStack } from './stack';

const USAGE = `Usage: npm start [-- --aws] [--config FILE]

  (default)      sandbox: a local moto server seeded with a small "spawn" estate; nothing real is touched
  --aws          real AWS through the default credential chain (AWS_ENDPOINT_URL honoured)
  --config FILE  the drbot config (or DRBOT_CONFIG); required with --aws; relative to where you typed it

With --aws and AWS_ENDPOINT_URL, state is kept in the table DRBOT_STATE_TABLE (default drbot-state)
at that endpoint, created if missing; without an endpoint it is in memory and gone at exit.

With SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) it serves a real
Slack workspace; otherwise it is a terminal chat: type /dr help, /as NAME, /press N.`;

interface Args {
  aws: boolean;
  config?: string;
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { aws: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--aws') args.aws = true;
    else if (a === '--config') {
      const v = argv[++i];
      if (!v) throw new DrbotError('usage', '--config needs a file path', USAGE);
      args.config = v;
    } else if (a?.startsWith('--config=')) args.config = a.slice(9);
    else if (a === '--help' || a === '-h') throw new DrbotError('help', USAGE);
    else throw new DrbotError('usage', `unknown argument ${JSON.stringify(a)}`, USAGE);
  }
  return args;
}

/**
 * A path as the user typed it: npm runs scripts in the package directory, so a relative path is
 * resolved against INIT_CWD (where `npm start` was typed), not against the drbot checkout.
 */
export function resolveFromUser(path: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolvePath(env.INIT_CWD ?? cwd, path);
}

/** Which account, region and endpoint --aws mode acts on, and where its state lives. */
function awsReadyLine(stack: LocalStack): string {
  const id = stack.identity;
  const target = id ? `account ${id.account} (${id.arn}) in ${id.region}${id.endpoint ? ` at ${id.endpoint}` : ''}` : 'AWS';
  const st = stack.state;
  const state =
    st.kind === 'table'
      ? `State: table ${st.table} at ${st.endpoint} (created if missing, kept from one start to the next; DRBOT_STATE_TABLE to change).`
      : 'State: in memory only (no AWS_ENDPOINT_URL), so approvals, runs and the audit are gone when drbot exits.';
  return `drbot: ready. Acting on ${target}. Every destructive command still needs a plan and an approval.\n${state}`;
}

/** Who the terminal user is in --aws mode, and how to be someone else. */
function whoLine(stack: LocalStack): string {
  const roles = stack.config.slack.roles;
  const ids = [...new Set([...roles.operator, ...roles.approver, ...roles.viewer])].filter((p) => /^[UW][A-Z0-9]{2,20}$/.test(p));
  if (!ids.length) {
    return 'drbot: your config gives roles to Slack user groups only (S…), which cannot be resolved without Slack, so every command would be refused. Add Slack user IDs (U…) under slack.roles in the config you start with, then /as U… (see README, "Other ways to run it").';
  }
  return `drbot: roles come from your config; act as one of its users with /as: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', …' : ''}.`;
}

/** The sandbox seed into moto, begun as soon as moto answers; rejects as moto's start does. */
async function seedEarly(moto: Promise<MotoServer>, config: DrConfig | undefined, onProgress?: (done: number, total: number) => void): Promise<{ summary: SeedSummary; at: Date }> {
  const [m, { seedSandbox }, { AwsClients }, { SANDBOX_CONFIG }] = await Promise.all([moto, import('./seed'), import('../aws/clients'), import('./sandbox')]);
  const cfg = config ?? SANDBOX_CONFIG;
  const at = new Date();
  const clients = new AwsClients(cfg.regions.primary, { endpoint: m.endpoint, credentials: SANDBOX_CREDENTIALS });
  const summary = await seedSandbox(clients, cfg, {
    ...(m.putMany ? { putMany: m.putMany } : {}),
    ...(m.putItems ? { putItems: m.putItems } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  return { summary, at };
}

async function main(): Promise<number> {
  // Our machines run Node 20; Lambda runs 22. The SDK's upgrade notice would only clutter the chat.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = parseArgs(process.argv.slice(2));
  const configPath = args.config ?? process.env.DRBOT_CONFIG;
  if (args.aws && !configPath) throw new DrbotError('usage', '--aws needs a config: --config FILE or DRBOT_CONFIG', USAGE);
  const say = (t: string) => process.stderr.write(`${t}\n`);
  // SIGTERM, SIGINT and SIGHUP end the whole tree: the stack (moto, the runner) is stopped, then the
  // process exits (its exit handler kills a moto still starting). Node's default for SIGTERM would
  // skip exit handlers and leave moto orphaned. A second signal (half a second or more later) exits at once.
  let stop: () => Promise<void> = async () => {};
  let stopping: number | undefined;
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      // One Ctrl-C can arrive twice (from the terminal's process group, and passed on by npm and
      // start.cjs): only a signal a moment after the first one means "now".
      if (stopping !== undefined) {
        if (Date.now() - stopping > 500) process.exit(code);
        return;
      }
      stopping = Date.now();
      void stop()
        .catch(() => {})
        .finally(() => process.exit(code));
    });
  }
  // moto takes a couple of seconds to boot: start it first (`npm start` already has: start.cjs), and load the rest meanwhile.
  const early = takeEarlyMoto();
  const moto: Promise<MotoServer> | undefined = args.aws ? undefined : startMoto(early ? { adopt: early } : {});
  moto?.catch(() => {});
  if (!args.aws) say('drbot: starting the sandbox (moto on loopback, seeding the spawn estate)…');
  const { loadConfigFile } = await import('../config/load');
  const config = configPath ? loadConfigFile(resolveFromUser(configPath)) : undefined;
  const progress = process.stderr.isTTY
    ? (done: number, total: number) => process.stderr.write(`\r\x1b[2Kdrbot: seeding the sandbox… ${done}/${total} objects`)
    : undefined;
  // The seed needs only moto, the config and its own modules: it begins as soon as moto answers,
  // while the rest of the bot (runbooks, Slack app, durable runner) loads.
  const seeded = moto ? seedEarly(moto, config, progress) : undefined;
  seeded?.catch(() => {});
  const [{ startLocalStack }, { localAlarms }, { localSandboxTools }] = await Promise.all([import('./stack'), import('./alarms'), import('./sandbox-tools')]);
  const env = process.env;
  const real = Boolean(env.SLACK_BOT_TOKEN && (env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN));
  if (moto) {
    await moto.catch((e: unknown) => {
      if (e instanceof MotoMissingError) {
        throw new DrbotError('moto_missing', e.message, `Install it with:\n  ${MOTO_INSTALL_HINT}\nor run against real AWS with: npm start -- --aws --config FILE`);
      }
      throw e;
    });
  }
  if (args.aws) say('drbot: real AWS (default credential chain): checking the credentials…');
  const stack = await startLocalStack({
    mode: args.aws ? 'aws' : 'sandbox',
    ...(config ? { config } : {}),
    ...(moto ? { moto } : {}),
    ...(seeded ? { seeded } : {}),
    alarms: localAlarms,
    // Sandbox only (the stack skips it with --aws): moto's gaps covered, /dr simulate corruption.
    sandboxTools: localSandboxTools,
    ...(real ? { realSlack: { botToken: env.SLACK_BOT_TOKEN as string } } : {}),
  });
  if (progress) process.stderr.write('\r\x1b[2K');
  // From the seed's first call to a stack ready for commands (state table and runner included).
  if (seeded) say(`drbot: sandbox seeded in ${((Date.now() - (await seeded).at.getTime()) / 1000).toFixed(1)} s.`);
  stop = async () => {
    await stack.close();
  };
  if (stack.interrupted.length) {
    say(
      `drbot: ${stack.interrupted.length} run${stack.interrupted.length === 1 ? '' : 's'} of an earlier drbot never finished (it stopped mid-run); marked interrupted, with a Plan again button on each message:\n${stack.interrupted.map((r) => `  ${r.id} ${r.commandText} (was ${r.status.replace(/_/g, ' ')})`).join('\n')}`,
    );
  }

  if (real) {
    const [{ HTTPReceiver, SocketModeReceiver }, { createApp }] = await Promise.all([import('@slack/bolt'), import('../slack/app')]);
    const receiver = env.SLACK_APP_TOKEN
      ? new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN })
      : new HTTPReceiver({ signingSecret: env.SLACK_SIGNING_SECRET as string, endpoints: '/slack/events' });
    const ids = env.SLACK_BOT_ID && env.SLACK_BOT_USER_ID ? { botId: env.SLACK_BOT_ID, botUserId: env.SLACK_BOT_USER_ID } : {};
    const app = createApp({ receiver, botToken: env.SLACK_BOT_TOKEN as string, ...ids }, stack.slackDeps);
    const port = Number(env.PORT ?? 3000);
    // Loopback unless HOST says otherwise: a local bot is not a public server by accident.
    const host = env.HOST ?? '127.0.0.1';
    await (env.SLACK_APP_TOKEN ? app.start(port) : app.start({ port, host }));
    say(env.SLACK_APP_TOKEN ? 'drbot: connected to Slack over Socket Mode.' : `drbot: listening for Slack on http://${host}:${port}/slack/events${host === '127.0.0.1' ? ' (loopback only; HOST=0.0.0.0 to listen on every interface)' : ''}`);
    await new Promise(() => {});
    return 0;
  }

  say(args.aws ? awsReadyLine(stack) : 'drbot: ready. Sandbox users: alice (operator), bob and dave (approvers), carol (viewer), eve (no role).');
  // To break something for a restore to mend (change DNS records, say), from another terminal.
  if (stack.moto) say(`drbot: the sandbox AWS is moto at ${stack.moto.endpoint} (any credentials), e.g. aws --endpoint-url ${stack.moto.endpoint} route53 list-resource-record-sets --hosted-zone-id ${stack.config.route53?.hostedZoneId ?? 'ZONE'}`);
  const { TerminalChat } = await import('./chat');
  const chat = new TerminalChat(stack, (t) => process.stdout.write(t), { colour: Boolean(process.stdout.isTTY) && !env.NO_COLOR });
  if (args.aws) say(whoLine(stack));
  await chat.run(process.stdin, Boolean(process.stdin.isTTY));
  const waiting = await chat.leftWaiting();
  if (waiting.length) {
    say(
      `drbot: input ended with ${waiting.length === 1 ? 'a run' : `${waiting.length} runs`} still waiting for approval; ${waiting.length === 1 ? 'it ends' : 'they end'} with drbot and nothing was changed:\n${waiting.join('\n')}\nTo approve in a script, add the approver's lines (/as NAME, /press Approve) before the input ends.`,
    );
  }
  await stop();
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof DrbotError) {
        process.stderr.write(`drbot: ${e.message}\n${e.hint ? `${e.hint}\n` : ''}`);
        process.exit(e.code === 'help' ? 0 : 2);
      }
      // A stack trace helps only us: show it when asked (DRBOT_DEBUG=1).
      const detail = process.env.DRBOT_DEBUG ? ((e as Error).stack ?? String(e)) : reason(e);
      process.stderr.write(`drbot: failed to start: ${detail}\n`);
      process.exit(1);
    },
  );
}
