import { type ApprovalRecord, type AuditEvent, newId, RUN_TTL_SECONDS, type RunRecord, StateStore } from '../../src/store/state';
import { useDynalite } from '../helpers/dynalite';
import { StateItemError } from '../../src/store/item';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';

const T0 = Date.parse('2026-01-27T12:00:00.000Z');

const db = useDynalite();
/** Every test gets an empty table of its own. */
let table: string;
beforeEach(async () => {
  table = await db().freshTable();
});

/** A store whose clock the test moves. */
function storeAt(ms = T0): { store: StateStore; setNow: (ms: number) => void } {
  let now = ms;
  return { store: new StateStore(db().client, table, () => new Date(now)), setNow: (t) => (now = t) };
}

function approval(over: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: newId('ap'),
    runId: newId('r'),
    callbackId: 'cb-1',
    requester: 'UALICE',
    summary: 'Undelete 250 objects in spawn-binaries-us-east-1',
    required: 1,
    approvers: [],
    status: 'pending',
    createdAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 30 * 60_000).toISOString(),
    channel: 'CSANDBOXOPS',
    ts: '1769515200.000100',
    ...over,
  };
}

describe('StateStore.createTable', () => {
  it('succeeds again when the table already exists', async () => {
    // act
    const again = StateStore.createTable(db().client, table);

    // assess
    await expect(again).resolves.toBeUndefined();
  });
});

