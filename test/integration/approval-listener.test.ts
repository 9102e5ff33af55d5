/**
 * The approval listeners (src/slack/listeners/actions/index.ts) called directly, with the real state
 * store on dynalite and the real role resolver: what each click decides, records, tells the engine
 * and shows. The signed-request path in front of them is tested in test/e2e/approval.test.ts; these
 * are cheap enough for `npm run mutate`, which is what they are for.
 */
import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { DrbotError } from '../../src/errors';
import { ALARM_ACTIONS, onAlarmAction, onApprove, onReject, onRunNext, register } from '../../src/slack/listeners/actions';
import { ACTION_BACKUP_RETRY, ACTION_BACKUP_VIEW } from '../../src/alarms/backup-job';
import { createCatalogue, VERBS } from '../../src/runbooks/catalogue';
import { ACTION_SCHEDULE_RETRY } from '../../src/slack/views/schedule';
import { requestId } from '../../src/slack/listeners/commands';
import type { AlarmActions } from '../../src/slack/deps';
import { ACTION_APPROVE, ACTION_NEXT, ACTION_REJECT, APPROVAL_STATUS_BLOCK } from '../../src/slack/views/run';
import { type ApprovalRecord, newId, type RunRecord, StateStore } from '../../src/store/state';
import { useDynalite } from '../helpers/dynalite';
import { type ListenerRig, listenerRig, T0 } from '../helpers/listener-deps';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

const db = useDynalite();

const CHANNEL = 'CSANDBOXOPS';
const TS = '1769515200.000100';
const TEAM = 'TSANDBOX';

/** The run message's blocks as posted while waiting: a plan, the votes line and the two buttons. */
function waitingBlocks(id: string): KnownBlock[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: 'Awaiting approval: *Undelete 250 objects*' } },
    { type: 'context', block_id: APPROVAL_STATUS_BLOCK, elements: [{ type: 'mrkdwn', text: 'Needs 1 approver other than the requester.' }] },
    {
      type: 'actions',
      block_id: `approval:${id}`,
      elements: [
        { type: 'button', action_id: 'run_approve', text: { type: 'plain_text', text: 'Approve' }, value: id },
        { type: 'button', action_id: 'run_reject', text: { type: 'plain_text', text: 'Reject' }, value: id },
      ],
    },
  ];
}

/** A button press as Bolt hands it to a listener; `ack` counts calls. */
function click(
  user: string,
  value: string | undefined,
  over: { channel?: string; ts?: string; team?: string | null; userTeam?: string; blocks?: KnownBlock[]; trigger?: string | null; noContainer?: boolean; containerTs?: boolean } = {},
) {
  const acks: unknown[] = [];
  const container = { type: 'message', channel_id: over.channel ?? CHANNEL, ...(over.containerTs === false ? {} : { message_ts: over.ts ?? TS }) };
  const body = {
    type: 'block_actions',
    user: { id: user, team_id: over.userTeam ?? over.team ?? TEAM },
    ...(over.team === null ? {} : { team: { id: over.team ?? TEAM } }),
    ...(over.noContainer ? {} : { container }),
    ...(over.trigger === null ? {} : { trigger_id: over.trigger ?? `trig-${user}-${value}` }),
    message: { ts: over.ts ?? TS, blocks: over.blocks ?? waitingBlocks(value ?? '') },
    actions: [{ type: 'button', action_id: 'x', ...(value === undefined ? {} : { value }) }],
  };
  const args = { ack: async () => void acks.push(1), body, action: { type: 'button', action_id: 'x', ...(value === undefined ? {} : { value }) } } as unknown as ButtonArgs;
  return { args, acks };
}

/** A run message of `n` blocks: the waiting blocks after n - 3 plan sections (Slack allows 50 in a message). */
function longMessage(id: string, n: number): KnownBlock[] {
  const plan = Array.from({ length: n - 3 }, (_, k): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: `plan part ${k}` } }));
  return [...plan, ...waitingBlocks(id).slice(1)];
}

async function approval(rig: ListenerRig, over: Partial<ApprovalRecord> = {}, run: Partial<RunRecord> = {}): Promise<ApprovalRecord> {
  const rec: ApprovalRecord = {
    id: newId('ap'),
    runId: newId('r'),
    callbackId: `cb-${newId('x')}`,
    requester: 'UALICE',
    summary: 'Undelete 250 objects in spawn-binaries-us-east-1',
    required: 1,
    approvers: [],
    status: 'pending',
    createdAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 30 * 60_000).toISOString(),
    channel: CHANNEL,
    ts: TS,
    ...over,
  };
  await rig.store.putApproval(rec);
  await rig.store.putRun({
    id: rec.runId,
    kind: 'restore-s3',
    requester: rec.requester,
    commandText: '/dr restore s3 spawn-binaries-us-east-1',
    channel: CHANNEL,
    ts: TS,
    status: 'awaiting_approval',
    createdAt: rec.createdAt,
    updatedAt: rec.createdAt,
    ...run,
  });
  return rec;
}

/** The audit events written, in order; each also read back from the table. */
async function audits(rig: ListenerRig) {
  const stored = (await rig.store.listAudit(50)).map(({ id: _id, at: _at, ...e }) => e);
  expect(stored).toHaveLength(rig.audited.length);
  for (const e of rig.audited) expect(stored).toContainEqual(e);
  return rig.audited;
}

function ephemerals(rig: ListenerRig): string[] {
  return rig.slack.filter((s) => s.kind === 'ephemeral').map((s) => s.msg.text);
}

function texts(blocks: KnownBlock[] | undefined): string[] {
  return (blocks ?? []).flatMap((b) => ('elements' in b && b.type === 'context' ? b.elements.map((e) => ('text' in e ? e.text : '')) : []));
}

