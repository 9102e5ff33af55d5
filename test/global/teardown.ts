import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MotoServer } from '../../src/local/moto';
import { scanForSecrets } from '../helpers/journal';

/**
 * The security suite's secrets scan (issue 8): every Slack Web API call the stand-ins recorded,
 * every log line and every audit item of the whole test run, scanned for the run's secrets (the
 * signing secrets the tests signed with, bot tokens) and for anything shaped like a secret.
 */
export default async function globalTeardown(globalConfig?: { testPathPattern?: string; testNamePattern?: string }): Promise<void> {
  const motos = (globalThis as { drbotTestMotos?: MotoServer[] }).drbotTestMotos ?? [];
  await Promise.all(motos.map((m) => m.stop()));
  // A watch-mode rerun must not point its files at the servers just stopped.
  if (motos.length) delete process.env.DRBOT_TEST_MOTO;
  const dir = process.env.DRBOT_TEST_JOURNAL;
  if (!dir) return;
  const lines = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
  const entries = lines.map((l) => JSON.parse(l) as { kind: string; text: string });
  const result = scanForSecrets(entries);
  // Only what this run wrote; the directory only when global setup made it.
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) rmSync(join(dir, f), { force: true });
  if (process.env.DRBOT_TEST_JOURNAL_MADE === dir) rmSync(dir, { recursive: true, force: true });
  console.log(`\nsecrets scan: ${result.counts.slack} Slack calls, ${result.counts.log} log lines, ${result.counts.audit} audit items scanned for ${result.secrets} secrets and ${result.patterns} patterns: ${result.found.length} found`);
  if (result.found.length) throw new Error(`secrets found in the test run's output:\n${result.found.slice(0, 20).join('\n')}`);
  // A whole run signs hundreds of requests: no signing secret in the journal means test/setup.ts's
  // wrapping of signSlackRequest was lost (it once was, when the TypeScript transform changed), and
  // the scan would look for nothing. (A run of a few files may sign none.)
  const whole = !globalConfig?.testPathPattern && !globalConfig?.testNamePattern;
  if (whole && result.counts.slack > 0 && result.secrets === 0) throw new Error('secrets scan: Slack calls were recorded but no signing secret: test/setup.ts no longer sees signSlackRequest');
}