describe('StateStore.claim', () => {
  it('claims a key once: true the first time, false for every repeat', async () => {
    // prepare
    const { store } = storeAt();
    const key = newId('cmd');

    // act
    const first = await store.claim(key);
    const second = await store.claim(key);
    const other = await store.claim(`${key}-other`);

    // assess
    expect([first, second, other]).toEqual([true, false, true]);
  });

  it('lets exactly one of ten concurrent claims of the same key win', async () => {
    // prepare
    const { store } = storeAt();
    const key = newId('cmd');

    // act
    const results = await Promise.all(Array.from({ length: 10 }, () => store.claim(key)));

    // assess
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('StateStore audit log', () => {
  it('lists the newest events first, up to the limit', async () => {
    // prepare
    const store = storeAt().store;
    const base = Date.parse('2030-01-01T00:00:00.000Z');
    const minutes = [3, 0, 4, 1, 2];
    for (const m of minutes) {
      await store.audit({ actor: 'UALICE', action: 'command', target: `/dr audit ${m}`, result: 'ok', at: new Date(base + m * 60_000).toISOString() });
    }

    // act
    const three = await store.listAudit(3);

    // assess
    expect(three.map((e) => e.target)).toEqual(['/dr audit 4', '/dr audit 3', '/dr audit 2']);
  });

  it('stores an event as given, with an id and the clock time, and hands back the keys stripped', async () => {
    // prepare
    const store = storeAt(Date.parse('2031-06-01T00:00:00.000Z')).store;

    // act
    const written = await store.audit({ actor: 'UEVE', action: 'command', target: '/dr status', result: 'refused', detail: 'forbidden', runId: 'r-1' });
    const [read] = await store.listAudit(1);

    // assess
    expect(written.at).toBe('2031-06-01T00:00:00.000Z');
    expect(written.id).toMatch(/^a-[0-9a-f]{12}$/);
    expect(read).toEqual<AuditEvent>(written);
    expect(read).not.toHaveProperty('pk');
    expect(read).not.toHaveProperty('ttl');
  });
});

describe('StateStore approvals', () => {
  it('stores an approval once and reads it back', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);

    // act
    const read = await store.getApproval(a.id);
    const again = await store.putApproval(a).catch((e: unknown) => e);
    const missing = await store.getApproval('ap-nope');

    // assess
    expect(read).toEqual(a);
    expect(again).toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(missing).toBeUndefined();
  });

  it('refuses a second vote by the same user as already_voted', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval({ required: 2 });
    await store.putApproval(a);

    // act
    const first = await store.voteApprove(a.id, 'UBOB');
    const second = await store.voteApprove(a.id, 'UBOB');

    // assess
    expect(first).toMatchObject({ kind: 'recorded', quorum: false, approval: { approvers: ['UBOB'], status: 'pending' } });
    expect(second).toMatchObject({ kind: 'refused', reason: 'already_voted' });
    expect((await store.getApproval(a.id))?.approvers).toEqual(['UBOB']);
  });

  it('reaches a quorum of two only with two distinct users, and exactly once', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval({ required: 2 });
    await store.putApproval(a);

    // act
    const bob = await store.voteApprove(a.id, 'UBOB');
    const bobAgain = await store.voteApprove(a.id, 'UBOB');
    const dave = await store.voteApprove(a.id, 'UDAVE');
    const carol = await store.voteApprove(a.id, 'UCAROL');

    // assess
    expect(bob).toMatchObject({ kind: 'recorded', quorum: false });
    expect(bobAgain).toMatchObject({ kind: 'refused', reason: 'already_voted' });
    expect(dave).toMatchObject({ kind: 'recorded', quorum: true, approval: { status: 'approved', decidedBy: 'UDAVE', approvers: ['UBOB', 'UDAVE'] } });
    expect(carol).toMatchObject({ kind: 'refused', reason: 'not_pending' });
    expect([bob, bobAgain, dave, carol].filter((v) => v.kind === 'recorded' && v.quorum)).toHaveLength(1);
  });

  it('gives exactly one of ten concurrent approvers the quorum when one is needed', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval({ required: 1 });
    await store.putApproval(a);
    const users = Array.from({ length: 10 }, (_, i) => `UAPPROVER${i}`);

    // act
    const votes = await Promise.all(users.map((u) => store.voteApprove(a.id, u)));

    // assess
    const winners = votes.flatMap((v, i) => (v.kind === 'recorded' && v.quorum ? [users[i]] : []));
    expect(winners).toHaveLength(1);
    const final = await store.getApproval(a.id);
    expect(final?.status).toBe('approved');
    expect(final?.decidedBy).toBe(winners[0]);
    for (const v of votes) if (v.kind === 'refused') expect(v.reason).toBe('not_pending');
  });

  it('lets exactly one of many concurrent approve/reject decisions win', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);
    const calls = Array.from({ length: 10 }, (_, i) => ({ status: i % 2 ? ('rejected' as const) : ('approved' as const), user: `UDECIDER${i}` }));

    // act
    const results = await Promise.all(calls.map((c) => store.decide(a.id, c.status, c.user, c.status === 'rejected' ? `no by ${c.user}` : undefined)));

    // assess
    const won = results.flatMap((r, i) => (r ? [{ r, call: calls[i] }] : []));
    expect(won).toHaveLength(1);
    const final = await store.getApproval(a.id);
    expect(final?.status).toBe(won[0]?.call?.status);
    expect(final?.decidedBy).toBe(won[0]?.call?.user);
    expect(final).toEqual(won[0]?.r);
  });

  it('records a rejection reason', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);

    // act
    const rejected = await store.decide(a.id, 'rejected', 'UBOB', 'rejected by UBOB');
    const late = await store.voteApprove(a.id, 'UDAVE');

    // assess
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: 'UBOB', reason: 'rejected by UBOB', decidedAt: new Date(T0).toISOString() });
    expect(late).toMatchObject({ kind: 'refused', reason: 'not_pending', approval: { status: 'rejected' } });
  });

  it('refuses votes and approvals once the approval has expired, but can mark it expired', async () => {
    // prepare
    const { store, setNow } = storeAt();
    const a = approval({ required: 1 });
    await store.putApproval(a);
    setNow(Date.parse(a.expiresAt) + 1);

    // act
    const vote = await store.voteApprove(a.id, 'UBOB');
    const approve = await store.decide(a.id, 'approved', 'UBOB');
    const expire = await store.decide(a.id, 'expired', 'system');

    // assess
    expect(vote).toMatchObject({ kind: 'refused', reason: 'expired' });
    expect(approve).toBeUndefined();
    expect(expire).toMatchObject({ status: 'expired', decidedBy: 'system', approvers: [] });
  });

  it('treats the expiry instant itself as expired', async () => {
    // prepare
    const { store, setNow } = storeAt();
    const a = approval();
    await store.putApproval(a);
    setNow(Date.parse(a.expiresAt));

    // act
    const vote = await store.voteApprove(a.id, 'UBOB');

    // assess
    expect(vote).toMatchObject({ kind: 'refused', reason: 'expired' });
  });

  it('refuses a vote on an approval that does not exist', async () => {
    // prepare
    const { store } = storeAt();

    // act
    const vote = await store.voteApprove('ap-doesnotexist', 'UBOB');
    const decided = await store.decide('ap-doesnotexist', 'approved', 'UBOB');

    // assess
    expect(vote).toEqual({ kind: 'refused', reason: 'not_found' });
    expect(decided).toBeUndefined();
  });
});

