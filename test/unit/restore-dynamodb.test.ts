import { canonical } from '../../src/aws/dynamodb-restore';
import { parseConfig } from '../../src/config/load';
import { DrbotError, UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { type ArgDef, parseValue, type ValueKind } from '../../src/runbooks/args';
import { CATALOGUE } from '../../src/runbooks/catalogue';
import { keyText } from '../../src/runbooks/restore-dynamodb/compare';
import { maxPolls, notActive, pollDelay, restoreNextSteps, rewritePolicy } from '../../src/runbooks/restore-dynamodb/runbook';
import { restoredFrom, restoredPattern, restoredTableName, sourceInName, TABLE_NAME_MAX, utcStamp } from '../../src/runbooks/restored-tables';
import { parseCommand } from '../../src/slack/parse';

const NOW = new Date('2026-12-01T10:15:00.000Z');
const config = parseConfig({ ...SANDBOX_CONFIG, dynamodb: { tables: [{ name: 'spawn-instances' }, { name: 'spawn-queues' }, { name: 'spawn' }] } });
const ctx = { config, now: NOW, usage: '/dr x' };

function value(kind: ValueKind, v: string, def: Partial<ArgDef> = {}) {
  return parseValue({ at: 'flag', kind, name: 'v', help: '', ...def }, v, ctx);
}
function refusal(kind: ValueKind, v: string, def: Partial<ArgDef> = {}): DrbotError {
  try {
    value(kind, v, def);
  } catch (e) {
    if (e instanceof DrbotError) return e;
    throw e;
  }
  throw new Error(`${kind} accepted ${JSON.stringify(v)}`);
}
/** Nothing in a refusal may ping, link or break the line it is shown on. */
const inert = (text: string) => !/<[@!#]|<https?:|[\n\u202e]/.test(text);

describe('restored table names', () => {
  it('are <table>-restored-<UTC yyyymmdd-HHMMSS>, cut to 255 characters, and recognised exactly', () => {
    // act / assess
    expect(utcStamp(NOW)).toBe('20261201-101500');
    expect(restoredTableName('spawn-instances', NOW)).toBe('spawn-instances-restored-20261201-101500');
    const long = `t${'x'.repeat(254)}`;
    const name = restoredTableName(long, NOW);
    expect(name).toHaveLength(TABLE_NAME_MAX);
    expect(restoredPattern(long).test(name)).toBe(true);
    expect(restoredPattern('spawn.v2').test('spawn.v2-restored-20261201-101500')).toBe(true);
    expect(restoredPattern('spawn.v2').test('spawnXv2-restored-20261201-101500')).toBe(false);
    expect(restoredPattern('spawn-instances').test('spawn-instances-restored-20261201-1015')).toBe(false);
  });

  it('name the configured table they came from (the longest that fits), and nothing for any other name', () => {
    // act / assess
    expect(restoredFrom('spawn-instances-restored-20261201-101500', ['spawn', 'spawn-instances'])).toBe('spawn-instances');
    expect(restoredFrom('spawn-restored-20261201-101500', ['spawn', 'spawn-instances'])).toBe('spawn');
    expect(restoredFrom('spawn-instances', ['spawn-instances'])).toBeUndefined();
    expect(restoredFrom('payments-restored-20261201-101500', ['spawn-instances'])).toBeUndefined();
    expect(sourceInName('spawn-instances-restored-20261201-101500')).toBe('spawn-instances');
    expect(sourceInName('spawn-instances')).toBe('');
    expect(sourceInName('x-restored-2026')).toBe('');
  });
});

describe('value kinds of the restore verbs', () => {
  it('ddb-backup takes a backup name, a system backup name or a backup ARN, and refuses the rest without echoing anything live', () => {
    // act / assess
    expect(value('ddb-backup', 'spawn-instances-backup-20261201-050000')).toBe('spawn-instances-backup-20261201-050000');
    expect(value('ddb-backup', 'spawn-instances$DeletedTableBackup')).toBe('spawn-instances$DeletedTableBackup');
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances/backup/01796150885600-90fbf9bf';
    expect(value('ddb-backup', arn)).toBe(arn);
    for (const bad of ['a b', 'ab', 'x'.repeat(256), 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances', 'x`y', '<@U123>', '<!channel>', 'a\nb', 'name\u202e', 'arn:aws:s3:::bucket/key']) {
      const e = refusal('ddb-backup', bad, { name: 'backup' });
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toContain('is not a DynamoDB backup name or ARN');
      expect(inert(e.message)).toBe(true);
    }
    expect(refusal('ddb-backup', 'y'.repeat(5000)).message.length).toBeLessThan(300);
  });

  it('restored-table takes a restore of a configured table only: not the table itself, not another name', () => {
    // act / assess
    expect(value('restored-table', 'spawn-queues-restored-20261201-101500')).toBe('spawn-queues-restored-20261201-101500');
    expect(refusal('restored-table', 'spawn-instances').message).toBe('`spawn-instances` is a configured table, not a table drbot restored.');
    expect(refusal('restored-table', 'payments-restored-20261201-101500').code).toBe('not_restored_table');
    expect(refusal('restored-table', 'spawn-instances-restored-latest').code).toBe('not_restored_table');
    for (const bad of ['<@U123>', 'a b', '`x`', 'x'.repeat(300), 'spawn-instances-restored-20261201-101500\n']) {
      const e = refusal('restored-table', bad, { name: 'restored' });
      expect(e.message).toContain('is not a valid DynamoDB table name');
      expect(inert(e.message)).toBe(true);
    }
  });

  it('time (--to) refuses malformed, hostile and oversized values, naming the flag', () => {
    // act / assess
    expect(value('time', '5m', { name: 'to' })).toBe('2026-12-01T10:10:00.000Z');
    expect(value('time', '2026-12-01T10:00:00Z', { name: 'to' })).toBe('2026-12-01T10:00:00.000Z');
    for (const bad of ['5', 'm5', '5 m', '-5m', '5M', '1.5h', '5s', '9999999m', '<!channel>', '<https://evil.example|5m>', '`5m`', '5m\n5m', 'x'.repeat(10_000)]) {
      const e = refusal('time', bad, { name: 'to' });
      expect(e.message).toMatch(/^--to /);
      expect(inert(e.message)).toBe(true);
      expect(e.message.length).toBeLessThan(300);
    }
    expect(refusal('time', '999999m', { name: 'to' }).message).toBe('--to may go back at most 400 days.');
    expect(refusal('time', '0m', { name: 'to' }).message).toBe('--to must be longer than 0.');
    expect(refusal('time', '2026-12-02T00:00:00Z', { name: 'to' }).message).toContain('is in the future');
  });
});

describe('/dr restore dynamodb, parsed', () => {
  const parse = (text: string) => parseCommand(text, config, NOW, CATALOGUE);
  const refusedWith = (text: string): string => {
    try {
      parse(text);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`accepted: ${text}`);
  };

  it('takes exactly one of --to, --backup and --latest-backup', () => {
    // act / assess
    expect(parse('restore dynamodb spawn-instances --to 5m').args).toMatchObject({ table: 'spawn-instances', to: '2026-12-01T10:10:00.000Z', latestBackup: false, dryRun: false });
    expect(parse('restore dynamodb spawn-instances --backup b-1 --dry-run').args).toMatchObject({ backup: 'b-1', dryRun: true });
    expect(parse('restore dynamodb spawn-instances --latest-backup').args).toMatchObject({ latestBackup: true });
    expect(refusedWith('restore dynamodb spawn-instances')).toContain('say what to restore');
    expect(refusedWith('restore dynamodb spawn-instances --to 5m --backup b-1')).toBe('--to and --backup cannot be used together.');
    expect(refusedWith('restore dynamodb spawn-instances --backup b-1 --latest-backup')).toBe('--backup and --latest-backup cannot be used together.');
    expect(refusedWith('restore dynamodb spawn-nope --latest-backup')).toContain('Unknown table `spawn-nope`');
  });

  it('refuses a backup ARN of another table', () => {
    // act / assess
    expect(refusedWith('restore dynamodb spawn-instances --backup arn:aws:dynamodb:us-east-1:123456789012:table/spawn-queues/backup/01796150885600-90fbf9bf')).toBe(
      'that backup is of table `spawn-queues`, not `spawn-instances`.',
    );
  });

  it('parses each next step a restore offers as the command it stands for (cut over is another verb, not registered here)', () => {
    // act
    const steps = restoreNextSteps('spawn-instances', 'spawn-instances-restored-20261201-101500', true);

    // assess
    expect(steps.map((s) => s.command)).toEqual([
      'cutover dynamodb spawn-instances --from spawn-instances-restored-20261201-101500',
      'keep dynamodb spawn-instances --restored spawn-instances-restored-20261201-101500',
      'delete restored-table spawn-instances-restored-20261201-101500',
    ]);
    expect(parse(steps[1]?.command ?? '').spec.id).toBe('keep-dynamodb');
    expect(parse(steps[2]?.command ?? '').spec.id).toBe('delete-restored-table');
    expect(restoreNextSteps('spawn-instances', 'spawn-instances-restored-20261201-101500', false).map((s) => s.label)).toEqual(['Keep both', 'Delete restored table']);
  });
});

describe('restore helpers', () => {
  it('rewrites the source table’s ARN (and its index ARNs) in a resource policy, and no other table’s', () => {
    // prepare
    const src = 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances';
    const dst = 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-instances-restored-20261201-101500';
    const policy = JSON.stringify({ Statement: [{ Resource: [src, `${src}/index/*`, `${src}-archive`, 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-queues'] }] });

    // act
    const out = JSON.parse(rewritePolicy(policy, src, dst)) as { Statement: { Resource: string[] }[] };

    // assess
    expect(out.Statement[0]?.Resource).toEqual([dst, `${dst}/index/*`, `${src}-archive`, 'arn:aws:dynamodb:us-east-1:123456789012:table/spawn-queues']);
  });

  it('compares items regardless of map key and set order, and tells binary values apart', () => {
    // act / assess
    expect(canonical({ a: { SS: ['x', 'y'] }, b: { M: { q: { N: '1' }, p: { S: 'z' } } } })).toBe(canonical({ b: { M: { p: { S: 'z' }, q: { N: '1' } } }, a: { SS: ['y', 'x'] } }));
    expect(canonical({ a: { L: [{ S: 'x' }, { S: 'y' }] } })).not.toBe(canonical({ a: { L: [{ S: 'y' }, { S: 'x' }] } }));
    expect(canonical({ b: { B: new Uint8Array([1, 2]) } })).not.toBe(canonical({ b: { B: new Uint8Array([1, 3]) } }));
    expect(keyText({ pk: { S: 'i-1' }, sk: { N: '7' } })).toBe('pk=i-1, sk=7');
  });

  it('polls every 10 s, then 30 s, then every minute', () => {
    // act / assess
    expect([1, 6, 7, 26, 27, 500].map(pollDelay)).toEqual([10, 10, 30, 30, 60, 60]);
  });

  it('checks for as long as the wait allows: 736 in the default 12 h, the last one at the limit', () => {
    // the waits between the checks, as the runbook's wait strategy gives them
    const waited = (hours: number) => Array.from({ length: maxPolls(hours) - 1 }, (_, i) => pollDelay(i + 1)).reduce((a, b) => a + b, 0);
    expect(maxPolls(12)).toBe(736);
    expect(waited(12)).toBe(43_200);
    expect(maxPolls(1)).toBe(76);
    for (let hours = 1; hours <= 20; hours++) expect(waited(hours)).toBe(hours * 3600);
  });
});

describe('notActive: the end of a restore whose table the wait did not see ACTIVE', () => {
  const T = 'spawn-instances-restored-20261205t0600z';
  const next = `Check it in the console; once it is ACTIVE, \`/dr keep dynamodb spawn-instances --restored ${T}\` or \`/dr delete restored-table ${T}\` take it from there.`;

  it('still CREATING after the wait (20 h here), the last check answered: "not ACTIVE", nothing said of throttling', () => {
    expect(notActive({ status: 'CREATING', polls: 1216, transient: 0 }, T, 'spawn-instances', 20)).toEqual({
      ok: false,
      lines: [`:hourglass: The restore into \`${T}\` was started, but the table is not ACTIVE: it was still CREATING after 20 h.`, next],
      failures: [`${T}: not ACTIVE (CREATING)`],
    });
  });

  it('the last check throttled: unconfirmed, the status as last seen, and said', () => {
    expect(notActive({ status: 'CREATING', polls: 735, transient: 1, lastTransient: 'Rate exceeded' }, T, 'spawn-instances', 12)).toEqual({
      ok: false,
      lines: [`:hourglass: The restore into \`${T}\` was started, but its status could not be confirmed (last seen CREATING): it was still CREATING after 12 h (the last check was throttled).`, next],
      failures: [`${T}: status unconfirmed (CREATING)`],
    });
  });

  it('20 checks in a row failed: how many and the last reason (or "throttled" if none was kept)', () => {
    expect(notActive({ status: 'CREATING', polls: 30, transient: 20, lastTransient: 'DescribeTable was throttled' }, T, 'spawn-instances', 12).lines[0]).toBe(
      `:hourglass: The restore into \`${T}\` was started, but its status could not be confirmed (last seen CREATING): checking on it failed 20 times in a row (DescribeTable was throttled).`,
    );
    expect(notActive({ status: 'CREATING', polls: 30, transient: 21 }, T, 'spawn-instances', 12).lines[0]).toContain('checking on it failed 21 times in a row (throttled).');
  });

  it('a check refused: unconfirmed, the refusal with its hint; the table missing: said so', () => {
    const refused = notActive({ status: 'CREATING', polls: 3, transient: 0, error: { code: 'aws_denied', message: 'DescribeTable was denied', hint: 'Grant dynamodb:DescribeTable.', transient: false } }, T, 'spawn-instances', 12);
    expect(refused.lines[0]).toBe(`:hourglass: The restore into \`${T}\` was started, but its status could not be confirmed (last seen CREATING): DescribeTable was denied. Grant dynamodb:DescribeTable.`);
    expect(refused.failures).toEqual([`${T}: status unconfirmed (CREATING)`]);
    const missing = notActive({ status: 'MISSING', polls: 10, transient: 0 }, T, 'spawn-instances', 12);
    expect(missing.lines[0]).toBe(`:hourglass: The restore into \`${T}\` was started, but the table is not ACTIVE: DynamoDB does not show the new table.`);
    expect(missing.failures).toEqual([`${T}: not ACTIVE (MISSING)`]);
  });
});
