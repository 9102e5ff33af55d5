/**
 * The failover runbook (src/runbooks/failover/runbook.ts, `/dr failover`) on its own, against moto:
 * what its plan refuses and shows, and what its execution launches, waits for, switches, checks,
 * records and reports, with AWS refusing on the way. Each test has its own tagged image (the config's
 * `ami.tagValue`), its backup copy in the target region, its own hosted zone, and the failover's
 * state in a table in moto's DynamoDB. The config lists no bucket and no table: their readiness is
 * failover.test.ts's, as are the flows through Slack and approval. These need no local stack, so
 * `npm run mutate` can run them for each mutant.
 *
 * moto answers every DNS change INSYNC at once and enforces no IAM policy: refusals and impaired
 * instances are SDK middleware on the runbook's own clients (test/helpers/faults.ts).
 */
import {
  CreateImageCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type DescribeInstanceStatusCommandOutput,
  type Instance,
  type InstanceStateName,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import {
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandOutput,
  CreateHostedZoneCommand,
  type GetChangeCommandOutput,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
} from '@aws-sdk/client-route-53';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DrConfig, FailoverRecord } from '../../src/config/schema';
import { ensureAmiCopies } from '../../src/local/outage';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { FailoverInput } from '../../src/runbooks/failover';
import { FAILOVER_TAG, type FailoverPlan, runbook } from '../../src/runbooks/failover/runbook';
import { getFailoverState, putFailoverState } from '../../src/runbooks/failover/state';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { launch } from '../helpers/ec2-instances';
import { noFailoverRecorded } from '../helpers/failover-state';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const PRIMARY = 'us-east-1';
const TARGET = 'us-west-2';
const r53 = () => rig.moto().clients.route53(PRIMARY);
const ec2 = (region = TARGET) => rig.moto().clients.ec2(region);
/** The failover's state lives in drbot's state table: here one in moto. */
const stateTable = rig.useStateTable();
// Each test starts with no failover recorded, and no instance of an earlier test running in the target.
beforeEach(async () => {
  await noFailoverRecorded(stateTable());
  const ids = (await alive()).map((i) => i.InstanceId ?? '');
  if (ids.length) await ec2().send(new TerminateInstancesCommand({ InstanceIds: ids }));
});

async function alive(): Promise<Instance[]> {
  const r = await ec2().send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}
const tag = (i: Instance, k: string) => i.Tags?.find((t) => t.Key === k)?.Value;

interface Estate {
  zoneId: string;
  apex: string;
  /** The tagged images in the primary, by name. */
  images: Record<string, string>;
  /** Each image's AMI name (what a record's `image` names), by name. */
  amiNames: Record<string, string>;
  copies: string[];
}

/**
 * Tagged images in the primary (`names`), copied to the target as `/dr backup amis` leaves them (or
 * not), a zone with www A 10.0.0.1, and the config pointed at them with a failover section.
 */
async function estate(opts: { names?: string[]; copies?: boolean; failover?: Partial<NonNullable<DrConfig['failover']>> | null; records?: boolean } = {}): Promise<Estate> {
  const tagValue = `t${++n}`;
  const apex = `fo${n}.example.com.`;
  const zone = await r53().send(new CreateHostedZoneCommand({ Name: apex, CallerReference: `fo-${n}-${Date.now()}` }));
  const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: `www.${apex}`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '10.0.0.1' }] } }] } }));
  const failover: NonNullable<DrConfig['failover']> = {
    instances: { type: 't3.micro', count: 1, tags: { app: 'spawn' } },
    ...(opts.records === false ? {} : { dns: { records: [{ name: `www.${apex.slice(0, -1)}`, type: 'A', target: 'private-ip', ttl: 60 }] } }),
    ...opts.failover,
  };
  const config: Partial<DrConfig> = {
    s3: { ...SANDBOX_CONFIG.s3, buckets: [] },
    dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [] },
    ami: { ...SANDBOX_CONFIG.ami, tagValue },
    route53: { hostedZoneId: zoneId },
  };
  rig.configure(opts.failover === null ? { ...config, failover: undefined } : { ...config, failover });
  const images: Record<string, string> = {};
  const amiNames: Record<string, string> = {};
  const p = ec2(PRIMARY);
  const [from = ''] = await launch(p, 1, {});
  for (const name of opts.names ?? ['spawn-worker']) {
    const made = await p.send(new CreateImageCommand({ InstanceId: from, Name: `${name}-${n}`, TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'Name', Value: name }, { Key: SANDBOX_CONFIG.ami.tagKey, Value: tagValue }] }] }));
    images[name] = made.ImageId ?? '';
    amiNames[name] = `${name}-${n}`;
  }
  await p.send(new TerminateInstancesCommand({ InstanceIds: [from] }));
  const copies = opts.copies === false ? [] : await ensureAmiCopies(rig.moto().clients, rig.deps().config, new Date());
  return { zoneId, apex, images, amiNames, copies };
}

