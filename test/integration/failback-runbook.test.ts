/**
 * The failback runbook (src/runbooks/failback/runbook.ts, `/dr failback`) on its own, against moto:
 * what its plan reads of the last failover and refuses, and what its execution writes back, checks,
 * terminates and reports, with AWS refusing on the way. The failover's record of what it switched
 * is in drbot's state table, here a table in moto's DynamoDB. The flows through Slack and approval
 * are failover.test.ts; these need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * moto answers every DNS change INSYNC at once and enforces no IAM policy: refusals and a record
 * listed with other values are SDK middleware on the runbook's own clients (test/helpers/faults.ts).
 */
import { ChangeResourceRecordSetsCommand, type ChangeResourceRecordSetsCommandOutput, CreateHostedZoneCommand, type ListResourceRecordSetsCommandOutput, ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CreateTagsCommand, DescribeImagesCommand, DescribeInstancesCommand, type DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import type { FailoverRecord } from '../../src/config/schema';
import type { FailbackInput } from '../../src/runbooks/failback';
import { type FailbackPlan, runbook, writable } from '../../src/runbooks/failback/runbook';
import { type FailoverState, getFailoverState, putFailoverState } from '../../src/runbooks/failover/state';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { instanceStates, launch } from '../helpers/ec2-instances';
import { noFailoverRecorded } from '../helpers/failover-state';
import { useRunbookRig } from '../helpers/runbook-rig';
import { AwsLikeZone } from '../helpers/route53-fake';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const PRIMARY = 'us-east-1';
const TARGET = 'us-west-2';
const r53 = () => rig.moto().clients.route53(PRIMARY);
const ec2 = (region = TARGET) => rig.moto().clients.ec2(region);
/** The failover's state lives in drbot's state table: here one in moto. */
const stateTable = rig.useStateTable();

const a = (name: string, ip: string, ttl = 300): ResourceRecordSet => ({ Name: name, Type: 'A', TTL: ttl, ResourceRecords: [{ Value: ip }] });
const record = (name: string): FailoverRecord => ({ name, type: 'A', target: 'private-ip', ttl: 60 });

interface Scene {
  zoneId: string;
  apex: string;
  state: FailoverState;
  /** The instance the failover launched (tagged with its run id), in the target region. */
  instance?: string;
}

/**
 * A failover as `/dr failover` leaves it: api switched from 10.0.0.1 to 10.9.9.9, new created by
 * it (not in the zone before), old as before already (nothing to do); the state kept; optionally
 * one instance tagged with its run id.
 */
async function failedOver(opts: { instance?: boolean; status?: FailoverState['status'] } = {}): Promise<Scene> {
  const apex = `fb${++n}.example.com.`;
  const zone = await r53().send(new CreateHostedZoneCommand({ Name: apex, CallerReference: `fb-${n}-${Date.now()}` }));
  const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  const runId = `r-fo${String(n).padStart(10, '0')}`;
  const before = a(`api.${apex}`, '10.0.0.1');
  const after = [a(`api.${apex}`, '10.9.9.9', 60), a(`new.${apex}`, '10.9.9.9', 60), a(`old.${apex}`, '10.0.0.3')];
  await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: after.map((s) => ({ Action: 'UPSERT', ResourceRecordSet: s })) } }));
  const state: FailoverState = {
    runId,
    target: TARGET,
    primary: PRIMARY,
    zoneId,
    at: '2026-12-01T10:00:00.000Z',
    before: [{ record: record(`api.${apex}`), set: before }, { record: record(`new.${apex}`) }, { record: record(`old.${apex}`), set: a(`old.${apex}`, '10.0.0.3') }],
    after,
    instances: [],
    status: opts.status ?? 'failed-over',
  };
  let instance: string | undefined;
  if (opts.instance) {
    instance = await launchTagged({ 'drbot-failover': runId, Name: 'spawn-app-failover' });
    state.instances = [instance];
  }
  await putFailoverState(stateTable(), state);
  return { zoneId, apex, state, ...(instance ? { instance } : {}) };
}