describe('Approve', () => {
  let rig: ListenerRig;
  beforeEach(async () => {
    rig = await listenerRig(db());
  });

  it('an approver approves another’s run: the vote is recorded, the message shows it, and the decision reaches the run', async () => {
    // prepare
    const rec = await approval(rig);
    const { args, acks } = click('UBOB', rec.id);

    // act
    await onApprove(rig.deps)(args);

    // assess
    expect(acks).toHaveLength(1);
    expect(rig.calls).toEqual([{ kind: 'approve', callbackId: rec.callbackId, payload: { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() } }]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('approved');
    const [update, ...rest] = rig.slack;
    expect(rest).toEqual([]);
    expect(update).toMatchObject({ kind: 'update', channel: CHANNEL, ts: TS, msg: { text: 'Approved; running' } });
    // The buttons and the votes line are gone; the plan stays; the decision is the last line.
    expect(update?.msg.blocks?.map((b) => b.type)).toEqual(['section', 'context']);
    expect(texts(update?.msg.blocks)).toEqual([':white_check_mark: Approved by <@UBOB> at <!date^1769515200^{date_short_pretty} {time_secs}|2026-01-27 12:00:00Z> — running…']);
    expect(await audits(rig)).toEqual([{ actor: 'UBOB', action: 'approve', target: rec.summary, result: 'approved', runId: rec.runId }]);
  });

  it('an approver who requested the run may not approve it (four eyes): refused, nothing reaches the run', async () => {
    // prepare: bob holds the approver role and asked for the run himself
    const rec = await approval(rig, { requester: 'UBOB' });
    const { args } = click('UBOB', rec.id);

    // act
    await onApprove(rig.deps)(args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(await rig.store.getApproval(rec.id)).toMatchObject({ status: 'pending', approvers: [] });
    expect(ephemerals(rig)).toEqual([':no_entry_sign: You requested this run; someone else must approve it (four eyes).']);
    expect(await audits(rig)).toEqual([{ actor: 'UBOB', action: 'click', target: `approve ${rec.id}`, result: 'refused', detail: 'own_request' }]);
  });

  it('someone without the approver role is refused with the role refusal, and the approval stays pending', async () => {
    // prepare
    const rec = await approval(rig);
    const { args } = click('UCAROL', rec.id);

    // act
    await onApprove(rig.deps)(args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('pending');
    expect(ephemerals(rig)).toEqual([':no_entry_sign: You may not approve DR runs: it needs the *approver* role, and you are a viewer.']);
    expect((await audits(rig))[0]).toMatchObject({ actor: 'UCAROL', result: 'refused', detail: 'no_role' });
  });

  it('asks Slack for group membership at the click: a member removed a minute ago is refused though the cache still holds them', async () => {
    // prepare: eve is in the approver group, and the resolver has cached that
    const rec = await approval(rig);
    rig.members = ['UEVE'];
    expect(await rig.deps.roles.has('UEVE', 'approver')).toBe(true);
    rig.members = [];
    rig.setNow(T0 + 60_000);
    const { args } = click('UEVE', rec.id);

    // act
    await onApprove(rig.deps)(args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(rig.lookups).toEqual(['SAPPROVERS', 'SAPPROVERS']);
    expect((await audits(rig))[0]).toMatchObject({ actor: 'UEVE', result: 'refused', detail: 'no_role' });
  });

  it('a group member approves: the fresh lookup finds them', async () => {
    // prepare
    const rec = await approval(rig);
    rig.members = ['UEVE'];

    // act
    await onApprove(rig.deps)(click('UEVE', rec.id).args);

    // assess
    expect(rig.calls).toEqual([expect.objectContaining({ kind: 'approve', payload: expect.objectContaining({ approvers: ['UEVE'] }) })]);
  });

  it('two approvals needed: the first vote updates the votes line and keeps the buttons; the second resumes the run with both', async () => {
    // prepare
    const rec = await approval(rig, { required: 2 });

    // act 1
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // assess 1
    expect(rig.calls).toEqual([]);
    const first = rig.slack[0];
    expect(first).toMatchObject({ kind: 'update', channel: CHANNEL, ts: TS, msg: { text: 'Approval 1 of 2' } });
    expect(first?.msg.blocks?.map((b) => b.block_id ?? b.type)).toEqual(['section', APPROVAL_STATUS_BLOCK, `approval:${rec.id}`]);
    expect(texts(first?.msg.blocks)).toEqual([expect.stringMatching(/^Needs 2 approvers other than the requester \(1 of 2: <@UBOB>\)\. Expires /)]);
    expect(await audits(rig)).toEqual([{ actor: 'UBOB', action: 'approve', target: rec.summary, result: 'pending', runId: rec.runId, detail: '1 of 2' }]);

    // act 2
    rig.setNow(T0 + 5_000);
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess 2
    expect(rig.calls).toEqual([{ kind: 'approve', callbackId: rec.callbackId, payload: { approvers: ['UBOB', 'UDAVE'], decidedAt: new Date(T0 + 5_000).toISOString() } }]);
    expect(rig.slack[1]?.msg.text).toBe('Approved; running');
    expect(texts(rig.slack[1]?.msg.blocks)[0]).toMatch(/^:white_check_mark: Approved by <@UBOB>, <@UDAVE> at /);
  });

  it('the same approver twice is refused the second time; the run is not resumed', async () => {
    // prepare
    const rec = await approval(rig, { required: 2 });
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(ephemerals(rig)).toEqual([':no_entry_sign: You have already approved this request.']);
    expect((await audits(rig)).at(-1)).toMatchObject({ result: 'refused', detail: 'already_voted' });
  });

  it('an expired approval is refused and says nothing was changed', async () => {
    // prepare
    const rec = await approval(rig);
    rig.setNow(T0 + 31 * 60_000);

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(ephemerals(rig)).toEqual([':no_entry_sign: This approval has expired; nothing was changed. Run the command again for a fresh plan.']);
    expect((await audits(rig))[0]).toMatchObject({ result: 'refused', detail: 'expired' });
  });

  it('an approval already decided is refused, and no decision is delivered again', async () => {
    // prepare
    const rec = await approval(rig);
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // act
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess
    expect(rig.calls).toHaveLength(1);
    expect(ephemerals(rig)).toEqual([':no_entry_sign: This request has already been decided.']);
    expect((await audits(rig)).at(-1)).toMatchObject({ actor: 'UDAVE', result: 'refused', detail: 'not_pending' });
  });

  it('refuses a button pressed on another message (channel or ts), an unknown approval and a value that is not ours', async () => {
    // prepare
    const rec = await approval(rig);
    const presses = [
      click('UBOB', rec.id, { channel: 'COTHER' }),
      click('UBOB', rec.id, { ts: '1769515200.000200' }),
      click('UBOB', rec.id, { noContainer: true }),
      click('UBOB', 'ap-000000000000'),
      click('UBOB', 'ap-XYZ'),
      click('UBOB', `${rec.id} `),
      click('UBOB', `x${rec.id}`),
      click('UBOB', undefined),
      click('UBOB', 'a'.repeat(100)),
    ];

    // act
    for (const p of presses) await onApprove(rig.deps)(p.args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('pending');
    expect((await audits(rig)).map((a) => a.detail)).toEqual(['wrong_message', 'wrong_message', 'wrong_message', 'not_found', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed']);
    // The audit names at most 40 characters of what the button carried, and nothing for no value.
    expect(rig.audited.slice(-2).map((a) => a.target)).toEqual(['approve ', `approve ${'a'.repeat(40)}`]);
    // Without a message to answer in, no ephemeral; the others say why.
    expect(ephemerals(rig)).toEqual([
      ':no_entry_sign: That button does not belong to this message; nothing was changed.',
      ':no_entry_sign: That button does not belong to this message; nothing was changed.',
      ':no_entry_sign: This approval no longer exists.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
    ]);
  });

  it('finds the message from the click’s message when the container has no ts', async () => {
    // prepare
    const rec = await approval(rig);

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id, { containerTs: false }).args);

    // assess
    expect(rig.calls).toEqual([expect.objectContaining({ kind: 'approve', callbackId: rec.callbackId })]);
  });

  it('judges the workspace by the click’s team, not by the home team of the user who clicked', async () => {
    // prepare: a user from another workspace of an Enterprise Grid, clicking in ours; then the reverse
    const rec = await approval(rig);
    const long = `T${'X'.repeat(30)}`;

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id, { userTeam: 'TGRIDOTHER' }).args);
    await onApprove(rig.deps)(click('UDAVE', rec.id, { team: null, userTeam: long }).args);

    // assess
    expect(rig.calls).toEqual([expect.objectContaining({ kind: 'approve', payload: expect.objectContaining({ approvers: ['UBOB'] }) })]);
    expect(rig.logs).toContainEqual({ level: 'warn', message: 'click from another workspace refused', extra: { user: 'UDAVE', team: long.slice(0, 20), target: `approve ${rec.id}` } });
  });

  it('keeps a vote’s update within Slack’s 50 blocks', async () => {
    // prepare
    const rec = await approval(rig, { required: 2 });

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id, { blocks: longMessage(rec.id, 60) }).args);

    // assess
    const update = rig.slack.find((c) => c.kind === 'update');
    expect(update?.msg.blocks).toHaveLength(50);
    expect(update?.msg.blocks?.[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'plan part 0' } });
  });

  it('a click from another workspace is recorded and answered with nothing', async () => {
    // prepare
    const rec = await approval(rig);

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id, { team: 'TOTHER' }).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(rig.slack).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('pending');
    expect(await audits(rig)).toEqual([{ actor: 'UBOB', action: 'click', target: `approve ${rec.id}`, result: 'refused', detail: 'wrong_team' }]);
    expect(rig.logs).toEqual([{ level: 'warn', message: 'click from another workspace refused', extra: { user: 'UBOB', team: 'TOTHER', target: `approve ${rec.id}` } }]);
  });

  it('a run interrupted when drbot stopped is not approved', async () => {
    // prepare
    const rec = await approval(rig, {}, { status: 'interrupted' });

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('pending');
    expect(ephemerals(rig)[0]).toMatch(/^:no_entry_sign: This run was interrupted when drbot stopped and will not go on; nothing was changed\./);
    expect((await audits(rig))[0]).toMatchObject({ detail: 'interrupted' });
  });

  it('Slack failing to show the decision does not keep it from the run', async () => {
    // prepare
    const rec = await approval(rig);
    rig.failSlack.update = new Error('ratelimited');

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // assess
    expect(rig.calls).toEqual([expect.objectContaining({ kind: 'approve', callbackId: rec.callbackId })]);
    expect(rig.logs).toContainEqual({ level: 'warn', message: 'could not show the approval', extra: { approvalId: rec.id, error: 'Error: ratelimited' } });
    expect((await audits(rig))[0]).toMatchObject({ result: 'approved' });
  });

  it('a decision the engine did not take is flagged, the buttons come back with a warning, and the next click delivers it once', async () => {
    // prepare
    const rec = await approval(rig, { required: 1 });
    rig.failEngine.approve = new Error('callback service unavailable');

    // act 1: bob's vote is recorded, its delivery fails
    await onApprove(rig.deps)(click('UBOB', rec.id, { trigger: 'trig-1' }).args);

    // assess 1
    expect(rig.calls).toEqual([]);
    expect(await rig.store.getApproval(rec.id)).toMatchObject({ status: 'approved', deliveryFailed: true, approvers: ['UBOB'] });
    const shown = rig.slack.filter((s) => s.kind === 'update').at(-1);
    expect(shown?.msg.text).toBe('Approval not delivered yet');
    expect(shown?.msg.blocks?.map((b) => b.block_id ?? b.type)).toEqual(['section', APPROVAL_STATUS_BLOCK, `approval:${rec.id}`, 'context']);
    expect(texts(shown?.msg.blocks).at(-1)).toBe(':warning: The approval is recorded but did not reach the run; press Approve again to deliver it.');
    expect(ephemerals(rig)).toEqual([`:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('trig-1')}\`.`]);
    expect(rig.logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'approve failed' }));

    // act 2: dave presses Approve again; the engine takes it now
    rig.failEngine.approve = undefined;
    rig.setNow(T0 + 90_000);
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess 2: bob's decision, as recorded, with its own time
    expect(rig.calls).toEqual([{ kind: 'approve', callbackId: rec.callbackId, payload: { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() } }]);
    expect(ephemerals(rig).at(-1)).toBe(':no_entry_sign: This request was already approved; its decision had not reached the run, so drbot delivered it again.');
    expect((await audits(rig)).slice(-2)).toEqual([
      { actor: 'UDAVE', action: 'approve', target: rec.summary, result: 'approved', runId: rec.runId, detail: 'decision redelivered to the waiting run' },
      { actor: 'UDAVE', action: 'click', target: `approve ${rec.id}`, result: 'refused', detail: 'redelivered' },
    ]);

    // act 3: another press delivers nothing more
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // assess 3
    expect(rig.calls).toHaveLength(1);
    expect(ephemerals(rig).at(-1)).toBe(':no_entry_sign: This request has already been decided.');
  });

  it('the warning of an undelivered decision keeps the message within 50 blocks', async () => {
    // prepare
    const rec = await approval(rig);
    rig.failEngine.approve = new Error('callback service unavailable');

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id, { blocks: longMessage(rec.id, 60) }).args);

    // assess
    const shown = rig.slack.filter((c) => c.kind === 'update').at(-1);
    expect(shown?.msg.text).toBe('Approval not delivered yet');
    expect(shown?.msg.blocks).toHaveLength(50);
    expect(texts(shown?.msg.blocks).at(-1)).toMatch(/^:warning: The approval is recorded but did not reach the run/);
  });

  it('a click that loses the redelivery claim to another delivers nothing', async () => {
    // prepare: a flagged decision, and another click that takes the claim between this click's read and its claim
    const rec = await approval(rig);
    rig.failEngine.approve = new Error('callback service unavailable');
    await onApprove(rig.deps)(click('UBOB', rec.id).args);
    rig.failEngine.approve = undefined;
    const claim = rig.store.claimRedelivery.bind(rig.store);
    const claims: boolean[] = [];
    rig.store.claimRedelivery = async (id) => {
      await claim(id);
      const mine = await claim(id);
      claims.push(mine);
      return mine;
    };

    // act
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess
    expect(claims).toEqual([false]);
    expect(rig.calls).toEqual([]);
    expect(rig.audited.at(-1)).toMatchObject({ actor: 'UDAVE', action: 'click', result: 'refused', detail: 'not_pending' });
  });

  it('asks for no redelivery of a decision that was not flagged, or of a refusal that is not "decided"', async () => {
    // prepare: one approval decided and delivered, one that bob already voted on
    const decided = await approval(rig, { status: 'approved', approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    const voted = await approval(rig, { required: 2, approvers: ['UBOB'] });
    const asked: string[] = [];
    const claim = rig.store.claimRedelivery.bind(rig.store);
    rig.store.claimRedelivery = async (id) => (asked.push(id), claim(id));
    const getRun = rig.store.getRun.bind(rig.store);
    const runsRead: string[] = [];
    rig.store.getRun = async (id) => (runsRead.push(id), getRun(id));

    // act
    await onApprove(rig.deps)(click('UDAVE', decided.id).args);
    await onApprove(rig.deps)(click('UBOB', voted.id).args);

    // assess: the runs were read once each for the interrupted check, never for a redelivery
    expect(asked).toEqual([]);
    expect(runsRead).toEqual([decided.runId, voted.runId]);
    expect(rig.audited.map((a) => a.detail)).toEqual(['not_pending', 'already_voted']);
  });

  it('a redelivery that fails again is flagged again, so a later click can still deliver it', async () => {
    // prepare
    const rec = await approval(rig);
    rig.failEngine.approve = new Error('callback service unavailable');
    await onApprove(rig.deps)(click('UBOB', rec.id).args);

    // act 1: still failing
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess 1
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.deliveryFailed).toBe(true);
    expect(rig.logs).toContainEqual({ level: 'warn', message: 'approval redelivery failed', extra: { approvalId: rec.id, error: 'Error: callback service unavailable' } });
    expect(ephemerals(rig).at(-1)).toBe(':no_entry_sign: This request has already been decided.');

    // act 2
    rig.failEngine.approve = undefined;
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess 2
    expect(rig.calls).toEqual([expect.objectContaining({ kind: 'approve', payload: expect.objectContaining({ approvers: ['UBOB'] }) })]);
  });

  it('a flagged decision is not redelivered once its run no longer waits', async () => {
    // prepare
    const rec = await approval(rig, {}, { status: 'expired' });
    rig.failEngine.approve = new Error('callback service unavailable');
    await onApprove(rig.deps)(click('UBOB', rec.id).args);
    rig.failEngine.approve = undefined;

    // act
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.deliveryFailed).toBe(true);
    expect((await audits(rig)).at(-1)).toMatchObject({ actor: 'UDAVE', detail: 'not_pending' });
  });

  it('a decided approval that was delivered is never delivered again', async () => {
    // prepare: approved with no delivery flag (delivered, or in flight)
    const rec = await approval(rig, { status: 'approved', approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });

    // act
    await onApprove(rig.deps)(click('UDAVE', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await audits(rig))[0]).toMatchObject({ detail: 'not_pending' });
  });

  it('a failing store is answered with a reference, not a stack', async () => {
    // prepare: a store whose table does not exist
    const rec = await approval(rig);
    const broken = { ...rig.deps, store: new StateStore(db().client, 'missing-table') };

    // act
    await onApprove(broken)(click('UBOB', rec.id, { trigger: 'trig-broken' }).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(ephemerals(rig)).toEqual([`:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('trig-broken')}\`.`]);
    expect(rig.logs).toEqual([expect.objectContaining({ level: 'error', message: 'approve failed', extra: expect.objectContaining({ requestId: requestId('trig-broken'), user: 'UBOB', approvalId: rec.id }) })]);
  });

  it('without a trigger id the reference comes from the approval id', async () => {
    // prepare
    const rec = await approval(rig);
    rig.failEngine.approve = new Error('down');

    // act
    await onApprove(rig.deps)(click('UBOB', rec.id, { trigger: null }).args);

    // assess
    expect(ephemerals(rig)).toEqual([`:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId(rec.id)}\`.`]);
  });
});

