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

  it('a drill before any AMI backup: the compute step is skipped and said, the rest measured and removed, with a Back up AMIs button', async () => {
    // act
    const { runId, message } = await requestRun(stack, 'alice', 'drill');
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const done = runMessage(stack.standIn, runId);
    const text = textOf(done);
    expect(text).toContain('no available backup AMI in us-west-2');
    expect(text).toMatch(/✅ RPO S3 `spawn-binaries-us-east-1` → `spawn-binaries-us-west-2-backup`: \d+ s/);
    const labels = JSON.stringify(done?.blocks ?? []);
    expect(labels).toContain('Back up AMIs');
    expect(await leftovers()).toEqual({ running: [], tables: [] });
  });

  it('backup amis, then drill, approved: measured RTO and RPO, and no instance or table left', async () => {
    // prepare
    expect(runSummary(stack, runIdOf(await command(stack, 'alice', 'backup amis')))).toMatchObject({ status: 'succeeded' });

    // act
    const { runId, message } = await requestRun(stack, 'alice', 'drill');
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = textOf(runMessage(stack.standIn, runId));
    expect(text).toMatch(/✅ RTO compute \(t3\.nano from `ami-[0-9a-f]+`\): \d+ s/);
    expect(text).toMatch(/✅ RPO S3 `spawn-binaries-us-east-1` → `spawn-binaries-us-west-2-backup`: \d+ s/);
    expect(text).toMatch(/✅ RTO restore `spawn-instances` → `spawn-instances-drill-r-[0-9a-f]{12}`: \d+ s/);
    expect(text).toContain('*Removed:* instance');
    expect(await leftovers()).toEqual({ running: [], tables: [] });
  });

  it('after setup dynamodb (replicas in us-west-2), the drill measures each table\'s lag too', async () => {
    // prepare
    const setup = await requestRun(stack, 'alice', 'setup dynamodb');
    await click(stack, 'bob', setup.message, 'run_approve');
    expect(runSummary(stack, setup.runId)).toMatchObject({ status: 'succeeded' });

    // act
    const { runId, message } = await requestRun(stack, 'alice', 'drill');
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = textOf(runMessage(stack.standIn, runId));
    for (const t of ['spawn-instances', 'spawn-queues', 'spawn-alerts']) expect(text).toMatch(new RegExp(`✅ RPO DynamoDB \`${t}\` → us-west-2: \\d+ s`));
    expect(await leftovers()).toEqual({ running: [], tables: [] });
    // the history shows both drills
    const history = await command(stack, 'carol', 'drill history');
    expect(textOf(runMessage(stack.standIn, runIdOf(history)))).toContain('The last 3 drills*');
  });
});