async function www(e: Estate, host = 'www'): Promise<string> {
  const r = await r53().send(new ListResourceRecordSetsCommand({ HostedZoneId: e.zoneId, StartRecordName: `${host}.${e.apex}`, StartRecordType: 'A', MaxItems: 1 }));
  const s = r.ResourceRecordSets?.[0];
  return `${(s?.ResourceRecords ?? []).map((v) => v.Value).join(',')} ttl ${s?.TTL}${s?.SetIdentifier ? ` set ${s.SetIdentifier} weight ${s.Weight}` : ''}`;
}

/** The config's failover section with these DNS records instead. */
function withRecords(records: FailoverRecord[]): void {
  const fo = rig.deps().config.failover;
  if (!fo) throw new Error('withRecords: no failover section');
  rig.configure({ failover: { ...fo, dns: { records } } });
}

/** Calls `then` with each call of one command's input, after it was answered. */
const seen = (client: unknown, command: string, then: (input: Record<string, unknown>) => void) =>
  rewrite<object>(client, command, (o, x) => {
    then(x);
    return o;
  });

function input(over: Partial<FailoverInput> = {}): FailoverInput & AnyRunInput {
  return { kind: 'failover', runId: `r-fo${String(++n).padStart(10, '0')}`, requester: 'UALICE', channel: 'C1', commandText: '/dr failover', requestedAt: new Date().toISOString(), dryRun: false, ...over } as FailoverInput & AnyRunInput;
}

const plan = (i: FailoverInput) => runbook.plan(rig.deps(), i);
const execute = (i: FailoverInput & AnyRunInput, p: FailoverPlan) => rig.execute(runbook, i, p);
const CLOCK = /T\+\d+:\d\d of 1 h/.source;

describe('the plan', () => {
  it('the primary as target: refused; no failover section: readiness only on a dry run, refused otherwise', async () => {
    await estate({ failover: null });
    await expect(plan(input({ region: PRIMARY }))).rejects.toMatchObject({ code: 'failover_to_primary', message: '`us-east-1` is the primary region: nothing to fail over to.', hint: 'Set `failover.region` (or `regions.backup`) to another region.' });
    const dry = await plan(input({ dryRun: true }));
    expect(dry.lines[0]).toMatch(/^\*Readiness of a failover to us-west-2\*: /);
    expect(dry.lines.at(-1)).toBe('No `failover:` section in the drbot config: readiness only. Add one (instance type, subnet, security groups, count, DNS records) to fail over.');
    expect(dry.data).toMatchObject({ target: TARGET, records: [] });
    expect(dry.data.settings).toBeUndefined();
    await expect(plan(input())).rejects.toMatchObject({
      code: 'no_failover_config',
      message: 'No `failover:` section in the drbot config: drbot does not know what to launch or which records to switch.',
      hint: 'Add a `failover:` section (see drbot.config.example.yaml); `/dr failover --dry-run` shows the readiness meanwhile.',
    });
  });

  it('what it will launch from which copy, where, and which records it switches from what', async () => {
    const e = await estate({ failover: { instances: { type: 't3.small', count: 2, subnetId: 'subnet-0123456789abcdef0', securityGroupIds: ['sg-0123456789abcdef0', 'sg-00000000000000001'], instanceProfile: 'spawn-app', tags: {} } } });
    const i = input();

    const p = await plan(i);

    expect(p.data).toMatchObject({ target: TARGET, zoneId: e.zoneId, sources: [{ copyId: e.copies[0], sourceId: e.images['spawn-worker'] }], settings: { type: 't3.small', count: 2 } });
    const planAt = p.lines.indexOf('*Plan* (RTO objective 1 h, clock running since the request):');
    expect(planAt).toBeGreaterThan(0);
    expect(p.lines.slice(planAt + 1)).toEqual([
      expect.stringMatching(
        new RegExp(`^1\\. Launch 2 × \`t3\\.small\` per image in us-west-2 from \`${e.copies[0]}\` \\([^)]+\\) in \`subnet-0123456789abcdef0\`, groups \`sg-0123456789abcdef0\`, \`sg-00000000000000001\`, profile \`spawn-app\`, tagged \`drbot-failover=${i.runId}\`\\.$`),
      ),
      '2. Wait until they run and pass both status checks.',
      `3. Switch 1 record in \`${e.zoneId}\` (UPSERT), wait until INSYNC, list them again:`,
      `• \`www.${e.apex.slice(0, -1)}\` A: \`A 10.0.0.1\` → the new instances' private-ip, TTL 60`,
      '4. Report what the replicas held at cut-over, the achieved RTO and the estimated RPO. `/dr failback` switches the records back.',
    ]);
  });

  it('no copy in the target: nothing to launch (said on a dry run, refused otherwise); no records configured: said', async () => {
    await estate({ copies: false, records: false });
    const dry = await plan(input({ dryRun: true }));
    expect(dry.lines).toContain('1. :x: Nothing to launch: no backup AMI copy in us-west-2 (`/dr backup amis` makes them).');
    expect(dry.lines).toContain('3. No DNS records to switch (`failover.dns`).');
    await expect(plan(input())).rejects.toMatchObject({ code: 'nothing_to_launch', message: 'No backup AMI copy in us-west-2: there is nothing to launch.', hint: 'Copy the images with `/dr backup amis` while the primary answers.' });
  });

  it('a failover already in effect: refused (a dry run still shows the plan); one failed back is no obstacle', async () => {
    await estate();
    await putFailoverState(stateTable(), { runId: 'r-active000001', target: TARGET, primary: PRIMARY, at: new Date().toISOString(), before: [], after: [], instances: [], status: 'failed-over' });
    await expect(plan(input())).rejects.toMatchObject({
      code: 'failover_active',
      message: 'A failover to us-west-2 is already in effect (run `r-active000001`, failed-over).',
      hint: 'Run `/dr failback` first (`--terminate` also removes its instances); `/dr failover --dry-run` shows the readiness meanwhile.',
    });
    expect((await plan(input({ dryRun: true }))).lines.at(-1)).toMatch(/^4\. Report/);
    await putFailoverState(stateTable(), { runId: 'r-active000001', target: TARGET, primary: PRIMARY, at: new Date().toISOString(), before: [], after: [], instances: [], status: 'failed-back' });
    expect((await plan(input())).data.sources).toHaveLength(1);
  });

  it('title and resources', () => {
    expect(runbook.title(input())).toBe('Failover');
    expect(runbook.title(input({ region: 'us-west-2' }))).toBe('Failover to us-west-2');
    expect(runbook.resources?.(input())).toEqual(['failover']);
    expect(runbook.resources?.(input(), { zoneId: 'Z1' } as FailoverPlan)).toEqual(['failover', 'route53:Z1']);
  });
});

