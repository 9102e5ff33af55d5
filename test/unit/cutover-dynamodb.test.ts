import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DrbotError, UnknownResourceError, UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { parseValue } from '../../src/runbooks/args';
import { verb } from '../../src/runbooks/cutover-dynamodb';
import { itemHash, itemSize, keyItem, keyOf, showKey, showKeyText, writeUnits } from '../../src/runbooks/cutover-dynamodb/diff';
import { loadKey, storeKey } from '../../src/runbooks/cutover-dynamodb/apply';
import { chunkItems, cutoverBackupName } from '../../src/runbooks/cutover-dynamodb/runbook';
import { parseCommand } from '../../src/slack/parse';

const NOW = new Date('2026-01-27T12:00:00.000Z');
const RESTORED = 'spawn-instances-restored-20260127-101500';

function refusal(text: string): DrbotError {
  try {
    parseCommand(text, SANDBOX_CONFIG, NOW);
  } catch (e) {
    if (e instanceof DrbotError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(text)}`);
}

describe('/dr cutover dynamodb: parsing', () => {
  it('takes a configured table and its restored copy, with --dry-run', () => {
    // act
    const { spec, args } = parseCommand(`cutover dynamodb spawn-instances --from ${RESTORED} --dry-run`, SANDBOX_CONFIG, NOW);

    // assess
    expect(spec.id).toBe('cutover-dynamodb');
    expect(verb.input(args as never)).toEqual({ table: 'spawn-instances', from: RESTORED, dryRun: true });
    expect(verb.usage).toBe('/dr cutover dynamodb TABLE --from RESTORED [--dry-run]');
  });

  it('refuses an unconfigured table, a missing --from, and a --from that is not a restored copy of that table', () => {
    // act / assess
    expect(refusal(`cutover dynamodb spawn-other --from spawn-other-restored-20260127-101500`)).toBeInstanceOf(UnknownResourceError);
    expect(refusal('cutover dynamodb spawn-instances').message).toBe('--from is missing.');
    for (const other of ['spawn-queues-restored-20260127-101500', 'spawn-instances', 'spawn-instances-restored-2026', 'spawn-instances-restored-20260127-101500-x', 'xspawn-instances-restored-20260127-101500']) {
      const e = refusal(`cutover dynamodb spawn-instances --from ${other}`);
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(`--from \`${other}\` is not a restored copy of \`spawn-instances\`: drbot names those \`spawn-instances-restored-<UTC yyyymmdd-HHMMSS>\`.`);
    }
  });

  it('refuses hostile names: backticks, mentions, control and bidi characters, oversized', () => {
    // act
    const refusals = [
      'cutover dynamodb spawn-instances --from `spawn`',
      'cutover dynamodb spawn-instances --from <!channel>',
      'cutover dynamodb spawn-instances --from spawn-instances-restored-20260127-101500\u202e',
      'cutover dynamodb spawn-instances --from spawn&lt;b&gt;',
      `cutover dynamodb spawn-instances --from ${'a'.repeat(300)}`,
      'cutover dynamodb spawn-instances --from "spawn instances"',
    ].map(refusal);

    // assess: only usage errors, none echoing a live mention or a line break
    for (const e of refusals) {
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).not.toMatch(/<!|\n|\u202e/);
    }
    expect(refusals[4]?.message).toContain('is not a valid DynamoDB table name');
  });

  it('table-name: any valid DynamoDB name, configured or not; refuses what cannot be one', () => {
    const ctx = { config: SANDBOX_CONFIG, now: NOW, usage: '/dr x' };
    const def = { at: 'flag' as const, kind: 'table-name' as const, name: 'from', help: '' };
    expect(parseValue(def, 'any.table_name-1', ctx)).toBe('any.table_name-1');
    expect(() => parseValue(def, 'ab', ctx)).toThrow('--from `ab` is not a valid DynamoDB table name.');
    expect(() => parseValue(def, 'x'.repeat(256), ctx)).toThrow(UsageError);
    expect(() => parseValue(def, 'a/b:c', ctx)).toThrow(UsageError);
  });
});

