import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { batchWeight, CHANGE_BATCH_LIMITS, changeWeight, withinLimits } from '../../src/aws/route53';
import { batchHolds, byKey, conflicts, differences, differingFields, diffZone, isZoneOwned, normName, planBatches, recordKey, recordLabel, routingPolicy } from '../../src/runbooks/restore-route53/diff';

/*
 * The export against the live zone, and the change batches: identity by name + type + set
 * identifier, record sets kept whole, the zone's own SOA and apex NS never touched, and every
 * batch within AWS's limits (1,000 records / ResourceRecord elements and 32,000 value characters,
 * an UPSERT counting twice).
 */

const ZONE = 'spawn.example.com.';
const a = (name: string, value: string, ttl = 300): ResourceRecordSet => ({ Name: `${name}.${ZONE}`, Type: 'A', TTL: ttl, ResourceRecords: [{ Value: value }] });
const soa: ResourceRecordSet = { Name: ZONE, Type: 'SOA', TTL: 900, ResourceRecords: [{ Value: 'ns-1.awsdns. hostmaster. 1 7200 900 1209600 86400' }] };
const apexNs: ResourceRecordSet = { Name: ZONE, Type: 'NS', TTL: 172800, ResourceRecords: [{ Value: 'ns-1.awsdns.com.' }, { Value: 'ns-2.awsdns.net.' }] };
const elb = { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: 'spawn-lb-123.us-east-1.elb.amazonaws.com.', EvaluateTargetHealth: true };

