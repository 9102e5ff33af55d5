/**
 * The run driver (src/runbooks/driver.ts) on the durable SDK's local runner, the state store on
 * dynalite and a recording Slack, with small runbooks made up per test: the message from post to
 * final state, the run record and audit at each stage, approval (approve, reject, expire), leases,
 * dry runs, Slack refusing and failing, scheduled failures and next steps. The runbooks' own tests
 * reach the driver too, on moto; these are cheap enough for `npm run mutate`.
 */
import { type DurableContext, withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { KnownBlock } from '@slack/types';
import { AwsClients } from '../../src/aws/clients';
import { setRetryWait } from '../../src/aws/retry-wait';
import { AwsCallError, DrbotError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { drive, isSdkControlFlow, type Runbook, type RunSummary, safeStep, stoppedText } from '../../src/runbooks/driver';
import { LocalRunEngine } from '../../src/runbooks/engine-local';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import { Leases } from '../../src/store/leases';
import { type AuditEvent, newId, type RunRecord, StateStore } from '../../src/store/state';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { useDynalite } from '../helpers/dynalite';
import { useLocalRunner } from '../helpers/runbook-rig';

const db = useDynalite();

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const OPS = SANDBOX_CONFIG.slack.channels.ops;
const CRITICAL = SANDBOX_CONFIG.slack.channels.critical as string;

interface Data {
  n: number;
}
type Input = AnyRunInput & { dryRun?: boolean };

type SlackCall = { kind: 'post' | 'update'; channel: string; ts: string; msg: SlackMessage; threadTs?: string };

/** Slack that records every post and update; `fail` decides per call whether it throws (and with what). */
class RecordingSlack implements SlackPoster {
  readonly calls: SlackCall[] = [];
  fail: (c: Omit<SlackCall, 'ts'> & { ts?: string }) => Error | undefined = () => undefined;
  /** Awaited before each call is answered: a slow Slack, or a look at the store mid-run. */
  hook: (c: Omit<SlackCall, 'ts'> & { ts?: string }) => Promise<void> = async () => {};
  private n = 0;
  async post(channel: string, msg: SlackMessage, opts: { threadTs?: string } = {}) {
    await this.hook({ kind: 'post', channel, msg, ...(opts.threadTs ? { threadTs: opts.threadTs } : {}) });
    const e = this.fail({ kind: 'post', channel, msg, ...(opts.threadTs ? { threadTs: opts.threadTs } : {}) });
    if (e) throw e;
    const ts = `1772442000.${String(++this.n).padStart(6, '0')}`;
    this.calls.push({ kind: 'post', channel, ts, msg, ...(opts.threadTs ? { threadTs: opts.threadTs } : {}) });
    return { channel, ts };
  }
  async update(channel: string, ts: string, msg: SlackMessage) {
    await this.hook({ kind: 'update', channel, ts, msg });
    const e = this.fail({ kind: 'update', channel, ts, msg });
    if (e) throw e;
    this.calls.push({ kind: 'update', channel, ts, msg });
  }
  async ephemeral() {}
  /** The latest text and blocks of message `ts`, as one string. */
  latest(ts: string): string {
    const m = this.calls.filter((c) => c.ts === ts).at(-1)?.msg;
    return m ? `${m.text}\n${JSON.stringify(m.blocks ?? [])}` : '';
  }
}

function head(blocks: KnownBlock[] | undefined): string {
  const b = blocks?.[0];
  return b && b.type === 'section' && b.text ? (b.text.text.split('\n')[0] ?? '') : '';
}

/** What each Slack call showed: its progress line (`Tidied 2 / 4`) if it had one, else its phase word (`Running`). */
function shownStates(calls: readonly SlackCall[]): string[] {
  return calls.map((c) => JSON.stringify(c.msg.blocks).match(/Tidied \d \/ \d/)?.[0] ?? head(c.msg.blocks).replace(/^:[a-z_]+: (\w+).*$/, '$1'));
}

/** A slack error as the Web API client throws it. */
function slackError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), { code: 'slack_webapi_platform_error', data: { ok: false, error: code } });
}

let current: Runbook<Input, Data>;
let deps: RunbookDeps;
let slack: RecordingSlack;
let now: number;
let engine: LocalRunEngine;
let audited: Array<Omit<AuditEvent, 'id' | 'at'>>;

useLocalRunner();

afterEach(() => {
  // A test that fails part way must not leave console mocked or retries unslept for the next.
  jest.restoreAllMocks();
  setRetryWait(async () => {});
});

beforeEach(async () => {
  now = T0;
  slack = new RecordingSlack();
  const clock = () => new Date(now);
  const store = new StateStore(db().client, await db().freshTable(), clock);
  audited = [];
  const write = store.audit.bind(store);
  store.audit = async (e) => {
    const out = await write(e);
    audited.push(e);
    return out;
  };
  deps = { config: SANDBOX_CONFIG, clients: new AwsClients('us-east-1'), store, slack, now: clock, progressIntervalMs: 2000 };
  engine = new LocalRunEngine(withDurableExecution(async (i: Input, ctx: DurableContext) => drive(ctx, deps, i, current)));
});

function runbook(over: Partial<Runbook<Input, Data>> = {}): Runbook<Input, Data> {
  return {
    title: () => 'Tidy 2 widgets',
    destructive: false,
    plan: async () => ({ lines: ['tidy widget-a', 'tidy widget-b'], data: { n: 2 } }),
    execute: async () => {
      now += 5000;
      return { ok: true, lines: ['tidied 2 widgets'], failures: [] };
    },
    ...over,
  };
}

function input(over: Partial<Input> = {}): Input {
  return { kind: 'status', runId: newId('r'), requester: 'UALICE', channel: OPS, commandText: '/dr tidy widgets', requestedAt: new Date(T0).toISOString(), ...over } as Input;
}

/** Starts the run and waits until it ends or parks at its approval. */
async function start(i: Input, rb: Runbook<Input, Data>): Promise<string> {
  current = rb;
  const name = `dr-test-${i.runId}`;
  await engine.start(name, i);
  await engine.idle(5);
  return name;
}

function summary(name: string): RunSummary {
  const r = engine.result(name);
  if (!r) throw new Error(`${name} has not ended`);
  return r.getResult() as RunSummary;
}

