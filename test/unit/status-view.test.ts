import type { KnownBlock, SectionBlock } from '@slack/types';
import type { DrConfig } from '../../src/config/schema';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { Colour, StatusItem, StatusReport } from '../../src/runbooks/status/posture';
import { renderStatus } from '../../src/slack/views/status';

const NOW = new Date('2026-11-24T12:00:00Z');

function bucket(name: string, colour: Colour, reasons: string[] = []): StatusItem {
  return { kind: 's3', name, colour, reasons, facts: colour === 'red' ? [] : ['versioning on', 'noncurrent expiry 90 d', 'RTC 15 min'] };
}

function table(name: string, colour: Colour, reasons: string[] = []): StatusItem {
  return { kind: 'dynamodb', name, colour, reasons, facts: ['PITR since 2026-11-20 10:00Z', 'newest backup 3 h ago'] };
}

const GREYS: StatusItem[] = [
  { kind: 'ami', name: 'AMIs tagged spawn=true', colour: 'grey', reasons: ['not checked yet'], facts: [] },
  { kind: 'iam', name: 'IAM roles spawn*', colour: 'grey', reasons: ['not checked yet'], facts: [] },
  { kind: 'route53', name: 'Route53', colour: 'grey', reasons: ['not checked yet'], facts: [] },
  { kind: 'lambda', name: 'Lambda spawn-dns-updater', colour: 'grey', reasons: ['not checked yet'], facts: [] },
];

function report(items: StatusItem[], overall: Colour): StatusReport {
  return { generatedAt: NOW, overall, items };
}

function sections(blocks: KnownBlock[]): SectionBlock[] {
  return blocks.filter((b): b is SectionBlock => b.type === 'section');
}

/** Every item line rendered in section blocks, in order. */
function lines(blocks: KnownBlock[]): string[] {
  return sections(blocks).flatMap((s) => (s.text?.text ?? '').split('\n'));
}

/** Item names (in backticks) on the lines that start with `prefix`. */
function names(rendered: string[], prefix: string): string[] {
  return rendered.filter((l) => l.startsWith(prefix)).flatMap((l) => [...l.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''));
}

function contextTexts(blocks: KnownBlock[]): string[] {
  return blocks.flatMap((b) => (b.type === 'context' ? b.elements.map((e) => ('text' in e && typeof e.text === 'string' ? e.text : '')) : []));
}

function assertWithinSlackLimits(msg: { text: string; blocks: KnownBlock[] }): void {
  expect(msg.blocks.length).toBeLessThanOrEqual(50);
  for (const s of sections(msg.blocks)) expect((s.text?.text ?? '').length).toBeLessThanOrEqual(3000);
  expect(JSON.stringify({ text: msg.text, blocks: msg.blocks }).length).toBeLessThanOrEqual(12000);
}

/** Sum of "N more …" counts in the summary, by phrase (e.g. "green buckets" -> 420). */
function omittedCounts(blocks: KnownBlock[]): Map<string, number> {
  const out = new Map<string, number>();
  const summary = contextTexts(blocks).find((t) => t.startsWith('…and '));
  for (const m of summary?.matchAll(/(\d+) more ([a-z0-9 ]+?)(?=,|\.$)/gi) ?? []) out.set(m[2] ?? '', Number(m[1]));
  return out;
}

function bigEstate(reds: number, ambers: number): StatusItem[] {
  const items: StatusItem[] = [];
  for (let i = 0; i < 500; i++) {
    const c: Colour = i < reds ? 'red' : i < reds + ambers ? 'amber' : 'green';
    items.push(bucket(`spawn-bucket-${String(i).padStart(3, '0')}`, c, c === 'green' ? [] : ['no noncurrent-version expiry (runbook: 90 d)']));
    items.push(table(`spawn-table-${String(i).padStart(3, '0')}`, c, c === 'green' ? [] : ['no replica in us-west-2']));
  }
  return [...items, ...GREYS];
}

