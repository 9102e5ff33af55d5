/**
 * drbot's restored tables (src/runbooks/restored-tables.ts): the name a restore writes into, which
 * names are drbot's restores of which table, and the tags that mark them. `/dr delete
 * restored-table`, `/dr keep` and `/dr cutover` trust these to touch only drbot's own copies, so a
 * wrong match is data loss: each rule here is asserted on its own, and over any table name.
 */
import fc from 'fast-check';
import { DRBOT_TAGS, restoredFrom, restoredPattern, restoredTableName, sourceInName, TABLE_NAME, TABLE_NAME_MAX, TAG_PROTECTION, TAG_RESTORED_FROM, TAG_RUN, utcStamp } from '../../src/runbooks/restored-tables';

const AT = new Date('2026-12-01T10:15:00Z');
/** A name DynamoDB accepts. */
const tableName = fc.stringMatching(/^[A-Za-z0-9_.-]{3,255}$/);
const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });

describe('the name a restore writes into', () => {
  it('the stamp is UTC, every part two digits', () => {
    // act / assess
    expect(utcStamp(new Date('2027-01-02T03:04:05Z'))).toBe('20270102-030405');
    expect(utcStamp(new Date('2026-12-31T23:59:59.999Z'))).toBe('20261231-235959');
    // 01:30 in UTC+2 is still the day before in UTC
    expect(utcStamp(new Date('2027-01-01T01:30:00+02:00'))).toBe('20261231-233000');
  });

  it('<table>-restored-<stamp>; a long table cut so the whole is exactly 255', () => {
    // act / assess
    expect(restoredTableName('spawn-instances', AT)).toBe('spawn-instances-restored-20261201-101500');
    const long = 't'.repeat(255);
    expect(restoredTableName(long, AT)).toBe(`${'t'.repeat(255 - '-restored-20261201-101500'.length)}-restored-20261201-101500`);
    const fits = 't'.repeat(255 - '-restored-20261201-101500'.length);
    expect(restoredTableName(fits, AT)).toBe(`${fits}-restored-20261201-101500`);
    expect(TABLE_NAME_MAX).toBe(255);
  });

  it('over any table name and time: a name DynamoDB accepts, drbot reads as a restore of that table, and no longer than 255', () => {
    fc.assert(
      fc.property(tableName, instant, (table, at) => {
        const name = restoredTableName(table, at);
        return (
          TABLE_NAME.test(name) &&
          name.length <= TABLE_NAME_MAX &&
          name.endsWith(utcStamp(at)) &&
          restoredPattern(table).test(name) &&
          restoredFrom(name, [table]) === table &&
          sourceInName(name) === table.slice(0, TABLE_NAME_MAX - '-restored-20261201-101500'.length)
        );
      }),
    );
  });
});