/** The run's audit events in the order written (the test clock stands still, so times tie), each also in the table. */
async function audits(runId: string): Promise<Array<Pick<AuditEvent, 'actor' | 'action' | 'result' | 'detail'>>> {
  const stored = (await deps.store.listAudit(100)).filter((a) => a.runId === runId);
  const written = audited.filter((a) => a.runId === runId);
  expect(stored).toHaveLength(written.length);
  return written.map((a) => {
    expect(stored).toContainEqual(expect.objectContaining(a));
    return { actor: a.actor, action: a.action, result: a.result, ...(a.detail !== undefined ? { detail: a.detail } : {}) };
  });
}

/** The approval the run is parked at: its record in the store. */
async function parkedApproval(runId: string) {
  const rec = (await deps.store.listRuns(50)).find((r) => r.id === runId);
  expect(rec?.status).toBe('awaiting_approval');
  const all = await deps.store.doc.send(new ScanCommand({ TableName: deps.store.tableName }));
  const item = (all.Items ?? []).find((i) => String(i.pk).startsWith('APPROVAL#') && i.runId === runId);
  if (!item) throw new Error('no approval record');
  const a = await deps.store.getApproval(String(item.id));
  if (!a) throw new Error('approval unreadable');
  return a;
}

describe('a run that needs no approval', () => {
  it('posts, plans, runs and reports in one message, recording and auditing each stage', async () => {
    // prepare
    const i = input();

    // act
    const name = await start(i, runbook());

    // assess
    expect(summary(name)).toEqual({ runId: i.runId, status: 'succeeded', lines: ['tidied 2 widgets'], failures: 0 });
    const [post, ...updates] = slack.calls;
    expect(post).toMatchObject({ kind: 'post', channel: OPS });
    expect(head(post?.msg.blocks)).toBe(':hourglass_flowing_sand: Planning: *Tidy 2 widgets*');
    expect(updates.every((u) => u.kind === 'update' && u.channel === OPS && u.ts === post?.ts)).toBe(true);
    expect(updates.map((u) => head(u.msg.blocks))).toEqual([':clipboard: Plan: *Tidy 2 widgets*', ':gear: Running: *Tidy 2 widgets*', ':white_check_mark: Done: *Tidy 2 widgets*']);
    const final = slack.latest(post?.ts ?? '');
    expect(final).toContain('tidied 2 widgets');
    expect(final).toContain('• tidy widget-a\\n• tidy widget-b');
    expect(final).toContain('took 5 s');
    expect(final).not.toContain(' in <#');
    const rec = await deps.store.getRun(i.runId);
    expect(rec).toMatchObject({ id: i.runId, kind: 'status', requester: 'UALICE', commandText: '/dr tidy widgets', channel: OPS, ts: post?.ts, status: 'succeeded', summary: 'tidied 2 widgets', createdAt: i.requestedAt });
    expect(rec?.next).toBeUndefined();
    expect(rec?.unsent).toBeUndefined();
    expect(await audits(i.runId)).toEqual([
      { actor: 'UALICE', action: 'plan', result: 'ok', detail: 'tidy widget-a; tidy widget-b' },
      { actor: 'system', action: 'result', result: 'succeeded', detail: 'tidied 2 widgets' },
    ]);
  });

  it('a failed outcome fails the run, counting and listing its failures', async () => {
    // prepare
    const i = input();
    const rb = runbook({ execute: async () => ({ ok: false, lines: ['tidied 1 of 2 widgets'], failures: ['widget-b: AccessDenied'] }) });

    // act
    const name = await start(i, rb);

    // assess
    expect(summary(name)).toEqual({ runId: i.runId, status: 'failed', lines: ['tidied 1 of 2 widgets'], failures: 1 });
    const ts = slack.calls[0]?.ts ?? '';
    expect(head(slack.calls.at(-1)?.msg.blocks)).toBe(':x: Failed: *Tidy 2 widgets*');
    expect(slack.latest(ts)).toContain('*1 failed:*\\n• widget-b: AccessDenied');
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'failed', detail: 'tidied 1 of 2 widgets (1 failures)' });
    expect((await deps.store.getRun(i.runId))?.status).toBe('failed');
  });

  it('a dry run posts its plan and ends without executing', async () => {
    // prepare
    const i = input({ dryRun: true });
    let executed = 0;

    // act
    const name = await start(i, runbook({ destructive: true, execute: async () => ((executed += 1), { ok: true, lines: [], failures: [] }) }));

    // assess
    expect(executed).toBe(0);
    expect(summary(name)).toEqual({ runId: i.runId, status: 'dry_run', lines: ['tidy widget-a', 'tidy widget-b'], failures: 0 });
    expect(head(slack.calls.at(-1)?.msg.blocks)).toBe(':memo: Dry run — nothing changed: *Tidy 2 widgets*');
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'ok', detail: 'dry run: nothing changed' });
    expect((await deps.store.getRun(i.runId))?.status).toBe('dry_run');
  });

  it('an empty plan ends as nothing to do', async () => {
    // prepare
    const i = input();
    let executed = 0;
    const rb = runbook({ destructive: true, plan: async () => ({ lines: ['every widget is tidy'], empty: true, data: { n: 0 } }), execute: async () => ((executed += 1), { ok: true, lines: [], failures: [] }) });

    // act
    const name = await start(i, rb);

    // assess
    expect(executed).toBe(0);
    expect(summary(name).status).toBe('nothing_to_do');
    expect(head(slack.calls.at(-1)?.msg.blocks)).toBe(':white_check_mark: Nothing to do: *Tidy 2 widgets*');
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'ok', detail: 'nothing to do' });
  });

  it('a plan that fails with our error says its words and hint, and audits its code', async () => {
    // prepare
    const i = input();
    const rb = runbook({
      plan: async () => {
        throw new DrbotError('not_versioned', 'Bucket spawn-logs is not versioned.', 'Enable versioning first.');
      },
    });

    // act
    const name = await start(i, rb);

    // assess
    expect(summary(name)).toEqual({ runId: i.runId, status: 'failed', lines: ['Bucket spawn-logs is not versioned.'], failures: 0 });
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain(`:x: Bucket spawn-logs is not versioned.\\nEnable versioning first.\\n_ref: ${i.runId}_`);
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'error', detail: 'not_versioned: Bucket spawn-logs is not versioned.' });
  });

  it('a plan that fails with our error and no hint shows the words and the reference only', async () => {
    // prepare
    const i = input();
    const rb = runbook({
      plan: async () => {
        throw new DrbotError('empty', 'Nothing is configured.');
      },
    });

    // act
    await start(i, rb);

    // assess
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain(`:x: Nothing is configured.\\n_ref: ${i.runId}_`);
  });

  it('an unexpected error in execute is shown escaped on one line with the run id, and logged', async () => {
    // prepare
    const i = input();
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    const rb = runbook({
      execute: async () => {
        throw new Error('key <!channel> & `x`\nsecond line');
      },
    });

    // act
    const name = await start(i, rb);
    spy.mockRestore();

    // assess
    expect(summary(name).status).toBe('failed');
    expect(summary(name).lines).toEqual(['key <!channel> & `x`\nsecond line']);
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain(JSON.stringify(stoppedText('key <!channel> & `x`\nsecond line', i.runId)).slice(1, -1));
    expect(stoppedText('key <!channel> & `x`\nsecond line', i.runId)).toBe(`:x: The run stopped: key &lt;!channel&gt; &amp; \`x\`\ufffdsecond line\nThe on-call can grep the logs for \`${i.runId}\`.`);
    expect(errors.map((e) => JSON.parse(e) as Record<string, unknown>)).toEqual([{ level: 'ERROR', message: 'runbook failed', runId: i.runId, kind: 'status', error: 'key <!channel> & `x`\nsecond line' }]);
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'failed', detail: 'key <!channel> & `x`\nsecond line' });
  });

  it('posts the plan in full as replies in the message’s thread', async () => {
    // prepare
    const i = input();
    const rb = runbook({ plan: async () => ({ lines: ['see the thread'], thread: [{ text: 'part 1' }, { text: 'part 2' }], data: { n: 2 } }) });

    // act
    await start(i, rb);

    // assess
    const ts = slack.calls[0]?.ts;
    expect(slack.calls.filter((c) => c.threadTs).map((c) => [c.channel, c.threadTs, c.msg.text])).toEqual([
      [OPS, ts, 'part 1'],
      [OPS, ts, 'part 2'],
    ]);
  });

  it('a thread reply Slack refuses stops the replies, not the run', async () => {
    // prepare
    const i = input();
    slack.fail = (c) => (c.threadTs && c.msg.text === 'part 1' ? slackError('msg_too_long') : undefined);
    const warns: string[] = [];
    const spy = jest.spyOn(console, 'warn').mockImplementation((m: string) => void warns.push(m));
    const rb = runbook({ plan: async () => ({ lines: ['see the thread'], thread: [{ text: 'part 1' }, { text: 'part 2' }], data: { n: 2 } }) });

    // act
    const name = await start(i, rb);
    spy.mockRestore();

    // assess
    expect(summary(name).status).toBe('succeeded');
    expect(slack.calls.filter((c) => c.threadTs)).toEqual([]);
    expect(warns.map((w) => JSON.parse(w) as Record<string, unknown>)).toEqual([{ level: 'WARN', message: 'plan detail not posted in the thread', runId: i.runId, kind: 'status', code: 'msg_too_long', error: 'An API error occurred: msg_too_long' }]);
  });

  it('a run started in an alarm thread replies there, and puts its plan’s replies in that thread', async () => {
    // prepare
    const i = input({ threadTs: '1772441000.000100' });
    const rb = runbook({ plan: async () => ({ lines: ['see the thread'], thread: [{ text: 'part 1' }], data: { n: 2 } }) });

    // act
    await start(i, rb);

    // assess
    expect(slack.calls[0]).toMatchObject({ kind: 'post', channel: OPS, threadTs: '1772441000.000100' });
    expect(slack.calls.filter((c) => c.msg.text === 'part 1').map((c) => c.threadTs)).toEqual(['1772441000.000100']);
  });

  it('progress is shown at most once per interval, and never after the final state', async () => {
    // prepare
    const i = input();
    const rb = runbook({
      execute: async (ctx, _deps, _input, _plan, progress) => {
        await ctx.step('work', async () => {
          await progress.report(1, 4, 'Tidied');
          now += 500;
          await progress.report(2, 4, 'Tidied');
          now += 2000;
          await progress.report(3, 4, 'Tidied');
        });
        return { ok: true, lines: ['tidied 4'], failures: [] };
      },
    });

    // act
    await start(i, rb);

    // assess
    const shown = shownStates(slack.calls);
    expect(shown).toEqual(['Planning', 'Plan', 'Running', 'Tidied 1 / 4', 'Tidied 3 / 4', 'Done']);
  });
});

