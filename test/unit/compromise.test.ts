import type { Event } from '@aws-sdk/client-cloudtrail';
import fc from 'fast-check';
import { compactEvent, type TrailEvent } from '../../src/aws/cloudtrail';
import { UsageError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { parseValue } from '../../src/runbooks/args';
import { eventThread, groupEvents, groupLine, iamChanges } from '../../src/runbooks/compromise/report';

const ctx = { config: SANDBOX_CONFIG, now: new Date('2026-12-01T12:00:00Z'), usage: '/dr compromise' };
const ids = (v: string) => parseValue({ at: 'flag', kind: 'instance-ids', name: 'terminate', help: '' }, v, ctx);

function ev(o: Partial<TrailEvent> & { name: string; time: string }): TrailEvent {
  return { id: o.name + o.time, source: 'ec2.amazonaws.com', region: 'us-east-1', readOnly: true, ip: '203.0.113.1', agent: 'aws-cli/2', user: 'u', accessKeyId: 'AKIAEXAMPLE', ...o };
}

describe('--terminate INSTANCE_IDS', () => {
  it('takes comma-separated instance IDs (duplicates dropped), and refuses malformed, hostile and oversized lists', () => {
    // act / assess
    expect(ids('i-0123456789abcdef0,i-12345678,i-12345678')).toBe('i-0123456789abcdef0,i-12345678');
    for (const bad of ['i-123', 'i-0123456789abcdef0,', 'i-XYZ12345', '<!channel>', 'i-12345678;rm', Array.from({ length: 51 }, (_, n) => `i-${String(n).padStart(8, '0')}`).join(',')]) {
      expect(() => ids(bad)).toThrow(UsageError);
    }
    expect(() => ids('i-1234567`<!here>`')).toThrow("--terminate takes up to 50 EC2 instance IDs separated by commas (i-0abc…,i-0def…), not `i-1234567'&lt;!here&gt;'`.");
  });
});

describe('compactEvent', () => {
  it('keeps only the fields the report needs: never the request or response elements whole (a CreateAccessKey answer is not kept)', () => {
    // prepare
    const raw: Event = {
      EventId: 'e1',
      EventName: 'CreateAccessKey',
      ReadOnly: 'false',
      AccessKeyId: 'AKIAATTACKER00000001',
      EventTime: new Date('2026-12-01T10:00:00Z'),
      EventSource: 'iam.amazonaws.com',
      Username: 'leaky',
      CloudTrailEvent: JSON.stringify({
        awsRegion: 'us-east-1',
        sourceIPAddress: '203.0.113.5',
        userAgent: 'curl/8',
        requestParameters: { userName: 'backdoor' },
        responseElements: { accessKey: { accessKeyId: 'AKIANEW', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } },
      }),
    };

    // act
    const e = compactEvent(raw, 'us-east-1');

    // assess
    expect(e).toEqual({ id: 'e1', name: 'CreateAccessKey', time: '2026-12-01T10:00:00.000Z', source: 'iam.amazonaws.com', region: 'us-east-1', readOnly: false, ip: '203.0.113.5', agent: 'curl/8', user: 'leaky', accessKeyId: 'AKIAATTACKER00000001', target: 'backdoor' });
    expect(JSON.stringify(e)).not.toContain('wJalr');
  });

  it('reads RunInstances instance IDs from the response, and survives a CloudTrailEvent that is not JSON', () => {
    // act
    const run = compactEvent({ EventName: 'RunInstances', ReadOnly: 'false', EventTime: new Date(0), CloudTrailEvent: JSON.stringify({ responseElements: { instancesSet: { items: [{ instanceId: 'i-0123456789abcdef0' }, { instanceId: 'not-an-id' }] } } }) }, 'us-west-2');
    const broken = compactEvent({ EventName: 'ListBuckets', EventTime: new Date(0), CloudTrailEvent: '{oops' }, 'us-west-2');

    // assess
    expect(run.instanceIds).toEqual(['i-0123456789abcdef0']);
    expect(run.region).toBe('us-west-2');
    expect(broken).toMatchObject({ name: 'ListBuckets', region: 'us-west-2', ip: '', agent: '' });
  });
});

describe('the report', () => {
  it('groups by event, region, IP and agent: writes first, then the most frequent; oldest and newest kept', () => {
    // prepare
    const events = [
      ev({ name: 'ListBuckets', time: '2026-12-01T01:00:00Z' }),
      ev({ name: 'ListBuckets', time: '2026-12-01T03:00:00Z' }),
      ev({ name: 'ListBuckets', time: '2026-12-01T02:00:00Z', ip: '198.51.100.1' }),
      ev({ name: 'RunInstances', time: '2026-12-01T04:00:00Z', readOnly: false }),
    ];

    // act
    const groups = groupEvents(events);

    // assess
    expect(groups.map((g) => [g.name, g.ip, g.count, g.oldest, g.newest])).toEqual([
      ['RunInstances', '203.0.113.1', 1, '2026-12-01T04:00:00Z', '2026-12-01T04:00:00Z'],
      ['ListBuckets', '203.0.113.1', 2, '2026-12-01T01:00:00Z', '2026-12-01T03:00:00Z'],
      ['ListBuckets', '198.51.100.1', 1, '2026-12-01T02:00:00Z', '2026-12-01T02:00:00Z'],
    ]);
    expect(groupLine(groups[0]!)).toMatch(/^\*write\* `RunInstances` ×1 in `us-east-1` from `203.0.113.1` with `aws-cli\/2`/);
  });

  it('lists IAM writes by what they made or changed, refused calls left out', () => {
    // act
    const c = iamChanges([
      ev({ name: 'CreateUser', time: '2026-12-01T01:00:00Z', source: 'iam.amazonaws.com', readOnly: false, target: 'backdoor' }),
      ev({ name: 'PutRolePolicy', time: '2026-12-01T02:00:00Z', source: 'iam.amazonaws.com', readOnly: false, target: 'spawn-worker-00' }),
      ev({ name: 'CreateRole', time: '2026-12-01T03:00:00Z', source: 'iam.amazonaws.com', readOnly: false, target: 'nope', errorCode: 'AccessDenied' }),
    ]);

    // assess
    expect(c.users).toEqual(['backdoor']);
    expect(c.roles).toEqual(['spawn-worker-00']);
    expect(c.lines).toHaveLength(2);
  });

  it('hostile CloudTrail values (a user agent is whatever the caller sent) cannot ping, link, close a code block or break a line in the thread or the summary', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 100 }), (agent, name) => {
        // prepare
        const e = ev({ name, time: '2026-12-01T01:00:00Z', agent, readOnly: false, target: agent });

        // act
        const { messages } = eventThread('r-000000000000', 'u', [e]);
        const line = groupLine(groupEvents([e])[0]!);
        const texts = messages.flatMap((m) => (m.blocks ?? []).map((b) => (b as { text: { text: string } }).text.text));

        // assess
        for (const t of [line, ...texts]) expect(t).not.toMatch(/<[@#]|<!(?!date\^)|<https?:/);
        for (const block of texts.slice(1)) {
          expect(block.startsWith('```') && block.endsWith('```')).toBe(true);
          expect(block.slice(3, -3)).not.toContain('`');
          expect(block.slice(3, -3).split('\n')).toHaveLength(1);
        }
        expect(line.split('\n')).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });

  it('a long history is cut into thread replies Slack accepts, saying what is not shown', () => {
    // prepare
    const events = Array.from({ length: 3000 }, (_, i) => ev({ name: `Describe${i}`, time: new Date(Date.UTC(2026, 11, 1) + i * 1000).toISOString(), agent: 'a'.repeat(80) }));

    // act
    const { messages, shown } = eventThread('r-000000000000', 'u', events);

    // assess
    expect(messages.length).toBeLessThanOrEqual(10);
    expect(shown).toBeLessThan(3000);
    for (const m of messages) for (const b of m.blocks ?? []) expect((b as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(messages.at(-1))).toContain(`${(3000 - shown).toLocaleString('en-US')} more events are not shown here`);
  });
});
