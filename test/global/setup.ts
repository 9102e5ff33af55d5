import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The whole run's journal (what each test file's Slack calls, log lines and audit items were), scanned at the end for secrets. */
export default function globalSetup(): void {
  if (!process.env.DRBOT_TEST_JOURNAL) {
    process.env.DRBOT_TEST_JOURNAL = mkdtempSync(join(tmpdir(), 'drbot-journal-'));
    process.env.DRBOT_TEST_JOURNAL_MADE = process.env.DRBOT_TEST_JOURNAL;
  }
}
