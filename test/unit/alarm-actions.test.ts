import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAlarmActions, logsUrl } from '../../src/alarms/actions';
import type { AlarmModel, AlarmNotification, AlarmThread } from '../../src/alarms/model';
import { parseSnsEvent } from '../../src/alarms/parse';
import { RoleResolver } from '../../src/approvals/roles';
import { parseConfigText } from '../../src/config/load';
import type { DrConfig } from '../../src/config/schema';
import { ForbiddenError, PreconditionError, UnknownResourceError } from '../../src/errors';
import { CATALOGUE, createCatalogue } from '../../src/runbooks/catalogue';
import type { AnyRunInput, RunEngine } from '../../src/runbooks/types';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import type { AuditEvent, StateStore } from '../../src/store/state';
import { threadFromNotification } from '../helpers/alarm-thread';

const ROOT = join(__dirname, '..', '..');
const BASE = parseConfigText(readFileSync(join(ROOT, 'drbot.config.example.yaml'), 'utf8'));
/** UVIEW a viewer, UOPS an operator; anyone else holds no role. */
const CONFIG: DrConfig = { ...BASE, slack: { ...BASE.slack, roles: { viewer: ['UVIEW'], operator: ['UOPS'], approver: [] } } };
const NOW = new Date('2026-10-02T03:11:00Z');

function alarmFrom(fixture: string): AlarmNotification {
  const raw = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'events', fixture), 'utf8')) as unknown;
  const n = parseSnsEvent(raw).records[0];
  if (n?.type !== 'alarm') throw new Error(`${fixture} is not an alarm`);
  return n;
}

/** The replication-lag alarm on spawn-binaries-us-east-1, posted at CALERTS 1700000000.000100. */
function lagThread(alarm: Partial<AlarmModel> = {}, over: Partial<AlarmThread> = {}): AlarmThread {
  const n = alarmFrom('sns-cloudwatch-alarm.json');
  return { ...threadFromNotification({ ...n, alarm: { ...n.alarm, ...alarm } }), version: 1, renderedVersion: 1, ts: '1700000000.000100', ...over };
}

/** The failed `ami-backup` function's alarm. */
function backupThread(alarm: Partial<AlarmModel> = {}): AlarmThread {
  const n = alarmFrom('sns-lambda-errors-alarm.json');
  return { ...threadFromNotification({ ...n, alarm: { ...n.alarm, ...alarm } }), version: 1, renderedVersion: 1, ts: '1700000000.000200' };
}

/** What a click was refused with (undefined when it was not): awaited at once, so no rejection is left unhandled. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Alarm buttons over recording fakes: the engine's starts, the audit, acknowledgements and ephemerals. */
function setup(thread: AlarmThread, opts: { duplicate?: boolean; catalogue?: typeof CATALOGUE } = {}) {
  const starts: Array<{ name: string; input: AnyRunInput }> = [];
  const audits: Array<Omit<AuditEvent, 'id' | 'at'>> = [];
  const acks: Array<{ id: string; user: string }> = [];
  const ephemerals: Array<{ channel: string; user: string; msg: SlackMessage }> = [];
  const engine: RunEngine = {
    start: async (name, input) => {
      starts.push({ name, input });
      return opts.duplicate ? 'duplicate' : 'started';
    },
    approve: () => Promise.reject(new Error('not expected')),
    reject: () => Promise.reject(new Error('not expected')),
  };
  const store = {
    audit: async (e: Omit<AuditEvent, 'id' | 'at'>): Promise<AuditEvent> => {
      audits.push(e);
      return { ...e, id: 'a-1', at: NOW.toISOString() };
    },
  } as unknown as StateStore;
  const slack: SlackPoster = {
    post: () => Promise.reject(new Error('not expected')),
    update: () => Promise.reject(new Error('not expected')),
    ephemeral: async (channel, user, msg) => {
      ephemerals.push({ channel, user, msg });
    },
  };
  const actions = createAlarmActions({
    config: CONFIG,
    threads: {
      getThread: async (id) => (id === thread.id ? thread : undefined),
      acknowledge: async (id, user) => {
        acks.push({ id, user });
        return thread;
      },
    },
    store,
    engine,
    roles: new RoleResolver(CONFIG, async () => []),
    slack,
    now: () => NOW,
    ...(opts.catalogue ? { catalogue: opts.catalogue } : {}),
  });
  return { actions, starts, audits, acks, ephemerals };
}