describe('/dr cutover dynamodb: comparing items', () => {
  const key = [{ name: 'pk', role: 'HASH' as const, type: 'S' }, { name: 'sk', role: 'RANGE' as const, type: 'N' }];

  it('hashes the whole item: attribute and set order do not matter, types and values do', () => {
    // prepare
    const a = { pk: { S: 'i-1' }, sk: { N: '1' }, tags: { SS: ['b', 'a'] }, m: { M: { x: { N: '1' }, y: { L: [{ S: 'p' }, { S: 'q' }] } } } };
    const b = { m: { M: { y: { L: [{ S: 'p' }, { S: 'q' }] }, x: { N: '1' } } }, tags: { SS: ['a', 'b'] }, sk: { N: '1' }, pk: { S: 'i-1' } };

    // act / assess
    expect(itemHash(a)).toBe(itemHash(b));
    expect(itemHash({ ...a, sk: { S: '1' } })).not.toBe(itemHash(a));
    expect(itemHash({ ...a, m: { M: { x: { N: '1' }, y: { L: [{ S: 'q' }, { S: 'p' }] } } } })).not.toBe(itemHash(a));
    expect(itemHash({ ...a, extra: { NULL: true } })).not.toBe(itemHash(a));
    expect(itemHash({ pk: { S: 'i-1' }, b: { B: new Uint8Array([1, 2]) } })).not.toBe(itemHash({ pk: { S: 'i-1' }, b: { B: new Uint8Array([1, 3]) } }));
  });

  it('keys equal items equally and shows them from their text', () => {
    const k = keyOf({ sk: { N: '7' }, pk: { S: 'i-0042' }, other: { S: 'x' } }, key);
    expect(k).toBe(keyOf({ pk: { S: 'i-0042' }, sk: { N: '7' } }, key));
    expect(showKeyText(k, key)).toBe('pk=i-0042, sk=7');
  });

  it("sizes items by DynamoDB's rules and charges 1 write unit per KB started, the larger item for a replace", () => {
    // names + values: 'pk'(2)+'abc'(3), 'n'(1)+ 12345 → 3 significant-digit pairs + 1 = 4, 'ok'(2)+BOOL(1), 'l'(1)+3+(1+1)
    expect(itemSize({ pk: { S: 'abc' }, n: { N: '12345' }, ok: { BOOL: true }, l: { L: [{ S: 'x' }] } })).toBe(5 + 5 + 3 + 6);
    expect(itemSize({ n: { N: '0.000100' } })).toBe(1 + 2);
    expect(writeUnits(1)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(300, 5000)).toBe(5);
  });

  it('sizes chunks at a quarter of the table within 500..5,000 items, and never needs over 2,000 chunks a phase', () => {
    expect(chunkItems(120)).toBe(500);
    expect(chunkItems(2000)).toBe(500);
    expect(chunkItems(8000)).toBe(2000);
    expect(chunkItems(20_000)).toBe(5000);
    expect(chunkItems(1_000_000)).toBe(5000);
    expect(chunkItems(100_000_000)).toBe(50_000);
    expect(100_000_000 / chunkItems(100_000_000)).toBeLessThanOrEqual(2000);
  });

  it("keeps a chunk's checkpoint far below the durable SDK's 256 KB, even with four cursors on the largest keys AWS allows", () => {
    // prepare: a hash key of 2,048 bytes and a range key of 1,024 (DynamoDB's limits), binary
    const cursor = { start: storeKey({ pk: { B: new Uint8Array(2048).fill(255) }, sk: { B: new Uint8Array(1024).fill(255) } }), done: false };
    const result = { cursors: [cursor, cursor, cursor, cursor], compared: 5000, written: 5000, deleted: 0, unchanged: 0, units: 5000, failure: { code: 'aws_access_denied', message: 'x'.repeat(2000), hint: 'y'.repeat(300), transient: false } };

    // act: the SDK serializes step results as JSON
    const bytes = Buffer.byteLength(JSON.stringify(result));

    // assess: small, and the binary key survives the JSON round trip
    expect(bytes).toBeLessThan(20 * 1024);
    const back = loadKey((JSON.parse(JSON.stringify(result)) as typeof result).cursors[0]?.start ?? {});
    expect(back.pk?.B).toEqual(new Uint8Array(2048).fill(255));
    expect(back.sk?.B).toBeInstanceOf(Uint8Array);
  });

  it('names the safety backup <table>-before-cutover-<UTC stamp>-<run id>, within 255 characters', () => {
    expect(cutoverBackupName('spawn-instances', new Date('2026-01-27T10:15:00.123Z'), 'r-0a1b2c3d4e5f')).toBe('spawn-instances-before-cutover-20260127-101500-r-0a1b2c3d4e5f');
    // the table's name is cut, never the stamp or the run id that makes the name this run's own
    const long = cutoverBackupName('t'.repeat(255), NOW, 'r-0a1b2c3d4e5f');
    expect(long).toHaveLength(255);
    expect(long.endsWith('-before-cutover-20260127-120000-r-0a1b2c3d4e5f')).toBe(true);
    // two runs in the same second: two names
    expect(cutoverBackupName('spawn-instances', NOW, 'r-000000000001')).not.toBe(cutoverBackupName('spawn-instances', NOW, 'r-000000000002'));
    // what DynamoDB refuses in a backup name is replaced, in the table's name and the run id alike
    expect(cutoverBackupName('spawn orders', NOW, 'r/1 2')).toBe('spawn_orders-before-cutover-20260127-120000-r_1_2');
  });
});