describe('Reject', () => {
  let rig: ListenerRig;
  beforeEach(async () => {
    rig = await listenerRig(db());
  });

  it('an approver rejects: decided, shown, the run told, audited', async () => {
    // prepare
    const rec = await approval(rig);

    // act
    await onReject(rig.deps)(click('UBOB', rec.id).args);

    // assess
    expect(rig.calls).toEqual([{ kind: 'reject', callbackId: rec.callbackId, reason: 'rejected by an approver' }]);
    expect(await rig.store.getApproval(rec.id)).toMatchObject({ status: 'rejected', decidedBy: 'UBOB' });
    const [update] = rig.slack;
    expect(update).toMatchObject({ kind: 'update', channel: CHANNEL, ts: TS, msg: { text: 'Rejected; nothing was changed' } });
    expect(update?.msg.blocks?.map((b) => b.type)).toEqual(['section', 'context']);
    expect(texts(update?.msg.blocks)).toEqual([':no_entry: Rejected by <@UBOB> at <!date^1769515200^{date_short_pretty} {time_secs}|2026-01-27 12:00:00Z>; nothing was changed.']);
    expect(await audits(rig)).toEqual([{ actor: 'UBOB', action: 'reject', target: rec.summary, result: 'rejected', runId: rec.runId }]);
  });

  it('the requester withdraws their own request, though they hold no approver role', async () => {
    // prepare
    const rec = await approval(rig);

    // act
    await onReject(rig.deps)(click('UALICE', rec.id).args);

    // assess
    expect(rig.calls).toEqual([{ kind: 'reject', callbackId: rec.callbackId, reason: 'withdrawn by the requester' }]);
    expect(await rig.store.getApproval(rec.id)).toMatchObject({ status: 'rejected', decidedBy: 'UALICE', reason: 'withdrawn by the requester' });
    expect(await audits(rig)).toEqual([{ actor: 'UALICE', action: 'reject', target: rec.summary, result: 'rejected', runId: rec.runId, detail: 'withdrawn by the requester' }]);
  });

  it('someone who is neither an approver nor the requester is refused; the run still waits', async () => {
    // prepare
    const rec = await approval(rig);

    // act
    await onReject(rig.deps)(click('UEVE', rec.id).args);
    await onReject(rig.deps)(click('UCAROL', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('pending');
    expect(ephemerals(rig)).toEqual([':no_entry_sign: Only an approver, or the requester withdrawing it, may reject this.', ':no_entry_sign: Only an approver, or the requester withdrawing it, may reject this.']);
    expect((await audits(rig)).map((a) => [a.actor, a.detail])).toEqual([
      ['UEVE', 'no_role'],
      ['UCAROL', 'no_role'],
    ]);
  });

  it('asks Slack for group membership at the click', async () => {
    // prepare
    const rec = await approval(rig);
    rig.members = ['UEVE'];
    expect(await rig.deps.roles.has('UEVE', 'approver')).toBe(true);
    rig.members = [];
    rig.setNow(T0 + 60_000);

    // act
    await onReject(rig.deps)(click('UEVE', rec.id).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await audits(rig))[0]).toMatchObject({ detail: 'no_role' });
  });

  it('a decided request cannot be rejected; an expired one says so', async () => {
    // prepare
    const decided = await approval(rig);
    await onApprove(rig.deps)(click('UBOB', decided.id).args);
    const expiring = await approval(rig, { expiresAt: new Date(T0 + 60_000).toISOString() });
    rig.setNow(T0 + 61_000);

    // act
    await onReject(rig.deps)(click('UDAVE', decided.id).args);
    await onReject(rig.deps)(click('UDAVE', expiring.id).args);

    // assess
    expect(rig.calls.map((c) => c.kind)).toEqual(['approve']);
    expect(ephemerals(rig)).toEqual([':no_entry_sign: This request has already been decided.', ':no_entry_sign: This approval has expired; nothing was changed. Run the command again for a fresh plan.']);
    expect((await audits(rig)).slice(-2).map((a) => a.detail)).toEqual(['not_pending', 'expired']);
    expect((await rig.store.getApproval(expiring.id))?.status).toBe('pending');
  });

  it('refuses another workspace, a foreign value, an unknown approval and another message', async () => {
    // prepare
    const rec = await approval(rig);

    // act
    await onReject(rig.deps)(click('UBOB', rec.id, { team: 'TOTHER' }).args);
    await onReject(rig.deps)(click('UBOB', 'rm -rf').args);
    await onReject(rig.deps)(click('UBOB', 'ap-0123456789ab').args);
    await onReject(rig.deps)(click('UBOB', rec.id, { ts: '1.2' }).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await rig.store.getApproval(rec.id))?.status).toBe('pending');
    expect((await audits(rig)).map((a) => [a.target, a.detail])).toEqual([
      [`reject ${rec.id}`, 'wrong_team'],
      ['reject rm -rf', 'malformed'],
      ['reject ap-0123456789ab', 'not_found'],
      [`reject ${rec.id}`, 'wrong_message'],
    ]);
    expect(ephemerals(rig)).toEqual([
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: This approval no longer exists.',
      ':no_entry_sign: That button does not belong to this message; nothing was changed.',
    ]);
  });

  it('names at most 40 characters of a foreign value in the audit, and nothing for no value', async () => {
    // act
    await onReject(rig.deps)(click('UBOB', 'b'.repeat(90)).args);
    await onReject(rig.deps)(click('UBOB', undefined).args);

    // assess
    expect(rig.audited.map((a) => [a.target, a.detail])).toEqual([
      [`reject ${'b'.repeat(40)}`, 'malformed'],
      ['reject ', 'malformed'],
    ]);
  });

  it('Slack failing to show the rejection does not keep it from the run', async () => {
    // prepare
    const rec = await approval(rig);
    rig.failSlack.update = new Error('internal_error');

    // act
    await onReject(rig.deps)(click('UBOB', rec.id).args);

    // assess
    expect(rig.calls).toEqual([{ kind: 'reject', callbackId: rec.callbackId, reason: 'rejected by an approver' }]);
    expect(rig.logs).toContainEqual({ level: 'warn', message: 'could not show the rejection', extra: { approvalId: rec.id, error: 'Error: internal_error' } });
  });

  it('an engine that does not take the rejection is answered with a reference and logged', async () => {
    // prepare
    const rec = await approval(rig);
    rig.failEngine.reject = new Error('throttled');

    // act
    await onReject(rig.deps)(click('UBOB', rec.id, { trigger: 'trig-r' }).args);

    // assess
    expect(ephemerals(rig)).toEqual([`:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('trig-r')}\`.`]);
    expect(rig.logs).toContainEqual({ level: 'error', message: 'reject failed', extra: { requestId: requestId('trig-r'), user: 'UBOB', approvalId: rec.id, error: 'Error: throttled' } });
  });
});

