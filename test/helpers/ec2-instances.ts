import { DescribeImagesCommand, DescribeInstancesCommand, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';

/** EC2 instances for tests, made and read with plain SDK calls (not drbot's adapters, which are what the tests check). */

/** `count` t3.micro instances with these tags, from `imageId` or else an image moto has in the region; their IDs. */
export async function launch(ec2: EC2Client, count: number, tags: Record<string, string>, imageId?: string): Promise<string[]> {
  const image = imageId ?? (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId ?? '';
  const TagSpecifications = Object.keys(tags).length ? [{ ResourceType: 'instance' as const, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] : undefined;
  const r = await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: count, MaxCount: count, InstanceType: 't3.micro', ...(TagSpecifications ? { TagSpecifications } : {}) }));
  return (r.Instances ?? []).map((i) => i.InstanceId ?? '');
}

/** Each named instance's state (running, terminated, …), by ID. */
export async function instanceStates(ec2: EC2Client, ids: readonly string[]): Promise<Record<string, string>> {
  const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }));
  return Object.fromEntries((r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => [i.InstanceId ?? '', i.State?.Name ?? '']));
}
