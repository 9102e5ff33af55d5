import { DescribeInstancesCommand, type DescribeInstancesCommandOutput, type EC2Client, type Filter, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { wrapAws } from '../errors';

/** An EC2 instance as drbot lists it. */
export interface InstanceInfo {
  id: string;
  region: string;
  type: string;
  state: string;
  /** ISO time. */
  launchTime: string;
  tags: { key: string; value: string }[];
}

/** DescribeInstances' page size limit (with no InstanceIds). */
const PAGE = 1000;
const ALIVE = ['pending', 'running', 'stopping', 'stopped'];

/** Every instance matching the filters in one region, all pages. */
export async function describeInstances(ec2: EC2Client, region: string, filters: Filter[]): Promise<InstanceInfo[]> {
  const out: InstanceInfo[] = [];
  let token: string | undefined;
  do {
    const r: DescribeInstancesCommandOutput = await ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: PAGE, ...(token ? { NextToken: token } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ec2:DescribeInstances', region);
    });
    for (const res of r.Reservations ?? []) {
      for (const i of res.Instances ?? []) {
        out.push({
          id: i.InstanceId ?? '',
          region,
          type: i.InstanceType ?? '',
          state: i.State?.Name ?? '',
          launchTime: (i.LaunchTime ?? new Date(0)).toISOString(),
          tags: (i.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
        });
      }
    }
    token = r.NextToken;
  } while (token);
  return out;
}

/**
 * The instances not terminated in a region that were launched at or after `since` (EC2 has no
 * launch-time filter: filtered here) or are named in `ids`.
 */
export async function instancesSince(ec2: EC2Client, region: string, since: Date, ids: readonly string[]): Promise<InstanceInfo[]> {
  const all = await describeInstances(ec2, region, [{ Name: 'instance-state-name', Values: ALIVE }]);
  const named = new Set(ids);
  return all.filter((i) => named.has(i.id) || Date.parse(i.launchTime) >= since.getTime());
}

/** The named instances found in a region (any state); ids not there are simply absent. */
export function findInstances(ec2: EC2Client, region: string, ids: readonly string[]): Promise<InstanceInfo[]> {
  return describeInstances(ec2, region, [{ Name: 'instance-id', Values: [...ids] }]);
}

/** TerminateInstances (repeatable: a terminated instance stays terminated); the states it reports. */
export async function terminate(ec2: EC2Client, region: string, ids: readonly string[]): Promise<{ id: string; state: string }[]> {
  const r = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [...ids] })).catch((e: unknown) => {
    throw wrapAws(e, 'ec2:TerminateInstances', `${ids.length} instance(s) in ${region}`);
  });
  return (r.TerminatingInstances ?? []).map((t) => ({ id: t.InstanceId ?? '', state: t.CurrentState?.Name ?? '' }));
}
