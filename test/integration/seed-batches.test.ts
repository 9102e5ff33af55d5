import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { listObjectsIndex } from '../../src/aws/s3';
import type { BulkPut, MotoServer } from '../../src/local/moto';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { seedSandbox } from '../../src/local/seed';
import { freshMoto, motoClients, resetMoto } from '../helpers/moto';

/**
 * The sandbox seed in batches: npm start's moto (src/local/moto_launcher.py) takes many objects
 * in one request through moto's own S3 backend, so 605 objects cost a handful of requests
 * instead of 605. The estate must be the same as PutObject one by one would leave.
 */
describe('seedSandbox in batches', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await freshMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  // Each test seeds into a moto that holds nothing: the worker's restored to its start, or this file's own reset.
  beforeEach(async () => {
    if (!(await moto.restore?.('empty').catch(() => undefined))) await resetMoto(moto.endpoint);
  });

  it('writes the estate in a few bulk requests, reports progress to the total, and leaves what PutObject would', async () => {
    // prepare
    const clients = motoClients(moto.endpoint);
    const bulk = moto.putMany as BulkPut;
    expect(bulk).toBeDefined();
    let bulkCalls = 0;
    const progress: [number, number][] = [];

    // act
    const seeded = await seedSandbox(clients, SANDBOX_CONFIG, {
      putMany: async (bucket, objects) => {
        bulkCalls++;
        await bulk(bucket, objects);
      },
      onProgress: (done, total) => progress.push([done, total]),
    });

    // assess
    expect(bulkCalls).toBeLessThanOrEqual(8);
    expect(progress.at(-1)).toEqual([605, 605]);
    const binaries = seeded.buckets.find((b) => b.name === 'spawn-binaries-us-east-1');
    const [primary, replica, versions] = await Promise.all([
      listObjectsIndex(clients.s3('us-east-1'), 'spawn-binaries-us-east-1'),
      listObjectsIndex(clients.s3('us-west-2'), 'spawn-binaries-us-west-2-backup'),
      clients.s3().send(new ListObjectVersionsCommand({ Bucket: 'spawn-binaries-us-east-1', MaxKeys: 1000 })),
    ]);
    expect(primary.size).toBe(50);
    expect(replica.size).toBe(300);
    expect(versions.Versions).toHaveLength(300);
    expect(versions.DeleteMarkers?.filter((m) => m.IsLatest)).toHaveLength(250);
    const different = [...primary.entries()].filter(([k, v]) => replica.get(k)?.etag !== v.etag).map(([k]) => k);
    expect(different.sort()).toEqual([...(binaries?.differentKeys ?? [])].sort());
  });

  it('falls back to PutObject when the bulk call fails', async () => {
    // prepare
    const clients = motoClients(moto.endpoint);
    const cfg = { ...SANDBOX_CONFIG, s3: { buckets: [{ name: 'seed-fallback-bucket', archivePrefix: 'results/' }] }, dynamodb: { tables: [] } };

    // act
    await seedSandbox(clients, cfg, {
      putMany: async () => {
        throw new Error('not this moto');
      },
    });

    // assess
    expect((await listObjectsIndex(clients.s3(), 'seed-fallback-bucket')).size).toBe(3);
  });
});
