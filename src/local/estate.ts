import { crc32 } from 'node:zlib';
import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { ChangeResourceRecordSetsCommand, type Change, CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import type { CodeFetcher } from '../aws/lambda';
import { ec2Sdk } from '../aws/ec2-sdk';
import { lambdaSha256 } from '../aws/lambda';
import type { DrConfig } from '../config/schema';
import { DrbotError, isErrorLike } from '../errors';
import { mapLimit } from '../util/limit';

/*
 * The backup side of the sandbox estate (AMIs, IAM roles, a hosted zone, a Lambda function, the
 * backup bucket), kept apart from seed.ts's buckets and tables so each can change on its own.
 */

export const SANDBOX_ZONE_NAME = 'spawn.example.com';
/** moto's stock AMI in us-east-1, the base of the seeded instances. */
const BASE_AMI = 'ami-12c6146b';
const ROLE_COUNT = 12;
const RECORD_COUNT = 300;
export const SANDBOX_LAMBDA_ROLE = 'drbot-sandbox-lambda-exec';

export interface EstateSummary {
  /** The IDs moto gave the tagged images (and the untagged one, which must be left alone). */
  amis: { tagged: string[]; untagged: string };
  roles: string[];
  /** moto assigns its own zone IDs; the sandbox config learns it from here. */
  zoneId?: string;
  records: number;
  lambda?: { name: string; versions: string[]; alias: string };
  /** The code packages by Lambda's CodeSha256 (moto's code location is not downloadable). */
  packages: Map<string, Uint8Array>;
}

/** A one-file zip, stored uncompressed: what Lambda needs from a package, with no zip library. */
export function storedZip(name: string, content: string): Uint8Array {
  const data = Buffer.from(content);
  const file = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(file.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(file.length, 28);
  const offset = local.length + file.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + file.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([local, file, data, central, file, end]));
}

/** A fetcher that serves packages it was given, by checksum: the sandbox's and the tests' stand-in for the presigned URL. */
export function packageFetcher(packages: ReadonlyMap<string, Uint8Array>): CodeFetcher {
  return async (_location, sha) => {
    const p = packages.get(sha);
    if (!p) throw new DrbotError('code_download_failed', 'Downloading the code package failed: the sandbox does not hold it.', 'Only packages the sandbox seeded can be downloaded there.');
    return p;
  };
}

const trust = (service: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
const allow = (action: string, resource: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });

function exists(e: unknown): boolean {
  return isErrorLike(e) && /AlreadyExists|EntityAlreadyExists|BucketAlreadyOwnedByYou|ResourceConflict/.test(e.name);
}

/** Two tagged images and one untagged, made from a throwaway instance. */
export async function seedAmis(clients: AwsClients, cfg: DrConfig): Promise<EstateSummary['amis']> {
  const ec2 = clients.ec2(cfg.regions.primary);
  const { CreateImageCommand, RunInstancesCommand, TerminateInstancesCommand } = ec2Sdk();
  const run = await ec2.send(new RunInstancesCommand({ ImageId: BASE_AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
  const instance = run.Instances?.[0]?.InstanceId ?? '';
  const image = async (name: string, tagged: boolean) =>
    (
      await ec2.send(
        new CreateImageCommand({
          InstanceId: instance,
          Name: name,
          TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'Name', Value: name }, ...(tagged ? [{ Key: cfg.ami.tagKey, Value: cfg.ami.tagValue }] : [])] }],
        }),
      )
    ).ImageId ?? '';
  const [a, b, untagged] = await Promise.all([image('spawn-worker', true), image('spawn-controller', true), image('scratch-build', false)]);
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
  return { tagged: [a, b], untagged };
}

