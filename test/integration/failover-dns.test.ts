/**
 * The DNS half of /dr failover and its failback (src/runbooks/failover/dns.ts) on its own: the
 * record set written for each configured record, when two record sets say the same thing, the
 * batches within Route53's limits, and the batches written on moto through the durable local
 * runner, each waited for until INSYNC, then read back. The whole failover flow is
 * test/integration/failover.test.ts; these need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * moto answers every change INSYNC at once: SDK middleware makes it PENDING where a test needs the
 * wait, and says so.
 */
import type { Change, ChangeResourceRecordSetsCommandOutput, GetChangeCommandOutput, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import type { LaunchedInstance } from '../../src/aws/ec2-instances';
import { batchWeight, withinLimits } from '../../src/aws/route53';
import type { FailoverRecord } from '../../src/config/schema';
import { applyDns, batches, type DnsResult, sameSet, switchedSet, valuesFor, verifyRecords } from '../../src/runbooks/failover/dns';
import { ACCESS_DENIED, countTries, fail, rewrite, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const rec = (r: Partial<FailoverRecord> = {}): FailoverRecord => ({ name: 'api.example.com', type: 'A', target: 'private-ip', ttl: 60, ...r });
const inst = (id: string, n: number, over: Partial<LaunchedInstance> = {}): LaunchedInstance => ({
  id,
  state: 'running',
  type: 't3.micro',
  imageId: 'ami-1',
  privateIp: `10.0.0.${n}`,
  publicIp: `54.0.0.${n}`,
  ipv6: `2600::${n}`,
  publicDns: `ec2-${n}.compute.amazonaws.com`,
  tags: {},
  ...over,
});

describe('the values, record sets and batches a failover writes', () => {
  it('each target picks its own field of every instance, once each, sorted; a CNAME gets one', () => {
    const instances = [inst('i-2', 2), inst('i-10', 10), inst('i-2b', 2), inst('i-x', 3, { privateIp: undefined, publicIp: '', ipv6: undefined, publicDns: undefined })];
    expect(valuesFor(rec(), instances)).toEqual(['10.0.0.10', '10.0.0.2']);
    expect(valuesFor(rec({ target: 'public-ip' }), instances)).toEqual(['54.0.0.10', '54.0.0.2']);
    expect(valuesFor(rec({ target: 'ipv6', type: 'AAAA' }), instances)).toEqual(['2600::10', '2600::2']);
    expect(valuesFor(rec({ target: 'public-dns', type: 'CNAME' }), instances)).toEqual(['ec2-10.compute.amazonaws.com']);
    expect(valuesFor(rec({ target: 'public-dns', type: 'A' }), instances)).toEqual(['ec2-10.compute.amazonaws.com', 'ec2-2.compute.amazonaws.com']);
    expect(valuesFor(rec({ target: 'private-ip', type: 'CNAME' }), [])).toEqual([]);
  });

  it('a new set takes the configured name, type and TTL; a replaced one keeps its name and all its routing, a zero weight and a false multivalue included', () => {
    expect(switchedSet({ record: rec({ ttl: 30 }) }, ['10.0.0.1'])).toEqual({ Name: 'api.example.com', Type: 'A', TTL: 30, ResourceRecords: [{ Value: '10.0.0.1' }] });
    const routed: ResourceRecordSet = {
      Name: 'API.example.com.',
      Type: 'A',
      TTL: 300,
      SetIdentifier: 'east',
      Failover: 'PRIMARY',
      Weight: 0,
      Region: 'us-east-1',
      GeoLocation: { CountryCode: 'US' },
      MultiValueAnswer: false,
      HealthCheckId: 'hc-1',
      ResourceRecords: [{ Value: '192.0.2.1' }],
    };
    expect(switchedSet({ record: rec({ setIdentifier: 'east' }), current: routed }, ['10.0.0.1', '10.0.0.2'])).toEqual({
      Name: 'API.example.com.',
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '10.0.0.1' }, { Value: '10.0.0.2' }],
      SetIdentifier: 'east',
      Failover: 'PRIMARY',
      Weight: 0,
      Region: 'us-east-1',
      GeoLocation: { CountryCode: 'US' },
      MultiValueAnswer: false,
    });
    expect(switchedSet({ record: rec(), current: { Name: 'api.example.com.', Type: 'A', AliasTarget: { HostedZoneId: 'Z35', DNSName: 'lb.', EvaluateTargetHealth: true } } }, ['10.0.0.1'])).toEqual({
      Name: 'api.example.com.',
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '10.0.0.1' }],
    });
  });

  it('refuses a record with no value, or a routed set it cannot find, with its own code', () => {
    expect(() => switchedSet({ record: rec({ target: 'public-ip' }) }, [])).toThrow(
      expect.objectContaining({
        code: 'no_target_value',
        message: 'No launched instance has a public-ip for `api.example.com`.',
        hint: "Check the subnet (public IPs need a public subnet) or set the record's `target` in `failover.dns`.",
      }),
    );
    expect(() => switchedSet({ record: rec({ setIdentifier: 'east' }) }, ['10.0.0.1'])).toThrow(
      expect.objectContaining({
        code: 'record_missing',
        message: '`api.example.com` A with set identifier `east` is not in the zone.',
        hint: 'A routed record set is switched, not created: check `failover.dns.records`.',
      }),
    );
  });

  it('two sets are the same whatever the case, final dot and order of values; any other difference counts', () => {
    const a: ResourceRecordSet = { Name: 'api.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }, { Value: '10.0.0.2' }], SetIdentifier: 'east', Failover: 'PRIMARY', Weight: 5, Region: 'us-east-1', GeoLocation: { CountryCode: 'US' } };
    expect(sameSet(undefined, undefined)).toBe(true);
    expect(sameSet(a, undefined)).toBe(false);
    expect(sameSet(undefined, a)).toBe(false);
    expect(sameSet(a, { ...a, Name: 'API.Example.com', ResourceRecords: [{ Value: '10.0.0.2' }, { Value: '10.0.0.1' }] })).toBe(true);
    const differ: Array<[string, ResourceRecordSet]> = [
      ['name', { ...a, Name: 'web.example.com.' }],
      ['type', { ...a, Type: 'AAAA' }],
      ['ttl', { ...a, TTL: 300 }],
      ['a value', { ...a, ResourceRecords: [{ Value: '10.0.0.1' }] }],
      ['set identifier', { ...a, SetIdentifier: 'west' }],
      ['failover', { ...a, Failover: 'SECONDARY' }],
      ['weight', { ...a, Weight: 6 }],
      ['region', { ...a, Region: 'us-west-2' }],
      ['geolocation', { ...a, GeoLocation: { CountryCode: 'CA' } }],
      ['an alias', { ...a, ResourceRecords: undefined, AliasTarget: { HostedZoneId: 'Z35', DNSName: 'lb.', EvaluateTargetHealth: false } }],
    ];
    for (const [what, b] of differ) expect({ what, same: sameSet(a, b) }).toEqual({ what, same: false });
    // an alias: its TTL is not part of it, its target's name is, whatever the case and final dot
    const alias: ResourceRecordSet = { Name: 'api.example.com.', Type: 'A', AliasTarget: { HostedZoneId: 'Z35', DNSName: 'lb.example.com.', EvaluateTargetHealth: true } };
    expect(sameSet(alias, { ...alias, TTL: 0, AliasTarget: { HostedZoneId: 'Z35', DNSName: 'LB.example.com', EvaluateTargetHealth: true } })).toBe(true);
    expect(sameSet(alias, { ...alias, AliasTarget: { HostedZoneId: 'Z35', DNSName: 'lb2.example.com.', EvaluateTargetHealth: true } })).toBe(false);
  });

  const upserts = (count: number, values = 1): Change[] =>
    Array.from({ length: count }, (_, i) => ({ Action: 'UPSERT' as const, ResourceRecordSet: { Name: `h${i}.example.com`, Type: 'A' as const, TTL: 60, ResourceRecords: Array.from({ length: values }, (_, j) => ({ Value: `10.${j}.${Math.floor(i / 250)}.${i % 250}` })) } }));

  it('batches fill up to the limit exactly (an UPSERT counting twice), keep the order, and an empty list is no batch', () => {
    expect(batches([])).toEqual([]);
    expect(batches(upserts(500)).map((b) => b.length)).toEqual([500]);
    const split = batches(upserts(1001));
    expect(split.map((b) => b.length)).toEqual([500, 500, 1]);
    expect(split.flat()).toEqual(upserts(1001));
    // creates count once: 1,000 in one batch
    const creates = upserts(1001).map((c) => ({ ...c, Action: 'CREATE' as const }));
    expect(batches(creates).map((b) => b.length)).toEqual([1000, 1]);
    // values count too: 3 values an UPSERT is 6 of the 1,000
    const wide = batches(upserts(200, 3));
    expect(wide.map((b) => b.length)).toEqual([166, 34]);
    for (const b of wide) expect(withinLimits(batchWeight(b))).toBe(true);
  });
});

