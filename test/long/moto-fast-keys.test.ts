import { DescribeAvailabilityZonesCommand, DescribeImagesCommand, DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand, GetUserCommand, ListAccessKeysCommand, ListAttachedUserPoliciesCommand, ListUsersCommand, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { MotoServer } from '../../src/local/moto';
import { motoClients, startMotoWithout, useMoto } from '../helpers/moto';

/**
 * The launcher's cache of where each response member is found (src/local/moto_launcher.py,
 * _member_keys_once) must answer exactly as moto's serializer does without it: Route53's record
 * sets are what `/dr restore route53` and `/dr failover` compare with an export, so a member read
 * from the wrong attribute would show as a false difference or hide a real one. Two servers hold
 * the same zone, one with moto's own lookups (DRBOT_MOTO_FAST_KEYS=off), and every page of the
 * listings drbot makes is compared, with record sets of every routing kind, and answers of EC2 and
 * IAM (query protocols, other classes and shapes) beside them.
 */

const ZONE = 'fast-keys.example.com.';

function recordSets(): ResourceRecordSet[] {
  const out: ResourceRecordSet[] = [
    { Name: `www.${ZONE}`, Type: 'A', SetIdentifier: 'blue', Weight: 70, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] },
    { Name: `www.${ZONE}`, Type: 'A', SetIdentifier: 'green', Weight: 30, TTL: 60, ResourceRecords: [{ Value: '192.0.2.2' }] },
    { Name: `api.${ZONE}`, Type: 'A', SetIdentifier: 'primary', Failover: 'PRIMARY', TTL: 30, ResourceRecords: [{ Value: '192.0.2.3' }] },
    { Name: `api.${ZONE}`, Type: 'A', SetIdentifier: 'secondary', Failover: 'SECONDARY', TTL: 30, ResourceRecords: [{ Value: '192.0.2.4' }] },
    { Name: `eu.${ZONE}`, Type: 'A', SetIdentifier: 'europe', GeoLocation: { ContinentCode: 'EU' }, TTL: 300, ResourceRecords: [{ Value: '192.0.2.5' }] },
    { Name: `eu.${ZONE}`, Type: 'A', SetIdentifier: 'default', GeoLocation: { CountryCode: '*' }, TTL: 300, ResourceRecords: [{ Value: '192.0.2.6' }] },
    { Name: `lat.${ZONE}`, Type: 'AAAA', SetIdentifier: 'us-east-1', Region: 'us-east-1', TTL: 60, ResourceRecords: [{ Value: '2001:db8::1' }] },
    { Name: `multi.${ZONE}`, Type: 'A', SetIdentifier: 'one', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '192.0.2.7' }] },
    { Name: `cdn.${ZONE}`, Type: 'A', AliasTarget: { HostedZoneId: 'Z2FDTNDATAQYW2', DNSName: 'd111111abcdef8.cloudfront.net.', EvaluateTargetHealth: false } },
    { Name: `mail.${ZONE}`, Type: 'MX', TTL: 3600, ResourceRecords: [{ Value: '10 mx1.example.net.' }, { Value: '20 mx2.example.net.' }] },
    { Name: `txt.${ZONE}`, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }, { Value: '"a \\"quoted\\" & <escaped> value"' }] },
    { Name: `_sip._tcp.${ZONE}`, Type: 'SRV', TTL: 300, ResourceRecords: [{ Value: '10 60 5060 sip.example.net.' }] },
    { Name: `alias.${ZONE}`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: `www.${ZONE}` }] },
  ];
  // enough plain records for several pages of every size read below
  for (let i = 0; i < 420; i++) out.push({ Name: `host-${String(i).padStart(3, '0')}.${ZONE}`, Type: i % 5 ? 'A' : 'TXT', TTL: 60 + i, ResourceRecords: [{ Value: i % 5 ? `198.51.100.${i % 250}` : `"record ${i}"` }] });
  return out;
}

async function zoneOn(endpoint: string): Promise<string> {
  const r53 = motoClients(endpoint).route53();
  const zone = await r53.send(new CreateHostedZoneCommand({ Name: ZONE, CallerReference: 'fast-keys' }));
  const id = zone.HostedZone?.Id ?? '';
  const sets = recordSets();
  for (let i = 0; i < sets.length; i += 200) {
    await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Changes: sets.slice(i, i + 200).map((ResourceRecordSet) => ({ Action: 'CREATE', ResourceRecordSet })) } }));
  }
  return id;
}

/** Every page of the zone's record sets, MaxItems at a time, as the SDK read them. */
async function pages(endpoint: string, zoneId: string, maxItems?: number): Promise<unknown[]> {
  const r53 = motoClients(endpoint).route53();
  const out: unknown[] = [];
  let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
  for (;;) {
    const { $metadata: _, ...page } = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: maxItems, ...start }));
    out.push(page);
    if (!page.IsTruncated) return out;
    start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType, StartRecordIdentifier: page.NextRecordIdentifier };
  }
}