describe('Slack refusing or failing', () => {
  it('where drbot may not post, the message goes to the ops channel, saying where it was asked for', async () => {
    // prepare
    const i = input({ channel: 'CPRIVATE' });
    slack.fail = (c) => (c.kind === 'post' && c.channel === 'CPRIVATE' ? slackError('not_in_channel') : undefined);

    // act
    const name = await start(i, runbook());

    // assess
    expect(summary(name).status).toBe('succeeded');
    expect(slack.calls[0]).toMatchObject({ kind: 'post', channel: OPS, msg: { text: expect.stringMatching(/\(requested in <#CPRIVATE>, where drbot is not a member\)$/) } });
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain('in <#CPRIVATE>');
    expect((await deps.store.getRun(i.runId))?.channel).toBe(OPS);
    expect((await deps.store.listAudit(20)).find((a) => a.action === 'post')).toMatchObject({ actor: 'system', result: 'ok', runId: i.runId, detail: 'cannot post in CPRIVATE (not_in_channel); using the ops channel' });
  });

  it('with Slack down from the start, the run works, records and audits, and keeps its final message for later', async () => {
    // prepare
    const i = input();
    slack.fail = () => slackError('service_unavailable');
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => {});

    // act
    const name = await start(i, runbook());
    spy.mockRestore();

    // assess
    expect(summary(name).status).toBe('succeeded');
    const rec = await deps.store.getRun(i.runId);
    expect(rec).toMatchObject({ status: 'succeeded', channel: OPS, ts: '' });
    const kept = JSON.parse(rec?.unsent ?? '{}') as SlackMessage;
    expect(head(kept.blocks)).toBe(':white_check_mark: Done: *Tidy 2 widgets*');
    expect((await audits(i.runId)).at(-1)).toMatchObject({ result: 'succeeded' });
  });

  it('an update Slack refuses at the end keeps the final state on the record; one it takes leaves none', async () => {
    // prepare
    const i = input();
    slack.fail = (c) => (c.kind === 'update' && head(c.msg.blocks).startsWith(':white_check_mark: Done') ? slackError('ratelimited') : undefined);
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => {});

    // act
    await start(i, runbook());
    spy.mockRestore();

    // assess
    const rec = await deps.store.getRun(i.runId);
    expect(head((JSON.parse(rec?.unsent ?? '{}') as SlackMessage).blocks)).toBe(':white_check_mark: Done: *Tidy 2 widgets*');
    expect(head(slack.calls.at(-1)?.msg.blocks)).toBe(':gear: Running: *Tidy 2 widgets*');
  });

  it('a final message too large for the record is not kept', async () => {
    // prepare
    const i = input();
    slack.fail = (c) => (c.kind === 'update' && c.msg.text === 'huge' ? slackError('msg_too_long') : undefined);
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const big: SlackMessage = { text: 'huge', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(300_001) } }] };

    // act
    const name = await start(i, runbook({ execute: async () => ({ ok: true, lines: ['done'], failures: [], message: big }) }));
    spy.mockRestore();

    // assess
    expect(summary(name).status).toBe('succeeded');
    expect((await deps.store.getRun(i.runId))?.unsent).toBeUndefined();
  });

  it('an outcome’s own message replaces the run message', async () => {
    // prepare
    const i = input();
    const report: SlackMessage = { text: 'Status report', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Status*' } }] };

    // act
    await start(i, runbook({ execute: async () => ({ ok: true, lines: ['reported'], failures: [], message: report }) }));

    // assess
    expect(slack.calls.at(-1)).toMatchObject({ kind: 'update', msg: report });
  });
});

describe('a run that needs approval', () => {
  const destructive = (over: Partial<Runbook<Input, Data>> = {}) => runbook({ destructive: true, resources: () => ['s3:widgets'], ...over });

  it('waits for approval with the buttons, then runs what was approved, showing who approved and how long it waited', async () => {
    // prepare
    const i = input();
    let executed = 0;
    const name = await start(i, destructive({ execute: async () => ((executed += 1), (now += 3000), { ok: true, lines: ['tidied 2 widgets'], failures: [] }) }));
    const ap = await parkedApproval(i.runId);

    // assess: parked
    expect(executed).toBe(0);
    expect(ap).toMatchObject({ runId: i.runId, requester: 'UALICE', summary: 'Tidy 2 widgets', required: 1, approvers: [], status: 'pending', createdAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + 30 * 60_000).toISOString(), channel: OPS, ts: slack.calls[0]?.ts });
    const waiting = slack.calls.at(-1);
    expect(head(waiting?.msg.blocks)).toBe(':raised_hand: Waiting for approval: *Tidy 2 widgets*');
    expect(JSON.stringify(waiting?.msg.blocks)).toContain(`"value":"${ap.id}"`);
    expect(JSON.stringify(waiting?.msg.blocks)).toContain('"text":"Needs 1 approver other than the requester. Expires <!date^1772443800^');
    expect(await audits(i.runId)).toEqual([
      { actor: 'UALICE', action: 'plan', result: 'ok', detail: 'tidy widget-a; tidy widget-b' },
      { actor: 'UALICE', action: 'approval-requested', result: 'pending', detail: `1 approver(s), expires ${new Date(T0 + 30 * 60_000).toISOString()}` },
    ]);

    // act: approved a minute later
    now = T0 + 60_000;
    await deps.store.decide(ap.id, 'approved', 'UBOB');
    await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(now).toISOString() });
    await engine.idle(5);

    // assess: done
    expect(executed).toBe(1);
    expect(summary(name).status).toBe('succeeded');
    const final = slack.latest(slack.calls[0]?.ts ?? '');
    expect(final).toContain(':white_check_mark: Approved by <@UBOB>');
    expect(final).toContain('waited 1 min 0 s for approval, then worked 3 s');
    // The lease was taken for the work and given back at the end.
    expect(await new Leases(deps.store.doc, deps.store.tableName).holder('s3:widgets', new Date(now))).toBeUndefined();
  });

  it('rejected: nothing runs; the message names who rejected and why; the buttons of the run it continued come back', async () => {
    // prepare: a run started from another run's next-step button
    const parent: RunRecord = { id: newId('r'), kind: 'restore-dynamodb', requester: 'UALICE', commandText: '/dr restore dynamodb t', channel: OPS, ts: '1772440000.000100', status: 'succeeded', createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(), next: [{ label: 'Cut over', command: 'cutover dynamodb t --from t2', style: 'danger' }], unsent: '{"text":"old"}' };
    await deps.store.putRun(parent);
    const i = input({ continues: { runId: parent.id, channel: OPS, ts: parent.ts ?? '' } });
    let executed = 0;
    const name = await start(i, destructive({ execute: async () => ((executed += 1), { ok: true, lines: [], failures: [] }) }));
    const ap = await parkedApproval(i.runId);

    // act
    await deps.store.decide(ap.id, 'rejected', 'UDAVE', 'not during the game');
    await engine.reject(ap.callbackId, 'rejected by an approver');
    await engine.idle(5);

    // assess
    expect(executed).toBe(0);
    expect(summary(name)).toEqual({ runId: i.runId, status: 'rejected', lines: ['rejected; nothing was changed'], failures: 0 });
    // The earlier run's message was taken over, never posted anew, and its unsent state dropped.
    expect(slack.calls.filter((c) => c.kind === 'post')).toEqual([]);
    expect(slack.calls.every((c) => c.ts === parent.ts)).toBe(true);
    expect((await deps.store.getRun(parent.id))?.unsent).toBeUndefined();
    const final = slack.latest(parent.ts ?? '');
    expect(final).toContain(':no_entry: Rejected by <@UDAVE>');
    expect(final).toContain('not during the game');
    expect(final).toContain(`continues run \`${parent.id}\``);
    expect(final).toContain('"text":"Cut over"');
    expect((await deps.store.getRun(i.runId))?.next).toEqual(parent.next);
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'rejected', detail: 'rejected by UDAVE' });
  });

  it('expired: nothing runs, the approval is closed as expired, and the message says so', async () => {
    // prepare: a one-second wait (the local runner keeps callback timeouts on real time)
    deps = { ...deps, approvalWaitSeconds: 1 };
    const i = input();
    let executed = 0;

    // act
    const name = await start(i, destructive({ execute: async () => ((executed += 1), { ok: true, lines: [], failures: [] }) }));
    for (let t = 0; t < 400 && !engine.result(name); t++) await new Promise((r) => setTimeout(r, 50));

    // assess
    expect(executed).toBe(0);
    expect(summary(name)).toEqual({ runId: i.runId, status: 'expired', lines: ['approval expired; nothing was changed'], failures: 0 });
    expect(head(slack.calls.at(-1)?.msg.blocks)).toBe(':alarm_clock: Approval expired: *Tidy 2 widgets*');
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'expired', detail: 'approval expired; nothing was changed' });
    const ap = await deps.store.getApproval(String((await deps.store.doc.send(new ScanCommand({ TableName: deps.store.tableName }))).Items?.find((it) => String(it.pk).startsWith('APPROVAL#'))?.id));
    expect(ap).toMatchObject({ status: 'expired', decidedBy: 'system' });
    // Its checkpoints, as a deployed run in flight replays them (the callback's own children have no names).
    expect(engine.result(name)?.getOperations().map((o) => o.getName()).filter((n) => n !== undefined)).toEqual(['post', 'record', 'busy', 'plan', 'post-plan', 'approval-id', 'approval', 'expire', 'finish']);
  });

  it('refuses to plan while another run holds the resource, naming it with a link; a dry run may plan beside it', async () => {
    // prepare
    const leases = new Leases(deps.store.doc, deps.store.tableName);
    expect((await leases.acquire('s3:widgets', { runId: 'r-0000000000aa', channel: OPS, ts: '1772400000.000100', until: T0 + 3_600_000 }, new Date(T0))).ok).toBe(true);
    const i = input();
    let planned = 0;
    const rb = destructive({ plan: async () => ((planned += 1), { lines: ['x'], data: { n: 1 } }) });

    // act
    const name = await start(i, rb);
    const dry = await start(input({ dryRun: true }), rb);

    // assess
    expect(summary(name)).toEqual({ runId: i.runId, status: 'failed', lines: ['refused: the resource is busy with another run'], failures: 0 });
    const said = ':no_entry_sign: `s3:widgets` is busy: run `r-0000000000aa` is working on it (<https://slack.com/archives/CSANDBOXOPS/p1772400000000100|its message>). Nothing was changed; run the command again when it is done.';
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain(JSON.stringify(said).slice(1, -1));
    expect((await audits(i.runId)).at(-1)).toEqual({ actor: 'system', action: 'result', result: 'refused', detail: said });
    expect(planned).toBe(1);
    expect(summary(dry).status).toBe('dry_run');
    // Still held by its owner.
    expect((await leases.holder('s3:widgets', new Date(T0)))?.runId).toBe('r-0000000000aa');
  });

  it('takes the plan’s resources after approval; one taken meanwhile refuses the run and releases what it took', async () => {
    // prepare
    const i = input();
    let executed = 0;
    const rb = destructive({ resources: (_in, plan) => (plan ? ['s3:widgets', 's3:gadgets'] : ['s3:widgets']), execute: async () => ((executed += 1), { ok: true, lines: [], failures: [] }) });
    const name = await start(i, rb);
    const ap = await parkedApproval(i.runId);
    const leases = new Leases(deps.store.doc, deps.store.tableName);
    expect((await leases.acquire('s3:gadgets', { runId: 'r-0000000000bb', channel: OPS, ts: '', until: T0 + 3_600_000 }, new Date(T0))).ok).toBe(true);

    // act
    await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    await engine.idle(5);

    // assess
    expect(executed).toBe(0);
    expect(summary(name).status).toBe('failed');
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain('`s3:gadgets` is busy: run `r-0000000000bb` is working on it. Nothing was changed');
    expect(await leases.holder('s3:widgets', new Date(T0))).toBeUndefined();
  });
});

