/**
 * The check-replication runbook (src/runbooks/check-replication/runbook.ts: `/dr check replication
 * BUCKET` and the alarms' "Check replication" button) on its own, against moto: read-only, it reads
 * the bucket's replication set-up once and names each weakness. The flows through Slack are
 * check-replication.test.ts; these need no local stack, so `npm run mutate` can run them per mutant.
 *
 * moto enforces no IAM policy: a refused GetBucketReplication is SDK middleware on the runbook's
 * client (faults.ts). moto answers GetBucketReplication with DeleteMarkerReplication Disabled
 * whatever was put, so the answer gives back the status put, as S3 does
 * (motoKeepsDeleteMarkerReplication); a rule without an ID is an answer rewritten too.
 */
import { PutBucketReplicationCommand, type ReplicationRule } from '@aws-sdk/client-s3';
import type { CheckReplicationInput } from '../../src/runbooks/check-replication';
import { runbook } from '../../src/runbooks/check-replication/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { motoKeepsDeleteMarkerReplication, replicationRule as rule } from '../helpers/moto-replication';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const ROLE = 'arn:aws:iam::123456789012:role/spawn-replication';
let n = 0;

/** A configured bucket whose config names `${name}-replica` in us-west-2 as its replica (none if told). */
async function bucket(opts: { replica?: boolean; versioned?: boolean } = {}): Promise<{ name: string; replica: string }> {
  const tag = `repl-${++n}`;
  const name = await rig.bucket({ ...(opts.replica === false ? {} : { replica: { bucket: `${tag}-replica`, region: 'us-west-2' } }), versioned: opts.versioned ?? true });
  return { name, replica: `${tag}-replica` };
}

async function replicate(bucketName: string, r: ReplicationRule): Promise<void> {
  await rig.s3().send(new PutBucketReplicationCommand({ Bucket: bucketName, ReplicationConfiguration: { Role: ROLE, Rules: [r] } }));
}

type ReplicationAnswer = { ReplicationConfiguration?: { Role?: string; Rules?: ReplicationRule[] } };

beforeAll(() => motoKeepsDeleteMarkerReplication(rig.s3()));

function input(bucketName: string): CheckReplicationInput & AnyRunInput {
  return { kind: 'check-replication', runId: `c${n}`, requester: 'UCAROL', channel: 'C1', commandText: `/dr check replication ${bucketName}`, requestedAt: new Date().toISOString(), bucket: bucketName } as CheckReplicationInput & AnyRunInput;
}

const check = (bucketName: string) => rig.executeWatched(runbook, input(bucketName), null);

