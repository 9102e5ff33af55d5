import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { AwsCallError } from '../../src/errors';
import { type Copy, executePrune, planPrune, pruneLines, pruneResultLines } from '../../src/runbooks/retention';

/*
 * The retention planner every backup verb prunes with: the newest good copy of each thing is kept
 * whatever its age, nothing drbot did not create is touched, copies still being made are kept,
 * and the rest goes once past retention.
 */

const NOW = new Date('2026-06-30T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const copy = (id: string, age: number, over: Partial<Copy> = {}): Copy => ({ id, group: 'spawn-instances', createdAt: daysAgo(age), state: 'good', ours: true, ...over });

describe('planPrune', () => {
  it('deletes our copies past retention, oldest first, and keeps the newer ones', () => {
    // act
    const plan = planPrune([copy('b40', 40), copy('b10', 10), copy('b90', 90), copy('b1', 1)], 35, NOW);

    // assess
    expect(plan.delete.map((c) => c.id)).toEqual(['b90', 'b40']);
    expect(plan.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['b10', 'within-retention'],
      ['b1', 'newest-good'],
    ]);
  });

  it('keeps the newest good copy of each thing even when every copy is past retention', () => {
    // act
    const plan = planPrune([copy('old', 400), copy('older', 500), copy('q-old', 300, { group: 'spawn-queues' })], 35, NOW);

    // assess
    expect(plan.delete.map((c) => c.id)).toEqual(['older']);
    expect(plan.keep.filter((k) => k.reason === 'newest-good').map((k) => k.copy.id).sort()).toEqual(['old', 'q-old']);
  });

  it('never touches a copy drbot did not create, however old', () => {
    // act
    const plan = planPrune([copy('theirs', 900, { ours: false }), copy('ours', 1)], 35, NOW);

    // assess
    expect(plan.delete).toEqual([]);
    expect(plan.foreign.map((c) => c.id)).toEqual(['theirs']);
  });

  it('does not let a newer failed or pending copy stand in for the newest good one', () => {
    // act
    const plan = planPrune([copy('good', 100), copy('failed', 50, { state: 'failed' }), copy('making', 60, { state: 'pending' })], 35, NOW);

    // assess
    expect(plan.delete.map((c) => c.id)).toEqual(['failed']);
    expect(plan.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['good', 'newest-good'],
      ['making', 'pending'],
    ]);
  });

  it('deletes nothing when the retention is forever, and keeps a copy whose age it cannot read', () => {
    // act
    const forever = planPrune([copy('a', 4000), copy('b', 3000)], 'forever', NOW);
    const unknown = planPrune([copy('x', 1), copy('?', 0, { createdAt: 'not a time' })], 35, NOW);

    // assess
    expect(forever.delete).toEqual([]);
    expect(unknown.delete).toEqual([]);
    expect(unknown.keep.find((k) => k.copy.id === '?')?.reason).toBe('unknown-age');
  });

  it('keeps a copy something still points at (a latest pointer, an alias), however old, and says so in the plan', () => {
    // act
    const plan = planPrune([copy('pointed', 400, { pinned: 'alias production', label: 'lambda/fn/2/' }), copy('old', 300), copy('newest', 200)], 35, NOW);
    const lines = pruneLines(plan, ['version', 'versions'], 35, false);

    // assess
    expect(plan.delete.map((c) => c.id)).toEqual(['old']);
    expect(plan.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['pointed', 'in-use'],
      ['newest', 'newest-good'],
    ]);
    expect(lines[1]).toBe('Prune keeps the newest good copy of each (1), whatever its age; 1 still in use: `lambda/fn/2/` (alias production).');
  });

  it('shows hostile labels and pin reasons as inert text: no line break, no closing backtick, no mention', () => {
    // act
    const plan = planPrune([copy('a', 400, { label: 'x`<!here>\u2028y' }), copy('b', 300, { pinned: '<@U1>\nnext' }), copy('c', 1)], 35, NOW);
    const text = pruneLines(plan, ['copy', 'copies'], 35, true).join('\n');

    // assess
    expect(text.split('\n')).toHaveLength(2);
    expect(text).not.toMatch(/<[!@]/);
    expect(text).toContain('`xˋ&lt;!here&gt;\ufffdy`');
  });

  it('for 500 random lists: never deletes a foreign or pending copy, the newest good copy of a group, or anything within retention', () => {
    // prepare: a seeded generator (no new dependency), so a failure replays
    let seed = 20260630;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 500; run++) {
      const days = 1 + rnd(400);
      const copies = Array.from({ length: rnd(40) }, (_, i) =>
        copy(`c${i}`, rnd(1000), { group: ['t1', 't2', 'iam'][rnd(3)] ?? 't1', state: (['good', 'pending', 'failed'] as const)[rnd(3)] ?? 'good', ours: rnd(2) === 0 }),
      );

      // act
      const plan = planPrune(copies, days, NOW);

      // assess
      const deleted = new Set(plan.delete);
      for (const c of copies) if (!c.ours || c.state === 'pending') expect(deleted.has(c)).toBe(false);
      for (const g of ['t1', 't2', 'iam']) {
        const good = copies.filter((c) => c.ours && c.group === g && c.state === 'good');
        const newest = Math.max(...good.map((c) => Date.parse(c.createdAt)));
        if (good.length) expect(good.some((c) => !deleted.has(c) && Date.parse(c.createdAt) === newest)).toBe(true);
      }
      for (const c of plan.delete) expect(Date.parse(c.createdAt)).toBeLessThan(NOW.getTime() - days * 86_400_000);
      expect(plan.delete.length + plan.keep.length + plan.foreign.length).toBe(copies.length);
    }
  });
});

