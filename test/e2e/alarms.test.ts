import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createAlarmActions } from '../../src/alarms/actions';
import { handleSnsEvent } from '../../src/alarms/handle';
import { createAlarmService } from '../../src/alarms/service';
import { simulatedSnsEvent } from '../../src/alarms/simulate';
import { DynamoAlarmStore } from '../../src/alarms/store';
import { localAlarms } from '../../src/local/alarms';
import { SANDBOX_ALERTS_CHANNEL, SANDBOX_CRITICAL_CHANNEL } from '../../src/local/sandbox';
import type { StoredMessage } from '../../src/local/slack-standin';
import type { LocalStack, LocalStackOptions } from '../../src/local/stack';
import { buttons, click, command, ephemeralsFor, startSandboxStack, textOf, useLocalStack } from '../helpers/flow';

/** Every alarm thread, digest and delivery record dropped: each test starts with no alarm open. */
async function forgetAlarms(stack: LocalStack): Promise<void> {
  const items = (await stack.store.doc.send(new ScanCommand({ TableName: stack.store.tableName, ProjectionExpression: 'pk, sk' }))).Items ?? [];
  for (const { pk, sk } of items) {
    if (/^(ALARM|DIGEST)/.test(String(pk))) await stack.store.doc.send(new DeleteCommand({ TableName: stack.store.tableName, Key: { pk, sk } }));
  }
}

/**
 * Alarms end to end in the sandbox: `/dr simulate alarm` delivers an SNS-shaped event to the
 * alarm service, the message lands in the alerts channel, and its buttons go back in through the
 * signed Slack edge with the same authorization as commands.
 */
describe('alarms in Slack', () => {
  const getStack = useLocalStack({ alarms: localAlarms });
  let stack: LocalStack;
  /** The alerts channel's messages from before this test: theirs, not this test's. */
  let earlier = new Set<string>();
  beforeAll(() => {
    stack = getStack();
  });
  let earlierCritical = new Set<string>();
  beforeEach(async () => {
    await forgetAlarms(stack);
    earlier = new Set(stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).map((m) => m.ts));
    earlierCritical = new Set(stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL).map((m) => m.ts));
  });

  /** This test's replication-lag alarm messages (top level, not thread replies). */
  const alarmMessages = (channel = SANDBOX_ALERTS_CHANNEL): StoredMessage[] =>
    stack.standIn.channelMessages(channel).filter((m) => !m.threadTs && !earlier.has(m.ts) && textOf(m).includes('replication-lag'));
  /** A replication-lag alarm raised, and its message. */
  const lagAlarm = async (): Promise<StoredMessage> => {
    await command(stack, 'alice', 'simulate alarm replication-lag');
    const [msg] = alarmMessages();
    if (!msg) throw new Error('the simulated alarm posted no message');
    return msg;
  };

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
    const msg = await lagAlarm();
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
    // Prepare: the lag alarm with its action buttons
    const msg = await lagAlarm();
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

  it('the Run … backup button reruns the backup that failed, in the alarm thread, for an operator only', async () => {
    // prepare
    await command(stack, 'alice', 'simulate alarm backup-failure');
    const msg = stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL).find((m) => !m.threadTs && !earlierCritical.has(m.ts) && /backup-failures/.test(textOf(m)));
    if (!msg) throw new Error('no backup-failure alarm message');
    const label = buttons(msg).find((b) => b.action_id === 'alarm_run_backup')?.text ?? '';
    expect(label).toMatch(/^Run .*backup/i);
    const runsBefore = stack.engine.names().length;

    // act: a viewer, then an operator
    await click(stack, 'carol', msg, label);
    const afterCarol = stack.engine.names().length;
    await click(stack, 'alice', msg, label);
    await stack.engine.idle();

    // assess
    expect(afterCarol).toBe(runsBefore);
    expect(ephemeralsFor(stack.standIn, 'carol', SANDBOX_CRITICAL_CHANNEL).map(textOf).at(-1)).toMatch(/operator/);
    expect(stack.engine.names()).toHaveLength(runsBefore + 1);
    const audit = (await stack.store.listAudit(50)).filter((e) => e.action === 'alarm-button' && e.actor === 'UALICE');
    expect(audit[0]?.target).toMatch(/^\/dr backup amis \(alarm .*backup-failures\)$/);
    const inThread = stack.standIn.channelMessages(SANDBOX_CRITICAL_CHANNEL).filter((m) => m.threadTs === msg.ts && textOf(m).includes(audit[0]?.runId ?? '-'));
    expect(inThread).toHaveLength(1);
  });

  it('refuses a forged alarm button value and changes nothing', async () => {
    // Prepare
    const msg = await lagAlarm();
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

/**
 * Alarm wiring whose `/dr simulate alarm` raises the lag alarm of a bucket drbot does not manage,
 * as a CloudWatch alarm on someone else's bucket would if it published to drbot's topic.
 */
const FOREIGN = 'spawn-not-in-the-config';
const foreignAlarms: NonNullable<LocalStackOptions['alarms']> = (core) => {
  const service = createAlarmService({ store: new DynamoAlarmStore({ client: core.store.doc, tableName: core.store.tableName }), slack: core.poster, config: core.config, clock: core.now, log: (m, extra) => core.log.info(m, extra) });
  const actions = createAlarmActions({ config: core.config, threads: service, store: core.store, engine: core.engine, roles: core.roles, slack: core.poster, now: core.now, catalogue: core.catalogue });
  const elsewhere = { ...core.config, s3: { buckets: [{ name: FOREIGN, replica: { bucket: `${FOREIGN}-replica`, region: core.config.regions.backup } }] } };
  return {
    actions,
    simulate: async (kind) => {
      await handleSnsEvent(simulatedSnsEvent(kind, elsewhere, core.now()), service, core.log, core.now());
    },
  };
};

describe('alarm buttons on a bucket outside the config', () => {
  const getStack = useLocalStack({ alarms: foreignAlarms, seed: false });

  it.each(['Check replication', 'Restore from replica'])('refuses %s for an operator, naming the bucket; no run starts', async (label) => {
    // prepare
    const stack = getStack();
    await command(stack, 'alice', 'simulate alarm replication-lag');
    const msg = stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).find((m) => !m.threadTs && textOf(m).includes(FOREIGN));
    expect(buttons(msg).map((b) => b.text)).toContain(label);
    const runsBefore = stack.engine.names().length;
    const seen = ephemeralsFor(stack.standIn, 'alice', SANDBOX_ALERTS_CHANNEL).length;

    // act: alice is an operator, so only the bucket can stop her
    await click(stack, 'alice', msg as StoredMessage, label);

    // assess
    expect(stack.engine.names()).toHaveLength(runsBefore);
    const told = ephemeralsFor(stack.standIn, 'alice', SANDBOX_ALERTS_CHANNEL).slice(seen).map(textOf).join('\n');
    expect(told).toContain(FOREIGN);
    expect(told).toContain('Unknown bucket');
    expect(stack.standIn.channelMessages(SANDBOX_ALERTS_CHANNEL).filter((m) => m.threadTs === msg?.ts && /Waiting for approval/.test(textOf(m)))).toEqual([]);
  });
});

describe('/dr simulate outside the sandbox', () => {
  it('is refused when no simulator is wired (real AWS)', async () => {
    // Prepare: a stack without alarm wiring stands in for --aws, where simulate is never given
    const stack = await startSandboxStack({ seed: false });
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
