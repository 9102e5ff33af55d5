/**
 * `npm run mutate [-- stryker flags]`: Stryker (stryker.config.mjs) with one moto server for the
 * whole run. The runbooks' tests need moto; Stryker runs jest once per mutant, and a moto started
 * per run (or per file) would cost seconds of Python each time. This one is started here, its
 * state as it starts kept as `empty` (each test file restores it: test/helpers/moto.ts), and named
 * to jest in DRBOT_TEST_MOTO, as test/global/setup.ts does for `npm test`; stopped when Stryker ends.
 */
import { spawn } from 'node:child_process';
import { startMoto } from '../src/local/moto';

async function main(): Promise<number> {
  const moto = await startMoto();
  try {
    await moto.snapshot?.('empty');
    const stryker = spawn('npx', ['stryker', 'run', ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, DRBOT_TEST_MOTO: moto.endpoint },
    });
    const stop = () => stryker.kill('SIGINT');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return await new Promise<number>((resolve) => stryker.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
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
