import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG, SANDBOX_USERS } from '../../src/local/sandbox';
import type { StoredMessage } from '../../src/local/slack-standin';
import type { LocalStack } from '../../src/local/stack';
import { LocalRunEngine } from '../../src/runbooks/engine-local';
import type { AuditEvent } from '../../src/store/state';
import {
  buttons,
  click,
  command,
  deleteKeys,
  ephemeralsFor,
  eventually,
  latestMarkerKeys,
  newRuns,
  requestRun,
  runIdOf,
  runMessage,
  runSummary,
  snapshot,
  startSandboxStack,
  textOf,
} from '../helpers/flow';

/**
 * Approvals end to end: signed slash commands and button clicks into the real Bolt app, the
 * runbook on the durable SDK's local runner, AWS in moto, Slack in the stand-in.
 */

const BUCKET = 'spawn-binaries-us-east-1';
const RESTORE = `restore s3 ${BUCKET}`;
const SEEDED_DELETED = 250;

afterAll(async () => {
  // Parked runs hold timers in the runner's checkpoint worker; stop it once every stack is closed.
  await LocalRunEngine.teardown();
});

function s3(stack: LocalStack): S3Client {
  return stack.clients.s3('us-east-1');
}

/** Counts DeleteObjects calls made through the stack's S3 client from now on. */
function countDeleteObjects(stack: LocalStack): () => number {
  const spy = jest.spyOn(s3(stack), 'send');
  return () => spy.mock.calls.filter(([c]) => c instanceof DeleteObjectsCommand).length;
}

async function auditOf(stack: LocalStack, runId: string): Promise<AuditEvent[]> {
  return (await stack.store.listAudit(100)).filter((e) => e.runId === runId);
}

async function refusedClicks(stack: LocalStack, approvalId: string): Promise<AuditEvent[]> {
  return (await stack.store.listAudit(100)).filter((e) => e.action === 'click' && e.result === 'refused' && e.target.includes(approvalId));
}

/** The message as the channel shows it now (same ts as when posted). */
function current(stack: LocalStack, m: StoredMessage): StoredMessage {
  const now = stack.standIn.message(m.channel, m.ts);
  if (!now) throw new Error(`message ${m.ts} is gone`);
  return now;
}

/** Puts the delete markers back on every key that had one at seed time. */
async function redelete(stack: LocalStack, keys: readonly string[]): Promise<void> {
  const marked = new Set(await latestMarkerKeys(s3(stack), BUCKET));
  await deleteKeys(s3(stack), BUCKET, keys.filter((k) => !marked.has(k)));
}

