import type { LifecycleRule, ReplicationRule } from '@aws-sdk/client-s3';
import { archiveRule, lifecycleNeeds, mergeById, mergeLifecycle, mergeReplication, noncurrentRule, replicationRight, RULE_IDS } from '../../src/runbooks/setup/merge';

/*
 * Never clobber: AWS replaces lifecycle and replication configurations whole, so setup merges its
 * rules by ID into what is there. These pin the merge: others' rules written back unchanged and in
 * place, ours replaced in place, contradictions left alone with the reason.
 */

const TEAM: LifecycleRule = { ID: 'team-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } };
const OTHER: LifecycleRule = { ID: 'team-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Transitions: [{ Days: 10, StorageClass: 'STANDARD_IA' }] };

describe('mergeById', () => {
  it('keeps every other rule unchanged and in place, replaces ours in place, and appends new ones', () => {
    // prepare
    const oldOurs = noncurrentRule(30);

    // act
    const { rules, kept } = mergeById([TEAM, oldOurs, OTHER], [noncurrentRule(90), archiveRule('results/')]);

    // assess
    expect(rules).toEqual([TEAM, noncurrentRule(90), OTHER, archiveRule('results/')]);
    expect(kept).toEqual(['team-tmp', 'team-logs']);
  });

  it('keeps the configuration-wide fields of a lifecycle as read', () => {
    // act
    const { lifecycle } = mergeLifecycle({ rules: [TEAM], minimumObjectSize: 'all_storage_classes_128K' }, [noncurrentRule(90)]);

    // assess
    expect(lifecycle).toEqual({ rules: [TEAM, noncurrentRule(90)], minimumObjectSize: 'all_storage_classes_128K' });
  });
});

describe('lifecycleNeeds', () => {
  it("counts someone else's bucket-wide rule with the right days as done, and adds the archive rule when the prefix lacks it", () => {
    // prepare
    const runbooks: LifecycleRule = { ID: 'DeleteOldVersions', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 90 } };

    // act
    const needs = lifecycleNeeds([runbooks, TEAM], { noncurrentDays: 90, archivePrefix: 'results/' });

    // assess
    expect(needs.upsert).toEqual([archiveRule('results/')]);
    expect(needs.ok).toEqual(['noncurrent versions expire after 90 days (rule `DeleteOldVersions`)']);
  });

  it("leaves a contradicting rule of someone else's alone and says so, instead of adding a second expiry", () => {
    // prepare
    const shorter: LifecycleRule = { ID: 'cost-cut', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 14 } };

    // act
    const needs = lifecycleNeeds([shorter], { noncurrentDays: 90 });

    // assess
    expect(needs.upsert).toEqual([]);
    expect(needs.conflicts[0]).toContain('rule `cost-cut` expires noncurrent versions after 14 days, not 90');
  });

  it('replaces our own rule when its days are no longer the configured ones', () => {
    // act
    const needs = lifecycleNeeds([noncurrentRule(30)], { noncurrentDays: 90 });

    // assess
    expect(needs.upsert).toEqual([noncurrentRule(90)]);
  });

  it('does not count a disabled or a prefixed rule as the bucket-wide expiry', () => {
    // prepare
    const disabled: LifecycleRule = { ...noncurrentRule(90), ID: 'off', Status: 'Disabled' };
    const prefixed: LifecycleRule = { ID: 'tmp-only', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, NoncurrentVersionExpiration: { NoncurrentDays: 90 } };

    // act
    const needs = lifecycleNeeds([disabled, prefixed], { noncurrentDays: 90 });

    // assess
    expect(needs.upsert).toEqual([noncurrentRule(90)]);
  });
});