describe('a scheduled run', () => {
  it('that fails raises it in the critical channel with a retry button', async () => {
    // prepare
    const i = input({ schedule: { name: 'drbot-nightly-backup', at: new Date(T0).toISOString() } });
    const rb = runbook({ execute: async () => ({ ok: false, lines: ['backed up 1 of 2 tables'], failures: ['spawn-queues: LimitExceeded'] }) });

    // act
    await start(i, rb);

    // assess
    const alert = slack.calls.find((c) => c.channel === CRITICAL);
    expect(alert?.msg.text).toBe('Scheduled Tidy 2 widgets failed');
    expect(JSON.stringify(alert?.msg.blocks)).toContain('backed up 1 of 2 tables\\nspawn-queues: LimitExceeded');
    expect(JSON.stringify(alert?.msg.blocks)).toContain(`(details in <#${OPS}>)`);
    expect(head(slack.calls[0]?.msg.blocks)).toBe(':hourglass_flowing_sand: Planning: *Tidy 2 widgets*');
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain('scheduled by `drbot-nightly-backup`');
  });

  it('that succeeds raises nothing', async () => {
    // act
    await start(input({ schedule: { name: 'drbot-nightly-backup', at: new Date(T0).toISOString() } }), runbook());

    // assess
    expect(slack.calls.filter((c) => c.channel === CRITICAL)).toEqual([]);
  });
});

