/**
 * The prune adapters on their own, against moto: what each backup verb's `--prune` lists as copies
 * (which are drbot's, which are pinned, what state and age) and how it deletes one, for DynamoDB
 * backups, IAM, Route53 and Lambda exports in the backup bucket, and AMI copies. Which copies go is
 * retention.ts's (retention.test.ts); the flows through Slack and approval are prune, prune-exports
 * and prune-amis. These need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * Where moto cannot show a case, an SDK middleware changes the answer and the test says so: moto's
 * ListBackups has no pages and only AVAILABLE USER backups; its DeleteObjects never fails one key.
 */
import { type BackupSummary, CreateBackupCommand, CreateTableCommand, ListBackupsCommand, type ListBackupsCommandOutput } from '@aws-sdk/client-dynamodb';
import { CopyImageCommand, CreateTagsCommand, DeregisterImageCommand, DescribeImagesCommand, type DescribeImagesCommandOutput, DescribeSnapshotsCommand, type Image } from '@aws-sdk/client-ec2';
import type { AliasConfiguration, ListAliasesCommandOutput } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, type DeleteObjectsCommandOutput, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { backupName } from '../../src/aws/dynamodb';
import { seedAmis } from '../../src/local/estate';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { amiCopies, deleteAmiCopy, isOurCopy, snapshotsOf } from '../../src/runbooks/backup-amis/prune';
import { deleteTableBackup, listTableCopies, ourBackupPattern } from '../../src/runbooks/backup-dynamodb/prune';
import { deleteExportCopy, EXPORT_KEY, listExportCopies } from '../../src/runbooks/backup-iam/prune';
import { listStoredVersionCopies } from '../../src/runbooks/backup-lambda/prune';
import { listZoneExports } from '../../src/runbooks/backup-route53/prune';
import { deleteStoredCopy, listStoredVersions, pointerTarget, refsId } from '../../src/runbooks/export-prune';
import type { Copy } from '../../src/runbooks/retention';
import { ACCESS_DENIED, countTries, fail, patchInput, rewrite, SERVICE_UNAVAILABLE, stub, undoFaults } from '../helpers/faults';
import { lambdaRoles, makeFunction } from '../helpers/lambda-fns';
import { nextSecond } from '../helpers/flow';
import { useMoto } from '../helpers/moto';

const moto = useMoto();
afterEach(undoFaults);
let n = 0;

const s3 = () => moto().clients.s3('us-east-1');

/** A new versioned bucket. */
async function bucket(): Promise<string> {
  const name = `prune-${++n}`;
  await s3().send(new CreateBucketCommand({ Bucket: name }));
  await s3().send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  return name;
}

const put = async (b: string, key: string, body = key): Promise<string> => (await s3().send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }))).VersionId ?? '';

/** Every version in the bucket as S3 lists it in one call: key, version and its date. */
async function versions(b: string): Promise<Array<{ key: string; versionId: string; at: string }>> {
  const r = await s3().send(new ListObjectVersionsCommand({ Bucket: b }));
  return (r.Versions ?? []).map((v) => ({ key: v.Key ?? '', versionId: v.VersionId ?? '', at: v.LastModified?.toISOString() ?? '' }));
}

const byLabel = (a: { label?: string }, b: { label?: string }) => (a.label ?? '').localeCompare(b.label ?? '');