describe('mergeReplication', () => {
  const theirs: ReplicationRule = { ID: 'audit', Status: 'Enabled', Priority: 4, Filter: { Prefix: 'audit/' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::audit' } };

  it('adds our rule after the others under the same role, with a priority of its own, keeping theirs', () => {
    // act
    const r = mergeReplication({ role: 'arn:aws:iam::1:role/drbot-s3-replication-ab', rules: [theirs] }, 'arn:aws:iam::1:role/drbot-s3-replication-ab', 'replica');

    // assess
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.rules[0]).toBe(theirs);
    expect(r.config.rules[1]).toMatchObject({ ID: RULE_IDS.replica, Priority: 5, Destination: { Bucket: 'arn:aws:s3:::replica' } });
    expect(r.kept).toEqual(['audit']);
    expect(replicationRight(r.config, 'replica')).toBe(r.config.rules[1]);
  });

  it('refuses, naming the rules and the role, when other rules run under another role', () => {
    // act
    const r = mergeReplication({ role: 'arn:aws:iam::1:role/team', rules: [theirs] }, 'arn:aws:iam::1:role/drbot-s3-replication-ab', 'replica');

    // assess
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('1 other rule (`audit`) under role `arn:aws:iam::1:role/team`') as unknown });
  });

  it('does not count a rule without RTC as right', () => {
    // prepare
    const plain: ReplicationRule = { ...theirs, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Enabled' }, Destination: { Bucket: 'arn:aws:s3:::replica' } };

    // act / assess
    expect(replicationRight({ role: 'r', rules: [plain] }, 'replica')).toBeUndefined();
  });
});

describe('the rules drbot writes, field by field', () => {
  it('noncurrent expiry, archive and replica rules are exactly these', () => {
    expect(noncurrentRule(30)).toEqual({ ID: 'drbot-noncurrent-expiry', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
    const archive = archiveRule('results/');
    expect(archive).toEqual({
      ID: 'drbot-archive',
      Status: 'Enabled',
      Filter: { Prefix: 'results/' },
      Transitions: [
        { Days: 30, StorageClass: 'GLACIER' },
        { Days: 90, StorageClass: 'DEEP_ARCHIVE' },
      ],
    });
    // each rule its own copy of the schedule
    expect(archive.Transitions?.[0]).not.toBe(archiveRule('results/').Transitions?.[0]);
    const r = mergeReplication(undefined, 'arn:aws:iam::1:role/drbot', 'replica');
    expect(r).toEqual({
      ok: true,
      kept: [],
      config: {
        role: 'arn:aws:iam::1:role/drbot',
        rules: [
          {
            ID: 'drbot-replica',
            Status: 'Enabled',
            Priority: 1,
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: { Bucket: 'arn:aws:s3:::replica', ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } }, Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } } },
          },
        ],
      },
    });
  });
});

