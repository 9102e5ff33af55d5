import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { localRunner, PROC, type ProcessProbe, recoverInterrupted, runnerGone } from '../../src/runbooks/recovery';
import { buttons, click, ephemeralsFor, latestMarkerKeys, requestRun, snapshot, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, fault 12: a local crash. A run on the local runner dies with its process; the next
 * start must find it (its record says which process ran it), mark it interrupted, say so on its
 * message with a "Plan again" button, and refuse an approval of it.
 */

const BUCKET = 'spawn-binaries-us-east-1';

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid ?? 999_999;
}

/** A live process that is not a drbot (another command, started elsewhere). Killed by the caller. */
function otherProcess(): ChildProcess {
  return spawn('sleep', ['60'], { cwd: '/', stdio: 'ignore' });
}

describe('runnerGone', () => {
  let other: ChildProcess;
  beforeAll(() => {
    other = otherProcess();
  });
  afterAll(() => {
    other.kill();
  });

  it('is true only for a local runner on this host whose process is gone', () => {
    // prepare
    const dead = deadPid();

    // act / assess
    expect(runnerGone(localRunner(dead))).toBe(true);
    expect(runnerGone(localRunner(process.ppid))).toBe(false);
    expect(runnerGone(localRunner())).toBe(false);
    expect(runnerGone(`local:not-${hostname()}:${dead}`)).toBe(false);
    expect(runnerGone(localRunner(dead, `not-${hostname()}`))).toBe(false);
    expect(runnerGone('lambda')).toBe(false);
    expect(runnerGone(undefined)).toBe(false);
    expect(runnerGone(`local:${hostname()}:abc`)).toBe(false);
  });

  it('names a runner by host, pid, boot id, start time and a nonce of this process', () => {
    // act
    const me = localRunner();

    // assess
    const [, host, pid, boot, start, nonce] = me.split(':');
    expect(host).toBe(hostname());
    expect(pid).toBe(String(process.pid));
    expect(boot).toBe(PROC.bootId() ?? '');
    expect(start).toBe(PROC.startTime(process.pid) ?? '');
    expect(nonce).toMatch(/^[0-9a-f]{12}$/);
    expect(localRunner()).toBe(me);
  });

  it('pid-reused-after-restart: a pid that now belongs to another process (other start time, other boot, or this process under another nonce) is gone', () => {
    // prepare: records of earlier processes that had pids alive now
    const [, , , boot, , ] = localRunner().split(':');
    const live = other.pid!;
    const liveStart = PROC.startTime(live)!;
    const earlier = (pid: number, b: string, start: string, nonce = '0123456789ab') => `local:${hostname()}:${pid}:${b}:${start}:${nonce}`;

    // act / assess
    expect(liveStart).toMatch(/^\d+$/);
    expect(runnerGone(earlier(live, boot!, liveStart))).toBe(false);
    expect(runnerGone(earlier(live, boot!, String(Number(liveStart) - 1)))).toBe(true);
    expect(runnerGone(earlier(live, 'ffffffff-ffff-ffff-ffff-ffffffffffff', liveStart))).toBe(true);
    expect(runnerGone(earlier(process.pid, boot!, PROC.startTime(process.pid) ?? ''))).toBe(true);
  });

  it('pid-reused-after-restart: the same holds without /proc (no boot id, no start time: the nonce tells this process apart)', () => {
    // prepare: a host without /proc, where every pid is alive
    const bare: ProcessProbe = { alive: () => true, startTime: () => undefined, bootId: () => undefined, isDrbot: () => undefined };
    const me = localRunner(process.pid, hostname(), bare);

    // act / assess
    expect(me).toMatch(new RegExp(`^local:${hostname()}:${process.pid}:::[0-9a-f]{12}$`));
    expect(runnerGone(me, hostname(), bare)).toBe(false);
    expect(runnerGone(`local:${hostname()}:${process.pid}:::0123456789ab`, hostname(), bare)).toBe(true);
    expect(runnerGone(`local:${hostname()}:${other.pid}:::0123456789ab`, hostname(), bare)).toBe(false);
  });

  it('reads records in the old form (local:<host>:<pid>): gone when the pid is dead, not a drbot, or this process', () => {
    // prepare
    const old = (pid: number) => `local:${hostname()}:${pid}`;

    // act / assess
    expect(runnerGone(old(deadPid()))).toBe(true);
    expect(runnerGone(old(other.pid!))).toBe(true);
    expect(runnerGone(old(process.pid))).toBe(true);
    // jest's parent runs from this checkout: a drbot, alive
    expect(runnerGone(old(process.ppid))).toBe(false);
    // a process whose drbot-ness cannot be told (another user's) is left alone
    expect(runnerGone(old(other.pid!), hostname(), { ...PROC, isDrbot: () => undefined })).toBe(false);
  });
});