describe('approval of /dr restore s3 with one approver', () => {
  let stack: LocalStack;
  let seededKeys: string[];

  beforeAll(async () => {
    stack = await startSandboxStack();
    seededKeys = await latestMarkerKeys(s3(stack), BUCKET);
  });

  afterAll(async () => {
    await stack?.close();
  });

  beforeEach(async () => {
    await redelete(stack, seededKeys);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('posts the plan, refuses alice (four eyes), eve and carol (role), runs once on bob’s approval, and updates the one message in place', async () => {
    // prepare
    expect(seededKeys).toHaveLength(SEEDED_DELETED);
    const before = stack.engine.names();
    const deleteObjects = countDeleteObjects(stack);

    // act: alice requests
    const { reply, runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);

    // assess: the ack, and the plan with the count, waiting for approval
    expect(reply.status).toBe(200);
    expect(reply.json?.text).toContain('Started run');
    const plan = textOf(message);
    expect(plan).toContain('Waiting for approval');
    expect(plan).toMatch(/\*250\* deleted objects will be restored/);
    expect(buttons(message).map((b) => [b.action_id, b.text])).toEqual([
      ['run_approve', 'Approve'],
      ['run_reject', 'Reject'],
    ]);
    expect(approvalId).toMatch(/^ap-[0-9a-f]{12}$/);

    // act: the requester, someone with no role, and a viewer try to approve
    await click(stack, 'alice', message, 'run_approve');
    await click(stack, 'eve', message, 'run_approve');
    await click(stack, 'carol', message, 'run_approve');

    // assess: each refused with a reason only they see; nothing ran
    expect(textOf(ephemeralsFor(stack.standIn, 'alice').at(-1))).toMatch(/four eyes/);
    // One refusal style for buttons and commands alike.
    expect(textOf(ephemeralsFor(stack.standIn, 'eve').at(-1))).toContain('🚫 You may not approve DR runs: it needs the *approver* role, and you have no drbot role.');
    expect(textOf(ephemeralsFor(stack.standIn, 'carol').at(-1))).toContain('🚫 You may not approve DR runs: it needs the *approver* role, and you are a viewer.');
    expect(deleteObjects()).toBe(0);
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toHaveLength(SEEDED_DELETED);
    expect(runSummary(stack, runId)).toBeUndefined();
    expect(buttons(current(stack, message))).toHaveLength(2);

    // act: an approver approves
    await click(stack, 'bob', message, 'run_approve');

    // assess: executed exactly once, everything restored
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual([]);
    expect(deleteObjects()).toBe(1);
    expect(newRuns(stack, before)).toHaveLength(1);

    // assess: the same message (same ts), now done, approved by bob, verified, no buttons
    const done = current(stack, message);
    const text = textOf(done);
    expect(done.ts).toBe(message.ts);
    expect(text).toContain('Done');
    expect(text).toContain('Approved by @bob');
    expect(text).toMatch(/Restored \*250\* objects/);
    expect(text).toContain('Verified by listing');
    expect(buttons(done)).toEqual([]);
    expect(stack.standIn.channelMessages(message.channel).filter((m) => textOf(m).includes(runId))).toHaveLength(1);

    // assess: the approval record and the audit trail
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'approved', approvers: [SANDBOX_USERS.bob], requester: SANDBOX_USERS.alice });
    const audit = await auditOf(stack, runId);
    const row = (action: string) => audit.filter((e) => e.action === action);
    expect(row('command')).toEqual([expect.objectContaining({ actor: SANDBOX_USERS.alice, result: 'pending' })]);
    expect(row('plan')).toEqual([expect.objectContaining({ actor: SANDBOX_USERS.alice, result: 'ok' })]);
    expect(row('approve')).toEqual([expect.objectContaining({ actor: SANDBOX_USERS.bob, result: 'approved' })]);
    expect(row('result')).toEqual([expect.objectContaining({ actor: 'system', result: 'succeeded' })]);
    const refused = await refusedClicks(stack, approvalId);
    expect(refused.map((e) => [e.actor, e.detail]).sort()).toEqual(
      [
        [SANDBOX_USERS.alice, 'own_request'],
        [SANDBOX_USERS.carol, 'no_role'],
        [SANDBOX_USERS.eve, 'no_role'],
      ].sort(),
    );
  });

  it('ends as rejected when bob rejects, and leaves the bucket unchanged', async () => {
    // prepare
    const deleteObjects = countDeleteObjects(stack);
    const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);

    // act
    await click(stack, 'bob', message, 'run_reject');

    // assess
    expect(runSummary(stack, runId)?.status).toBe('rejected');
    const text = textOf(current(stack, message));
    expect(text).toContain('Rejected');
    expect(text).toMatch(/Rejected by @bob at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/);
    expect(buttons(current(stack, message))).toEqual([]);
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'rejected', decidedBy: SANDBOX_USERS.bob });
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual(seededKeys);
    expect(deleteObjects()).toBe(0);
    const audit = await auditOf(stack, runId);
    expect(audit.filter((e) => e.action === 'reject')).toEqual([expect.objectContaining({ actor: SANDBOX_USERS.bob, result: 'rejected' })]);
    expect(audit.filter((e) => e.action === 'result')).toEqual([expect.objectContaining({ result: 'rejected' })]);
  });

  // Regression: onReject once stored the reason as `rejected by ${user}` with the raw user ID, and
  // the run view escaped it, so the message read "Rejected by @bob at …: rejected by UBOB".
  it('names the rejecter as a person in the message, never by raw user ID', async () => {
    // prepare
    const { message } = await requestRun(stack, 'alice', RESTORE);

    // act
    await click(stack, 'bob', message, 'run_reject');

    // assess
    const text = textOf(current(stack, message));
    expect(text).toContain('Rejected by @bob');
    expect(text).not.toContain(SANDBOX_USERS.bob);
  });


  it('four eyes binds approvers too: bob requests and cannot approve his own run; nothing is deleted until dave approves', async () => {
    // prepare: the requester holds the approver role himself
    const deleteObjects = countDeleteObjects(stack);
    const { runId, message, approvalId } = await requestRun(stack, 'bob', RESTORE);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: refused for being the requester (not for a role he has); the run still waits
    expect((await refusedClicks(stack, approvalId)).map((e) => [e.actor, e.detail])).toEqual([[SANDBOX_USERS.bob, 'own_request']]);
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'pending', approvers: [] });
    expect(runSummary(stack, runId)).toBeUndefined();
    expect(deleteObjects()).toBe(0);
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual(seededKeys);
    expect(buttons(current(stack, message))).toHaveLength(2);

    // act: another approver approves
    await click(stack, 'dave', message, 'run_approve');

    // assess
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'approved', approvers: [SANDBOX_USERS.dave] });
    expect(deleteObjects()).toBe(1);
  });

  it('reject needs a role: eve is refused and the run still waits; alice then withdraws her own request', async () => {
    // prepare
    const deleteObjects = countDeleteObjects(stack);
    const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);

    // act: someone with no role rejects
    await click(stack, 'eve', message, 'run_reject');

    // assess: refused for the role; nothing decided
    expect((await refusedClicks(stack, approvalId)).map((e) => [e.actor, e.detail])).toEqual([[SANDBOX_USERS.eve, 'no_role']]);
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'pending' });
    expect(runSummary(stack, runId)).toBeUndefined();
    expect(buttons(current(stack, message))).toHaveLength(2);

    // act: the requester (no approver role) withdraws
    await click(stack, 'alice', message, 'run_reject');

    // assess
    expect(runSummary(stack, runId)?.status).toBe('rejected');
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'rejected', decidedBy: SANDBOX_USERS.alice, reason: 'withdrawn by the requester' });
    expect(textOf(current(stack, message))).toContain('withdrawn by the requester');
    expect(deleteObjects()).toBe(0);
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual(seededKeys);
  });

  it('with --dry-run posts the plan only: no buttons, the bucket untouched', async () => {
    // prepare
    const deleteObjects = countDeleteObjects(stack);

    // act
    const reply = await command(stack, 'alice', `${RESTORE} --dry-run`);

    // assess
    const runId = runIdOf(reply);
    const message = runMessage(stack.standIn, runId);
    const text = textOf(message);
    expect(text).toContain('Dry run');
    expect(text).toMatch(/\*250\* deleted objects would be restored/);
    expect(buttons(message)).toEqual([]);
    expect(runSummary(stack, runId)?.status).toBe('dry_run');
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual(seededKeys);
    expect(deleteObjects()).toBe(0);
    const audit = await auditOf(stack, runId);
    expect(audit.map((e) => e.action)).not.toContain('approval-requested');
    expect(audit.filter((e) => e.action === 'result')).toEqual([expect.objectContaining({ result: 'ok', detail: 'dry run: nothing changed' })]);
  });

  describe('double approval', () => {
    /** Asserts the run executed once, with one decision and one callback. */
    async function expectOneExecution(runId: string, approvalId: string, approve: jest.SpyInstance, deleteObjects: () => number): Promise<void> {
      expect(runSummary(stack, runId)?.status).toBe('succeeded');
      expect(approve).toHaveBeenCalledTimes(1);
      expect(deleteObjects()).toBe(1);
      expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual([]);
      const approvals = (await auditOf(stack, runId)).filter((e) => e.action === 'approve');
      expect(approvals).toEqual([expect.objectContaining({ result: 'approved' })]);
      expect((await auditOf(stack, runId)).filter((e) => e.action === 'result')).toHaveLength(1);
      expect((await stack.store.getApproval(approvalId))?.status).toBe('approved');
    }

    it('bob clicking Approve twice in a row decides once; the second click is told it is already decided', async () => {
      // prepare
      const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);
      const approve = jest.spyOn(stack.engine, 'approve');
      const deleteObjects = countDeleteObjects(stack);
      const seen = ephemeralsFor(stack.standIn, 'bob').length;

      // act: the second click comes from the same, stale, message
      await click(stack, 'bob', message, 'run_approve');
      await click(stack, 'bob', message, 'run_approve');

      // assess
      await expectOneExecution(runId, approvalId, approve, deleteObjects);
      const told = ephemeralsFor(stack.standIn, 'bob').slice(seen).map(textOf);
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/already (been )?(decided|approved)/);
      expect(textOf(current(stack, message))).toContain('Done');
    });

    it('bob clicking Approve twice at once decides once', async () => {
      // prepare
      const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);
      const approve = jest.spyOn(stack.engine, 'approve');
      const deleteObjects = countDeleteObjects(stack);
      const seen = ephemeralsFor(stack.standIn, 'bob').length;

      // act
      const replies = await Promise.all([click(stack, 'bob', message, 'run_approve', { settle: false }), click(stack, 'bob', message, 'run_approve', { settle: false })]);
      await stack.engine.idle();

      // assess
      expect(replies.map((r) => r.status)).toEqual([200, 200]);
      await expectOneExecution(runId, approvalId, approve, deleteObjects);
      const told = ephemeralsFor(stack.standIn, 'bob').slice(seen).map(textOf);
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/already (been )?(decided|approved)/);
      expect(textOf(current(stack, message))).toContain('Done');
    });

    // Regression: both votes are appended before either decides; the vote whose decide() lost once
    // came back from StateStore.voteApprove as { kind: 'recorded', quorum: false }, so onApprove
    // treated it as a partial vote (audited "2 of 1", redrew the buttons) and the loser got no
    // ephemeral.
    it('bob and dave clicking Approve at once decide once; the later click is told it is already decided', async () => {
      // prepare
      const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);
      const approve = jest.spyOn(stack.engine, 'approve');
      const deleteObjects = countDeleteObjects(stack);
      const seenBob = ephemeralsFor(stack.standIn, 'bob').length;
      const seenDave = ephemeralsFor(stack.standIn, 'dave').length;

      // act
      await Promise.all([click(stack, 'bob', message, 'run_approve', { settle: false }), click(stack, 'dave', message, 'run_approve', { settle: false })]);
      await stack.engine.idle();

      // assess
      await expectOneExecution(runId, approvalId, approve, deleteObjects);
      const told = [...ephemeralsFor(stack.standIn, 'bob').slice(seenBob), ...ephemeralsFor(stack.standIn, 'dave').slice(seenDave)].map(textOf);
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/already (been )?(decided|approved)/);
      const done = textOf(current(stack, message));
      expect(done).toContain('Done');
      expect(done).toMatch(/Approved by @(bob|dave)\b/);
      expect(buttons(current(stack, message))).toEqual([]);
    });
  });
});

