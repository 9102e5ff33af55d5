import { ChecksumAlgorithm, CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MotoServer } from '../../src/local/moto';
import { motoClients, startMotoWithout, useMoto } from '../helpers/moto';

/**
 * The launcher writes ListObjectsV2, ListObjectVersions and CopyObject answers itself
 * (src/local/moto_launcher.py, _fast_s3_xml) instead of through moto's generic serializer: every
 * listing a copy-back, an undelete's plan and verify and their tests read goes through it, so the
 * XML must be byte for byte what moto writes. Two servers hold the same objects, one with moto's own serializer
 * (DRBOT_MOTO_FAST_XML=off), and the raw answers to the same requests are compared, with keys
 * that need escaping, URL encoding, delimiters, owners, checksums, start-after and every page of
 * a paged listing; version listings of overwritten and deleted keys, with pages holding only
 * versions or only delete markers. Only the times, request ids and version ids differ between the
 * servers.
 */

const AUTH = 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0';
const BUCKET = 'fast-xml';
const VERSIONED = 'fast-xml-versions';
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
  // versions: every key once, many/0x three times, deleted keys (a marker on top); paged one
  // entry at a time over deleted keys, pages hold only a marker or only a version
  await s3.send(new CreateBucketCommand({ Bucket: VERSIONED }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }));
  for (const [i, key] of KEYS.entries()) {
    await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: `v1 ${i}` }));
    if (key.startsWith('many/0')) {
      await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: `v2 ${i}` }));
      await s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: `v3 ${i}` }));
    }
    if (i % 3 === 1 || key.startsWith('many/2')) await s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key }));
  }
}

interface Answer {
  status: number;
  type: string | null;
  body: string;
}

/** The answer with its times, request ids and version ids made equal, and the raw text. */
async function rawWithText(endpoint: string, method: string, path: string, headers: Record<string, string> = {}): Promise<[Answer, string]> {
  const r = await fetch(`${endpoint}${path}`, { method, headers: { Authorization: AUTH, ...headers } });
  const text = await r.text();
  const body = text
    // the times differ between the servers, not their format: digits masked, the rest compared
    .replace(/<LastModified>[^<]*<\/LastModified>/g, (m) => m.replace(/\d/g, '0'))
    .replace(/<RequestId>[^<]*<\/RequestId>/g, '<RequestId/>')
    // each server makes its own version ids: the same answer names them in the same places
    .replace(/<(VersionId|NextVersionIdMarker|VersionIdMarker)>[^<]+<\/\1>/g, '<$1>V</$1>');
  return [{ status: r.status, type: r.headers.get('content-type'), body }, text];
}

async function raw(endpoint: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return (await rawWithText(endpoint, method, path, headers))[0];
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
const VERSION_LISTINGS = [
  `/${VERSIONED}?versions`,
  `/${VERSIONED}?versions&encoding-type=url`,
  `/${VERSIONED}?versions&delimiter=%2F`,
  `/${VERSIONED}?versions&prefix=many%2F&max-keys=4`,
  `/${VERSIONED}?versions&prefix=${q('nothing here/')}`,
  `/${VERSIONED}?versions&prefix=many%2F2&max-keys=1`,
  `/${VERSIONED}?versions&max-keys=3`,
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
    const counted = async (endpoint: string) => ((await (await fetch(`${endpoint}/_drbot/fast-xml-answers`, { method: 'POST', body: '{}' })).json()) as { answers: Record<string, number> }).answers;
    // the counter is the server's since it started (earlier files share this moto): counted from here
    const before = await counted(fast);
    let listingPages = 0;
    let versionPages = 0;

    // act: each listing, and every page of the paged ones by their own continuation tokens
    for (const first of LISTINGS) {
      let path: string | undefined = first;
      while (path) {
        const [a, b]: [Answer, Answer] = await Promise.all([raw(fast, 'GET', path), raw(own.endpoint, 'GET', path)]);
        asked.push(path);
        // assess
        expect(a).toEqual(b);
        expect(a.status).toBe(200);
        listingPages++;
        const token: string | undefined = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(a.body)?.[1];
        path = token ? `${first}&continuation-token=${q(token)}` : undefined;
      }
    }
    // version listings: each server is paged by its own markers (their version ids differ)
    let markerOnlyPages = 0;
    let versionOnlyPages = 0;
    for (const first of VERSION_LISTINGS) {
      const next = (text: string): string | undefined => {
        const key = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/.exec(text)?.[1];
        const version = /<NextVersionIdMarker>([^<]*)<\/NextVersionIdMarker>/.exec(text)?.[1];
        const unescape = (x: string) => x.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        return key === undefined ? undefined : `${first}&key-marker=${q(unescape(key))}${version ? `&version-id-marker=${q(version)}` : ''}`;
      };
      let paths: [string, string] | undefined = [first, first];
      while (paths) {
        const [[a, textA], [b, textB]]: [[Answer, string], [Answer, string]] = await Promise.all([rawWithText(fast, 'GET', paths[0]), rawWithText(own.endpoint, 'GET', paths[1])]);
        asked.push(paths[0]);
        versionPages++;
        expect(a).toEqual(b);
        expect(a.status).toBe(200);
        const hasVersions = a.body.includes('<Version>');
        const hasMarkers = a.body.includes('<DeleteMarker>');
        if (hasMarkers && !hasVersions) markerOnlyPages++;
        if (hasVersions && !hasMarkers) versionOnlyPages++;
        const nextA: string | undefined = next(textA);
        const nextB: string | undefined = next(textB);
        expect(nextB === undefined).toBe(nextA === undefined);
        paths = nextA !== undefined && nextB !== undefined ? [nextA, nextB] : undefined;
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
    // every listing page and copy compared (not moto's serializer behind a fallback), the pages of
    // delete markers only (an empty Versions list) among them
    expect(asked.length).toBeGreaterThan(LISTINGS.length + VERSION_LISTINGS.length + 4);
    expect(markerOnlyPages).toBeGreaterThanOrEqual(1);
    expect(versionOnlyPages).toBeGreaterThanOrEqual(1);
    const after = await counted(fast);
    const wrote = (op: string) => (after[op] ?? 0) - (before[op] ?? 0);
    expect({ ListObjectsV2: wrote('ListObjectsV2'), ListObjectVersions: wrote('ListObjectVersions'), CopyObject: wrote('CopyObject') }).toEqual({ ListObjectsV2: listingPages, ListObjectVersions: versionPages, CopyObject: 3 });
    expect(await counted(own.endpoint)).toEqual({});
  });
});