describe('writing and checking the records on moto', () => {
  let zone = '';
  let z = 0;
  const r53 = () => rig.moto().clients.route53();

  beforeEach(async () => {
    const r = await r53().send(new CreateHostedZoneCommand({ Name: `zone${++z}.example.com`, CallerReference: `ref-${z}-${Date.now()}` }));
    zone = (r.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  });

  const names = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `h${from + i}.zone${z}.example.com`);
  const upsert = (name: string, value = '10.0.0.1'): Change => ({ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: [{ Value: value }] } });
  async function aRecords(): Promise<string[]> {
    const out: string[] = [];
    let start: string | undefined;
    for (;;) {
      const r = await r53().send(new ListResourceRecordSetsCommand({ HostedZoneId: zone, ...(start ? { StartRecordName: start } : {}) }));
      out.push(...(r.ResourceRecordSets ?? []).filter((s) => s.Type === 'A').map((s) => (s.Name ?? '').replace(/\.$/, '')));
      if (!r.IsTruncated) return out.sort();
      start = r.NextRecordName;
    }
  }
  const apply = (changes: Change[], seen?: Array<[number, number]>) =>
    rig.durable<DnsResult>((ctx, d) => applyDns(ctx, d, 'dns', zone, changes, 'failover to us-west-2', async (done, total) => void seen?.push([done, total])));

  it('writes 501 UPSERTs in two batches, each numbered in its comment, and says so', async () => {
    // prepare
    const sent: Array<[number, string]> = [];
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (out, input) => {
      const batch = input.ChangeBatch as { Changes: unknown[]; Comment?: string };
      sent.push([batch.Changes.length, batch.Comment ?? '']);
      return out;
    });
    const seen: Array<[number, number]> = [];
    const checks = countTries(r53(), 'GetChangeCommand');

    // act
    const r = await apply(names(501).map((n) => upsert(n)), seen);

    // assess
    expect(r).toEqual({ applied: 501, batches: 2, pending: [] });
    // a change answered INSYNC is not waited for
    expect(checks.tries()).toBe(0);
    expect(sent).toEqual([
      [500, 'failover to us-west-2 (1/2)'],
      [1, 'failover to us-west-2 (2/2)'],
    ]);
    expect(seen).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(await aRecords()).toEqual(names(501).sort());
  });

  it('a change Route53 answers PENDING is waited for until INSYNC (moto answers INSYNC: SDK middleware holds it PENDING for two checks)', async () => {
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (out) => ({ ...out, ChangeInfo: { ...out.ChangeInfo!, Status: 'PENDING' } }));
    let checks = 0;
    rewrite<GetChangeCommandOutput>(r53(), 'GetChangeCommand', (out) => (++checks <= 2 ? { ...out, ChangeInfo: { ...out.ChangeInfo!, Status: 'PENDING' } } : out));

    const r = await apply([upsert(names(1)[0] ?? '')]);

    expect(r).toEqual({ applied: 1, batches: 1, pending: [] });
    expect(checks).toBe(3);
  });

  it('a change still PENDING after 61 checks (the last at 10 min), or whose status cannot be read, is reported and the next batch still written', async () => {
    // prepare: every change PENDING; GetChange always PENDING for the first batch, refused for the second
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (out) => ({ ...out, ChangeInfo: { ...out.ChangeInfo!, Status: 'PENDING' } }));
    // moto gives every change the same ID: each batch gets its own here, so the checks can be told apart
    let changes = 0;
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (out) => ({ ...out, ChangeInfo: { ...out.ChangeInfo!, Id: `/change/CBATCH${++changes}` } }));
    const asked: string[] = [];
    rewrite<GetChangeCommandOutput>(r53(), 'GetChangeCommand', (out, input) => {
      asked.push(String(input.Id));
      return { ...out, ChangeInfo: { ...out.ChangeInfo!, Status: 'PENDING' } };
    });
    fail(r53(), 'GetChangeCommand', ACCESS_DENIED, { when: (input) => input.Id === 'CBATCH2' });
    const tries = countTries(r53(), 'GetChangeCommand');

    // act
    const r = await apply(names(501).map((n) => upsert(n)));

    // assess
    expect(r.applied).toBe(501);
    expect(r.pending).toEqual(['batch 1 not INSYNC after 10 min', expect.stringMatching(/^batch 2: GetChange on `.+` failed: User is not authorized/)]);
    expect(tries.tries()).toBe(61);
    tries.undo();
    expect(asked).toEqual(Array.from({ length: 61 }, () => 'CBATCH1'));
    expect(await aRecords()).toHaveLength(501);
  });

  it('a throttled status check asks again at the next check', async () => {
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (out) => ({ ...out, ChangeInfo: { ...out.ChangeInfo!, Status: 'PENDING' } }));
    fail(r53(), 'GetChangeCommand', { name: 'Throttling', message: 'Rate exceeded', status: 400 }, { times: 2 });
    const tries = countTries(r53(), 'GetChangeCommand');

    const r = await apply([upsert(names(1)[0] ?? '')]);

    expect(r.pending).toEqual([]);
    expect(tries.tries()).toBe(1);
    tries.undo();
  });

  it('a batch Route53 refuses stops the rest: the result says which and how far it got', async () => {
    // prepare: the second batch denied
    fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED, { when: (input) => String((input.ChangeBatch as { Comment?: string }).Comment).endsWith('(2/3)') });
    const seen: Array<[number, number]> = [];

    // act
    const r = await apply(names(1001).map((n) => upsert(n)), seen);

    // assess
    expect(r).toMatchObject({ applied: 500, batches: 3, pending: [], failure: { batch: 2, code: 'aws_access_denied', transient: false } });
    expect(r.failure?.message).toContain(`ChangeResourceRecordSets on \`${zone}\` failed`);
    expect(seen).toEqual([[1, 3]]);
    expect(await aRecords()).toEqual(names(500).sort());
  });

  it('reads the records back: what holds what was written, what does not, and a deleted one that is gone', async () => {
    // prepare
    const [a = '', b = '', c = ''] = names(3);
    await apply([upsert(a, '10.0.0.1'), upsert(b, '10.0.0.2')]);
    const want = (name: string, value: string): ResourceRecordSet => ({ Name: name, Type: 'A', TTL: 60, ResourceRecords: [{ Value: value }] });

    // act
    const wrong = await verifyRecords(rig.deps(), zone, [
      { record: rec({ name: a }), want: want(a, '10.0.0.1') },
      { record: rec({ name: b }), want: want(b, '10.0.0.9') },
      { record: rec({ name: c }) },
      { record: rec({ name: a, type: 'AAAA' }) },
      { record: rec({ name: c }), want: want(c, '10.0.0.3') },
      { record: rec({ name: b }) },
    ]);

    // assess
    expect(wrong).toEqual([`${b} A`, `${c} A`, `${b} A`]);
  });
});