describe('StateStore runs', () => {
  it('patches only the given fields and stamps updatedAt', async () => {
    // prepare
    const { store, setNow } = storeAt();
    const run: RunRecord = {
      id: newId('r'),
      kind: 'restore-s3-undelete',
      requester: 'UALICE',
      commandText: '/dr restore s3 spawn-binaries-us-east-1',
      channel: 'CSANDBOXOPS',
      status: 'started',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    };
    await store.putRun(run);
    setNow(T0 + 90_000);

    // act
    await store.updateRun(run.id, { status: 'running', ts: '1769515200.000200' });
    const afterFirst = await store.getRun(run.id);
    await store.updateRun(run.id, { summary: 'restored 250', status: undefined });
    const afterSecond = await store.getRun(run.id);

    // assess
    expect(afterFirst).toEqual({ ...run, status: 'running', ts: '1769515200.000200', updatedAt: '2026-01-27T12:01:30.000Z' });
    expect(afterSecond).toEqual({ ...run, status: 'running', ts: '1769515200.000200', summary: 'restored 250', updatedAt: '2026-01-27T12:01:30.000Z' });
    expect(await store.getRun('r-missing')).toBeUndefined();
  });

  it('refuses a run item that does not match its schema, naming the item and the field', async () => {
    // prepare
    const { store } = storeAt();
    await store.doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'RUN#r-odd', sk: 'RUN', id: 'r-odd', kind: 'restore-s3-undelete', requester: 'UALICE', commandText: '/dr', channel: 'C1', status: 'paused', createdAt: 'x', updatedAt: 'x' },
      }),
    );

    // act
    const err = await store.getRun('r-odd').catch((e: unknown) => e);

    // assess
    expect(err).toBeInstanceOf(StateItemError);
    expect(err).toMatchObject({ code: 'state_item_invalid', key: 'RUN#r-odd / RUN' });
    expect((err as StateItemError).issues).toMatch(/^status: /);
  });
});

/** The raw item under a key, as DynamoDB holds it (keys and ttl included). */
async function rawItem(store: StateStore, pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await store.doc.send(new GetCommand({ TableName: table, Key: { pk, sk } }))).Item;
}

function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: newId('r'),
    kind: 'restore-s3-undelete',
    requester: 'UALICE',
    commandText: '/dr restore s3 spawn-binaries-us-east-1',
    channel: 'CSANDBOXOPS',
    status: 'running',
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...over,
  };
}

const T0_SECONDS = T0 / 1000;
const DAY_SECONDS = 24 * 3600;

describe('StateStore item lifetimes (ttl, epoch seconds from the store clock)', () => {
  it('keeps a claim a day by default or as long as asked, audit events and runs 400 days, approvals 90', async () => {
    // prepare
    const { store } = storeAt(T0 + 999);
    const run = runRecord();
    const a = approval();

    // act
    await store.claim('ttl-default');
    await store.claim('ttl-run-long', RUN_TTL_SECONDS);
    const event = await store.audit({ actor: 'UALICE', action: 'command', target: '/dr status', result: 'ok' });
    await store.putApproval(a);
    await store.putRun(run);

    // assess: Math.floor of the clock in seconds (T0 + 0.999 s), plus the lifetime
    expect((await rawItem(store, 'IDEM#ttl-default', 'IDEM'))?.['ttl']).toBe(T0_SECONDS + DAY_SECONDS);
    expect((await rawItem(store, 'IDEM#ttl-run-long', 'IDEM'))?.['ttl']).toBe(T0_SECONDS + 400 * DAY_SECONDS);
    expect(RUN_TTL_SECONDS).toBe(400 * DAY_SECONDS);
    expect((await rawItem(store, 'AUDIT', `${event.at}#${event.id}`))?.['ttl']).toBe(T0_SECONDS + 400 * DAY_SECONDS);
    expect((await rawItem(store, `APPROVAL#${a.id}`, 'APPROVAL'))?.['ttl']).toBe(T0_SECONDS + 90 * DAY_SECONDS);
    expect((await rawItem(store, `RUN#${run.id}`, 'RUN'))?.['ttl']).toBe(T0_SECONDS + 400 * DAY_SECONDS);
    expect(await rawItem(store, 'RUNS', `${run.createdAt}#${run.id}`)).toEqual({ pk: 'RUNS', sk: `${run.createdAt}#${run.id}`, id: run.id, ttl: T0_SECONDS + 400 * DAY_SECONDS });
    expect(await rawItem(store, 'IDEM#ttl-default', 'IDEM')).toEqual({ pk: 'IDEM#ttl-default', sk: 'IDEM', at: new Date(T0 + 999).toISOString(), ttl: T0_SECONDS + DAY_SECONDS });
  });
});

