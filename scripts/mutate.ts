/**
 * `npm run mutate [-- stryker flags]`: Stryker (stryker.config.mjs) with one moto server for the
 * whole run. The runbooks' tests need moto; Stryker runs jest once per mutant, and a moto started
 * per run (or per file) would cost seconds of Python each time. This one is started here, its
 * state as it starts kept as `empty` (each test file restores it: test/helpers/moto.ts), and named
 * to jest in DRBOT_TEST_MOTO, as test/global/setup.ts does for `npm test`; stopped when Stryker ends.
 * One moto serves one test process at a time: Stryker's concurrency stays 1 (the config's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { startMoto, type MotoServer } from '../src/local/moto';

const args = process.argv.slice(2);
const concurrency = args.findIndex((a) => a === '--concurrency' || a.startsWith('--concurrency='));
if (concurrency >= 0 && (args[concurrency]?.split('=')[1] ?? args[concurrency + 1]) !== '1') {
  console.error('npm run mutate: the run shares one moto server, so --concurrency must stay 1');
  process.exit(2);
}

let moto: MotoServer | undefined;
let stryker: ChildProcess | undefined;
let stopping = false;

/** A signal: Stryker is asked to stop (Ctrl-C reaches it through the process group already); a second one stops moto and exits at once. */
function onSignal(signal: NodeJS.Signals): void {
  if (stopping || !stryker) {
    void (moto?.stop() ?? Promise.resolve()).finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
    return;
  }
  stopping = true;
  if (signal === 'SIGTERM') stryker.kill('SIGTERM');
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

async function main(): Promise<number> {
  moto = await startMoto();
  try {
    await moto.snapshot?.('empty');
    const child = spawn('npx', ['stryker', 'run', ...args], { stdio: 'inherit', env: { ...process.env, DRBOT_TEST_MOTO: moto.endpoint } });
    stryker = child;
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await moto.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`npm run mutate: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
