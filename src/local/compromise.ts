import type { Event } from '@aws-sdk/client-cloudtrail';
import { DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, ListAccessKeysCommand, ListRolesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { randomUUID } from 'node:crypto';
import type { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';
import { isErrorLike } from '../errors';
import type { SlackMessage } from '../slack/poster';
import { code, slackDate } from '../slack/views/format';
import type { SandboxTrail } from './moto-gaps';

/*
 * `/dr simulate compromise` (sandbox only): a leaked key's trail, so a newcomer can run
 * `/dr compromise spawn-user`. It makes IAM user spawn-user with an access key (the secret moto
 * returns is dropped on the spot: never kept, logged or posted), launches instances in both regions
 * with that "key", creates a backdoor user and an inline policy on a spawn role, and records what
 * CloudTrail would have seen in the sandbox's event history (moto has none: moto-gaps.ts), in
 * AWS's shapes.
 */

export const SIMULATED_USER = 'spawn-user';
export const BACKDOOR_USER = 'spawn-backdoor';
const ACCOUNT = '123456789012';
/** Documentation addresses (RFC 5737): never a real attacker's. */
const ATTACKER = { ip: '203.0.113.77', agent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/ec2.run-instances' };
const SCRIPT = { ip: '198.51.100.23', agent: 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6' };
const READS_PRIMARY = 60;

export interface CompromiseSimulation {
  user: string;
  accessKeyId: string;
  instances: { id: string; region: string }[];
  events: number;
  role?: string;
}

const exists = (e: unknown) => isErrorLike(e) && /EntityAlreadyExists/.test(e.name);

/** An event as CloudTrail's LookupEvents returns it, its CloudTrailEvent JSON included (also the tests' events). */
export function trailEvent(a: {
  name: string;
  source: string;
  region: string;
  at: Date;
  readOnly: boolean;
  keyId: string;
  user: string;
  from: { ip: string; agent: string };
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
  resources?: { ResourceType: string; ResourceName: string }[];
  error?: { code: string; message: string };
}): Event {
  const id = randomUUID();
  const detail = {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDASANDBOXSPAWNUSER', arn: `arn:aws:iam::${ACCOUNT}:user/${a.user}`, accountId: ACCOUNT, accessKeyId: a.keyId, userName: a.user },
    eventTime: a.at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: a.source,
    eventName: a.name,
    awsRegion: a.region,
    sourceIPAddress: a.from.ip,
    userAgent: a.from.agent,
    requestParameters: a.request ?? null,
    responseElements: a.response ?? null,
    requestID: randomUUID(),
    eventID: id,
    ...(a.error ? { errorCode: a.error.code, errorMessage: a.error.message } : {}),
    readOnly: a.readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${a.source.split('.')[0]}.${a.region}.amazonaws.com` },
  };
  return {
    EventId: id,
    EventName: a.name,
    ReadOnly: String(a.readOnly),
    AccessKeyId: a.keyId,
    EventTime: new Date(Math.floor(a.at.getTime() / 1000) * 1000),
    EventSource: a.source,
    Username: a.user,
    Resources: a.resources ?? [],
    CloudTrailEvent: JSON.stringify(detail),
  };
}

/** An image moto knows in the region (its stock images differ by region). */
async function anyImage(clients: AwsClients, region: string): Promise<string> {
  const r = await clients.ec2(region).send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const id = r.Images?.find((i) => i.ImageId)?.ImageId;
  if (!id) throw new Error(`moto has no image in ${region} to launch from`);
  return id;
}

export async function simulateCompromise(clients: AwsClients, config: DrConfig, trail: SandboxTrail, now: () => Date): Promise<CompromiseSimulation> {
  const primary = config.regions.primary;
  const regions = [...new Set([primary, config.regions.backup])];
  const iam = clients.iam(primary);
  await iam.send(new CreateUserCommand({ UserName: SIMULATED_USER, Tags: [{ Key: 'team', Value: 'spawn' }] })).catch((e: unknown) => {
    if (!exists(e)) throw e;
  });
  // Run again, the simulation starts over with one fresh key (IAM allows two).
  for (const k of (await iam.send(new ListAccessKeysCommand({ UserName: SIMULATED_USER }))).AccessKeyMetadata ?? []) {
    await iam.send(new DeleteAccessKeyCommand({ UserName: SIMULATED_USER, AccessKeyId: k.AccessKeyId ?? '' }));
  }
  // Only the key's ID is kept: the secret half is dropped here, unread.
  const accessKeyId = (await iam.send(new CreateAccessKeyCommand({ UserName: SIMULATED_USER }))).AccessKey?.AccessKeyId ?? '';

  const t0 = now().getTime();
  const at = (minutesAgo: number) => new Date(t0 - minutesAgo * 60_000);
  const base = { keyId: accessKeyId, user: SIMULATED_USER };
  const byRegion = new Map<string, Event[]>(regions.map((r) => [r, []]));
  const add = (region: string, e: Event) => byRegion.get(region)?.push(e);

  // Reconnaissance: enough reads in the primary region to take more than one page of LookupEvents.
  const reads = [
    ['GetCallerIdentity', 'sts.amazonaws.com'],
    ['ListBuckets', 's3.amazonaws.com'],
    ['DescribeInstances', 'ec2.amazonaws.com'],
    ['DescribeRegions', 'ec2.amazonaws.com'],
    ['ListUsers', 'iam.amazonaws.com'],
    ['ListRoles', 'iam.amazonaws.com'],
  ] as const;
  for (let i = 0; i < READS_PRIMARY; i++) {
    const [name, source] = reads[i % reads.length] as (typeof reads)[number];
    add(primary, trailEvent({ ...base, name, source, region: primary, at: at(180 - i), readOnly: true, from: i % 3 ? SCRIPT : ATTACKER }));
  }

  // Instances launched with the key: two in the primary region, one in the backup region.
  const instances: { id: string; region: string }[] = [];
  for (const [n, region] of regions.flatMap((r, i) => (i === 0 ? [r, r] : [r])).entries()) {
    const image = await anyImage(clients, region);
    const r = await clients.ec2(region).send(
      new RunInstancesCommand({
        ImageId: image,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 'c5.4xlarge',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: `xmrig-${n}` }] }],
      }),
    );
    const id = r.Instances?.[0]?.InstanceId ?? '';
    instances.push({ id, region });
    add(
      region,
      trailEvent({
        ...base,
        name: 'RunInstances',
        source: 'ec2.amazonaws.com',
        region,
        at: at(90 - n * 5),
        readOnly: false,
        from: ATTACKER,
        request: { instancesSet: { items: [{ imageId: image, minCount: 1, maxCount: 1 }] }, instanceType: 'c5.4xlarge' },
        response: { requestId: randomUUID(), reservationId: r.ReservationId ?? '', ownerId: ACCOUNT, instancesSet: { items: [{ instanceId: id, imageId: image, instanceType: 'c5.4xlarge', instanceState: { code: 0, name: 'pending' } }] } },
        resources: [{ ResourceType: 'AWS::EC2::Instance', ResourceName: id }],
      }),
    );
  }

  // Persistence: a backdoor user with its own key, and an inline policy on a spawn role (IAM's events are in us-east-1's history).
  await iam.send(new CreateUserCommand({ UserName: BACKDOOR_USER })).catch((e: unknown) => {
    if (!exists(e)) throw e;
  });
  add(primary, trailEvent({ ...base, name: 'CreateUser', source: 'iam.amazonaws.com', region: 'us-east-1', at: at(60), readOnly: false, from: ATTACKER, request: { userName: BACKDOOR_USER }, response: { user: { userName: BACKDOOR_USER, arn: `arn:aws:iam::${ACCOUNT}:user/${BACKDOOR_USER}` } }, resources: [{ ResourceType: 'AWS::IAM::User', ResourceName: BACKDOOR_USER }] }));
  for (const k of (await iam.send(new ListAccessKeysCommand({ UserName: BACKDOOR_USER }))).AccessKeyMetadata ?? []) {
    await iam.send(new DeleteAccessKeyCommand({ UserName: BACKDOOR_USER, AccessKeyId: k.AccessKeyId ?? '' }));
  }
  const backdoorKey = (await iam.send(new CreateAccessKeyCommand({ UserName: BACKDOOR_USER }))).AccessKey?.AccessKeyId ?? '';
  // CloudTrail records CreateAccessKey without the secret half, and so does this.
  add(primary, trailEvent({ ...base, name: 'CreateAccessKey', source: 'iam.amazonaws.com', region: 'us-east-1', at: at(59), readOnly: false, from: ATTACKER, request: { userName: BACKDOOR_USER }, response: { accessKey: { userName: BACKDOOR_USER, accessKeyId: backdoorKey, status: 'Active', createDate: at(59).toISOString() } } }));
  const role = ((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName ?? '').filter((n) => n.startsWith(`${config.iam.rolePrefix}-worker`)).sort()[0];
  if (role) {
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
    await iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: 'ops-debug', PolicyDocument: doc }));
    add(primary, trailEvent({ ...base, name: 'PutRolePolicy', source: 'iam.amazonaws.com', region: 'us-east-1', at: at(58), readOnly: false, from: ATTACKER, request: { roleName: role, policyName: 'ops-debug', policyDocument: doc }, resources: [{ ResourceType: 'AWS::IAM::Role', ResourceName: role }] }));
  }
  // A call the key was refused.
  add(primary, trailEvent({ ...base, name: 'CreateTrail', source: 'cloudtrail.amazonaws.com', region: primary, at: at(30), readOnly: false, from: SCRIPT, request: { name: 'x', s3BucketName: 'x' }, error: { code: 'AccessDenied', message: `User: arn:aws:iam::${ACCOUNT}:user/${SIMULATED_USER} is not authorized to perform: cloudtrail:CreateTrail` } }));

  let events = 0;
  for (const [region, list] of byRegion) {
    trail.record(region, list);
    events += list.length;
  }
  return { user: SIMULATED_USER, accessKeyId, instances, events, ...(role ? { role } : {}) };
}

export function renderCompromise(s: CompromiseSimulation, user: string, at: Date): SlackMessage {
  const text = [
    `:spy: *Simulated compromise* (sandbox only), by <@${user}> at ${slackDate(at, { seconds: true })}: IAM user ${code(s.user)} has a leaked access key ${code(s.accessKeyId)} (its secret was discarded, never shown).`,
    `With it: ${s.instances.length} instances launched (${s.instances.map((i) => `${code(i.id)} in ${code(i.region)}`).join(', ')}), a backdoor user ${code(BACKDOOR_USER)} with a key${s.role ? `, an allow-all inline policy on ${code(s.role)}` : ''}; ${s.events} CloudTrail events recorded in the sandbox's event history.`,
    `Respond with \`/dr compromise ${s.user}\`.`,
  ].join('\n');
  return { text: `Simulated compromise of ${s.user}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text, verbatim: true } }] };
}
