import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listObjectsIndex } from '../../src/aws/s3';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { seedSandbox } from '../../src/local/seed';
import type { LocalStack } from '../../src/local/stack';
import { LocalRunEngine } from '../../src/runbooks/engine-local';
import {
  approvedRun,
  buttons,
  command,
  deleteKeys,
  eachLimit,
  listAllVersions,
  latestMarkerKeys,
  newRuns,
  nextSecond,
  runIdOf,
  runMessage,
  runSummary,
  startSandboxStack,
  textOf,
} from '../helpers/flow';

/**
 * Each runbook on the durable SDK's local runner against moto, driven through the real Bolt app
 * (alice requests, bob approves), checking the bucket or table afterwards. The 5,000-object
 * undelete is a long proof: test/long/undelete-5000.test.ts (npm run test:long).
 */

const PREFIXED = 'drbot-it-prefix';
const SINCE = 'drbot-it-since';
const BINARIES = 'spawn-binaries-us-east-1';
const REPLICA = 'spawn-binaries-us-west-2-backup';

const config = parseConfig(
  { ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: PREFIXED }, { name: SINCE }] } },
  'runbooks test config',
);

let stack: LocalStack;

function s3(region = 'us-east-1'): S3Client {
  return stack.clients.s3(region);
}

async function versionedBucket(name: string): Promise<void> {
  await s3().send(new CreateBucketCommand({ Bucket: name }));
  await s3().send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

async function putObjects(bucket: string, keys: readonly string[]): Promise<void> {
  await eachLimit(keys, 32, async (key) => {
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
  });
}

beforeAll(async () => {
  // The sandbox estate as `npm start` seeds it; the test's own buckets are made by the tests.
  stack = await startSandboxStack({ seed: false, config, progressIntervalMs: 0 });
  await seedSandbox(stack.clients, SANDBOX_CONFIG);
});

afterAll(async () => {
  await stack?.close();
  await LocalRunEngine.teardown();
});

describe('restore s3 (undelete)', () => {
  it('with --since removes only the markers newer than that time, and says how many older ones it leaves', async () => {
    // prepare: one batch deleted, then (a whole second later on the server's clock) another
    const older = Array.from({ length: 30 }, (_, i) => `old/${i}`);
    const newer = Array.from({ length: 30 }, (_, i) => `new/${i}`);
    await versionedBucket(SINCE);
    await putObjects(SINCE, [...older, ...newer]);
    await deleteKeys(s3(), SINCE, older);
    const olderAt = Math.max(...(await listAllVersions(s3(), SINCE)).markers.map((m) => (m.LastModified as Date).getTime()));
    const since = new Date(Math.floor(olderAt / 1000) * 1000 + 1000);
    await nextSecond();
    await deleteKeys(s3(), SINCE, newer);
    const newerAt = (await listAllVersions(s3(), SINCE, 'new/')).markers.map((m) => (m.LastModified as Date).getTime());
    expect(Math.min(...newerAt)).toBeGreaterThanOrEqual(since.getTime());

    // act
    const { runId, plan, result } = await approvedRun(stack, `restore s3 ${SINCE} --since ${since.toISOString()}`);

    // assess
    expect(plan).toMatch(/\*30\* deleted objects will be restored/);
    expect(plan).toMatch(/Not touched: 30 delete markers older than --since/);
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(await latestMarkerKeys(s3(), SINCE)).toEqual([...older].sort());
    expect([...(await listObjectsIndex(s3(), SINCE)).keys()].sort()).toEqual([...newer].sort());
    expect(result).toMatch(/Restored \*30\* objects/);
  });

  it('with --prefix removes only the markers under the prefix', async () => {
    // prepare
    const inside = Array.from({ length: 40 }, (_, i) => `bin/tool-${i}`);
    const outside = Array.from({ length: 40 }, (_, i) => `lib/lib-${i}.so`);
    await versionedBucket(PREFIXED);
    await putObjects(PREFIXED, [...inside, ...outside]);
    await deleteKeys(s3(), PREFIXED, [...inside, ...outside]);

    // act
    const { runId, plan, result } = await approvedRun(stack, `restore s3 ${PREFIXED} --prefix bin/`);

    // assess
    expect(plan).toMatch(/\*40\* deleted objects will be restored/);
    expect(plan).toContain('under `bin/`');
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(await latestMarkerKeys(s3(), PREFIXED)).toEqual([...outside].sort());
    expect([...(await listObjectsIndex(s3(), PREFIXED)).keys()].sort()).toEqual([...inside].sort());
    expect(result).toMatch(/Restored \*40\* objects/);
  });

  it('refuses a bucket that is not in the config at the edge, naming it and the fix; nothing starts', async () => {
    // prepare
    const before = stack.engine.names();
    const posted = stack.standIn.callsOf('chat.postMessage').length;

    // act
    const reply = await command(stack, 'alice', 'restore s3 no-such-bucket-anywhere');

    // assess
    expect(reply.status).toBe(200);
    expect(reply.json?.response_type).toBe('ephemeral');
    expect(reply.json?.text).toContain('Unknown bucket `no-such-bucket-anywhere`');
    expect(reply.json?.text).toContain('Add it to the drbot config');
    expect(newRuns(stack, before)).toEqual([]);
    expect(stack.standIn.callsOf('chat.postMessage')).toHaveLength(posted);
  });

  it('stops an unversioned bucket at the plan with a message naming it and how to enable versioning; nothing changes', async () => {
    // prepare
    const bucket = 'spawn-logs-us-east-1';
    const objects = await listObjectsIndex(s3(), bucket);

    // act
    const reply = await command(stack, 'alice', `restore s3 ${bucket}`);

    // assess
    const runId = runIdOf(reply);
    const message = runMessage(stack.standIn, runId);
    const text = textOf(message);
    expect(runSummary(stack, runId)?.status).toBe('failed');
    expect(text).toContain(`Bucket \`${bucket}\` was never versioned`);
    expect(text).toContain(`put-bucket-versioning --bucket ${bucket}`);
    expect(buttons(message)).toEqual([]);
    expect(await listObjectsIndex(s3(), bucket)).toEqual(objects);
    expect((await listAllVersions(s3(), bucket)).markers).toEqual([]);
  });
});

describe('restore s3 --from-replica', () => {
  it('copies back every replica object missing or different in the primary and keeps objects only in the primary', async () => {
    // prepare
    await s3().send(new PutObjectCommand({ Bucket: BINARIES, Key: 'only-in-primary/keep.txt', Body: 'mine' }));
    const replica = await listObjectsIndex(s3('us-west-2'), REPLICA);
    const primaryBefore = await listObjectsIndex(s3(), BINARIES);
    const keep = primaryBefore.get('only-in-primary/keep.txt');
    const missing = [...replica.keys()].filter((k) => !primaryBefore.has(k));
    const different = [...replica.entries()].filter(([k, r]) => primaryBefore.has(k) && primaryBefore.get(k)?.etag !== r.etag);
    expect(missing).toHaveLength(250);
    expect(different).toHaveLength(5);

    // act
    const { runId, plan, result } = await approvedRun(stack, `restore s3 ${BINARIES} --from-replica`);

    // assess
    expect(plan).toMatch(/\*250\* missing and \*5\* different objects will be copied/);
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    const primary = await listObjectsIndex(s3(), BINARIES);
    const mismatched = [...replica.entries()].filter(([k, r]) => primary.get(k)?.etag !== r.etag || primary.get(k)?.size !== r.size).map(([k]) => k);
    expect(mismatched).toEqual([]);
    expect(primary.get('only-in-primary/keep.txt')).toEqual(keep);
    expect(primary.size).toBe(replica.size + 1);
    expect(result).toMatch(/Copied \*255\* objects/);
    expect(result).toContain('Verified by listing both buckets');
  });

  it('stops a bucket with no replica at the plan with a message naming it and the fix; nothing changes', async () => {
    // prepare
    const bucket = 'spawn-results-us-east-1';
    const objects = await listObjectsIndex(s3(), bucket);

    // act
    const reply = await command(stack, 'alice', `restore s3 ${bucket} --from-replica`);

    // assess
    const runId = runIdOf(reply);
    const text = textOf(runMessage(stack.standIn, runId));
    expect(runSummary(stack, runId)?.status).toBe('failed');
    expect(text).toContain(`\`${bucket}\` has no replica bucket in the drbot config`);
    expect(text).toContain('replica: { bucket: …, region: … }');
    expect(await listObjectsIndex(s3(), bucket)).toEqual(objects);
  });
});

describe('backup dynamodb', () => {
  async function backupsOf(table: string): Promise<{ name: string; arn: string }[]> {
    const r = await stack.clients.dynamodb().send(new ListBackupsCommand({ TableName: table }));
    return (r.BackupSummaries ?? []).map((b) => ({ name: b.BackupName ?? '', arn: b.BackupArn ?? '' }));
  }

  it('backs up every configured table without an approval, named <table>-backup-<yyyymmdd-HHMMSS>, and lists the ARNs', async () => {
    // prepare
    const tables = config.dynamodb.tables.map((t) => t.name);
    const before = new Map(await Promise.all(tables.map(async (t) => [t, new Set((await backupsOf(t)).map((b) => b.arn))] as const)));

    // act
    const reply = await command(stack, 'alice', 'backup dynamodb');

    // assess
    const runId = runIdOf(reply);
    const message = runMessage(stack.standIn, runId);
    const text = textOf(message);
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(buttons(message)).toEqual([]);
    expect(text).toContain('Done');
    expect(text).toContain(`${tables.length} of ${tables.length} backups AVAILABLE`);
    for (const table of tables) {
      const made = (await backupsOf(table)).filter((b) => !before.get(table)?.has(b.arn));
      expect(made).toHaveLength(1);
      expect(made[0]?.name).toMatch(new RegExp(`^${table}-backup-\\d{8}-\\d{6}$`));
      expect(text).toContain(made[0]?.arn);
    }
    expect((await stack.store.listAudit(50)).filter((e) => e.runId === runId).map((e) => e.action)).not.toContain('approval-requested');
  });

  it('refuses an unknown table at the edge; nothing starts', async () => {
    // prepare
    const before = stack.engine.names();
    const backups = (await backupsOf('spawn-instances')).length;

    // act
    const reply = await command(stack, 'alice', 'backup dynamodb nope');

    // assess
    expect(reply.json?.response_type).toBe('ephemeral');
    expect(reply.json?.text).toContain('Unknown table `nope`');
    expect(reply.json?.text).toContain('Add it to the drbot config');
    expect(newRuns(stack, before)).toEqual([]);
    expect(await backupsOf('spawn-instances')).toHaveLength(backups);
  });
});