/** A dozen roles within the prefix, each with an inline and a managed policy, and one outside it. */
export async function seedRoles(clients: AwsClients, cfg: DrConfig): Promise<string[]> {
  const iam = clients.iam(cfg.regions.primary);
  const prefix = cfg.iam.rolePrefix;
  const policy = await iam.send(new CreatePolicyCommand({ PolicyName: `${prefix}-read-artifacts`, PolicyDocument: allow('s3:GetObject', 'arn:aws:s3:::spawn-binaries-us-east-1/*') })).catch((e: unknown) => {
    if (exists(e)) return undefined;
    throw e;
  });
  const arn = policy?.Policy?.Arn ?? `arn:aws:iam::123456789012:policy/${prefix}-read-artifacts`;
  const names = Array.from({ length: ROLE_COUNT }, (_, i) => `${prefix}-${['worker', 'controller', 'dns', 'scheduler'][i % 4]}-${String(i).padStart(2, '0')}`);
  await mapLimit(names, 6, async (RoleName, i) => {
    try {
      await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust('ec2.amazonaws.com'), Description: `spawn role ${i}`, Tags: [{ Key: 'team', Value: 'spawn' }] }));
    } catch (e) {
      if (!exists(e)) throw e;
    }
    await Promise.all([
      iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'results', PolicyDocument: allow('s3:PutObject', `arn:aws:s3:::spawn-results-us-east-1/r${i}/*`) })),
      iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: arn })),
    ]);
  });
  await Promise.all(
    ['payments-admin', SANDBOX_LAMBDA_ROLE].map((RoleName) =>
      iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust('lambda.amazonaws.com') })).catch((e: unknown) => {
        if (!exists(e)) throw e;
      }),
    ),
  );
  return names;
}

/** The records of the sandbox zone: A, AAAA, CNAME, TXT and MX, plus alias, failover, weighted, latency and geo sets. */
export function sandboxRecords(zone: string, count: number): Change[] {
  const changes: Change[] = [];
  const types = ['A', 'AAAA', 'CNAME', 'TXT', 'MX'] as const;
  const value = (t: (typeof types)[number], i: number) =>
    t === 'A' ? `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` : t === 'AAAA' ? `2001:db8::${i.toString(16)}` : t === 'CNAME' ? `host-${i}.${zone}` : t === 'TXT' ? `"spawn-${i}"` : `10 mx${i}.${zone}`;
  for (let i = 0; changes.length < count - 9; i++) {
    const t = types[i % types.length] ?? 'A';
    changes.push({ Action: 'CREATE', ResourceRecordSet: { Name: `${t.toLowerCase()}-${i}.${zone}`, Type: t, TTL: 300, ResourceRecords: [{ Value: value(t, i) }] } });
  }
  const elb = { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: 'spawn-lb-123.us-east-1.elb.amazonaws.com', EvaluateTargetHealth: true };
  changes.push(
    { Action: 'CREATE', ResourceRecordSet: { Name: `www.${zone}`, Type: 'A', AliasTarget: elb } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `api.${zone}`, Type: 'A', SetIdentifier: 'primary', Failover: 'PRIMARY', AliasTarget: elb } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `api.${zone}`, Type: 'A', SetIdentifier: 'secondary', Failover: 'SECONDARY', TTL: 60, ResourceRecords: [{ Value: '10.9.0.1' }] } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `canary.${zone}`, Type: 'CNAME', SetIdentifier: 'blue', Weight: 90, TTL: 60, ResourceRecords: [{ Value: `blue.${zone}` }] } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `canary.${zone}`, Type: 'CNAME', SetIdentifier: 'green', Weight: 10, TTL: 60, ResourceRecords: [{ Value: `green.${zone}` }] } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `edge.${zone}`, Type: 'A', SetIdentifier: 'use1', Region: 'us-east-1', TTL: 60, ResourceRecords: [{ Value: '10.8.0.1' }] } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `edge.${zone}`, Type: 'A', SetIdentifier: 'usw2', Region: 'us-west-2', TTL: 60, ResourceRecords: [{ Value: '10.8.0.2' }] } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `geo.${zone}`, Type: 'A', SetIdentifier: 'eu', GeoLocation: { ContinentCode: 'EU' }, TTL: 60, ResourceRecords: [{ Value: '10.7.0.1' }] } },
    { Action: 'CREATE', ResourceRecordSet: { Name: `geo.${zone}`, Type: 'A', SetIdentifier: 'default', GeoLocation: { CountryCode: '*' }, TTL: 60, ResourceRecords: [{ Value: '10.7.0.2' }] } },
  );
  return changes;
}

