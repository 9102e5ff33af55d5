import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  DescribeInstanceStatusCommand,
  type DescribeInstanceStatusCommandOutput,
  type EC2Client,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { wrapAws } from '../errors';

/** Instances drbot launched, as runs report and checkpoint them. */
export interface LaunchedInstance {
  id: string;
  state: string;
  type: string;
  imageId: string;
  privateIp?: string;
  publicIp?: string;
  ipv6?: string;
  publicDns?: string;
  launchedAt?: string;
  tags: Record<string, string>;
}

/** AWS's limit on instance IDs in one TerminateInstances call (1,000); we send far fewer. */
export const TERMINATE_MAX = 1000;

export function toLaunched(i: Instance): LaunchedInstance {
  const ipv6 = i.NetworkInterfaces?.flatMap((n) => n.Ipv6Addresses ?? []).find((a) => a.Ipv6Address)?.Ipv6Address;
  return {
    id: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    type: i.InstanceType ?? '',
    imageId: i.ImageId ?? '',
    ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
    ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(i.PublicDnsName ? { publicDns: i.PublicDnsName } : {}),
    ...(i.LaunchTime ? { launchedAt: i.LaunchTime.toISOString() } : {}),
    tags: Object.fromEntries((i.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/** Every instance carrying a tag (any value when `value` is undefined), terminated ones left out, all pages. */
export async function instancesTagged(ec2: EC2Client, key: string, value: string | undefined, what: string): Promise<LaunchedInstance[]> {
  const out: LaunchedInstance[] = [];
  let token: string | undefined;
  do {
    const page: DescribeInstancesCommandOutput = await ec2
      .send(
        new DescribeInstancesCommand({
          Filters: [value === undefined ? { Name: 'tag-key', Values: [key] } : { Name: `tag:${key}`, Values: [value] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] }],
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      )
      .catch((e: unknown) => {
        throw wrapAws(e, 'DescribeInstances', what);
      });
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toLaunched(i));
    token = page.NextToken;
  } while (token);
  return out;
}

export interface LaunchInput {
  imageId: string;
  type: string;
  count: number;
  subnetId?: string;
  securityGroupIds?: string[];
  instanceProfile?: string;
  tags: Record<string, string>;
  /** Idempotency token (≤ 64 ASCII characters): a retried call gets the first launch back. */
  clientToken: string;
}

/** RunInstances of `count` instances from one image, tagged at launch. */
export async function launchInstances(ec2: EC2Client, l: LaunchInput): Promise<LaunchedInstance[]> {
  const tags = Object.entries(l.tags).map(([Key, Value]) => ({ Key, Value }));
  const profile = l.instanceProfile ? (l.instanceProfile.startsWith('arn:') ? { Arn: l.instanceProfile } : { Name: l.instanceProfile }) : undefined;
  const r = await ec2
    .send(
      new RunInstancesCommand({
        ImageId: l.imageId,
        InstanceType: l.type as never,
        MinCount: l.count,
        MaxCount: l.count,
        ClientToken: l.clientToken.slice(0, 64),
        ...(l.subnetId ? { SubnetId: l.subnetId } : {}),
        ...(l.securityGroupIds?.length ? { SecurityGroupIds: l.securityGroupIds } : {}),
        ...(profile ? { IamInstanceProfile: profile } : {}),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      }),
    )
    .catch((e: unknown) => {
      throw wrapAws(e, 'RunInstances', l.imageId);
    });
  return (r.Instances ?? []).map(toLaunched);
}

export interface InstanceHealth {
  id: string;
  state: string;
  /** Both EC2 status checks (instance and system) pass. */
  checksOk: boolean;
  detail: string;
}

/** DescribeInstanceStatus takes at most 100 explicitly named instance IDs a call; drbot asks DescribeInstances the same way. */
export const DESCRIBE_IDS_MAX = 100;

/** The state and status checks of some instances (DescribeInstances + DescribeInstanceStatus, 100 IDs a call). */
export async function instanceHealth(ec2: EC2Client, ids: readonly string[]): Promise<{ health: InstanceHealth[]; instances: LaunchedInstance[] }> {
  const instances: LaunchedInstance[] = [];
  const statuses: NonNullable<DescribeInstanceStatusCommandOutput['InstanceStatuses']> = [];
  for (let i = 0; i < ids.length; i += DESCRIBE_IDS_MAX) {
    const chunk = ids.slice(i, i + DESCRIBE_IDS_MAX);
    const what = chunk.join(', ').slice(0, 100);
    const described: DescribeInstancesCommandOutput = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [...chunk] })).catch((e: unknown) => {
      throw wrapAws(e, 'DescribeInstances', what);
    });
    instances.push(...(described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map(toLaunched));
    let token: string | undefined;
    do {
      const page: DescribeInstanceStatusCommandOutput = await ec2
        .send(new DescribeInstanceStatusCommand({ InstanceIds: [...chunk], IncludeAllInstances: true, ...(token ? { NextToken: token } : {}) }))
        .catch((e: unknown) => {
          throw wrapAws(e, 'DescribeInstanceStatus', what);
        });
      statuses.push(...(page.InstanceStatuses ?? []));
      token = page.NextToken;
    } while (token);
  }
  const health = ids.map((id): InstanceHealth => {
    const i = instances.find((x) => x.id === id);
    const s = statuses.find((x) => x.InstanceId === id);
    const inst = s?.InstanceStatus?.Status ?? 'unknown';
    const sys = s?.SystemStatus?.Status ?? 'unknown';
    const state = i?.state ?? s?.InstanceState?.Name ?? 'unknown';
    return { id, state, checksOk: state === 'running' && inst === 'ok' && sys === 'ok', detail: `${state}, instance check ${inst}, system check ${sys}` };
  });
  return { health, instances };
}

/** TerminateInstances of the given IDs (≤ 1,000 a call); returns each one's new state. */
export async function terminateInstances(ec2: EC2Client, ids: readonly string[]): Promise<{ id: string; state: string }[]> {
  const out: { id: string; state: string }[] = [];
  for (let i = 0; i < ids.length; i += TERMINATE_MAX) {
    const chunk = ids.slice(i, i + TERMINATE_MAX);
    const r = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [...chunk] })).catch((e: unknown) => {
      throw wrapAws(e, 'TerminateInstances', chunk.join(', ').slice(0, 100));
    });
    for (const t of r.TerminatingInstances ?? []) out.push({ id: t.InstanceId ?? '', state: t.CurrentState?.Name ?? 'unknown' });
  }
  return out;
}