describe('planPrune at its edges', () => {
  it('keeps a copy exactly as old as the retention, and deletes one a millisecond older', () => {
    // prepare
    const edge = new Date(NOW.getTime() - 35 * 86_400_000);

    // act
    const plan = planPrune([copy('edge', 0, { createdAt: edge.toISOString() }), copy('past', 0, { createdAt: new Date(edge.getTime() - 1).toISOString() }), copy('new', 1)], 35, NOW);

    // assess
    expect(plan.delete.map((c) => c.id)).toEqual(['past']);
    expect(plan.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['edge', 'within-retention'],
      ['new', 'newest-good'],
    ]);
  });

  it('of two good copies the newer is kept as newest whichever comes first in the list; a copy of unknown age never counts as newest', () => {
    // act
    const plan = planPrune([copy('new', 100), copy('old', 200), copy('?', 0, { createdAt: 'soon' })], 35, NOW);
    const reversed = planPrune([copy('old', 200), copy('new', 100)], 35, NOW);
    // listed first, the copy of unknown age is not taken as the newest either (the newest good one would then go)
    const unknownFirst = planPrune([copy('?', 0, { createdAt: 'soon' }), copy('new', 100), copy('old', 200)], 35, NOW);

    // assess
    expect(plan.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['new', 'newest-good'],
      ['?', 'unknown-age'],
    ]);
    expect(plan.delete.map((c) => c.id)).toEqual(['old']);
    expect(reversed.delete.map((c) => c.id)).toEqual(['old']);
    expect(unknownFirst.delete.map((c) => c.id)).toEqual(['old']);
    expect(unknownFirst.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['?', 'unknown-age'],
      ['new', 'newest-good'],
    ]);
  });

  it('of two good copies made at the same instant keeps the same one whatever the list order', () => {
    // prepare: S3 times have one-second resolution, so two exports can share one
    const at = daysAgo(100);
    const a = copy('export-a', 0, { createdAt: at });
    const b = copy('export-b', 0, { createdAt: at });

    // act
    const one = planPrune([a, b], 35, NOW);
    const other = planPrune([b, a], 35, NOW);

    // assess
    expect(one.delete.map((c) => c.id)).toEqual(['export-a']);
    expect(other.delete.map((c) => c.id)).toEqual(['export-a']);
    expect(other.keep).toEqual([{ copy: b, reason: 'newest-good' }]);
  });

  it('keeps the rest forever with that reason, and a pinned copy as in use even when forever', () => {
    // act
    const plan = planPrune([copy('a', 900), copy('b', 800, { pinned: 'the latest pointer' }), copy('c', 1)], 'forever', NOW);

    // assess
    expect(plan.keep.map((k) => [k.copy.id, k.reason])).toEqual([
      ['a', 'forever'],
      ['b', 'in-use'],
      ['c', 'newest-good'],
    ]);
  });

  it('a failed copy that is the only one is deleted once past retention (it is no good copy to keep)', () => {
    // act
    const plan = planPrune([copy('broken', 90, { state: 'failed' })], 35, NOW);

    // assess
    expect(plan.delete.map((c) => c.id)).toEqual(['broken']);
  });
});