describe('runs a stopped local drbot left unfinished', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  const deps = () => ({ store: stack.store, slack: stack.slackDeps.slack, config: stack.config, catalogue: stack.catalogue, now: stack.now });

  it('marks a run left waiting for approval interrupted, says so on its message with Plan again, and refuses its approval', async () => {
    // prepare: a restore waiting for approval, whose record now says its process is gone
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/`);
    const before = await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET, 'bin/');
    await stack.store.putRun({ ...(await stack.store.getRun(runId))!, runner: localRunner(deadPid()) });

    // act: the next start's recovery, then bob tries to approve the old plan
    const marked = await recoverInterrupted(deps());
    const shown = snapshot(stack.standIn.message(SANDBOX_CHANNEL, message.ts)!);
    await click(stack, 'bob', message, 'run_approve');
    const bobSaw = textOf(ephemeralsFor(stack.standIn, 'bob').at(-1));

    // assess
    expect(marked.map((r) => [r.id, r.status])).toEqual([[runId, 'awaiting_approval']]);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'interrupted', next: [{ label: 'Plan again', command: `restore s3 ${BUCKET} --prefix bin/` }] });
    expect(textOf(shown)).toContain('Interrupted');
    expect(textOf(shown)).toContain('while it waited for approval; nothing was changed');
    expect(buttons(shown).map((b) => b.text)).toEqual(['Plan again']);
    expect(bobSaw).toContain('interrupted');
    expect(await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET, 'bin/')).toEqual(before);
    const audit = (await stack.store.listAudit(30)).filter((e) => e.runId === runId).map((e) => [e.action, e.result]);
    expect(audit).toEqual(expect.arrayContaining([['interrupted', 'failed']]));
  });

  it('plans again in the same message when Plan again is pressed', async () => {
    // prepare
    const { runId, message } = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix lib/`);
    await stack.store.putRun({ ...(await stack.store.getRun(runId))!, runner: localRunner(deadPid()) });
    await recoverInterrupted(deps());

    // act
    await click(stack, 'alice', snapshot(stack.standIn.message(SANDBOX_CHANNEL, message.ts)!), 'Plan again');

    // assess: a new run's plan, waiting for approval, in the same message
    const now = stack.standIn.message(SANDBOX_CHANNEL, message.ts);
    expect(textOf(now)).toContain(`continues run \`${runId}\``);
    expect(buttons(now).map((b) => b.action_id)).toEqual(['run_approve', 'run_reject']);
  });

  it('pid-reused-after-restart: marks interrupted a run whose pid now belongs to another process', async () => {
    // prepare: a run recorded by a process whose pid a new process (started later) now has
    const other = otherProcess();
    try {
      const runId = 'r-bbbbbbbbbbb1';
      const [, host, pid, boot, start] = localRunner(other.pid!).split(':');
      const at = stack.now().toISOString();
      await stack.store.putRun({
        id: runId,
        kind: 'status',
        requester: 'U0ALICE',
        commandText: '/dr status',
        channel: SANDBOX_CHANNEL,
        createdAt: at,
        updatedAt: at,
        status: 'running',
        runner: `local:${host}:${pid}:${boot}:${Number(start) - 100}:0123456789ab`,
      });

      // act
      const marked = await recoverInterrupted(deps());

      // assess
      expect(marked.map((r) => r.id)).toEqual([runId]);
      expect((await stack.store.getRun(runId))?.status).toBe('interrupted');
    } finally {
      other.kill();
    }
  });

  it('leaves alone runs that ended, runs of a live process, and Lambda runs', async () => {
    // prepare: three runs recorded as unfinished or ended, by other runners
    const base = { kind: 'status', requester: 'U0ALICE', commandText: '/dr status', channel: SANDBOX_CHANNEL, createdAt: stack.now().toISOString(), updatedAt: stack.now().toISOString() };
    await stack.store.putRun({ ...base, id: 'r-aaaaaaaaaaa1', status: 'succeeded', runner: localRunner(deadPid()) });
    await stack.store.putRun({ ...base, id: 'r-aaaaaaaaaaa2', status: 'running', runner: localRunner(process.ppid) });
    await stack.store.putRun({ ...base, id: 'r-aaaaaaaaaaa3', status: 'running', runner: 'lambda' });

    // act
    const marked = await recoverInterrupted(deps());

    // assess
    expect(marked).toEqual([]);
    expect((await stack.store.getRun('r-aaaaaaaaaaa1'))?.status).toBe('succeeded');
    expect((await stack.store.getRun('r-aaaaaaaaaaa2'))?.status).toBe('running');
    expect((await stack.store.getRun('r-aaaaaaaaaaa3'))?.status).toBe('running');
  });
});