/** A deterministic PRNG (mulberry32): the same cases on every run, many of them. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('diffZone', () => {
  it('tells record sets apart by name, type and set identifier, names case-insensitively', () => {
    // prepare
    const blue: ResourceRecordSet = { Name: `canary.${ZONE}`, Type: 'CNAME', SetIdentifier: 'blue', Weight: 90, TTL: 60, ResourceRecords: [{ Value: 'blue.x.' }] };
    const green: ResourceRecordSet = { ...blue, SetIdentifier: 'green', Weight: 10, ResourceRecords: [{ Value: 'green.x.' }] };

    // act
    const d = diffZone([blue, green, a('WWW', '10.0.0.1')], [{ ...blue, Name: `Canary.${ZONE}` }, a('www', '10.0.0.1')], ZONE, { deleteExtra: false });

    // assess
    expect(recordKey(blue)).not.toBe(recordKey(green));
    expect(d.create).toEqual([green]);
    expect(d.change).toEqual([]);
    expect(d.unchanged).toBe(2);
  });

  it('never creates, changes or deletes the SOA or the apex NS, but restores a delegation NS below the apex', () => {
    // prepare
    const delegation: ResourceRecordSet = { Name: `sub.${ZONE}`, Type: 'NS', TTL: 300, ResourceRecords: [{ Value: 'ns.other.example.' }] };
    const exported = [soa, apexNs, delegation];
    const live = [{ ...soa, ResourceRecords: [{ Value: 'changed' }] }, { ...apexNs, TTL: 60 }];

    // act
    const d = diffZone(exported, live, ZONE, { deleteExtra: true });
    const changes = planBatches(d).flat();

    // assess
    expect(changes).toEqual([{ Action: 'UPSERT', ResourceRecordSet: delegation }]);
    expect(d.untouched.zoneOwned).toBe(2);
    expect(differences(d, true)).toBe(1);
  });

  it('writes alias, weighted, failover, latency, geo and multivalue record sets whole, and sees a change in any of their fields', () => {
    // prepare
    const exported: ResourceRecordSet[] = [
      { Name: `www.${ZONE}`, Type: 'A', AliasTarget: elb },
      { Name: `api.${ZONE}`, Type: 'A', SetIdentifier: 'primary', Failover: 'PRIMARY', AliasTarget: elb, HealthCheckId: 'hc-1' },
      { Name: `canary.${ZONE}`, Type: 'CNAME', SetIdentifier: 'blue', Weight: 90, TTL: 60, ResourceRecords: [{ Value: 'blue.x.' }] },
      { Name: `edge.${ZONE}`, Type: 'A', SetIdentifier: 'use1', Region: 'us-east-1', TTL: 60, ResourceRecords: [{ Value: '10.8.0.1' }] },
      { Name: `geo.${ZONE}`, Type: 'A', SetIdentifier: 'eu', GeoLocation: { ContinentCode: 'EU' }, TTL: 60, ResourceRecords: [{ Value: '10.7.0.1' }] },
      { Name: `mv.${ZONE}`, Type: 'A', SetIdentifier: 'mv-1', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '10.6.0.1' }] },
    ];
    const live: ResourceRecordSet[] = [
      { Name: `www.${ZONE}`, Type: 'A', AliasTarget: { ...elb, EvaluateTargetHealth: false } },
      { Name: `api.${ZONE}`, Type: 'A', SetIdentifier: 'primary', Failover: 'PRIMARY', AliasTarget: elb },
      { Name: `canary.${ZONE}`, Type: 'CNAME', SetIdentifier: 'blue', Weight: 50, TTL: 60, ResourceRecords: [{ Value: 'blue.x.' }] },
      { Name: `edge.${ZONE}`, Type: 'A', SetIdentifier: 'use1', Region: 'us-west-2', TTL: 60, ResourceRecords: [{ Value: '10.8.0.1' }] },
      { Name: `geo.${ZONE}`, Type: 'A', SetIdentifier: 'eu', GeoLocation: { CountryCode: 'DE' }, TTL: 60, ResourceRecords: [{ Value: '10.7.0.1' }] },
      { Name: `mv.${ZONE}`, Type: 'A', SetIdentifier: 'mv-1', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '10.6.0.9' }] },
    ];

    // act
    const d = diffZone(exported, live, ZONE, { deleteExtra: false });
    const changes = planBatches(d).flat();

    // assess: each changed, for the field that differs, and sent as the export has it, whole
    expect(Object.fromEntries(d.change.map((c) => [c.to.Name, c.fields]))).toEqual({
      [`www.${ZONE}`]: ['alias target'],
      [`api.${ZONE}`]: ['health check'],
      [`canary.${ZONE}`]: ['weight'],
      [`edge.${ZONE}`]: ['region'],
      [`geo.${ZONE}`]: ['geolocation'],
      [`mv.${ZONE}`]: ['values'],
    });
    expect(changes).toHaveLength(6);
    for (const c of changes) expect(exported).toContainEqual(c.ResourceRecordSet);
    expect(changes.every((c) => c.Action === 'UPSERT')).toBe(true);
  });

  it('treats values as a set and alias names as case-insensitive and fully qualified', () => {
    // prepare
    const exported: ResourceRecordSet[] = [{ Name: `rr.${ZONE}`, Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }, { Value: '10.0.0.2' }] }, { Name: `www.${ZONE}`, Type: 'A', AliasTarget: elb }];
    const live: ResourceRecordSet[] = [
      { Name: `rr.${ZONE}`, Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.2' }, { Value: '10.0.0.1' }] },
      { Name: `www.${ZONE}`, Type: 'A', AliasTarget: { ...elb, DNSName: 'SPAWN-LB-123.us-east-1.elb.amazonaws.com' } },
    ];

    // act / assess
    expect(differences(diffZone(exported, live, ZONE, { deleteExtra: true }), true)).toBe(0);
  });

  it('keeps live record sets the export lacks unless --delete-extra, and deletes them exactly as they are live', () => {
    // prepare
    const extra = { ...a('extra', '10.9.9.9', 42), HealthCheckId: 'hc-9' };

    // act
    const kept = diffZone([a('x', '10.0.0.1')], [a('x', '10.0.0.1'), extra], ZONE, { deleteExtra: false });
    const gone = diffZone([a('x', '10.0.0.1')], [a('x', '10.0.0.1'), extra], ZONE, { deleteExtra: true });

    // assess
    expect(kept.extra).toEqual([extra]);
    expect(planBatches(kept)).toEqual([]);
    expect(differences(kept, false)).toBe(0);
    expect(planBatches(gone)).toEqual([[{ Action: 'DELETE', ResourceRecordSet: extra }]]);
  });

  it('holds back a record set a kept live one stands in the way of (CNAME beside other types, simple beside weighted); --delete-extra swaps them in one batch, deletion first', () => {
    // prepare
    const wantA = a('svc', '10.0.0.1');
    const liveCname: ResourceRecordSet = { Name: `svc.${ZONE}`, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'elsewhere.example.' }] };
    const wantSimple = a('w', '10.0.0.2');
    const liveWeighted: ResourceRecordSet = { ...a('w', '10.0.0.3'), SetIdentifier: 'one', Weight: 1 };

    // act
    const held = diffZone([wantA, wantSimple], [liveCname, liveWeighted], ZONE, { deleteExtra: false });
    const swapped = diffZone([wantA, wantSimple], [liveCname, liveWeighted], ZONE, { deleteExtra: true });
    const batches = planBatches(swapped);

    // assess
    expect(held.blocked).toEqual([
      { record: wantA, by: liveCname },
      { record: wantSimple, by: liveWeighted },
    ]);
    expect(held.create).toEqual([]);
    expect(differences(held, false)).toBe(2);
    expect(batches).toHaveLength(1);
    expect((batches[0] ?? []).map((c) => `${c.Action} ${c.ResourceRecordSet?.Name} ${c.ResourceRecordSet?.Type}`)).toEqual([
      `DELETE svc.${ZONE} CNAME`,
      `UPSERT svc.${ZONE} A`,
      `DELETE w.${ZONE} A`,
      `UPSERT w.${ZONE} A`,
    ]);
  });
});

describe('planBatches', () => {
  it('puts 10,000 UPSERTs in batches of 500 (an UPSERT counts twice against 1,000)', () => {
    // prepare
    const exported = Array.from({ length: 10_000 }, (_, i) => a(`h-${String(i).padStart(5, '0')}`, `10.${Math.floor(i / 250)}.0.${i % 250}`));

    // act
    const batches = planBatches(diffZone(exported, [], ZONE, { deleteExtra: false }));

    // assess
    expect(batches).toHaveLength(20);
    for (const b of batches) {
      expect(b).toHaveLength(500);
      expect(batchWeight(b)).toEqual({ records: 1000, resourceRecords: 1000, valueChars: expect.any(Number) });
    }
  });

  it('starts a new batch before 32,000 value characters (counted twice for an UPSERT), whatever the record count', () => {
    // prepare: 100 TXT record sets of one 255-character value (51,000 characters as UPSERTs)
    const txt = (i: number): ResourceRecordSet => ({ Name: `t-${String(i).padStart(3, '0')}.${ZONE}`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${'x'.repeat(253)}"` }] });
    const exported = Array.from({ length: 100 }, (_, i) => txt(i));

    // act
    const batches = planBatches(diffZone(exported, [], ZONE, { deleteExtra: false }));

    // assess
    expect(batches.map((b) => b.length)).toEqual([62, 38]);
    for (const b of batches) expect(batchWeight(b).valueChars).toBeLessThanOrEqual(CHANGE_BATCH_LIMITS.valueChars);
  });

  it('keeps every batch of random diffs within the limits, each change exactly once, a name never split when it fits', () => {
    for (let seed = 1; seed <= 25; seed++) {
      // prepare: a zone of record sets with 1-8 values of up to 400 characters, some weighted
      const rand = rng(seed);
      const size = 50 + Math.floor(rand() * 1200);
      const exported: ResourceRecordSet[] = [];
      const live: ResourceRecordSet[] = [];
      for (let i = 0; i < size; i++) {
        const name = `n-${Math.floor(rand() * size * 0.7)}.${ZONE}`;
        const values = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, j) => ({ Value: `"${String(i)}-${j}-${'v'.repeat(Math.floor(rand() * 400))}"` }));
        const r: ResourceRecordSet = { Name: name, Type: 'TXT', SetIdentifier: `s-${i}`, Weight: 1, TTL: 60, ResourceRecords: values };
        const roll = rand();
        if (roll < 0.5) exported.push(r);
        else if (roll < 0.7) live.push(r);
        else if (roll < 0.85) {
          exported.push(r);
          live.push({ ...r, TTL: 120 });
        } else {
          exported.push(r);
          live.push(r);
        }
      }
      const d = diffZone(exported, live, ZONE, { deleteExtra: true });

      // act
      const batches = planBatches(d);

      // assess
      const sent = batches.flat();
      expect(sent).toHaveLength(d.create.length + d.change.length + d.remove.length);
      expect(new Set(sent.map((c) => `${c.Action} ${recordKey(c.ResourceRecordSet as ResourceRecordSet)}`)).size).toBe(sent.length);
      expect(batches.filter((b) => !withinLimits(batchWeight(b)) || b.filter((c) => c.Action === 'UPSERT').length > 500)).toEqual([]);
      const byName = new Map<string, { batches: Set<number>; changes: Change[] }>();
      batches.forEach((b, i) =>
        b.forEach((c) => {
          const n = normName(c.ResourceRecordSet?.Name ?? '');
          const entry = byName.get(n) ?? { batches: new Set<number>(), changes: [] };
          entry.batches.add(i);
          entry.changes.push(c);
          byName.set(n, entry);
        }),
      );
      const split = [...byName].filter(([, e]) => e.batches.size > 1 && withinLimits(batchWeight(e.changes))).map(([n]) => n);
      expect(split).toEqual([]);
      // applying the batches to the live zone gives the export
      const zone = byKey(live);
      for (const c of sent) {
        if (c.Action === 'DELETE') zone.delete(recordKey(c.ResourceRecordSet as ResourceRecordSet));
        else zone.set(recordKey(c.ResourceRecordSet as ResourceRecordSet), c.ResourceRecordSet as ResourceRecordSet);
      }
      expect(differences(diffZone(exported, [...zone.values()], ZONE, { deleteExtra: true }), true)).toBe(0);
    }
  });

  it('sends a change bigger than a batch alone, for AWS to judge', () => {
    // prepare: one record set of 400 values of 100 characters (80,000 as an UPSERT)
    const huge: ResourceRecordSet = { Name: `big.${ZONE}`, Type: 'TXT', TTL: 60, ResourceRecords: Array.from({ length: 400 }, (_, i) => ({ Value: `"${i}${'x'.repeat(96)}"` })) };
    const small = a('small', '10.0.0.1');

    // act
    const batches = planBatches(diffZone([huge, small], [], ZONE, { deleteExtra: false }));

    // assess
    expect(batches.map((b) => b.map((c) => c.ResourceRecordSet?.Name))).toEqual([[`big.${ZONE}`], [`small.${ZONE}`]]);
    expect(withinLimits(changeWeight(batches[0]?.[0] as Change))).toBe(false);
  });
});

describe('batchHolds', () => {
  it('says a batch is in the zone when every UPSERT is there as written and every deletion gone', () => {
    // prepare
    const batch: Change[] = [
      { Action: 'DELETE', ResourceRecordSet: a('old', '10.0.0.9') },
      { Action: 'UPSERT', ResourceRecordSet: a('new', '10.0.0.1') },
    ];

    // act / assess
    expect(batchHolds(batch, byKey([a('new', '10.0.0.1')]))).toBe(true);
    expect(batchHolds(batch, byKey([a('new', '10.0.0.1'), a('old', '10.0.0.9')]))).toBe(false);
    expect(batchHolds(batch, byKey([a('new', '10.0.0.2')]))).toBe(false);
  });
});

describe('record identity, labels and ownership', () => {
  it('names are lower-cased and fully qualified; a key is name|type|set identifier, each part possibly empty', () => {
    expect(normName('API.Spawn.Example.COM')).toBe('api.spawn.example.com.');
    expect(normName('api.example.com.')).toBe('api.example.com.');
    expect(recordKey({ Name: 'WWW.example.com', Type: 'A', SetIdentifier: 'blue' })).toBe('www.example.com.|A|blue');
    expect(recordKey({ Name: 'www.example.com.', Type: 'A' })).toBe('www.example.com.|A|');
    expect(recordKey({} as ResourceRecordSet)).toBe('.||');
  });

  it('labels a record set by name, type and set identifier as given', () => {
    expect(recordLabel({ Name: 'api.example.com.', Type: 'A', SetIdentifier: 'primary' })).toBe('api.example.com. A primary');
    expect(recordLabel({ Name: 'api.example.com.', Type: 'A' })).toBe('api.example.com. A');
    expect(recordLabel({ Name: 'api.example.com.', Type: 'A', SetIdentifier: '' })).toBe('api.example.com. A ');
    expect(recordLabel({} as ResourceRecordSet)).toBe(' ');
  });

  it('counts as the zone\'s own only its SOA and the NS at the apex', () => {
    expect(isZoneOwned(soa, ZONE)).toBe(true);
    expect(isZoneOwned(apexNs, 'SPAWN.example.com')).toBe(true);
    expect(isZoneOwned({ ...apexNs, Name: `sub.${ZONE}` }, ZONE)).toBe(false);
    expect(isZoneOwned({ Name: ZONE, Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }] }, ZONE)).toBe(false);
    expect(isZoneOwned({ Type: 'NS' } as ResourceRecordSet, ZONE)).toBe(false);
  });

  it('counts what it never touches: the SOA and apex NS, and record sets of a traffic policy', () => {
    // prepare
    const policy: ResourceRecordSet = { ...a('tp', '10.0.0.7'), TrafficPolicyInstanceId: 'tpi-1' };
    const live = [soa, apexNs, policy, a('www', '10.0.0.1')];

    // act
    const d = diffZone([soa, policy, a('www', '10.0.0.1')], live, ZONE, { deleteExtra: true });

    // assess
    expect(d.untouched).toEqual({ zoneOwned: 2, trafficPolicy: 1 });
    expect(d).toMatchObject({ create: [], change: [], remove: [], unchanged: 1 });
  });
});

describe('differingFields', () => {
  const base: ResourceRecordSet = { Name: `api.${ZONE}`, Type: 'A', TTL: 60, SetIdentifier: 's', ResourceRecords: [{ Value: '10.0.0.1' }] };

  it('names each field that differs', () => {
    const cases: Array<[Partial<ResourceRecordSet>, Partial<ResourceRecordSet>, string[]]> = [
      [{ TTL: 60 }, { TTL: 61 }, ['TTL']],
      [{ ResourceRecords: [{ Value: '10.0.0.1' }] }, { ResourceRecords: [{ Value: '10.0.0.2' }] }, ['values']],
      [{ Failover: 'PRIMARY' }, { Failover: 'SECONDARY' }, ['failover']],
      [{ GeoProximityLocation: { AWSRegion: 'us-east-1' } }, { GeoProximityLocation: { AWSRegion: 'us-west-2' } }, ['geoproximity']],
      [{ MultiValueAnswer: true }, { MultiValueAnswer: false }, ['multivalue']],
      [{ CidrRoutingConfig: { CollectionId: 'c', LocationName: 'x' } }, { CidrRoutingConfig: { CollectionId: 'c', LocationName: 'y' } }, ['CIDR routing']],
      [{ TrafficPolicyInstanceId: 'a' }, { TrafficPolicyInstanceId: 'b' }, ['traffic policy']],
      [{ AliasTarget: { ...elb, HostedZoneId: 'Z1' } }, { AliasTarget: { ...elb, HostedZoneId: 'Z2' } }, ['alias target']],
    ];
    for (const [x, y, fields] of cases) expect(differingFields({ ...base, ...x }, { ...base, ...y })).toEqual(fields);
  });

  it('reads nested location objects whatever their key order, and a field absent, undefined or null as the same', () => {
    const geo1: ResourceRecordSet = { ...base, GeoProximityLocation: { Coordinates: { Latitude: '1', Longitude: '2' }, Bias: 5 } };
    const geo2: ResourceRecordSet = { ...base, GeoProximityLocation: { Bias: 5, Coordinates: { Longitude: '2', Latitude: '1' } } };
    expect(differingFields(geo1, geo2)).toEqual([]);
    expect(differingFields(geo1, { ...base, GeoProximityLocation: { Bias: 5, Coordinates: { Longitude: '2', Latitude: '3' } } })).toEqual(['geoproximity']);
    // an export is JSON: a field can come back as null
    const nulls = JSON.parse(JSON.stringify({ ...base, TTL: null, GeoLocation: { CountryCode: 'US', SubdivisionCode: null } })) as ResourceRecordSet;
    expect(differingFields(nulls, { ...base, TTL: undefined, GeoLocation: { CountryCode: 'US' } })).toEqual([]);
    expect(differingFields({ ...base, GeoLocation: { CountryCode: 'US', SubdivisionCode: undefined } }, { ...base, GeoLocation: { CountryCode: 'US' } })).toEqual([]);
  });
});

describe('routingPolicy and conflicts', () => {
  it('tells each routing policy by its field, a weight of 0 and a multivalue of false included', () => {
    const r = a('x', '10.0.0.1');
    expect(routingPolicy({ ...r, Weight: 0 })).toBe('weighted');
    expect(routingPolicy({ ...r, Failover: 'PRIMARY' })).toBe('failover');
    expect(routingPolicy({ ...r, Region: 'us-east-1' })).toBe('latency');
    expect(routingPolicy({ ...r, GeoLocation: { CountryCode: 'US' } })).toBe('geolocation');
    expect(routingPolicy({ ...r, GeoProximityLocation: { AWSRegion: 'us-east-1' } })).toBe('geoproximity');
    expect(routingPolicy({ ...r, CidrRoutingConfig: { CollectionId: 'c', LocationName: 'l' } })).toBe('cidr');
    expect(routingPolicy({ ...r, MultiValueAnswer: false })).toBe('multivalue');
    expect(routingPolicy(r)).toBe('simple');
  });

  it('a CNAME conflicts with any other type of its name; one name and type conflict only across routing policies', () => {
    const cname: ResourceRecordSet = { Name: `x.${ZONE}`, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'y.example.com' }] };
    const simple = a('x', '10.0.0.1');
    const weighted: ResourceRecordSet = { ...a('x', '10.0.0.2'), SetIdentifier: 'w', Weight: 1 };
    const aaaa: ResourceRecordSet = { Name: `x.${ZONE}`, Type: 'AAAA', TTL: 60, ResourceRecords: [{ Value: '::1' }] };
    expect(conflicts(cname, simple)).toBe(true);
    expect(conflicts(simple, cname)).toBe(true);
    expect(conflicts(cname, { ...cname, SetIdentifier: 'w', Weight: 1 })).toBe(true);
    expect(conflicts(cname, { ...cname, ResourceRecords: [{ Value: 'z.example.com' }] })).toBe(false);
    expect(conflicts(simple, weighted)).toBe(true);
    expect(conflicts(simple, a('x', '10.0.0.3'))).toBe(false);
    expect(conflicts(simple, { ...aaaa, SetIdentifier: 'w', Weight: 1 })).toBe(false);
    expect(conflicts({ ...cname, Name: `other.${ZONE}` }, simple)).toBe(false);
  });
});

describe('differences and batches, in detail', () => {
  it('counts creations, changes and blocked ones, and removals only when extras are to go', () => {
    const d = diffZone([a('new', '10.0.0.1'), a('chg', '10.0.0.2'), a('new2', '10.0.0.3')], [a('chg', '10.0.0.9'), a('gone', '10.0.0.4')], ZONE, { deleteExtra: true });
    expect(differences(d, true)).toBe(2 + 1 + 1);
    expect(differences(d, false)).toBe(3);
  });

  it('batches names in sorted order, whatever order the diff lists them in', () => {
    const d = diffZone([a('zz', '10.0.0.1'), a('aa', '10.0.0.2'), a('mm', '10.0.0.3')], [], ZONE, { deleteExtra: false });
    expect(planBatches(d).flat().map((c) => c.ResourceRecordSet?.Name)).toEqual([`aa.${ZONE}`, `mm.${ZONE}`, `zz.${ZONE}`]);
  });

  it('splits one name with more record sets than a batch holds, in order, each batch within the limits', () => {
    // prepare: 600 weighted A record sets of one name: 1,200 records as UPSERTs
    const many = Array.from({ length: 600 }, (_, i): ResourceRecordSet => ({ ...a('wide', `10.0.${Math.floor(i / 250)}.${i % 250}`), SetIdentifier: `s${String(i).padStart(3, '0')}`, Weight: 1 }));

    // act
    const batches = planBatches(diffZone(many, [], ZONE, { deleteExtra: false }));

    // assess
    expect(batches.map((b) => b.length)).toEqual([500, 100]);
    expect(batches.flat().map((c) => c.ResourceRecordSet?.SetIdentifier)).toEqual(many.map((r) => r.SetIdentifier));
    for (const b of batches) expect(withinLimits(batchWeight(b))).toBe(true);
  });

  it('sends a change over the limits alone even when its name has more changes after it', () => {
    // prepare: two weighted TXT record sets of one name, the first 80,000 characters as an UPSERT
    const huge: ResourceRecordSet = { Name: `big.${ZONE}`, Type: 'TXT', TTL: 60, SetIdentifier: 'a', Weight: 1, ResourceRecords: Array.from({ length: 400 }, (_, i) => ({ Value: `"${i}${'x'.repeat(96)}"` })) };
    const small: ResourceRecordSet = { Name: `big.${ZONE}`, Type: 'TXT', TTL: 60, SetIdentifier: 'b', Weight: 1, ResourceRecords: [{ Value: '"small"' }] };

    // act
    const batches = planBatches(diffZone([huge, small], [], ZONE, { deleteExtra: false }));

    // assess
    expect(batches.map((b) => b.map((c) => c.ResourceRecordSet?.SetIdentifier))).toEqual([['a'], ['b']]);
  });

  it('limits a batch by records when record sets carry no values (aliases), and by values when they carry several', () => {
    // prepare: 1,000 alias record sets (no ResourceRecords); 1,000 A record sets of 4 short values
    const aliases = Array.from({ length: 1000 }, (_, i): ResourceRecordSet => ({ Name: `al-${String(i).padStart(4, '0')}.${ZONE}`, Type: 'A', AliasTarget: elb }));
    const four = Array.from({ length: 1000 }, (_, i): ResourceRecordSet => ({ Name: `v4-${String(i).padStart(4, '0')}.${ZONE}`, Type: 'A', TTL: 60, ResourceRecords: [1, 2, 3, 4].map((k) => ({ Value: `10.0.0.${k}` })) }));

    // act
    const byRecords = planBatches(diffZone(aliases, [], ZONE, { deleteExtra: false }));
    const byValues = planBatches(diffZone(four, [], ZONE, { deleteExtra: false }));

    // assess: an UPSERT counts twice: 500 aliases a batch; 4 values × 2 = 8 elements, so 125 a batch
    expect(byRecords.map((b) => b.length)).toEqual([500, 500]);
    expect(byValues.map((b) => b.length)).toEqual(Array.from({ length: 8 }, () => 125));
  });
});
