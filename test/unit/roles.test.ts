import { FRESH_TTL_MS, RoleResolver } from '../../src/approvals/roles';
import type { DrConfig } from '../../src/config/schema';
import { ForbiddenError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';

const MINUTE = 60_000;

/** Direct users U…, groups S…: UBOSS approver; UOPS and SOPS operators; UVIEW and SVIEW viewers. */
const CONFIG: DrConfig = {
  ...SANDBOX_CONFIG,
  slack: {
    ...SANDBOX_CONFIG.slack,
    roles: { viewer: ['UVIEW', 'SVIEW'], operator: ['UOPS', 'SOPS'], approver: ['UBOSS'] },
  },
};

/** A fake usergroups.users.list: answers from `members`, counts calls per group, fails on demand. */
function groupLookup(members: Record<string, string[]>) {
  const calls: string[] = [];
  let failing = false;
  const lookup = async (group: string): Promise<string[]> => {
    calls.push(group);
    if (failing) throw new Error('slack_unavailable');
    return [...(members[group] ?? [])];
  };
  return {
    lookup,
    calls,
    callsFor: (group: string) => calls.filter((g) => g === group).length,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

function clock(start = Date.parse('2026-01-27T12:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RoleResolver', () => {
  it('gives users listed by ID their role and nobody else one', async () => {
    // prepare
    const groups = groupLookup({});
    const roles = new RoleResolver(CONFIG, groups.lookup);

    // act
    const found = await Promise.all(['UBOSS', 'UOPS', 'UVIEW', 'USTRANGER'].map((u) => roles.roleOf(u)));

    // assess
    expect(found).toEqual(['approver', 'operator', 'viewer', undefined]);
  });

  it('treats roles as cumulative: approver ⊇ operator ⊇ viewer', async () => {
    // prepare
    const roles = new RoleResolver(CONFIG, groupLookup({}).lookup);
    const required = ['viewer', 'operator', 'approver'] as const;

    // act
    const table = await Promise.all(
      ['UBOSS', 'UOPS', 'UVIEW', 'USTRANGER'].map(async (u) => Promise.all(required.map((r) => roles.has(u, r)))),
    );

    // assess
    expect(table).toEqual([
      [true, true, true],
      [true, true, false],
      [true, false, false],
      [false, false, false],
    ]);
  });

  it('lets anyone run an `anyone` command without looking up a group', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UX'] });
    const roles = new RoleResolver(CONFIG, groups.lookup);

    // act
    const allowed = await roles.has('USTRANGER', 'anyone');

    // assess
    expect(allowed).toBe(true);
    expect(groups.calls).toEqual([]);
  });

  it('resolves user-group members through the injected lookup', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UGRPOPS'], SVIEW: ['UGRPVIEW'] });
    const roles = new RoleResolver(CONFIG, groups.lookup);

    // act
    const opsRole = await roles.roleOf('UGRPOPS');
    const viewRole = await roles.roleOf('UGRPVIEW');
    const opsMayOperate = await roles.has('UGRPOPS', 'operator');
    const viewMayOperate = await roles.has('UGRPVIEW', 'operator');

    // assess
    expect(opsRole).toBe('operator');
    expect(viewRole).toBe('viewer');
    expect(opsMayOperate).toBe(true);
    expect(viewMayOperate).toBe(false);
    expect(new Set(groups.calls)).toEqual(new Set(['SOPS', 'SVIEW']));
  });

  it('looks a group up once for repeated checks within five minutes, and again after', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UA', 'UB'], SVIEW: ['UC'] });
    const t = clock();
    const roles = new RoleResolver(CONFIG, groups.lookup, t.now);

    // act
    for (const u of ['UA', 'UB', 'UC', 'UD', 'UA']) await roles.has(u, 'viewer');
    const withinTtl = groups.callsFor('SOPS');
    t.advance(5 * MINUTE - 1);
    await roles.has('UA', 'operator');
    const justBefore = groups.callsFor('SOPS');
    t.advance(1);
    await roles.has('UA', 'operator');
    const after = groups.callsFor('SOPS');

    // assess
    expect(withinTtl).toBe(1);
    expect(justBefore).toBe(1);
    expect(after).toBe(2);
  });

  it('drops a removed group member once the cache expires', async () => {
    // prepare
    const members = { SOPS: ['UA'] };
    const t = clock();
    const roles = new RoleResolver(CONFIG, groupLookup(members).lookup, t.now);
    const before = await roles.has('UA', 'operator');
    members.SOPS = [];

    // act
    const cached = await roles.has('UA', 'operator');
    t.advance(5 * MINUTE);
    const expired = await roles.has('UA', 'operator');

    // assess
    expect(before).toBe(true);
    expect(cached).toBe(true);
    expect(expired).toBe(false);
  });

  it('fails closed when the group lookup fails and nothing is known yet', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UA'] });
    groups.fail(true);
    const roles = new RoleResolver(CONFIG, groups.lookup);

    // act
    const allowed = await roles.has('UA', 'operator');
    const role = await roles.roleOf('UA');
    const refused = roles.require('UA', 'operator', 'run `/dr restore s3`');

    // assess
    expect(allowed).toBe(false);
    expect(role).toBeUndefined();
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('keeps the last known members when a later lookup fails, and asks Slack again next time', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UA'] });
    const t = clock();
    const roles = new RoleResolver(CONFIG, groups.lookup, t.now);
    await roles.has('UA', 'operator');
    groups.fail(true);
    t.advance(5 * MINUTE);

    // act
    const member = await roles.has('UA', 'operator');
    const stranger = await roles.has('UZ', 'operator');

    // assess: a failure is not cached, so each check retries Slack (1 success + 2 failures)
    expect(groups.callsFor('SOPS')).toBe(3);
    expect(member).toBe(true);
    expect(stranger).toBe(false);
  });

  it('asks Slack again for a destructive decision unless it asked seconds ago: a removed member is refused at once', async () => {
    // prepare: the 5-minute cache says UA is an operator, then UA leaves the group
    const members = { SOPS: ['UA'] };
    const groups = groupLookup(members);
    const t = clock();
    const roles = new RoleResolver(CONFIG, groups.lookup, t.now);
    await roles.has('UA', 'operator');
    members.SOPS = [];

    // act
    const withinSeconds = await roles.has('UA', 'operator', { fresh: true });
    t.advance(FRESH_TTL_MS);
    const fresh = await roles.has('UA', 'operator', { fresh: true });

    // assess
    expect(withinSeconds).toBe(true);
    expect(fresh).toBe(false);
    expect(groups.callsFor('SOPS')).toBe(2);
  });

  it('fails closed for a destructive decision when Slack cannot answer, whatever it knew before', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UA'] });
    const t = clock();
    const roles = new RoleResolver(CONFIG, groups.lookup, t.now);
    await roles.has('UA', 'operator');
    groups.fail(true);
    t.advance(FRESH_TTL_MS);

    // act
    const decision = await roles.has('UA', 'operator', { fresh: true });
    const reading = await roles.has('UA', 'operator');

    // assess: the decision is refused; a read-only check may still use the minutes-old answer
    expect(decision).toBe(false);
    expect(reading).toBe(true);
  });

  it('never trusts a membership past the stale cap, even for read-only checks', async () => {
    // prepare
    const groups = groupLookup({ SOPS: ['UA'] });
    const t = clock();
    const roles = new RoleResolver(CONFIG, groups.lookup, t.now);
    await roles.has('UA', 'operator');
    groups.fail(true);

    // act
    t.advance(15 * MINUTE - 1);
    const justUnder = await roles.has('UA', 'operator');
    t.advance(1);
    const atCap = await roles.has('UA', 'operator');

    // assess
    expect(justUnder).toBe(true);
    expect(atCap).toBe(false);
  });

  it('refuses with a ForbiddenError naming the role needed and the role held', async () => {
    // prepare
    const roles = new RoleResolver(CONFIG, groupLookup({}).lookup);

    // act: each refusal awaited at once, so a mutant that breaks one leaves no rejection unhandled
    const viewer = await roles.require('UVIEW', 'operator', 'run `/dr restore s3`').catch((e: unknown) => e);
    const stranger = await roles.require('USTRANGER', 'viewer', 'run `/dr status`').catch((e: unknown) => e);

    // assess
    expect(viewer).toBeInstanceOf(ForbiddenError);
    expect(viewer).toMatchObject({ message: 'You may not run `/dr restore s3`: it needs the *operator* role, and you are a viewer.' });
    expect(stranger).toMatchObject({ code: 'forbidden', message: 'You may not run `/dr status`: it needs the *viewer* role, and you have no drbot role.', hint: expect.stringContaining('drbot config') });
  });

  // Regression: roles.ts once picked the article for "approver" only and told operators
  // "you are a operator".
  it('says "an operator" when an operator lacks the approver role', async () => {
    // prepare
    const roles = new RoleResolver(CONFIG, groupLookup({}).lookup);

    // act
    const operator = roles.require('UOPS', 'approver', 'approve this run');

    // assess
    await expect(operator).rejects.toThrow('You may not approve this run: it needs the *approver* role, and you are an operator.');
  });

  it('does not throw when the user holds the role', async () => {
    // prepare
    const roles = new RoleResolver(CONFIG, groupLookup({}).lookup);

    // act
    const allowed = roles.require('UBOSS', 'operator', 'run `/dr restore s3`');

    // assess
    await expect(allowed).resolves.toBeUndefined();
  });
});