describe('StateStore.unclaim', () => {
  it('gives a claim back so the next claim wins, and leaves other keys claimed', async () => {
    // prepare
    const { store } = storeAt();
    await store.claim('given-back');
    await store.claim('kept');

    // act
    await store.unclaim('given-back');

    // assess
    expect(await store.claim('given-back')).toBe(true);
    expect(await store.claim('kept')).toBe(false);
  });
});

describe('StateStore approvals, beyond the vote', () => {
  it('refuses to store a second approval under the same id, keeping the first', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);

    // act
    const again = store.putApproval({ ...a, requester: 'UMALLORY', status: 'approved' });

    // assess
    await expect(again).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await store.getApproval(a.id)).toEqual(a);
  });

  it('reads an approval without the optional fields it never had (absent, not undefined)', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);

    // act
    const read = await store.getApproval(a.id);

    // assess
    expect(Object.keys(read ?? {}).sort()).toEqual(Object.keys(a).sort());
    expect(await store.getApproval('ap-missing')).toBeUndefined();
  });

  it('writes a reason only when given one', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);

    // act
    const decided = await store.decide(a.id, 'rejected', 'UBOB');

    // assess
    expect(decided).toEqual({ ...a, status: 'rejected', decidedBy: 'UBOB', decidedAt: new Date(T0).toISOString() });
    expect(await rawItem(store, `APPROVAL#${a.id}`, 'APPROVAL')).not.toHaveProperty('reason');
  });

  it('refuses a decision on an approval that does not exist, creating nothing', async () => {
    // prepare
    const { store } = storeAt();

    // act
    const decided = await store.decide('ap-nowhere', 'approved', 'UBOB');

    // assess
    expect(decided).toBeUndefined();
    expect(await rawItem(store, 'APPROVAL#ap-nowhere', 'APPROVAL')).toBeUndefined();
  });

  it('refuses a vote once the quorum is full as not pending, while its decision is not yet written', async () => {
    // prepare: two approvers needed, both votes in, the decision not yet written (the completing click's next write)
    const { store } = storeAt();
    const a = approval({ required: 2 });
    await store.putApproval({ ...a, approvers: ['UBOB', 'UCAROL'] });

    // act
    const bobAgain = await store.voteApprove(a.id, 'UBOB');
    const dave = await store.voteApprove(a.id, 'UDAVE');

    // assess
    expect(bobAgain).toMatchObject({ kind: 'refused', reason: 'not_pending' });
    expect(dave).toMatchObject({ kind: 'refused', reason: 'not_pending' });
    expect((await store.getApproval(a.id))?.approvers).toEqual(['UBOB', 'UCAROL']);
  });

  it('flags a failed delivery and gives its redelivery to exactly one of ten concurrent callers', async () => {
    // prepare
    const { store } = storeAt();
    const a = approval();
    await store.putApproval(a);
    await store.decide(a.id, 'approved', 'UBOB');

    // act
    const beforeFlag = await store.claimRedelivery(a.id);
    await store.markDeliveryFailed(a.id);
    const flagged = (await store.getApproval(a.id))?.deliveryFailed;
    const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimRedelivery(a.id)));
    const afterClaim = (await store.getApproval(a.id))?.deliveryFailed;

    // assess
    expect(beforeFlag).toBe(false);
    expect(flagged).toBe(true);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(afterClaim).toBe(false);
  });

  it('redelivers only approved decisions, and can clear the flag without a claim', async () => {
    // prepare: a flagged approval still pending, and one rejected
    const { store } = storeAt();
    const pending = approval();
    const rejected = approval();
    await store.putApproval(pending);
    await store.putApproval(rejected);
    await store.decide(rejected.id, 'rejected', 'UBOB');
    await store.markDeliveryFailed(pending.id);
    await store.markDeliveryFailed(rejected.id);

    // act
    const claimed = [await store.claimRedelivery(pending.id), await store.claimRedelivery(rejected.id)];
    await store.markDeliveryFailed(pending.id, false);

    // assess
    expect(claimed).toEqual([false, false]);
    expect((await store.getApproval(pending.id))?.deliveryFailed).toBe(false);
    expect((await store.getApproval(rejected.id))?.deliveryFailed).toBe(true);
  });

  it('refuses to flag an approval that does not exist, creating nothing', async () => {
    // prepare
    const { store } = storeAt();

    // act
    const flag = store.markDeliveryFailed('ap-nowhere');

    // assess
    await expect(flag).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await rawItem(store, 'APPROVAL#ap-nowhere', 'APPROVAL')).toBeUndefined();
  });
});