describe('lifecycleNeeds, rule by rule', () => {
  const expiry = (over: Partial<LifecycleRule>): LifecycleRule => ({ ID: 'theirs', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, ...over });

  it('does not count a rule filtered by tag, by tags with a prefix, or by object size as bucket-wide', () => {
    for (const Filter of [{ Tag: { Key: 'k', Value: 'v' } }, { And: { Prefix: '', Tags: [{ Key: 'k', Value: 'v' }] } }, { ObjectSizeGreaterThan: 0 }, { ObjectSizeLessThan: 1024 }]) {
      const needs = lifecycleNeeds([expiry({ Filter })], { noncurrentDays: 90 });
      expect({ Filter, upsert: needs.upsert, ok: needs.ok }).toEqual({ Filter, upsert: [noncurrentRule(90)], ok: [] });
    }
  });

  it('counts a rule with no filter, or an empty prefix inside And, as bucket-wide, and names a rule with no ID as `?`', () => {
    expect(lifecycleNeeds([expiry({})], { noncurrentDays: 90 })).toEqual({ upsert: [], ok: ['noncurrent versions expire after 90 days (rule `theirs`)'], conflicts: [] });
    expect(lifecycleNeeds([expiry({ Filter: { And: { Prefix: '' } } })], { noncurrentDays: 90 }).upsert).toEqual([]);
    expect(lifecycleNeeds([expiry({ ID: undefined })], { noncurrentDays: 90 }).ok).toEqual(['noncurrent versions expire after 90 days (rule `?`)']);
    expect(lifecycleNeeds([expiry({ ID: undefined, NoncurrentVersionExpiration: { NoncurrentDays: 7 } })], { noncurrentDays: 90 }).conflicts).toEqual([
      'rule `?` expires noncurrent versions after 7 days, not 90: left as it is (S3 applies the shortest); change it by hand if 90 is meant',
    ]);
  });

  it('adds ours beside a bucket-wide rule that expires something else, without calling it a conflict', () => {
    const needs = lifecycleNeeds([{ ID: 'old-objects', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 365 } }], { noncurrentDays: 90 });
    expect(needs).toEqual({ upsert: [noncurrentRule(90)], ok: [], conflicts: [] });
  });

  it('counts an archive rule of anyone as done only for the same prefix with both transitions', () => {
    const want = { noncurrentDays: 90, archivePrefix: 'results/' };
    const theirs = (over: Partial<LifecycleRule>): LifecycleRule => ({ ID: 'team-archive', Status: 'Enabled', Filter: { Prefix: 'results/' }, Transitions: [{ Days: 90, StorageClass: 'DEEP_ARCHIVE' }, { Days: 30, StorageClass: 'GLACIER' }, { Days: 400, StorageClass: 'GLACIER_IR' }], ...over });
    const base = [noncurrentRule(90)];
    expect(lifecycleNeeds([...base, theirs({})], want)).toEqual({ upsert: [], ok: ['noncurrent versions expire after 90 days (rule `drbot-noncurrent-expiry`)', '`results/` goes to Glacier at 30 days and Deep Archive at 90 (rule `team-archive`)'], conflicts: [] });
    expect(lifecycleNeeds([...base, theirs({ ID: undefined })], want).ok[1]).toBe('`results/` goes to Glacier at 30 days and Deep Archive at 90 (rule `?`)');
    for (const wrong of [
      theirs({ Filter: { Prefix: 'other/' } }),
      theirs({ Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }),
      theirs({ Transitions: [{ Days: 31, StorageClass: 'GLACIER' }, { Days: 90, StorageClass: 'DEEP_ARCHIVE' }] }),
      theirs({ Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 90, StorageClass: 'DEEP_ARCHIVE' }] }),
      theirs({ Transitions: undefined }),
      theirs({ Status: 'Disabled' }),
    ]) {
      expect({ wrong, upsert: lifecycleNeeds([...base, wrong], want).upsert }).toEqual({ wrong, upsert: [archiveRule('results/')] });
    }
  });

  it('reports a kept rule with no ID as `(no id)`', () => {
    expect(mergeById([{ Status: 'Enabled' } as LifecycleRule], [noncurrentRule(90)]).kept).toEqual(['(no id)']);
  });
});