describe('pruneLines', () => {
  it('names the first eight to delete with their dates, counts the rest, and says what it keeps and leaves', () => {
    // prepare
    const copies = [...Array.from({ length: 10 }, (_, i) => copy(`b${i}`, 100 + i)), copy('newest', 1), copy('theirs', 500, { ours: false }), copy('mine', 1, { group: 'spawn-queues' })];

    // act
    const lines = pruneLines(planPrune(copies, 35, NOW), ['backup', 'backups'], 35, false);

    // assess
    const named = [9, 8, 7, 6, 5, 4, 3, 2].map((i) => `\`b${i}\` (${daysAgo(100 + i).slice(0, 10)})`).join(', ');
    expect(lines).toEqual([`Prune: deletes 10 backups older than 35 days: ${named} and 2 more`, 'Prune keeps the newest good copy of each (2), whatever its age; 1 not made by drbot, never touched.']);
  });

  it('a dry run says would delete; exactly eight are all named', () => {
    // act
    const lines = pruneLines(planPrune([...Array.from({ length: 8 }, (_, i) => copy(`b${i}`, 100 + i, { label: `label-${i}` })), copy('newest', 1)], 35, NOW), ['export', 'exports'], 35, true);

    // assess
    expect(lines[0]).toMatch(/^Prune: would delete 8 exports older than 35 days: `label-7` \(\d{4}-\d\d-\d\d\), /);
    expect(lines[0]).toMatch(/ `label-0` \(\d{4}-\d\d-\d\d\)$/);
    expect(lines[0]?.split('`label-')).toHaveLength(9);
  });

  it('one to delete: named in the singular', () => {
    // act
    const lines = pruneLines(planPrune([copy('old', 100), copy('newest', 1)], 35, NOW), ['AMI copy in us-west-2', 'AMI copies in us-west-2'], 35, false);

    // assess
    expect(lines[0]).toBe(`Prune: deletes 1 AMI copy in us-west-2 older than 35 days: \`old\` (${daysAgo(100).slice(0, 10)})`);
  });

  it('with nothing to delete, says so for a retention in days and for forever', () => {
    // act
    const days = pruneLines(planPrune([copy('a', 1)], 35, NOW), ['backup', 'backups'], 35, false);
    const forever = pruneLines(planPrune([copy('a', 400), copy('b', 1)], 'forever', NOW), ['backup', 'backups'], 'forever', false);

    // assess
    expect(days).toEqual(['Prune: no backups older than 35 days beyond the newest of each.', 'Prune keeps the newest good copy of each (1), whatever its age.']);
    expect(forever[0]).toBe('Prune: no backups to delete (kept forever) beyond the newest of each.');
  });

  it('names all of exactly eight copies in use, with no ellipsis', () => {
    // prepare
    const copies = [...Array.from({ length: 8 }, (_, i) => copy(`p${i}`, 100 + i, { pinned: `alias a${i}` })), copy('newest', 1)];

    // act
    const lines = pruneLines(planPrune(copies, 35, NOW), ['version', 'versions'], 35, false);

    // assess
    const used = Array.from({ length: 8 }, (_, i) => `\`p${i}\` (alias a${i})`).join(', ');
    expect(lines[1]).toBe(`Prune keeps the newest good copy of each (1), whatever its age; 8 still in use: ${used}.`);
  });

  it('names at most eight copies in use, then an ellipsis', () => {
    // prepare
    const copies = [...Array.from({ length: 9 }, (_, i) => copy(`p${i}`, 100 + i, { pinned: `alias a${i}` })), copy('newest', 1)];

    // act
    const lines = pruneLines(planPrune(copies, 35, NOW), ['version', 'versions'], 35, false);

    // assess
    const used = Array.from({ length: 8 }, (_, i) => `\`p${i}\` (alias a${i})`).join(', ');
    expect(lines[1]).toBe(`Prune keeps the newest good copy of each (1), whatever its age; 9 still in use: ${used}….`);
  });
});

