import fc from 'fast-check';
import { compareKeys, type ListedObject } from '../../src/aws/s3';
import { mergeListings, verdict } from '../../src/runbooks/restore-s3/replica';

/*
 * Issue 13: copy-back walks both buckets' listings once, merged by key. The merge is only right
 * if it orders keys as S3 lists them (UTF-8 bytes) and meets every key of either side once.
 */

function utf8Order(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function* stream(objects: readonly ListedObject[]): AsyncGenerator<ListedObject> {
  for (const o of objects) {
    await Promise.resolve();
    yield o;
  }
}

const obj = (key: string, size = 1, etag = '"e"'): ListedObject => ({ key, size, etag, lastModified: 0 });

/** Keys with characters of every UTF-8 width, surrogate pairs included (S3 keys are valid UTF-8: no lone surrogates). */
const key = fc.string({ unit: 'grapheme', maxLength: 6 });

describe('compareKeys', () => {
  it('orders keys as S3 lists them, by UTF-8 bytes, where JavaScript\'s < does not', () => {
    // a character above U+FFFF sorts after U+FFFD in UTF-8, before it in UTF-16
    expect('😀' < '\uFFFD').toBe(true);
    expect(compareKeys('😀', '\uFFFD')).toBeGreaterThan(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
    expect(compareKeys('b', 'ab')).toBeGreaterThan(0);
    expect(compareKeys('x/y', 'x/y')).toBe(0);
  });

  it('agrees in sign with a byte comparison of the UTF-8, for any two keys', () => {
    fc.assert(
      fc.property(key, key, (a, b) => Math.sign(compareKeys(a, b)) === Math.sign(utf8Order(a, b))),
      { numRuns: 2000 },
    );
  });
});

describe('mergeListings', () => {
  it('meets every key of either side once, in S3 order, with the side(s) that hold it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(key, { maxLength: 40 }), fc.uniqueArray(key, { maxLength: 40 }), async (mine, theirs) => {
        const primary = [...mine].sort(utf8Order).map((k) => obj(k));
        const replica = [...theirs].sort(utf8Order).map((k) => obj(k));
        const pairs = [];
        for await (const p of mergeListings(stream(primary), stream(replica))) pairs.push(p);
        const union = [...new Set([...mine, ...theirs])].sort(utf8Order);
        expect(pairs.map((p) => p.key)).toEqual(union);
        for (const p of pairs) {
          expect(p.primary?.key ?? p.key).toBe(p.key);
          expect(p.replica?.key ?? p.key).toBe(p.key);
          expect(p.primary !== undefined).toBe(mine.includes(p.key));
          expect(p.replica !== undefined).toBe(theirs.includes(p.key));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stops both listings when the walk is left early (a step that has done its share)', async () => {
    // prepare
    const closed: string[] = [];
    async function* side(name: string, keys: string[]): AsyncGenerator<ListedObject> {
      try {
        for (const k of keys) yield obj(k);
      } finally {
        closed.push(name);
      }
    }

    // act
    for await (const p of mergeListings(side('primary', ['a', 'b', 'c']), side('replica', ['a', 'c']))) if (p.key === 'b') break;

    // assess
    expect(closed.sort()).toEqual(['primary', 'replica']);
  });
});

describe('verdict', () => {
  it('copies what is missing, or differs in size or ETag; keeps what is the same or only in the primary', () => {
    expect(verdict({ key: 'k', replica: obj('k') })).toBe('missing');
    expect(verdict({ key: 'k', primary: obj('k') })).toBe('onlyInPrimary');
    expect(verdict({ key: 'k', primary: obj('k', 1, '"a"'), replica: obj('k', 1, '"b"') })).toBe('different');
    expect(verdict({ key: 'k', primary: obj('k', 1, '"a"'), replica: obj('k', 2, '"a"') })).toBe('different');
    expect(verdict({ key: 'k', primary: obj('k', 1, '"a"'), replica: obj('k', 1, '"a"') })).toBe('same');
    // a multipart ETag differs from the source's for the same bytes: the size decides
    expect(verdict({ key: 'k', primary: obj('k', 9, '"x-2"'), replica: obj('k', 9, '"y"') })).toBe('same');
  });
});
