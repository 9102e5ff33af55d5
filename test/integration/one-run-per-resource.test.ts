import type { LocalStack } from '../../src/local/stack';
import { Leases } from '../../src/store/leases';
import { click, command, latestMarkerKeys, requestRun, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, fault 10: two destructive runs on one resource never run at once. A lease per resource
 * in the state table: a second run is refused, naming and linking the one that holds it; the lease
 * goes with its run, and an expired one (a run that died) is taken over.
 */

const BUCKET = 'spawn-binaries-us-east-1';

describe('one destructive run per resource', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;
  let leases: Leases;
  beforeAll(() => {
    stack = getStack();
    leases = new Leases(stack.store.doc, stack.store.tableName);
  });

  it('refuses a restore of a bucket another run holds, with a link to that run, and changes nothing', async () => {
    // prepare: another run holds the bucket
    const now = new Date();
    await leases.acquire(`s3:${BUCKET}`, { runId: 'r-000000000001', channel: 'CSANDBOXOPS', ts: '1700000000.000100', until: now.getTime() + 3_600_000 }, now);
    const markers = await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET);

    // act
    const reply = await command(stack, 'alice', `restore s3 ${BUCKET}`);

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const shown = stack.standIn.channelMessages('CSANDBOXOPS').find((m) => textOf(m).includes(runId));
    expect(textOf(shown)).toContain('`s3:spawn-binaries-us-east-1` is busy: run `r-000000000001` is working on it');
    expect(JSON.stringify(shown?.blocks)).toContain('<https://slack.com/archives/CSANDBOXOPS/p1700000000000100|its message>');
    expect(await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET)).toEqual(markers);
    expect((await stack.store.listAudit(50)).find((e) => e.runId === runId && e.action === 'result')).toMatchObject({ result: 'refused' });
    // a dry run changes nothing, so it still plans beside the busy run
    const dry = await command(stack, 'alice', `restore s3 ${BUCKET} --dry-run`);
    expect(runSummary(stack, runIdOf(dry))).toMatchObject({ status: 'dry_run' });
    await leases.release(`s3:${BUCKET}`, 'r-000000000001');
  });

  it('the second of two approved restores of one bucket is refused while the first holds it; the lease is gone after', async () => {
    // prepare: two plans of the same restore; the first is approved while another run holds the lease, to keep it busy
    const first = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix bin/`);
    const second = await requestRun(stack, 'alice', `restore s3 ${BUCKET} --prefix lib/`);
    const now = new Date();
    // the first run's own lease, as its execution step takes it (a replayed step takes it again)
    expect(await leases.acquire(`s3:${BUCKET}`, { runId: first.runId, channel: first.message.channel, ts: first.message.ts, until: now.getTime() + 60_000 }, now)).toEqual({ ok: true });

    // act: bob approves the second while the first holds the bucket, then the first
    await click(stack, 'bob', second.message, 'run_approve');
    await click(stack, 'bob', first.message, 'run_approve');

    // assess
    expect(runSummary(stack, second.runId)).toMatchObject({ status: 'failed' });
    expect(textOf(stack.standIn.message(second.message.channel, second.message.ts))).toContain(`is working on it`);
    expect(runSummary(stack, first.runId)).toMatchObject({ status: 'succeeded' });
    expect(await leases.holder(`s3:${BUCKET}`, new Date())).toBeUndefined();
    expect(await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET, 'bin/')).toEqual([]);
    expect((await latestMarkerKeys(stack.clients.s3('us-east-1'), BUCKET, 'lib/')).length).toBeGreaterThan(0);
  });

  it('takes over a lease whose run died (expired), and frees only its own', async () => {
    // prepare
    const t0 = new Date('2026-01-27T12:00:00Z');
    await leases.acquire('s3:x', { runId: 'r-dead', channel: 'C', ts: '1.1', until: t0.getTime() + 1000 }, t0);

    // act
    const whileAlive = await leases.acquire('s3:x', { runId: 'r-new', channel: 'C', ts: '2.2', until: t0.getTime() + 5000 }, new Date(t0.getTime() + 500));
    const afterExpiry = await leases.acquire('s3:x', { runId: 'r-new', channel: 'C', ts: '2.2', until: t0.getTime() + 5000 }, new Date(t0.getTime() + 1500));
    await leases.release('s3:x', 'r-dead');
    const stillNew = await leases.holder('s3:x', new Date(t0.getTime() + 1600));

    // assess
    expect(whileAlive).toMatchObject({ ok: false, holder: { runId: 'r-dead' } });
    expect(afterExpiry).toEqual({ ok: true });
    expect(stillNew?.runId).toBe('r-new');
  });
});