describe("the launcher's cached member lookups", () => {
  const getMoto = useMoto();
  let mine: MotoServer;
  let zones: { fast: string; moto: string };
  beforeAll(async () => {
    mine = await startMotoWithout('DRBOT_MOTO_FAST_KEYS');
    const [fast, moto] = await Promise.all([zoneOn(getMoto().endpoint), zoneOn(mine.endpoint)]);
    zones = { fast, moto };
  }, 120_000);
  afterAll(async () => {
    await mine?.stop();
  });

  it.each([[undefined], [7], [100], [300]])('ListResourceRecordSets, MaxItems %s: every page the same as moto’s own', async (maxItems) => {
    // act
    const [fast, moto] = await Promise.all([pages(getMoto().endpoint, zones.fast, maxItems), pages(mine.endpoint, zones.moto, maxItems)]);

    // assess: the same pages, holding every record set made (SOA and NS besides; moto gives an
    // alias record a TTL of 0, and repeats a record set at some page boundaries: counted once)
    expect(fast).toEqual(moto);
    const listed = (fast as { ResourceRecordSets?: ResourceRecordSet[] }[]).flatMap((p) => p.ResourceRecordSets ?? []);
    const sets = [...new Map(listed.map((r) => [`${r.Name} ${r.Type} ${r.SetIdentifier ?? ''}`, r])).values()];
    expect(sets).toHaveLength(recordSets().length + 2);
    expect(sets).toEqual(expect.arrayContaining(recordSets().map((r) => (r.AliasTarget ? { ...r, TTL: 0 } : r))));
  });

  it('EC2 and IAM answers the same as moto’s own', async () => {
    // prepare: the same IAM user, policy and key on each server
    const iamOn = async (endpoint: string) => {
      const iam = motoClients(endpoint).iam();
      await iam.send(new CreateUserCommand({ UserName: 'fast-keys-user', Path: '/drbot/', Tags: [{ Key: 'team', Value: 'sre' }, { Key: 'env', Value: 'sandbox' }] }));
      const policy = await iam.send(new CreatePolicyCommand({ PolicyName: 'fast-keys-read', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }) }));
      await iam.send(new AttachUserPolicyCommand({ UserName: 'fast-keys-user', PolicyArn: policy.Policy?.Arn }));
      await iam.send(new CreateAccessKeyCommand({ UserName: 'fast-keys-user' }));
    };
    await Promise.all([iamOn(getMoto().endpoint), iamOn(mine.endpoint)]);

    // act
    const read = async (endpoint: string) => {
      const c = motoClients(endpoint);
      const strip = <T extends { $metadata: unknown }>({ $metadata: _, ...rest }: T) => rest;
      return [
        strip(await c.ec2('us-east-1').send(new DescribeImagesCommand({ Owners: ['amazon'] }))),
        strip(await c.ec2('us-west-2').send(new DescribeAvailabilityZonesCommand({}))),
        strip(await c.ec2('us-east-1').send(new DescribeRegionsCommand({}))),
        strip(await c.iam().send(new GetUserCommand({ UserName: 'fast-keys-user' }))),
        strip(await c.iam().send(new ListUsersCommand({ PathPrefix: '/drbot/' }))),
        strip(await c.iam().send(new ListUserTagsCommand({ UserName: 'fast-keys-user' }))),
        strip(await c.iam().send(new ListAttachedUserPoliciesCommand({ UserName: 'fast-keys-user' }))),
        strip(await c.iam().send(new ListAccessKeysCommand({ UserName: 'fast-keys-user' }))),
      ];
    };
    // each server makes its own IDs and dates (stock images' snapshots, the user's and key's IDs)
    const same = async (endpoint: string) =>
      JSON.stringify(await read(endpoint))
        .replace(/snap-[0-9a-f]+/g, 'snap-X')
        .replace(/"(CreationDate|CreateDate)":"[^"]+"/g, '"$1":"X"')
        .replace(/"(UserId|AccessKeyId)":"[^"]+"/g, '"$1":"X"');
    const [fast, moto] = await Promise.all([same(getMoto().endpoint), same(mine.endpoint)]);

    // assess: equal, and not equally empty: the IAM answers hold the user, its tags, policy and key
    expect(fast).toEqual(moto);
    expect(fast.length).toBeGreaterThan(10_000);
    for (const seen of ['"UserName":"fast-keys-user"', '"Path":"/drbot/"', '"Key":"team"', '"PolicyName":"fast-keys-read"', '"Status":"Active"']) expect(fast).toContain(seen);
  });
});