describe('approval of /dr restore s3 with two approvers required', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    const config = parseConfig({ ...SANDBOX_CONFIG, approvals: { required: 2, expiresMinutes: 30 } }, 'quorum config');
    stack = await startSandboxStack({ config });
  });

  afterAll(async () => {
    await stack?.close();
    jest.restoreAllMocks();
  });

  it('does not run on bob’s approval alone, shows 1 of 2, and runs once dave approves too', async () => {
    // prepare
    const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);
    const approve = jest.spyOn(stack.engine, 'approve');
    const deleteObjects = countDeleteObjects(stack);
    expect(textOf(message)).toContain('Needs 2 approvers');

    // act: the first approval
    await click(stack, 'bob', message, 'run_approve');

    // assess: recorded, shown, not run
    const half = current(stack, message);
    expect(textOf(half)).toMatch(/1 of 2: @bob/);
    expect(buttons(half).map((b) => b.action_id)).toEqual(['run_approve', 'run_reject']);
    expect(approve).not.toHaveBeenCalled();
    expect(runSummary(stack, runId)).toBeUndefined();
    expect(deleteObjects()).toBe(0);
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toHaveLength(SEEDED_DELETED);
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'pending', approvers: [SANDBOX_USERS.bob] });

    // act: bob again (does not count twice), then dave
    const seen = ephemeralsFor(stack.standIn, 'bob').length;
    await click(stack, 'bob', snapshot(half), 'run_approve');
    const again = ephemeralsFor(stack.standIn, 'bob').slice(seen).map(textOf);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatch(/already approved/);
    expect(runSummary(stack, runId)).toBeUndefined();
    await click(stack, 'dave', snapshot(current(stack, message)), 'run_approve');

    // assess
    expect(approve).toHaveBeenCalledTimes(1);
    expect(runSummary(stack, runId)?.status).toBe('succeeded');
    expect(deleteObjects()).toBe(1);
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toEqual([]);
    const done = textOf(current(stack, message));
    expect(done).toContain('Done');
    expect(done).toContain('Approved by @bob, @dave');
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'approved', approvers: [SANDBOX_USERS.bob, SANDBOX_USERS.dave] });
    const approvals = (await auditOf(stack, runId)).filter((e) => e.action === 'approve').map((e) => [e.actor, e.result]);
    expect(approvals.sort()).toEqual(
      [
        [SANDBOX_USERS.bob, 'pending'],
        [SANDBOX_USERS.dave, 'approved'],
      ].sort(),
    );
  });
});