describe('the plan', () => {
  it('is read-only and says so; the title names the bucket', async () => {
    const { name } = await bucket();
    const p = await runbook.plan(rig.deps(), input(name), { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
    expect(p).toEqual({ lines: ['Reading the replication configuration (read-only).'], data: null });
    expect(runbook.destructive).toBe(false);
    expect(runbook.title(input(name))).toBe(`Replication of ${name}`);
  });
});

describe('the check', () => {
  it('passes a bucket replicated as configured, every setting shown, in one checkpointed read', async () => {
    const { name, replica } = await bucket();
    await replicate(name, rule(replica));
    const r = await check(name);
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      lines: [
        'Versioning: Enabled',
        `Rule \`replication\`: enabled → \`${replica}\``,
        'RTC (15 min): on · metrics: on · delete markers: replicated',
        `Copy back with \`/dr restore s3 ${name} --from-replica\` (replica \`${replica}\`).`,
      ],
    });
    expect(r.checkpoints).toEqual(['posture']);
  });

  it('names every weakness of a disabled rule to the wrong bucket without RTC, metrics or delete markers', async () => {
    const { name, replica } = await bucket();
    await replicate(name, rule('somewhere-else', { id: 'old-rule', enabled: false, rtc: false, metrics: false, deleteMarkers: false }));
    const r = await check(name);
    expect(r.ok).toBe(false);
    expect(r.lines).toEqual([
      'Versioning: Enabled',
      'Rule `old-rule`: DISABLED → `somewhere-else`',
      'RTC (15 min): off · metrics: off · delete markers: not replicated',
      `Copy back with \`/dr restore s3 ${name} --from-replica\` (replica \`${replica}\`).`,
    ]);
    expect(r.failures).toEqual(['the replication rule is disabled', 'RTC is off, so the 15-minute replication SLA does not apply', `replicates to somewhere-else, but the config names ${replica}`]);
  });

  it('each weakness on its own fails the check: RTC off alone, the wrong destination alone, the rule disabled alone', async () => {
    const cases: Array<[Parameters<typeof rule>[1], boolean, string]> = [
      [{ rtc: false }, true, 'RTC is off, so the 15-minute replication SLA does not apply'],
      [{}, false, 'replicates to'],
      [{ enabled: false }, true, 'the replication rule is disabled'],
    ];
    for (const [over, toReplica, failure] of cases) {
      const { name, replica } = await bucket();
      await replicate(name, rule(toReplica ? replica : `${replica}-other`, over));
      const r = await check(name);
      expect(r.ok).toBe(false);
      expect(r.failures).toHaveLength(1);
      expect(r.failures[0]).toContain(failure);
    }
  });

  it('metrics off and delete markers not replicated are shown but are not failures', async () => {
    const { name, replica } = await bucket();
    await replicate(name, rule(replica, { metrics: false, deleteMarkers: false }));
    const r = await check(name);
    expect(r).toMatchObject({ ok: true, failures: [] });
    expect(r.lines[2]).toBe('RTC (15 min): on · metrics: off · delete markers: not replicated');
  });

  it('a rule without an ID reads "(unnamed)"', async () => {
    const { name, replica } = await bucket();
    await replicate(name, rule(replica));
    rewrite<ReplicationAnswer>(rig.s3(), 'GetBucketReplicationCommand', (o) => ({
      ...o,
      ReplicationConfiguration: { Role: ROLE, Rules: (o.ReplicationConfiguration?.Rules ?? []).map(({ ID: _id, ...rest }) => rest) },
    }));
    const r = await check(name);
    expect(r.lines[1]).toBe(`Rule (unnamed): enabled → \`${replica}\``);
    expect(r.ok).toBe(true);
  });

  it('says there is no replication rule (versioning shown as read); a bucket without a replica in the config has no copy-back line and no destination to compare', async () => {
    const { name } = await bucket({ replica: false, versioned: false });
    const r = await check(name);
    expect(r).toMatchObject({ ok: false, lines: ['Versioning: Off'], failures: ['no replication rule'] });

    const other = await bucket({ replica: false });
    await replicate(other.name, rule('anywhere'));
    const r2 = await check(other.name);
    expect(r2).toMatchObject({ ok: true, failures: [] });
    expect(r2.lines).toEqual(['Versioning: Enabled', 'Rule `replication`: enabled → `anywhere`', 'RTC (15 min): on · metrics: on · delete markers: replicated']);
  });

  it('a configured bucket that does not exist is named, and has no rule', async () => {
    const d = rig.deps();
    const name = `repl-missing-${++n}`;
    rig.configure({ s3: { ...d.config.s3, buckets: [...d.config.s3.buckets, { name }] } });
    const r = await check(name);
    expect(r).toMatchObject({ ok: false, lines: ['Versioning: Off'] });
    expect(r.failures).toEqual([`bucket \`${name}\` does not exist`, 'no replication rule']);
  });

  it('a refused GetBucketReplication is a failure naming the call and the bucket, besides the rule it could not read', async () => {
    const { name, replica } = await bucket();
    await replicate(name, rule(replica));
    fail(rig.s3(), 'GetBucketReplicationCommand', ACCESS_DENIED);
    const r = await check(name);
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/GetBucketReplication/);
    expect(r.failures[0]).toContain(name);
    expect(r.failures).toContain('no replication rule');
  });
});
