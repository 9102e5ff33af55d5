import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { LaunchedInstance } from '../../src/aws/ec2-instances';
import { batchWeight, withinLimits } from '../../src/aws/route53';
import { parseConfig } from '../../src/config/load';
import type { FailoverRecord } from '../../src/config/schema';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { writable } from '../../src/runbooks/failback/runbook';
import { clock, elapsed, withinRto } from '../../src/runbooks/failover/clock';
import { batches, sameSet, switchedSet, valuesFor } from '../../src/runbooks/failover/dns';
import { reach } from '../../src/runbooks/failover/reach';
import { type BucketFacts, gradeAmis, gradeBucket, gradeRecords, gradeTable, type TableFacts } from '../../src/runbooks/failover/readiness';
import { itemLine } from '../../src/runbooks/failover/view';

/*
 * The pure parts of /dr failover: the RTO clock, the readiness rules (red / amber / green), the
 * record sets it writes and takes back, Route53's batch limits, the short deadline on the primary,
 * and the `failover:` config section.
 */

const NOW = new Date('2026-12-01T12:00:00Z');
const cfg = SANDBOX_CONFIG;
const binaries = cfg.s3.buckets[0]!;
const rec = (r: Partial<FailoverRecord> = {}): FailoverRecord => ({ name: 'api.example.com', type: 'A', target: 'private-ip', ttl: 60, ...r });
const inst = (id: string, ip: string): LaunchedInstance => ({ id, state: 'running', type: 't3.micro', imageId: 'ami-1', privateIp: ip, publicIp: `54.0.0.${ip.slice(-1)}`, publicDns: `ec2-${id}.compute.amazonaws.com`, tags: {} });

describe('the RTO clock', () => {
  it('shows T+minutes:seconds of the objective, hours past an hour', () => {
    expect(clock('2026-12-01T11:47:56Z', NOW, 60)).toBe('T+12:04 of 1 h');
    expect(clock('2026-12-01T10:58:57Z', NOW, 90)).toBe('T+1:01:03 of 90 min');
    expect(elapsed(-5000)).toBe('0:00');
    expect(withinRto('2026-12-01T11:00:00Z', NOW, 60)).toBe(true);
    expect(withinRto('2026-12-01T10:59:59Z', NOW, 60)).toBe(false);
  });
});