describe('alarm buttons: Check replication', () => {
  it("starts one check of the alarm's bucket for a viewer, replying in the alarm's thread, and audits it", async () => {
    // Prepare
    const thread = lagThread();
    const { actions, starts, audits } = setup(thread);

    // Act
    await actions.checkReplication(thread.id, 'UVIEW', 'click-1');

    // Assess
    expect(starts).toHaveLength(1);
    const { name, input } = starts[0] ?? { name: '', input: {} };
    expect(name).toBe('dr-check-replication-click-1');
    expect(input).toMatchObject({
      kind: 'check-replication',
      bucket: 'spawn-binaries-us-east-1',
      requester: 'UVIEW',
      channel: 'CALERTS',
      threadTs: '1700000000.000100',
      commandText: '/dr check replication spawn-binaries-us-east-1 (alarm spawn-s3-replication-lag)',
      requestedAt: NOW.toISOString(),
    });
    expect(audits).toEqual([{ actor: 'UVIEW', action: 'alarm-button', target: (input as { commandText: string }).commandText, result: 'pending', runId: (input as { runId: string }).runId }]);
  });

  it('replies in the channel the message is in when it moved, and with no thread when it has none', async () => {
    // Prepare
    const moved = lagThread({}, { tsChannel: 'CCRITICAL' });
    const unposted = lagThread({}, { ts: undefined });
    const a = setup(moved);
    const b = setup(unposted);

    // Act
    await a.actions.checkReplication(moved.id, 'UVIEW', 'click-1');
    await b.actions.checkReplication(unposted.id, 'UVIEW', 'click-2');

    // Assess
    expect(a.starts[0]?.input).toMatchObject({ channel: 'CCRITICAL', threadTs: '1700000000.000100' });
    expect(b.starts[0]?.input.channel).toBe('CALERTS');
    expect(b.starts[0]?.input).not.toHaveProperty('threadTs');
  });

  it('audits nothing for a click the engine already started (a retried delivery)', async () => {
    // Prepare
    const thread = lagThread();
    const { actions, starts, audits } = setup(thread, { duplicate: true });

    // Act
    await actions.checkReplication(thread.id, 'UVIEW', 'click-1');

    // Assess
    expect(starts).toHaveLength(1);
    expect(audits).toEqual([]);
  });

  it('cuts a long alarm name to 80 characters in the command text', async () => {
    // Prepare
    const thread = lagThread({ name: 'n'.repeat(200) });
    const { actions, starts } = setup(thread);

    // Act
    await actions.checkReplication(thread.id, 'UVIEW', 'click-1');

    // Assess
    expect((starts[0]?.input as { commandText: string }).commandText).toBe(`/dr check replication spawn-binaries-us-east-1 (alarm ${'n'.repeat(80)})`);
  });

  it('refuses someone with no role before reading the alarm (an unknown alarm is not revealed as such)', async () => {
    // Prepare
    const { actions, starts, audits } = setup(lagThread());

    // Act
    const refused = actions.checkReplication('arn:aws:cloudwatch:us-east-1:123456789012:alarm:no-such-alarm', 'UEVE', 'click-1');

    // Assess
    await expect(refused).rejects.toThrow(ForbiddenError);
    await expect(refused).rejects.toThrow('You may not check replication: it needs the *viewer* role, and you have no drbot role.');
    expect(starts).toEqual([]);
    expect(audits).toEqual([]);
  });

  it('refuses an alarm that names no bucket, and one on a bucket outside the config; nothing starts', async () => {
    // Prepare
    const noBucket = lagThread({ bucket: undefined });
    const foreign = lagThread({ bucket: 'someone-elses-bucket' });
    const a = setup(noBucket);
    const b = setup(foreign);

    // Act
    const none = await failure(a.actions.checkReplication(noBucket.id, 'UVIEW', 'click-1'));
    const outside = await failure(b.actions.checkReplication(foreign.id, 'UVIEW', 'click-2'));

    // Assess
    expect(none).toBeInstanceOf(PreconditionError);
    expect(none).toMatchObject({ code: 'no_bucket', message: 'Alarm `spawn-s3-replication-lag` names no bucket (no SourceBucket dimension).', hint: 'Run `/dr status` to see every bucket.' });
    expect(outside).toBeInstanceOf(UnknownResourceError);
    expect(outside).toMatchObject({ code: 'unknown_bucket', message: expect.stringContaining('someone-elses-bucket') });
    expect([...a.starts, ...b.starts]).toEqual([]);
  });

  it('refuses a button naming an alarm drbot does not know, quoting at most 60 characters of it', async () => {
    // Prepare
    const { actions, starts } = setup(lagThread());
    const id = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${'x'.repeat(100)}`;

    // Act
    const refused = actions.checkReplication(id, 'UVIEW', 'click-1');

    // Assess
    await expect(refused).rejects.toThrow(UnknownResourceError);
    await expect(refused).rejects.toMatchObject({ code: 'unknown_alarm' });
    await expect(refused).rejects.toThrow(id.slice(0, 60));
    await expect(refused).rejects.not.toThrow(id.slice(0, 61));
    expect(starts).toEqual([]);
  });

  it('says plainly when the catalogue lacks the verb a button needs', async () => {
    // Prepare
    const thread = lagThread();
    const { actions, starts } = setup(thread, { catalogue: createCatalogue([]) });

    // Act
    const refused = actions.checkReplication(thread.id, 'UVIEW', 'click-1');

    // Assess
    await expect(refused).rejects.toThrow('the alarm buttons need the check-replication verb, which is not in the catalogue');
    expect(starts).toEqual([]);
  });
});

describe('alarm buttons: Restore from replica', () => {
  it('starts a restore from the replica for an operator (it then waits for approval)', async () => {
    // Prepare
    const thread = lagThread();
    const { actions, starts, audits } = setup(thread);

    // Act
    await actions.restoreFromReplica(thread.id, 'UOPS', 'click-1');

    // Assess
    expect(starts.map((s) => s.name)).toEqual(['dr-restore-s3-click-1']);
    expect(starts[0]?.input).toMatchObject({
      kind: 'restore-s3',
      bucket: 'spawn-binaries-us-east-1',
      fromReplica: true,
      dryRun: false,
      requester: 'UOPS',
      commandText: '/dr restore s3 spawn-binaries-us-east-1 --from-replica (alarm spawn-s3-replication-lag)',
    });
    expect(audits.map((a) => [a.actor, a.action, a.result])).toEqual([['UOPS', 'alarm-button', 'pending']]);
  });

  it('refuses a viewer, naming the operator role', async () => {
    // Prepare
    const thread = lagThread();
    const { actions, starts } = setup(thread);

    // Act
    const refused = actions.restoreFromReplica(thread.id, 'UVIEW', 'click-1');

    // Assess
    await expect(refused).rejects.toThrow('You may not restore from a replica: it needs the *operator* role, and you are a viewer.');
    expect(starts).toEqual([]);
  });

  it('refuses at the click a bucket with no replica in the config; nothing starts', async () => {
    // Prepare: spawn-results-us-east-1 is in the config without a replica
    const thread = lagThread({ bucket: 'spawn-results-us-east-1' });
    const { actions, starts, audits } = setup(thread);

    // Act
    const refused = actions.restoreFromReplica(thread.id, 'UOPS', 'click-1');

    // Assess
    await expect(refused).rejects.toMatchObject({ code: 'no_replica' });
    expect(starts).toEqual([]);
    expect(audits).toEqual([]);
  });
});

describe('alarm buttons: Run backup now', () => {
  it('reruns the backup that failed (the AMI backup for ami-backup) for an operator', async () => {
    // Prepare
    const thread = backupThread();
    const { actions, starts, audits } = setup(thread);

    // Act
    await actions.runBackup(thread.id, 'UOPS', 'click-1');

    // Assess
    expect(starts.map((s) => s.name)).toEqual(['dr-backup-amis-click-1']);
    expect(starts[0]?.input).toMatchObject({ kind: 'backup-amis', requester: 'UOPS', commandText: '/dr backup amis (alarm spawn-backup-failures)' });
    expect(audits).toHaveLength(1);
  });

  it('refuses a viewer before reading the alarm', async () => {
    // Prepare
    const { actions, starts } = setup(backupThread());

    // Act
    const refused = actions.runBackup('arn:aws:cloudwatch:us-east-1:123456789012:alarm:no-such-alarm', 'UVIEW', 'click-1');

    // Assess
    await expect(refused).rejects.toThrow('You may not run backups: it needs the *operator* role, and you are a viewer.');
    expect(starts).toEqual([]);
  });

  it('will not guess when the alarm does not say which backup failed', async () => {
    // Prepare
    const thread = backupThread({ name: 'spawn-something-failed', functionName: 'spawn-worker', metric: undefined });
    const { actions, starts } = setup(thread);

    // Act
    const refused = actions.runBackup(thread.id, 'UOPS', 'click-1');

    // Assess
    await expect(refused).rejects.toMatchObject({ code: 'unknown_backup', message: 'Alarm `spawn-something-failed` does not say which backup failed, so drbot will not guess.', hint: 'Run the backup by hand: `/dr help` lists the `/dr backup` commands.' });
    expect(starts).toEqual([]);
  });

  it('names the backup verb this drbot does not have', async () => {
    // Prepare
    const thread = backupThread();
    const { actions, starts } = setup(thread, { catalogue: createCatalogue(CATALOGUE.commands.filter((c) => c.id === 'check-replication').map((c) => CATALOGUE.verb(c.id)).filter((v) => v !== undefined)) });

    // Act
    const refused = actions.runBackup(thread.id, 'UOPS', 'click-1');

    // Assess
    await expect(refused).rejects.toMatchObject({ code: 'backup_unavailable', message: 'The failed backup is `/dr backup amis`, which this drbot does not have.', hint: 'Rerun it with the tool that schedules it, or see `/dr help` for the backups drbot can run.' });
    expect(starts).toEqual([]);
  });
});

describe('alarm buttons: Acknowledge', () => {
  it('records a viewer who acknowledges, and audits it under the alarm name', async () => {
    // Prepare
    const thread = lagThread();
    const { actions, acks, audits } = setup(thread);

    // Act
    await actions.acknowledge(thread.id, 'UVIEW');

    // Assess
    expect(acks).toEqual([{ id: thread.id, user: 'UVIEW' }]);
    expect(audits).toEqual([{ actor: 'UVIEW', action: 'acknowledge', target: 'spawn-s3-replication-lag', result: 'ok' }]);
  });

  it('refuses someone with no role and records nothing', async () => {
    // Prepare
    const thread = lagThread();
    const { actions, acks, audits } = setup(thread);

    // Act
    const refused = actions.acknowledge(thread.id, 'UEVE');

    // Assess
    await expect(refused).rejects.toThrow('You may not acknowledge alarms: it needs the *viewer* role, and you have no drbot role.');
    expect(acks).toEqual([]);
    expect(audits).toEqual([]);
  });
});

describe('alarm buttons: View logs and View run', () => {
  it("shows a viewer the function's log group, privately, in the message's channel", async () => {
    // Prepare
    const thread = backupThread();
    const { actions, ephemerals } = setup(thread);

    // Act
    await actions.viewLogs(thread.id, 'UVIEW');

    // Assess
    expect(ephemerals).toEqual([
      { channel: 'CALERTS', user: 'UVIEW', msg: { text: `Logs of \`ami-backup\`: <${logsUrl('us-east-1', 'ami-backup')}|CloudWatch Logs (us-east-1)>` } },
    ]);
  });

  it('takes the function from the FunctionName dimension when the alarm has none of its own', async () => {
    // Prepare
    const thread = backupThread({ functionName: undefined, metric: { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: 'iam-export' } } });
    const { actions, ephemerals } = setup(thread);

    // Act
    await actions.viewLogs(thread.id, 'UVIEW');
    await actions.viewRun(thread.id, 'UVIEW');

    // Assess
    expect(ephemerals[0]?.msg.text).toContain('Logs of `iam-export`');
    expect(ephemerals[1]?.msg.text).toBe(
      [
        'Failed and timed-out runs of `iam-export`: <https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/iam-export?tab=durable-executions|Lambda console (us-east-1), Durable executions>.',
        'From a shell: `aws lambda list-durable-executions-by-function --region us-east-1 --function-name iam-export --statuses FAILED TIMED_OUT`.',
        "Each run's own message in Slack says where it stopped; execution names are `dr-<kind>-…`.",
      ].join('\n'),
    );
  });

  it('points at the log groups of the region when the alarm names no function', async () => {
    // Prepare
    const thread = lagThread({ functionName: undefined, metric: undefined });
    const { actions, ephemerals } = setup(thread);

    // Act
    await actions.viewLogs(thread.id, 'UVIEW');
    await actions.viewRun(thread.id, 'UVIEW');

    // Assess
    expect(ephemerals.map((e) => e.msg.text)).toEqual([
      'Alarm `spawn-s3-replication-lag` names no function; see <https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups|CloudWatch Logs>.',
      'Alarm `spawn-s3-replication-lag` names no function (no FunctionName dimension); `/dr audit` lists recent runs.',
    ]);
  });

  it('answers in the channel the message moved to', async () => {
    // Prepare
    const thread = lagThread({}, { tsChannel: 'CCRITICAL' });
    const { actions, ephemerals } = setup(thread);

    // Act
    await actions.viewLogs(thread.id, 'UVIEW');
    await actions.viewRun(thread.id, 'UVIEW');

    // Assess
    expect(ephemerals.map((e) => e.channel)).toEqual(['CCRITICAL', 'CCRITICAL']);
  });

  it('refuses someone with no role; nothing is shown', async () => {
    // Prepare
    const thread = backupThread();
    const { actions, ephemerals } = setup(thread);

    // Act
    const logs = await failure(actions.viewLogs(thread.id, 'UEVE'));
    const runs = await failure(actions.viewRun(thread.id, 'UEVE'));

    // Assess
    expect(logs).toMatchObject({ message: expect.stringContaining('You may not view logs: it needs the *viewer* role') });
    expect(runs).toMatchObject({ message: expect.stringContaining('You may not view runs: it needs the *viewer* role') });
    expect(ephemerals).toEqual([]);
  });

  it('links the log group with its slashes escaped as the CloudWatch console expects', () => {
    // Act
    const url = logsUrl('eu-west-1', 'spawn-ami-backup');

    // Assess
    expect(url).toBe('https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fspawn-ami-backup');
  });
});
