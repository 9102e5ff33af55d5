import { DeregisterImageCommand, DescribeInstancesCommand, type Instance, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { readZone } from '../../src/runbooks/backup-route53/runbook';
import { backupCopies } from '../../src/aws/ec2';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import { ensureAmiCopies } from '../../src/local/outage';
import { localSandboxTools } from '../../src/local/sandbox-tools';
import type { LocalStack } from '../../src/local/stack';
import { getFailoverState, putFailoverState } from '../../src/runbooks/failover/state';
import { noFailoverRecorded } from '../helpers/failover-state';
import { ACCESS_DENIED, fail } from '../helpers/faults';
import { click, command, ephemeralsFor, latestRunMessage, newRuns, recordedSlackWaits, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr failover and /dr failback against moto (the seeded sandbox, its `failover:` section: one
 * t3.micro per tagged image, www and the api PRIMARY failover record switched to the new
 * instances' private IPs): readiness, dry run, bad input, approvals, the primary down, AWS and
 * Slack failing mid-run, and the failback putting every record back and terminating what the
 * failover launched.
 */

const TARGET = 'us-west-2';
const THROTTLED = { name: 'Throttling', message: 'Rate exceeded', status: 400 };

describe('/dr failover and /dr failback', () => {
  const slackRetry = recordedSlackWaits({ attempts: 3, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ progressIntervalMs: 0, sandboxTools: localSandboxTools, slackRetry });
  let stack: LocalStack;
  let zoneId: string;
  let original: ResourceRecordSet[];

  const ec2 = () => stack.clients.ec2(TARGET);
  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
  /** Every instance in the target, not terminated. */
  const live = async (): Promise<Instance[]> => {
    const r = await ec2().send(new DescribeInstancesCommand({}));
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.State?.Name !== 'terminated');
  };
  const tagged = (i: Instance, k: string) => i.Tags?.find((t) => t.Key === k)?.Value;
  /** The two switched record sets as the zone holds them now. */
  const records = async (): Promise<ResourceRecordSet[]> => {
    const { recordSets } = await readZone(stack.clients.route53(), zoneId);
    return recordSets.filter((s) => s.Name === 'www.spawn.example.com.' || (s.Name === 'api.spawn.example.com.' && s.SetIdentifier === 'primary'));
  };
  /*
   * What a test needs of the estate it arranges itself (the tests run in any order): the AMI copies
   * in the target that a failover launches from, or none; no failover ever recorded.
   */
  const withCopies = () => ensureAmiCopies(stack.clients, stack.config, new Date());
  const withoutCopies = async () => {
    for (const c of await backupCopies(ec2(), TARGET)) await ec2().send(new DeregisterImageCommand({ ImageId: c.ImageId ?? '' }));
    expect(await backupCopies(ec2(), TARGET)).toEqual([]);
  };

  beforeAll(async () => {
    stack = getStack();
    zoneId = stack.config.route53?.hostedZoneId ?? '';
    original = await records();
    expect(original.map((r) => `${r.Name} ${r.SetIdentifier ?? ''}`).sort()).toEqual(['api.spawn.example.com. primary', 'www.spawn.example.com. ']);
  }, 60_000);

  afterEach(() => {
    stack.unreachable?.clear();
    delete stack.standIn.fault;
  });

  it('refuses bad input clearly and starts no run: the primary as target, an unknown region; a failback with no failover changes nothing', async () => {
    // prepare
    await noFailoverRecorded(stack.store);
    const runsBefore = stack.engine.names();

    // act
    const nothing = await command(stack, 'alice', 'failback');
    const nothingId = /r-[0-9a-f]{12}/.exec(nothing.json?.text ?? '')?.[0] ?? '';
    expect(message(nothingId)).toContain('drbot has no failover to fail back from.');
    const primary = await command(stack, 'alice', 'failover us-east-1');
    const unknown = await command(stack, 'alice', 'failover eu-west-9');
    const hostile = await command(stack, 'alice', 'failover <!channel>');
    const odd = await command(stack, 'alice', 'failover us-west-2`;rm');

    // assess
    expect(primary.json?.text).toContain('`us-east-1` is the primary region');
    expect(unknown.json?.text).toContain('Unknown region `eu-west-9`');
    expect(hostile.json?.text).not.toContain('<!channel>');
    expect(hostile.json?.text).toContain('not arguments to /dr');
    expect(odd.json?.text).toContain('is not an AWS region');
    expect(newRuns(stack, runsBefore).some((n) => n.startsWith('dr-failover'))).toBe(false);
    expect(await live()).toEqual([]);
  });

  it('--dry-run shows readiness red / amber / green with the estimated RPO, and changes nothing', async () => {
    // prepare: no AMI copy in the target yet
    await withoutCopies();

    // act
    const { runId } = await requestDry('failover us-west-2 --dry-run');

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const text = message(runId);
    expect(text).toContain('Readiness of a failover to us-west-2');
    expect(text).toMatch(/🔴 \*?AMI\*? `spawn-worker \(ami-[0-9a-f]+\)` — no available backup copy in us-west-2/);
    // A bucket without a replica is red, a replicated one is graded by its replica and rule.
    expect(text).toMatch(/🔴 \*?S3\*? `spawn-logs-us-east-1` — no replica/);
    expect(text).toMatch(/S3\*? `spawn-binaries-us-east-1` .*replica `spawn-binaries-us-west-2-backup`/);
    expect(text).toMatch(/DNS\*? `www\.spawn\.example\.com A` — _now A alias spawn-lb-123/);
    expect(text).toContain('Estimated RPO:');
    expect(text).toContain('Nothing to launch');
    expect(await live()).toEqual([]);
    expect(await records()).toEqual(original);
  });

  it('without a failover: section, --dry-run still shows readiness and a failover is refused, naming the section', async () => {
    // prepare
    const section = stack.config.failover;
    delete stack.config.failover;
    try {
      // act
      const dry = await command(stack, 'alice', 'failover --dry-run');
      const real = await command(stack, 'alice', 'failover');

      // assess
      const dryId = /r-[0-9a-f]{12}/.exec(dry.json?.text ?? '')?.[0] ?? '';
      const realId = /r-[0-9a-f]{12}/.exec(real.json?.text ?? '')?.[0] ?? '';
      expect(runSummary(stack, dryId)).toMatchObject({ status: 'dry_run' });
      expect(message(dryId)).toContain('Readiness of a failover to us-west-2');
      expect(message(dryId)).toContain('No `failover:` section in the drbot config: readiness only.');
      expect(message(dryId)).toMatch(/DNS\*? `DNS` — no `failover.dns` records configured/);
      expect(runSummary(stack, realId)).toMatchObject({ status: 'failed' });
      expect(message(realId)).toContain('No `failover:` section in the drbot config');
    } finally {
      if (section) stack.config.failover = section;
    }
    expect(await live()).toEqual([]);
  });

  it('refuses to fail over when the target holds no AMI copy to launch', async () => {
    // prepare
    await withoutCopies();

    // act
    const reply = await command(stack, 'alice', 'failover us-west-2');

    // assess
    const runId = /r-[0-9a-f]{12}/.exec(reply.json?.text ?? '')?.[0] ?? '';
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(message(runId)).toContain('No backup AMI copy in us-west-2: there is nothing to launch.');
    expect(await live()).toEqual([]);
  });

  it('EC2 denying RunInstances mid-run: nothing launched, DNS not switched, said so', async () => {
    // prepare
    await withCopies();
    const undo = fail(ec2(), 'RunInstancesCommand', ACCESS_DENIED);
    try {
      // act
      const { runId, message: m } = await requestRun(stack, 'alice', 'failover us-west-2');
      await click(stack, 'bob', m, 'run_approve');

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const text = message(runId);
      expect(text).toContain('DNS was *not* switched');
      expect(text).toContain('RunInstances');
      expect(text).toContain('Nothing was launched.');
    } finally {
      undo();
    }
    expect(await live()).toEqual([]);
    expect(await records()).toEqual(original);
  });

  it('with the primary down: the plan says unreachable, the requester cannot approve, the approver does; instances run from the copies, DNS switched, clock and RTO shown; failback is refused while the primary is down, a second failover while one is in effect; then /dr failback puts every record back, and "Terminate failover instances" terminates only the failover\'s', async () => {
    // One scenario: the failover stays in effect from its run to its failback.
    // prepare
    await withCopies();
    const copies = (await backupCopies(ec2(), TARGET)).map((c) => c.ImageId);
    await command(stack, 'alice', 'simulate outage us-east-1');
    expect(stack.unreachable?.has('us-east-1')).toBe(true);

    // act
    const { runId, message: m } = await requestRun(stack, 'alice', 'failover us-west-2');
    const planText = textOf(m);
    await click(stack, 'alice', m, 'run_approve');
    const ownRefusal = textOf(ephemeralsFor(stack.standIn, 'alice').at(-1));
    const ranEarly = runSummary(stack, runId);
    await click(stack, 'bob', m, 'run_approve');

    // assess: the plan did not wait on the primary
    expect(planText).toMatch(/us-east-1 unreachable .*not needed for the failover/);
    expect(planText).toMatch(/primary unreachable/);
    expect(ownRefusal).toMatch(/four eyes/);
    expect(ranEarly).toBeUndefined();
    // the run
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = message(runId);
    expect(text).toMatch(/Achieved RTO: T\+\d+:\d\d of 1 h/);
    expect(text).toMatch(/Steps: launched at T\+\d+:\d\d · running at T\+\d+:\d\d · DNS switched at T\+/);
    expect(text).toContain('Listed again: every record holds the new values.');
    expect(text).toContain('At cut-over the replicas held');
    // AWS: one running instance per tagged image, from the copies, tagged with the run
    const mine = (await live()).filter((i) => tagged(i, 'drbot-failover') === runId);
    expect(mine).toHaveLength(2);
    for (const i of mine) {
      expect(i.State?.Name).toBe('running');
      expect(copies).toContain(i.ImageId);
      expect(i.InstanceType).toBe('t3.micro');
      expect(tagged(i, 'app')).toBe('spawn');
    }
    const ips = mine.map((i) => i.PrivateIpAddress ?? '').sort();
    // DNS: both records now point at the new instances; routing of the failover record kept
    const now = await records();
    const www = now.find((s) => s.Name === 'www.spawn.example.com.');
    const api = now.find((s) => s.SetIdentifier === 'primary');
    expect(www).toMatchObject({ Type: 'A', TTL: 60 });
    expect(www?.AliasTarget).toBeUndefined();
    expect((www?.ResourceRecords ?? []).map((r) => r.Value).sort()).toEqual(ips);
    expect(api).toMatchObject({ Failover: 'PRIMARY', SetIdentifier: 'primary', TTL: 60 });
    expect((api?.ResourceRecords ?? []).map((r) => r.Value).sort()).toEqual(ips);
    // the state the failback reads keeps the records as they were
    const state = await getFailoverState(stack.store);
    expect(state).toMatchObject({ runId, status: 'failed-over', target: TARGET });
    expect(state?.before.map((b) => `${b.set?.Name ?? ''} ${b.set?.AliasTarget?.DNSName ?? ''} ${b.set?.Failover ?? ''}`).sort()).toEqual([
      'api.spawn.example.com. spawn-lb-123.us-east-1.elb.amazonaws.com PRIMARY',
      'www.spawn.example.com. spawn-lb-123.us-east-1.elb.amazonaws.com ',
    ]);
    expect(stack.unreachable?.has('us-east-1')).toBe(true);

    // act: /dr failback while the primary is still down
    stack.unreachable?.add('us-east-1');
    const beforeRefusedFailback = await records();
    const refusedFailback = await command(stack, 'alice', 'failback');

    // assess: refused, nothing changed
    const refusedFailbackId = /r-[0-9a-f]{12}/.exec(refusedFailback.json?.text ?? '')?.[0] ?? '';
    expect(runSummary(stack, refusedFailbackId)).toMatchObject({ status: 'failed' });
    expect(message(refusedFailbackId)).toContain('us-east-1 is still unreachable');
    expect(await records()).toEqual(beforeRefusedFailback);

    // act: the primary answers again; a second failover while this one is in effect
    stack.unreachable?.clear();
    const second = await command(stack, 'alice', 'failover');

    // assess
    const secondId = /r-[0-9a-f]{12}/.exec(second.json?.text ?? '')?.[0] ?? '';
    expect(message(secondId)).toContain('is already in effect');

    // prepare: an instance drbot did not launch is in the target too
    const bystander = (await ec2().send(new RunInstancesCommand({ ImageId: (await backupCopies(ec2(), TARGET))[0]?.ImageId ?? '', MinCount: 1, MaxCount: 1 }))).Instances?.[0]?.InstanceId;
    const failoverRun = (await getFailoverState(stack.store))?.runId ?? '';
    try {
      // act: dry run first, then the failback
      const dry = await command(stack, 'alice', 'failback --dry-run');
      const dryId = /r-[0-9a-f]{12}/.exec(dry.json?.text ?? '')?.[0] ?? '';
      expect(runSummary(stack, dryId)).toMatchObject({ status: 'dry_run' });
      expect((await records()).find((s) => s.Name === 'www.spawn.example.com.')?.AliasTarget).toBeUndefined();
      const back = await requestRun(stack, 'alice', 'failback');
      await click(stack, 'bob', back.message, 'run_approve');

      // assess: DNS as before the failover
      expect(runSummary(stack, back.runId)).toMatchObject({ status: 'succeeded' });
      expect(await records()).toEqual(original);
      expect(message(back.runId)).toContain('Listed again: every record holds what it held before the failover.');
      expect(await getFailoverState(stack.store)).toMatchObject({ status: 'failed-back', failback: { runId: back.runId } });
      // the instances are listed, still running, with the button
      expect((await live()).filter((i) => tagged(i, 'drbot-failover') === failoverRun)).toHaveLength(2);
      const after = latestRunMessage(stack.standIn);
      expect(textOf(after)).toContain('[Terminate failover instances]');

      // act: the button, approved
      await click(stack, 'alice', after ?? back.message, 'Terminate failover instances');
      const plan = latestRunMessage(stack.standIn);
      expect(textOf(plan)).toContain('to terminate');
      await click(stack, 'bob', plan ?? back.message, 'run_approve');

      // assess: the failover's instances are gone, the bystander is not
      const left = await live();
      expect(left.filter((i) => tagged(i, 'drbot-failover') === failoverRun)).toEqual([]);
      expect(left.map((i) => i.InstanceId)).toContain(bystander);
    } finally {
      // the bystander is no test's to keep: the others count the target's live instances
      if (bystander) await ec2().send(new TerminateInstancesCommand({ InstanceIds: [bystander] }));
    }
  });

  it('a failover that came into effect while this plan waited for its approval: nothing launched, DNS untouched, its state kept', async () => {
    // prepare: a plan made with no failover in effect; then another run's failover is recorded
    await withCopies();
    const before = await getFailoverState(stack.store);
    expect(before?.status ?? 'failed-back').toBe('failed-back');
    const { runId, message: msg } = await requestRun(stack, 'alice', 'failover');
    const other = { runId: 'r-0000000000aa', target: TARGET, primary: 'us-east-1', at: new Date().toISOString(), before: [], after: [], instances: [], status: 'failed-over' as const };
    await putFailoverState(stack.store, other);
    const dnsBefore = await records();

    // act
    await click(stack, 'bob', msg, 'run_approve');

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(message(runId)).toContain('came into effect while this plan waited for its approval');
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === runId)).toEqual([]);
    expect(await records()).toEqual(dnsBefore);
    expect((await getFailoverState(stack.store))?.runId).toBe(other.runId);
    // the recorded failover was this test's own: as it was before
    if (before) await putFailoverState(stack.store, before);
    else await noFailoverRecorded(stack.store);
  });

  it('Route53 throttling every change: instances launched, DNS not switched, said so; failback --terminate cleans up', async () => {
    // prepare
    await withCopies();
    const undo = fail(stack.clients.route53(), 'ChangeResourceRecordSetsCommand', THROTTLED);
    let runId: string;
    try {
      // act
      const req = await requestRun(stack, 'alice', 'failover us-west-2');
      runId = req.runId;
      await click(stack, 'bob', req.message, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(message(runId)).toContain('DNS switch stopped: 0 of 2 records written');
    expect(await records()).toEqual(original);
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === runId)).toHaveLength(2);

    // act: clean up
    const clean = await requestRun(stack, 'alice', 'failback --terminate');
    await click(stack, 'bob', clean.message, 'run_approve');

    // assess
    expect(runSummary(stack, clean.runId)).toMatchObject({ status: 'succeeded' });
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === runId)).toEqual([]);
    expect(await records()).toEqual(original);
  });

  it('EC2 throttling RunInstances twice and DescribeInstanceStatus once: retried, each image launched once, DNS switched; failback cleans up', async () => {
    // prepare
    await withCopies();
    const undo = [fail(ec2(), 'RunInstancesCommand', { name: 'RequestLimitExceeded', message: 'Request limit exceeded.', status: 503 }, { times: 2 }), fail(ec2(), 'DescribeInstanceStatusCommand', THROTTLED, { times: 1 })];
    let runId = '';
    try {
      // act
      const req = await requestRun(stack, 'alice', 'failover');
      runId = req.runId;
      await click(stack, 'bob', req.message, 'run_approve');
    } finally {
      for (const u of undo) u();
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const mine = (await live()).filter((i) => tagged(i, 'drbot-failover') === runId);
    expect(mine.map((i) => tagged(i, 'source-ami')).sort()).toEqual([...new Set(mine.map((i) => tagged(i, 'source-ami')))].sort());
    expect(mine).toHaveLength(2);
    expect((await records()).find((s) => s.Name === 'www.spawn.example.com.')?.ResourceRecords?.map((r) => r.Value).sort()).toEqual(mine.map((i) => i.PrivateIpAddress).sort());

    // clean up
    const clean = await requestRun(stack, 'alice', 'failback --terminate');
    await click(stack, 'bob', clean.message, 'run_approve');
    expect(await records()).toEqual(original);
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === runId)).toEqual([]);
  });

  it('slack-429-on-final-update of the failover, then Route53 denying the failback mid-run: DNS stays switched and is said; a second failback restores it', async () => {
    // prepare: a failover whose final update Slack rate-limits twice
    await withCopies();
    const req = await requestRun(stack, 'alice', 'failover us-west-2');
    const waited = slackRetry.waits.length;
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 2 ? { status: 429, retryAfter: 1 } : undefined);
    try {
      await click(stack, 'bob', req.message, 'run_approve');
    } finally {
      delete stack.standIn.fault;
    }

    // assess: waited out; the message final; AWS switched
    expect(limited).toBe(3);
    expect(slackRetry.waits.slice(waited)).toEqual([1000, 1000]);
    expect(runSummary(stack, req.runId)).toMatchObject({ status: 'succeeded' });
    expect(await stack.store.getRun(req.runId)).toMatchObject({ status: 'succeeded' });
    expect(message(req.runId)).toMatch(/^✅ Done/);
    expect(message(req.runId)).toContain('Achieved RTO');
    const switched = await records();
    expect(switched).not.toEqual(original);
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === req.runId)).toHaveLength(2);

    // act: the failback, with ChangeResourceRecordSets denied
    const back = await requestRun(stack, 'alice', 'failback --terminate');
    const undo = fail(stack.clients.route53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED);
    try {
      await click(stack, 'bob', back.message, 'run_approve');
    } finally {
      undo();
    }

    // assess: nothing switched back and said so, the message final
    expect(runSummary(stack, back.runId)).toMatchObject({ status: 'failed' });
    expect(await stack.store.getRun(back.runId)).toMatchObject({ status: 'failed' });
    expect(message(back.runId)).toMatch(/^❌ Failed/);
    expect(message(back.runId)).toContain('DNS switch-back stopped at batch 1: 0 of');
    expect(await records()).toEqual(switched);
    // the instances DNS still points at are not terminated, and the message says why
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === req.runId)).toHaveLength(2);
    expect(message(back.runId)).toContain("The failover's instances were *not* terminated: DNS is not back");

    // act: again, with Route53 answering
    const again = await requestRun(stack, 'alice', 'failback --terminate');
    await click(stack, 'bob', again.message, 'run_approve');

    // assess: DNS as before the failover, its instances gone
    expect(runSummary(stack, again.runId)).toMatchObject({ status: 'succeeded' });
    expect(await records()).toEqual(original);
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === req.runId)).toEqual([]);
  });

  it('Slack answering 500 to every update: the failover is still done and recorded, and the failback too', async () => {
    // prepare
    await withCopies();
    const req = await requestRun(stack, 'alice', 'failover us-west-2');
    stack.standIn.fault = (method) => (method === 'chat.update' ? { status: 500 } : undefined);

    // act
    await click(stack, 'bob', req.message, 'run_approve');
    delete stack.standIn.fault;

    // assess: AWS work done, the record final
    expect(runSummary(stack, req.runId)).toMatchObject({ status: 'succeeded' });
    expect(await stack.store.getRun(req.runId)).toMatchObject({ status: 'succeeded' });
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === req.runId)).toHaveLength(2);
    expect((await records()).find((s) => s.Name === 'www.spawn.example.com.')?.AliasTarget).toBeUndefined();

    // act: the failback with terminate, its final update rate limited twice (Retry-After 1 s)
    const clean = await requestRun(stack, 'alice', 'failback --terminate');
    const waitedBack = slackRetry.waits.length;
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 2 ? { status: 429, retryAfter: 1 } : undefined);
    await click(stack, 'bob', clean.message, 'run_approve');

    // assess: waited out, the message final, the work done
    expect(limited).toBeGreaterThanOrEqual(2);
    expect(slackRetry.waits.slice(waitedBack).filter((ms) => ms === 1000).length).toBeGreaterThanOrEqual(2);
    expect(runSummary(stack, clean.runId)).toMatchObject({ status: 'succeeded' });
    expect(message(clean.runId)).toContain('Terminated 2 instances');
    expect(message(clean.runId)).toMatch(/Done/);
    expect(await records()).toEqual(original);
    expect((await live()).filter((i) => tagged(i, 'drbot-failover') === req.runId)).toEqual([]);
  });

  async function requestDry(text: string): Promise<{ runId: string }> {
    const reply = await command(stack, 'alice', text);
    return { runId: /r-[0-9a-f]{12}/.exec(reply.json?.text ?? '')?.[0] ?? '' };
  }
});
