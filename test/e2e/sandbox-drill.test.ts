import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { localSandboxTools } from '../../src/local/sandbox-tools';
import type { LocalStack } from '../../src/local/stack';
import { click, command, requestRun, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * The sandbox's drill as a newcomer runs it (issue 11's done-when): `/dr backup amis` (the copies a
 * drill launches from), `/dr drill`, approve → measured RTO/RPO, and nothing left behind, checked
 * by listing instances and tables. Then `/dr setup dynamodb` (global-table replicas, which the
 * sandbox's stand-in in src/local/moto-gaps.ts shows and reads from) and a drill that measures the
 * DynamoDB lag too.
 */

jest.setTimeout(240_000);

describe('sandbox: /dr drill', () => {
  const getStack = useLocalStack({ sandboxTools: localSandboxTools });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  const leftovers = async () => {
    const r = await stack.clients.ec2('us-west-2').send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: ['drbot-drill'] }] }));
    const running = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.State?.Name !== 'terminated');
    const tables = ((await stack.clients.dynamodb('us-east-1').send(new ListTablesCommand({}))).TableNames ?? []).filter((t) => t.includes('-drill-'));
    return { running, tables };
  };

  it('a newcomer\'s drills: before any AMI backup the compute step is skipped and said, with a Back up AMIs button; after backup amis, measured RTO and RPO; after setup dynamodb (replicas in us-west-2), each table\'s lag too; no instance or table left, and the history shows the three', async () => {
    // One scenario, in the order a newcomer runs it: each drill's findings follow from the steps before it.
    // act: a drill before any AMI backup
    const first = await requestRun(stack, 'alice', 'drill');
    await click(stack, 'bob', first.message, 'run_approve');

    // assess: the compute step skipped and said, the rest measured and removed, with a Back up AMIs button
    expect(runSummary(stack, first.runId)).toMatchObject({ status: 'failed' });
    const done = runMessage(stack.standIn, first.runId);
    const firstText = textOf(done);
    expect(firstText).toContain('no available backup AMI in us-west-2');
    expect(firstText).toMatch(/✅ RPO S3 `spawn-binaries-us-east-1` → `spawn-binaries-us-west-2-backup`: \d+ s/);
    const labels = JSON.stringify(done?.blocks ?? []);
    expect(labels).toContain('Back up AMIs');
    expect(await leftovers()).toEqual({ running: [], tables: [] });

    // act: backup amis, then a drill, approved
    expect(runSummary(stack, runIdOf(await command(stack, 'alice', 'backup amis')))).toMatchObject({ status: 'succeeded' });
    const second = await requestRun(stack, 'alice', 'drill');
    await click(stack, 'bob', second.message, 'run_approve');

    // assess: measured RTO and RPO, and no instance or table left
    expect(runSummary(stack, second.runId)).toMatchObject({ status: 'succeeded' });
    const secondText = textOf(runMessage(stack.standIn, second.runId));
    expect(secondText).toMatch(/✅ RTO compute \(t3\.nano from `ami-[0-9a-f]+`\): \d+ s/);
    expect(secondText).toMatch(/✅ RPO S3 `spawn-binaries-us-east-1` → `spawn-binaries-us-west-2-backup`: \d+ s/);
    expect(secondText).toMatch(/✅ RTO restore `spawn-instances` → `spawn-instances-drill-r-[0-9a-f]{12}`: \d+ s/);
    expect(secondText).toContain('*Removed:* instance');
    expect(await leftovers()).toEqual({ running: [], tables: [] });

    // act: setup dynamodb, approved, then a drill
    const setup = await requestRun(stack, 'alice', 'setup dynamodb');
    await click(stack, 'bob', setup.message, 'run_approve');
    expect(runSummary(stack, setup.runId)).toMatchObject({ status: 'succeeded' });
    const third = await requestRun(stack, 'alice', 'drill');
    await click(stack, 'bob', third.message, 'run_approve');

    // assess: each table's lag measured too
    expect(runSummary(stack, third.runId)).toMatchObject({ status: 'succeeded' });
    const thirdText = textOf(runMessage(stack.standIn, third.runId));
    for (const t of ['spawn-instances', 'spawn-queues', 'spawn-alerts']) expect(thirdText).toMatch(new RegExp(`✅ RPO DynamoDB \`${t}\` → us-west-2: \\d+ s`));
    expect(await leftovers()).toEqual({ running: [], tables: [] });
    // the history shows the three drills
    const history = await command(stack, 'carol', 'drill history');
    expect(textOf(runMessage(stack.standIn, runIdOf(history)))).toContain('The last 3 drills*');
  });
});
