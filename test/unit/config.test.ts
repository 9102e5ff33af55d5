import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, parseConfig, parseConfigText } from '../../src/config/load';
import { ConfigError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';

const EXAMPLE_PATH = join(__dirname, '../../drbot.config.example.yaml');
const EXAMPLE_TEXT = readFileSync(EXAMPLE_PATH, 'utf8');

/** A fresh, mutable copy of the example config as plain data. */
function example(): Record<string, any> {
  return parseYaml(EXAMPLE_TEXT) as Record<string, any>;
}

/** The ConfigError a raw config is refused with; fails the test if it is accepted. */
function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

describe('loadConfigFile / parseConfig: valid configs', () => {
  it('accepts the shipped example and fills nothing it already sets', () => {
    // act
    const cfg = loadConfigFile(EXAMPLE_PATH);

    // assess: every value the file sets comes through unchanged (defaults fill only what it leaves out)
    expect(cfg).toMatchObject(example());
  });

  it('accepts the sandbox config again as it stands', () => {
    // act
    const cfg = parseConfig(SANDBOX_CONFIG, 'sandbox config');

    // assess
    expect(cfg).toEqual(SANDBOX_CONFIG);
  });

  it('takes a DynamoDB restore wait from 1 h to 20 h, and leaves it unset when not given', () => {
    for (const hours of [1, 20]) {
      const raw = example();
      raw.dynamodb.restoreWaitHours = hours;
      expect(parseConfig(raw, 'drbot.config.yaml').dynamodb.restoreWaitHours).toBe(hours);
    }
    const raw = example();
    delete raw.dynamodb.restoreWaitHours;
    expect(parseConfig(raw, 'drbot.config.yaml').dynamodb.restoreWaitHours).toBeUndefined();
  });

  it('fills defaults for the optional sections', () => {
    // prepare
    const raw = example();
    for (const k of ['objectives', 'schedule', 'retention', 'ami', 'lambda', 'iam', 'route53', 'backupBucket', 'approvals', 'name']) delete raw[k];

    // act
    const cfg = parseConfig(raw, 'min.yaml');

    // assess
    expect(cfg.name).toBe('spawn');
    expect(cfg.objectives).toEqual({ rpoMinutes: 5, rtoMinutes: 60 });
    expect(cfg.approvals).toEqual({ required: 1, expiresMinutes: 30 });
    expect(cfg.schedule.pitrDays).toBe(35);
    expect(cfg.retention).toEqual({ amiCopyDays: 30, iamExportDays: 90, route53ExportDays: 'forever', dynamodbBackupDays: 35, lambdaVersions: 'all' });
    expect(cfg.route53).toBeUndefined();
  });
});

describe('parseConfig: invalid configs name the path', () => {
  it.each<[string, (raw: Record<string, any>) => void, string]>([
    ['a missing backup region', (r) => delete r.regions.backup, 'regions.backup'],
    ['a missing slack section', (r) => delete r.slack, 'slack'],
    ['a missing ops channel', (r) => delete r.slack.channels.ops, 'slack.channels.ops'],
    ['a number of approvals given as a word', (r) => (r.approvals.required = 'two'), 'approvals.required'],
    ['buckets given as a string', (r) => (r.s3.buckets = 'spawn-binaries-us-east-1'), 's3.buckets'],
    ['a fractional RPO', (r) => (r.objectives.rpoMinutes = 2.5), 'objectives.rpoMinutes'],
    ['an upper-case region', (r) => (r.regions.primary = 'US-EAST-1'), 'regions.primary: an AWS region such as us-east-1'],
    ['a made-up region', (r) => (r.regions.backup = 'mars'), 'regions.backup: an AWS region such as us-east-1'],
    ['a bad replica region', (r) => (r.s3.buckets[0].replica.region = 'west'), 's3.buckets.0.replica.region'],
    ['a channel name instead of an ID', (r) => (r.slack.channels.ops = '#dr-ops'), 'slack.channels.ops: a Slack channel ID'],
    ['a lower-case channel ID', (r) => (r.slack.channels.alerts = 'c0spawnalert'), 'slack.channels.alerts'],
    ['a user name instead of an ID', (r) => (r.slack.roles.viewer = ['@alice']), 'slack.roles.viewer.0'],
    ['an invalid bucket name', (r) => (r.s3.buckets[1].name = 'Spawn_Binaries'), 's3.buckets.1.name'],
    ['an unknown key', (r) => (r.regions.tertiary = 'eu-west-1'), 'regions: unknown field tertiary'],
    ['too many approvals', (r) => (r.approvals.required = 6), 'approvals.required'],
    ['IAM exports kept forever (only Route53 may be)', (r) => (r.retention.iamExportDays = 'forever'), 'retention.iamExportDays'],
    ['a zero-day retention', (r) => (r.retention.dynamodbBackupDays = 0), 'retention.dynamodbBackupDays'],
    ['a retention word that is not forever', (r) => (r.retention.route53ExportDays = 'never'), 'retention.route53ExportDays'],
    ['a DynamoDB restore that never waits', (r) => (r.dynamodb.restoreWaitHours = 0), 'dynamodb.restoreWaitHours'],
    ['a DynamoDB restore wait longer than a run\'s steps may take (20 h at most)', (r) => (r.dynamodb.restoreWaitHours = 21), 'dynamodb.restoreWaitHours'],
    ['a fractional DynamoDB restore wait', (r) => (r.dynamodb.restoreWaitHours = 1.5), 'dynamodb.restoreWaitHours'],
    ['a DynamoDB restore wait given as text', (r) => (r.dynamodb.restoreWaitHours = '12h'), 'dynamodb.restoreWaitHours'],
  ])('refuses %s', (_case, mutate, path) => {
    // prepare
    const raw = example();
    mutate(raw);

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.code).toBe('config_invalid');
    expect(e.message).toMatch(/^drbot\.config\.yaml is invalid:\n/);
    expect(e.message).toContain(`\n${path}`);
  });

  it('calls a field that is absent missing', () => {
    // prepare
    const raw = example();
    delete raw.regions.backup;

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.message).toBe('drbot.config.yaml is invalid:\nregions.backup: missing (expected string)');
  });

  // Regression: describeIssues (src/config/load.ts) once tested `issue.input`, which zod does not
  // report by default, so every wrong type was described as "missing".
  it.each<[string, (raw: Record<string, any>) => void, string]>([
    ['a word for a number', (r) => (r.approvals.required = 'two'), 'approvals.required'],
    ['a string for a list', (r) => (r.s3.buckets = 'spawn-binaries-us-east-1'), 's3.buckets'],
    ['a number for a region', (r) => (r.regions.backup = 2), 'regions.backup'],
  ])('does not call a field of the wrong type missing (%s)', (_case, mutate, path) => {
    // prepare
    const raw = example();
    mutate(raw);

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.message).toContain(`\n${path}: `);
    expect(e.message).not.toContain(`${path}: missing`);
  });

  it('names every bad field, not only the first', () => {
    // prepare
    const raw = example();
    raw.regions.primary = 'nowhere';
    raw.slack.channels.ops = 'ops';

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.message).toContain('\nregions.primary: ');
    expect(e.message).toContain('\nslack.channels.ops: ');
  });

  it('refuses a bucket listed twice', () => {
    // prepare
    const raw = example();
    raw.s3.buckets.push({ name: 'spawn-results-us-east-1' });

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.message).toBe('drbot.config.yaml is invalid:\ns3.buckets: bucket spawn-results-us-east-1 is listed twice');
  });

  it('refuses a table listed twice', () => {
    // prepare
    const raw = example();
    raw.dynamodb.tables.push({ name: 'spawn-queues' });

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.message).toBe('drbot.config.yaml is invalid:\ndynamodb.tables: table spawn-queues is listed twice');
  });

  it('refuses a backup region equal to the primary', () => {
    // prepare
    const raw = example();
    raw.regions.backup = raw.regions.primary;

    // act
    const e = refusal(() => parseConfig(raw, 'drbot.config.yaml'));

    // assess
    expect(e.message).toBe('drbot.config.yaml is invalid:\nregions.backup: must differ from regions.primary');
  });

  it('refuses something that is not a mapping at all', () => {
    // act
    const e = refusal(() => parseConfigText('- just\n- a list\n', 'list.yaml'));

    // assess
    expect(e.message).toMatch(/^list\.yaml is invalid:\n\(top level\): /);
  });
});