describe('offering next steps', () => {
  it('offers the outcome’s next steps as buttons and records them on the run', async () => {
    // prepare
    const i = input();
    const next = [{ label: 'Cut over', command: 'cutover dynamodb t --from t2', style: 'danger' as const }];

    // act
    await start(i, runbook({ execute: async () => ({ ok: true, lines: ['restored'], failures: [], next }) }));

    // assess
    expect((await deps.store.getRun(i.runId))?.next).toEqual(next);
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain(`"value":"${i.runId}:0"`);
  });

  it('a run that executed and offers nothing does not offer its predecessor’s steps again', async () => {
    // prepare
    const parent: RunRecord = { id: newId('r'), kind: 'restore-dynamodb', requester: 'UALICE', commandText: '/dr x', channel: OPS, ts: '1772440000.000200', status: 'succeeded', createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(), next: [{ label: 'Cut over', command: 'cutover dynamodb t --from t2' }] };
    await deps.store.putRun(parent);
    const i = input({ continues: { runId: parent.id, channel: OPS, ts: parent.ts ?? '' } });

    // act
    await start(i, runbook());

    // assess
    expect((await deps.store.getRun(i.runId))?.next).toBeUndefined();
    expect(slack.latest(parent.ts ?? '')).not.toContain('Cut over');
  });

  it('when the earlier message cannot be taken over, posts a new one', async () => {
    // prepare
    const i = input({ continues: { runId: newId('r'), channel: OPS, ts: '1772440000.000300' } });
    slack.fail = (c) => (c.kind === 'update' && c.ts === '1772440000.000300' ? slackError('message_not_found') : undefined);
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => {});

    // act
    const name = await start(i, runbook());
    spy.mockRestore();

    // assess
    expect(summary(name).status).toBe('succeeded');
    expect(slack.calls.find((c) => c.kind === 'post')).toMatchObject({ channel: OPS });
    expect((await deps.store.getRun(i.runId))?.ts).toBe(slack.calls.find((c) => c.kind === 'post')?.ts);
  });
});

