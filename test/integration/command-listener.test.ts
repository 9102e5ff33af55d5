/**
 * The `/dr` listener (src/slack/listeners/commands/index.ts) called directly, with the real state
 * store on dynalite, the real parser, catalogue and role resolver: what each command answers, starts
 * and records. The signed-request path in front of it is tested by the e2e and edge tests; these are
 * cheap enough for `npm run mutate`.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { drCommand, register, requestId } from '../../src/slack/listeners/commands';
import { AckTail, withAckTail } from '../../src/slack/ack-tail';
import { createCatalogue, VERBS } from '../../src/runbooks/catalogue';
import { INLINE_COMMANDS } from '../../src/slack/inline';
import { defineCommand } from '../../src/runbooks/verb';
import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../src/slack/deps';
import type { SlackMessage } from '../../src/slack/poster';
import { newId } from '../../src/store/state';
import { useDynalite } from '../helpers/dynalite';
import { type ListenerRig, listenerRig, T0 } from '../helpers/listener-deps';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const db = useDynalite();
/** What the parser calls a bucket that is not in the config. */
const CODE_OF_UNKNOWN_BUCKET = 'unknown_bucket';
const OPS = 'CSANDBOXOPS';

/** What `ack` was called with, in order (undefined for a bare ack). */
type Acked = Array<{ response_type?: string; text?: string; blocks?: unknown[] } | undefined>;

async function dr(deps: SlackDeps, user: string, text: string | undefined, over: { channel?: string; team?: string; trigger?: string } = {}): Promise<Acked> {
  const acked: Acked = [];
  const command = { ...(text === undefined ? {} : { text }), user_id: user, channel_id: over.channel ?? OPS, team_id: over.team ?? 'TSANDBOX', trigger_id: over.trigger ?? `trig-${user}-${text}`, command: '/dr' };
  const ack = async (r?: Acked[number]) => {
    acked.push(r);
  };
  await drCommand(deps)({ command, ack } as unknown as CommandArgs);
  return acked;
}

/** The command handled the way the edge does (an ack tail collecting post-ack work); the names of that work, in order. */
async function deferred(deps: SlackDeps, user: string, text: string, over: { channel?: string; trigger?: string } = {}): Promise<string[]> {
  const names: string[] = [];
  const tail = new AckTail({ info: () => {}, warn: () => {}, error: () => {} });
  const defer = tail.defer.bind(tail);
  tail.defer = (name, work) => {
    names.push(name);
    defer(name, work);
  };
  await withAckTail(tail, () => dr(deps, user, text, over));
  expect(await tail.settle(10_000)).toEqual([]);
  return names;
}