describe('/dr cutover dynamodb: items in detail', () => {
  const key = [{ name: 'pk', role: 'HASH' as const, type: 'S' }, { name: 'sk', role: 'RANGE' as const, type: 'N' }];

  it("takes an item's key attributes only, and leaves out a key attribute the item lacks", () => {
    expect(keyItem({ pk: { S: 'a' }, sk: { N: '1' }, other: { S: 'x' } }, key)).toEqual({ pk: { S: 'a' }, sk: { N: '1' } });
    expect(keyItem({ pk: { S: 'a' } }, key)).toEqual({ pk: { S: 'a' } });
  });

  it('shows a key from an item or from its text, binary as base64 and an absent part as ?', () => {
    const bin = [{ name: 'id', role: 'HASH' as const, type: 'B' }, { name: 'sk', role: 'RANGE' as const, type: 'N' }];
    expect(showKey({ pk: { S: 'i-0042' }, sk: { N: '7' } }, key)).toBe('pk=i-0042, sk=7');
    expect(showKey({ id: { B: new Uint8Array([1, 2, 3]) } }, bin)).toBe('id=AQID, sk=?');
    // (every item a scan returns has its key attributes)
    expect(showKeyText(keyOf({ id: { B: new Uint8Array([1, 2, 3]) }, sk: { N: '4' } }, bin), bin)).toBe('id=AQID, sk=4');
    expect(showKeyText('[null, {"N":"5"}]', key)).toBe('pk=?, sk=5');
  });

  it('hashes string, number and binary sets the same in any order, and tells their members apart', () => {
    const set = (v: AttributeValue) => itemHash({ pk: { S: 'k' }, s: v });
    expect(set({ SS: ['a', 'b'] })).toBe(set({ SS: ['b', 'a'] }));
    expect(set({ SS: ['a', 'b'] })).not.toBe(set({ SS: ['a', 'c'] }));
    expect(set({ NS: ['1', '2'] })).toBe(set({ NS: ['2', '1'] }));
    expect(set({ NS: ['1', '2'] })).not.toBe(set({ NS: ['1', '3'] }));
    expect(set({ BS: [new Uint8Array([1]), new Uint8Array([2])] })).toBe(set({ BS: [new Uint8Array([2]), new Uint8Array([1])] }));
    expect(set({ BS: [new Uint8Array([1]), new Uint8Array([2])] })).not.toBe(set({ BS: [new Uint8Array([1]), new Uint8Array([3])] }));
    expect(set({ SS: ['a'] })).not.toBe(set({ NS: ['1'] }));
  });

  it("sizes numbers by significant digits (sign, exponent and outer zeros left out), and each value type by DynamoDB's rules", () => {
    const n = (v: string) => itemSize({ n: { N: v } }) - 1;
    expect(n('12345')).toBe(4);
    expect(n('-12345')).toBe(4);
    expect(n('+1')).toBe(2);
    expect(n('123e10')).toBe(3);
    expect(n('1.5E-7')).toBe(2);
    expect(n('0012300')).toBe(3);
    expect(n('100200')).toBe(3);
    expect(n('1000200')).toBe(4);
    expect(n('0')).toBe(2);
    expect(itemSize({ s: { S: 'héllo' } })).toBe(1 + 6);
    expect(itemSize({ b: { B: new Uint8Array(10) } })).toBe(1 + 10);
    expect(itemSize({ z: { NULL: true } })).toBe(1 + 1);
    expect(itemSize({ ss: { SS: ['ab', 'cde'] } })).toBe(2 + 5);
    expect(itemSize({ ns: { NS: ['12', '1234'] } })).toBe(2 + 2 + 3);
    expect(itemSize({ bs: { BS: [new Uint8Array(3), new Uint8Array(4)] } })).toBe(2 + 7);
    // a map: 3 + per entry its name, 1, and its value
    expect(itemSize({ m: { M: { ab: { S: 'xyz' }, c: { N: '12' } } } })).toBe(1 + 3 + (2 + 1 + 3) + (1 + 1 + 2));
    expect(itemSize({ l: { L: [{ S: 'ab' }, { BOOL: false }] } })).toBe(1 + 3 + (1 + 2) + (1 + 1));
  });
});
