import { HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { loadConfigFile } from '../config/load';
import { DrbotError } from '../errors';
import { createApp } from '../slack/app';
import { TerminalChat } from './chat';
import { motoAvailable, MOTO_INSTALL_HINT } from './moto';
import { startLocalStack } from './stack';
import { localAlarms } from './alarms';

const USAGE = `Usage: npm start [-- --aws] [--config FILE]

  (default)      sandbox: a local moto server seeded with a small "spawn" estate; nothing real is touched
  --aws          real AWS through the default credential chain (AWS_ENDPOINT_URL honoured)
  --config FILE  the drbot config (or DRBOT_CONFIG); required with --aws

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

async function main(): Promise<number> {
  // Our machines run Node 20; Lambda runs 22. The SDK's upgrade notice would only clutter the chat.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = parseArgs(process.argv.slice(2));
  const configPath = args.config ?? process.env.DRBOT_CONFIG;
  if (args.aws && !configPath) throw new DrbotError('usage', '--aws needs a config: --config FILE or DRBOT_CONFIG', USAGE);
  if (!args.aws) {
    const m = motoAvailable();
    if (!m.ok) throw new DrbotError('moto_missing', `The sandbox needs moto, which is not installed (${m.detail}).`, `Install it with:\n  ${MOTO_INSTALL_HINT}\nor run against real AWS with: npm start -- --aws --config FILE`);
  }
  const config = configPath ? loadConfigFile(configPath) : undefined;
  const env = process.env;
  const real = Boolean(env.SLACK_BOT_TOKEN && (env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN));
  const say = (t: string) => process.stderr.write(`${t}\n`);
  say(args.aws ? 'drbot: real AWS (default credential chain)…' : 'drbot: starting the sandbox (moto on loopback, seeding the spawn estate)…');
  const stack = await startLocalStack({
    mode: args.aws ? 'aws' : 'sandbox',
    ...(config ? { config } : {}),
    alarms: localAlarms,
    ...(real ? { realSlack: { botToken: env.SLACK_BOT_TOKEN as string } } : {}),
  });
  const stop = async () => {
    await stack.close();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));

  if (real) {
    const receiver = env.SLACK_APP_TOKEN
      ? new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN })
      : new HTTPReceiver({ signingSecret: env.SLACK_SIGNING_SECRET as string, endpoints: '/slack/events' });
    const app = createApp({ receiver, botToken: env.SLACK_BOT_TOKEN as string }, stack.slackDeps);
    const port = Number(env.PORT ?? 3000);
    await app.start(port);
    say(env.SLACK_APP_TOKEN ? 'drbot: connected to Slack over Socket Mode.' : `drbot: listening for Slack on http://localhost:${port}/slack/events`);
    await new Promise(() => {});
    return 0;
  }

  say(
    args.aws
      ? 'drbot: ready. Roles come from your config: act as someone in it with /as U… (a Slack user ID listed there; user groups cannot be resolved without Slack).'
      : 'drbot: ready. Sandbox users: alice (operator), bob and dave (approvers), carol (viewer), eve (no role).',
  );
  const chat = new TerminalChat(stack, (t) => process.stdout.write(t));
  await chat.run(process.stdin, Boolean(process.stdin.isTTY));
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
      process.stderr.write(`drbot: failed to start: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
