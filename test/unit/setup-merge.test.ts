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
