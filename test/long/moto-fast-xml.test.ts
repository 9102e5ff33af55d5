import { ChecksumAlgorithm, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MotoServer } from '../../src/local/moto';
import { motoClients, startMotoWithout, useMoto } from '../helpers/moto';

/**
 * The launcher writes ListObjectsV2 and CopyObject answers itself (src/local/moto_launcher.py,
 * _fast_s3_xml) instead of through moto's generic serializer: every listing a copy-back, an
 * undelete's verify and their tests read goes through it, so the XML must be byte for byte what
 * moto writes. Two servers hold the same objects, one with moto's own serializer
 * (DRBOT_MOTO_FAST_XML=off), and the raw answers to the same requests are compared, with keys
 * that need escaping, URL encoding, delimiters, owners, checksums, start-after and every page of
 * a paged listing. Only the times and request ids differ between the servers.
 */

const AUTH = 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0';
const BUCKET = 'fast-xml';
const KEYS = [
  'plain.txt',
  'a&b<c>"q\'',
  'dir/x y+z',
  'dir/\u00e9\u{1F600}',
  'dir/sub/deep.bin',
  'other/\t tab and ]]> end',
  ...Array.from({ length: 30 }, (_, i) => `many/${String(i).padStart(2, '0')}`),
];

async function seed(endpoint: string): Promise<void> {
  const s3 = motoClients(endpoint).s3();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: `${BUCKET}-copy` }));
  for (const [i, key] of KEYS.entries()) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body ${i}`, ...(i === 4 ? { ChecksumAlgorithm: ChecksumAlgorithm.SHA256 } : {}) }));
  }
}

interface Answer {
  status: number;
  type: string | null;
  body: string;
}

async function raw(endpoint: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(`${endpoint}${path}`, { method, headers: { Authorization: AUTH, ...headers } });
  return { status: r.status, type: r.headers.get('content-type'), body: (await r.text()).replace(/<LastModified>[^<]*<\/LastModified>/g, '<LastModified>T</LastModified>').replace(/<RequestId>[^<]*<\/RequestId>/g, '<RequestId/>') };
}

const q = encodeURIComponent;
const LISTINGS = [
  `/${BUCKET}?list-type=2`,
  `/${BUCKET}?list-type=2&encoding-type=url`,
  `/${BUCKET}?list-type=2&delimiter=%2F`,
  `/${BUCKET}?list-type=2&delimiter=%2F&encoding-type=url&prefix=dir%2F`,
  `/${BUCKET}?list-type=2&fetch-owner=true&start-after=${q('dir/')}`,
  `/${BUCKET}?list-type=2&prefix=${q('nothing here/')}`,
  `/${BUCKET}?list-type=2&prefix=many%2F&max-keys=7`,
  `/${BUCKET}?list-type=2&delimiter=%2F&max-keys=2`,
];

describe('moto as the launcher runs it: its own XML for listings and copies', () => {
  const moto = useMoto();
  let own: MotoServer;

  beforeAll(async () => {
    own = await startMotoWithout('DRBOT_MOTO_FAST_XML');
  });
  afterAll(() => own?.stop());

  it('answers every listing and copy byte for byte as moto does', async () => {
    // prepare
    const fast = moto().endpoint;
    await Promise.all([seed(fast), seed(own.endpoint)]);
    const asked: string[] = [];
    /** Pages with objects and no delimiter: answers the launcher must have written itself. */
    let plainPages = 0;

    // act: each listing, and every page of the paged ones by their own continuation tokens
    for (const first of LISTINGS) {
      let path: string | undefined = first;
      while (path) {
        const [a, b]: [Answer, Answer] = await Promise.all([raw(fast, 'GET', path), raw(own.endpoint, 'GET', path)]);
        asked.push(path);
        // assess
        expect(a).toEqual(b);
        expect(a.status).toBe(200);
        if (!first.includes('delimiter') && a.body.includes('<Contents>')) plainPages++;
        const token: string | undefined = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(a.body)?.[1];
        path = token ? `${first}&continuation-token=${q(token)}` : undefined;
      }
    }
    for (const key of ['dir/x y+z', 'a&b<c>"q\'', 'dir/sub/deep.bin', 'no such key']) {
      const path = `/${BUCKET}-copy/${key.split('/').map(q).join('/')}`;
      const headers = { 'x-amz-copy-source': `${BUCKET}/${key.split('/').map(q).join('/')}` };
      const [a, b] = await Promise.all([raw(fast, 'PUT', path, headers), raw(own.endpoint, 'PUT', path, headers)]);
      asked.push(`copy ${key}`);
      expect(a).toEqual(b);
      expect(a.status).toBe(key === 'no such key' ? 404 : 200);
    }

    // assess: the paged listings were paged (more requests than listings), and the launcher wrote
    // the answers compared (not moto's serializer behind a fallback that always fell back)
    expect(asked.length).toBeGreaterThan(LISTINGS.length + 4 + 4);
    const counted = async (endpoint: string) => ((await (await fetch(`${endpoint}/_drbot/fast-xml-answers`, { method: 'POST', body: '{}' })).json()) as { answers: Record<string, number> }).answers;
    const fastAnswers = await counted(fast);
    expect(plainPages).toBeGreaterThanOrEqual(5);
    expect(fastAnswers.ListObjectsV2).toBeGreaterThanOrEqual(plainPages);
    expect(fastAnswers.CopyObject).toBeGreaterThanOrEqual(3);
    expect(await counted(own.endpoint)).toEqual({});
  });
});