describe('safeStep', () => {
  it('retries our transient errors in the step, then returns the failure as a value', async () => {
    // prepare
    const waits: number[] = [];
    setRetryWait(async (ms) => void waits.push(ms));
    let attempts = 0;
    const handler = withDurableExecution(async (_i: unknown, ctx: DurableContext) =>
      safeStep(ctx, 'work', async () => {
        attempts++;
        throw new AwsCallError('PutObject', 'b', 'SlowDown', 'Please reduce your request rate.');
      }),
    );
    const name = 'dr-test-safe';
    const e = new LocalRunEngine(handler);

    // act
    await e.start(name, input());
    await e.idle(5);

    // assess
    expect(attempts).toBe(4);
    expect(waits).toEqual([500, 1000, 2000]);
    expect(e.result(name)?.getResult()).toMatchObject({ ok: false, code: 'aws_throttled', transient: true });
    setRetryWait(async () => {});
  });

  it('does not retry a permanent error of ours', async () => {
    // prepare
    let attempts = 0;
    const handler = withDurableExecution(async (_i: unknown, ctx: DurableContext) =>
      safeStep(ctx, 'work', async () => {
        attempts++;
        throw new AwsCallError('DeleteObjects', 'b', 'AccessDenied', 'Access Denied');
      }),
    );
    const e = new LocalRunEngine(handler);

    // act
    await e.start('dr-test-denied', input());
    await e.idle(5);

    // assess
    expect(attempts).toBe(1);
    expect(e.result('dr-test-denied')?.getResult()).toMatchObject({ ok: false, code: 'aws_access_denied', transient: false });
  });

  it('knows the SDK’s own unwinding from our errors', () => {
    // prepare: errors named as the SDK names its own
    class StepInterruptedError extends Error {}
    class TerminationError extends Error {}

    // act and assess
    expect(isSdkControlFlow(new StepInterruptedError())).toBe(true);
    expect(isSdkControlFlow(new TerminationError())).toBe(true);
    expect(isSdkControlFlow(new Error('x'))).toBe(false);
    expect(isSdkControlFlow(undefined)).toBe(false);
  });
});

