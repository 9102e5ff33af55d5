import { DrbotError, UnknownResourceError, UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { type ArgDef, bindArgs, flag, parseValue, positional, quote, type ValueKind } from '../../src/runbooks/args';
import { parseConfig } from '../../src/config/load';

const NOW = new Date('2026-01-27T12:00:00.000Z');
const config = parseConfig({ ...SANDBOX_CONFIG, route53: { hostedZoneId: 'Z1234567890ABC' }, iam: { rolePrefix: 'spawn' } });
const ctx = { config, now: NOW, usage: '/dr x' };

function value(kind: ValueKind, v: string, def: Partial<ArgDef> = {}) {
  return parseValue({ at: 'flag', kind, name: 'v', help: '', ...def }, v, ctx);
}

/** The refusal for a value; fails the test if it is accepted. */
function refusal(kind: ValueKind, v: string, def: Partial<ArgDef> = {}): DrbotError {
  try {
    value(kind, v, def);
  } catch (e) {
    if (e instanceof DrbotError) return e;
    throw e;
  }
  throw new Error(`${kind} accepted ${JSON.stringify(v)}`);
}

describe('value kinds', () => {
  it('takes a configured zone ID, with or without /hostedzone/, and refuses any other', () => {
    // act / assess
    expect(value('zone', 'Z1234567890ABC')).toBe('Z1234567890ABC');
    expect(value('zone', '/hostedzone/Z1234567890ABC')).toBe('Z1234567890ABC');
    expect(refusal('zone', 'Z999')).toBeInstanceOf(UnknownResourceError);
    expect(refusal('zone', 'example.com').message).toBe('`example.com` is not a Route53 hosted zone ID (Z…).');
    const { route53: _zone, ...withoutZone } = SANDBOX_CONFIG;
    const noZone = { ...ctx, config: parseConfig(withoutZone) };
    expect(() => parseValue({ at: 'positional', kind: 'zone', name: 'ZONE', help: '' }, 'Z1', noZone)).toThrow('No hosted zone is configured.');
  });

  it('takes a configured function and refuses others by name', () => {
    // act / assess
    expect(value('function', 'spawn-dns-updater')).toBe('spawn-dns-updater');
    expect(refusal('function', 'spawn-other').message).toContain('Unknown function `spawn-other`. Known: `spawn-dns-updater`.');
    expect(refusal('function', 'a b').message).toBe('`a b` is not a valid Lambda function name.');
  });

  it('takes a published version number and refuses $LATEST, zero and words', () => {
    // act / assess
    expect(value('version', '12')).toBe('12');
    expect(refusal('version', '$LATEST').message).toContain('`$LATEST` can change under you');
    expect(refusal('version', '0').message).toBe('--v must be a published version number, not `0`.');
    expect(refusal('version', 'prod')).toBeInstanceOf(UsageError);
  });

  it('takes role names within the prefix only, naming the prefix', () => {
    // act / assess
    expect(value('role-name', 'spawn-worker')).toBe('spawn-worker');
    const outside = refusal('role-name', 'admin-role');
    expect(outside.code).toBe('role_outside_prefix');
    expect(outside.message).toContain('only roles whose names start with `spawn` are managed');
    expect(refusal('role-name', 'spawn role').message).toBe('`spawn role` is not a valid IAM role name.');
  });

  it('takes the primary or backup region only', () => {
    // act / assess
    expect(value('region', 'us-west-2')).toBe('us-west-2');
    expect(refusal('region', 'eu-west-1')).toBeInstanceOf(UnknownResourceError);
    expect(refusal('region', 'mars')).toBeInstanceOf(UsageError);
  });

  it('takes IAM user names, export keys, backup ARNs and access key IDs, and refuses what they cannot be', () => {
    // act / assess
    expect(value('user', 'spawn-user')).toBe('spawn-user');
    expect(refusal('user', 'x'.repeat(65))).toBeInstanceOf(UsageError);
    expect(value('backup-key', 'route53/Z1/2026-01-27/r-1.json')).toBe('route53/Z1/2026-01-27/r-1.json');
    expect(value('backup-key', 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/01234567890123-abcdefgh')).toContain('backup/');
    expect(refusal('backup-key', 'a b').message).toContain('is not an export key or a backup name or ARN');
    expect(value('access-key', 'AKIAABCDEFGHIJKLMNOP')).toBe('AKIAABCDEFGHIJKLMNOP');
    expect(refusal('access-key', 'AKIA123').message).toContain('is not an access key ID');
  });

  it('takes an AWS Backup job ID and refuses malformed, hostile and oversized ones with inert text', () => {
    // act / assess
    expect(value('backup-job', '34176239-e96d-4e1d-9fad-529dbb3c3556')).toBe('34176239-e96d-4e1d-9fad-529dbb3c3556');
    expect(value('backup-job', 'a'.repeat(100))).toBe('a'.repeat(100));
    expect(refusal('backup-job', 'a'.repeat(101))).toBeInstanceOf(UsageError);
    expect(refusal('backup-job', '').message).toContain('is not an AWS Backup job ID');
    for (const hostile of ['job`<!here>`', '<@U123>', 'id\nnext line', 'id\u2028x', '../../etc', 'job id']) {
      const e = refusal('backup-job', hostile);
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).not.toMatch(/<[!@]|\n|\u2028/);
      expect(e.message.split('`')).toHaveLength(3);
    }
  });

  it('turns a time or a duration into an ISO time in the past, naming the flag in refusals', () => {
    // act / assess
    expect(value('time', '5m', { name: 'to' })).toBe('2026-01-27T11:55:00.000Z');
    expect(value('time', '2026-01-27T10:00:00Z', { name: 'to' })).toBe('2026-01-27T10:00:00.000Z');
    expect(refusal('time', '2027-01-01', { name: 'to' }).message).toBe('--to `2027-01-01` is in the future.');
    expect(refusal('time', 'yesterday', { name: 'to' }).message).toContain('--to takes an ISO time');
    for (const impossible of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-01-00', '2026-01-27T24:00Z', '2026-01-27T10:60Z', '2026-01-27T10:00:00+15:00']) {
      expect(refusal('time', impossible, { name: 'since' }).message).toBe(`--since \`${impossible}\` is not a valid time.`);
    }
    expect(value('time', '2024-02-29', { name: 'since' })).toBe('2024-02-29T00:00:00.000Z');
  });

  it('bounds counts and checks choices', () => {
    // act / assess
    expect(value('count', '10', { min: 1, max: 99 })).toBe(10);
    expect(refusal('count', '0', { min: 1, max: 99 }).message).toBe('--v must be from 1 to 99, not 0.');
    expect(value('choice', 'b', { choices: ['a', 'b'] })).toBe('b');
    expect(refusal('choice', 'c', { choices: ['a', 'b'], what: 'a letter' }).message).toBe('`c` is not a letter; pick one of a, b.');
  });
});

describe('bindArgs', () => {
  const schema = {
    table: positional('table', 'TABLE', 't', { required: true }),
    to: flag('time', 'to', 'when', { placeholder: 'TIME' }),
    latest: flag('boolean', 'latest-backup', 'newest backup'),
    count: flag('count', 'sample', 'n', { min: 1, max: 50, default: 20 }),
  };

  it('binds positionals in order and flags by name, with defaults and booleans always present', () => {
    // act
    const a = bindArgs(schema, { positionals: ['spawn-instances'], flags: new Map([['to', '5m']]) }, ctx);

    // assess
    expect(a).toEqual({ table: 'spawn-instances', to: '2026-01-27T11:55:00.000Z', latest: false, count: 20 });
  });

  it('refuses a missing required flag and extra positionals', () => {
    // prepare
    const required = { f: flag('function', 'function', 'f', { required: true }) };

    // act / assess
    expect(() => bindArgs(required, { positionals: [], flags: new Map() }, ctx)).toThrow('--function is missing.');
    expect(() => bindArgs(schema, { positionals: ['spawn-instances', 'more'], flags: new Map() }, ctx)).toThrow('unexpected argument `more`.');
  });
});

/** A syntax refusal: a UsageError (a well-formed name not configured is an UnknownResourceError). */
const usage = (kind: ValueKind, v: string, def: Partial<ArgDef> = {}) => expect(refusal(kind, v, def)).toBeInstanceOf(UsageError);

/**
 * Each kind's edges: the longest and shortest accepted, one past them, and a bad character at
 * either end (so an unanchored or widened pattern is caught). A syntax refusal is a UsageError; a
 * well-formed name that is not configured is an UnknownResourceError, which tells the two apart.
 */
describe('value kinds at their edges', () => {
  const unknown = (kind: ValueKind, v: string) => expect(refusal(kind, v)).toBeInstanceOf(UnknownResourceError);

  it('bucket: 3 to 63 lowercase characters, a letter or digit at each end', () => {
    // act / assess
    expect(value('bucket', 'spawn-logs-us-east-1')).toBe('spawn-logs-us-east-1');
    for (const ok of ['abc', 'a'.repeat(63), 'a.b-c']) unknown('bucket', ok);
    for (const bad of ['ab', 'a'.repeat(64), 'Xspawn-logs-us-east-1', 'spawn-logs-us-east-1X', '-abc', 'abc-', 'ab_c', '.abc']) usage('bucket', bad);
  });

  it('table: 3 to 255 of [A-Za-z0-9_.-], configured; table-name: the same syntax, any table', () => {
    // act / assess
    expect(value('table', 'spawn-queues')).toBe('spawn-queues');
    for (const ok of ['abc', 'A_b.c-9', 'a'.repeat(255)]) {
      unknown('table', ok);
      expect(value('table-name', ok)).toBe(ok);
    }
    for (const bad of ['ab', 'a'.repeat(256), ' spawn-queues', 'spawn-queues ', 'spawn/queues', 'spawn:queues']) {
      usage('table', bad);
      usage('table-name', bad);
    }
  });

  it('prefix: up to 1,024 characters, any of them', () => {
    // act / assess
    expect(value('prefix', 'p'.repeat(1024))).toBe('p'.repeat(1024));
    expect(value('prefix', '')).toBe('');
    expect(refusal('prefix', 'p'.repeat(1025)).message).toBe('--v may be at most 1,024 characters (the S3 key limit).');
  });

  it('word: a letter or digit, then up to 39 letters, digits or hyphens; lowercased', () => {
    // act / assess
    expect(value('word', 'A')).toBe('a');
    expect(value('word', `Z${'-'.repeat(39)}`)).toBe(`z${'-'.repeat(39)}`);
    for (const bad of ['', `z${'-'.repeat(40)}`, '-a', 'a_', '_a', 'a b', 'é']) usage('word', bad);
  });

  it('zone: 2 to 32 uppercase letters or digits, /hostedzone/ only as a leading part', () => {
    // act / assess
    unknown('zone', 'Z1');
    unknown('zone', 'Z'.repeat(32));
    for (const bad of ['Z', 'Z'.repeat(33), 'z1234567890abc', ' Z1234567890ABC', 'Z1234567890ABC ', 'x/hostedzone/Z1234567890ABC', '/hostedzone/Z1234567890ABC/']) usage('zone', bad);
  });

  it('function: 1 to 64 of [A-Za-z0-9_-], configured', () => {
    // act / assess
    for (const ok of ['f', 'F_9-x', 'f'.repeat(64)]) unknown('function', ok);
    for (const bad of ['', 'f'.repeat(65), 'spawn.dns', 'spawn-dns-updater ', ' spawn-dns-updater', 'arn:aws:lambda:us-east-1:1:function:f']) usage('function', bad);
  });

  it('version: 1 to 10 digits, no leading zero; $LATEST in any case refused by name', () => {
    // act / assess
    expect(value('version', '1')).toBe('1');
    expect(value('version', '1234567890')).toBe('1234567890');
    for (const bad of ['12345678901', '01', ' 1', '1 ', '1.0', '-1']) expect(refusal('version', bad).message).toBe(`--v must be a published version number, not \`${bad}\`.`);
    expect(refusal('version', '$latest').message).toContain('`$LATEST` can change under you');
  });

  it('role-name and user: IAM names of 1 to 64 of [A-Za-z0-9+=,.@_-]; a role within the prefix', () => {
    // act / assess
    expect(value('role-name', 'spawn+=,.@_-x')).toBe('spawn+=,.@_-x');
    expect(value('role-name', `spawn${'x'.repeat(59)}`)).toBe(`spawn${'x'.repeat(59)}`);
    expect(refusal('role-name', 'xspawn').code).toBe('role_outside_prefix');
    expect(refusal('role-name', 'worker-spawn').code).toBe('role_outside_prefix');
    for (const bad of [`spawn${'x'.repeat(60)}`, 'spawn/x', 'spawn x', 'spawn#', '']) usage('role-name', bad);
    expect(value('user', 'u')).toBe('u');
    expect(value('user', 'u'.repeat(64))).toBe('u'.repeat(64));
    for (const bad of ['', 'u'.repeat(65), 'a/b', ' u', 'u ']) usage('user', bad);
  });

  it('region: two letters, an optional -gov, a word and one digit; configured', () => {
    // act / assess
    expect(value('region', 'us-east-1')).toBe('us-east-1');
    for (const ok of ['us-gov-west-1', 'ap-southeast-2']) unknown('region', ok);
    for (const bad of ['us-west-22', 'xus-west-2', 'us-west-2x', 'u-west-2', 'usa-west-2', 'us--2', 'us-west-', 'US-WEST-2', 'us-gov-west-1x']) usage('region', bad);
  });

  it('backup-key: up to 1,024 of the safe key characters', () => {
    // act / assess
    const safe = "a!_.*'()/:@=+-Z9";
    expect(value('backup-key', safe)).toBe(safe);
    expect(value('backup-key', 'k'.repeat(1024))).toBe('k'.repeat(1024));
    for (const bad of ['', 'k'.repeat(1025), 'a b', 'a\\b', 'a&b', '<@U1>', 'a`b']) usage('backup-key', bad);
  });

  it('access-key: AKIA or ASIA and 16 uppercase letters or digits', () => {
    // act / assess
    expect(value('access-key', `ASIA${'A1'.repeat(8)}`)).toBe(`ASIA${'A1'.repeat(8)}`);
    for (const bad of [`AKIA${'A'.repeat(15)}`, `AKIA${'A'.repeat(17)}`, `AKIA${'a'.repeat(16)}`, `XAKIA${'A'.repeat(16)}`, `AKIB${'A'.repeat(16)}`, ` AKIA${'A'.repeat(16)}`]) usage('access-key', bad);
  });

  it('instance-ids: 1 to 50 IDs of 8 to 17 hex digits, duplicates dropped', () => {
    // act / assess
    expect(value('instance-ids', 'i-0123abcd')).toBe('i-0123abcd');
    expect(value('instance-ids', `i-${'f'.repeat(17)}`)).toBe(`i-${'f'.repeat(17)}`);
    expect(value('instance-ids', 'i-0123abcd,i-0123abcd,i-89abcdef')).toBe('i-0123abcd,i-89abcdef');
    const fifty = Array.from({ length: 50 }, (_, n) => `i-${n.toString(16).padStart(8, '0')}`);
    expect(value('instance-ids', fifty.join(','))).toBe(fifty.join(','));
    for (const bad of ['i-0123abc', `i-${'f'.repeat(18)}`, 'i-0123abcg', 'i-0123ABCD', 'x-0123abcd', 'i-0123abcd,', ',i-0123abcd', 'i-0123abcd i-89abcdef', [...fifty, 'i-ffffffff'].join(',')]) usage('instance-ids', bad);
  });

  it('ddb-backup: a backup ARN (any partition) or a 3 to 255 character name, $ included', () => {
    // act / assess
    for (const ok of [
      'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/01234567890123-abcdefgh',
      'arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t_1/backup/01234567890123-abcdefgh',
      'spawn-instances$DeletedTableBackup',
      'abc',
      'b'.repeat(255),
    ]) expect(value('ddb-backup', ok)).toBe(ok);
    for (const bad of [
      'ab',
      'b'.repeat(256),
      'arn:aws:dynamodb:us-east-1:12345678901:table/spawn-instances/backup/01234567890123-abcdefgh',
      'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/',
      'arn:aws:s3:us-east-1:123456789012:table/spawn-instances/backup/01234567890123-abcdefgh',
      'xarn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/01234567890123-abcdefgh',
      'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/0123 x',
      'back up',
    ]) usage('ddb-backup', bad);
  });

  it('restored-table: a name drbot gives restored copies of a configured table, not the table itself', () => {
    // act / assess
    expect(value('restored-table', 'spawn-instances-restored-20260127-120000')).toBe('spawn-instances-restored-20260127-120000');
    expect(refusal('restored-table', 'spawn-instances').code).toBe('not_restored_table');
    expect(refusal('restored-table', 'other-restored-20260127-120000').code).toBe('not_restored_table');
    usage('restored-table', 'ab');
  });

  it('time: durations from 1 to 400 days back, ISO times with a space, fractions and offsets; now is not the future', () => {
    // act / assess
    expect(value('time', '1m')).toBe('2026-01-27T11:59:00.000Z');
    expect(value('time', '400d')).toBe(new Date(NOW.getTime() - 400 * 86_400_000).toISOString());
    expect(value('time', '9600h')).toBe(new Date(NOW.getTime() - 400 * 86_400_000).toISOString());
    expect(refusal('time', '401d').message).toBe('--v may go back at most 400 days.');
    expect(refusal('time', '9601h').message).toBe('--v may go back at most 400 days.');
    expect(refusal('time', '0m').message).toBe('--v must be longer than 0.');
    expect(value('time', '2026-01-27 10:00')).toBe('2026-01-27T10:00:00.000Z');
    expect(value('time', '2026-01-27T10:00:00.5Z')).toBe('2026-01-27T10:00:00.500Z');
    expect(value('time', '2026-01-27T10:00:00+01:00')).toBe('2026-01-27T09:00:00.000Z');
    expect(value('time', '2026-01-27T10:00:00-0130')).toBe('2026-01-27T11:30:00.000Z');
    expect(value('time', '2026-01-27T12:00:00Z')).toBe(NOW.toISOString());
    expect(value('time', '2026-01-27T23:59:59+14:00')).toBe('2026-01-27T09:59:59.000Z');
    for (const bad of ['1234567m', '5s', 'x5m', '5mx', 'x2026-01-27', '2026-01-27x', '2026-1-27', '2026-01-27T10:00:00.1234Z']) expect(refusal('time', bad).message).toContain('--v takes an ISO time');
    expect(refusal('time', '2026-01-27T12:00:01Z').message).toBe('--v `2026-01-27T12:00:01Z` is in the future.');
  });

  it('count: whole numbers within min and max (0 to 1,000,000 by default), as many digits as max has', () => {
    // act / assess
    expect(value('count', '0')).toBe(0);
    expect(value('count', '1000000')).toBe(1_000_000);
    expect(refusal('count', '1000001').message).toBe('--v must be from 0 to 1000000, not 1000001.');
    expect(refusal('count', '10000000').message).toBe('--v must be a whole number from 0 to 1000000, not `10000000`.');
    expect(value('count', '1', { min: 1, max: 99 })).toBe(1);
    expect(value('count', '99', { min: 1, max: 99 })).toBe(99);
    expect(refusal('count', '100', { min: 1, max: 99 }).message).toBe('--v must be a whole number from 1 to 99, not `100`.');
    for (const bad of ['-1', '1.5', ' 1', '1 ', '', 'x1', '1x']) expect(refusal('count', bad, { min: 0, max: 99 }).message).toContain('must be a whole number from 0 to 99');
  });

  it('choice: without choices refuses everything, saying so', () => {
    // act / assess
    expect(refusal('choice', 'a').message).toBe('`a` is not a choice; pick one of .');
  });
});

describe('bindArgs: positionals, variadics, defaults and flags', () => {
  it('gives a variadic positional the rest, duplicates dropped, each checked', () => {
    // prepare
    const schema = { tables: positional('table', 'TABLE…', 't', { variadic: true }) };

    // act
    const a = bindArgs(schema, { positionals: ['spawn-queues', 'spawn-alerts', 'spawn-queues'], flags: new Map() }, ctx);

    // assess
    expect(a).toEqual({ tables: ['spawn-queues', 'spawn-alerts'] });
    expect(() => bindArgs(schema, { positionals: ['spawn-queues', 'nope-table'], flags: new Map() }, ctx)).toThrow(UnknownResourceError);
    expect(bindArgs(schema, { positionals: [], flags: new Map() }, ctx)).toEqual({ tables: [] });
  });

  it('names a missing positional, counts extra ones, and fills a positional default', () => {
    // prepare
    const schema = {
      table: positional('table', 'TABLE', 't', { required: true }),
      topic: positional('word', 'TOPIC', 'w', { default: 'all' }),
    };

    // act / assess
    expect(() => bindArgs(schema, { positionals: [], flags: new Map() }, ctx)).toThrow('TABLE is missing.');
    expect(() => bindArgs(schema, { positionals: ['spawn-queues', 'a', 'b', 'c'], flags: new Map() }, ctx)).toThrow('unexpected arguments `b` `c`.');
    expect(bindArgs(schema, { positionals: ['spawn-queues'], flags: new Map() }, ctx)).toEqual({ table: 'spawn-queues', topic: 'all' });
    expect(bindArgs(schema, { positionals: ['spawn-queues', 'Backups'], flags: new Map() }, ctx)).toEqual({ table: 'spawn-queues', topic: 'backups' });
  });

  it('takes a boolean flag as present whatever follows it, and a valued flag given bare as not given', () => {
    // prepare
    const schema = {
      dry: flag('boolean', 'dry-run', 'd'),
      sample: flag('count', 'sample', 'n', { min: 1, max: 50, default: 20 }),
      since: flag('time', 'since', 's'),
    };

    // act
    const bare = bindArgs(schema, { positionals: [], flags: new Map<string, string | true>([['dry-run', true], ['sample', true], ['since', true]]) }, ctx);
    const none = bindArgs(schema, { positionals: [], flags: new Map() }, ctx);

    // assess
    expect(bare).toEqual({ dry: true, sample: 20 });
    expect(none).toEqual({ dry: false, sample: 20 });
    expect(() => parseValue(schema.dry, 'yes', ctx)).toThrow('flag --dry-run takes no value');
  });
});

/** What the mutation run (npm run mutate, src/runbooks/args.ts) found no test for: the words of each refusal, and the edges it named. */
describe('refusals say what to do, at the edges the mutation run found', () => {
  it('quotes up to 60 characters whole, and cuts a longer value with an ellipsis', () => {
    // act / assess
    expect(quote('x'.repeat(60))).toBe(`\`${'x'.repeat(60)}\``);
    expect(quote('x'.repeat(61))).toBe(`\`${'x'.repeat(60)}…\``);
  });

  it('time: one to three fraction digits, and offsets up to :59 minutes', () => {
    // act / assess
    expect(value('time', '2026-01-27T10:00:00.25Z')).toBe('2026-01-27T10:00:00.250Z');
    expect(value('time', '2026-01-27T10:00:00.125Z')).toBe('2026-01-27T10:00:00.125Z');
    expect(value('time', '2026-01-27T10:00:00+00:59')).toBe('2026-01-27T09:01:00.000Z');
  });

  it('word, region and user: each refusal names what the value is not', () => {
    // act / assess
    expect(refusal('word', 'a_b', { name: 'topic' }).message).toBe('--topic must be a plain word, not `a_b`.');
    expect(refusal('region', 'mars').message).toBe('`mars` is not an AWS region (such as us-west-2).');
    expect(refusal('user', 'a/b').message).toBe('`a/b` is not a valid IAM user name.');
  });

  it('zone: strips /hostedzone/ from the front only, from the value and from the config, and names the configured zone', () => {
    // prepare
    const prefixed = { ...ctx, config: parseConfig({ ...SANDBOX_CONFIG, route53: { hostedZoneId: '/hostedzone/Z1234567890ABC' } }) };
    const { route53: _zone, ...withoutZone } = SANDBOX_CONFIG;
    const noZone = { ...ctx, config: parseConfig(withoutZone) };
    const zone: ArgDef = { at: 'positional', kind: 'zone', name: 'ZONE', help: '' };

    // act / assess
    usage('zone', 'Z1/hostedzone/234567890ABC');
    expect(parseValue(zone, 'Z1234567890ABC', prefixed)).toBe('Z1234567890ABC');
    expect(refusal('zone', 'Z999').message).toContain('Known: `Z1234567890ABC`');
    let none: unknown;
    try {
      parseValue(zone, 'Z1', noZone);
    } catch (e) {
      none = e;
    }
    expect(none).toMatchObject({ code: 'no_zone', message: 'No hosted zone is configured.', hint: 'Set `route53.hostedZoneId` in the drbot config.' });
  });

  it('role-name and restored-table: each precondition says what to name instead', () => {
    // act / assess
    expect(refusal('role-name', 'admin-role').hint).toBe('Name a role within `iam.rolePrefix`, or change the prefix in the drbot config.');
    const configured = refusal('restored-table', 'spawn-instances');
    expect(configured.hint).toBe('Name the restored table (`&lt;table&gt;-restored-&lt;yyyymmdd-HHMMSS&gt;`), as the restore run reported it.');
    const other = refusal('restored-table', 'other-restored-20260127-120000');
    expect(other.message).toBe('`other-restored-20260127-120000` is not a table drbot restored: those are named `&lt;configured table&gt;-restored-&lt;yyyymmdd-HHMMSS&gt;`.');
    expect(other.hint).toBe('Use the name the restore run reported (`/dr restore dynamodb TABLE …` makes them).');
  });

  it('bindArgs: a variadic after a positional takes only the rest; a flag without a value or default is absent, not undefined', () => {
    // prepare
    const schema = { first: positional('table', 'TABLE', 't', { required: true }), rest: positional('table', 'MORE…', 'm', { variadic: true }), since: flag('time', 'since', 's') };

    // act
    const a = bindArgs(schema, { positionals: ['spawn-queues', 'spawn-alerts'], flags: new Map() }, ctx);

    // assess
    expect(a).toStrictEqual({ first: 'spawn-queues', rest: ['spawn-alerts'] });
    expect('since' in a).toBe(false);
  });
});