const launchTagged = async (tags: Record<string, string>) => (await launch(ec2(), 1, tags))[0] ?? '';

const stateOf = async (id: string) => (await instanceStates(ec2(), [id]))[id];

async function values(s: Scene): Promise<Record<string, string>> {
  const r = await r53().send(new ListResourceRecordSetsCommand({ HostedZoneId: s.zoneId }));
  return Object.fromEntries((r.ResourceRecordSets ?? []).filter((x) => x.Type === 'A').map((x) => [x.Name?.split('.')[0], `${(x.ResourceRecords ?? []).map((v) => v.Value).join(',')} ttl ${x.TTL}`]));
}

function input(over: Partial<FailbackInput> = {}): FailbackInput & AnyRunInput {
  return { kind: 'failback', runId: `r-fb${String(++n).padStart(10, '0')}`, requester: 'UALICE', channel: 'C1', commandText: '/dr failback', requestedAt: new Date().toISOString(), terminate: false, dryRun: false, ...over } as FailbackInput & AnyRunInput;
}

const plan = (i: FailbackInput) => runbook.plan(rig.deps(), i);
const execute = (i: FailbackInput & AnyRunInput, p: FailbackPlan) => rig.execute(runbook, i, p);

describe('the plan', () => {
  it('no failover recorded: refused, saying what restores records changed by hand', async () => {
    await noFailoverRecorded(stateTable());
    await expect(plan(input())).rejects.toMatchObject({ code: 'no_failover', message: 'drbot has no failover to fail back from.', hint: expect.stringContaining('/dr restore route53') });
  });

  it('each record: switched back, deleted (the failover made it) or left as it is; the instances it launched are listed, kept without --terminate', async () => {
    const s = await failedOver({ instance: true });

    const p = await plan(input());

    expect(p.empty).toBe(false);
    expect(p.lines).toEqual([
      `Failover run \`${s.state.runId}\` to us-west-2 (failed-over, 2026-12-01 10:00Z).`,
      ':large_green_circle: us-east-1 answers again.',
      `DNS in \`${s.zoneId}\`: 2 of 3 records to switch back:`,
      `• \`api.${s.apex.slice(0, -1)}\` A: \`A 10.9.9.9\` → \`A 10.0.0.1\``,
      `• \`new.${s.apex.slice(0, -1)}\` A: \`A 10.9.9.9\` delete (the failover created it)`,
      `• \`old.${s.apex.slice(0, -1)}\` A: \`A 10.0.0.3\` left: already as before`,
      `1 instance launched by the failover (tagged \`drbot-failover=${s.state.runId}\`) in us-west-2 (kept; \`--terminate\` or the button terminates them):`,
      expect.stringMatching(new RegExp(`^• \`${s.instance}\` t3\\.micro running, launched \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ, \`spawn-app-failover\`$`)),
    ]);
    expect(p.data.reverts.map((r) => r.change?.Action ?? r.skip)).toEqual(['UPSERT', 'DELETE', 'already as before']);
    expect(p.data.instances.map((i) => i.id)).toEqual([s.instance]);
    expect((await plan(input({ terminate: true }))).lines[6]).toContain(`in us-west-2, to terminate:`);
  });

  it('a record the failover made, since changed or gone: left for a person; no instances: said so', async () => {
    const s = await failedOver();
    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: s.zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: a(`new.${s.apex}`, '10.5.5.5', 60) }] } }));
    const p = await plan(input());
    expect(p.lines[4]).toBe(`• \`new.${s.apex.slice(0, -1)}\` A: \`A 10.5.5.5\` left: created by the failover but changed since: left for a person`);
    expect(p.lines.at(-1)).toBe(`No instance tagged \`drbot-failover=${s.state.runId}\` is left in us-west-2.`);

    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: s.zoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: a(`new.${s.apex}`, '10.5.5.5', 60) }] } }));
    expect((await plan(input())).lines[4]).toBe(`• \`new.${s.apex.slice(0, -1)}\` A: \`(none)\` left: already gone`);
  });

  it('the primary still unreachable: a dry run says so; a failback is refused, since it would point the records at it', async () => {
    await failedOver();
    fail(ec2(PRIMARY), 'DescribeImagesCommand', ACCESS_DENIED);
    const dry = await plan(input({ dryRun: true }));
    expect(dry.lines[1]).toBe(':red_circle: us-east-1 is still unreachable (DescribeImages on `images tagged spawn=true in us-east-1` failed: User is not authorized to perform this action).');
    await expect(plan(input())).rejects.toMatchObject({ code: 'primary_unreachable', message: 'us-east-1 is still unreachable: failing back now would point the records at a region that does not answer.' });
  });

  it('already failed back: said, nothing to do unless instances are left to terminate; a failover that switched no records says so', async () => {
    const s = await failedOver({ status: 'failed-back', instance: true });
    await putFailoverState(stateTable(), { ...s.state, failback: { runId: 'r-earlier00001', at: '2026-12-01T12:30:00.000Z' } });
    const p = await plan(input());
    expect(p.lines[2]).toBe('DNS: already switched back by run `r-earlier00001` at 2026-12-01 12:30Z.');
    expect(p.empty).toBe(true);
    expect((await plan(input({ terminate: true }))).empty).toBe(false);
    await putFailoverState(stateTable(), { ...s.state });
    expect((await plan(input())).lines[2]).toBe('DNS: already switched back.');

    const { zoneId: _zone, ...noDns } = s.state;
    await putFailoverState(stateTable(), { ...noDns, status: 'failed-over' });
    const q = await plan(input());
    expect(q.lines[2]).toBe('DNS: the failover switched no records.');
    expect(q.empty).toBe(false);
  });

  it('two instances (one without a Name), refused to list: the plan names what it could not read', async () => {
    const s = await failedOver({ instance: true });
    const bare = await launchTagged({ 'drbot-failover': s.state.runId });
    await putFailoverState(stateTable(), { ...s.state, instances: [s.instance!, bare] });
    const p = await plan(input());
    expect(p.lines).toContain(`2 instances launched by the failover (tagged \`drbot-failover=${s.state.runId}\`) in us-west-2 (kept; \`--terminate\` or the button terminates them):`);
    expect(p.lines).toContainEqual(expect.stringMatching(new RegExp(`^• \`${bare}\` t3\\.micro running, launched \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ$`)));
    fail(ec2(), 'DescribeInstancesCommand', ACCESS_DENIED);
    await expect(plan(input())).rejects.toThrow(/DescribeInstances on `failover instances in us-west-2` failed/);
  });

  it('one record: said in the singular; the primary unreachable: the refusal says what to do meanwhile', async () => {
    const s = await failedOver();
    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: s.zoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: a(`new.${s.apex}`, '10.9.9.9', 60) }] } }));
    await putFailoverState(stateTable(), { ...s.state, before: s.state.before.slice(0, 1), after: s.state.after.slice(0, 1) });
    const p = await plan(input());
    expect(p.lines[2]).toBe(`DNS in \`${s.zoneId}\`: 1 of 1 record to switch back:`);
    fail(ec2(PRIMARY), 'DescribeImagesCommand', ACCESS_DENIED);
    await expect(plan(input())).rejects.toMatchObject({ hint: '`/dr failback --dry-run` shows the state; run `/dr failback` again once the primary is back.' });
  });

  it('title, resources; an alias set is written back without a TTL or values', () => {
    expect(runbook.title(input())).toBe('Failback');
    expect(runbook.title(input({ terminate: true }))).toBe('Failback and termination of the failover instances');
    expect(runbook.resources?.(input())).toEqual(['failover']);
    expect(runbook.resources?.(input(), { failover: { zoneId: 'Z1' } } as FailbackPlan)).toEqual(['failover', 'route53:Z1']);
    const alias: ResourceRecordSet = { Name: 'x.', Type: 'A', TTL: 0, ResourceRecords: [], AliasTarget: { HostedZoneId: 'Z2', DNSName: 'lb.', EvaluateTargetHealth: false } };
    expect(writable(alias)).toEqual({ Name: 'x.', Type: 'A', AliasTarget: { HostedZoneId: 'Z2', DNSName: 'lb.', EvaluateTargetHealth: false } });
    const plain = a('y.', '10.0.0.1');
    expect(writable(plain)).toBe(plain);
  });
});