/** The file's warnings (console.warn JSON lines) while `fn` runs. */
async function warnings(fn: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'warn').mockImplementation((m: string) => void lines.push(m));
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the driver at the edges the mutation run found', () => {
  const destructive = (over: Partial<Runbook<Input, Data>> = {}) => runbook({ destructive: true, resources: () => ['s3:widgets'], ...over });

  it('names its checkpoints as deployed runs know them: renaming one breaks the replay of a run in flight', async () => {
    // prepare
    const i = input();
    const name = await start(i, destructive({ plan: async () => ({ lines: ['x'], thread: [{ text: 'detail' }], data: { n: 1 } }) }));
    const ap = await parkedApproval(i.runId);

    // act
    await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    await engine.idle(5);

    // assess
    // (The callback's own child operations have no names.)
    const ops = engine.result(name)?.getOperations().map((o) => o.getName()).filter((n) => n !== undefined);
    expect(ops).toEqual(['post', 'record', 'busy', 'plan', 'post-plan', 'post-plan-thread', 'approval-id', 'approval', 'lease', 'running', 'finish']);
    expect(ap.id).toMatch(/^ap-[0-9a-f]{12}$/);
  });

  it('names the checkpoints of a plan in steps, a rejection, a failure and a scheduled failure (an expiry’s: with the expiry test)', async () => {
    // prepare
    const errors = jest.spyOn(console, 'error').mockImplementation(() => {});
    const inSteps = await start(input(), runbook({ planInSteps: true, plan: async (_d, _i, run) => {
          if (!run) throw new Error('a plan in steps is given its run');
          return { lines: [await run.step('list', async () => 'x')], data: { n: 1 } };
        } }));
    const broken = await start(
      input({ schedule: { name: 'nightly', at: new Date(T0).toISOString() } }),
      runbook({
        execute: async () => {
          throw new Error('boom');
        },
      }),
    );
    const r = input();
    const rejected = await start(r, destructive());
    const ap = await parkedApproval(r.runId);
    await engine.reject(ap.callbackId, 'no');
    await engine.idle(5);
    const u = input();
    const unleased = await start(u, runbook({ destructive: true }));
    await engine.reject((await parkedApproval(u.runId)).callbackId, 'no');
    await engine.idle(5);
    errors.mockRestore();

    // assess
    const names = (n: string) => engine.result(n)?.getOperations().map((o) => o.getName()).filter((o) => o !== undefined);
    expect(names(inSteps)).toEqual(['post', 'record', 'plan-list', 'post-plan', 'running', 'finish']);
    expect(names(broken)).toEqual(['post', 'record', 'plan', 'post-plan', 'running', 'log-failure', 'finish', 'alert-failure']);
    expect(names(rejected)).toEqual(['post', 'record', 'busy', 'plan', 'post-plan', 'approval-id', 'approval', 'rejected', 'finish']);
    // A destructive runbook that names no resources takes no lease: no busy check.
    expect(names(unleased)).toEqual(['post', 'record', 'plan', 'post-plan', 'approval-id', 'approval', 'rejected', 'finish']);
  });

  it('holds the lease for a day while it works, in its own name; a read-only run takes none', async () => {
    // prepare
    const leases = new Leases(deps.store.doc, deps.store.tableName);
    const seen: unknown[] = [];
    const i = input();
    await start(
      i,
      destructive({
        execute: async () => {
          seen.push(await leases.holder('s3:widgets', new Date(now)));
          return { ok: true, lines: ['done'], failures: [] };
        },
      }),
    );
    const ap = await parkedApproval(i.runId);
    now = T0 + 60_000;

    // act
    await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(now).toISOString() });
    await engine.idle(5);
    const readOnly = input();
    await start(readOnly, runbook({ resources: () => ['s3:widgets'], execute: async () => (seen.push(await leases.holder('s3:widgets', new Date(now))), { ok: true, lines: [], failures: [] }) }));

    // assess
    expect(seen).toEqual([{ runId: i.runId, channel: OPS, ts: slack.calls[0]?.ts, until: T0 + 60_000 + 24 * 3_600_000 }, undefined]);
    const items = await deps.store.doc.send(new ScanCommand({ TableName: deps.store.tableName }));
    expect((items.Items ?? []).filter((it) => String(it.pk).startsWith('LEASE'))).toEqual([]);
  });

  it('while one run waits for approval another may plan the same resource; only the lease after approval excludes', async () => {
    // prepare
    const a = input();
    const b = input();
    await start(a, destructive());
    await start(b, destructive());
    const apA = await parkedApproval(a.runId);
    const apB = await parkedApproval(b.runId);

    // act
    await engine.approve(apA.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    await engine.idle(5);
    await engine.approve(apB.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    await engine.idle(5);

    // assess: both planned and asked; both ran, one after the other (a released its lease at the end)
    expect((await deps.store.getRun(a.runId))?.status).toBe('succeeded');
    expect((await deps.store.getRun(b.runId))?.status).toBe('succeeded');
  });

  it('records the runner, and the run is planned while its plan is posted and running while it works', async () => {
    // prepare
    deps = { ...deps, runner: 'local:test:1' };
    const statuses: unknown[] = [];
    const i = input();
    slack.hook = async (c) => {
      if (c.threadTs) statuses.push((await deps.store.getRun(i.runId))?.status);
    };

    // act
    await start(
      i,
      runbook({
        plan: async () => ({ lines: ['x'], thread: [{ text: 'detail' }], data: { n: 1 } }),
        execute: async () => (statuses.push((await deps.store.getRun(i.runId))?.status), { ok: true, lines: [], failures: [] }),
      }),
    );

    // assess
    expect(statuses).toEqual(['planned', 'running']);
    expect((await deps.store.getRun(i.runId))?.runner).toBe('local:test:1');
  });

  it('joins result lines with spaces in the record and the audit, and caps them (500 and 300 characters)', async () => {
    // prepare
    const i = input();
    const long = 'w'.repeat(600);

    // act
    await start(i, runbook({ execute: async () => ({ ok: true, lines: ['first', long], failures: ['x'] }) }));
    const j = input();
    await start(j, runbook({ plan: async () => ({ lines: ['a', 'p'.repeat(400)], data: { n: 1 } }), execute: async () => ({ ok: false, lines: ['one', 'two'], failures: ['x', 'y'] }) }));

    // assess
    expect((await deps.store.getRun(i.runId))?.summary).toBe(`first ${long}`.slice(0, 500));
    expect((await audits(i.runId)).at(-1)?.detail).toBe(`first ${long}`.slice(0, 300));
    expect((await audits(j.runId)).at(-1)?.detail).toBe('one two (2 failures)');
    expect((await audits(j.runId))[0]?.detail).toBe(`a; ${'p'.repeat(400)}`.slice(0, 300));
  });

  it('keeps a final message of exactly 300,000 characters for later, and caps a stopped run’s reason', async () => {
    // prepare
    const i = input();
    slack.fail = (c) => (c.kind === 'update' && c.msg.text === 'big' ? slackError('msg_too_long') : undefined);
    const empty = JSON.stringify({ text: 'big', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '' } }] }).length;
    const big: SlackMessage = { text: 'big', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(300_000 - empty) } }] };
    expect(JSON.stringify(big)).toHaveLength(300_000);

    // act
    await warnings(() => start(i, runbook({ execute: async () => ({ ok: true, lines: ['done'], failures: [], message: big }) })));

    // assess
    expect((await deps.store.getRun(i.runId))?.unsent).toHaveLength(300_000);
  });

  it('caps an unexpected error at 300 characters in the record and audit, 2,000 in the log, 500 in the message', async () => {
    // prepare
    const i = input();
    const reason = 'e'.repeat(3000);
    const logged: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void logged.push(m));

    // act
    const name = await start(
      i,
      runbook({
        execute: async () => {
          throw new Error(reason);
        },
      }),
    );
    spy.mockRestore();

    // assess
    expect(summary(name).lines).toEqual([reason.slice(0, 300)]);
    expect((await audits(i.runId)).at(-1)?.detail).toBe(reason.slice(0, 300));
    expect((JSON.parse(logged[0] ?? '{}') as { error: string }).error).toBe(reason.slice(0, 2000));
    expect(stoppedText(reason, i.runId)).toBe(`:x: The run stopped: ${reason.slice(0, 500)}\nThe on-call can grep the logs for \`${i.runId}\`.`);
  });

  it('says in its warnings why Slack failed: the API code, or the plain error, capped at 300 characters', async () => {
    // prepare
    const i = input({ continues: { runId: newId('r'), channel: OPS, ts: '1772440000.000400' } });
    slack.fail = (c) => {
      if (c.kind === 'update' && c.ts === '1772440000.000400') return slackError('message_not_found');
      if (c.kind === 'post' && !c.threadTs) return new Error(`socket hang up ${'s'.repeat(400)}`);
      return undefined;
    };

    // act
    const warned = await warnings(() => start(i, runbook()));

    // assess
    expect(warned).toEqual([
      { level: 'WARN', message: 'earlier run message not taken over; posting a new one', runId: i.runId, kind: 'status', code: 'message_not_found', error: 'An API error occurred: message_not_found' },
      { level: 'WARN', message: 'run message not posted; the run goes on without one', runId: i.runId, kind: 'status', code: '', error: `socket hang up ${'s'.repeat(400)}`.slice(0, 300) },
    ]);
  });

  it('warns when an update is not taken, and when a scheduled failure cannot be raised; the run still ends', async () => {
    // prepare
    const i = input({ schedule: { name: 'nightly', at: new Date(T0).toISOString() } });
    slack.fail = (c) => (c.channel === CRITICAL ? slackError('channel_not_found') : c.kind === 'update' && head(c.msg.blocks).startsWith(':clipboard:') ? slackError('ratelimited') : undefined);

    // act
    const warned = await warnings(() => start(i, runbook({ execute: async () => ({ ok: false, lines: ['no'], failures: [] }) })));

    // assess
    expect(warned.map((w) => [w.message, w.code])).toEqual([
      ['run message not updated', 'ratelimited'],
      ['scheduled-run failure not posted', 'channel_not_found'],
    ]);
    expect((await deps.store.getRun(i.runId))?.status).toBe('failed');
  });

  it('a report made while an update is on its way is sent after it, and no progress lands over the final state', async () => {
    // prepare: Slack takes 300 ms per progress update (longer than the run's last steps take, even on
    // a loaded machine); the runbook reports without waiting
    const i = input();
    slack.hook = async (c) => {
      if (JSON.stringify(c.msg.blocks).includes('Tidied')) await new Promise((r) => setTimeout(r, 300));
    };

    // act
    await start(
      i,
      runbook({
        execute: async (_ctx, _d, _i, _p, progress) => {
          void progress.report(1, 4, 'Tidied');
          now += 2000;
          void progress.report(2, 4, 'Tidied');
          now += 2000;
          void progress.report(3, 4, 'Tidied');
          return { ok: true, lines: ['tidied'], failures: [] };
        },
      }),
    );

    // assess: 1 went out; the report made while it was on its way went after it, showing the view as
    // it then was (the run had ended: Done); the final state came last, after waiting for both
    const shown = shownStates(slack.calls);
    expect(shown).toEqual(['Planning', 'Plan', 'Running', 'Tidied 1 / 4', 'Done', 'Done']);
  });

  it('shows a progress report exactly one interval after the last', async () => {
    // prepare
    const i = input();

    // act
    await start(
      i,
      runbook({
        execute: async (_ctx, _d, _i, _p, progress) => {
          await progress.report(1, 3, 'Tidied');
          now += 2000;
          await progress.report(2, 3, 'Tidied');
          return { ok: true, lines: [], failures: [] };
        },
      }),
    );

    // assess
    expect(slack.calls.map((c) => JSON.stringify(c.msg.blocks).match(/Tidied \d \/ 3/)?.[0]).filter(Boolean)).toEqual(['Tidied 1 / 3', 'Tidied 2 / 3']);
  });

  it('retries an AWS 5xx in the step as it does throttling', async () => {
    // prepare
    let attempts = 0;
    const e = new LocalRunEngine(
      withDurableExecution(async (_i: unknown, ctx: DurableContext) =>
        safeStep(ctx, 'work', async () => {
          attempts++;
          throw new AwsCallError('PutObject', 'b', 'InternalError', 'We encountered an internal error.');
        }),
      ),
    );

    // act
    await e.start('dr-test-5xx', input());
    await e.idle(5);

    // assess
    expect(attempts).toBe(4);
    expect(e.result('dr-test-5xx')?.getResult()).toMatchObject({ ok: false, code: 'aws_error', transient: true });
  });

  it('replies in the thread of the message it posted when it had to post in the ops channel', async () => {
    // prepare
    const i = input({ channel: 'CPRIVATE', threadTs: '1772441000.000200' });
    slack.fail = (c) => (c.kind === 'post' && c.channel === 'CPRIVATE' ? slackError('not_in_channel') : undefined);

    // act
    await start(i, runbook({ plan: async () => ({ lines: ['x'], thread: [{ text: 'detail' }], data: { n: 1 } }) }));

    // assess
    const posted = slack.calls.find((c) => c.kind === 'post' && !c.threadTs);
    expect(slack.calls.filter((c) => c.msg.text === 'detail').map((c) => [c.channel, c.threadTs])).toEqual([[OPS, posted?.ts]]);
  });

  it('a busy refusal after approval says so in its lines', async () => {
    // prepare
    const i = input();
    const name = await start(i, destructive());
    const ap = await parkedApproval(i.runId);
    await new Leases(deps.store.doc, deps.store.tableName).acquire('s3:widgets', { runId: 'r-0000000000cc', channel: OPS, ts: '', until: T0 + 3_600_000 }, new Date(T0));

    // act
    await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    await engine.idle(5);

    // assess
    expect(summary(name)).toEqual({ runId: i.runId, status: 'failed', lines: ['refused: the resource is busy with another run'], failures: 0 });
  });

  it('a rejection with no recorded decider names nobody, and says when', async () => {
    // prepare
    const i = input();
    const name = await start(i, destructive());
    const ap = await parkedApproval(i.runId);

    // act
    await engine.reject(ap.callbackId, 'rejected by an approver');
    await engine.idle(5);

    // assess
    expect(summary(name).status).toBe('rejected');
    expect(slack.latest(slack.calls[0]?.ts ?? '')).toContain(':no_entry: Rejected at <!date^');
    expect((await audits(i.runId)).at(-1)?.detail).toBe('rejected by unknown');
  });

  it('an approval record already written by an earlier try of the submitter is taken as it is', async () => {
    // prepare
    const write = deps.store.putApproval.bind(deps.store);
    deps.store.putApproval = async (a) => {
      await write(a);
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    };
    const i = input();

    // act
    const name = await start(i, destructive());
    const ap = await parkedApproval(i.runId);
    await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
    await engine.idle(5);

    // assess
    expect(summary(name).status).toBe('succeeded');
  });

  it('an approval record that cannot be written fails the run, never counts as a rejection', async () => {
    // prepare
    deps.store.putApproval = async () => {
      throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    };
    const i = input();
    let executed = 0;
    const spy = jest.spyOn(console, 'error').mockImplementation(() => {});

    // act
    const name = await start(i, destructive({ execute: async () => ((executed += 1), { ok: true, lines: [], failures: [] }) }));
    spy.mockRestore();

    // assess
    expect(executed).toBe(0);
    expect(engine.result(name)?.getResult()).toMatchObject({ status: 'failed' });
  });

  it('with Slack down, the approval and the lease name no message', async () => {
    // prepare
    slack.fail = () => slackError('service_unavailable');
    const leases = new Leases(deps.store.doc, deps.store.tableName);
    const seen: unknown[] = [];
    const i = input();

    // act
    await warnings(async () => {
      await start(i, destructive({ execute: async () => (seen.push(await leases.holder('s3:widgets', new Date(now))), { ok: true, lines: [], failures: [] }) }));
      const ap = await parkedApproval(i.runId);
      expect(ap).toMatchObject({ channel: OPS, ts: '' });
      await engine.approve(ap.callbackId, { approvers: ['UBOB'], decidedAt: new Date(T0).toISOString() });
      await engine.idle(5);
    });

    // assess
    expect(seen).toEqual([expect.objectContaining({ runId: i.runId, channel: OPS, ts: '' })]);
  });
});