describe('a next-step button', () => {
  let rig: ListenerRig;
  beforeEach(async () => {
    rig = await listenerRig(db());
  });

  async function endedRun(over: Partial<RunRecord> = {}): Promise<RunRecord> {
    const run: RunRecord = {
      id: newId('r'),
      kind: 'restore-dynamodb',
      requester: 'UALICE',
      commandText: '/dr restore dynamodb spawn-instances',
      channel: CHANNEL,
      ts: TS,
      status: 'succeeded',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
      next: [
        { label: 'Back up', command: 'backup dynamodb spawn-instances', style: 'primary' },
        { label: 'Status', command: 'status' },
      ],
      ...over,
    };
    await rig.store.putRun(run);
    return run;
  }

  it('starts the step as if the presser had typed it, continuing the run on its message; once', async () => {
    // prepare
    const run = await endedRun();

    // act
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`, { trigger: 'trig-n' }).args);
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:1`, { trigger: 'trig-n2' }).args);

    // assess
    expect(rig.calls).toHaveLength(1);
    const [start] = rig.calls;
    expect(start).toMatchObject({
      kind: 'start',
      name: `dr-backup-dynamodb-${requestId('trig-n')}`,
      input: { kind: 'backup-dynamodb', tables: ['spawn-instances'], requester: 'UALICE', channel: CHANNEL, commandText: '/dr backup dynamodb spawn-instances', continues: { runId: run.id, channel: CHANNEL, ts: TS } },
    });
    const audit = await audits(rig);
    expect(audit[0]).toEqual({ actor: 'UALICE', action: 'next-step', target: '/dr backup dynamodb spawn-instances', result: 'pending', runId: start?.kind === 'start' ? start.input.runId : '', detail: `continues ${run.id}` });
    expect(audit[1]).toMatchObject({ result: 'refused', detail: 'already_started' });
    expect(ephemerals(rig)).toEqual([':no_entry_sign: A next step of this run was already started from this message.']);
  });

  it('refuses a presser without the step’s role, and leaves the buttons live', async () => {
    // prepare
    const run = await endedRun();

    // act
    await onRunNext(rig.deps)(click('UCAROL', `${run.id}:0`).args);
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`).args);

    // assess
    expect(rig.calls.map((c) => c.kind === 'start' && c.input.requester)).toEqual(['UALICE']);
    expect(ephemerals(rig)[0]).toMatch(/^:no_entry_sign: You may not run `\/dr backup dynamodb`: it needs the \*operator\* role, and you are a viewer\.\nAsk an admin to add you to the right role in the drbot config\.\n_ref: /);
    expect((await audits(rig))[0]).toMatchObject({ actor: 'UCAROL', action: 'click', result: 'refused', detail: 'forbidden' });
  });

  it('a start that fails gives the press back', async () => {
    // prepare
    const run = await endedRun();
    rig.failEngine.start = new Error('TooManyRequestsException');

    // act
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`).args);
    rig.failEngine.start = undefined;
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`).args);

    // assess
    expect(rig.calls).toHaveLength(1);
    expect((await audits(rig)).map((a) => [a.result, a.detail])).toEqual([
      ['error', 'internal'],
      ['pending', `continues ${run.id}`],
    ]);
    expect(rig.logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'next step failed' }));
  });

  it('a duplicate start (a retried press) records nothing new', async () => {
    // prepare
    rig = await listenerRig(db(), { start: 'duplicate' });
    const run = await endedRun();

    // act
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`).args);

    // assess
    expect(rig.calls).toHaveLength(1);
    expect(await audits(rig)).toEqual([]);
  });

  it('refuses a value not ours, another message, a step not offered, a command that is no verb, another workspace', async () => {
    // prepare
    const run = await endedRun({ next: [{ label: 'Help', command: 'help' }] });
    const other = await endedRun({ ts: '1769515200.000900' });

    // act
    for (const p of [
      click('UALICE', 'r-xyz:0'),
      click('UALICE', `${run.id}:0:1`),
      click('UALICE', `${other.id}:0`),
      click('UALICE', `${run.id}:0`, { channel: 'COTHER' }),
      click('UALICE', `r-000000000000:0`),
      click('UALICE', `${run.id}:5`),
      click('UALICE', `${run.id}:0`),
      click('UALICE', `${run.id}:0`, { team: 'TOTHER' }),
      click('UALICE', `x${run.id}:0`),
      click('UALICE', `${run.id}:10`),
      click('UALICE', undefined),
      click('UALICE', `${run.id}:0${'9'.repeat(60)}`),
    ])
      await onRunNext(rig.deps)(p.args);

    // assess
    expect(rig.calls).toEqual([]);
    expect((await audits(rig)).map((a) => a.detail)).toEqual(['malformed', 'malformed', 'wrong_message', 'wrong_message', 'wrong_message', 'not_offered', 'not_a_verb', 'wrong_team', 'malformed', 'not_offered', 'malformed', 'malformed']);
    expect(rig.audited.slice(-2).map((a) => a.target)).toEqual(['next ', `next ${`${run.id}:0${'9'.repeat(60)}`.slice(0, 40)}`]);
    expect(ephemerals(rig)).toEqual([
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button does not belong to this message; nothing was changed.',
      ':no_entry_sign: That button does not belong to this message; nothing was changed.',
      ':no_entry_sign: That button does not belong to this message; nothing was changed.',
      ':no_entry_sign: That step is no longer offered; nothing was changed.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That step is no longer offered; nothing was changed.',
      ':no_entry_sign: That button is not one of ours.',
      ':no_entry_sign: That button is not one of ours.',
    ]);
  });

  it('parses the step with the deployment’s own catalogue', async () => {
    // prepare: a catalogue without the backup verbs
    const run = await endedRun();
    const deps = { ...rig.deps, catalogue: createCatalogue(VERBS.filter((v) => v.id !== 'backup-dynamodb')) };

    // act
    await onRunNext(deps)(click('UALICE', `${run.id}:0`).args);

    // assess
    expect(rig.calls).toEqual([]);
    expect(rig.audited).toEqual([{ actor: 'UALICE', action: 'click', target: `next ${run.id}:0`, result: 'refused', detail: 'usage' }]);
  });

  it('shows at most 300 characters of the step’s command', async () => {
    // prepare
    const prefix = `p/${'q'.repeat(400)}`;
    const run = await endedRun({ next: [{ label: 'Undelete', command: `restore s3 spawn-binaries-us-east-1 --prefix ${prefix}` }] });

    // act
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`).args);

    // assess
    const start = rig.calls[0];
    const shown = `/dr restore s3 spawn-binaries-us-east-1 --prefix ${prefix}`.slice(0, 300);
    expect(start?.kind === 'start' && start.input.commandText).toBe(shown);
    expect(rig.audited[0]?.target).toBe(shown);
  });

  it('without a trigger id a failure’s reference comes from the button and the presser; the log says why', async () => {
    // prepare
    const run = await endedRun();
    rig.failEngine.start = new Error('ServiceException');

    // act
    await onRunNext(rig.deps)(click('UALICE', `${run.id}:0`, { trigger: null }).args);

    // assess
    const rid = requestId(`${run.id}:0:UALICE`);
    expect(ephemerals(rig)).toEqual([`:x: Something went wrong on our side. The on-call can grep the logs for \`${rid}\`.`]);
    expect(rig.logs).toEqual([{ level: 'error', message: 'next step failed', extra: { requestId: rid, user: 'UALICE', error: 'Error: ServiceException' } }]);
  });
});

