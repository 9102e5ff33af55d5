import { DrbotError, UnknownResourceError, UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { type ArgDef, bindArgs, flag, parseValue, positional, type ValueKind } from '../../src/runbooks/args';
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
