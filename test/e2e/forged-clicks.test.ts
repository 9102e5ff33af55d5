import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { buttons, ephemeralsFor, latestMarkerKeys, requestRun, runSummary, snapshot, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, fault 7: a click is trusted no further than its message and its workspace. Signed
 * requests into the real Bolt app; the sandbox config names the workspace (slack.teamId).
 */

const BUCKET = 'spawn-binaries-us-east-1';

describe('clicks bound to their message and workspace', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  async function auditFor(target: string, detail: string) {
    return (await stack.store.listAudit(100)).filter((e) => e.action === 'click' && e.result === 'refused' && e.target.includes(target) && e.detail === detail);
  }

  it('click-on-another-message: an Approve naming approval B pressed on A’s message is refused, and neither runs', async () => {
    // prepare: two plans waiting, A (dry of nothing: a prefix) and B (the whole bucket)
    const a = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/`);
    const b = await requestRun(stack, 'alice', `restore s3 ${BUCKET}`);
    const markers = await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET);
    const deletes = jest.spyOn(stack.clients.s3('us-east-1'), 'send');
    const approveB = buttons(b.message).find((x) => x.action_id === 'run_approve');
    if (!approveB) throw new Error('B has no Approve button');

    // act: bob presses on A's message a button whose value names B
    await stack.client.click({ user: SANDBOX_USERS.bob, channel: a.message.channel, messageTs: a.message.ts, messageText: a.message.text, blocks: a.message.blocks, button: approveB });
    await stack.engine.idle();

    // assess
    expect(textOf(ephemeralsFor(stack.standIn, 'bob').at(-1))).toContain('That button does not belong to this message; nothing was changed.');
    expect(deletes.mock.calls.filter(([c]) => c instanceof DeleteObjectsCommand)).toHaveLength(0);
    expect(runSummary(stack, a.runId)).toBeUndefined();
    expect(runSummary(stack, b.runId)).toBeUndefined();
    expect(textOf(stack.standIn.message(a.message.channel, a.message.ts))).toBe(textOf(a.message));
    expect(textOf(stack.standIn.message(b.message.channel, b.message.ts))).toBe(textOf(b.message));
    expect(await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET)).toEqual(markers);
    expect(await auditFor(b.approvalId, 'wrong_message')).toHaveLength(1);
    deletes.mockRestore();
  });

  it('wrong-team: a command and a click from another workspace change nothing and are recorded', async () => {
    // prepare
    const pending = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix lib/`);
    const before = snapshot(pending.message);
    const approve = buttons(pending.message).find((x) => x.action_id === 'run_approve');
    if (!approve) throw new Error('no Approve button');
    const runsBefore = stack.engine.names().length;

    // act
    const cmd = await stack.client.command({ user: SANDBOX_USERS.alice, channel: SANDBOX_CHANNEL, text: `restore s3 ${BUCKET}`, team: 'TINTRUDER' });
    await stack.client.click({ user: SANDBOX_USERS.bob, channel: before.channel, messageTs: before.ts, messageText: before.text, blocks: before.blocks, button: approve, team: 'TINTRUDER' });
    await stack.engine.idle();

    // assess
    expect(cmd.json?.text).toContain('This drbot serves another Slack workspace.');
    expect(stack.engine.names()).toHaveLength(runsBefore);
    expect(runSummary(stack, pending.runId)).toBeUndefined();
    expect(textOf(stack.standIn.message(before.channel, before.ts))).toBe(textOf(before));
    expect(await auditFor(pending.approvalId, 'wrong_team')).toHaveLength(1);
    const commands = (await stack.store.listAudit(100)).filter((e) => e.action === 'command' && e.detail === 'wrong_team');
    expect(commands).toHaveLength(1);
  });
});