describe('the execution', () => {
  it('launches from the copy, waits for the checks, switches the record to the new instance, records the failover, and reports the RTO', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);

    const out = await execute(i, p.data);

    const [inst, ...more] = await alive();
    expect(more).toEqual([]);
    expect(inst?.ImageId).toBe(e.copies[0]);
    expect(inst?.InstanceType).toBe('t3.micro');
    expect([tag(inst!, FAILOVER_TAG), tag(inst!, 'source-ami'), tag(inst!, 'Name'), tag(inst!, 'app')]).toEqual([i.runId, e.images['spawn-worker'], `${p.data.sources[0]?.name}-failover`, 'spawn']);
    expect(await www(e)).toBe(`${inst?.PrivateIpAddress} ttl 60`);
    expect(await getFailoverState(stateTable())).toMatchObject({
      runId: i.runId,
      target: TARGET,
      primary: PRIMARY,
      zoneId: e.zoneId,
      status: 'failed-over',
      instances: [inst?.InstanceId],
      before: [{ record: { name: `www.${e.apex.slice(0, -1)}` }, set: { ResourceRecords: [{ Value: '10.0.0.1' }], TTL: 300 } }],
      after: [{ ResourceRecords: [{ Value: inst?.PrivateIpAddress }], TTL: 60 }],
    });
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines.slice(0, 8)).toEqual([
      'Launched 1 instance in us-west-2, running with both status checks passed:',
      `• ${p.data.sources[0]?.name}: \`${inst?.InstanceId}\` from \`${e.copies[0]}\``,
      `Switched 1 record in \`${e.zoneId}\`:`,
      `• \`www.${e.apex.slice(0, -1)}\` A: \`A 10.0.0.1\` → \`A ${inst?.PrivateIpAddress}\``,
      'Route53 reported the change INSYNC on all its name servers.',
      'Listed again: every record holds the new values.',
      '*At cut-over the replicas held:*',
      expect.stringMatching(new RegExp(`^\\*Achieved RTO: ${CLOCK}\\* :white_check_mark: within the objective\\. Estimated RPO: `)),
    ]);
    expect(out.lines[8]).toMatch(/^Steps: launched at T\+\d+:\d\d · running at T\+\d+:\d\d · DNS switched at T\+\d+:\d\d · DNS verified at T\+\d+:\d\d · reported at T\+\d+:\d\d$/);
    expect(out.next).toEqual([{ label: 'Fail back', command: 'failback' }]);
    expect(out.reports.map((r) => [r[0], r[1], r[2].replace(new RegExp(CLOCK), 'T')])).toEqual([
      [0, 5, 'T — launching in us-west-2'],
      [1, 5, 'T — waiting for 1 instance to run and pass status checks'],
      [1, 5, 'T — 1 of 1 running with status checks passed'],
      [2, 5, 'T — switching 1 DNS record'],
      [3, 5, 'T — waiting for Route53 INSYNC and listing the records'],
      [4, 5, 'T — reading what the replicas held at cut-over'],
    ]);
  });

  it('instances of this run already there for an image (a retried step): none launched twice', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    const [mine] = await launch(ec2(), 1, { [FAILOVER_TAG]: i.runId, 'source-ami': e.images['spawn-worker'] ?? '', Name: 'spawn-worker-failover' }, e.copies[0]);

    const out = await execute(i, p.data);

    expect((await alive()).map((x) => x.InstanceId)).toEqual([mine]);
    expect(out.ok).toBe(true);
  });

  it('RunInstances refused: nothing launched, DNS not switched, nothing recorded', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    fail(ec2(), 'RunInstancesCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await alive()).toEqual([]);
    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(await getFailoverState(stateTable())).toBeUndefined();
    expect(out.ok).toBe(false);
    expect(out.lines.slice(0, 2)).toEqual([':x: Not every image could be launched in us-west-2, so DNS was *not* switched.', 'Nothing was launched.']);
    expect(out.lines[2]).toMatch(new RegExp(`^Stopped at ${CLOCK}\\. Estimated RPO: `));
    expect(out.lines[3]).toMatch(/^Steps: launched at T\+\d+:\d\d$/);
    expect(out.failures).toEqual([expect.stringMatching(new RegExp(`^launch from \`${e.copies[0]}\` \\(.*\\): .*not authorized`))]);
    expect(out.next).toEqual([]);
  });

  it('one of two images launched: kept and recorded for the failback to terminate; DNS not switched', async () => {
    const e = await estate({ names: ['spawn-worker', 'spawn-controller'] });
    const i = input();
    const p = await plan(i);
    const second = p.data.sources[1]?.copyId;
    fail(ec2(), 'RunInstancesCommand', ACCESS_DENIED, { when: (x) => x.ImageId === second });

    const out = await execute(i, p.data);

    const up = await alive();
    expect(up).toHaveLength(1);
    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: i.runId, status: 'launched', instances: [up[0]?.InstanceId], before: [], after: [] });
    expect(out.lines.slice(0, 3)).toEqual([':x: Not every image could be launched in us-west-2, so DNS was *not* switched.', `Launched (tagged \`drbot-failover=${i.runId}\`):`, expect.stringMatching(new RegExp(`: \`${up[0]?.InstanceId}\` from \``))]);
    expect(out.next).toEqual([{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }]);
  });

  it('an instance failing its status checks: checked 40 times, DNS not switched, the instances offered for termination', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    rewrite<DescribeInstanceStatusCommandOutput>(ec2(), 'DescribeInstanceStatusCommand', (o) => ({ ...o, InstanceStatuses: (o.InstanceStatuses ?? []).map((s) => ({ ...s, InstanceStatus: { Status: 'impaired' } })) }));

    const out = await execute(i, p.data);

    const [inst] = await alive();
    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(out.ok).toBe(false);
    expect(out.lines.slice(0, 3)).toEqual([
      ':x: The instances did not all run and pass their status checks, so DNS was *not* switched.',
      `Launched (tagged \`drbot-failover=${i.runId}\`):`,
      `• ${p.data.sources[0]?.name}: \`${inst?.InstanceId}\` from \`${e.copies[0]}\``,
    ]);
    expect(out.failures).toEqual([`\`${inst?.InstanceId}\`: running, instance check impaired, system check ok`]);
    // one report a check: 40 checks of 15 s, then it gives up
    expect(out.reports.filter((r) => r[2].endsWith('running with status checks passed')).map((r) => r[2].replace(new RegExp(CLOCK), 'T'))).toEqual(Array(40).fill('T — 0 of 1 running with status checks passed'));
    expect(out.next).toEqual([{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }]);
    expect(out.lines.find((l) => l.startsWith('Steps: '))).toMatch(/^Steps: launched at T\+\d+:\d\d · running at T\+\d+:\d\d$/);
  });

  it('instance status unreadable throughout: said, DNS not switched', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    fail(ec2(), 'DescribeInstanceStatusCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(out.failures).toEqual([expect.stringMatching(/^instance status unknown: .*not authorized/)]);
  });

  it('the DNS change refused: the records as they were are kept for the failback, which the report offers with termination', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: i.runId, status: 'switching', before: [{ set: { ResourceRecords: [{ Value: '10.0.0.1' }] } }] });
    expect(out.ok).toBe(false);
    expect(out.lines).toContain(
      ":x: DNS switch stopped: 0 of 1 records written (Route53 applies a batch whole or not at all). `/dr failback` puts back what was written. Grant the bot's role permission for `ChangeResourceRecordSets` on this resource (see template.yaml).",
    );
    expect(out.failures).toEqual([expect.stringMatching(/^DNS batch 1: .*not authorized/)]);
    expect(out.next).toEqual([
      { label: 'Fail back', command: 'failback' },
      { label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' },
    ]);
  });

  it('the records unreadable before the switch: DNS not switched, said', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    fail(r53(), 'ListResourceRecordSetsCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(await getFailoverState(stateTable())).toMatchObject({ status: 'launched' });
    expect(out.ok).toBe(false);
    expect(out.lines).toContain(`:x: DNS was *not* switched: ListResourceRecordSets on \`www.${e.apex.slice(0, -1)} in ${e.zoneId}\` failed: User is not authorized to perform this action`);
    expect(out.failures).toEqual([`DNS: ListResourceRecordSets on \`www.${e.apex.slice(0, -1)} in ${e.zoneId}\` failed: User is not authorized to perform this action`]);
    expect(out.next).toEqual([{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }]);
    undoFaults();
    expect(await www(e)).toBe('10.0.0.1 ttl 300');
  });

  it('another failover came into effect while this plan waited, or the failover section went away: nothing launched', async () => {
    await estate();
    const i = input();
    const p = await plan(i);
    await putFailoverState(stateTable(), { runId: 'r-other0000001', target: TARGET, primary: PRIMARY, at: new Date().toISOString(), before: [], after: [], instances: [], status: 'switching' });

    const out = await execute(i, p.data);

    expect(await alive()).toEqual([]);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(':x: Nothing was launched and DNS was not touched: a failover to us-west-2 (run `r-other0000001`, switching) came into effect while this plan waited for its approval. `/dr failback` first, then plan again.');
    expect(out.failures).toEqual(['a failover to us-west-2 (run r-other0000001) came into effect after this plan was made']);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: 'r-other0000001' });

    await noFailoverRecorded(stateTable());
    rig.configure({ failover: undefined });
    const j = input();
    const gone = await execute(j, p.data);
    expect(gone.ok).toBe(false);
    expect(gone.failures).toEqual(['the `failover:` section is gone from the config']);
    expect(gone.lines[0]).toBe('Nothing was launched: the drbot config has no `failover:` section any more.');
    expect(gone.lines[1]).toMatch(new RegExp(`^Stopped at ${CLOCK}`));
    expect(gone.lines[2]).toBe('Steps: none finished');
    expect(await alive()).toEqual([]);
  });

  it('no DNS records configured: launched and recorded, nothing switched; requested two hours ago: over the objective', async () => {
    await estate({ records: false });
    const i = input({ requestedAt: new Date(Date.now() - 2 * 3_600_000).toISOString() });
    const out = await execute(i, (await plan(i)).data);
    expect(out.lines).toContain('No DNS records configured (`failover.dns`): nothing switched.');
    expect(out.lines.at(-2)).toMatch(/^\*Achieved RTO: T\+2:\d\d:\d\d of 1 h\* :x: over the objective\. Estimated RPO: /);
    expect(out.ok).toBe(true);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: i.runId, status: 'failed-over', before: [], after: [] });
    expect(out.next).toEqual([{ label: 'Fail back', command: 'failback' }]);
  });

  it('two images, two records: the one tied to an image gets only its instance, the routed one keeps its set identifier and gets both; a failover failed back is no obstacle', async () => {
    const e = await estate({ names: ['spawn-worker', 'spawn-controller'] });
    const host = e.apex.slice(0, -1);
    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: e.zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: `api.${e.apex}`, Type: 'A', SetIdentifier: 'blue', Weight: 100, TTL: 300, ResourceRecords: [{ Value: '10.0.0.2' }] } }] } }));
    withRecords([
      { name: `www.${host}`, type: 'A', target: 'private-ip', ttl: 60, image: e.amiNames['spawn-worker'] ?? '' },
      { name: `api.${host}`, type: 'A', target: 'private-ip', ttl: 60, setIdentifier: 'blue' },
    ]);
    await putFailoverState(stateTable(), { runId: 'r-earlier00001', target: TARGET, primary: PRIMARY, at: new Date().toISOString(), before: [], after: [], instances: [], status: 'failed-back' });
    const i = input();

    const p = await plan(i);
    const out = await execute(i, p.data);

    // the sources come sorted by name: the controller first
    const [controller, worker] = p.data.sources;
    expect([controller?.sourceId, worker?.sourceId]).toEqual([e.images['spawn-controller'], e.images['spawn-worker']]);
    expect(p.lines.slice(p.lines.indexOf('*Plan* (RTO objective 1 h, clock running since the request):') + 1)).toEqual([
      `1. Launch 1 × \`t3.micro\` per image in us-west-2 from \`${controller?.copyId}\` (${controller?.name}), \`${worker?.copyId}\` (${worker?.name}), tagged \`drbot-failover=${i.runId}\`.`,
      '2. Wait until they run and pass both status checks.',
      `3. Switch 2 records in \`${e.zoneId}\` (UPSERT), wait until INSYNC, list them again:`,
      `• \`www.${host}\` A: \`A 10.0.0.1\` → the new instances' private-ip, TTL 60`,
      `• \`api.${host}\` A (\`blue\`): \`A 10.0.0.2\` → the new instances' private-ip, TTL 60`,
      '4. Report what the replicas held at cut-over, the achieved RTO and the estimated RPO. `/dr failback` switches the records back.',
    ]);
    const up = await alive();
    const from = (id?: string) => up.find((x) => tag(x, 'source-ami') === id);
    const [c, w] = [from(controller?.sourceId), from(worker?.sourceId)];
    expect(up).toHaveLength(2);
    const both = [c?.PrivateIpAddress ?? '', w?.PrivateIpAddress ?? ''].sort();
    expect(await www(e)).toBe(`${w?.PrivateIpAddress} ttl 60`);
    expect(await www(e, 'api')).toBe(`${both.join(',')} ttl 60 set blue weight 100`);
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: i.runId, status: 'failed-over', instances: [c?.InstanceId, w?.InstanceId] });
    expect(out.lines.slice(0, 9)).toEqual([
      'Launched 2 instances in us-west-2, running with both status checks passed:',
      `• ${controller?.name}: \`${c?.InstanceId}\` from \`${controller?.copyId}\``,
      `• ${worker?.name}: \`${w?.InstanceId}\` from \`${worker?.copyId}\``,
      `Switched 2 records in \`${e.zoneId}\`:`,
      `• \`www.${host}\` A: \`A 10.0.0.1\` → \`A ${w?.PrivateIpAddress}\``,
      `• \`api.${host}\` A: \`A 10.0.0.2\` → \`A ${both.join(', ')}\``,
      'Route53 reported the change INSYNC on all its name servers.',
      'Listed again: every record holds the new values.',
      '*At cut-over the replicas held:*',
    ]);
    expect(out.reports.map((r) => r[2].replace(new RegExp(CLOCK), 'T')).slice(1, 4)).toEqual([
      'T — waiting for 2 instances to run and pass status checks',
      'T — 2 of 2 running with status checks passed',
      'T — switching 2 DNS records',
    ]);
  });

  it('one of two instances passing its checks at first, both later: waited for, then switched to both', async () => {
    const e = await estate({ failover: { instances: { type: 't3.micro', count: 2, tags: {} } } });
    const i = input();
    const p = await plan(i);
    let checks = 0;
    rewrite<DescribeInstanceStatusCommandOutput>(ec2(), 'DescribeInstanceStatusCommand', (o) => {
      if (++checks > 2) return o;
      const late = (o.InstanceStatuses ?? []).map((x) => x.InstanceId ?? '').sort().at(-1);
      return { ...o, InstanceStatuses: (o.InstanceStatuses ?? []).map((x) => (x.InstanceId === late ? { ...x, InstanceStatus: { Status: 'initializing' } } : x)) };
    });

    const out = await execute(i, p.data);

    const ids = (await getFailoverState(stateTable()))?.instances ?? [];
    const ips = (await alive()).map((x) => x.PrivateIpAddress ?? '').sort();
    expect(ids).toHaveLength(2);
    expect(await www(e)).toBe(`${ips.join(',')} ttl 60`);
    expect(out.ok).toBe(true);
    expect(out.lines.slice(0, 2)).toEqual(['Launched 2 instances in us-west-2, running with both status checks passed:', `• ${p.data.sources[0]?.name}: \`${ids[0]}\`, \`${ids[1]}\` from \`${e.copies[0]}\``]);
    expect(out.reports.filter((r) => r[2].endsWith('running with status checks passed')).map((r) => r[2].replace(new RegExp(CLOCK), 'T'))).toEqual([
      'T — 1 of 2 running with status checks passed',
      'T — 1 of 2 running with status checks passed',
      'T — 2 of 2 running with status checks passed',
    ]);
  });

  it.each(['terminated', 'shutting-down', 'stopped'])('one of two instances %s: no further check, DNS not switched', async (gone) => {
    const e = await estate({ failover: { instances: { type: 't3.micro', count: 2, tags: {} } } });
    const i = input();
    const p = await plan(i);
    let lost = '';
    rewrite<DescribeInstancesCommandOutput>(ec2(), 'DescribeInstancesCommand', (o, x) => {
      if (!Array.isArray(x.InstanceIds)) return o;
      lost = (x.InstanceIds as string[]).slice().sort().at(-1) ?? '';
      return { ...o, Reservations: (o.Reservations ?? []).map((r) => ({ ...r, Instances: (r.Instances ?? []).map((y) => (y.InstanceId === lost ? { ...y, State: { Name: gone as InstanceStateName } } : y)) })) };
    });

    const out = await execute(i, p.data);

    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`\`${lost}\`: ${gone}, instance check ok, system check ok`]);
    expect(out.reports.filter((r) => r[2].endsWith('running with status checks passed')).map((r) => r[2].replace(new RegExp(CLOCK), 'T'))).toEqual(['T — 1 of 2 running with status checks passed']);
  });

  it('launches what the approver saw though the config changed since, with an idempotency token; its own earlier state is no obstacle; the DNS change names the run', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    const fo = rig.deps().config.failover;
    if (!fo) throw new Error('no failover section');
    rig.configure({ failover: { ...fo, instances: { ...fo.instances, type: 't3.nano' } } });
    await putFailoverState(stateTable(), { runId: i.runId, target: TARGET, primary: PRIMARY, at: new Date().toISOString(), before: [], after: [], instances: [], status: 'launched' });
    const tokens: unknown[] = [];
    const comments: unknown[] = [];
    seen(ec2(), 'RunInstancesCommand', (x) => tokens.push(x.ClientToken));
    seen(r53(), 'ChangeResourceRecordSetsCommand', (x) => comments.push((x.ChangeBatch as { Comment?: string }).Comment));

    const out = await execute(i, p.data);

    const [inst, ...more] = await alive();
    expect(more).toEqual([]);
    expect(inst?.InstanceType).toBe('t3.micro');
    expect(out.ok).toBe(true);
    expect(await www(e)).toBe(`${inst?.PrivateIpAddress} ttl 60`);
    expect(tokens).toEqual([`drbot-${i.runId}-${e.images['spawn-worker']}`]);
    expect(comments).toEqual([`drbot ${i.runId}: failover to us-west-2 (1/1)`]);
  });

  it('launches into the configured subnet with its security groups and instance profile', async () => {
    const vpc = (await ec2().send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId ?? '';
    const subnetId = (await ec2().send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.20.1.0/24' }))).Subnet?.SubnetId ?? '';
    const sg = (await ec2().send(new CreateSecurityGroupCommand({ GroupName: `fo-sg-${++n}`, Description: 'failover test', VpcId: vpc }))).GroupId ?? '';
    const profile = `fo-profile-${n}`;
    await rig.moto().clients.iam().send(new CreateInstanceProfileCommand({ InstanceProfileName: profile }));
    const e = await estate({ failover: { instances: { type: 't3.micro', count: 1, subnetId, securityGroupIds: [sg], instanceProfile: profile, tags: {} } } });
    const i = input();

    const out = await execute(i, (await plan(i)).data);

    const [inst] = await alive();
    expect(out.ok).toBe(true);
    expect([inst?.SubnetId, inst?.SecurityGroups?.map((g) => g.GroupId), inst?.IamInstanceProfile?.Arn]).toEqual([subnetId, [sg], expect.stringMatching(new RegExp(`:instance-profile/${profile}$`))]);
    expect(await www(e)).toBe(`${inst?.PrivateIpAddress} ttl 60`);
  });

  it("this run's instances unlistable before the launch: nothing launched, the listing named", async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    fail(ec2(), 'DescribeInstancesCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    undoFaults();
    expect(await alive()).toEqual([]);
    expect(await www(e)).toBe('10.0.0.1 ttl 300');
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`launch from \`${e.copies[0]}\` (${p.data.sources[0]?.name}): DescribeInstances on \`failover instances in us-west-2\` failed: User is not authorized to perform this action`]);
  });

  it('the change not INSYNC within 10 minutes: said, the records listed again anyway', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (o) => ({ ...o, ...(o.ChangeInfo ? { ChangeInfo: { ...o.ChangeInfo, Status: 'PENDING' } } : {}) }));
    rewrite<GetChangeCommandOutput>(r53(), 'GetChangeCommand', (o) => ({ ...o, ...(o.ChangeInfo ? { ChangeInfo: { ...o.ChangeInfo, Status: 'PENDING' } } : {}) }));

    const out = await execute(i, p.data);

    const [inst] = await alive();
    expect(await www(e)).toBe(`${inst?.PrivateIpAddress} ttl 60`);
    expect(out.ok).toBe(true);
    expect(out.lines.slice(4, 6)).toEqual([':hourglass: batch 1 not INSYNC after 10 min', 'Listed again: every record holds the new values.']);
  });

  it('26 records of 20 instances: written in two batches (Route53 takes 1,000 values a batch); the status of neither readable: both said', async () => {
    const e = await estate({ failover: { instances: { type: 't3.micro', count: 20, tags: {} } } });
    const host = e.apex.slice(0, -1);
    withRecords(Array.from({ length: 26 }, (_, k) => ({ name: `h${k}.${host}`, type: 'A' as const, target: 'private-ip' as const, ttl: 60 })));
    const i = input();
    const p = await plan(i);
    const comments: unknown[] = [];
    const changes: string[] = [];
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (o, x) => {
      comments.push((x.ChangeBatch as { Comment?: string }).Comment);
      changes.push((o.ChangeInfo?.Id ?? '').replace('/change/', ''));
      return { ...o, ...(o.ChangeInfo ? { ChangeInfo: { ...o.ChangeInfo, Status: 'PENDING' } } : {}) };
    });
    fail(r53(), 'GetChangeCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    undoFaults();
    const ips = (await alive()).map((x) => x.PrivateIpAddress ?? '').sort();
    expect(ips).toHaveLength(20);
    expect((await www(e, 'h25')).replace(/ ttl 60$/, '').split(',').sort()).toEqual(ips);
    expect(out.ok).toBe(true);
    // 25 UPSERTs of 20 values count 1,000 (an UPSERT counts twice): the 26th goes in a second batch
    expect(comments).toEqual([`drbot ${i.runId}: failover to us-west-2 (1/2)`, `drbot ${i.runId}: failover to us-west-2 (2/2)`]);
    const refused = (c: string) => `GetChange on \`${c}\` failed: User is not authorized to perform this action`;
    expect(out.lines).toContain(`:hourglass: batch 1: ${refused(changes[0] ?? '')}; batch 2: ${refused(changes[1] ?? '')}`);
    expect(out.lines).toContain('Listed again: every record holds the new values.');
  });

  it('the records unlistable once switched: the switch stands and is recorded, the run is not ok, the cut-over says what it could not read', async () => {
    const e = await estate();
    const i = input();
    const p = await plan(i);
    let switched = false;
    seen(r53(), 'ChangeResourceRecordSetsCommand', () => (switched = true));
    fail(r53(), 'ListResourceRecordSetsCommand', ACCESS_DENIED, { when: () => switched });

    const out = await execute(i, p.data);

    undoFaults();
    const [inst] = await alive();
    expect(await www(e)).toBe(`${inst?.PrivateIpAddress} ttl 60`);
    expect(await getFailoverState(stateTable())).toMatchObject({ runId: i.runId, status: 'failed-over' });
    const denied = `ListResourceRecordSets on \`www.${e.apex.slice(0, -1)} in ${e.zoneId}\` failed: User is not authorized to perform this action`;
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`could not list the records again: ${denied}`]);
    expect(out.lines.slice(2, 6)).toEqual([
      `Switched 1 record in \`${e.zoneId}\`:`,
      `• \`www.${e.apex.slice(0, -1)}\` A: \`A 10.0.0.1\` → \`A ${inst?.PrivateIpAddress}\``,
      'Route53 reported the change INSYNC on all its name servers.',
      `Could not read the replicas at cut-over: ${denied}`,
    ]);
  });

  it('two records listed again without the new values: both named, the run is not ok', async () => {
    const e = await estate();
    const host = e.apex.slice(0, -1);
    withRecords([
      { name: `www.${host}`, type: 'A', target: 'private-ip', ttl: 60 },
      { name: `new.${host}`, type: 'A', target: 'private-ip', ttl: 60 },
    ]);
    const i = input();
    const p = await plan(i);
    let switched = false;
    seen(r53(), 'ChangeResourceRecordSetsCommand', () => (switched = true));
    rewrite<ListResourceRecordSetsCommandOutput>(r53(), 'ListResourceRecordSetsCommand', (o) => (switched ? { ...o, ResourceRecordSets: [] } : o));

    const out = await execute(i, p.data);

    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`listed again, 2 record(s) do not hold the new values: www.${host} A, new.${host} A`]);
    expect(out.lines).not.toContain('Listed again: every record holds the new values.');
  });

  it('at cut-over: what each bucket and table held in the target, with the lag where known; read light (no listing of the primary)', async () => {
    await estate();
    const [here, alone, data, replica, table] = ['here', 'alone', 'data', 'replica', 'table'].map((x) => `co-${n}-${x}`);
    await rig.makeBucket(data ?? '', PRIMARY);
    await rig.s3(PRIMARY).send(new PutObjectCommand({ Bucket: data, Key: 'a.txt', Body: 'a' }));
    await rig.makeBucket(replica ?? '', TARGET);
    rig.configure({
      s3: { ...SANDBOX_CONFIG.s3, buckets: [{ name: here ?? '', region: TARGET }, { name: alone ?? '' }, { name: data ?? '', replica: { bucket: replica ?? '', region: TARGET } }] },
      dynamodb: { ...SANDBOX_CONFIG.dynamodb, tables: [{ name: table ?? '' }] },
    });
    const i = input();

    const out = await execute(i, (await plan(i)).data);

    const at = out.lines.indexOf('*At cut-over the replicas held:*');
    expect(at).toBeGreaterThan(0);
    expect(out.lines.slice(at + 1, -2)).toEqual([
      `• S3 \`${here}\`: lives in us-west-2 (lag 0:00 min)`,
      `• S3 \`${alone}\`: no replica: its objects are not in us-west-2`,
      `• S3 \`${data}\`: replica \`${replica}\`, empty; no enabled replication rule`,
      `• DynamoDB \`${table}\`: primary unreachable; no replica and no backup in us-west-2`,
    ]);
  });

  it('more than 20 buckets and tables: the first 20 shown at cut-over', async () => {
    await estate();
    const names = Array.from({ length: 21 }, (_, k) => `cap-${n}-${String(k).padStart(2, '0')}`);
    rig.configure({ s3: { ...SANDBOX_CONFIG.s3, buckets: names.map((name) => ({ name })) } });
    const i = input();

    const out = await execute(i, (await plan(i)).data);

    const at = out.lines.indexOf('*At cut-over the replicas held:*');
    expect(out.lines.slice(at + 1, -2)).toEqual(names.slice(0, 20).map((b) => `• S3 \`${b}\`: no replica: its objects are not in us-west-2`));
  });
});