describe('readiness rules', () => {
  const bucket = (over: Partial<BucketFacts>): BucketFacts => ({
    bucket: binaries,
    inTarget: false,
    replica: { exists: true, newest: '2026-12-01T11:59:00Z' },
    primary: { ok: true, value: { rule: { id: 'r', enabled: true, destination: 'spawn-binaries-us-west-2-backup', rtc: true }, newest: '2026-12-01T11:59:00Z' } },
    ...over,
  });

  it('a bucket: green when the replica has the newest primary object; amber behind the RPO, without RTC, or with the primary unreachable; red without a replica', () => {
    expect(gradeBucket(bucket({}), cfg, 'us-west-2', NOW)).toMatchObject({ colour: 'green', rpoMs: 0 });
    const behind = gradeBucket(bucket({ replica: { exists: true, newest: '2026-12-01T11:40:00Z' } }), cfg, 'us-west-2', NOW);
    expect(behind).toMatchObject({ colour: 'amber', rpoMs: 19 * 60_000 });
    expect(behind.reasons).toEqual(['replication lag 19:00 min exceeds the RPO objective of 5 min']);
    expect(gradeBucket(bucket({ latencySeconds: 30 }), cfg, 'us-west-2', NOW)).toMatchObject({ colour: 'green', rpoMs: 30_000 });
    expect(gradeBucket(bucket({ primary: { ok: true, value: { rule: { enabled: true, destination: 'spawn-binaries-us-west-2-backup', rtc: false } } } }), cfg, 'us-west-2', NOW).reasons).toContain('replication without RTC: no 15-minute guarantee');
    expect(gradeBucket(bucket({ primary: { ok: false, reason: 'TimeoutError: no answer within 3 s' } }), cfg, 'us-west-2', NOW)).toMatchObject({ colour: 'amber', reasons: ['primary unreachable: replication health unknown'] });
    expect(gradeBucket(bucket({ replica: { exists: false } }), cfg, 'us-west-2', NOW).colour).toBe('red');
    expect(gradeBucket(bucket({ primary: { ok: true, value: {} } }), cfg, 'us-west-2', NOW).reasons).toContain('no enabled replication rule');
    expect(gradeBucket({ ...bucket({}), bucket: { name: 'spawn-logs-us-east-1' } }, cfg, 'us-west-2', NOW)).toMatchObject({ colour: 'red', reasons: ['no replica: its objects are not in us-west-2'] });
  });

  it('a table: green with an ACTIVE replica (seen in the target or by the primary), amber with only a backup there or a replica not yet ACTIVE, red with neither', () => {
    const t = (over: Partial<TableFacts>): TableFacts => ({ table: { name: 'spawn-instances' }, target: {}, primary: { ok: false, reason: 'down' }, ...over });
    expect(gradeTable(t({ target: { status: 'ACTIVE', items: 2000 } }), 'us-west-2', NOW)).toMatchObject({ colour: 'green', rpoMs: 0, facts: ['replica in us-west-2 ACTIVE, about 2000 items', 'primary unreachable'] });
    expect(gradeTable(t({ primary: { ok: true, value: { replicaStatus: 'ACTIVE' } } }), 'us-west-2', NOW).colour).toBe('green');
    expect(gradeTable(t({ target: { status: 'CREATING' } }), 'us-west-2', NOW).colour).toBe('amber');
    expect(gradeTable(t({ backup: { name: 'b1', created: '2026-12-01T09:00:00Z' } }), 'us-west-2', NOW)).toMatchObject({ colour: 'amber', rpoMs: 3 * 3_600_000 });
    expect(gradeTable(t({}), 'us-west-2', NOW)).toMatchObject({ colour: 'red', reasons: ['no replica and no backup in us-west-2'] });
  });

  it('AMIs: the newest available copy of each image, amber past amiBackupDays, red without one; known from the copies when the primary does not answer', () => {
    const copies = [
      { sourceId: 'ami-a', id: 'ami-c1', name: 'worker-backup-20261120', state: 'available', created: '2026-11-20T00:00:00Z' },
      { sourceId: 'ami-a', id: 'ami-c2', name: 'worker-backup-20261130', state: 'available', created: '2026-11-30T00:00:00Z' },
      { sourceId: 'ami-a', id: 'ami-c3', name: 'worker-backup-20261201', state: 'pending', created: '2026-12-01T00:00:00Z' },
      { sourceId: 'ami-b', id: 'ami-c4', name: 'ctl-backup-20261101', state: 'available', created: '2026-11-01T00:00:00Z' },
    ];
    const up = gradeAmis({ copies, sources: { ok: true, value: [{ id: 'ami-a', name: 'worker' }, { id: 'ami-b', name: 'ctl' }, { id: 'ami-z', name: 'new' }] } }, cfg, 'us-west-2', NOW);
    expect(up.items.map((i) => [i.name, i.colour])).toEqual([
      ['ctl (ami-b)', 'amber'],
      ['new (ami-z)', 'red'],
      ['worker (ami-a)', 'green'],
    ]);
    expect(up.sources.map((s) => s.copyId).sort()).toEqual(['ami-c2', 'ami-c4']);
    const down = gradeAmis({ copies, sources: { ok: false, reason: 'down' } }, cfg, 'us-west-2', NOW);
    expect(down.items.map((i) => i.name)).toEqual(['ctl (ami-b)', 'worker (ami-a)']);
    expect(down.sources).toHaveLength(2);
    expect(gradeAmis({ copies: [], sources: { ok: false, reason: 'down' } }, cfg, 'us-west-2', NOW).items[0]?.colour).toBe('red');
  });

  it('DNS: green when the record exists, amber when the failover would create it or none is configured, red without a zone', () => {
    const set: ResourceRecordSet = { Name: 'api.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '10.0.0.1' }] };
    expect(gradeRecords([{ record: rec(), current: set }], 'Z1', true)[0]).toMatchObject({ colour: 'green', facts: ['now A 10.0.0.1', "switches to the new instances' private-ip"] });
    expect(gradeRecords([{ record: rec() }], 'Z1', true)[0]?.colour).toBe('amber');
    expect(gradeRecords([], undefined, true)[0]?.colour).toBe('red');
    expect(gradeRecords([], 'Z1', false)[0]?.colour).toBe('amber');
  });

  it('an item line cannot be forged: no mention, link or line break, backticks neutralised', () => {
    const line = itemLine({ kind: 's3', name: 'x`<!channel>\n<https://evil|click>', colour: 'red', reasons: ['a\u2028b <@U1>'], facts: [] });
    expect(line).not.toMatch(/<!channel>|<@U1>|<https:|\n|\u2028/);
    expect((line.match(/`/g) ?? []).length % 2).toBe(0);
  });
});

describe('the record sets a failover writes and a failback takes back', () => {
  const failover: ResourceRecordSet = { Name: 'api.example.com.', Type: 'A', SetIdentifier: 'primary', Failover: 'PRIMARY', HealthCheckId: 'hc-1', AliasTarget: { HostedZoneId: 'Z35', DNSName: 'lb.us-east-1.elb.amazonaws.com', EvaluateTargetHealth: true } };

  it('keeps the routing, drops the old alias and health check, puts the instances values', () => {
    const instances = [inst('i-2', '10.0.0.2'), inst('i-1', '10.0.0.1')];
    const s = switchedSet({ record: rec({ setIdentifier: 'primary' }), current: failover }, valuesFor(rec(), instances));
    expect(s).toEqual({ Name: 'api.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }, { Value: '10.0.0.2' }], SetIdentifier: 'primary', Failover: 'PRIMARY' });
    expect(valuesFor(rec({ type: 'CNAME', target: 'public-dns' }), instances)).toEqual(['ec2-i-1.compute.amazonaws.com']);
    expect(valuesFor(rec({ target: 'public-ip' }), instances)).toEqual(['54.0.0.1', '54.0.0.2']);
  });

  it('refuses to write a record with no value, or to create a routed set it cannot find', () => {
    expect(() => switchedSet({ record: rec() }, [])).toThrow(/No launched instance has a private-ip/);
    expect(() => switchedSet({ record: rec({ setIdentifier: 'primary' }) }, ['10.0.0.1'])).toThrow(/is not in the zone/);
  });

  it('an alias goes back without the TTL some endpoints list for it; sameSet ignores it', () => {
    const listed: ResourceRecordSet = { ...failover, TTL: 0 };
    expect(writable(listed)).toEqual(failover);
    expect(sameSet(listed, failover)).toBe(true);
    expect(sameSet(listed, { ...failover, AliasTarget: { ...failover.AliasTarget!, DNSName: 'other.' } })).toBe(false);
  });

  it('splits changes into batches within Route53 limits (an UPSERT counting twice)', () => {
    const big = Array.from({ length: 300 }, (_, i) => ({ Action: 'UPSERT' as const, ResourceRecordSet: { Name: `h${i}.example.com`, Type: 'A' as const, TTL: 60, ResourceRecords: Array.from({ length: 3 }, (_, j) => ({ Value: `10.0.${i % 250}.${j}` })) } }));
    const b = batches(big);
    expect(b.length).toBeGreaterThan(1);
    for (const x of b) expect(withinLimits(batchWeight(x))).toBe(true);
    expect(b.flat()).toHaveLength(300);
  });
});

describe('reach: calls to a region that may be down', () => {
  afterEach(() => jest.useRealTimers());

  it('a call that never answers is "unreachable" at the deadline, and its abort signal fires', async () => {
    jest.useFakeTimers();
    let aborted = false;
    const p = reach(({ abortSignal }) => {
      abortSignal.addEventListener('abort', () => (aborted = true));
      return new Promise<never>(() => {});
    }, 3000);
    await jest.advanceTimersByTimeAsync(3000);
    expect(await p).toEqual({ ok: false, reason: 'TimeoutError: no answer within 3 s' });
    expect(aborted).toBe(true);
  });

  it('a refused connection is "unreachable" with its code; an answer is passed on', async () => {
    expect(await reach(async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })))).toEqual({ ok: false, reason: 'ECONNREFUSED: connect ECONNREFUSED' });
    expect(await reach(async () => 42)).toEqual({ ok: true, value: 42 });
  });
});

describe('the failover: config section', () => {
  const base = { regions: { primary: 'us-east-1', backup: 'us-west-2' }, s3: { buckets: [] }, dynamodb: { tables: [] }, slack: { channels: { ops: 'C0OPS1', alerts: 'C0ALERT1' }, roles: {} } };

  it('is optional, and fills its defaults', () => {
    expect(parseConfig(base, 't').failover).toBeUndefined();
    const c = parseConfig({ ...base, failover: { instances: { type: 't3.micro' }, dns: { records: [{ name: 'api.example.com', type: 'A' }] } } }, 't');
    expect(c.failover).toEqual({ instances: { type: 't3.micro', count: 1, tags: {} }, dns: { records: [{ name: 'api.example.com', type: 'A', target: 'private-ip', ttl: 60 }] } });
  });

  it.each([
    [{ instances: { type: 'big one' } }, 'failover.instances.type'],
    [{ instances: { type: 't3.micro', count: 0 } }, 'failover.instances.count'],
    [{ instances: { type: 't3.micro', subnetId: 'subnet-x' } }, 'failover.instances.subnetId'],
    [{ instances: { type: 't3.micro', tags: { 'aws:x': 'y' } } }, 'failover.instances.tags'],
    [{ instances: { type: 't3.micro' }, dns: { records: [{ name: 'a b', type: 'A' }] } }, 'failover.dns.records.0.name'],
    [{ instances: { type: 't3.micro' }, dns: { records: [{ name: 'a.example.com', type: 'MX' }] } }, 'failover.dns.records.0.type'],
    [{ instances: { type: 't3.micro' }, dns: { records: [] } }, 'failover.dns.records'],
    [{ instances: { type: 't3.micro' }, extra: 1 }, 'failover'],
  ])('refuses %j naming %s', (failover, path) => {
    expect(() => parseConfig({ ...base, failover }, 't')).toThrow(path);
  });
});
