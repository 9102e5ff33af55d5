import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { LocalStack } from '../../src/local/stack';
import type { StoredMessage } from '../../src/local/slack-standin';
import { click, ephemeralsFor, requestRun, runMessage, snapshot, textOf, useLocalStack } from '../helpers/flow';

describe('an approval whose decision did not reach the run', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  it('is delivered again by the next approver click, and the run executes once', async () => {
    // Prepare: the first callback to the run fails (as SendDurableExecutionCallbackSuccess might)
    const { runId, message } = await requestRun(stack, 'alice', 'restore s3 spawn-binaries-us-east-1');
    const realApprove = stack.engine.approve.bind(stack.engine);
    let calls = 0;
    stack.engine.approve = async (callbackId, payload) => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
      return realApprove(callbackId, payload);
    };

    // Act: bob's approval is recorded but not delivered; dave's click delivers it
    await click(stack, 'bob', message, 'Approve');
    const parked = (await stack.store.getRun(runId))?.status;
    const afterFailure = snapshot(runMessage(stack.standIn, runId) as StoredMessage);
    await click(stack, 'dave', afterFailure, 'Approve');

    // Assess
    expect(parked).toBe('awaiting_approval');
    expect(textOf(afterFailure)).toMatch(/did not reach the run; press Approve again/);
    expect(ephemeralsFor(stack.standIn, 'bob').map(textOf).join('\n')).toMatch(/ETIMEDOUT|went wrong/);
    expect(ephemeralsFor(stack.standIn, 'dave').map(textOf).join('\n')).toMatch(/delivered it again/);
    expect(calls).toBe(2);
    expect((await stack.store.getRun(runId))?.status).toBe('succeeded');
    expect(textOf(runMessage(stack.standIn, runId) as StoredMessage)).toMatch(/Done/);
    const versions = await stack.clients.s3().send(new ListObjectVersionsCommand({ Bucket: 'spawn-binaries-us-east-1' }));
    expect((versions.DeleteMarkers ?? []).filter((m) => m.IsLatest)).toHaveLength(0);
    const audit = await stack.store.listAudit(30);
    expect(audit.filter((e) => e.runId === runId && e.action === 'result')).toHaveLength(1);
  });
});