describe('approval of /dr restore s3 that nobody decides', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    const config = parseConfig({ ...SANDBOX_CONFIG, approvals: { required: 1, expiresMinutes: 1 } }, 'expiry config');
    // The local runner keeps callback timeouts in its checkpoint worker on real timers (skipTime
    // only skips durable waits), so the approval wait is cut to 2 s (the driver's test hook) rather
    // than really waiting the shortest expiry the config allows, a minute.
    stack = await startSandboxStack({ config, approvalWaitSeconds: 2 });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('ends as expired after expiresMinutes: message says so, the record is expired, a later click is refused, the bucket is unchanged', async () => {
    // prepare
    const { runId, message, approvalId } = await requestRun(stack, 'alice', RESTORE);
    expect(runSummary(stack, runId)).toBeUndefined();

    // act: nobody clicks
    const summary = await eventually(() => runSummary(stack, runId), { timeoutMs: 30_000, everyMs: 100, what: `run ${runId} to expire` });
    await stack.engine.idle();
    const seen = ephemeralsFor(stack.standIn, 'bob').length;
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(summary.status).toBe('expired');
    const text = textOf(current(stack, message));
    expect(text).toContain('Approval expired');
    expect(text).toContain('nothing was changed');
    expect(buttons(current(stack, message))).toEqual([]);
    expect(await stack.store.getApproval(approvalId)).toMatchObject({ status: 'expired', approvers: [] });
    const told = ephemeralsFor(stack.standIn, 'bob').slice(seen).map(textOf);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/expired|already (been )?decided/);
    expect(await latestMarkerKeys(s3(stack), BUCKET)).toHaveLength(SEEDED_DELETED);
    expect((await auditOf(stack, runId)).filter((e) => e.action === 'result')).toEqual([expect.objectContaining({ result: 'expired' })]);
  });
});
