#!/usr/bin/env node
'use strict';
/*
 * `npm start`: starts the sandbox's moto server first, then the bot (tsx src/local/main.ts) as a
 * child process that adopts it (DRBOT_EARLY_MOTO=PORT:PID, see takeEarlyMoto in moto.ts).
 *
 * Why: moto takes a second or more of Python to boot, and tsx plus the bot's modules take most
 * of a second to load before main.ts could spawn it. Started here, plain Node, the two overlap.
 * Nothing else is done here: with --aws, --help or an unknown argument, or when moto cannot be
 * spawned, main.ts is started alone and does everything (and says what is wrong) itself.
 *
 * The tree stays one thing: signals are passed to the bot, which stops moto as part of its own
 * shutdown; when the bot exits, however it exits (even SIGKILL), moto is killed and this process
 * exits with the bot's code. moto dies with this process too (moto_launcher.py, _die_with_parent).
 */
const { spawn } = require('node:child_process');
const { createServer } = require('node:net');
const { constants } = require('node:os');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');

const ROOT = join(__dirname, '..', '..');
const args = process.argv.slice(2);
const sandbox = args.every((a) => a === '--config' || a.startsWith('--config=') || !a.startsWith('-')) && !args.includes('--aws');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function earlyMoto() {
  if (!sandbox) return undefined;
  const port = await freePort();
  const child = spawn(process.env.DRBOT_PYTHON || 'python3', [join(__dirname, 'moto_launcher.py'), '127.0.0.1', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  const spawned = await new Promise((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  return spawned && child.pid ? { child, port } : undefined;
}

async function start() {
  const moto = await earlyMoto().catch(() => undefined);
  const killMoto = () => {
    if (moto && moto.child.exitCode === null && moto.child.signalCode === null) moto.child.kill('SIGKILL');
  };
  process.once('exit', killMoto);
  const env = { ...process.env };
  if (moto) env.DRBOT_EARLY_MOTO = `${moto.port}:${moto.child.pid}`;
  // tsx as a loader in one process (its CLI would start a second Node); a larger young generation
  // spares the start-up's garbage collections (the AWS SDK's modules are large).
  const tsx = pathToFileURL(join(dirname(require.resolve('tsx/package.json', { paths: [ROOT] })), 'dist', 'loader.mjs')).href;
  env.NODE_OPTIONS = [env.NODE_OPTIONS, '--max-semi-space-size=32'].filter(Boolean).join(' ');
  const bot = spawn(process.execPath, ['--import', tsx, join(__dirname, 'main.ts'), ...args], { stdio: 'inherit', env, cwd: process.cwd() });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    // The bot gets the signal (a terminal's Ctrl-C reaches it directly too) and stops the tree.
    process.on(signal, () => {
      if (bot.exitCode === null && bot.signalCode === null) bot.kill(signal);
    });
  }
  bot.on('exit', (code, signal) => {
    killMoto();
    // As a shell reports it: 128 + the signal's number (SIGKILL 137, SIGTERM 143, SIGINT 130).
    process.exit(code ?? 128 + ((signal && constants.signals[signal]) || 15));
  });
}

start().catch((e) => {
  process.stderr.write(`drbot: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