describe('executePrune', () => {
  /** The durable context's step, run inline: what the local runner does on a first run. */
  const ctx = { step: (_name: string, fn: () => Promise<unknown>) => fn() } as unknown as DurableContext;

  it('deletes each copy in its own step; a failure is reported by label and the rest go on', async () => {
    // prepare
    const removed: string[] = [];
    const steps: string[] = [];
    const named = { step: (name: string, fn: () => Promise<unknown>) => (steps.push(name), fn()) } as unknown as DurableContext;
    const copies = [copy('a', 90, { label: 'backup a' }), copy('b', 80), copy('c', 70)];

    // act
    const out = await executePrune(named, 'dynamodb', copies, async (c) => {
      if (c.id === 'b') throw new AwsCallError('DeleteBackup', 'b', 'AccessDenied', 'no');
      removed.push(c.id);
    });

    // assess
    expect(removed).toEqual(['a', 'c']);
    expect(steps).toEqual(['prune-dynamodb-0', 'prune-dynamodb-1', 'prune-dynamodb-2']);
    expect(out).toEqual({ deleted: ['backup a', 'c'], failures: ['b: DeleteBackup on `b` failed: no'] });
  });

  it('labels a failure by its label when it has one', async () => {
    // act
    const out = await executePrune(ctx, 'iam', [copy('x', 90, { label: 'iam/2026-01-01/' })], async () => {
      throw new AwsCallError('DeleteObject', 'x', 'NoSuchKey', 'gone');
    });

    // assess
    expect(out.failures).toEqual(['iam/2026-01-01/: DeleteObject on `x` failed: gone']);
  });
});

describe('pruneResultLines', () => {
  it('says nothing when nothing was pruned; counts what was and what could not be, one or many', () => {
    // act
    const none = pruneResultLines({ deleted: [], failures: [] }, 'backup');
    const some = pruneResultLines({ deleted: ['a', 'b'], failures: [] }, 'backup');
    const mixed = pruneResultLines({ deleted: ['a'], failures: ['b: no'] }, 'backup');
    const failed = pruneResultLines({ deleted: [], failures: ['b: no'] }, 'backup');
    const irregular = [1, 2].map((n) => pruneResultLines({ deleted: Array.from({ length: n }, (_, i) => `c${i}`), failures: [] }, 'old AMI copy', 'old AMI copies'));

    // assess
    expect(none).toEqual([]);
    expect(some).toEqual([':wastebasket: Pruned 2 backups.']);
    expect(mixed).toEqual([':wastebasket: Pruned 1 backup; 1 could not be deleted.']);
    expect(failed).toEqual([':wastebasket: Pruned 0 backups; 1 could not be deleted.']);
    expect(irregular).toEqual([[':wastebasket: Pruned 1 old AMI copy.'], [':wastebasket: Pruned 2 old AMI copies.']]);
  });
});