describe('the execution', () => {
  it('switches every record back, checks them, marks the failover failed back, and offers to terminate the instances left', async () => {
    const s = await failedOver({ instance: true });
    const i = input();
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(await values(s)).toEqual({ api: '10.0.0.1 ttl 300', old: '10.0.0.3 ttl 300' });
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines.slice(0, 4)).toEqual([
      `Switched 2 records back in \`${s.zoneId}\`; Route53 reported INSYNC:`,
      `• \`api.${s.apex.slice(0, -1)}\` A → \`A 10.0.0.1\``,
      `• \`new.${s.apex.slice(0, -1)}\` A → deleted`,
      'Listed again: every record holds what it held before the failover.',
    ]);
    expect(out.lines[4]).toBe('1 failover instance still running in us-west-2:');
    expect(out.next).toEqual([{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }]);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: s.state.runId, status: 'failed-back', failback: { runId: i.runId, at: expect.any(String) } });
    expect(await stateOf(s.instance!)).toBe('running');
  });

  it('--terminate: only the instances still tagged with this failover are terminated, once DNS is back', async () => {
    const s = await failedOver({ instance: true });
    const other = await launchTagged({ 'drbot-failover': s.state.runId, Name: 'second' });
    const i = input({ terminate: true });
    const p = await plan(i);
    // re-tagged after the plan: no longer this failover's
    await ec2().send(new CreateTagsCommand({ Resources: [other], Tags: [{ Key: 'drbot-failover', Value: 'someone-else' }] }));

    const out = await execute(i, p.data);

    expect(await stateOf(s.instance!)).toBe('terminated');
    expect(await stateOf(other)).toBe('running');
    expect(out.lines).toContain(`Terminated 1 instance tagged \`drbot-failover=${s.state.runId}\` in us-west-2: \`${s.instance}\` terminated.`);
    expect(out.next).toEqual([]);
    expect(out.ok).toBe(true);
  });

  it('another failover came into effect while this plan waited: nothing changed, plan again', async () => {
    const s = await failedOver({ instance: true });
    const i = input({ terminate: true });
    const p = await plan(i);
    await putFailoverState(stateTable(), { ...s.state, runId: 'r-newer0000001', status: 'switching' });

    const out = await execute(i, p.data);

    expect(await values(s)).toMatchObject({ api: '10.9.9.9 ttl 60', new: '10.9.9.9 ttl 60' });
    expect(await stateOf(s.instance!)).toBe('running');
    expect(out).toEqual({
      ok: false,
      lines: [`:x: Nothing was changed: this plan reverts failover \`${s.state.runId}\`, but failover \`r-newer0000001\` (switching) came into effect while it waited for its approval. Plan again: \`/dr failback\`.`],
      failures: [`failover r-newer0000001 replaced ${s.state.runId} after this plan was made`],
      next: [{ label: 'Plan again', command: 'failback --terminate' }],
      reports: [],
    });
    const j = input();
    const q = await plan(j);
    await putFailoverState(stateTable(), { ...s.state, runId: 'r-newest000001' });
    expect((await execute(j, q.data)).next).toEqual([{ label: 'Plan again', command: 'failback' }]);
  });

  it('the DNS write refused: not marked failed back; the instances are not terminated while DNS may point at them', async () => {
    const s = await failedOver({ instance: true });
    const i = input({ terminate: true });
    const p = await plan(i);
    fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await values(s)).toMatchObject({ api: '10.9.9.9 ttl 60' });
    expect(await stateOf(s.instance!)).toBe('running');
    expect(await getFailoverState(stateTable())).toMatchObject({ status: 'failed-over' });
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toMatch(/^:x: DNS switch-back stopped at batch 1: 0 of 2 records written\. Run `\/dr failback` again\./);
    expect(out.lines[1]).toBe('The failover\'s instances were *not* terminated: DNS is not back, and may still point at them. Run `/dr failback --terminate` again once it can be switched back.');
    expect(out.lines[2]).toBe('1 failover instance still running in us-west-2:');
    expect(out.failures).toEqual([expect.stringMatching(/^DNS: .*not authorized/)]);
    expect(out.next).toEqual([{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }]);
  });

  it('listed again with other values, or not listable: a failure, and the failover stays in effect', async () => {
    const s = await failedOver();
    const i = input();
    const p = await plan(i);
    // from here on (the check after the write), api lists with another value
    rewrite<ListResourceRecordSetsCommandOutput>(r53(), 'ListResourceRecordSetsCommand', (o) => ({ ...o, ResourceRecordSets: (o.ResourceRecordSets ?? []).map((x) => (x.Name?.startsWith('api.') ? a(x.Name, '10.7.7.7') : x)) }));

    const out = await execute(i, p.data);

    expect(out.failures).toEqual([`listed again, 1 record(s) do not hold the pre-failover values: api.${s.apex.slice(0, -1)} A`]);
    expect(out.ok).toBe(false);
    expect(await getFailoverState(stateTable())).toMatchObject({ status: 'failed-over' });

    undoFaults();
    const t = await failedOver();
    const j = input();
    const q = await plan(j);
    fail(r53(), 'ListResourceRecordSetsCommand', ACCESS_DENIED);
    const denied = await execute(j, q.data);
    expect(denied.failures).toEqual([expect.stringMatching(/^could not list the records again: .*not authorized/)]);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: t.state.runId, status: 'failed-over' });
  });

  it('TerminateInstances refused: DNS is back, the instances are still listed with the button', async () => {
    const s = await failedOver({ instance: true });
    const i = input({ terminate: true });
    const p = await plan(i);
    fail(ec2(), 'TerminateInstancesCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await values(s)).toMatchObject({ api: '10.0.0.1 ttl 300' });
    expect(await stateOf(s.instance!)).toBe('running');
    expect(out.failures).toEqual([expect.stringMatching(/^terminate: .*not authorized/)]);
    expect(out.lines).toContain('1 failover instance still running in us-west-2:');
    expect(out.next).toEqual([{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }]);
  });

  it('--terminate: an instance tagged with this failover after the plan is not the plan\'s to terminate; the wait lasts until each is terminated', async () => {
    const s = await failedOver({ instance: true });
    const second = await launchTagged({ 'drbot-failover': s.state.runId, Name: 'second' });
    await putFailoverState(stateTable(), { ...s.state, instances: [s.instance!, second] });
    const i = input({ terminate: true });
    const p = await plan(i);
    const later = await launchTagged({ 'drbot-failover': s.state.runId, Name: 'later' });
    // both show shutting-down for the wait's first two checks, the second one for a third check too
    let checks = 0;
    rewrite<DescribeInstancesCommandOutput>(ec2(), 'DescribeInstancesCommand', (o, x) => {
      if (!x.InstanceIds) return o;
      const c = ++checks;
      const down = (id?: string) => c <= 2 || (c === 3 && id === second);
      return { ...o, Reservations: (o.Reservations ?? []).map((r) => ({ ...r, Instances: (r.Instances ?? []).map((inst) => (down(inst.InstanceId) ? { ...inst, State: { Name: 'shutting-down', Code: 32 } } : inst)) })) };
    });

    const out = await execute(i, p.data);
    const waited = checks;

    expect(await stateOf(later)).toBe('running');
    expect([await stateOf(s.instance!), await stateOf(second)]).toEqual(['terminated', 'terminated']);
    // until every one is terminated: the fourth check
    expect(waited).toBe(4);
    const line = out.lines.find((l) => l.startsWith('Terminated ')) ?? '';
    expect(line.startsWith(`Terminated 2 instances tagged \`drbot-failover=${s.state.runId}\` in us-west-2: `)).toBe(true);
    // in the order TerminateInstances answered
    expect(line.split(': ')[1]?.replace(/\.$/, '').split(', ').sort()).toEqual([`\`${s.instance}\` terminated`, `\`${second}\` terminated`].sort());
    expect(out.lines.join('\n')).not.toContain('were *not* terminated');
  });

  it('--terminate: instances still shutting down after 20 checks are named as they are; re-tagged all: none left to terminate', async () => {
    const s = await failedOver({ instance: true });
    const i = input({ terminate: true });
    const p = await plan(i);
    let checks = 0;
    rewrite<DescribeInstancesCommandOutput>(ec2(), 'DescribeInstancesCommand', (o, x) =>
      x.InstanceIds ? (checks++, { ...o, Reservations: (o.Reservations ?? []).map((r) => ({ ...r, Instances: (r.Instances ?? []).map((inst) => ({ ...inst, State: { Name: 'shutting-down', Code: 32 } })) })) }) : o,
    );
    const out = await execute(i, p.data);
    expect(checks).toBe(20);
    expect(out.lines).toContain(`Terminated 1 instance tagged \`drbot-failover=${s.state.runId}\` in us-west-2: \`${s.instance}\` shutting-down.`);

    undoFaults();
    const t = await failedOver({ instance: true });
    const j = input({ terminate: true });
    const q = await plan(j);
    await ec2().send(new CreateTagsCommand({ Resources: [t.instance!], Tags: [{ Key: 'drbot-failover', Value: 'someone-else' }] }));
    const none = await execute(j, q.data);
    expect(await stateOf(t.instance!)).toBe('running');
    expect(none.lines).toContain(`Terminated 0 instances tagged \`drbot-failover=${t.state.runId}\` in us-west-2: none left.`);
  });

  it('already failed back, with --terminate: the record of the failback and its lines are left as they were', async () => {
    const s = await failedOver({ status: 'failed-back', instance: true });
    const earlier = { runId: 'r-earlier00001', at: '2026-12-01T12:30:00.000Z' };
    await putFailoverState(stateTable(), { ...s.state, failback: earlier });
    const i = input({ terminate: true });
    const out = await execute(i, (await plan(i)).data);
    expect(out.lines).toEqual([`Terminated 1 instance tagged \`drbot-failover=${s.state.runId}\` in us-west-2: \`${s.instance}\` terminated.`]);
    expect(await getFailoverState(stateTable())).toMatchObject({ status: 'failed-back', failback: earlier });
  });

  it('the switch-back written as one batch with its comment; PENDING until INSYNC: said; two records listed wrong: both named', async () => {
    const s = await failedOver();
    const i = input();
    const p = await plan(i);
    const sent: Record<string, unknown>[] = [];
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (o, x) => {
      sent.push(x);
      return { ...o, ChangeInfo: { ...o.ChangeInfo!, Status: 'PENDING' } };
    });
    stub(r53(), 'GetChangeCommand', (x) => ({ ChangeInfo: { Id: String(x.Id), Status: 'PENDING', SubmittedAt: new Date() } }));
    // listed again: api with another value, new still there
    rewrite<ListResourceRecordSetsCommandOutput>(r53(), 'ListResourceRecordSetsCommand', (o) => ({
      ...o,
      ResourceRecordSets: [...(o.ResourceRecordSets ?? []).map((x) => (x.Name?.startsWith('api.') ? a(x.Name, '10.7.7.7') : x)), a(`new.${s.apex}`, '10.9.9.9', 60)],
    }));

    const out = await execute(i, p.data);

    expect(sent.map((x) => (x.ChangeBatch as { Comment?: string }).Comment)).toEqual([`drbot ${i.runId}: failback of ${s.state.runId} (1/1)`]);
    expect(out.lines[0]).toMatch(new RegExp(`^Switched 2 records back in \`${s.zoneId}\` \\(:hourglass: .+\\):$`));
    expect(out.failures).toEqual([`listed again, 2 record(s) do not hold the pre-failover values: api.${s.apex.slice(0, -1)} A, new.${s.apex.slice(0, -1)} A`]);
  });

  it('501 records: two batches (an UPSERT counts twice of Route53\'s 1,000), each unconfirmed (GetChange denied): both named, in order (a zone that answers as AWS does, with aws-sdk-client-mock: moto reads 501 records one by one too slowly for a run per mutant)', async () => {
    // a failover of 501 records, each switched from 10.0.x.y to 10.9.9.9
    const apex = `fb${++n}.example.com.`;
    const zone = new AwsLikeZone(`Z0FB${n}`, apex);
    const names = Array.from({ length: 501 }, (_, k) => `h${k}.${apex}`);
    const after = names.map((x) => a(x, '10.9.9.9', 60));
    for (const x of after) zone.put(x);
    // GetChange not allowed: each batch's INSYNC wait ends at once, unconfirmed
    zone.denyGetChange = true;
    const detach = zone.attach(r53());
    try {
      const state: FailoverState = {
        runId: `r-fo${String(n).padStart(10, '0')}`,
        target: TARGET,
        primary: PRIMARY,
        zoneId: zone.zoneId,
        at: '2026-12-01T10:00:00.000Z',
        before: names.map((x, k) => ({ record: record(x), set: a(x, `10.0.${Math.floor(k / 256)}.${k % 256}`) })),
        after,
        instances: [],
        status: 'failed-over',
      };
      await putFailoverState(stateTable(), state);
      const i = input();
      const p = await plan(i);

      const out = await execute(i, p.data);

      expect(zone.applied.map((batch) => batch.length)).toEqual([500, 1]);
      expect(out.lines[0]).toBe(`Switched 501 records back in \`${zone.zoneId}\` (:hourglass: batch 1: GetChange on \`C000000000001\` failed: User is not authorized to perform: route53:GetChange; batch 2: GetChange on \`C000000000002\` failed: User is not authorized to perform: route53:GetChange):`);
      expect(out.failures).toEqual([]);
      expect(zone.records.get(`h500.${apex}|A|`)?.ResourceRecords).toEqual([{ Value: '10.0.1.244' }]);
      expect((await getFailoverState(stateTable()))?.status).toBe('failed-back');
    } finally {
      detach();
    }
  });

  it('the DNS write refused without --terminate: the stop line in full, and nothing said about terminating', async () => {
    const s = await failedOver({ instance: true });
    const i = input();
    const p = await plan(i);
    fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED);
    const out = await execute(i, p.data);
    // the stop line ends with AWS's hint
    expect(out.lines[0]).toMatch(/^:x: DNS switch-back stopped at batch 1: 0 of 2 records written\. Run `\/dr failback` again\. Grant the bot's role permission for `ChangeResourceRecordSets`.*\(see template\.yaml\)\.$/);
    expect(out.lines.join('\n')).not.toContain('were *not* terminated');
    expect(out.lines.slice(1, 3)).toEqual(['1 failover instance still running in us-west-2:', expect.stringMatching(new RegExp(`^• \`${s.instance}\` `))]);
  });

  it('TerminateInstances not reachable to list: the failure names what it could not read', async () => {
    const s = await failedOver({ instance: true });
    const i = input({ terminate: true });
    const p = await plan(i);
    fail(ec2(), 'DescribeInstancesCommand', ACCESS_DENIED);
    const out = await execute(i, p.data);
    expect(out.failures).toEqual([expect.stringMatching(/^terminate: DescribeInstances on `failover instances in us-west-2` failed: .*not authorized/)]);
    undoFaults();
    expect(await stateOf(s.instance!)).toBe('running');
  });

  it('nothing left to switch back: said, and the failover marked failed back', async () => {
    const s = await failedOver();
    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: s.zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: a(`api.${s.apex}`, '10.0.0.1') }, { Action: 'DELETE', ResourceRecordSet: a(`new.${s.apex}`, '10.9.9.9', 60) }] } }));
    const i = input();
    const out = await execute(i, (await plan(i)).data);
    expect(out.lines).toEqual(['No DNS record needed switching back.']);
    expect(out.ok).toBe(true);
    expect(await getFailoverState(stateTable())).toMatchObject({ status: 'failed-back', failback: { runId: i.runId } });
  });

  it('one record to switch back and two instances left: both counted in the singular and plural; a batch Route53 rejects as invalid: the stop line ends with the general advice', async () => {
    const s = await failedOver({ instance: true });
    const other = await launchTagged({ 'drbot-failover': s.state.runId, Name: 'second' });
    await putFailoverState(stateTable(), { ...s.state, instances: [s.instance!, other] });
    // new is gone already: only api is left to switch back
    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: s.zoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: a(`new.${s.apex}`, '10.9.9.9', 60) }] } }));
    const i = input();
    const out = await execute(i, (await plan(i)).data);
    expect(out.lines.slice(0, 3)).toEqual([
      `Switched 1 record back in \`${s.zoneId}\`; Route53 reported INSYNC:`,
      `• \`api.${s.apex.slice(0, -1)}\` A → \`A 10.0.0.1\``,
      'Listed again: every record holds what it held before the failover.',
    ]);
    expect(out.lines[3]).toBe('2 failover instances still running in us-west-2:');
    expect(await values(s)).toEqual({ api: '10.0.0.1 ttl 300', old: '10.0.0.3 ttl 300' });

    const t = await failedOver();
    const j = input();
    const q = await plan(j);
    // not a refusal, throttling or a missing zone: the advice is the general one
    fail(r53(), 'ChangeResourceRecordSetsCommand', { name: 'InvalidChangeBatch', message: 'RRSet with DNS name api. is not permitted in zone', status: 400 });
    const refused = await execute(j, q.data);
    expect(refused.lines[0]).toBe(':x: DNS switch-back stopped at batch 1: 0 of 2 records written. Run `/dr failback` again. Check the AWS console or the bot logs with the correlation id.');
    expect(refused.failures).toEqual([expect.stringMatching(/^DNS: .*not permitted in zone/)]);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: t.state.runId, status: 'failed-over' });
  });

  it('--terminate: the wait\'s checks refused: it stops after 20 tries and names the state TerminateInstances answered', async () => {
    const s = await failedOver({ instance: true });
    const i = input({ terminate: true });
    const p = await plan(i);
    let checks = 0;
    // DescribeInstances by id is the wait's check (the listing before the termination is by tag)
    fail(ec2(), 'DescribeInstancesCommand', ACCESS_DENIED, { when: (x) => Boolean(x.InstanceIds) && ++checks > 0 });
    const out = await execute(i, p.data);
    expect(checks).toBe(20);
    expect(out.lines).toContain(`Terminated 1 instance tagged \`drbot-failover=${s.state.runId}\` in us-west-2: \`${s.instance}\` shutting-down.`);
    undoFaults();
    expect(await stateOf(s.instance!)).toBe('terminated');
  });

  it('31 instances left: the plan and the result each list the first 30', async () => {
    const s = await failedOver({ instance: true });
    const more = await launch(ec2(), 30, { 'drbot-failover': s.state.runId });
    await putFailoverState(stateTable(), { ...s.state, instances: [s.instance!, ...more] });
    const i = input();
    const p = await plan(i);
    const head = p.lines.findIndex((l) => l.startsWith('31 instances launched by the failover'));
    expect(head).toBeGreaterThan(-1);
    expect(p.lines.slice(head + 1).filter((l) => l.startsWith('• `i-'))).toHaveLength(30);
    const out = await execute(i, p.data);
    const left = out.lines.indexOf('31 failover instances still running in us-west-2:');
    expect(left).toBeGreaterThan(-1);
    expect(out.lines.slice(left + 1)).toHaveLength(30);
    expect(out.lines.slice(left + 1).every((l) => l.startsWith('• `i-'))).toBe(true);
  });
});
