import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { command, runIdOf, runSummary, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, faults 2 and 3: a run whose first post fails (Slack down, or the state table failing
 * right after the post) must neither lose its work and record nor post twice.
 */

describe('the first post of a run', () => {
  const getStack = useLocalStack({ slackRetry: { attempts: 2, baseDelayMs: 10 } });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  afterEach(() => {
    delete stack.standIn.fault;
    jest.restoreAllMocks();
  });

  it('slack-500-at-post: with Slack down the backup still runs, and its record and audit say how it ended', async () => {
    // prepare
    const ddb = stack.clients.dynamodb('us-east-1');
    const count = async () => (await ddb.send(new ListBackupsCommand({ TableName: 'spawn-queues' }))).BackupSummaries?.length ?? 0;
    const before = await count();
    stack.standIn.fault = (method) => (method === 'chat.postMessage' || method === 'chat.update' ? { status: 500 } : undefined);

    // act
    const reply = await command(stack, 'alice', 'backup dynamodb spawn-queues');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await count()).toBe(before + 1);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded', ts: '' });
    const audit = (await stack.store.listAudit(100)).filter((e) => e.runId === runId && e.action === 'result');
    expect(audit).toMatchObject([{ result: 'succeeded' }]);
  });

  it('state-table-fails-after-post: the record is retried on its own, and the message is posted once', async () => {
    // prepare: the run record's first two writes fail
    const real = stack.store.putRun.bind(stack.store);
    let failures = 0;
    jest.spyOn(stack.store, 'putRun').mockImplementation(async (r) => {
      if (failures++ < 2) throw new Error('ProvisionedThroughputExceededException');
      return real(r);
    });
    const postsBefore = stack.standIn.callsOf('chat.postMessage').length;

    // act
    const reply = await command(stack, 'alice', 'status');

    // assess
    const runId = runIdOf(reply);
    expect(failures).toBe(3);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const posts = stack.standIn.callsOf('chat.postMessage').slice(postsBefore).filter((c) => String(c.args.channel) === SANDBOX_CHANNEL);
    expect(posts).toHaveLength(1);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
  });
});
