import { localAlarms } from '../../src/local/alarms';
import { SANDBOX_ALERTS_CHANNEL, SANDBOX_CRITICAL_CHANNEL } from '../../src/local/sandbox';
import type { StoredMessage } from '../../src/local/slack-standin';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { buttons, click, command, ephemeralsFor, textOf, useLocalStack } from '../helpers/flow';

/**
 * Alarms end to end in the sandbox: `/dr simulate alarm` delivers an SNS-shaped event to the
 * alarm service, the message lands in the alerts channel, and its buttons go back in through the
 * signed Slack edge with the same authorization as commands.
 */
describe('alarms in Slack', () => {
  const getStack = useLocalStack({ alarms: localAlarms });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  const alarmMessages = (channel = SANDBOX_ALERTS_CHANNEL): StoredMessage[] =>
    stack.standIn.channelMessages(channel).filter((m) => !m.threadTs && textOf(m).includes('replication-lag'));

  it('keeps one message per alarm, updated in place from ALARM through a repeat to resolved', async () => {
    // Act
    await command(stack, 'alice', 'simulate alarm replication-lag');
    const first = alarmMessages();
    await command(stack, 'alice', 'simulate alarm replication-lag');
    await command(stack, 'alice', 'simulate alarm ok');
    // Assess
    expect(first).toHaveLength(1);
    const all = alarmMessages();
    expect(all).toHaveLength(1);
    const msg = all[0] as StoredMessage;
    expect(msg.ts).toBe((first[0] as StoredMessage).ts);
    expect(textOf(msg)).toMatch(/Resolved/);
    expect(textOf(msg)).toMatch(/Seen 2 times|×2/);
    const replies = stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).filter((m) => m.threadTs === msg.ts);
    expect(replies.some((r) => /resolved/.test(textOf(r)))).toBe(true);
  });

  it('refuses Acknowledge from someone with no role and records a viewer who acknowledges', async () => {
    // Prepare
    const msg = alarmMessages()[0] as StoredMessage;
    expect(buttons(msg).map((b) => b.text)).toContain('Acknowledge');
    // Act
    await click(stack, 'eve', msg, 'Acknowledge');
    const afterEve = stack.standIn.message(msg.channel, msg.ts) as StoredMessage;
    await click(stack, 'carol', afterEve, 'Acknowledge');
    // Assess
    expect(ephemeralsFor(stack.standIn, 'eve', SANDBOX_ALERTS_CHANNEL).map(textOf).join('\n')).toMatch(/viewer/);
    const updated = stack.standIn.message(msg.channel, msg.ts) as StoredMessage;
    expect(textOf(updated)).toMatch(/Acknowledged by @carol/);
    expect(buttons(updated).map((b) => b.text)).not.toContain('Acknowledge');
    const audit = await stack.store.listAudit(20);
    expect(audit.some((e) => e.action === 'acknowledge' && e.actor === 'UCAROL' && e.result === 'ok')).toBe(true);
    // A refused alarm-button click is recorded, as a refused approval click is.
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'UEVE', action: 'click', target: 'alarm_ack spawn-s3-replication-lag', result: 'refused', detail: 'forbidden' }));
  });

  it('lets only an operator start Restore from replica, as an approval in the alarm thread', async () => {
    // Prepare: a fresh episode of the lag alarm with its action buttons
    await command(stack, 'alice', 'simulate alarm replication-lag');
    const msg = alarmMessages()[0] as StoredMessage;
    expect(buttons(msg).map((b) => b.text)).toContain('Restore from replica');
    const runsBefore = stack.engine.names().length;
    // Act
    await click(stack, 'carol', msg, 'Restore from replica');
    const runsAfterCarol = stack.engine.names().length;
    await click(stack, 'alice', msg, 'Restore from replica');
    // Assess
    expect(runsAfterCarol).toBe(runsBefore);
    expect(ephemeralsFor(stack.standIn, 'carol', SANDBOX_ALERTS_CHANNEL).map(textOf).join('\n')).toMatch(/operator/);
    expect(stack.engine.names().length).toBe(runsBefore + 1);
    const threadRun = stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).find((m) => m.threadTs === msg.ts && /Copy back/.test(textOf(m)));
    expect(threadRun).toBeDefined();
    expect(textOf(threadRun)).toMatch(/Waiting for approval/);
    expect(buttons(threadRun).map((b) => b.action_id)).toEqual(['run_approve', 'run_reject']);
  });

  it('posts a payload that is not an alarm as a generic notice, with mentions defused', async () => {
    // Act
    await command(stack, 'alice', 'simulate alarm garbage');
    // Assess
    const notice = stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).find((m) => /Notice/.test(m.text + textOf(m)));
    expect(notice).toBeDefined();
    const raw = JSON.stringify(notice?.blocks);
    expect(raw).toContain('not JSON');
    expect(raw).not.toContain('<@channel>');
  });

  it('routes a backup failure to the critical channel with Run backup now and View logs', async () => {
    // Act
    await command(stack, 'alice', 'simulate alarm backup-failure');
    // Assess
    const msg = stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL).find((m) => /backup-failures/.test(textOf(m)));
    expect(buttons(msg).map((b) => b.action_id)).toEqual(expect.arrayContaining(['alarm_run_backup', 'alarm_view_logs', 'alarm_ack']));
    await click(stack, 'carol', msg as StoredMessage, 'View logs');
    expect(ephemeralsFor(stack.standIn, 'carol', SANDBOX_CRITICAL_CHANNEL).map(textOf).join('\n')).toMatch(/spawn-ami-backup/);
  });

  it('refuses a forged alarm button value and changes nothing', async () => {
    // Prepare
    const msg = alarmMessages()[0] as StoredMessage;
    const before = JSON.stringify(stack.standIn.message(msg.channel, msg.ts)?.blocks);
    // Act
    await stack.client.click({
      user: 'UCAROL',
      channel: msg.channel,
      messageTs: msg.ts,
      messageText: msg.text,
      blocks: msg.blocks,
      button: { action_id: 'alarm_ack', value: '<script>"; DROP', text: 'Acknowledge' },
    });
    // Assess
    expect(ephemeralsFor(stack.standIn, 'carol', SANDBOX_ALERTS_CHANNEL).map(textOf).join('\n')).toMatch(/not one of ours/);
    expect(JSON.stringify(stack.standIn.message(msg.channel, msg.ts)?.blocks)).toBe(before);
  });
});

describe('/dr simulate outside the sandbox', () => {
  it('is refused when no simulator is wired (real AWS)', async () => {
    // Prepare: a stack without alarm wiring stands in for --aws, where simulate is never given
    const stack = await startLocalStack({ mode: 'sandbox', skipTime: true, seed: false });
    try {
      // Act
      const reply = await command(stack, 'alice', 'simulate alarm replication-lag');
      // Assess
      expect(reply.json?.text).toMatch(/only in the local sandbox/);
      expect(stack.standIn.callsOf('chat.postMessage')).toHaveLength(0);
    } finally {
      await stack.close();
    }
  }, 60_000);
});
