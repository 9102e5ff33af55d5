import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The journal of one test file for the secrets scan (test/global/teardown.ts): what the Slack
 * stand-ins were sent, what was logged, what was audited, and the secrets the tests signed with.
 */

export type JournalKind = 'slack' | 'log' | 'audit' | 'secret';

const file = process.env.DRBOT_TEST_JOURNAL ? join(process.env.DRBOT_TEST_JOURNAL, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`) : undefined;

export function journal(kind: JournalKind, text: string): void {
  if (file) appendFileSync(file, `${JSON.stringify({ kind, text })}\n`);
}

/** Shaped like a secret wherever it appears: Slack tokens, request signatures, private keys, AWS secret keys by name. */
const PATTERNS: RegExp[] = [
  /\bxox[abposr]-[A-Za-z0-9-]{6,}/,
  /\bv0=[0-9a-f]{64}\b/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /"?SecretAccessKey"?\s*[:=]\s*"?[A-Za-z0-9/+]{30,}/,
  /aws_secret_access_key\s*=\s*\S{20,}/i,
];

export function scanForSecrets(entries: readonly { kind: string; text: string }[]): {
  counts: Record<'slack' | 'log' | 'audit', number>;
  secrets: number;
  patterns: number;
  found: string[];
} {
  const secrets = new Set(entries.filter((e) => e.kind === 'secret' && e.text.length >= 8).map((e) => e.text));
  const counts = { slack: 0, log: 0, audit: 0 };
  const found: string[] = [];
  for (const e of entries) {
    if (e.kind === 'secret') continue;
    counts[e.kind as keyof typeof counts]++;
    const hit = [...secrets].find((s) => e.text.includes(s)) ?? PATTERNS.map((p) => p.exec(e.text)?.[0]).find(Boolean);
    if (hit) found.push(`${e.kind}: …${e.text.slice(Math.max(0, e.text.indexOf(hit) - 60), e.text.indexOf(hit) + hit.length + 20)}…`);
  }
  return { counts, secrets: secrets.size, patterns: PATTERNS.length, found };
}