describe('StateStore.listRuns', () => {
  async function fiveRuns(store: StateStore): Promise<RunRecord[]> {
    const runs = Array.from({ length: 5 }, (_, m) => runRecord({ id: `r-min${m}`, createdAt: new Date(T0 + m * 60_000).toISOString() }));
    for (const r of runs) await store.putRun(r);
    return runs;
  }

  it('lists the newest runs first, up to the limit', async () => {
    // prepare
    const { store } = storeAt();
    const runs = await fiveRuns(store);

    // act
    const two = await store.listRuns(2);
    const all = await store.listRuns(50);

    // assess
    expect(two).toEqual([runs[4], runs[3]]);
    expect(all.map((r) => r.id)).toEqual(['r-min4', 'r-min3', 'r-min2', 'r-min1', 'r-min0']);
  });

  it('with since, lists only the runs started at or after it', async () => {
    // prepare
    const { store } = storeAt();
    const runs = await fiveRuns(store);

    // act
    const since = await store.listRuns(50, runs[2]?.createdAt);

    // assess
    expect(since.map((r) => r.id)).toEqual(['r-min4', 'r-min3', 'r-min2']);
  });

  it('asks for at least one and at most 100 runs, whatever the limit given', async () => {
    // prepare
    const { store } = storeAt();
    await Promise.all(Array.from({ length: 101 }, (_, i) => store.putRun(runRecord({ id: `r-n${String(i).padStart(3, '0')}`, createdAt: new Date(T0 + i * 1000).toISOString() }))));

    // act
    const [zero, negative, many] = [await store.listRuns(0), await store.listRuns(-5), await store.listRuns(1000)];

    // assess
    expect(zero.map((r) => r.id)).toEqual(['r-n100']);
    expect(negative.map((r) => r.id)).toEqual(['r-n100']);
    expect(many).toHaveLength(100);
    expect(many[99]?.id).toBe('r-n001');
  });

  it('skips an index entry whose run is gone', async () => {
    // prepare
    const { store } = storeAt();
    const runs = await fiveRuns(store);
    await store.doc.send(new DeleteCommand({ TableName: table, Key: { pk: `RUN#${runs[3]?.id}`, sk: 'RUN' } }));

    // act
    const listed = await store.listRuns(50);

    // assess
    expect(listed.map((r) => r.id)).toEqual(['r-min4', 'r-min2', 'r-min1', 'r-min0']);
  });
});