describe('/dr', () => {
  let rig: ListenerRig;
  beforeEach(async () => {
    rig = await listenerRig(db());
  });

  it('starts a destructive verb: says where the plan will be posted, names the run, audits it as pending', async () => {
    // act
    const acked = await dr(rig.deps, 'UALICE', 'restore s3 spawn-binaries-us-east-1', { trigger: 'trig-1' });

    // assess
    expect(rig.calls).toHaveLength(1);
    const start = rig.calls[0];
    if (start?.kind !== 'start') throw new Error('no start');
    expect(start.name).toBe(`dr-restore-s3-${requestId('trig-1')}`);
    expect(start.input).toMatchObject({ kind: 'restore-s3', requester: 'UALICE', channel: OPS, commandText: '/dr restore s3 spawn-binaries-us-east-1', requestedAt: new Date(T0).toISOString() });
    expect(acked).toEqual([{ response_type: 'ephemeral', text: `:arrow_forward: Started run \`${start.input.runId}\`: the plan will be posted here for approval.` }]);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr restore s3 spawn-binaries-us-east-1', result: 'pending', runId: start.input.runId }]);
  });

  it('a dry run or a verb that changes nothing says the result will be posted; outside the ops channel it names the fallback', async () => {
    // act
    const dry = await dr(rig.deps, 'UALICE', 'restore s3 spawn-binaries-us-east-1 --dry-run');
    const status = await dr(rig.deps, 'UCAROL', 'status', { channel: 'CELSEWHERE' });

    // assess
    const [a, b] = rig.calls.map((c) => (c.kind === 'start' ? c.input.runId : ''));
    expect(dry).toEqual([{ response_type: 'ephemeral', text: `:arrow_forward: Started run \`${a}\`: the result will be posted here.` }]);
    expect(status).toEqual([{ response_type: 'ephemeral', text: `:arrow_forward: Started run \`${b}\`: the result will be posted here (or in <#${OPS}> if drbot is not a member of this channel).` }]);
    expect(rig.calls[1]).toMatchObject({ input: { channel: 'CELSEWHERE', kind: 'status' } });
  });

  it('a retried request (the engine has the execution) is acked bare and recorded once', async () => {
    // prepare
    rig = await listenerRig(db(), { start: 'duplicate' });

    // act
    const acked = await dr(rig.deps, 'UALICE', 'status');

    // assess
    expect(acked).toEqual([undefined]);
    expect(rig.audited).toEqual([]);
  });

  it('refuses a command the user’s role does not allow, before anything starts', async () => {
    // act
    const acked = await dr(rig.deps, 'UCAROL', 'restore s3 spawn-binaries-us-east-1', { trigger: 'trig-2' });
    const nobody = await dr(rig.deps, 'UEVE', 'status', { trigger: 'trig-3' });

    // assess
    expect(rig.calls).toEqual([]);
    expect(acked).toEqual([
      {
        response_type: 'ephemeral',
        text: `:no_entry_sign: You may not run \`/dr restore s3\`: it needs the *operator* role, and you are a viewer.\nAsk an admin to add you to the right role in the drbot config.\n_ref: ${requestId('trig-2')}_`,
      },
    ]);
    expect(nobody[0]?.text).toMatch(/^:no_entry_sign: You may not run `\/dr status`: it needs the \*viewer\* role, and you have no drbot role\./);
    expect(rig.audited).toEqual([
      { actor: 'UCAROL', action: 'command', target: '/dr restore s3 spawn-binaries-us-east-1', result: 'refused', detail: 'forbidden' },
      { actor: 'UEVE', action: 'command', target: '/dr status', result: 'refused', detail: 'forbidden' },
    ]);
    expect(rig.logs.map((l) => [l.level, l.message, l.extra?.code])).toEqual([
      ['info', 'command refused', 'forbidden'],
      ['info', 'command refused', 'forbidden'],
    ]);
  });

  it('a command it cannot parse is answered with the parser’s words and recorded as refused', async () => {
    // act
    const acked = await dr(rig.deps, 'UALICE', 'restore s3 not-a-configured-bucket', { trigger: 'trig-4' });

    // assess
    expect(rig.calls).toEqual([]);
    expect(acked[0]?.text).toMatch(/^:x: .*not-a-configured-bucket.*\n[\s\S]*_ref: [0-9a-f]{16}_$/);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr restore s3 not-a-configured-bucket', result: 'refused', detail: CODE_OF_UNKNOWN_BUCKET }]);
  });

  it('a command from another workspace is refused before parsing and recorded', async () => {
    // act
    const acked = await dr(rig.deps, 'UALICE', 'restore s3 spawn-binaries-us-east-1', { team: 'TOTHER' });

    // assess
    expect(rig.calls).toEqual([]);
    expect(acked).toEqual([{ response_type: 'ephemeral', text: ':no_entry_sign: This drbot serves another Slack workspace.' }]);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr restore s3 spawn-binaries-us-east-1', result: 'refused', detail: 'wrong_team' }]);
    expect(rig.logs).toEqual([{ level: 'warn', message: 'command from another workspace refused', extra: { requestId: requestId('trig-UALICE-restore s3 spawn-binaries-us-east-1'), user: 'UALICE', team: 'TOTHER' } }]);
  });

  it('a command with no text is answered with help', async () => {
    // act
    const acked = await dr(rig.deps, 'UEVE', undefined);

    // assess
    expect(JSON.stringify(acked[0])).toContain('/dr restore s3');
    expect(rig.audited).toEqual([{ actor: 'UEVE', action: 'command', target: '/dr ', result: 'ok' }]);
  });

  it('logs at most 20 characters of a foreign team id', async () => {
    // act
    await dr(rig.deps, 'UALICE', 'status', { team: `T${'Z'.repeat(40)}`, trigger: 't-team' });

    // assess
    expect(rig.logs[0]?.extra).toEqual({ requestId: requestId('t-team'), user: 'UALICE', team: `T${'Z'.repeat(19)}` });
  });

  it('a role lookup that breaks (not a refusal) is answered and recorded as an error', async () => {
    // prepare
    const deps: SlackDeps = {
      ...rig.deps,
      roles: Object.assign(Object.create(rig.deps.roles) as typeof rig.deps.roles, {
        require: async () => {
          throw new TypeError('roles exploded');
        },
      }),
    };

    // act
    const acked = await dr(deps, 'UALICE', 'status', { trigger: 't-roles' });

    // assess
    expect(rig.calls).toEqual([]);
    expect(acked).toEqual([{ response_type: 'ephemeral', text: `:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('t-roles')}\`.` }]);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr status', result: 'error', detail: 'internal' }]);
    expect(rig.logs).toEqual([{ level: 'error', message: 'command check failed', extra: { requestId: requestId('t-roles'), user: 'UALICE', code: 'internal', error: 'TypeError: roles exploded' } }]);
  });

  it('an inline command this listener has no answer for fails loudly, not silently', async () => {
    // prepare: a catalogue with one more inline command
    const ping = defineCommand({ id: 'ping', words: ['ping'], group: 'Look', summary: 'answers pong', example: '/dr ping', role: 'anyone', destructive: false, args: {} });
    const deps: SlackDeps = { ...rig.deps, catalogue: createCatalogue(VERBS, { inline: [...INLINE_COMMANDS, ping] }), compromise: async () => {} };

    // act
    const acked = await dr(deps, 'UALICE', 'ping', { trigger: 't-ping' });

    // assess
    expect(acked).toEqual([{ response_type: 'ephemeral', text: `:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('t-ping')}\`.` }]);
    expect(rig.logs).toContainEqual({ level: 'error', message: 'command failed', extra: { requestId: requestId('t-ping'), user: 'UALICE', command: 'ping', error: 'Error: command ping has no answer' } });
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr ping', result: 'error', detail: 'internal' }]);
  });

  it('under the edge, every audit and the late error message are left to the ack tail, each by its name', async () => {
    // prepare
    const failing: SlackDeps = {
      ...rig.deps,
      simulate: async () => {
        throw new Error('SNS handler down');
      },
    };
    await rig.store.putRun({ id: newId('r'), kind: 'status', requester: 'UALICE', commandText: '/dr status', channel: OPS, ts: '1769515200.000100', status: 'succeeded', createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString() });

    // act
    const names = [
      await deferred(rig.deps, 'UALICE', 'status', { trigger: 'a' }),
      await deferred(rig.deps, 'UEVE', 'status', { trigger: 'b' }),
      await deferred({ ...rig.deps, config: { ...rig.deps.config, slack: { ...rig.deps.config.slack, teamId: 'TELSEWHERE' } } }, 'UALICE', 'status', { trigger: 'c' }),
      await deferred(rig.deps, 'UEVE', 'help', { trigger: 'd' }),
      await deferred(rig.deps, 'UCAROL', 'audit', { trigger: 'e' }),
      await deferred(rig.deps, 'UCAROL', 'runs', { trigger: 'f' }),
      await deferred(failing, 'UCAROL', 'simulate alarm replication-lag', { trigger: 'g' }),
    ];

    // assess
    expect(names).toEqual([['audit'], ['audit'], ['audit'], ['audit'], ['audit'], ['unsent run messages'], ['error message', 'audit']]);
    expect(rig.slack.filter((c) => c.kind === 'ephemeral').map((c) => c.msg.text)).toEqual([`:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('g')}\`.`]);
  });

  it('registers /dr', () => {
    // prepare
    const commands: unknown[] = [];
    const app = { command: (name: unknown) => void commands.push(name) } as unknown as App;

    // act
    register(app, rig.deps);

    // assess
    expect(commands).toEqual(['/dr']);
  });

  it('shows at most 200 characters of the command in the audit', async () => {
    // act
    await dr(rig.deps, 'UALICE', `status ${'x'.repeat(500)}`);

    // assess
    expect(rig.audited[0]?.target).toBe(`/dr status ${'x'.repeat(193)}`);
  });

  it('help answers anyone, with the sandbox section only where the sandbox hook exists', async () => {
    // act
    const plain = await dr(rig.deps, 'UEVE', 'help');
    const sandbox = await dr({ ...rig.deps, simulate: async () => {} }, 'UEVE', 'help', { trigger: 'other' });

    // assess
    expect(plain).toHaveLength(1);
    expect(plain[0]?.response_type).toBe('ephemeral');
    expect(JSON.stringify(plain[0]?.blocks)).not.toContain('simulate');
    expect(JSON.stringify(sandbox[0]?.blocks)).toContain('/dr simulate alarm');
    expect(rig.audited).toEqual([
      { actor: 'UEVE', action: 'command', target: '/dr help', result: 'ok' },
      { actor: 'UEVE', action: 'command', target: '/dr help', result: 'ok' },
    ]);
  });

  it('help on a topic answers that verb', async () => {
    // act
    const acked = await dr(rig.deps, 'UEVE', 'help restore s3');

    // assess
    expect(JSON.stringify(acked[0])).toContain('--from-replica');
    expect(JSON.stringify(acked[0])).not.toContain('/dr backup dynamodb');
  });

  it('audit lists the store’s newest events, as many as asked', async () => {
    // prepare
    for (let i = 0; i < 3; i++) {
      rig.setNow(T0 + i * 1000);
      await rig.store.audit({ actor: 'UBOB', action: 'command', target: `/dr status #${i}`, result: 'ok' });
    }

    // act
    const acked = await dr(rig.deps, 'UCAROL', 'audit 2');

    // assess
    const shown = JSON.stringify(acked[0]);
    expect(shown).toContain('/dr status #2');
    expect(shown).toContain('/dr status #1');
    expect(shown).not.toContain('/dr status #0');
    expect(rig.audited.at(-1)).toEqual({ actor: 'UCAROL', action: 'command', target: '/dr audit 2', result: 'ok' });
  });

  it('runs lists the runs, then delivers a final state Slack had not taken and says so', async () => {
    // prepare: a run whose final message Slack did not take
    const id = newId('r');
    const unsent: SlackMessage = { text: 'Succeeded: Undelete (run x)' };
    await rig.store.putRun({ id, kind: 'restore-s3', requester: 'UALICE', commandText: '/dr restore s3 spawn-binaries-us-east-1', channel: OPS, ts: '1769515200.000100', status: 'succeeded', createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(), unsent: JSON.stringify(unsent) });

    // act
    const acked = await dr(rig.deps, 'UCAROL', 'runs', { channel: 'CELSEWHERE' });
    const again = await dr(rig.deps, 'UCAROL', 'runs', { trigger: 'again' });

    // assess
    expect(JSON.stringify(acked[0])).toContain(id);
    expect(rig.slack).toEqual([
      { kind: 'update', channel: OPS, ts: '1769515200.000100', msg: unsent },
      { kind: 'ephemeral', channel: 'CELSEWHERE', user: 'UCAROL', msg: { text: 'Brought 1 run message up to date that Slack had not taken when the run ended.' } },
    ]);
    expect((await rig.store.getRun(id))?.unsent).toBeUndefined();
    expect(again).toHaveLength(1);
    expect(rig.audited).toEqual([
      { actor: 'UCAROL', action: 'command', target: '/dr runs', result: 'ok', detail: '1 run message(s) brought up to date' },
      { actor: 'UCAROL', action: 'command', target: '/dr runs', result: 'ok' },
    ]);
  });

  it('runs says how many it brought up to date, in the plural', async () => {
    // prepare
    for (let i = 0; i < 2; i++) {
      await rig.store.putRun({ id: newId('r'), kind: 'status', requester: 'UALICE', commandText: '/dr status', channel: OPS, ts: `1769515200.00010${i}`, status: 'succeeded', createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(), unsent: JSON.stringify({ text: `done ${i}` }) });
    }

    // act
    await dr(rig.deps, 'UCAROL', 'runs');

    // assess
    expect(rig.slack.at(-1)?.msg.text).toBe('Brought 2 run messages up to date that Slack had not taken when the run ended.');
  });

  it('the sandbox commands are refused where the sandbox hooks are not', async () => {
    // act
    const acked = await dr(rig.deps, 'UALICE', 'simulate outage us-east-1', { trigger: 'trig-5' });

    // assess
    expect(acked).toEqual([{ response_type: 'ephemeral', text: `:x: \`/dr simulate\` works only in the local sandbox, never against real AWS.\nRun \`npm start\` to try it.\n_ref: ${requestId('trig-5')}_` }]);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr simulate outage us-east-1', result: 'refused', detail: 'sandbox_only' }]);
  });

  it('each sandbox command runs its own hook once per Slack request, however often Slack retries it', async () => {
    // prepare
    const hooked: unknown[][] = [];
    const deps: SlackDeps = {
      ...rig.deps,
      simulate: async (...a) => void hooked.push(['simulate', ...a]),
      corrupt: async (...a) => void hooked.push(['corrupt', ...a]),
      compromise: async (...a) => void hooked.push(['compromise', ...a]),
      outage: async (...a) => void hooked.push(['outage', ...a]),
    };

    // act
    const answers: Acked[] = [];
    for (const text of ['simulate alarm replication-lag', 'simulate corruption spawn-instances', 'simulate outage us-east-1', 'simulate outage us-east-1 --end', 'simulate compromise']) {
      answers.push(await dr(deps, 'UALICE', text, { channel: 'CPLAY' }));
      answers.push(await dr(deps, 'UALICE', text, { channel: 'CPLAY' }));
    }

    // assess
    expect(hooked).toEqual([
      ['simulate', 'replication-lag', 'UALICE'],
      ['corrupt', 'spawn-instances', 'UALICE', 'CPLAY'],
      ['outage', 'us-east-1', false, 'UALICE', 'CPLAY'],
      ['outage', 'us-east-1', true, 'UALICE', 'CPLAY'],
      ['compromise', 'UALICE', 'CPLAY'],
    ]);
    expect(answers.map((a) => a[0]?.text)).toEqual([
      'Delivering a simulated `replication-lag` alarm notification to the alarm handler, as SNS would…',
      undefined,
      'Corrupting `spawn-instances` (sandbox only): overwriting some items and deleting others…',
      undefined,
      'Taking `us-east-1` down (sandbox only)…',
      undefined,
      'Ending the simulated outage of `us-east-1`…',
      undefined,
      'Leaking an access key of `spawn-user` (sandbox only): some activity, a few instances, a backdoor…',
      undefined,
    ]);
    expect(rig.audited).toEqual(
      ['simulate alarm replication-lag', 'simulate corruption spawn-instances', 'simulate outage us-east-1', 'simulate outage us-east-1 --end', 'simulate compromise'].map((t) => ({ actor: 'UALICE', action: 'command', target: `/dr ${t}`, result: 'ok' })),
    );
    expect(rig.logs.filter((l) => l.message === 'duplicate slash command ignored').map((l) => l.extra)).toEqual(
      ['simulate alarm replication-lag', 'simulate corruption spawn-instances', 'simulate outage us-east-1', 'simulate outage us-east-1 --end', 'simulate compromise'].map((t) => ({ requestId: requestId(`trig-UALICE-${t}`), user: 'UALICE' })),
    );
  });

  it('a start the engine refuses is answered in the ack with a reference and recorded as an error', async () => {
    // prepare
    rig.failEngine.start = new Error('ThrottlingException');

    // act
    const acked = await dr(rig.deps, 'UALICE', 'status', { trigger: 'trig-6' });

    // assess
    expect(acked).toEqual([{ response_type: 'ephemeral', text: `:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('trig-6')}\`.` }]);
    expect(rig.slack).toEqual([]);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'command', target: '/dr status', result: 'error', detail: 'internal' }]);
    expect(rig.logs).toContainEqual({ level: 'error', message: 'command failed', extra: { requestId: requestId('trig-6'), user: 'UALICE', command: 'status', error: 'Error: ThrottlingException' } });
  });

  it('a failure after the ack is told in an ephemeral, not a second ack', async () => {
    // prepare: the simulator's hook fails after the command was acknowledged
    const deps: SlackDeps = {
      ...rig.deps,
      simulate: async () => {
        throw new Error('SNS handler down');
      },
    };

    // act
    const acked = await dr(deps, 'UCAROL', 'simulate alarm replication-lag', { trigger: 'trig-7', channel: 'CPLAY' });

    // assess
    expect(acked).toHaveLength(1);
    expect(rig.slack).toEqual([{ kind: 'ephemeral', channel: 'CPLAY', user: 'UCAROL', msg: { text: `:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('trig-7')}\`.` } }]);
    expect(rig.audited.map((a) => [a.result, a.detail])).toEqual([
      ['ok', undefined],
      ['error', 'internal'],
    ]);
  });
});
