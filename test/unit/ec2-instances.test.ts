import { DescribeInstancesCommand, DescribeInstanceStatusCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { instanceHealth, launchInstances, terminateInstances } from '../../src/aws/ec2-instances';

/*
 * The EC2 adapter of /dr failover with AWS's real shapes (aws-sdk-client-mock): the exact
 * RunInstances input, DescribeInstanceStatus's 100-ID limit and paging, and errors named.
 */

describe('failover EC2 adapter', () => {
  const ec2 = new EC2Client({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const mock = mockClient(ec2);
  afterEach(() => mock.reset());

  it('launches with the exact settings, tags at launch on instances and volumes, a profile by name or by ARN', async () => {
    // prepare
    mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-1', State: { Name: 'pending' }, InstanceType: 'c5.large', ImageId: 'ami-c', PrivateIpAddress: '10.0.0.1', Tags: [{ Key: 'drbot-failover', Value: 'r-1' }] }] });

    // act
    const byName = await launchInstances(ec2, { imageId: 'ami-c', type: 'c5.large', count: 2, subnetId: 'subnet-1', securityGroupIds: ['sg-1'], instanceProfile: 'spawn-worker', tags: { 'drbot-failover': 'r-1' }, clientToken: 'x'.repeat(80) });
    await launchInstances(ec2, { imageId: 'ami-c', type: 'c5.large', count: 1, instanceProfile: 'arn:aws:iam::123456789012:instance-profile/spawn-worker', tags: {}, clientToken: 't' });

    // assess
    expect(byName).toEqual([{ id: 'i-1', state: 'pending', type: 'c5.large', imageId: 'ami-c', privateIp: '10.0.0.1', tags: { 'drbot-failover': 'r-1' } }]);
    expect(mock.commandCalls(RunInstancesCommand)[0]?.args[0].input).toEqual({
      ImageId: 'ami-c',
      InstanceType: 'c5.large',
      MinCount: 2,
      MaxCount: 2,
      ClientToken: 'x'.repeat(64),
      SubnetId: 'subnet-1',
      SecurityGroupIds: ['sg-1'],
      IamInstanceProfile: { Name: 'spawn-worker' },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'drbot-failover', Value: 'r-1' }] },
        { ResourceType: 'volume', Tags: [{ Key: 'drbot-failover', Value: 'r-1' }] },
      ],
    });
    expect(mock.commandCalls(RunInstancesCommand)[1]?.args[0].input.IamInstanceProfile).toEqual({ Arn: 'arn:aws:iam::123456789012:instance-profile/spawn-worker' });
  });

  it('reads status checks 100 IDs a call, every page, and passes only running instances with both checks ok', async () => {
    // prepare
    const ids = Array.from({ length: 150 }, (_, i) => `i-${i}`);
    mock.on(DescribeInstancesCommand).callsFake(async (input: { InstanceIds: string[] }) => ({ Reservations: [{ Instances: input.InstanceIds.map((InstanceId) => ({ InstanceId, State: { Name: 'running' } })) }] }));
    mock.on(DescribeInstanceStatusCommand).callsFake(async (input: { InstanceIds: string[]; NextToken?: string }) => {
      const half = Math.ceil(input.InstanceIds.length / 2);
      const part = input.NextToken ? input.InstanceIds.slice(half) : input.InstanceIds.slice(0, half);
      return {
        InstanceStatuses: part.map((InstanceId) => ({ InstanceId, InstanceState: { Name: 'running' }, InstanceStatus: { Status: InstanceId === 'i-7' ? 'initializing' : 'ok' }, SystemStatus: { Status: 'ok' } })),
        ...(input.NextToken ? {} : { NextToken: 'n' }),
      };
    });

    // act
    const r = await instanceHealth(ec2, ids);

    // assess
    expect(mock.commandCalls(DescribeInstanceStatusCommand).map((c) => c.args[0].input.InstanceIds?.length)).toEqual([100, 100, 50, 50]);
    expect(mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.InstanceIds?.length)).toEqual([100, 50]);
    expect(r.health.filter((h) => !h.checksOk)).toEqual([{ id: 'i-7', state: 'running', checksOk: false, detail: 'running, instance check initializing, system check ok' }]);
    expect(r.instances).toHaveLength(150);
  });

  it('names the call and the instances when EC2 refuses a termination', async () => {
    // prepare
    mock.on(TerminateInstancesCommand).rejects(Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation' }));

    // act + assess
    await expect(terminateInstances(ec2, ['i-1'])).rejects.toMatchObject({ code: 'aws_access_denied', message: expect.stringContaining('TerminateInstances on `i-1` failed') });
  });
});
