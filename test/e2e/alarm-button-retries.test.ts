import { localAlarms } from '../../src/local/alarms';
import { SANDBOX_ALERTS_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { StoredMessage } from '../../src/local/slack-standin';
import type { LocalStack } from '../../src/local/stack';
import { buttons, command, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, fault 6: the same signed click, delivered again (a Slack retry or a replay), starts
 * one run, for every alarm button that starts one.
 */
describe('alarm buttons clicked again with the same trigger id', () => {
  const getStack = useLocalStack({ alarms: localAlarms });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  async function lagAlarm(): Promise<StoredMessage> {
    await command(stack, 'alice', 'simulate alarm replication-lag');
    const msg = stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).find((m) => !m.threadTs && textOf(m).includes('replication-lag'));
    if (!msg) throw new Error('no alarm message');
    return msg;
  }

  it.each([
    ['Check replication', 'alice'],
    ['Restore from replica', 'alice'],
  ] as const)('%s sent four times with one trigger id starts one run', async (label, user) => {
    // prepare
    const msg = await lagAlarm();
    const button = buttons(msg).find((b) => b.text === label);
    if (!button) throw new Error(`no ${label} button`);
    const before = stack.engine.names().length;
    const triggerId = `retry-${label.replace(/\W/g, '')}-1`;

    // act
    for (let i = 0; i < 4; i++) {
      await stack.client.click({ user: SANDBOX_USERS[user], channel: msg.channel, messageTs: msg.ts, messageText: msg.text, blocks: msg.blocks, button, triggerId });
    }
    await stack.engine.idle();

    // assess
    expect(stack.engine.names().length - before).toBe(1);
    const runs = (await stack.store.listAudit(100)).filter((e) => e.action === 'alarm-button' && e.target.includes(label === 'Check replication' ? '/dr check replication' : '--from-replica'));
    expect(runs).toHaveLength(1);
  });
});
