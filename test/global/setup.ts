import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../../src/local/moto';

/**
 * The whole run's journal (what each test file's Slack calls, log lines and audit items were),
 * scanned at the end for secrets; and one moto server per jest worker, shared by the files that
 * worker runs in turn (test/helpers/moto.ts): each file starts from a restored snapshot, not from
 * a server of its own, which cost two seconds of Python start-up a file.
 */
export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  if (!process.env.DRBOT_TEST_JOURNAL) {
    process.env.DRBOT_TEST_JOURNAL = mkdtempSync(join(tmpdir(), 'drbot-journal-'));
    process.env.DRBOT_TEST_JOURNAL_MADE = process.env.DRBOT_TEST_JOURNAL;
  }
  if (process.env.DRBOT_TEST_MOTO !== undefined) return;
  const started = await Promise.allSettled(Array.from({ length: Math.max(1, globalConfig.maxWorkers) }, () => startMoto()));
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // The state every file starts from: moto as it starts (its EC2 regions loaded), nothing else.
    await Promise.all(servers.map((s) => s.snapshot?.('empty')));
  } catch (e) {
    // Each file then starts its own moto, and says why it cannot if moto is missing.
    await Promise.all(servers.map((s) => s.stop()));
    console.warn(`shared moto not started (${String(e)}); each test file starts its own`);
    return;
  }
  (globalThis as { drbotTestMotos?: MotoServer[] }).drbotTestMotos = servers;
  process.env.DRBOT_TEST_MOTO = servers.map((s) => s.endpoint).join(',');
}