describe('parseConfigText / loadConfigFile: unreadable input', () => {
  it('refuses invalid YAML, naming the source', () => {
    // act
    const e = refusal(() => parseConfigText('regions: [unclosed\n', 'drbot.config.yaml'));

    // assess
    expect(e.message).toMatch(/^drbot\.config\.yaml is not valid YAML: /);
    expect(e.message).not.toContain('\n');
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    // prepare
    const names = 'abcdefghij';
    let bomb = `a: &a [${Array(10).fill('"lol"').join(', ')}]\n`;
    for (let i = 1; i < names.length; i++) bomb += `${names[i]}: &${names[i]} [${Array(10).fill(`*${names[i - 1]}`).join(', ')}]\n`;

    // act
    const e = refusal(() => parseConfigText(bomb, 'bomb.yaml'));

    // assess
    expect(e.message).toMatch(/^bomb\.yaml is not valid YAML: .*alias/i);
  });

  it('accepts a few ordinary aliases', () => {
    // prepare
    const text = EXAMPLE_TEXT.replace('primary: us-east-1', 'primary: &home us-east-1').replace(
      '- name: spawn-binaries-us-east-1\n',
      '- name: spawn-binaries-us-east-1\n      region: *home\n',
    );

    // act
    const cfg = parseConfigText(text, 'aliases.yaml');

    // assess
    expect(cfg.s3.buckets[0]?.region).toBe('us-east-1');
  });

  it('refuses a nonexistent file, naming its path and the reason', () => {
    // prepare
    const path = join(tmpdir(), 'drbot-does-not-exist', 'drbot.config.yaml');

    // act
    const e = refusal(() => loadConfigFile(path));

    // assess
    expect(e.message).toBe(`cannot read config file ${path}: ENOENT`);
  });

  it('names the file and the field when a file on disk is invalid', () => {
    // prepare
    const dir = mkdtempSync(join(tmpdir(), 'drbot-config-'));
    const path = join(dir, 'drbot.config.yaml');
    writeFileSync(path, EXAMPLE_TEXT.replace('backup: us-west-2', 'backup: us-east-1'));

    // act
    const e = refusal(() => loadConfigFile(path));
    rmSync(dir, { recursive: true, force: true });

    // assess
    expect(e.message).toBe(`${path} is invalid:\nregions.backup: must differ from regions.primary`);
  });
});