describe('register', () => {
  it('wires every button the run and alarm messages carry', async () => {
    // prepare
    const ids: unknown[] = [];
    const app = { action: (id: unknown) => void ids.push(id) } as unknown as App;
    const rig = await listenerRig(db());

    // act
    register(app, rig.deps);

    // assess
    expect(ids).toEqual([ACTION_APPROVE, ACTION_REJECT, ACTION_NEXT, ACTION_SCHEDULE_RETRY, ACTION_BACKUP_RETRY, ACTION_BACKUP_VIEW, ...Object.keys(ALARM_ACTIONS)]);
  });
});

describe('alarm buttons', () => {
  let rig: ListenerRig;
  const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-binaries replication lag';
  beforeEach(async () => {
    rig = await listenerRig(db());
  });

  /** Alarm actions that record their calls, and throw `fail` when set. */
  function alarms(fail?: Error) {
    const calls: unknown[][] = [];
    const act =
      (name: string) =>
      async (...a: string[]) => {
        calls.push([name, ...a]);
        if (fail) throw fail;
      };
    const actions: AlarmActions = {
      acknowledge: act('acknowledge'),
      checkReplication: act('checkReplication'),
      restoreFromReplica: act('restoreFromReplica'),
      runBackup: act('runBackup'),
      viewLogs: act('viewLogs'),
      viewRun: act('viewRun'),
    };
    return { actions, calls };
  }

  it('each button calls its action; the ones that start runs get the click’s request id', async () => {
    // prepare
    const a = alarms();
    const deps = { ...rig.deps, alarms: a.actions };

    // act
    for (const id of Object.keys(ALARM_ACTIONS) as (keyof typeof ALARM_ACTIONS)[]) await onAlarmAction(deps, id)(click('UALICE', ARN, { trigger: `t-${id}` }).args);

    // assess
    expect(a.calls).toEqual([
      ['acknowledge', ARN, 'UALICE'],
      ['checkReplication', ARN, 'UALICE', requestId('t-alarm_check_replication')],
      ['restoreFromReplica', ARN, 'UALICE', requestId('t-alarm_restore_replica')],
      ['runBackup', ARN, 'UALICE', requestId('t-alarm_run_backup')],
      ['viewLogs', ARN, 'UALICE'],
      ['viewRun', ARN, 'UALICE'],
    ]);
    expect(await audits(rig)).toEqual([]);
  });

  it('without a trigger id the request id comes from the alarm and the user', async () => {
    // prepare
    const a = alarms();

    // act
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_run_backup')(click('UALICE', ARN, { trigger: null }).args);

    // assess
    expect(a.calls).toEqual([['runBackup', ARN, 'UALICE', requestId(`${ARN}:UALICE`)]]);
  });

  it('a refusal from the action is answered and audited as refused; any other error as an error', async () => {
    // prepare
    const refused = alarms(new DrbotError('no_bucket', 'That bucket is not in the config.'));
    const broken = alarms(new Error('boom'));

    // act
    await onAlarmAction({ ...rig.deps, alarms: refused.actions }, 'alarm_restore_replica')(click('UEVE', ARN, { trigger: 't1' }).args);
    await onAlarmAction({ ...rig.deps, alarms: broken.actions }, 'alarm_ack')(click('UEVE', ARN, { trigger: 't2' }).args);

    // assess
    expect(ephemerals(rig)).toEqual([`:x: That bucket is not in the config.\n_ref: ${requestId('t1')}_`, `:x: Something went wrong on our side. The on-call can grep the logs for \`${requestId('t2')}\`.`]);
    expect(await audits(rig)).toEqual([
      { actor: 'UEVE', action: 'click', target: 'alarm_restore_replica spawn-binaries replication lag', result: 'refused', detail: 'no_bucket' },
      { actor: 'UEVE', action: 'click', target: 'alarm_ack spawn-binaries replication lag', result: 'error', detail: 'internal' },
    ]);
    expect(rig.logs).toEqual([
      { level: 'info', message: 'alarm action failed', extra: { requestId: requestId('t1'), user: 'UEVE', action: 'alarm_restore_replica', error: 'DrbotError: That bucket is not in the config.' } },
      { level: 'error', message: 'alarm action failed', extra: { requestId: requestId('t2'), user: 'UEVE', action: 'alarm_ack', error: 'Error: boom' } },
    ]);
  });

  it('refuses a value that is not an alarm ARN, a deployment without alarm actions, another workspace', async () => {
    // prepare
    const a = alarms();

    // act
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', 'arn:aws:cloudwatch:us-east-1:123:alarm:x').args);
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', `${ARN}\n`).args);
    await onAlarmAction(rig.deps, 'alarm_ack')(click('UALICE', ARN).args);
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', ARN, { team: 'TOTHER' }).args);

    // assess
    expect(a.calls).toEqual([]);
    expect(ephemerals(rig)).toEqual([':no_entry_sign: That button is not one of ours.', ':no_entry_sign: That button is not one of ours.', ':no_entry_sign: Alarm actions are not available in this deployment.']);
    expect((await audits(rig)).map((e) => e.detail)).toEqual(['malformed', 'malformed', 'unavailable', 'wrong_team']);
  });

  it('an audit that cannot be written after a failed action is logged, not thrown', async () => {
    // prepare
    const a = alarms(new Error('boom'));
    const store = new StateStore(db().client, 'missing-table');

    // act
    await onAlarmAction({ ...rig.deps, store, alarms: a.actions }, 'alarm_ack')(click('UALICE', ARN, { trigger: 't3' }).args);

    // assess
    expect(rig.logs.map((l) => [l.level, l.message])).toEqual([
      ['error', 'alarm action failed'],
      ['warn', 'could not record the refusal'],
    ]);
    expect(rig.logs[1]?.extra).toEqual({ requestId: requestId('t3'), error: expect.stringMatching(/ResourceNotFoundException|non-existent table/) });
  });

  it('accepts alarms of every AWS partition, and names at most 100 characters of the alarm in the audit', async () => {
    // prepare
    const a = alarms(new Error('boom'));
    const gov = 'arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:gov lag';
    const long = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${'n'.repeat(150)}`;

    // act
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', gov).args);
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', long).args);
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', `x${ARN}`).args);
    await onAlarmAction({ ...rig.deps, alarms: a.actions }, 'alarm_ack')(click('UALICE', undefined).args);

    // assess
    expect(a.calls).toEqual([
      ['acknowledge', gov, 'UALICE'],
      ['acknowledge', long, 'UALICE'],
    ]);
    expect(rig.audited.map((e) => [e.target, e.detail])).toEqual([
      ['alarm_ack gov lag', 'internal'],
      [`alarm_ack ${'n'.repeat(100)}`, 'internal'],
      ['alarm_ack', 'malformed'],
      ['alarm_ack', 'malformed'],
    ]);
  });
});