/** A hosted zone with `count` record sets of ours (plus the zone's NS and SOA), in change batches of ≤ 1000. */
export async function seedZone(clients: AwsClients, cfg: DrConfig, count = RECORD_COUNT, name = SANDBOX_ZONE_NAME): Promise<string> {
  const r53 = clients.route53(cfg.regions.primary);
  const zone = await r53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `drbot-sandbox-${name}-${Date.now()}` }));
  const id = (zone.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
  const changes = sandboxRecords(name, count);
  const batches: Change[][] = [];
  for (let i = 0; i < changes.length; i += 500) batches.push(changes.slice(i, i + 500));
  await mapLimit(batches, 4, (Changes) => r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Changes } })));
  return id;
}

/** What each sandbox version says it is: the newest is the one a newcomer rolls back (`/dr rollback lambda`). */
const SANDBOX_RELEASES = ['release 1: first version', 'release 2: retries Route53 throttling', 'release 3: new record format (the bad deploy)'];

/** The function with three published versions (each its own code and description) and the alias on the newest. */
export async function seedLambda(clients: AwsClients, cfg: DrConfig, packages: Map<string, Uint8Array>): Promise<EstateSummary['lambda']> {
  const name = cfg.lambda.functions[0];
  if (!name) return undefined;
  const lambda = clients.lambda(cfg.regions.primary);
  const code = (v: number) => {
    const zip = storedZip('index.js', `exports.handler = async () => ({ version: ${v} });\n`);
    packages.set(lambdaSha256(zip), zip);
    return zip;
  };
  await lambda.send(
    new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::123456789012:role/${SANDBOX_LAMBDA_ROLE}`, Code: { ZipFile: code(1) }, Description: 'updates spawn DNS records' }),
  );
  const versions: string[] = [];
  for (let v = 1; v <= 3; v++) {
    if (v > 1) {
      // moto updates at once (AWS would need waitUntilFunctionUpdatedV2 here; the sandbox is moto only).
      await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code(v) }));
    }
    versions.push((await lambda.send(new PublishVersionCommand({ FunctionName: name, Description: SANDBOX_RELEASES[v - 1] }))).Version ?? '');
  }
  const alias = cfg.lambda.alias;
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: versions[versions.length - 1] }));
  return { name, versions, alias };
}

export async function seedBackupBucket(clients: AwsClients, cfg: DrConfig): Promise<void> {
  if (!cfg.backupBucket) return;
  const s3 = clients.s3(cfg.regions.primary);
  await s3.send(new CreateBucketCommand({ Bucket: cfg.backupBucket })).catch((e: unknown) => {
    if (!exists(e)) throw e;
  });
  await s3.send(new PutBucketVersioningCommand({ Bucket: cfg.backupBucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** The whole backup side, in parallel (roles first where the function needs its execution role). */
export async function seedBackupEstate(clients: AwsClients, cfg: DrConfig): Promise<EstateSummary> {
  const packages = new Map<string, Uint8Array>();
  const [amis, roles, zoneId, lambda] = await Promise.all([
    seedAmis(clients, cfg),
    seedRoles(clients, cfg),
    seedZone(clients, cfg),
    (async () => {
      await clients.iam(cfg.regions.primary).send(new CreateRoleCommand({ RoleName: SANDBOX_LAMBDA_ROLE, AssumeRolePolicyDocument: trust('lambda.amazonaws.com') })).catch((e: unknown) => {
        if (!exists(e)) throw e;
      });
      return seedLambda(clients, cfg, packages);
    })(),
    seedBackupBucket(clients, cfg),
  ]);
  return { amis, roles, zoneId, records: RECORD_COUNT, ...(lambda ? { lambda } : {}), packages };
}

/** The config with the zone ID moto assigned. */
export function withZone(cfg: DrConfig, zoneId: string | undefined): DrConfig {
  return zoneId ? { ...cfg, route53: { hostedZoneId: zoneId } } : cfg;
}