describe('StateStore.updateRun, conditional and removing', () => {
  it('with onlyIf, writes only while the status is one of those, and says whether it did', async () => {
    // prepare
    const { store, setNow } = storeAt();
    const run = runRecord({ status: 'running' });
    await store.putRun(run);
    setNow(T0 + 5000);

    // act
    const refused = await store.updateRun(run.id, { status: 'interrupted' }, ['started', 'awaiting_approval']);
    const afterRefusal = await store.getRun(run.id);
    const applied = await store.updateRun(run.id, { status: 'interrupted' }, ['started', 'running']);

    // assess
    expect(refused).toBe(false);
    expect(afterRefusal).toEqual(run);
    expect(applied).toBe(true);
    expect(await store.getRun(run.id)).toEqual({ ...run, status: 'interrupted', updatedAt: new Date(T0 + 5000).toISOString() });
  });

  it('removes unsent when given null, and keeps the other fields', async () => {
    // prepare
    const { store } = storeAt();
    const run = runRecord({ status: 'succeeded', unsent: '{"text":"done"}', summary: 'restored 3' });
    await store.putRun(run);

    // act
    const done = await store.updateRun(run.id, { unsent: null, ts: '1769515200.000300' });

    // assess
    const { unsent: _, ...rest } = run;
    expect(done).toBe(true);
    expect(await store.getRun(run.id)).toEqual({ ...rest, ts: '1769515200.000300' });
    expect(await rawItem(store, `RUN#${run.id}`, 'RUN')).not.toHaveProperty('unsent');
  });

  it('throws what is not a refused condition, with or without onlyIf', async () => {
    // prepare: a store on a table that does not exist
    const store = new StateStore(db().client, 'drbot-no-such-table', () => new Date(T0));

    // act: every call settled before any is judged, so none is left running when one fails
    const settled = await Promise.allSettled([
      store.updateRun('r-1', { status: 'failed' }),
      store.updateRun('r-1', { status: 'failed' }, ['running']),
      store.claim('k'),
      store.decide('ap-1', 'approved', 'UBOB'),
      store.voteApprove('ap-1', 'UBOB'),
      store.claimRedelivery('ap-1'),
    ]);

    // assess
    expect(settled.map((r) => (r.status === 'rejected' ? (r.reason as { name?: string }).name : r.status))).toEqual(Array(6).fill('ResourceNotFoundException'));
  });
});

describe('StateStore.createTable, waiting for the table', () => {
  it('returns only once a new table is ACTIVE (dynalite keeping it CREATING for 300 ms)', async () => {
    // prepare: a dynalite of its own that, as DynamoDB does, makes a new table CREATING first
    const server = dynalite({ createTableMs: 300 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    try {
      // act
      await StateStore.createTable(client, 'drbot-slow-table');
      const status = (await client.send(new DescribeTableCommand({ TableName: 'drbot-slow-table' }))).Table?.TableStatus;

      // assess
      expect(status).toBe('ACTIVE');
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up after 120 s of CREATING, naming the table and its status (aws-sdk-client-mock: dynalite cannot keep a table CREATING that long)', async () => {
    // prepare
    jest.useFakeTimers({ now: T0 });
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const aws = mockClient(client);
    aws.on(CreateTableCommand).resolves({});
    aws.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'CREATING' } });
    try {
      // act
      const created = StateStore.createTable(client, 'drbot-stuck').catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(119_000);
      const early = aws.commandCalls(DescribeTableCommand).length;
      await jest.advanceTimersByTimeAsync(2_000);
      const err = await created;
      const atDeadline = aws.commandCalls(DescribeTableCommand).length;
      await jest.advanceTimersByTimeAsync(10_000);

      // assess: checked every 50 ms until the deadline, then stopped
      expect(aws.commandCalls(DescribeTableCommand)).toHaveLength(atDeadline);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('state table drbot-stuck is still CREATING after 120 s');
      expect(early).toBeGreaterThan(2000);
      expect(aws.commandCalls(CreateTableCommand)[0]?.args[0].input).toMatchObject({ TableName: 'drbot-stuck', BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] });
    } finally {
      jest.useRealTimers();
      aws.restore();
    }
  });

  it('throws a failure to create other than the table existing', async () => {
    // prepare (aws-sdk-client-mock: an AccessDenied dynalite does not answer)
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const aws = mockClient(client);
    aws.on(CreateTableCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    try {
      // act
      const created = StateStore.createTable(client, 'drbot-denied');

      // assess
      await expect(created).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(aws.commandCalls(DescribeTableCommand)).toHaveLength(0);
    } finally {
      aws.restore();
    }
  });
});

