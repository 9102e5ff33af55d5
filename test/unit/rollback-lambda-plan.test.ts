import fc from 'fast-check';
import { planLines, type RollbackPlan, type VersionFacts } from '../../src/runbooks/rollback-lambda/runbook';
import { renderRun } from '../../src/slack/views/run';

/*
 * The plan of /dr rollback lambda shows what AWS holds about two versions: descriptions anyone who
 * can publish a version wrote, dates and checksums. Whatever they hold, the plan an approver reads
 * must stay one line per fact, with no live mention or link and no code span left open.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const HOSTILE = ['<!channel>', '<@U0BOB>', '<https://evil.example|click>', '`', '```', '*approved*', '\u2028', '\u2029', '\n', '\r', '\u202e', '\u200b', '&lt;!here&gt;', '&', 'x'.repeat(300)];
const text = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 40 }), fc.array(fc.constantFrom(...HOSTILE), { maxLength: 4 }).map((a) => a.join(' ')));
const version = fc.oneof(fc.integer({ min: 1, max: 99_999 }).map(String), fc.constant('$LATEST'), text);
const facts: fc.Arbitrary<VersionFacts> = fc.record({
  version,
  description: text,
  lastModified: fc.oneof(fc.constant('2026-12-01T10:00:00.000+0000'), text),
  codeSha256: text,
});
const plan: fc.Arbitrary<RollbackPlan> = fc.record({
  mode: fc.constantFrom('rollback' as const, 'canary' as const, 'abort' as const),
  fn: fc.constantFrom('spawn-dns-updater'),
  alias: fc.constantFrom('production'),
  revisionId: fc.constant('rev'),
  from: facts,
  to: facts,
  routing: fc.dictionary(version, fc.double({ min: 0, max: 1, noNaN: true }), { maxKeys: 2 }),
  weight: fc.integer({ min: 1, max: 99 }).map((n) => n / 100),
});

const FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

describe('planLines (rollback lambda)', () => {
  it('keeps hostile descriptions, checksums, dates and versions to one line each, escaped, spans closed', () => {
    fc.assert(
      fc.property(plan, fc.boolean(), (p, dryRun) => {
        const lines = planLines(p, dryRun);
        for (const line of lines) {
          expect(line).not.toMatch(FORBIDDEN);
          expect(line).not.toMatch(/[\n\r]/);
          // Our only live tokens are Slack dates.
          for (const tok of line.match(/<[^>]*>/g) ?? []) expect(tok).toMatch(/^<!date\^\d+\^[^|>]*\|[^>]*>$/);
          expect((line.match(/`/g)?.length ?? 0) % 2).toBe(0);
        }
        const section = renderRun({ runId: 'r-000000000000', title: 'Rollback of Lambda spawn-dns-updater', requester: 'U0ALICE', phase: 'planned', plan: lines }).blocks?.[1];
        expect(JSON.stringify(section)).not.toMatch(/<!channel>|<@U0BOB>|<https:\/\/evil/);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});