describe('replicationRight and mergeReplication, rule by rule', () => {
  const right: ReplicationRule = {
    ID: 'x',
    Status: 'Enabled',
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Enabled' },
    Destination: { Bucket: 'arn:aws:s3:::replica', ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } }, Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } } },
  };

  it('finds an enabled whole-bucket rule to the replica with RTC, metrics and delete markers, in any partition', () => {
    expect(replicationRight({ role: 'r', rules: [right] }, 'replica')).toBe(right);
    const gov = { ...right, Destination: { ...right.Destination, Bucket: 'arn:aws-us-gov:s3:::replica' } };
    expect(replicationRight({ role: 'r', rules: [gov] }, 'replica')).toBe(gov);
    expect(replicationRight(undefined, 'replica')).toBeUndefined();
  });

  it('finds none when any one of those is missing', () => {
    const wrongs: ReplicationRule[] = [
      { ...right, Status: 'Disabled' },
      { ...right, Filter: { Tag: { Key: 'k', Value: 'v' } } },
      { ...right, Filter: { And: { Prefix: '' } } },
      { ...right, Filter: { Prefix: 'some/' } },
      { ...right, Filter: undefined, Prefix: 'legacy/' },
      { ...right, Destination: { ...right.Destination, Bucket: 'arn:aws:s3:::elsewhere' } },
      { ...right, Destination: { ...right.Destination, Bucket: 'arn:aws:s3:::replica', Metrics: { Status: 'Disabled' } } },
      { ...right, DeleteMarkerReplication: { Status: 'Disabled' } },
    ];
    for (const w of wrongs) expect({ w, found: replicationRight({ role: 'r', rules: [w] }, 'replica') }).toEqual({ w, found: undefined });
  });

  it('takes two ARNs of one role name (a path between) as the same role, and two names ending alike as different', () => {
    const theirs: ReplicationRule = { ID: 'audit', Status: 'Enabled', Priority: 4, Filter: { Prefix: 'audit/' }, Destination: { Bucket: 'arn:aws:s3:::audit' } };
    expect(mergeReplication({ role: 'arn:aws:iam::1:role/service-role/drbot-ab', rules: [theirs] }, 'arn:aws:iam::1:role/drbot-ab', 'replica').ok).toBe(true);
    expect(mergeReplication({ role: 'arn:aws:iam::1:role/team-b', rules: [theirs] }, 'arn:aws:iam::1:role/drbot-ab', 'replica').ok).toBe(false);
  });

  it('replaces its own rule under any role when no other rule is there, keeping its priority', () => {
    // prepare
    const mine = { ...right, ID: RULE_IDS.replica, Priority: 7, Destination: { Bucket: 'arn:aws:s3:::old-replica' } };
    const theirs: ReplicationRule = { ID: 'audit', Status: 'Enabled', Priority: 9, Filter: { Prefix: 'audit/' }, Destination: { Bucket: 'arn:aws:s3:::audit' } };

    // act
    const alone = mergeReplication({ role: 'arn:aws:iam::1:role/old', rules: [mine] }, 'arn:aws:iam::1:role/drbot', 'replica');
    const beside = mergeReplication({ role: 'arn:aws:iam::1:role/drbot', rules: [mine, theirs] }, 'arn:aws:iam::1:role/drbot', 'replica');

    // assess
    expect(alone).toMatchObject({ ok: true, kept: [], config: { role: 'arn:aws:iam::1:role/drbot', rules: [{ ID: RULE_IDS.replica, Priority: 7, Destination: { Bucket: 'arn:aws:s3:::replica' } }] } });
    expect(beside).toMatchObject({ ok: true, kept: ['audit'], config: { rules: [{ ID: RULE_IDS.replica, Priority: 7 }, theirs] } });
  });

  it('names every other rule when refusing (plural, `?` for a rule with no ID), and refuses the old Prefix-without-Filter format', () => {
    const a: ReplicationRule = { ID: 'a', Status: 'Enabled', Filter: { Prefix: 'a/' }, Destination: { Bucket: 'arn:aws:s3:::x' } };
    const noId: ReplicationRule = { Status: 'Enabled', Filter: { Prefix: 'b/' }, Destination: { Bucket: 'arn:aws:s3:::x' } };
    const r = mergeReplication({ role: 'arn:aws:iam::1:role/team', rules: [a, noId] }, 'arn:aws:iam::1:role/drbot', 'replica');
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('its replication runs 2 other rules (`a`, `?`) under role `arn:aws:iam::1:role/team`;') });
    const legacy: ReplicationRule = { ID: 'legacy', Status: 'Enabled', Prefix: 'old/', Destination: { Bucket: 'arn:aws:s3:::x' } };
    expect(mergeReplication({ role: 'arn:aws:iam::1:role/drbot', rules: [legacy] }, 'arn:aws:iam::1:role/drbot', 'replica')).toEqual({
      ok: false,
      reason: 'its replication uses the old rule format (Prefix without Filter), which cannot be mixed with RTC rules; convert it first',
    });
    // a Filter beside a Prefix is not the old format
    expect(mergeReplication({ role: 'arn:aws:iam::1:role/drbot', rules: [{ ...legacy, Filter: { Prefix: 'old/' } }] }, 'arn:aws:iam::1:role/drbot', 'replica').ok).toBe(true);
  });
});
