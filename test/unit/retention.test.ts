import { type Copy, planPrune, pruneLines } from '../../src/runbooks/retention';

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
    const lines = pruneLines(plan, 'versions', 35, false);

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
    const text = pruneLines(plan, 'copies', 35, true).join('\n');

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