describe('which names are restores of which table', () => {
  it("a table's restores only: its name, -restored-, a full stamp; regex characters in the name taken literally", () => {
    // act / assess
    const p = restoredPattern('spawn.v2');
    expect(p.test('spawn.v2-restored-20261201-101500')).toBe(true);
    expect(p.test('spawnXv2-restored-20261201-101500')).toBe(false);
    expect(p.test('xspawn.v2-restored-20261201-101500')).toBe(false);
    expect(p.test('spawn.v2-restored-20261201-101500-old')).toBe(false);
    expect(p.test('spawn.v2-restored-20261201-1015')).toBe(false);
    expect(p.test('spawn.v2-restored-2026120a-101500')).toBe(false);
    expect(p.test('spawn.v2')).toBe(false);
    expect(restoredPattern('a+b').test('aab-restored-20261201-101500')).toBe(false);
    expect(restoredPattern('a+b').test('a+b-restored-20261201-101500')).toBe(true);
  });

  it('a cut long name matches its own cut prefix, not the whole table name plus the suffix', () => {
    // prepare
    const long = `${'a'.repeat(240)}-tail`;
    const name = restoredTableName(long, AT);

    // act / assess
    expect(restoredPattern(long).test(name)).toBe(true);
    expect(restoredPattern(long).source).not.toContain('tail');
    expect(restoredPattern(long.slice(0, 229)).test(name)).toBe(false);
    // a table that is exactly the cut part gets the same names: restoredFrom picks the longer, configured one
    expect(restoredPattern(long.slice(0, 230)).test(name)).toBe(true);
    expect(restoredFrom(name, [long.slice(0, 230), long])).toBe(long);
  });

  it("restoredFrom: the longest configured table the name is a restore of; not the table itself, nor another's restore", () => {
    // act / assess
    expect(restoredFrom('spawn-instances-restored-20261201-101500', ['spawn', 'spawn-instances'])).toBe('spawn-instances');
    expect(restoredFrom('spawn-instances-restored-20261201-101500', ['spawn-instances', 'spawn'])).toBe('spawn-instances');
    expect(restoredFrom('spawn-restored-20261201-101500', ['spawn', 'spawn-instances'])).toBe('spawn');
    expect(restoredFrom('spawn-instances', ['spawn-instances'])).toBeUndefined();
    expect(restoredFrom('payments-restored-20261201-101500', ['spawn-instances'])).toBeUndefined();
    expect(restoredFrom('payments-restored-20261201-101500', [])).toBeUndefined();
    // a configured table that is itself named like a restore is not its own restore
    const both = 'x-restored-20261201-101500';
    expect(restoredFrom(both, [both, 'x'])).toBe('x');
    // a 255-character table whose name ends like a restore fits its own pattern: still not its own restore
    const selfLike = `${'a'.repeat(230)}-restored-20261201-101500`;
    expect(restoredPattern(selfLike).test(selfLike)).toBe(true);
    expect(restoredFrom(selfLike, [selfLike])).toBeUndefined();
  });

  it('restoredFrom over any two tables: the name of a restore of one is never read as the other, unless that other is a longer table it truly matches', () => {
    fc.assert(
      fc.property(tableName, tableName, instant, (a, b, at) => {
        const name = restoredTableName(a, at);
        const from = restoredFrom(name, [a, b]);
        return from === a || (from === b && restoredPattern(b).test(name) && b.length > a.length);
      }),
    );
  });

  it('sourceInName: the table from the name alone; empty for any name that is not exactly <table>-restored-<stamp>', () => {
    // act / assess
    expect(sourceInName('spawn-instances-restored-20261201-101500')).toBe('spawn-instances');
    expect(sourceInName('a-restored-x-restored-20261201-101500')).toBe('a-restored-x');
    expect(sourceInName('spawn-instances')).toBe('');
    expect(sourceInName('x-restored-2026')).toBe('');
    expect(sourceInName('-restored-20261201-101500')).toBe('');
    expect(sourceInName('x-restored-20261201-1015001')).toBe('');
    expect(sourceInName('x-restored-120261201-101500')).toBe('');
    expect(sourceInName('x-restored-20261201-10150a')).toBe('');
    expect(sourceInName('x-restored-20261201-101500-restored')).toBe('');
    expect(sourceInName('x-restoredX20261201-101500')).toBe('');
    expect(sourceInName('x-restored-2026120110-1500')).toBe('');
    // a stamp earlier in the name, and 15 characters after the last -restored- that are not one
    expect(sourceInName('20261201-101500-restored-abcdefgh-ijklmn')).toBe('');
    expect(sourceInName('x-restored-abcdefg1-101500')).toBe('');
    // no -restored- at all, in a name as long as one with it would be
    expect(sourceInName('abcdefghi20261201-101500')).toBe('');
  });
});

describe('the tags', () => {
  it('drbot-run, drbot-restored-from and drbot-deletion-protection, all three counted as drbot\'s own', () => {
    // act / assess
    expect([TAG_RUN, TAG_RESTORED_FROM, TAG_PROTECTION]).toEqual(['drbot-run', 'drbot-restored-from', 'drbot-deletion-protection']);
    expect([...DRBOT_TAGS].sort()).toEqual([TAG_PROTECTION, TAG_RESTORED_FROM, TAG_RUN].sort());
  });

  it('TABLE_NAME: 3 to 255 of letters, digits, _ . -', () => {
    // act / assess
    expect(['abc', 'a.b', 'A_b-9', 'x'.repeat(255)].every((n) => TABLE_NAME.test(n))).toBe(true);
    expect(['ab', 'x'.repeat(256), 'a b', 'a/b', 'tab\nle', 'éclair', ''].some((n) => TABLE_NAME.test(n))).toBe(false);
  });
});
