import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { amiStatus, iamStatus, lambdaStatus, route53Status } from '../../src/runbooks/status/backups';
import type { StatusItem } from '../../src/runbooks/status/posture';
import { renderStatus, STATUS_VIEW_LIMITS } from '../../src/slack/views/status';

const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const cfg = { ...SANDBOX_CONFIG, schedule: { ...SANDBOX_CONFIG.schedule, amiBackupDays: 7, iamExportDays: 1, route53ExportDays: 7 } };

describe('amiStatus', () => {
  it('is green with a copy within the schedule, amber with an older one, red with none; one row per tagged image', () => {
    // act
    const rows = amiStatus(
      {
        sources: [
          { id: 'ami-1', name: 'fresh' },
          { id: 'ami-2', name: 'stale' },
          { id: 'ami-3', name: 'never' },
        ],
        copies: [
          { sourceId: 'ami-1', id: 'ami-c1', state: 'available', created: daysAgo(2) },
          { sourceId: 'ami-1', id: 'ami-c0', state: 'available', created: daysAgo(30) },
          { sourceId: 'ami-2', id: 'ami-c2', state: 'available', created: daysAgo(9) },
          { sourceId: 'ami-3', id: 'ami-c3', state: 'failed', created: daysAgo(1) },
        ],
      },
      cfg,
      NOW,
    );

    // assess
    expect(rows.map((r) => [r.name, r.colour])).toEqual([
      ['fresh (ami-1)', 'green'],
      ['stale (ami-2)', 'amber'],
      ['never (ami-3)', 'red'],
    ]);
    expect(rows[0]?.facts).toEqual(['copy `ami-c1` in us-west-2 2 d ago']);
    expect(rows[1]?.reasons).toEqual(['newest copy in us-west-2 9 d ago, older than 7 d']);
    expect(rows[2]?.reasons).toEqual(['no copy in us-west-2']);
  });

  it('is amber when no image carries the tag', () => {
    expect(amiStatus({ sources: [], copies: [] }, cfg, NOW)).toEqual([expect.objectContaining({ colour: 'amber', reasons: ['no image in us-east-1 carries the tag: nothing is being backed up'] })]);
  });
});

describe('iamStatus and route53Status', () => {
  it('grade the newest export against the schedule, and no bucket or no export red', () => {
    expect(iamStatus({ bucket: 'b', latest: { at: daysAgo(0.5), pointer: { roles: 12 } } }, cfg, NOW)).toMatchObject({ colour: 'green', facts: ['exported 12 h ago', '12 roles'] });
    expect(iamStatus({ bucket: 'b', latest: { at: daysAgo(2), pointer: {} } }, cfg, NOW)).toMatchObject({ colour: 'amber', reasons: ['newest export 2 d ago, older than 1 d'] });
    expect(iamStatus({ bucket: 'b' }, cfg, NOW)).toMatchObject({ colour: 'red', reasons: ['no export in `s3://b/iam/`'] });
    expect(iamStatus({}, cfg, NOW)).toMatchObject({ colour: 'red', reasons: ['no backup bucket configured (`backupBucket`)'] });
  });

  it('turns a zone amber when its record count has changed since the export', () => {
    const row = route53Status({ zoneId: 'Z1', records: 305, bucket: 'b', latest: { at: daysAgo(1), pointer: { count: 302 } } }, cfg, NOW);
    expect(row).toMatchObject({ colour: 'amber', reasons: ['305 record sets now, 302 in the export'] });
    expect(route53Status({ zoneId: 'Z1', records: 302, bucket: 'b', latest: { at: daysAgo(1), pointer: { count: 302 } } }, cfg, NOW)).toMatchObject({ colour: 'green', facts: ['exported 24 h ago', '302 record sets'] });
    expect(route53Status(undefined, cfg, NOW)).toMatchObject({ colour: 'amber' });
  });
});

describe('lambdaStatus', () => {
  const base = { name: 'fn', alias: 'production', published: ['1', '2', '3'], bucket: 'b', export: { at: daysAgo(1), versions: ['1', '2', '3'] } };

  it('is green with the alias on a published version, an earlier one to roll back to, every version exported', () => {
    expect(lambdaStatus({ ...base, aliasVersion: '3' }, NOW)).toMatchObject({ colour: 'green', facts: ['production → v3', 'rollback to v2', '3 versions exported 24 h ago'] });
  });

  it('is red for an alias on $LATEST or no alias, amber without an earlier version or with versions not exported', () => {
    expect(lambdaStatus({ ...base, aliasVersion: '$LATEST' }, NOW)).toMatchObject({ colour: 'red', reasons: ['alias `production` points at $LATEST, not a published version'] });
    expect(lambdaStatus(base, NOW)).toMatchObject({ colour: 'red', reasons: ['no alias `production`: nothing to roll back with'] });
    expect(lambdaStatus({ ...base, aliasVersion: '1' }, NOW)).toMatchObject({ colour: 'amber', reasons: ['no version before v1 to roll back to'] });
    expect(lambdaStatus({ ...base, aliasVersion: '3', published: ['1', '2', '3', '4'] }, NOW)).toMatchObject({ colour: 'amber', reasons: ['v4 not exported (last export 24 h ago)'] });
  });
});

describe('renderStatus with every kind of row', () => {
  it('stays within Slack limits for 500 buckets, 500 tables, 200 functions and 100 AMIs', () => {
    // prepare
    const items: StatusItem[] = [];
    for (let i = 0; i < 500; i++) items.push({ kind: 's3', name: `spawn-bucket-${i}`, colour: i % 50 ? 'green' : 'red', reasons: i % 50 ? [] : ['versioning off'], facts: ['versioning on'] });
    for (let i = 0; i < 500; i++) items.push({ kind: 'dynamodb', name: `spawn-table-${i}`, colour: 'green', reasons: [], facts: ['PITR on'] });
    for (let i = 0; i < 200; i++) items.push(lambdaStatus({ name: `spawn-fn-${i}`, alias: 'production', published: ['1', '2'], bucket: 'b', aliasVersion: '2', ...(i % 3 ? { export: { at: daysAgo(1), versions: ['1', '2'] } } : {}) }, NOW));
    items.push(...amiStatus({ sources: Array.from({ length: 100 }, (_, i) => ({ id: `ami-${i}`, name: `spawn-image-${i}` })), copies: [] }, cfg, NOW));
    items.push(iamStatus({ bucket: 'b' }, cfg, NOW), route53Status({ zoneId: 'Z1', records: 3, bucket: 'b' }, cfg, NOW));

    // act
    const msg = renderStatus({ generatedAt: NOW, overall: 'red', items }, cfg);

    // assess
    expect(msg.blocks.length).toBeLessThanOrEqual(STATUS_VIEW_LIMITS.maxBlocks);
    expect(JSON.stringify(msg).length).toBeLessThanOrEqual(STATUS_VIEW_LIMITS.maxMessageChars);
    for (const b of msg.blocks) if (b.type === 'section') expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(STATUS_VIEW_LIMITS.maxSectionText);
    expect(msg.text).toContain('112 red, 67 amber');
    const summary = JSON.stringify(msg.blocks.at(-1));
    expect(summary).toMatch(/more (red AMIs|amber functions|green)/);
  });
});