describe('renderStatus', () => {
  it('puts reds first, then ambers, greens and the not-checked items, under a header with the objectives', () => {
    // prepare
    const items = [
      bucket('spawn-binaries-us-east-1', 'green'),
      ...GREYS,
      bucket('spawn-results-us-east-1', 'amber', ['no noncurrent-version expiry (runbook: 90 d)']),
      table('spawn-alerts', 'red', ['PITR off: RPO 5 min unmet']),
      bucket('spawn-logs-us-east-1', 'red', ['versioning off: deleted or overwritten objects cannot be recovered']),
      table('spawn-queues', 'amber', ['no on-demand backup']),
    ];

    // act
    const msg = renderStatus(report(items, 'red'), SANDBOX_CONFIG);

    // assess
    const header = msg.blocks[0];
    expect(header?.type).toBe('header');
    expect(header?.type === 'header' ? header.text.text : '').toBe(':red_circle: DR status: spawn is red');
    expect(contextTexts(msg.blocks)[0]).toContain('RPO 5 min');
    expect(contextTexts(msg.blocks)[0]).toContain('RTO 60 min');
    const rendered = lines(msg.blocks);
    expect(rendered.map((l) => l.split(' ')[0])).toEqual([
      ':red_circle:',
      ':red_circle:',
      ':large_orange_circle:',
      ':large_orange_circle:',
      ':large_green_circle:',
      ':white_circle:',
      ':white_circle:',
      ':white_circle:',
      ':white_circle:',
    ]);
    expect(rendered[0]).toContain('`spawn-logs-us-east-1`');
    expect(rendered[0]).toContain('versioning off');
    expect(rendered[1]).toContain('`spawn-alerts`');
    expect(rendered[1]).toContain('PITR off: RPO 5 min unmet');
    expect(rendered[4]).toContain('`spawn-binaries-us-east-1`');
    expect(rendered[4]).toContain('RTC 15 min');
    expect(omittedCounts(msg.blocks).size).toBe(0);
    assertWithinSlackLimits(msg);
  });

  it('does not repeat the kind when the name already says it', () => {
    // act
    const rendered = lines(renderStatus(report([bucket('spawn-logs', 'red', ['versioning off']), ...GREYS], 'red'), SANDBOX_CONFIG).blocks);

    // assess
    expect(rendered).toContain(':red_circle: *S3* `spawn-logs` — versioning off');
    expect(rendered).toContain(':white_circle: *AMIs tagged* `spawn=true` — not checked yet');
    expect(rendered).toContain(':white_circle: *IAM roles* `spawn*` — not checked yet');
    expect(rendered).toContain(':white_circle: *Route53* — not checked yet');
    expect(rendered).toContain(':white_circle: *Lambda* `spawn-dns-updater` — not checked yet');
    expect(rendered.join('\n')).not.toMatch(/\*(AMI|IAM|Route53|Lambda)\* `(AMI|IAM|Route53|Lambda)/);
  });

  it('keeps reasons and facts apart, so they do not run together where italics are not shown', () => {
    // act
    const rendered = lines(renderStatus(report([bucket('spawn-results', 'amber', ['no noncurrent-version expiry'])], 'amber'), SANDBOX_CONFIG).blocks);

    // assess
    expect(rendered).toContain(':large_orange_circle: *S3* `spawn-results` — no noncurrent-version expiry — _versioning on · noncurrent expiry 90 d · RTC 15 min_');
  });

  it('gives red, amber and green counts and the objectives in the fallback text', () => {
    // prepare
    const items = [
      bucket('spawn-logs-us-east-1', 'red', ['versioning off']),
      bucket('spawn-results-us-east-1', 'amber', ['no expiry']),
      bucket('spawn-binaries-us-east-1', 'green'),
      table('spawn-instances', 'green'),
      ...GREYS,
    ];

    // act
    const { text } = renderStatus(report(items, 'red'), SANDBOX_CONFIG);

    // assess
    expect(text).toContain('RED');
    expect(text).toContain('1 red, 1 amber, 2 green, 4 not checked');
    expect(text).toContain('RPO 5 min, RTO 60 min');
    expect(text).toContain('Red: spawn-logs-us-east-1');
  });

  it('stays within Slack limits for 500 buckets and 500 tables and summarises what it leaves out', () => {
    // prepare
    const items = bigEstate(10, 30);

    // act
    const msg = renderStatus(report(items, 'red'), SANDBOX_CONFIG);

    // assess
    assertWithinSlackLimits(msg);
    expect(msg.text).toContain('20 red, 60 amber, 920 green, 4 not checked');
    const rendered = lines(msg.blocks);
    // every red and amber is shown, with its reason, before any green
    expect(rendered.slice(0, 20).every((l) => l.startsWith(':red_circle:') && l.includes('—'))).toBe(true);
    expect(rendered.slice(20, 80).every((l) => l.startsWith(':large_orange_circle:') && l.includes('—'))).toBe(true);
    expect(rendered.slice(80).every((l) => l.startsWith(':large_green_circle:'))).toBe(true);
    const shownGreenBuckets = names(rendered, ':large_green_circle: *S3*');
    const shownGreenTables = names(rendered, ':large_green_circle: *DynamoDB*');
    expect(shownGreenBuckets[0]).toBe('spawn-bucket-040'); // 0-9 red, 10-39 amber
    const omitted = omittedCounts(msg.blocks);
    expect(omitted.get('green buckets')).toBeGreaterThan(0);
    expect(shownGreenBuckets.length + (omitted.get('green buckets') ?? 0)).toBe(460);
    expect(shownGreenTables.length + (omitted.get('green tables') ?? 0)).toBe(460);
    expect(omitted.get('AMI not checked yet')).toBe(1);
    // nothing is lost: shown + summarised = all items
    const summarised = [...omitted.values()].reduce((a, b) => a + b, 0);
    expect(80 + shownGreenBuckets.length + shownGreenTables.length + summarised).toBe(items.length);
    expect(contextTexts(msg.blocks).at(-1)).toMatch(/^…and \d+ more green buckets, 460 more green tables, 1 more AMI not checked yet/);
  });

  it('stays within Slack limits when a thousand resources are red with long error texts', () => {
    // prepare
    const longError = `GetBucketVersioning on \`x\` failed: ${'Access Denied <arn:aws:iam::123456789012:role/drbot> '.repeat(60)}`;
    const items: StatusItem[] = [];
    for (let i = 0; i < 500; i++) {
      items.push(bucket(`spawn-bucket-${i}`, 'red', [longError]));
      items.push(table(`spawn-table-${i}`, 'red', [longError]));
    }

    // act
    const msg = renderStatus(report([...items, ...GREYS], 'red'), SANDBOX_CONFIG);

    // assess
    assertWithinSlackLimits(msg);
    const rendered = lines(msg.blocks);
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered.every((l) => l.length <= 600)).toBe(true);
    expect(rendered[0]).toContain('&lt;arn:aws:iam::123456789012:role/drbot&gt;');
    const omitted = omittedCounts(msg.blocks);
    expect((omitted.get('red buckets') ?? 0) + (omitted.get('red tables') ?? 0) + rendered.length).toBe(1000);
    expect(omitted.get('AMI not checked yet')).toBe(1);
    expect(msg.text).toContain('1000 red, 0 amber, 0 green, 4 not checked');
  });

  it('escapes mrkdwn control characters in names and reasons', () => {
    // prepare
    const items = [table('a<b>&c', 'red', ['<!channel> & more'])];
    const cfg: DrConfig = { ...SANDBOX_CONFIG, name: 'spawn' };

    // act
    const msg = renderStatus(report(items, 'red'), cfg);

    // assess
    const line = lines(msg.blocks)[0] ?? '';
    expect(line).toContain('`a&lt;b&gt;&amp;c`');
    expect(line).toContain('&lt;!channel&gt; &amp; more');
    expect(line).not.toContain('<!channel>');
  });

  it('shows a green header when everything checked is green', () => {
    // act
    const msg = renderStatus(report([bucket('b1', 'green'), ...GREYS], 'green'), SANDBOX_CONFIG);

    // assess
    const header = msg.blocks[0];
    expect(header?.type === 'header' ? header.text.text : '').toBe(':large_green_circle: DR status: spawn is green');
    expect(msg.text).toContain('0 red, 0 amber, 1 green, 4 not checked');
  });
});
