import { CreateBucketCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, type ReplicationRule } from '@aws-sdk/client-s3';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { fail, rewrite } from '../helpers/faults';
import { replicationRule } from '../helpers/moto-replication';
import { buttons, command, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * `/dr check replication BUCKET` (and the alarms' "Check replication" button): read-only, no
 * approval; each set-up problem is named, against replication configured in moto.
 */

const HEALTHY = 'drbot-it-repl-healthy';
const WEAK = 'drbot-it-repl-weak';
const NONE = 'drbot-it-repl-none';
const GONE = 'drbot-it-repl-gone';
const DENIED = 'drbot-it-repl-denied';
const replica = (b: string) => ({ bucket: `${b}-replica`, region: 'us-west-2' });
const config = parseConfig(
  { ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, ...[HEALTHY, WEAK, NONE, GONE, DENIED].map((name) => ({ name, replica: replica(name) }))] } },
  'check replication config',
);
const ROLE = 'arn:aws:iam::123456789012:role/spawn-replication';

describe('/dr check replication', () => {
  const getStack = useLocalStack({ seed: false, config });
  let stack: LocalStack;

  beforeAll(async () => {
    stack = getStack();
    const s3 = stack.clients.s3('us-east-1');
    for (const Bucket of [HEALTHY, WEAK, NONE, DENIED]) {
      await s3.send(new CreateBucketCommand({ Bucket }));
      await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    await s3.send(new PutBucketReplicationCommand({ Bucket: HEALTHY, ReplicationConfiguration: { Role: ROLE, Rules: [replicationRule(replica(HEALTHY).bucket)] } }));
    await s3.send(
      new PutBucketReplicationCommand({
        Bucket: WEAK,
        ReplicationConfiguration: { Role: ROLE, Rules: [replicationRule('somewhere-else', { id: 'old-rule', enabled: false, rtc: false, metrics: false, deleteMarkers: false })] },
      }),
    );
  });

  /** The run a viewer's command started, ended, and its message. */
  async function check(bucket: string): Promise<{ status: string | undefined; text: string; buttons: number }> {
    const reply = await command(stack, 'carol', `check replication ${bucket}`);
    const runId = runIdOf(reply);
    const message = runMessage(stack.standIn, runId);
    return { status: runSummary(stack, runId)?.status, text: textOf(message), buttons: buttons(message).length };
  }

  it('passes a bucket replicated as configured: rule, destination, RTC, metrics and delete markers shown; no approval asked', async () => {
    // prepare: moto answers GetBucketReplication with DeleteMarkerReplication Disabled whatever was
    // put (moto/s3/responses.py get_bucket_replication), so the answer is given back as S3 would
    const undo = rewrite<{ ReplicationConfiguration?: { Rules?: ReplicationRule[] } }>(stack.clients.s3('us-east-1'), 'GetBucketReplicationCommand', (out) => ({
      ...out,
      ReplicationConfiguration: { ...out.ReplicationConfiguration, Rules: (out.ReplicationConfiguration?.Rules ?? []).map((r) => ({ ...r, DeleteMarkerReplication: { Status: 'Enabled' } })) },
    }));

    // act
    let got: Awaited<ReturnType<typeof check>>;
    try {
      got = await check(HEALTHY);
    } finally {
      undo();
    }

    // assess
    expect(got.status).toBe('succeeded');
    expect(got.buttons).toBe(0);
    expect(got.text).toContain(`Rule \`replication\`: enabled → \`${replica(HEALTHY).bucket}\``);
    expect(got.text).toContain('RTC (15 min): on · metrics: on · delete markers: replicated');
    expect(got.text).toContain(`Copy back with \`/dr restore s3 ${HEALTHY} --from-replica\``);
    expect(got.text).not.toMatch(/failed/i);
  });

  it('names every weakness of a disabled rule to the wrong bucket without RTC', async () => {
    // act
    const got = await check(WEAK);

    // assess
    expect(got.status).toBe('failed');
    expect(got.text).toContain('Rule `old-rule`: DISABLED → `somewhere-else`');
    expect(got.text).toContain('RTC (15 min): off · metrics: off · delete markers: not replicated');
    expect(got.text).toContain('*3 failed:*');
    expect(got.text).toContain('the replication rule is disabled');
    expect(got.text).toContain('RTC is off, so the 15-minute replication SLA does not apply');
    expect(got.text).toContain(`replicates to somewhere-else, but the config names ${replica(WEAK).bucket}`);
  });

  it('says there is no replication rule, and that a configured bucket does not exist', async () => {
    // act
    const none = await check(NONE);
    const gone = await check(GONE);

    // assess
    expect(none).toMatchObject({ status: 'failed' });
    expect(none.text).toContain('no replication rule');
    expect(gone).toMatchObject({ status: 'failed' });
    expect(gone.text).toContain(`bucket \`${GONE}\` does not exist`);
  });

  it('reports AccessDenied on GetBucketReplication as a failure naming the call, not as "no rule"', async () => {
    // prepare
    const undo = fail(stack.clients.s3('us-east-1'), 'GetBucketReplicationCommand', { name: 'AccessDenied', message: 'Access Denied', status: 403 });

    // act
    let got: Awaited<ReturnType<typeof check>>;
    try {
      got = await check(DENIED);
    } finally {
      undo();
    }

    // assess
    expect(got.status).toBe('failed');
    expect(got.text).toContain('GetBucketReplication');
    expect(got.text).toContain('Access Denied');
  });

  it('refuses a bucket outside the config at the command, starting nothing', async () => {
    // prepare
    const before = stack.engine.names().length;

    // act
    const reply = await command(stack, 'carol', 'check replication not-a-configured-bucket');

    // assess
    expect(reply.json?.text).toContain('Unknown bucket `not-a-configured-bucket`');
    expect(stack.engine.names()).toHaveLength(before);
  });
});
