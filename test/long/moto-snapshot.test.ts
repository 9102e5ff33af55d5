import { CreateTableCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, type MotoServer } from '../../src/local/moto';
import { motoClients } from '../helpers/moto';

/**
 * The launcher's snapshot and restore (src/local/moto_launcher.py): the test run keeps one moto a
 * worker and restores each file's starting state instead of starting and seeding a new one. A
 * restore that lost anything would leak one file's state into the next, or hide a bug behind a
 * half-restored estate, so the restored state is compared whole: every version of every key, its
 * body, the items of a table, and S3's bucket-name registry.
 */
describe('moto snapshot and restore', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const BUCKET = 'snapshot-versions';

  async function versions(bucket = BUCKET): Promise<string[]> {
    const s3 = motoClients(moto.endpoint).s3('us-east-1');
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const out = [...(r.Versions ?? []).map((v) => `${v.Key}@${v.VersionId}:${v.ETag}:${v.IsLatest}`), ...(r.DeleteMarkers ?? []).map((d) => `${d.Key}@${d.VersionId}:marker:${d.IsLatest}`)];
    return out.sort();
  }

  async function bodies(): Promise<string[]> {
    const s3 = motoClients(moto.endpoint).s3('us-east-1');
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET }));
    return Promise.all((r.Versions ?? []).map(async (v) => `${v.Key}@${v.VersionId}=${await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId }))).Body?.transformToString()}`));
  }

  async function items(): Promise<string[]> {
    const r = await motoClients(moto.endpoint).dynamodb().send(new ScanCommand({ TableName: 'snapshot-items' }));
    return (r.Items ?? []).map((i) => JSON.stringify(i)).sort();
  }

  it('puts back every version, body, item and bucket name as they were, as often as asked, and keeps the note', async () => {
    // prepare
    const { s3, dynamodb } = ((c) => ({ s3: c.s3('us-east-1'), dynamodb: c.dynamodb() }))(motoClients(moto.endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const k of ['a', 'b', 'c']) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: `${k}-v1` }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: `${k}-v2` }));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'c' }));
    await dynamodb.send(new CreateTableCommand({ TableName: 'snapshot-items', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
    for (const pk of ['x', 'y']) await dynamodb.send(new PutItemCommand({ TableName: 'snapshot-items', Item: { pk: { S: pk }, n: { N: '1' } } }));
    const before = { versions: await versions(), bodies: await bodies(), items: await items() };
    expect(before.versions).toHaveLength(7);

    // act
    await moto.snapshot?.('estate', { seededAt: '2026-12-02T00:00:00.000Z' });
    const afterRestores: (typeof before)[] = [];
    for (let round = 0; round < 2; round++) {
      // each round changes what a test would: new versions, deletions, items, a new bucket
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a', Body: `a-round-${round}` }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'b' }));
      await dynamodb.send(new PutItemCommand({ TableName: 'snapshot-items', Item: { pk: { S: 'x' }, n: { N: String(round + 5) } } }));
      await s3.send(new CreateBucketCommand({ Bucket: 'snapshot-made-later' }));
      const restored = await moto.restore?.('estate');
      expect(restored).toEqual({ meta: { seededAt: '2026-12-02T00:00:00.000Z' } });
      afterRestores.push({ versions: await versions(), bodies: await bodies(), items: await items() });
      // the bucket made after the snapshot is gone, and its name free again
      await expect(s3.send(new HeadBucketCommand({ Bucket: 'snapshot-made-later' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    }

    // assess
    expect(afterRestores).toEqual([before, before]);
    expect(before.bodies.filter((b) => b.startsWith('a@')).map((b) => b.split('=')[1]).sort()).toEqual(['a-v1', 'a-v2']);
    await s3.send(new CreateBucketCommand({ Bucket: 'snapshot-made-later' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'snapshot-made-later' }));
  });

  it('answers an unknown snapshot with nothing and changes nothing', async () => {
    // prepare
    const OTHER = 'snapshot-unknown-name';
    const s3 = motoClients(moto.endpoint).s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: OTHER }));
    await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: 'kept', Body: 'kept' }));
    const before = await versions(OTHER);
    expect(before).toHaveLength(1);

    // act
    const restored = await moto.restore?.('no-such-snapshot');

    // assess
    expect(restored).toBeUndefined();
    expect(await versions(OTHER)).toEqual(before);
  });
});