describe('DynamoDB backups (backup-dynamodb/prune.ts)', () => {
  const ddb = () => moto().clients.dynamodb('us-east-1');
  const at = new Date('2026-11-30T23:59:58Z');

  async function table(name: string): Promise<void> {
    await ddb().send(
      new CreateTableCommand({ TableName: name, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
  }
  const backup = async (t: string, name: string): Promise<string> => (await ddb().send(new CreateBackupCommand({ TableName: t, BackupName: name }))).BackupDetails?.BackupArn ?? '';

  it('the name pattern is exactly what backupName makes for that table: whole, escaped and truncated as it is', () => {
    const p = ourBackupPattern('spawn-instances');
    expect(p.test(backupName('spawn-instances', at))).toBe(true);
    expect(p.test('spawn-instances-backup-20261130-235958')).toBe(true);
    for (const other of [
      'spawn-instances-backup-20261130-23595',
      'spawn-instances-backup-20261130-2359580',
      'spawn-instances-backup-2026113-235958',
      'xspawn-instances-backup-20261130-235958',
      'spawn-instances-backup-20261130-235958x',
      'spawn-instances-old-backup-20261130-235958',
      'spawn-instances-backup-20261130_235958',
      'before-migration-manual',
    ]) {
      expect({ other, ours: p.test(other) }).toEqual({ other, ours: false });
    }
    // a dot in the table's name is a dot, not any character
    expect(ourBackupPattern('a.b').test(backupName('a.b', at))).toBe(true);
    expect(ourBackupPattern('a.b').test('aXb-backup-20261130-235958')).toBe(false);
    // a name backupName had to cut to 255 characters, and one it had to make safe
    const long = 't'.repeat(300);
    expect(backupName(long, at)).toHaveLength(255);
    expect(ourBackupPattern(long).test(backupName(long, at))).toBe(true);
    expect(ourBackupPattern('my table').test(backupName('my table', at))).toBe(true);
  });

  it("lists every backup of the table, drbot's by name, with its ARN, date and state, and none of another table's", async () => {
    // prepare
    await table('t-list');
    await table('t-other');
    const ours = await backup('t-list', backupName('t-list', at));
    const manual = await backup('t-list', 'before-migration-manual');
    await backup('t-other', backupName('t-other', at));
    const listed = (await ddb().send(new ListBackupsCommand({ TableName: 't-list' }))).BackupSummaries ?? [];
    const made = (arn: string) => listed.find((b) => b.BackupArn === arn)?.BackupCreationDateTime?.toISOString();

    // act
    const copies = await listTableCopies(ddb(), 't-list');

    // assess
    expect(copies.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: ours, group: 't-list', createdAt: made(ours), state: 'good', ours: true, label: backupName('t-list', at) },
        { id: manual, group: 't-list', createdAt: made(manual), state: 'good', ours: false, label: 'before-migration-manual' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(made(ours)).toMatch(/^\d{4}-/);
  });

  it("what moto never answers (SDK middleware adds it): deleted, still-creating, SYSTEM and AWS Backup backups, another table's, and ones without an ARN, name or date", async () => {
    // prepare
    await table('t-kinds');
    const name = backupName('t-kinds', at);
    const arn = (s: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/t-kinds/backup/${s}`;
    const when = new Date('2026-11-01T00:00:00Z');
    const extra: BackupSummary[] = [
      { TableName: 't-kinds', BackupArn: arn('deleted'), BackupName: name, BackupStatus: 'DELETED', BackupType: 'USER', BackupCreationDateTime: when },
      { TableName: 't-kinds', BackupArn: arn('creating'), BackupName: name, BackupStatus: 'CREATING', BackupType: 'USER', BackupCreationDateTime: when },
      { TableName: 't-kinds', BackupArn: arn('system'), BackupName: name, BackupStatus: 'AVAILABLE', BackupType: 'SYSTEM', BackupCreationDateTime: when },
      { TableName: 't-kinds', BackupArn: arn('aws-backup'), BackupName: name, BackupStatus: 'AVAILABLE', BackupType: 'AWS_BACKUP', BackupCreationDateTime: when },
      { TableName: 't-elsewhere', BackupArn: arn('elsewhere'), BackupName: name, BackupStatus: 'AVAILABLE', BackupType: 'USER', BackupCreationDateTime: when },
      { TableName: 't-kinds', BackupName: name, BackupStatus: 'AVAILABLE', BackupType: 'USER', BackupCreationDateTime: when },
      { TableName: 't-kinds', BackupArn: arn('bare'), BackupStatus: 'AVAILABLE', BackupType: 'USER' },
    ];
    rewrite<ListBackupsCommandOutput>(ddb(), 'ListBackupsCommand', (out) => ({ ...out, BackupSummaries: [...(out.BackupSummaries ?? []), ...extra] }));

    // act
    const copies = await listTableCopies(ddb(), 't-kinds');

    // assess
    expect(copies).toEqual([
      { id: arn('creating'), group: 't-kinds', createdAt: when.toISOString(), state: 'pending', ours: true, label: name },
      { id: arn('system'), group: 't-kinds', createdAt: when.toISOString(), state: 'good', ours: false, label: name },
      { id: arn('aws-backup'), group: 't-kinds', createdAt: when.toISOString(), state: 'good', ours: false, label: name },
      { id: arn('bare'), group: 't-kinds', createdAt: '', state: 'good', ours: false, label: arn('bare') },
    ]);
  });

  it('reads every page (moto has none: SDK middleware pages its answer one backup at a time), asking for each from the last one read', async () => {
    // prepare
    await table('t-pages');
    const arns = [await backup('t-pages', 'p1'), await backup('t-pages', 'p2'), await backup('t-pages', 'p3')];
    const starts: unknown[] = [];
    const asked: unknown[] = [];
    rewrite<ListBackupsCommandOutput>(ddb(), 'ListBackupsCommand', (out, input) => {
      starts.push(input.ExclusiveStartBackupArn);
      asked.push([input.TableName, input.BackupType]);
      const all = out.BackupSummaries ?? [];
      const from = input.ExclusiveStartBackupArn ? all.findIndex((b) => b.BackupArn === input.ExclusiveStartBackupArn) + 1 : 0;
      const page = all.slice(from, from + 1);
      return { ...out, BackupSummaries: page, ...(from + 1 < all.length ? { LastEvaluatedBackupArn: page[0]?.BackupArn } : {}) };
    });

    // act
    const copies = await listTableCopies(ddb(), 't-pages');

    // assess
    expect(copies.map((c) => c.label)).toEqual(['p1', 'p2', 'p3']);
    expect(copies.map((c) => c.id)).toEqual(arns);
    expect(starts).toEqual([undefined, arns[0], arns[1]]);
    // every type of backup is asked for (moto ignores BackupType): AWS Backup's and SYSTEM ones are listed to be kept
    expect(asked).toEqual([
      ['t-pages', 'ALL'],
      ['t-pages', 'ALL'],
      ['t-pages', 'ALL'],
    ]);
  });

  it('a listing AWS refuses fails with the call and table named', async () => {
    await table('t-denied');
    fail(ddb(), 'ListBackupsCommand', ACCESS_DENIED);
    await expect(listTableCopies(ddb(), 't-denied')).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'ListBackups', resource: 't-denied' });
  });

  it('deletes one backup and no other; one already gone counts as deleted; a refusal or another missing thing is an error', async () => {
    // prepare
    await table('t-del');
    const gone = await backup('t-del', backupName('t-del', at));
    const kept = await backup('t-del', 'before-migration-manual');

    // act
    await deleteTableBackup(ddb(), gone);
    await deleteTableBackup(ddb(), gone); // a replayed step: moto answers BackupNotFoundException

    // assess
    const left = (await ddb().send(new ListBackupsCommand({ TableName: 't-del' }))).BackupSummaries ?? [];
    expect(left.filter((b) => b.BackupStatus !== 'DELETED').map((b) => b.BackupArn)).toEqual([kept]);

    fail(ddb(), 'DeleteBackupCommand', ACCESS_DENIED, { times: 1 });
    await expect(deleteTableBackup(ddb(), kept)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'DeleteBackup', resource: kept });
    fail(ddb(), 'DeleteBackupCommand', { name: 'TableNotFoundException', message: 'Table not found', status: 400 }, { times: 1 });
    await expect(deleteTableBackup(ddb(), kept)).rejects.toMatchObject({ code: 'aws_not_found', operation: 'DeleteBackup' });
    const after = (await ddb().send(new ListBackupsCommand({ TableName: 't-del' }))).BackupSummaries ?? [];
    expect(after.filter((b) => b.BackupStatus !== 'DELETED').map((b) => b.BackupArn)).toEqual([kept]);
  });
});

describe('IAM exports (backup-iam/prune.ts)', () => {
  const EXPORT = 'iam/2026-01-01/r-0123456789ab.json';

  it("drbot's export keys, and nothing like them", () => {
    expect(EXPORT_KEY.test(EXPORT)).toBe(true);
    for (const other of [
      `x/${EXPORT}`,
      `${EXPORT}.bak`,
      'iam/2026-1-01/r-0123456789ab.json',
      'iam/2026-01-01/r-0123456789abc.json',
      'iam/2026-01-01/r-0123456789a.json',
      'iam/2026-01-01/r-0123456789AB.json',
      'iam/2026-01-01/sub/r-0123456789ab.json',
      'iam/2026-01-01/r-0123456789abXjson',
      'iam/latest.json',
    ]) {
      expect({ other, ours: EXPORT_KEY.test(other) }).toEqual({ other, ours: false });
    }
  });

  it("lists every version under iam/ page by page, but the latest pointer: drbot's exports as its own, anything else as someone else's", async () => {
    // prepare: the export written twice (two versions), the pointer, a foreign note, and a file outside iam/
    const b = await bucket();
    await put(b, EXPORT, 'one');
    await put(b, EXPORT, 'two');
    await put(b, 'iam/latest.json', JSON.stringify({ key: EXPORT }));
    await put(b, 'iam/notes.txt');
    await put(b, 'other/iam.json');
    const all = await versions(b);
    patchInput(s3(), 'ListObjectVersionsCommand', { MaxKeys: 1 });
    const tries = countTries(s3(), 'ListObjectVersionsCommand');

    // act
    const copies = await listExportCopies(s3(), b);

    // assess
    const expected = all
      .filter((v) => v.key.startsWith('iam/') && v.key !== 'iam/latest.json')
      .map((v) => ({ id: JSON.stringify([v.key, v.versionId]), group: 'iam', createdAt: v.at, state: 'good', ours: v.key === EXPORT, label: v.key }));
    expect(expected).toHaveLength(3);
    expect(copies).toEqual(expected);
    expect(tries.tries()).toBeGreaterThanOrEqual(4);
    tries.undo();
  });

  it('deletes exactly the one version for good; the other version and the pointer stay; a refusal names the object', async () => {
    // prepare
    const b = await bucket();
    const v1 = await put(b, EXPORT, 'one');
    const v2 = await put(b, EXPORT, 'two');
    await put(b, 'iam/latest.json', JSON.stringify({ key: EXPORT }));
    const copy = (await listExportCopies(s3(), b)).find((c) => c.id === JSON.stringify([EXPORT, v1]));
    if (!copy) throw new Error('the first version is not listed');

    // act
    await deleteExportCopy(s3(), b, copy);

    // assess
    expect((await versions(b)).map((v) => [v.key, v.versionId]).sort()).toEqual([[EXPORT, v2], ['iam/latest.json', expect.any(String)]].sort());
    fail(s3(), 'DeleteObjectCommand', ACCESS_DENIED);
    const second = { ...copy, id: JSON.stringify([EXPORT, v2]) };
    await expect(deleteExportCopy(s3(), b, second)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'DeleteObject', resource: `${b}/${EXPORT}` });
    expect((await versions(b)).some((v) => v.versionId === v2)).toBe(true);
  });
});

describe('Route53 exports (backup-route53/prune.ts) and the stored versions under a prefix (export-prune.ts)', () => {
  const A = 'route53/Z1/2026-01-01/r-aaaaaaaaaaaa.json';
  const B = 'route53/Z1/2026-02-01/r-bbbbbbbbbbbb.json';

  it("lists the zone's versions but its pointer; the pointer's target is pinned; drbot's by key; another zone's are not there", async () => {
    // prepare
    const b = await bucket();
    await put(b, A);
    await put(b, B);
    await put(b, 'route53/Z1/latest.json', JSON.stringify({ key: B, runId: 'r-bbbbbbbbbbbb' }));
    await put(b, 'route53/Z1/notes.txt');
    await put(b, `${A}.old`);
    await put(b, 'route53/Z12/2026-01-01/r-cccccccccccc.json');
    const all = await versions(b);
    const v = (key: string) => all.find((x) => x.key === key) ?? { key, versionId: '?', at: '?' };
    const copy = (key: string, ours: boolean, pinned?: string) => ({
      id: refsId([{ key, versionId: v(key).versionId }]),
      group: 'Z1',
      createdAt: v(key).at,
      state: 'good',
      ours,
      label: key,
      ...(pinned ? { pinned } : {}),
    });

    // act
    const copies = await listZoneExports(s3(), b, 'Z1');

    // assess
    expect(copies.sort(byLabel)).toEqual([copy(A, true), copy(`${A}.old`, false), copy(B, true, 'the latest pointer'), copy('route53/Z1/notes.txt', false)].sort(byLabel));
  });

  it("with no pointer nothing is pinned; a pointer drbot cannot read (not JSON, or naming no key) stops the listing; one AWS refuses is AWS's error", async () => {
    // prepare
    const b = await bucket();
    await put(b, A);

    // act, assess
    expect((await listZoneExports(s3(), b, 'Z1')).map((c) => c.pinned)).toEqual([undefined]);
    expect(await pointerTarget(s3(), b, 'route53/Z1/latest.json')).toBeUndefined();
    await put(b, 'route53/Z1/latest.json', JSON.stringify({ key: A }));
    expect(await pointerTarget(s3(), b, 'route53/Z1/latest.json')).toBe(A);
    const unreadable = {
      code: 'pointer_unreadable',
      message: '`route53/Z1/latest.json` is not a pointer drbot can read, so what it protects is unknown.',
      hint: 'Run the backup again without --prune to rewrite it.',
    };
    for (const body of ['not a pointer {', JSON.stringify({ key: 5 }), JSON.stringify({ key: '' }), 'null', JSON.stringify({ runId: 'r-1' })]) {
      await put(b, 'route53/Z1/latest.json', body);
      await expect(listZoneExports(s3(), b, 'Z1')).rejects.toMatchObject(unreadable);
    }
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED);
    await expect(pointerTarget(s3(), b, 'route53/Z1/latest.json')).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'GetObject' });
  });

  it('lists every version under a prefix across pages, versions of one key split between pages included', async () => {
    // prepare: three versions of one key and one of another, listed one a page
    const b = await bucket();
    for (const body of ['1', '2', '3']) await put(b, 'lambda/f/1/code.zip', body);
    await put(b, 'lambda/f/2/code.zip');
    await put(b, 'lambda/g/1/code.zip');
    const expected = (await versions(b)).filter((x) => x.key.startsWith('lambda/f/'));
    patchInput(s3(), 'ListObjectVersionsCommand', { MaxKeys: 1 });

    // act
    const listed = await listStoredVersions(s3(), b, 'lambda/f/');

    // assess
    expect(listed.map((x) => [x.key, x.versionId, x.lastModified.toISOString()])).toEqual(expected.map((x) => [x.key, x.versionId, x.at]));
    expect(listed).toHaveLength(4);
  });

  it('deletes every version a copy is made of, and no other; a version already gone is deleted', async () => {
    // prepare
    const b = await bucket();
    const c1 = await put(b, 'lambda/f/1/configuration.json');
    const z1 = await put(b, 'lambda/f/1/code.zip', 'one');
    const z2 = await put(b, 'lambda/f/1/code.zip', 'two');
    const refs = [
      { key: 'lambda/f/1/configuration.json', versionId: c1 },
      { key: 'lambda/f/1/code.zip', versionId: z1 },
    ];
    const copy: Copy = { id: refsId(refs), group: 'f', createdAt: '', state: 'good', ours: true };
    expect(copy.id).toBe(JSON.stringify([['lambda/f/1/configuration.json', c1], ['lambda/f/1/code.zip', z1]]));

    // act
    await deleteStoredCopy(s3(), b, copy);
    await deleteStoredCopy(s3(), b, copy);

    // assess
    expect((await versions(b)).map((x) => x.versionId)).toEqual([z2]);
  });

  it("S3 refusing some of a copy's objects (moto never does: SDK middleware sets the per-key errors) fails naming how many and the first; a version already gone does not", async () => {
    // prepare
    const b = await bucket();
    const refs = [
      { key: 'lambda/f/1/configuration.json', versionId: await put(b, 'lambda/f/1/configuration.json') },
      { key: 'lambda/f/1/code.zip', versionId: await put(b, 'lambda/f/1/code.zip') },
    ];
    const copy: Copy = { id: refsId(refs), group: 'f', createdAt: '', state: 'good', ours: true };
    // answered without reaching moto, so the objects S3 "refused" are still there
    const errors = (list: Array<{ Code: string; Message?: string }>) =>
      stub<DeleteObjectsCommandOutput>(s3(), 'DeleteObjectsCommand', () => ({ Errors: list.map((e, i) => ({ Key: refs[i]?.key, VersionId: refs[i]?.versionId, ...e })) }));

    // act, assess: gone already
    let undo = errors([{ Code: 'NoSuchVersion' }, { Code: 'NoSuchKey' }]);
    await expect(deleteStoredCopy(s3(), b, copy)).resolves.toBeUndefined();
    undo();
    // one refused, with and without S3's message
    undo = errors([{ Code: 'AccessDenied', Message: 'Access Denied' }]);
    await expect(deleteStoredCopy(s3(), b, copy)).rejects.toMatchObject({
      code: 'aws_delete_failed',
      message: '1 of 2 objects could not be deleted (AccessDenied on `lambda/f/1/configuration.json`: Access Denied).',
      hint: "Check the bot's s3:DeleteObjectVersion permission on the backup bucket; the next prune tries again.",
    });
    undo();
    undo = errors([{ Code: 'NoSuchVersion' }, { Code: 'AccessDenied' }]);
    await expect(deleteStoredCopy(s3(), b, copy)).rejects.toMatchObject({ message: '1 of 2 objects could not be deleted (AccessDenied on `lambda/f/1/code.zip`).' });
    undo();
    undo = errors([{ Code: 'AccessDenied' }, { Code: 'AccessDenied' }]);
    await expect(deleteStoredCopy(s3(), b, copy)).rejects.toMatchObject({ message: expect.stringMatching(/^2 of 2 objects/) });
  });
});

describe('Lambda versions stored in the backup bucket (backup-lambda/prune.ts)', () => {
  const lambda = () => moto().clients.lambda('us-east-1');



  it('one copy per version folder; the newest whole version by number and every alias target pinned; a folder without its code failed; the rest is foreign', async () => {
    // prepare: versions 3, 9, 10 whole, 11 without its code; the manifests, the pointer and three foreign files
    // a function in Lambda (no version published, no alias): what the listing asks ListAliases of
    await lambdaRoles(moto().clients.iam('us-east-1'));
    await makeFunction(lambda(), 'fn-p', 0, { alias: false });
    const b = await bucket();
    const p = 'lambda/fn-p/';
    for (const v of ['3', '9']) {
      await put(b, `${p}${v}/configuration.json`);
      await put(b, `${p}${v}/code.zip`);
    }
    await put(b, `${p}10/configuration.json`);
    await nextSecond(); // the folder's date is its newest file's
    await put(b, `${p}10/code.zip`);
    await put(b, `${p}11/configuration.json`);
    await put(b, `${p}latest.json`);
    await put(b, `${p}exports/r-0123456789ab.json`);
    // drbot's pattern takes a version of up to ten digits; eleven is someone else's folder
    await put(b, `${p}1234567890/configuration.json`);
    for (const foreign of [`${p}notes.txt`, `${p}01/code.zip`, `${p}5/readme.md`, `${p}12345678901/code.zip`]) await put(b, foreign);
    await put(b, 'lambda/fn-p-2/1/code.zip');
    // moto keeps an alias only on a version it published; these name the stored folders' numbers
    const aliases: AliasConfiguration[] = [
      { Name: 'live', FunctionVersion: '9' },
      { Name: 'canary', FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } } },
      { Name: 'beta', FunctionVersion: '3' },
      { FunctionVersion: '9' },
    ];
    rewrite<ListAliasesCommandOutput>(lambda(), 'ListAliasesCommand', (out) => ({ ...out, Aliases: aliases }));
    const all = await versions(b);
    const refs = (...keys: string[]) => refsId(keys.map((key) => ({ key, versionId: all.find((x) => x.key === key)?.versionId ?? '?' })));
    const at = (key: string) => all.find((x) => x.key === key)?.at ?? '?';
    const folder = (v: string, state: Copy['state'], pinned?: string) => ({
      id: refs(...[`${p}${v}/code.zip`, `${p}${v}/configuration.json`].filter((k) => all.some((x) => x.key === k))),
      group: 'fn-p',
      createdAt: at(`${p}${v}/code.zip`) === '?' ? at(`${p}${v}/configuration.json`) : at(`${p}${v}/code.zip`),
      state,
      ours: true,
      label: `${p}${v}/`,
      ...(pinned ? { pinned } : {}),
    });
    const foreign = (key: string) => ({ id: refs(key), group: 'fn-p', createdAt: at(key), state: 'good', ours: false, label: key });

    // act
    const copies = await listStoredVersionCopies(s3(), b, lambda(), 'fn-p');

    // assess
    expect(copies.sort(byLabel)).toEqual(
      [
        folder('3', 'good', 'alias canary, alias beta'),
        folder('9', 'good', 'alias live, alias ?'),
        folder('10', 'good', 'the newest version'),
        folder('11', 'failed'),
        folder('1234567890', 'failed'),
        foreign(`${p}12345678901/code.zip`),
        foreign(`${p}notes.txt`),
        foreign(`${p}01/code.zip`),
        foreign(`${p}5/readme.md`),
      ].sort(byLabel),
    );
    expect(at(`${p}10/code.zip`) > at(`${p}10/configuration.json`)).toBe(true);
  });

  it('a function that no longer exists has no aliases left: its newest stored version is still pinned; ListAliases refused is an error', async () => {
    // prepare
    const b = await bucket();
    await put(b, 'lambda/fn-gone/1/code.zip');
    await put(b, 'lambda/fn-gone/2/code.zip');

    // act
    const copies = await listStoredVersionCopies(s3(), b, lambda(), 'fn-gone');

    // assess
    expect(copies.map((c) => [c.label, c.pinned])).toEqual([
      ['lambda/fn-gone/1/', undefined],
      ['lambda/fn-gone/2/', 'the newest version'],
    ]);
    fail(lambda(), 'ListAliasesCommand', ACCESS_DENIED);
    await expect(listStoredVersionCopies(s3(), b, lambda(), 'fn-gone')).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'ListAliases' });
  });
});

describe('AMI copies in the backup region (backup-amis/prune.ts)', () => {
  const RUN = 'r-00000000a11e';
  const SRC = 'ami-00000000000000a1';
  const tags = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
  const ourTags = { backup: 'true', 'source-ami': SRC, 'drbot-run': RUN };
  const image = (over: Partial<Image> = {}, t: Record<string, string> = ourTags): Image => ({ ImageId: 'ami-0000000000000c01', Name: 'spawn-worker-backup-20261101', State: 'available', Tags: tags(t), ...over });

  it("drbot's copy has all three tags and its name pattern; any one missing or different makes it someone else's", () => {
    expect(isOurCopy(image())).toBe(true);
    expect(isOurCopy(image({}, { ...ourTags, 'source-ami': 'ami-0123456789abcdef0' }))).toBe(true);
    expect(isOurCopy(image({}, { ...ourTags, 'source-ami': 'ami-1234abcd' }))).toBe(true);
    const others: Array<[string, Image]> = [
      ['backup=false', image({}, { ...ourTags, backup: 'false' })],
      ['no backup tag', image({}, { 'source-ami': SRC, 'drbot-run': RUN })],
      ['no run', image({}, { backup: 'true', 'source-ami': SRC })],
      ['run id too long', image({}, { ...ourTags, 'drbot-run': `${RUN}0` })],
      ['run id with a prefix', image({}, { ...ourTags, 'drbot-run': `x${RUN}` })],
      ['run id not hex', image({}, { ...ourTags, 'drbot-run': 'r-00000000a11g' })],
      ['no source', image({}, { backup: 'true', 'drbot-run': RUN })],
      ['source too short', image({}, { ...ourTags, 'source-ami': 'ami-0000000' })],
      ['source too long', image({}, { ...ourTags, 'source-ami': 'ami-000000000000000000' })],
      ['source with a suffix', image({}, { ...ourTags, 'source-ami': `${SRC}x` })],
      ['source with a prefix', image({}, { ...ourTags, 'source-ami': `x${SRC}` })],
      ['no name', image({ Name: undefined })],
      ['name with no stem', image({ Name: '-backup-20261101' })],
      ['name with a short date', image({ Name: 'spawn-worker-backup-2026110' })],
      ['name with a suffix', image({ Name: 'spawn-worker-backup-20261101-x' })],
      ['name not a backup', image({ Name: 'spawn-worker-20261101' })],
    ];
    for (const [why, im] of others) expect({ why, ours: isOurCopy(im) }).toEqual({ why, ours: false });
  });

  it('as copies: each state judged, grouped by source image, deregistered and ID-less images left out', () => {
    const states: Array<[Image['State'], Copy['state']]> = [
      ['available', 'good'],
      ['pending', 'pending'],
      ['transient', 'pending'],
      ['failed', 'failed'],
      ['invalid', 'failed'],
      ['error', 'failed'],
      ['disabled', 'failed'],
    ];
    const images = states.map(([State], i) => image({ ImageId: `ami-000000000000${i}c01`, State, CreationDate: `2026-11-0${i + 1}T00:00:00.000Z` }));
    const copies = amiCopies([
      ...images,
      image({ ImageId: 'ami-0000000000000d01', State: 'deregistered' }),
      image({ ImageId: undefined }),
      image({ ImageId: 'ami-0000000000000e01', Name: undefined, CreationDate: undefined }, { backup: 'true' }),
    ]);
    expect(copies).toEqual([
      ...states.map(([, state], i) => ({ id: `ami-000000000000${i}c01`, group: SRC, createdAt: `2026-11-0${i + 1}T00:00:00.000Z`, state, ours: true, label: `ami-000000000000${i}c01 spawn-worker-backup-20261101` })),
      { id: 'ami-0000000000000e01', group: 'ami-0000000000000e01', createdAt: '', state: 'good', ours: false, label: 'ami-0000000000000e01' },
    ]);
  });

  it('the snapshots an image was made of: its EBS mappings only', () => {
    expect(snapshotsOf({ BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-1' } }, { VirtualName: 'ephemeral0' }, { Ebs: { SnapshotId: '' } }, { Ebs: {} }, { Ebs: { SnapshotId: 'snap-2' } }] })).toEqual(['snap-1', 'snap-2']);
    expect(snapshotsOf({})).toEqual([]);
  });

  describe('deleting a copy, on moto', () => {
    const west = () => moto().clients.ec2('us-west-2');
    let source = '';
    const exists = async (id: string) => ((await west().send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? []).some((i) => i.ImageId === id);
    const snapshots = async () => new Set(((await west().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId));

    beforeAll(async () => {
      source = (await seedAmis(moto().clients, SANDBOX_CONFIG)).tagged[0] ?? '';
    }, 60_000);

    /** A copy of the seeded image in us-west-2, tagged as drbot tags its own (or as `t` says); its ID and snapshots. */
    async function copy(t: Record<string, string> = ourTags): Promise<{ id: string; snaps: string[] }> {
      const id = (await west().send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: source, Name: `spawn-worker-backup-2026110${++n % 10}` }))).ImageId ?? '';
      await west().send(new CreateTagsCommand({ Resources: [id], Tags: tags(t) }));
      const im = ((await west().send(new DescribeImagesCommand({ ImageIds: [id] }))).Images ?? [])[0] ?? {};
      return { id, snaps: snapshotsOf(im) };
    }

    it('deregisters the image, then deletes its snapshots and the planned ones, each once; another copy is untouched', async () => {
      // prepare
      const { id, snaps } = await copy();
      const other = await copy();
      expect(snaps.length).toBeGreaterThan(0);
      expect(other.snaps.some((s) => snaps.includes(s))).toBe(false);

      // act: the plan read its snapshots, one twice, and one already gone
      const r = await deleteAmiCopy(west(), id, [snaps[0] ?? '', 'snap-0000000000000dead', snaps[0] ?? '']);

      // assess
      expect(r.snapshots.sort()).toEqual([...new Set([...snaps, 'snap-0000000000000dead'])].sort());
      expect(await exists(id)).toBe(false);
      const left = await snapshots();
      for (const s of snaps) expect(left.has(s)).toBe(false);
      expect(await exists(other.id)).toBe(true);
      for (const s of other.snaps) expect(left.has(s)).toBe(true);
    });

    it("an image no longer carrying drbot's tags is refused and untouched", async () => {
      const { id, snaps } = await copy({ backup: 'true', 'source-ami': SRC });
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({
        code: 'not_ours',
        message: `\`${id}\` no longer carries drbot's tags, so it is not deleted.`,
        hint: 'Someone changed its tags after the plan; delete it by hand if it should go.',
      });
      expect(await exists(id)).toBe(true);
      expect((await snapshots()).has(snaps[0])).toBe(true);
    });

    it('an image AWS no longer knows is gone: only the planned snapshots are deleted', async () => {
      // the plan read the snapshots of an image that has been deregistered since (moto lists it no more)
      const { id, snaps } = await copy();
      await west().send(new DeregisterImageCommand({ ImageId: id }));
      await expect(deleteAmiCopy(west(), id, snaps)).resolves.toEqual({ snapshots: snaps });
      expect((await snapshots()).has(snaps[0])).toBe(false);
      // an ID EC2 does not know at all: DescribeImages answers InvalidAMIID.NotFound
      await expect(deleteAmiCopy(west(), 'ami-0000000000000beef', [])).resolves.toEqual({ snapshots: [] });
      // the same answer for our image (as AWS gives for an ID it has forgotten)
      const later = await copy();
      await west().send(new DeregisterImageCommand({ ImageId: later.id }));
      fail(west(), 'DescribeImagesCommand', { name: 'InvalidAMIID.NotFound', message: 'The image id does not exist', status: 400 }, { times: 1 });
      await expect(deleteAmiCopy(west(), later.id, later.snaps)).resolves.toEqual({ snapshots: later.snaps });
      expect((await snapshots()).has(later.snaps[0])).toBe(false);
    });

    it('an image DescribeImages still lists as deregistered is gone: it is not deregistered again, its snapshots are deleted', async () => {
      const { id, snaps } = await copy();
      await west().send(new DeregisterImageCommand({ ImageId: id }));
      // AWS lists a just-deregistered image for a while (moto forgets it at once: SDK middleware lists it)
      rewrite<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', (out) => ({ ...out, Images: [{ ImageId: id, State: 'deregistered', Name: 'spawn-worker-backup-20261101', Tags: tags({ backup: 'true' }) }] }));
      const deregister = countTries(west(), 'DeregisterImageCommand');
      await expect(deleteAmiCopy(west(), id, snaps)).resolves.toEqual({ snapshots: snaps });
      expect(deregister.tries()).toBe(0);
      deregister.undo();
      expect((await snapshots()).has(snaps[0])).toBe(false);
    });

    it('DescribeImages or DeregisterImage refused: an error, and nothing deleted', async () => {
      const { id, snaps } = await copy();
      let undo = fail(west(), 'DescribeImagesCommand', ACCESS_DENIED);
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'DescribeImages' });
      undo();
      // an answer that says nothing of whether the image is gone is not taken as gone
      undo = fail(west(), 'DescribeImagesCommand', { name: 'InvalidAMIID.Malformed', message: 'Invalid id', status: 400 });
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ operation: 'DescribeImages', awsCode: 'InvalidAMIID.Malformed' });
      undo();
      undo = fail(west(), 'DeregisterImageCommand', ACCESS_DENIED);
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ code: 'aws_access_denied', operation: 'DeregisterImage', resource: id });
      undo();
      undo = fail(west(), 'DeregisterImageCommand', { name: 'InvalidAMIID.Malformed', message: 'Invalid id', status: 400 });
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ operation: 'DeregisterImage', awsCode: 'InvalidAMIID.Malformed' });
      undo();
      undo = fail(west(), 'DeregisterImageCommand', { name: 'InvalidAMIID.NotFoundYet', message: 'made up', status: 400 });
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ operation: 'DeregisterImage' });
      undo();
      expect(await exists(id)).toBe(true);
      expect((await snapshots()).has(snaps[0])).toBe(true);
    });

    it.each(['InvalidAMIID.Unavailable', 'InvalidAMIID.NotFound'])('DeregisterImage answering %s (deregistered between the read and the call): its snapshots are still deleted', async (gone) => {
      const { id, snaps } = await copy();
      // the call deregisters it, and then answers as if someone else had been first
      rewrite(west(), 'DeregisterImageCommand', () => {
        throw Object.assign(new Error('gone'), { name: gone, $metadata: { httpStatusCode: 400 } });
      });
      await expect(deleteAmiCopy(west(), id, [])).resolves.toEqual({ snapshots: snaps });
      expect((await snapshots()).has(snaps[0])).toBe(false);
    });

    it('a snapshot refused is named and the image is gone; throttling or a 5xx fails the step so it is tried again', async () => {
      // prepare
      const { id, snaps } = await copy();
      const [snap] = snaps;

      // act, assess: throttled, then a 503, then denied (the image goes on the first try)
      for (const [fault, code] of [
        [{ name: 'RequestLimitExceeded', message: 'Request limit exceeded.', status: 400 }, 'aws_throttled'],
        [{ name: 'Throttling', message: 'Rate exceeded', status: 400 }, 'aws_throttled'],
        [SERVICE_UNAVAILABLE, 'aws_error'],
        [{ name: 'InternalError', message: 'oops', status: 500 }, 'aws_error'],
      ] as const) {
        const undo = fail(west(), 'DeleteSnapshotCommand', fault);
        await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ code, operation: 'DeleteSnapshot', resource: snap });
        undo();
      }
      // what makes it worth trying again: a server fault the SDK marks without a status, or a 5xx status alone
      for (const e of [
        { name: 'UnknownError', $fault: 'server' },
        { name: 'UnknownError', $fault: 'client', $metadata: { httpStatusCode: 500 } },
      ]) {
        const undo = fail(west(), 'DeleteSnapshotCommand', Object.assign(new Error('no answer'), e));
        await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({ operation: 'DeleteSnapshot', resource: snap });
        undo();
      }
      expect(await exists(id)).toBe(false);
      fail(west(), 'DeleteSnapshotCommand', ACCESS_DENIED);
      await expect(deleteAmiCopy(west(), id, snaps)).rejects.toMatchObject({
        code: 'snapshot_not_deleted',
        message: `\`${id}\` is deregistered but its snapshot ${snap} (AccessDenied) could not be deleted.`,
        hint: 'With the image gone a later prune cannot find them: delete them in the EC2 console (Snapshots, in the backup region).',
      });
      await expect(deleteAmiCopy(west(), id, [...snaps, 'snap-0000000000000cafe'])).rejects.toMatchObject({
        message: `\`${id}\` is deregistered but snapshots ${snap} (AccessDenied), snap-0000000000000cafe (AccessDenied) could not be deleted.`,
      });
      expect((await snapshots()).has(snap)).toBe(true);
    });
  });
});