describe('StateStore, what dynalite cannot show', () => {
  it('reads approvals and runs with strongly consistent reads (aws-sdk-client-mock: dynalite reads are always consistent)', async () => {
    // prepare
    const store = new StateStore(new DynamoDBClient({ region: 'us-east-1' }), 'drbot-state', () => new Date(T0));
    const aws = mockClient(store.doc);
    aws.on(GetCommand).resolves({});
    try {
      // act
      await store.getApproval('ap-1');
      await store.getRun('r-1');

      // assess
      expect(aws.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
        { TableName: 'drbot-state', Key: { pk: 'APPROVAL#ap-1', sk: 'APPROVAL' }, ConsistentRead: true },
        { TableName: 'drbot-state', Key: { pk: 'RUN#r-1', sk: 'RUN' }, ConsistentRead: true },
      ]);
    } finally {
      aws.restore();
    }
  });

  it('takes a refused condition by its name too, as from another copy of the SDK (aws-sdk-client-mock: dynalite answers with the SDK’s own class)', async () => {
    // prepare: an error that is not an instance of this SDK's ConditionalCheckFailedException
    const store = new StateStore(new DynamoDBClient({ region: 'us-east-1' }), 'drbot-state', () => new Date(T0));
    const aws = mockClient(store.doc);
    aws.on(PutCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    try {
      // act
      const claimed = await store.claim('taken');

      // assess
      expect(claimed).toBe(false);
      expect(aws.commandCalls(PutCommand)).toHaveLength(1);
    } finally {
      aws.restore();
    }
  });
  it('throws a failed vote write that is not a refused condition, not taking it for a refusal (aws-sdk-client-mock: dynalite does not throttle)', async () => {
    // prepare: the vote's update is throttled; the approval itself reads as pending
    const store = new StateStore(new DynamoDBClient({ region: 'us-east-1' }), 'drbot-state', () => new Date(T0));
    const aws = mockClient(store.doc);
    aws.on(UpdateCommand).rejects(Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException' }));
    aws.on(GetCommand).resolves({ Item: { pk: 'APPROVAL#ap-1', sk: 'APPROVAL', ...approval({ id: 'ap-1' }) } });
    try {
      // act
      const vote = store.voteApprove('ap-1', 'UBOB');

      // assess
      await expect(vote).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
      expect(aws.commandCalls(UpdateCommand)).toHaveLength(1);
    } finally {
      aws.restore();
    }
  });
});

describe('StateStore, values as given', () => {
  it('stores records holding undefined fields, at the top or nested, leaving those fields out', async () => {
    // prepare
    const { store } = storeAt();
    const run = runRecord({ ts: undefined, summary: undefined, next: [{ label: 'View', command: 'runs', style: undefined }] });

    // act
    await store.putRun(run);
    const event = await store.audit({ actor: 'UALICE', action: 'command', target: '/dr status', result: 'ok', detail: undefined });

    // assess
    expect(await rawItem(store, `RUN#${run.id}`, 'RUN')).not.toHaveProperty('ts');
    expect(Object.keys((await store.getRun(run.id)) ?? {})).not.toContain('ts');
    expect((await store.getRun(run.id))?.next).toEqual([{ label: 'View', command: 'runs' }]);
    expect(await rawItem(store, 'AUDIT', `${event.at}#${event.id}`)).not.toHaveProperty('detail');
  });

  it('reads back the follow-up buttons of a run, their style included', async () => {
    // prepare
    const { store } = storeAt();
    const run = runRecord({
      status: 'succeeded',
      next: [
        { label: 'Cut over', command: 'cutover dynamodb spawn-instances', style: 'danger' },
        { label: 'Keep both', command: 'keep dynamodb spawn-instances', style: 'primary' },
        { label: 'View', command: 'runs' },
      ],
    });

    // act
    await store.putRun(run);

    // assess
    expect(await store.getRun(run.id)).toEqual(run);
  });

  it('refuses a vote on a decided approval as not pending, even once it has expired or from an earlier voter', async () => {
    // prepare: two approvers needed; bob voted, then it was rejected; later the approval expired
    const { store, setNow } = storeAt();
    const a = approval({ required: 2 });
    await store.putApproval(a);
    await store.voteApprove(a.id, 'UBOB');
    await store.decide(a.id, 'rejected', 'UCAROL', 'wrong bucket');

    // act
    const bobAgain = await store.voteApprove(a.id, 'UBOB');
    setNow(T0 + 31 * 60_000);
    const lateDave = await store.voteApprove(a.id, 'UDAVE');

    // assess
    expect(bobAgain).toMatchObject({ kind: 'refused', reason: 'not_pending' });
    expect(lateDave).toMatchObject({ kind: 'refused', reason: 'not_pending' });
  });
});
