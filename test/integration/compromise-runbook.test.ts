/**
 * The compromise runbook (src/runbooks/compromise/runbook.ts, `/dr compromise`) on its own, against
 * moto: what its plan reads, refuses and shows, and what its execution contains, reads, reports and
 * offers next, with AWS refusing on the way. The flows through Slack and approval are
 * compromise.test.ts; these need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * moto has no CloudTrail event history: LookupEvents is answered by the sandbox's own stand-in
 * (SandboxTrail, src/local/moto-gaps.ts: AWS's paging, one attribute, the time window) from events
 * in AWS's shape. moto lacks AWS managed policies (AWSDenyAll), so ListAttachedUserPolicies and
 * AttachUserPolicy are answered by SDK middleware (`stub`) with the inputs recorded; refusals are
 * middleware too (moto enforces no IAM policy and never throttles).
 */
import type { Event } from '@aws-sdk/client-cloudtrail';
import { DescribeInstancesCommand, type DescribeInstancesCommandOutput, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateLoginProfileCommand, CreateUserCommand, DeleteAccessKeyCommand, GetLoginProfileCommand, ListAccessKeysCommand, type ListAccessKeysCommandOutput, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { trailEvent } from '../../src/local/compromise';
import { SandboxTrail } from '../../src/local/moto-gaps';
import type { CompromiseInput } from '../../src/runbooks/compromise';
import { contain, type ContainPlan, DEFAULT_SINCE_MS, fitReport, runbook, terminateListed, type TerminatePlan } from '../../src/runbooks/compromise/runbook';
import type { Outcome, Progress } from '../../src/runbooks/driver';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import type { SlackMessage } from '../../src/slack/poster';
import type { RunRecord } from '../../src/store/state';
import { ACCESS_DENIED, fail, rewrite, sdkError, stub, undoFaults } from '../helpers/faults';
import { instanceStates, launch } from '../helpers/ec2-instances';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const DENY_ALL = 'arn:aws:iam::aws:policy/AWSDenyAll';
const ATTACKER = { ip: '203.0.113.9', agent: 'aws-cli/2.15.0 Python/3.11.6' };
const trail = new SandboxTrail();

const iam = () => rig.moto().clients.iam(EAST);
const ec2 = (region = EAST) => rig.moto().clients.ec2(region);
const statuses = async (user: string) => Object.fromEntries(((await iam().send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));

beforeAll(() => {
  for (const region of [EAST, WEST]) trail.cover(rig.moto().clients.cloudtrail(region), region);
});
// Instances left running would be "launched since" in every later test's report.
afterEach(async () => {
  for (const region of [EAST, WEST]) {
    const r = await ec2(region).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
    const ids = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId ?? '');
    if (ids.length) await ec2(region).send(new TerminateInstancesCommand({ InstanceIds: ids }));
  }
});

/** A new IAM user with `keys` access keys (their IDs, oldest first). */
async function user(keys = 2): Promise<{ name: string; keys: string[] }> {
  const name = `cu-${++n}`;
  await iam().send(new CreateUserCommand({ UserName: name }));
  const ids: string[] = [];
  for (let i = 0; i < keys; i++) ids.push((await iam().send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey?.AccessKeyId ?? '');
  return { name, keys: ids };
}

function input(u: string, over: Partial<CompromiseInput> = {}): CompromiseInput & AnyRunInput {
  return { kind: 'compromise', runId: `cr${++n}`, requester: 'UALICE', channel: 'C1', commandText: `/dr compromise ${u}`, requestedAt: new Date().toISOString(), user: u, lock: false, newKey: false, dryRun: false, ...over } as CompromiseInput & AnyRunInput;
}

/** An event of the user's key as CloudTrail records it, `hoursAgo` before now. */
function ev(u: string, keyId: string, name: string, region: string, o: { source?: string; readOnly?: boolean; hoursAgo?: number; request?: Record<string, unknown>; response?: Record<string, unknown>; error?: { code: string; message: string } } = {}): Event {
  return trailEvent({
    name,
    source: o.source ?? 'ec2.amazonaws.com',
    region,
    at: new Date(Date.now() - (o.hoursAgo ?? 1) * 3_600_000),
    readOnly: o.readOnly ?? false,
    keyId,
    user: u,
    from: ATTACKER,
    ...(o.request ? { request: o.request } : {}),
    ...(o.response ? { response: o.response } : {}),
    ...(o.error ? { error: o.error } : {}),
  });
}

const launchNamed = (region: string, count = 1, name = 'x') => launch(ec2(region), count, { Name: name });

/** Makes moto's DescribeInstances show these launch times (moto cannot backdate a launch). */
function launchedAt(region: string, times: Record<string, Date>): void {
  rewrite<DescribeInstancesCommandOutput>(ec2(region), 'DescribeInstancesCommand', (out) => {
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const t = times[i.InstanceId ?? ''];
      if (t) i.LaunchTime = t;
    }
    return out;
  });
}

/** ListAttachedUserPolicies and AttachUserPolicy of `u` answered here (moto lacks AWSDenyAll); the attach calls. */
function denyAll(u: string, attachedAlready: boolean): Record<string, unknown>[] {
  const calls: Record<string, unknown>[] = [];
  let attached = attachedAlready;
  stub(iam(), 'ListAttachedUserPoliciesCommand', (i) => (i.UserName === u ? { AttachedPolicies: attached ? [{ PolicyName: 'AWSDenyAll', PolicyArn: DENY_ALL }] : [], IsTruncated: false } : undefined));
  stub(iam(), 'AttachUserPolicyCommand', (i) => {
    calls.push(i);
    attached = true;
    return {};
  });
  return calls;
}

const plan = (i: CompromiseInput) => contain.plan(rig.deps(), i);
const execute = (i: CompromiseInput & AnyRunInput, p: ContainPlan) => rig.execute(contain, i, p);
const codes = (ids: string[]) => ids.map((id) => `\`${id}\``).join(', ');

describe('the plan', () => {
  it('an unknown user is refused by name, before anything is read', async () => {
    await expect(plan(input('nobody-here'))).rejects.toMatchObject({ code: 'unknown_user', message: 'There is no IAM user `nobody-here` in this account.', hint: expect.stringContaining('case-sensitive') });
  });

  it("--key not of the user: refused, naming the user's own keys or saying it has none", async () => {
    const u = await user(2);
    const bare = await user(0);
    await expect(plan(input(u.name, { key: 'AKIANOTHERS0000000000' }))).rejects.toMatchObject({
      code: 'unknown_key',
      message: `\`AKIANOTHERS0000000000\` is not an access key of \`${u.name}\` (its keys: ${codes(u.keys)}).`,
      hint: 'Check the key ID, or leave out `--key` to deactivate every key of the user.',
    });
    await expect(plan(input(bare.name, { key: 'AKIANOTHERS0000000000' }))).rejects.toMatchObject({ message: `\`AKIANOTHERS0000000000\` is not an access key of \`${bare.name}\` (it has no access keys).` });
    expect(await statuses(u.name)).toEqual({ [u.keys[0]!]: 'Active', [u.keys[1]!]: 'Active' });
  });

  it('lists the active keys to set Inactive and those Inactive already; reads CloudTrail since a day before the request in both regions', async () => {
    const u = await user(2);
    await iam().send(new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: u.keys[1], Status: 'Inactive' }));
    const i = input(u.name);

    const p = await plan(i);
    const dry = await plan(input(u.name, { dryRun: true, requestedAt: i.requestedAt }));

    // a day before the request
    const since = new Date(Date.parse(i.requestedAt) - 24 * 3_600_000).toISOString();
    expect(DEFAULT_SINCE_MS).toBe(24 * 3_600_000);
    expect(p.data).toMatchObject({ user: u.name, keyCount: 2, since, regions: [EAST, WEST] });
    expect(p.data.keys.map((k) => [k.id, k.status])).toEqual([
      [u.keys[0], 'Active'],
      [u.keys[1], 'Inactive'],
    ]);
    expect(p.data.lock).toBeUndefined();
    expect(p.lines).toHaveLength(2);
    expect(p.lines[0]).toMatch(new RegExp(`^\\*Contain\\* IAM user \`${u.name}\`: 1 access key will be set \\*Inactive\\*: \`${u.keys[0]}\` \\(created <!date\\^\\d+\\^[^>]+>\\); already Inactive: \`${u.keys[1]}\`\\. Nothing is deleted: the keys stay as evidence\\.$`));
    expect(dry.lines[0]).toContain('1 access key would be set *Inactive*');
    expect(p.lines[1]).toBe(`Then, read only: CloudTrail since ${`<!date^${Math.floor(Date.parse(since) / 1000)}^{date_short_pretty} {time}|${since.slice(0, 16).replace('T', ' ')} UTC>`} in \`${EAST}\` and \`${WEST}\` (by user name and by 2 key IDs, at most 2 calls a second), the instances launched by the user or since then, and the IAM changes it made.`);
  });

  it('--key: only that key; --since kept; a user whose keys are all Inactive, or who has none, is said so', async () => {
    const u = await user(2);
    const p = await plan(input(u.name, { key: u.keys[1], since: '2026-11-30T00:00:00.000Z' }));
    expect(p.data.keys.map((k) => k.id)).toEqual([u.keys[1]]);
    expect(p.data).toMatchObject({ keyCount: 2, since: '2026-11-30T00:00:00.000Z' });
    expect(p.lines[0]).toContain(`1 access key will be set *Inactive*: \`${u.keys[1]}\``);
    expect(p.lines[1]).toContain('(by user name and by 1 key ID, at most');

    for (const k of u.keys) await iam().send(new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: k, Status: 'Inactive' }));
    expect((await plan(input(u.name))).lines[0]).toBe(`*Contain* IAM user \`${u.name}\`: its access keys are Inactive already. Nothing is deleted: the keys stay as evidence.`);
    const bare = await user(0);
    const none = await plan(input(bare.name));
    expect(none.lines[0]).toBe(`*Contain* IAM user \`${bare.name}\`: it has no access keys. Nothing is deleted: the keys stay as evidence.`);
    expect(none.lines[1]).toContain('(by user name, at most 2 calls a second)');
  });

  it('a key IAM gives no creation date for is shown by its ID alone', async () => {
    const u = await user(1);
    rewrite<ListAccessKeysCommandOutput>(iam(), 'ListAccessKeysCommand', (out) => ({ ...out, AccessKeyMetadata: (out.AccessKeyMetadata ?? []).map(({ CreateDate: _, ...k }) => k) }));
    expect((await plan(input(u.name))).lines[0]).toBe(`*Contain* IAM user \`${u.name}\`: 1 access key will be set *Inactive*: \`${u.keys[0]}\`. Nothing is deleted: the keys stay as evidence.`);
  });

  it('--lock: AWSDenyAll in the user\'s partition and the console password, as they are now', async () => {
    const u = await user(1);
    await iam().send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Tr0ub4dor&3-long-enough' }));
    denyAll(u.name, false);
    const p = await plan(input(u.name, { lock: true }));
    expect(p.data.lock).toEqual({ denyAll: false, console: true, policyArn: DENY_ALL });
    expect(p.lines[1]).toBe("*Lock*: AWS's managed policy `AWSDenyAll` (an explicit Deny of every action) will be attached (no inline policy is written); the console password will be deleted.");

    const v = await user(1);
    denyAll(v.name, true);
    const again = await plan(input(v.name, { lock: true, dryRun: true }));
    expect(again.data.lock).toEqual({ denyAll: true, console: false, policyArn: DENY_ALL });
    expect(again.lines[1]).toBe("*Lock*: AWS's managed policy `AWSDenyAll` (an explicit Deny of every action) is attached already (no inline policy is written); the console password does not exist (nothing to revoke).");
  });

  it('--new-key: the secret it will be written to, or a warning at IAM\'s two keys', async () => {
    const one = await user(1);
    const i = input(one.name, { newKey: true });
    expect((await plan(i)).lines[1]).toBe(`*Replacement key*: a new access key will be created straight into the Secrets Manager secret \`drbot/compromise/${one.name}/${i.runId}\` in \`${EAST}\`; only the secret's ARN is shown, never the key's secret.`);
    const two = await user(2);
    expect((await plan(input(two.name, { newKey: true }))).lines[1]).toBe(":warning: *Replacement key*: the user has IAM's limit of 2 keys, so IAM will refuse a new one until a key is deleted (drbot deletes none).");
  });

  it('the runbook for --terminate is the terminate one, any other the containment', () => {
    expect(runbook(input('u', { terminate: ['i-0123456789abcdef0'] }))).toBe(terminateListed);
    expect(runbook(input('u', { terminate: [] }))).toBe(contain);
    expect(runbook(input('u'))).toBe(contain);
    expect(contain.title(input('u-1'))).toBe('Compromised IAM user u-1: contain and investigate');
    expect(contain.resources?.(input('u-1'))).toEqual(['iam-user:u-1']);
    expect(terminateListed.title(input('u-1', { terminate: ['i-1', 'i-2'] }))).toBe('Compromised IAM user u-1: terminate 2 instances');
    expect(terminateListed.title(input('u-1'))).toBe('Compromised IAM user u-1: terminate 0 instances');
    expect(terminateListed.resources?.(input('u-1', { terminate: ['i-1', 'i-2'] }))).toEqual(['ec2:i-1', 'ec2:i-2']);
    expect(terminateListed.resources?.(input('u-1'))).toEqual([]);
  });
});

describe('contain and investigate', () => {
  it('every key Inactive and checked; events found by user and by key kept once; instances by the user first; IAM changes; what no button does; the next steps', async () => {
    // prepare
    const u = await user(2);
    const [k1, k2] = u.keys as [string, string];
    const [byUser] = await launchNamed(EAST, 1, 'miner');
    const [since1] = await launchNamed(EAST, 1, 'other');
    const [west] = await launchNamed(WEST, 1, 'west-one');
    const [old] = await launchNamed(WEST, 1, 'old');
    const hour = 3_600_000;
    launchedAt(EAST, { [byUser!]: new Date(Date.now() - 3 * hour), [since1!]: new Date(Date.now() - 2 * hour) });
    launchedAt(WEST, { [west!]: new Date(Date.now() - hour), [old!]: new Date(Date.now() - 48 * hour) });
    trail.record(EAST, [
      ev(u.name, k1, 'DescribeInstances', EAST, { readOnly: true, hoursAgo: 4 }),
      ev(u.name, k1, 'DescribeInstances', EAST, { readOnly: true, hoursAgo: 3.5 }),
      ev(u.name, k1, 'RunInstances', EAST, { hoursAgo: 3, response: { instancesSet: { items: [{ instanceId: byUser }] } } }),
      ev(u.name, k1, 'CreateUser', EAST, { source: 'iam.amazonaws.com', hoursAgo: 2.5, request: { userName: 'backdoor' } }),
      ev(u.name, k1, 'PutRolePolicy', EAST, { source: 'iam.amazonaws.com', hoursAgo: 2.4, request: { roleName: 'spawn-app', policyName: 'x' } }),
      ev(u.name, k1, 'DeleteBucket', EAST, { source: 's3.amazonaws.com', hoursAgo: 2, error: { code: 'AccessDenied', message: 'no' } }),
      // another user's, and one before --since: neither is read
      ev('someone-else', 'AKIASOMEONEELSE00000', 'RunInstances', EAST, { hoursAgo: 1 }),
      ev(u.name, k1, 'ListUsers', EAST, { source: 'iam.amazonaws.com', readOnly: true, hoursAgo: 30 }),
    ]);
    trail.record(WEST, [ev(u.name, k2, 'ListBuckets', WEST, { source: 's3.amazonaws.com', readOnly: true, hoursAgo: 1 })]);
    const i = input(u.name);
    const p = await plan(i);

    // act
    const out = await execute(i, p.data);

    // assess: AWS
    expect(await statuses(u.name)).toEqual({ [k1]: 'Inactive', [k2]: 'Inactive' });
    // assess: the outcome
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.reports).toEqual([
      [1, 2, 'access keys deactivated'],
      [2, 2, 'access keys deactivated'],
    ]);
    const [contained, found, ...rest] = out.lines;
    expect(contained).toMatch(new RegExp(`^:lock: \\*Contained\\* at <!date\\^\\d+\\^\\{date_short_pretty\\} \\{time_secs\\}\\|[^>]+>: 2 access keys of \`${u.name}\` are Inactive \\(checked with ListAccessKeys\\): \`${k1}\`, \`${k2}\`\\.$`));
    // 7 events of the user since --since, each found by the user name and by its key: counted once
    expect(found).toBe(`:mag: *Found* in CloudTrail since ${slackSince(p.data.since)} in \`${EAST}\` and \`${WEST}\`: 7 events, 4 write calls; writes first:`);
    const groups = rest.slice(0, rest.indexOf('• …and 2 more groups'));
    expect(rest).toContainEqual(expect.stringMatching(/^• \*write\* `DeleteBucket` ×1 \(1 refused\) in `us-east-1` from `203\.0\.113\.9`/));
    // six groups, the read-only ones last: two cut so the result fits its one Slack section
    expect(groups.map((l) => l.match(/^• \*write\* `(\w+)` ×1 /)?.[1])).toEqual(['DeleteBucket', 'PutRolePolicy', 'CreateUser', 'RunInstances']);
    // the rig's store cannot be read: there is no run message to reply under
    expect(rest).toContain('The full list could not be posted in the thread (the run message could not be found): look the user up in the CloudTrail console.');
    const head = rest.indexOf(`:broom: *To clean up*: 3 instances launched by \`${u.name}\` or since ${slackSince(p.data.since)}:`);
    expect(head).toBeGreaterThan(0);
    // the user's own first, then the newest
    expect(rest.slice(head + 1, head + 4).map((l) => l.match(/^• `(i-[0-9a-f]+)`/)?.[1])).toEqual([byUser, west, since1]);
    expect(rest[head + 1]).toContain(`— launched by \`${u.name}\` (CloudTrail)`);
    expect(rest[head + 2]).toContain('— launched since then (CloudTrail does not name who)');
    expect(rest[head + 4]).toBe(`Terminate one: \`/dr compromise ${u.name} --terminate ${byUser}\` (IDs separated by commas).`);
    expect(rest[head + 5]).toBe(`:busts_in_silhouette: *IAM changes* made by \`${u.name}\`:`);
    expect(rest.slice(head + 6, head + 8)).toEqual([expect.stringMatching(/^• `CreateUser` `backdoor` at <!date/), expect.stringMatching(/^• `PutRolePolicy` `spawn-app` at <!date/)]);
    const human = rest.slice(rest.indexOf(':bust_in_silhouette: *Still needs a human*:') + 1);
    expect(human).toEqual([
      '• Delete the IAM users it created, after review: `backdoor` (a restore never deletes users).',
      // two keys: no room for a replacement
      '• A replacement key needs room: IAM allows 2 keys and the user has 2; delete one (after review) before `--new-key`.',
      '• Consider *Deny all + revoke console*: an inactive key cannot sign, but the user may have a console password.',
      '• Find where the key leaked and rotate whatever used it (the replacement key lives in Secrets Manager); delete the inactive keys once reviewed.',
    ]);
    expect(out.lines.join('\n')).not.toContain(old!);
    expect(out.next).toEqual([
      { label: 'Deny all + revoke console', command: `compromise ${u.name} --since ${p.data.since} --lock`, style: 'danger' },
      { label: 'Terminate all listed', command: `compromise ${u.name} --terminate ${byUser},${west},${since1}`, style: 'danger' },
      { label: 'Restore IAM from backup', command: 'restore iam --all' },
    ]);
  });

  it('a key made while the approval waited is contained too, looked up in CloudTrail and said; --key contains that key alone', async () => {
    const u = await user(1);
    const i = input(u.name);
    const p = await plan(i);
    const late = (await iam().send(new CreateAccessKeyCommand({ UserName: u.name }))).AccessKey?.AccessKeyId ?? '';
    trail.record(EAST, [ev(u.name, late, 'GetCallerIdentity', EAST, { source: 'sts.amazonaws.com', readOnly: true, hoursAgo: 0.1 })].map((e) => ({ ...e, Username: 'not-the-name' })));

    const out = await execute(i, p.data);

    expect(await statuses(u.name)).toEqual({ [u.keys[0]!]: 'Inactive', [late]: 'Inactive' });
    expect(out.lines[0]).toContain(`2 access keys of \`${u.name}\` are Inactive (checked with ListAccessKeys): \`${u.keys[0]}\`, \`${late}\`.`);
    // found by the late key's ID only
    expect(out.lines[1]).toContain(': 1 event, 0 write calls:');
    expect(out.lines).toContain(`• 1 access key appeared while the approval waited (\`${late}\`), and was contained too: find out who made it.`);
    // two keys now (the plan counted one): no room for a replacement, and no button offering one
    expect(out.next?.map((s) => s.label)).toEqual(['Deny all + revoke console']);
    expect(out.lines).toContain(`• A replacement key needs room: IAM allows 2 keys and the user has 2; delete one (after review) before \`--new-key\`.`);

    // --key: a key made after the plan is not this run's to contain (nor said to have appeared)
    const v = await user(1);
    const only = input(v.name, { key: v.keys[0] });
    const q = await plan(only);
    const other = (await iam().send(new CreateAccessKeyCommand({ UserName: v.name }))).AccessKey?.AccessKeyId ?? '';
    const one = await execute(only, q.data);
    expect(await statuses(v.name)).toEqual({ [v.keys[0]!]: 'Inactive', [other]: 'Active' });
    expect(one.lines[0]).toContain(`1 access key of \`${v.name}\` is Inactive (checked with ListAccessKeys): \`${v.keys[0]}\`.`);
    expect(one.lines.join('\n')).not.toContain('appeared while the approval waited');
    expect(one.next?.[0]).toEqual({ label: 'Deny all + revoke console', command: `compromise ${v.name} --key ${v.keys[0]} --since ${q.data.since} --lock`, style: 'danger' });
    // the user has two keys now: no replacement offered
    expect(one.next?.map((s) => s.label)).toEqual(['Deny all + revoke console']);

    // one key, nothing appeared: the replacement is offered
    const w = await user(1);
    const single = input(w.name);
    const solo = await execute(single, (await plan(single)).data);
    expect(solo.next?.[1]).toEqual({ label: 'Create replacement key', command: `compromise ${w.name} --since ${(await plan(single)).data.since} --new-key` });
  });

  it('keys that appeared while the approval waited, two of them: each contained, named, and said in the plural', async () => {
    const u = await user(0);
    const i = input(u.name);
    const p = await plan(i);
    const late: string[] = [];
    for (let j = 0; j < 2; j++) late.push((await iam().send(new CreateAccessKeyCommand({ UserName: u.name }))).AccessKey?.AccessKeyId ?? '');

    const out = await execute(i, p.data);

    expect(await statuses(u.name)).toEqual({ [late[0]!]: 'Inactive', [late[1]!]: 'Inactive' });
    expect(out.lines).toContain(`• 2 access keys appeared while the approval waited (${codes(late)}), and were contained too: find out who made them.`);
    expect(out.reports).toEqual([
      [1, 2, 'access keys deactivated'],
      [2, 2, 'access keys deactivated'],
    ]);
  });

  it('a key deleted between the listing and the run: not a failure, and not called Inactive', async () => {
    const u = await user(2);
    const [k1, k2] = u.keys as [string, string];
    const i = input(u.name);
    const p = await plan(i);
    await iam().send(new DeleteAccessKeyCommand({ UserName: u.name, AccessKeyId: k2 }));

    const out = await execute(i, p.data);

    expect(await statuses(u.name)).toEqual({ [k1]: 'Inactive' });
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toMatch(new RegExp(`^:lock: \\*Contained\\* at <!date[^>]+>: 1 access key of \`${u.name}\` is Inactive \\(checked with ListAccessKeys\\): \`${k1}\`; deleted since the listing: \`${k2}\`\\.$`));

    // every key deleted: contained, with no time of deactivation to give
    const v = await user(1);
    const j = input(v.name);
    const q = await plan(j);
    await iam().send(new DeleteAccessKeyCommand({ UserName: v.name, AccessKeyId: v.keys[0] }));
    const all = await execute(j, q.data);
    expect(all.lines[0]).toBe(`:lock: *Contained*: deleted since the listing: \`${v.keys[0]}\`.`);

    // one deleted, the other refused
    const w = await user(2);
    const [w1, w2] = w.keys as [string, string];
    const k = input(w.name);
    const r = await plan(k);
    await iam().send(new DeleteAccessKeyCommand({ UserName: w.name, AccessKeyId: w2 }));
    fail(iam(), 'UpdateAccessKeyCommand', ACCESS_DENIED, { when: (x) => x.AccessKeyId === w1 });
    const half = await execute(k, r.data);
    expect(half.lines[0]).toBe(`:rotating_light: *NOT fully contained*: \`${w1}\` is still *Active*; deleted since the listing: \`${w2}\`.`);
    expect(half.failures).toEqual([expect.stringMatching(new RegExp(`^${w1} was NOT deactivated: `))]);
  });

  it('a key deleted, with ListAccessKeys refused at approval and after: counted out of the keys, so a replacement is still offered', async () => {
    const u = await user(2);
    const [k1, k2] = u.keys as [string, string];
    const i = input(u.name);
    const p = await plan(i);
    await iam().send(new DeleteAccessKeyCommand({ UserName: u.name, AccessKeyId: k2 }));
    fail(iam(), 'ListAccessKeysCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(out.lines[0]).toMatch(new RegExp(`^:lock: \\*Contained\\* at <!date[^>]+>: 1 access key of \`${u.name}\` is Inactive: \`${k1}\`; deleted since the listing: \`${k2}\`\\.$`));
    expect(out.lines.join('\n')).not.toContain('needs room');
    expect(out.next?.map((s) => s.label)).toEqual(['Deny all + revoke console', 'Create replacement key']);
  });

  it('a key the check after does not list was deleted since, not Inactive; --key naming a key deleted since the listing is contained', async () => {
    const u = await user(2);
    const [k1, k2] = u.keys as [string, string];
    const i = input(u.name);
    const p = await plan(i);
    // k2 deleted right after it was set Inactive: the listing after has k1 alone
    rewrite<ListAccessKeysCommandOutput>(iam(), 'ListAccessKeysCommand', (out) => ({ ...out, AccessKeyMetadata: (out.AccessKeyMetadata ?? []).filter((k) => k.AccessKeyId !== k2) }));

    const out = await execute(i, p.data);

    expect(out.lines[0]).toMatch(new RegExp(`^:lock: \\*Contained\\* at <!date[^>]+>: 1 access key of \`${u.name}\` is Inactive \\(checked with ListAccessKeys\\): \`${k1}\`; deleted since the listing: \`${k2}\`\\.$`));
    undoFaults();

    const v = await user(1);
    const j = input(v.name, { key: v.keys[0] });
    const q = await plan(j);
    await iam().send(new DeleteAccessKeyCommand({ UserName: v.name, AccessKeyId: v.keys[0] }));
    const one = await execute(j, q.data);
    expect(one.lines[0]).toBe(`:lock: *Contained*: deleted since the listing: \`${v.keys[0]}\`.`);
    expect(one.failures).toEqual([]);
    expect(one.ok).toBe(true);
  });

  it('keys swapped while the approval waited (one deleted, one made) and one refused: each named for what it is; both planned keys deleted, both named', async () => {
    const u = await user(2);
    const [k1, k2] = u.keys as [string, string];
    const i = input(u.name);
    const p = await plan(i);
    await iam().send(new DeleteAccessKeyCommand({ UserName: u.name, AccessKeyId: k2 }));
    const k3 = (await iam().send(new CreateAccessKeyCommand({ UserName: u.name }))).AccessKey?.AccessKeyId ?? '';
    fail(iam(), 'UpdateAccessKeyCommand', ACCESS_DENIED, { when: (x) => x.AccessKeyId === k1 });

    const out = await execute(i, p.data);

    expect(await statuses(u.name)).toEqual({ [k1]: 'Active', [k3]: 'Inactive' });
    expect(out.lines[0]).toBe(`:rotating_light: *NOT fully contained*: \`${k1}\` is still *Active*; Inactive: \`${k3}\`; deleted since the listing: \`${k2}\`.`);
    undoFaults();

    const v = await user(2);
    const j = input(v.name);
    const q = await plan(j);
    for (const k of v.keys) await iam().send(new DeleteAccessKeyCommand({ UserName: v.name, AccessKeyId: k }));
    const both = await execute(j, q.data);
    expect(both.lines[0]).toBe(`:lock: *Contained*: deleted since the listing: ${codes(v.keys)}.`);
  });

  it('a key made while the approval waited, with ListAccessKeys refused after: counted in, so no replacement is offered', async () => {
    const u = await user(1);
    const i = input(u.name);
    const p = await plan(i);
    await iam().send(new CreateAccessKeyCommand({ UserName: u.name }));
    // the listing at approval answers; the check after is refused
    let lists = 0;
    fail(iam(), 'ListAccessKeysCommand', ACCESS_DENIED, { when: () => ++lists > 1 });

    const out = await execute(i, p.data);

    expect(out.lines).toContain('• A replacement key needs room: IAM allows 2 keys and the user has 2; delete one (after review) before `--new-key`.');
    expect(out.next?.map((s) => s.label)).toEqual(['Deny all + revoke console']);
  });

  it('a key whose deactivation was refused and that was deleted before the check: contained, and not a failure', async () => {
    const u = await user(1);
    const [k] = u.keys as [string];
    const i = input(u.name, { key: k });
    const p = await plan(i);
    // refused, then deleted (by someone else) before the listing after
    fail(iam(), 'UpdateAccessKeyCommand', ACCESS_DENIED);
    stub(iam(), 'ListAccessKeysCommand', () => ({ AccessKeyMetadata: [], IsTruncated: false }));

    const out = await execute(i, p.data);

    expect(out.lines[0]).toBe(`:lock: *Contained*: deleted since the listing: \`${k}\`.`);
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
  });

  it('a run that finds nothing: every line of the report, and what still needs a human', async () => {
    const u = await user(1);
    const i = input(u.name);
    const p = await plan(i);

    const out = await execute(i, p.data);

    const since = slackSince(p.data.since);
    expect(out.lines).toEqual([
      expect.stringMatching(new RegExp(`^:lock: \\*Contained\\* at <!date[^>]+>: 1 access key of \`${u.name}\` is Inactive \\(checked with ListAccessKeys\\): \`${u.keys[0]}\`\\.$`)),
      `:mag: *Found* in CloudTrail since ${since} in \`${EAST}\` and \`${WEST}\`: 0 events, 0 write calls.`,
      `:broom: No instance was launched by \`${u.name}\` or since ${since} in the configured regions.`,
      ':bust_in_silhouette: *Still needs a human*:',
      '• Consider *Deny all + revoke console*: an inactive key cannot sign, but the user may have a console password.',
      '• Find where the key leaked and rotate whatever used it (the replacement key lives in Secrets Manager); delete the inactive keys once reviewed.',
    ]);
    expect(out.next).toEqual([
      { label: 'Deny all + revoke console', command: `compromise ${u.name} --since ${p.data.since} --lock`, style: 'danger' },
      { label: 'Create replacement key', command: `compromise ${u.name} --since ${p.data.since} --new-key` },
    ]);
  });

  it('each checkpoint named as a replay finds it: CloudTrail read two pages a step, a durable second between steps of a region', async () => {
    const u = await user(1);
    const k = u.keys[0]!;
    await iam().send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Tr0ub4dor&3-long-enough' }));
    denyAll(u.name, false);
    // 60 events by the user's name (two pages), none by its key (one page): three calls in us-east-1, one and one in us-west-2
    trail.record(EAST, Array.from({ length: 60 }, (_, j) => ({ ...ev('not-this-name', k, 'DescribeRegions', EAST, { readOnly: true, hoursAgo: 1 + j / 1_000 }), Username: u.name, AccessKeyId: 'AKIAOTHERKEY00000000' })));
    const i = input(u.name, { lock: true, newKey: true });
    const p = await plan(i);

    const out = await rig.executeWatched(contain, i, p.data);

    expect(out.checkpoints).toEqual([
      'keys-at-approval',
      `deactivate ${k}`,
      'progress-keys-0',
      'verify-keys',
      'deny-all',
      'console-password',
      'replacement-key',
      'investigation-window',
      `cloudtrail ${EAST} 0`,
      `cloudtrail-pace ${EAST} 1 (wait 1 s)`,
      `cloudtrail ${EAST} 1`,
      `cloudtrail ${WEST} 0`,
      'post-events',
      `instances ${EAST}`,
      `instances ${WEST}`,
    ]);
    expect(out.lines[3]).toContain(': 60 events, 0 write calls:');
    expect(out.ok).toBe(true);
  });

  it('--lock in another partition: AWSDenyAll attached by the ARN the plan found, not the commercial one', async () => {
    const u = await user(1);
    const calls = denyAll(u.name, false);
    const i = input(u.name, { lock: true });
    const p = await plan(i);
    const gov = 'arn:aws-us-gov:iam::aws:policy/AWSDenyAll';

    await execute(i, { ...p.data, lock: { denyAll: false, console: false, policyArn: gov } });

    expect(calls).toEqual([{ UserName: u.name, PolicyArn: gov }]);
  });

  it('--new-key refused: no replacement, and no button offering one again', async () => {
    const u = await user(1);
    fail(iam(), 'CreateAccessKeyCommand', ACCESS_DENIED);
    const i = input(u.name, { newKey: true });
    const out = await execute(i, (await plan(i)).data);
    expect(Object.keys(await statuses(u.name))).toEqual([u.keys[0]]);
    expect(out.failures).toEqual([expect.stringMatching(/^No replacement key: .*not authorized/)]);
    expect(out.next?.map((s) => s.label)).toEqual(['Deny all + revoke console']);
  });

  it('instances that cannot be listed in one region: named with what to check, the other region still listed', async () => {
    const u = await user(1);
    const [east] = await launchNamed(EAST, 1, 'east');
    fail(ec2(WEST), 'DescribeInstancesCommand', ACCESS_DENIED);
    const i = input(u.name);
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([`Instances in ${WEST} could not be listed (ec2:DescribeInstances on \`${WEST}\` failed: User is not authorized to perform this action): check the EC2 console for instances launched since ${p.data.since}.`]);
    expect(out.lines).toContain(`:broom: *To clean up*: 1 instance launched by \`${u.name}\` or since ${slackSince(p.data.since)}:`);
    expect(out.lines.join('\n')).toContain(east!);
  });

  it('the instances the user launched come first, newest first, then the others newest first', async () => {
    const u = await user(1);
    const k = u.keys[0]!;
    const [mine1, mine2, other1, other2] = await launchNamed(EAST, 4, 'n');
    const hour = 3_600_000;
    launchedAt(EAST, { [mine1!]: new Date(Date.now() - 5 * hour), [other1!]: new Date(Date.now() - 4 * hour), [mine2!]: new Date(Date.now() - 3 * hour), [other2!]: new Date(Date.now() - 2 * hour) });
    trail.record(EAST, [
      ev(u.name, k, 'RunInstances', EAST, { hoursAgo: 5, response: { instancesSet: { items: [{ instanceId: mine1 }] } } }),
      ev(u.name, k, 'RunInstances', EAST, { hoursAgo: 3, response: { instancesSet: { items: [{ instanceId: mine2 }] } } }),
    ]);
    const i = input(u.name);

    const out = await execute(i, (await plan(i)).data);

    expect(out.lines.map((l) => l.match(/^• `(i-[0-9a-f]+)`/)?.[1]).filter(Boolean)).toEqual([mine2, mine1, other2, other1]);
  });

  it('exactly six IAM changes: all shown, no "…and more"; more than five policy changes: five named for review', async () => {
    const u = await user(1);
    const k = u.keys[0]!;
    trail.record(EAST, Array.from({ length: 6 }, (_, j) => ev(u.name, k, 'CreatePolicy', EAST, { source: 'iam.amazonaws.com', request: { policyName: `p${j}` }, hoursAgo: 2 - j / 100 })));
    const i = input(u.name);

    const out = await execute(i, (await plan(i)).data);

    expect(out.lines.filter((l) => l.startsWith('• `CreatePolicy` `p'))).toHaveLength(6);
    expect(out.lines.filter((l) => l.startsWith('• …and'))).toEqual([]);
    expect(out.lines).toContain('• Review the policy changes: `CreatePolicy p0`, `CreatePolicy p1`, `CreatePolicy p2`, `CreatePolicy p3`, `CreatePolicy p4`.');
  });

  it('what the user did in IAM: each kind of change for a human to undo, the lines cut at six', async () => {
    const u = await user(1);
    const k = u.keys[0]!;
    const iamEv = (name: string, request: Record<string, unknown>, hoursAgo: number) => ev(u.name, k, name, EAST, { source: 'iam.amazonaws.com', request, hoursAgo });
    trail.record(EAST, [
      iamEv('CreateUser', { userName: 'backdoor-1' }, 3),
      iamEv('CreateUser', { userName: 'backdoor-2' }, 2.9),
      iamEv('CreateAccessKey', { userName: 'ops-admin' }, 2.8),
      iamEv('CreateAccessKey', { userName: 'ci-deployer' }, 2.7),
      iamEv('CreatePolicy', { policyName: 'everything' }, 2.6),
      iamEv('PutUserPolicy', { userName: 'backdoor-1', policyName: 'inline' }, 2.5),
      iamEv('AttachRolePolicy', { roleName: 'spawn-app', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, 2.4),
    ]);
    const i = input(u.name);

    const out = await execute(i, (await plan(i)).data);

    expect(out.lines.filter((l) => /^• `(Create|Put|Attach)\w+`/.test(l))).toHaveLength(6);
    expect(out.lines).toContain('• …and 1 more IAM change');
    const human = out.lines.slice(out.lines.indexOf(':bust_in_silhouette: *Still needs a human*:') + 1);
    expect(human.slice(0, 3)).toEqual([
      '• Delete the IAM users it created, after review: `backdoor-1`, `backdoor-2` (a restore never deletes users).',
      '• Deactivate the access keys it created for `ops-admin`, `ci-deployer`.',
      '• Review the policy changes: `CreatePolicy everything`, `PutUserPolicy backdoor-1`.',
    ]);
  });

  it('UpdateAccessKey denied on one key: the other is contained; the report says NOT fully contained, which key, and what to do', async () => {
    const u = await user(2);
    const [k1, k2] = u.keys as [string, string];
    const i = input(u.name);
    const p = await plan(i);
    fail(iam(), 'UpdateAccessKeyCommand', ACCESS_DENIED, { when: (x) => x.AccessKeyId === k1 });

    const out = await execute(i, p.data);

    expect(await statuses(u.name)).toEqual({ [k1]: 'Active', [k2]: 'Inactive' });
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([expect.stringMatching(new RegExp(`^${k1} was NOT deactivated: .*not authorized`))]);
    expect(out.lines[0]).toBe(`:rotating_light: *NOT fully contained*: \`${k1}\` is still *Active*; Inactive: \`${k2}\`.`);
    expect(out.lines).toContain(`• Deactivate \`${k1}\` now (IAM console, or run this command again).`);
    expect(out.reports.map((r) => r[0])).toEqual([1, 2]);
  });

  it('every key refused, and ListAccessKeys refused after: both keys reported Active, from the refusals alone', async () => {
    const u = await user(2);
    const i = input(u.name);
    const p = await plan(i);
    fail(iam(), 'UpdateAccessKeyCommand', ACCESS_DENIED);
    fail(iam(), 'ListAccessKeysCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(out.lines[0]).toBe(`:rotating_light: *NOT fully contained*: ${codes(u.keys)} are still *Active*.`);
    expect(out.lines).toContain(`• Deactivate ${codes(u.keys)} now (IAM console, or run this command again).`);
    expect(out.failures).toHaveLength(2);
  });

  it('ListAccessKeys refused after the keys were set Inactive: contained, without claiming the check', async () => {
    const u = await user(1);
    const i = input(u.name, { key: u.keys[0] });
    const p = await plan(i);
    fail(iam(), 'ListAccessKeysCommand', ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(out.lines[0]).toMatch(new RegExp(`^:lock: \\*Contained\\* at <!date[^>]+>: 1 access key of \`${u.name}\` is Inactive: \`${u.keys[0]}\`\\.$`));
    expect(out.ok).toBe(true);
  });

  it('a user with no keys: said, nothing deactivated; CloudTrail still read by user name', async () => {
    const u = await user(0);
    trail.record(WEST, [ev(u.name, 'ASIATEMPORARY0000000', 'ConsoleLogin', WEST, { source: 'signin.amazonaws.com', hoursAgo: 2 })]);
    const i = input(u.name);
    const out = await execute(i, (await plan(i)).data);
    expect(out.lines[0]).toBe(`:information_source: \`${u.name}\` has no access keys to deactivate.`);
    expect(out.lines[1]).toContain(': 1 event, 1 write call; writes first:');
    expect(out.reports).toEqual([]);
  });

  it('--lock: AWSDenyAll attached by its ARN alone and the console password deleted; again: attached already, no password', async () => {
    const u = await user(1);
    await iam().send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Tr0ub4dor&3-long-enough' }));
    const calls = denyAll(u.name, false);
    const i = input(u.name, { lock: true });
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(calls).toEqual([{ UserName: u.name, PolicyArn: DENY_ALL }]);
    await expect(iam().send(new GetLoginProfileCommand({ UserName: u.name }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    expect(out.lines[1]).toBe(":no_entry: *Locked*: AWS's managed policy `AWSDenyAll` is attached and denies every action; the console password is deleted.");
    expect(out.next?.map((s) => s.label)).not.toContain('Deny all + revoke console');
    expect(out.lines.join('\n')).not.toContain('Consider *Deny all');

    const again = await execute(input(u.name, { lock: true }), p.data);
    expect(calls).toHaveLength(1);
    expect(again.lines[1]).toBe(":no_entry: *Locked*: AWS's managed policy `AWSDenyAll` was attached already and denies every action; it had no console password.");
  });

  it('--lock refused on both parts: the keys are contained and each part the report says was NOT done', async () => {
    const u = await user(1);
    await iam().send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Tr0ub4dor&3-long-enough' }));
    stub(iam(), 'ListAttachedUserPoliciesCommand', () => ({ AttachedPolicies: [], IsTruncated: false }));
    fail(iam(), 'AttachUserPolicyCommand', ACCESS_DENIED);
    fail(iam(), 'DeleteLoginProfileCommand', ACCESS_DENIED);
    const i = input(u.name, { lock: true });
    const p = await plan(i);

    const out = await execute(i, { ...p.data, lock: { denyAll: false, console: true } });

    expect(await statuses(u.name)).toEqual({ [u.keys[0]!]: 'Inactive' });
    expect(await iam().send(new GetLoginProfileCommand({ UserName: u.name }))).toMatchObject({ LoginProfile: { UserName: u.name } });
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([expect.stringMatching(/^The deny-all policy `AWSDenyAll` was NOT attached: .*not authorized/), expect.stringMatching(/^The console password was NOT deleted: .*not authorized/)]);
    expect(out.lines.join('\n')).not.toContain('*Locked*');
  });

  it('--new-key: the key is written into Secrets Manager and only its ID and ARN reported; at two keys none is made and the report says why', async () => {
    const u = await user(1);
    const i = input(u.name, { newKey: true });
    const p = await plan(i);

    const out = await execute(i, p.data);

    const secret = await rig.moto().clients.secretsManager(EAST).send(new DescribeSecretCommand({ SecretId: `drbot/compromise/${u.name}/${i.runId}` }));
    const made = Object.keys(await statuses(u.name)).find((k) => k !== u.keys[0]) ?? '';
    expect(made).toMatch(/^AKIA/);
    expect(out.lines).toContain(`:key: *Replacement key* \`${made}\` is in Secrets Manager: \`${secret.ARN}\` (its secret is shown nowhere else).`);
    expect(out.next?.map((s) => s.label)).toEqual(['Deny all + revoke console']);
    expect(out.ok).toBe(true);

    const full = await user(2);
    const j = input(full.name, { newKey: true });
    const full2 = await execute(j, (await plan(j)).data);
    expect(Object.keys(await statuses(full.name))).toHaveLength(2);
    expect(full2.failures).toEqual([expect.stringMatching(/^No replacement key: .*already has IAM's limit of 2 access keys/)]);
    expect(full2.lines).toContain("• A replacement key needs room: IAM allows 2 keys and the user has 2; delete one (after review) before `--new-key`.");
    expect(full2.next?.map((s) => s.label)).toEqual(['Deny all + revoke console']);
  });

  it('CloudTrail: each lookup cut at 40 pages and said so; a region refused is named and the other still read', async () => {
    const u = await user(1);
    const k = u.keys[0]!;
    // 41 pages of the user's name (50 events a page), none by key: the lookup by key finds nothing
    trail.record(EAST, Array.from({ length: 2_030 }, (_, j) => ({ ...ev('not-this-name', k, 'DescribeRegions', EAST, { readOnly: true, hoursAgo: 1 + j / 10_000 }), Username: u.name, AccessKeyId: 'AKIAOTHERKEY00000000' })));
    trail.record(WEST, [ev(u.name, k, 'ListBuckets', WEST, { source: 's3.amazonaws.com', readOnly: true })]);
    // the attribute of each LookupEvents call
    const pages: string[] = [];
    rewrite(rig.moto().clients.cloudtrail(EAST), 'LookupEventsCommand', (o: object, x) => {
      pages.push(String((x.LookupAttributes as { AttributeKey?: string }[] | undefined)?.[0]?.AttributeKey));
      return o;
    });
    const i = input(u.name);
    const p = await plan(i);

    const out = await execute(i, p.data);

    // 40 pages by name (cut), then 1 by key
    expect(pages.filter((a) => a === 'Username')).toHaveLength(40);
    expect(pages.filter((a) => a === 'AccessKeyId')).toHaveLength(1);
    expect(out.lines[1]).toBe(`:mag: *Found* in CloudTrail since ${slackSince(p.data.since)} in \`${EAST}\` and \`${WEST}\`: 2,001 events, 0 write calls (:warning: more than 2,000 events for one lookup: the rest is in the console):`);
    expect(out.ok).toBe(true);

    fail(rig.moto().clients.cloudtrail(WEST), 'LookupEventsCommand', ACCESS_DENIED);
    const v = await user(1);
    trail.record(EAST, [ev(v.name, v.keys[0]!, 'ListUsers', EAST, { source: 'iam.amazonaws.com', readOnly: true })]);
    const j = input(v.name);
    const denied = await execute(j, (await plan(j)).data);
    expect(await statuses(v.name)).toEqual({ [v.keys[0]!]: 'Inactive' });
    expect(denied.ok).toBe(false);
    expect(denied.failures).toEqual([
      `CloudTrail in us-west-2 could not be read (cloudtrail:LookupEvents on \`Username=${v.name} in us-west-2\` failed: User is not authorized to perform this action): look the user up in that region's CloudTrail console. Grant the bot's role permission for \`cloudtrail:LookupEvents\` on this resource (see template.yaml).`,
    ]);
    expect(denied.lines[1]).toContain(': 1 event, 0 write calls:');
  });

  it('the full list goes in the run message\'s thread; a thread Slack refuses is said, and the run still ends', async () => {
    const u = await user(1);
    trail.record(EAST, [ev(u.name, u.keys[0]!, 'RunInstances', EAST), ev(u.name, u.keys[0]!, 'DescribeRegions', EAST, { readOnly: true })]);
    const i = input(u.name);
    const p = await plan(i);
    const posted: Array<{ channel: string; message: SlackMessage; threadTs?: string }> = [];

    const ok = await executeWith(i, p.data, async (channel, message, opts) => {
      posted.push({ channel, message, ...(opts?.threadTs ? { threadTs: opts.threadTs } : {}) });
      return { channel, ts: `2.${posted.length}` };
    });

    expect(posted).toEqual([{ channel: 'C1', message: expect.objectContaining({ text: expect.any(String) }), threadTs: '1.000' }]);
    expect(JSON.stringify(posted[0]?.message)).toContain('RunInstances');
    expect(ok.lines).toContain('The full list (2 of 2 events) is in this message\'s thread.');

    const v = await user(1);
    trail.record(EAST, [ev(v.name, v.keys[0]!, 'RunInstances', EAST)]);
    const j = input(v.name);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const refused = await executeWith(j, (await plan(j)).data, () => Promise.reject(new Error(`slack: 500 ${'x'.repeat(300)}`)));
      expect(refused.lines).toContain('The full list could not be posted in the thread (Slack refused it): look the user up in the CloudTrail console.');
      expect(refused.ok).toBe(true);
      // the refusal logged, its error cut at 200 characters
      expect(warn.mock.calls.map((c) => JSON.parse(String(c[0])) as unknown)).toEqual([{ level: 'WARN', message: 'event list not posted in the thread', runId: j.runId, error: `slack: 500 ${'x'.repeat(189)}` }]);
      // a refusal that is not an Error is logged as what it is
      warn.mockClear();
      const v2 = await user(1);
      trail.record(EAST, [ev(v2.name, v2.keys[0]!, 'RunInstances', EAST)]);
      const j2 = input(v2.name);
      const odd = await executeWith(j2, (await plan(j2)).data, () => Promise.reject(undefined));
      expect(odd.lines).toContain('The full list could not be posted in the thread (Slack refused it): look the user up in the CloudTrail console.');
      expect(warn.mock.calls.map((c) => JSON.parse(String(c[0])) as unknown)).toEqual([{ level: 'WARN', message: 'event list not posted in the thread', runId: j2.runId, error: 'undefined' }]);
    } finally {
      warn.mockRestore();
    }

    // 300 events take more than one thread message: the second refused
    const w = await user(1);
    trail.record(EAST, Array.from({ length: 300 }, (_, k) => ev(w.name, w.keys[0]!, 'DescribeRegions', EAST, { readOnly: true, hoursAgo: 1 + k / 1_000 })));
    const k = input(w.name);
    let sent = 0;
    const part = await executeWith(k, (await plan(k)).data, (channel) => (++sent === 1 ? Promise.resolve({ channel, ts: '2.1' }) : Promise.reject(new Error('slack: 500'))));
    expect(sent).toBe(2);
    expect(part.lines).toContain("Part of the list is in this message's thread; Slack refused the rest: look the user up in the CloudTrail console.");
  });

  it('a long report is cut to one Slack section: event groups first, then instances, each with how many more', async () => {
    const u = await user(1);
    trail.record(EAST, Array.from({ length: 30 }, (_, j) => ev(u.name, u.keys[0]!, `Action${j}WithAVeryLongNameToFillTheReport`, EAST, { hoursAgo: 1 + j / 100 })));
    await launchNamed(EAST, 10, 'a-name-long-enough-to-make-every-instance-line-of-the-report-long');
    const i = input(u.name);
    const out = await execute(i, (await plan(i)).data);
    expect(out.lines.join('\n').length).toBeLessThanOrEqual(2_900);
    const shown = out.lines.filter((l) => l.startsWith('• *write* `Action'));
    const instances = out.lines.filter((l) => /^• `i-/.test(l));
    // eight of each run over: the groups go down to two, then the instances to five
    expect([shown.length, instances.length]).toEqual([2, 5]);
    expect(out.lines).toContain('• …and 28 more groups');
    expect(out.lines).toContain('• …and 5 more instances');
  });

  it('more than 50 instances: the button terminates the first 50 listed; exactly 50, all listed', async () => {
    const u = await user(1);
    const fifty = await launchNamed(EAST, 50, 'fleet');
    const h = input(u.name);
    const all = await execute(h, (await plan(h)).data);
    const every = all.next?.find((s) => s.style === 'danger' && s.command.includes('--terminate'));
    expect(every?.label).toBe('Terminate all listed');
    expect(every?.command.split('--terminate ')[1]?.split(',').sort()).toEqual([...fifty].sort());

    const ids = [...fifty, ...(await launchNamed(EAST, 1, 'fleet'))];
    const i = input(u.name);
    const p = await plan(i);
    const out = await execute(i, p.data);
    const button = out.next?.find((s) => s.style === 'danger' && s.command.includes('--terminate'));
    expect(button?.label).toBe('Terminate the first 50 listed');
    expect(button?.command.split('--terminate ')[1]?.split(',')).toHaveLength(50);
    expect(out.lines).toContain(`:broom: *To clean up*: 51 instances launched by \`${u.name}\` or since ${slackSince(p.data.since)}:`);
    expect(out.lines).toContain('• …and 43 more instances');
    // the 50 are instances of the listing: the user's fleet
    expect(ids).toEqual(expect.arrayContaining(button?.command.split('--terminate ')[1]?.split(',') ?? ['none']));
  });
});

describe('fitReport: the most bullets that fit the result\'s section', () => {
  // 10 of each available: group lines of `gLen` characters, instance and IAM lines of 99 (100 with the newline)
  const report = (gLen = 99) => (g: number, i: number, m: number) => [...Array<string>(Math.min(g, 10)).fill('g'.repeat(gLen)), ...Array<string>(Math.min(i, 10)).fill('i'.repeat(99)), ...Array<string>(Math.min(m, 10)).fill('m'.repeat(99))];
  const shape = (lines: string[]) => ['g', 'i', 'm'].map((c) => lines.filter((l) => l.startsWith(c)).length);

  it('everything when it fits, counting the newlines, up to the budget itself', () => {
    // 8 groups, 8 instances, 6 IAM changes: 22 lines of 99 and 21 newlines
    expect(shape(fitReport(report(), 22 * 100 - 1))).toEqual([8, 8, 6]);
    expect(shape(fitReport(report(), 22 * 100 - 2))).toEqual([7, 8, 6]);
  });

  it('groups cut first, down to two; then instances down to one; then IAM changes with one group and one instance', () => {
    expect(shape(fitReport(report(), 16 * 100 - 1))).toEqual([2, 8, 6]);
    expect(shape(fitReport(report(), 15 * 100 - 1))).toEqual([2, 7, 6]);
    expect(shape(fitReport(report(), 9 * 100 - 1))).toEqual([2, 1, 6]);
    expect(shape(fitReport(report(), 7 * 100 - 1))).toEqual([1, 1, 5]);
    // long group lines: two groups with an instance and six IAM changes do not fit, one group with the six does (seven would too: never more than six)
    expect(shape(fitReport(report(299), 300 + 100 + 7 * 100))).toEqual([1, 1, 6]);
  });

  it('nothing fits: the smallest report, one of each', () => {
    expect(shape(fitReport(report(), 0))).toEqual([1, 1, 1]);
  });
});

describe('--terminate', () => {
  const tplan = (i: CompromiseInput) => terminateListed.plan(rig.deps(), i);

  it('plans the named instances still alive in either region, names those terminated already, refuses an ID in neither', async () => {
    const [a] = await launchNamed(EAST, 1, 'a');
    const [b] = await launchNamed(WEST, 1, 'b');
    const [gone, gone2] = await launchNamed(EAST, 2, 'gone');
    await ec2(EAST).send(new TerminateInstancesCommand({ InstanceIds: [gone!, gone2!] }));

    const p = await tplan(input('u', { terminate: [a!, b!, gone!, gone2!] }));

    expect(p.data).toEqual({ byRegion: { [EAST]: [a], [WEST]: [b] } });
    expect(p.empty).toBeUndefined();
    expect(p.lines[0]).toBe('*2 instances* will be terminated (their EBS volumes deleted as their settings say; nothing else is touched):');
    expect(p.lines.slice(1, 3)).toEqual([expect.stringMatching(new RegExp(`^• \`${a}\` \`t3\\.micro\` in \`us-east-1\`, running`)), expect.stringMatching(new RegExp(`^• \`${b}\` \`t3\\.micro\` in \`us-west-2\``))]);
    expect(p.lines[3]).toBe(`Already terminated: \`${gone}\`, \`${gone2}\``);
    expect(p.lines).toHaveLength(4);
    expect((await tplan(input('u', { terminate: [a!], dryRun: true }))).lines[0]).toBe('*1 instance* would be terminated (their EBS volumes deleted as their settings say; nothing else is touched):');

    const all = await tplan(input('u', { terminate: [gone!] }));
    expect(all).toMatchObject({ empty: true, data: { byRegion: {} }, lines: ['Every named instance is terminated already.', `Already terminated: \`${gone}\``] });

    await expect(tplan(input('u', { terminate: [a!, 'i-0000000000000dead', 'i-0000000000000beef'] }))).rejects.toMatchObject({
      code: 'unknown_instance',
      message: '`i-0000000000000dead`, `i-0000000000000beef` are not an instance in `us-east-1` or `us-west-2`; nothing was terminated.',
      hint: 'Use the IDs the compromise report listed.',
    });
    await expect(tplan(input('u', { terminate: ['i-0000000000000dead'] }))).rejects.toMatchObject({ message: expect.stringContaining('` is not an instance in') });
  });

  it('more than 20: the plan shows 20 and how many more; exactly 20, all of them', async () => {
    const ids = await launchNamed(EAST, 22, 'many');
    const p = await tplan(input('u', { terminate: ids }));
    expect(p.lines).toHaveLength(22);
    expect(p.lines[21]).toBe('• …and 2 more');
    const twenty = await tplan(input('u', { terminate: ids.slice(0, 20) }));
    expect(twenty.lines).toHaveLength(21);
    expect(twenty.lines[20]).toMatch(/^• `i-[0-9a-f]+` `t3\.micro`/);
  });

  it('terminates exactly the planned instances and checks each; one region refused: those NOT terminated, named, and what to do', async () => {
    const [a, keep] = await launchNamed(EAST, 2, 'a');
    const [b] = await launchNamed(WEST, 1, 'b');
    const i = input('u', { terminate: [a!, b!] });
    const p = (await tplan(i)).data;

    const out = await rig.execute(terminateListed, i, p);

    const states = await instanceStates(ec2(EAST), [a!, keep!]);
    expect(states).toEqual({ [a!]: expect.stringMatching(/^(shutting-down|terminated)$/), [keep!]: 'running' });
    expect(out.ok).toBe(true);
    expect(out.failures).toEqual([]);
    expect(out.lines[0]).toMatch(new RegExp(`^:broom: Terminated \\*2\\* of 2 instances: \`${a}\` \\((shutting-down|terminated)\\), \`${b}\` \\((shutting-down|terminated)\\)\\.$`));
    expect(out.lines[1]).toBe('The other follow-ups stay commands: `/dr compromise u --lock`, `--new-key`, `/dr restore iam --all`.');

    const [c] = await launchNamed(EAST, 1, 'c');
    const [d, e] = await launchNamed(WEST, 2, 'd');
    fail(ec2(WEST), 'TerminateInstancesCommand', ACCESS_DENIED);
    const j = input('u', { terminate: [c!, d!, e!] });
    const denied = await rig.executeWatched(terminateListed, j, (await tplan(j)).data);
    expect(await instanceStates(ec2(WEST), [d!, e!])).toEqual({ [d!]: 'running', [e!]: 'running' });
    expect(denied.ok).toBe(false);
    expect(denied.failures).toEqual([
      `${d}, ${e} in us-west-2 were NOT terminated: ec2:TerminateInstances on \`2 instance(s) in us-west-2\` failed: User is not authorized to perform this action. Grant the bot's role permission for \`ec2:TerminateInstances\` on this resource (see template.yaml).`,
    ]);
    expect(denied.lines[0]).toMatch(new RegExp(`^:broom: Terminated \\*1\\* of 3 instances: \`${c}\``));
    expect(denied.lines[1]).toBe(`:x: Still running or unknown: \`${d}\`, \`${e}\`. Terminate them in the EC2 console.`);
    // each region terminated, then each checked, as a replay finds them
    expect(denied.checkpoints).toEqual([`terminate ${EAST}`, `terminate ${WEST}`, `verify ${EAST}`, `verify ${WEST}`]);
  });

  it('TerminateInstances answers an error after it acted: the check shows them ended, and nothing is claimed NOT terminated', async () => {
    const [a] = await launchNamed(EAST, 1, 'a');
    const i = input('u', { terminate: [a!] });
    const p = (await tplan(i)).data;
    // a 500 after the call reached EC2 (the step's retries get the same answer)
    rewrite(ec2(EAST), 'TerminateInstancesCommand', () => {
      throw sdkError({ name: 'InternalError', message: 'An internal error has occurred', status: 500 });
    });

    const out = await rig.execute(terminateListed, i, p);

    expect(await instanceStates(ec2(EAST), [a!])).toEqual({ [a!]: expect.stringMatching(/^(shutting-down|terminated)$/) });
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.lines[0]).toMatch(new RegExp(`^:broom: Terminated \\*1\\* of 1 instance: \`${a}\` \\((shutting-down|terminated)\\)\\.$`));
  });

  it('an instance the check after no longer finds is not claimed NOT terminated: it is among the unknown, and the failure says it was not found', async () => {
    const [a] = await launchNamed(EAST, 1, 'a');
    const i = input('u', { terminate: [a!] });
    const p = (await tplan(i)).data;
    fail(ec2(EAST), 'TerminateInstancesCommand', ACCESS_DENIED);
    stub(ec2(EAST), 'DescribeInstancesCommand', () => ({ Reservations: [] }));
    const out = await rig.execute(terminateListed, i, p);
    expect(out.failures).toEqual([
      `${a} in us-east-1 was not found by the check after (TerminateInstances had answered: ec2:TerminateInstances on \`1 instance(s) in us-east-1\` failed: User is not authorized to perform this action. Grant the bot's role permission for \`ec2:TerminateInstances\` on this resource (see template.yaml).): check it in the EC2 console.`,
    ]);
    expect(out.ok).toBe(false);
    expect(out.lines[1]).toBe(`:x: Still running or unknown: \`${a}\`. Terminate them in the EC2 console.`);
  });

  it('TerminateInstances answers without error but the check after shows them running, or cannot find one: a run not ok says why', async () => {
    const [a, b, c] = await launchNamed(EAST, 3, 'a');
    const i = input('u', { terminate: [a!, b!, c!] });
    const p = (await tplan(i)).data;
    // an answer that acted on nothing (as if the call had been lost after AWS said yes); c is not in the check's answer
    stub(ec2(EAST), 'TerminateInstancesCommand', () => ({ TerminatingInstances: [] }));
    const seeAll = rewrite(ec2(EAST), 'DescribeInstancesCommand', (out: { Reservations?: { Instances?: { InstanceId?: string }[] }[] }) => ({
      Reservations: (out.Reservations ?? []).map((r) => ({ ...r, Instances: (r.Instances ?? []).filter((x) => x.InstanceId !== c) })),
    }));

    const out = await rig.execute(terminateListed, i, p);
    seeAll();

    expect(await instanceStates(ec2(EAST), [a!, b!, c!])).toEqual({ [a!]: 'running', [b!]: 'running', [c!]: 'running' });
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([
      `${a} (running), ${b} (running) in us-east-1 are not ended, though TerminateInstances answered without error: check them in the EC2 console.`,
      `${c} in us-east-1 was not found by the check after: check it in the EC2 console.`,
    ]);
    expect(out.lines[0]).toBe(':broom: Terminated *0* of 3 instances: none.');

    // one left: "is", "it"
    const [d] = await launchNamed(EAST, 1, 'd');
    const j = input('u', { terminate: [d!] });
    const one = await rig.execute(terminateListed, j, (await tplan(j)).data);
    expect(one.failures).toEqual([`${d} (running) in us-east-1 is not ended, though TerminateInstances answered without error: check it in the EC2 console.`]);
  });

  it('one instance refused: it "was" NOT terminated', async () => {
    const [a] = await launchNamed(EAST, 1, 'a');
    const i = input('u', { terminate: [a!] });
    const p = (await tplan(i)).data;
    fail(ec2(EAST), 'TerminateInstancesCommand', ACCESS_DENIED);
    const out = await rig.execute(terminateListed, i, p);
    expect(out.failures).toEqual([expect.stringMatching(new RegExp(`^${a} in us-east-1 was NOT terminated: ec2:TerminateInstances`))]);
  });

  it('TerminateInstances refused and the check after unreadable: what TerminateInstances said, and nothing claimed either way', async () => {
    const [a] = await launchNamed(EAST, 1, 'a');
    const i = input('u', { terminate: [a!] });
    const p = (await tplan(i)).data;
    fail(ec2(EAST), 'TerminateInstancesCommand', ACCESS_DENIED);
    fail(ec2(EAST), 'DescribeInstancesCommand', ACCESS_DENIED);

    const out = await rig.execute(terminateListed, i, p);

    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([
      "The instances in us-east-1 could not be checked after: ec2:DescribeInstances on `us-east-1` failed: User is not authorized to perform this action. Grant the bot's role permission for `ec2:DescribeInstances` on this resource (see template.yaml). (TerminateInstances had answered: ec2:TerminateInstances on `1 instance(s) in us-east-1` failed: User is not authorized to perform this action. Grant the bot's role permission for `ec2:TerminateInstances` on this resource (see template.yaml).)",
    ]);
    expect(out.lines[1]).toBe(`:x: Still running or unknown: \`${a}\`. Terminate them in the EC2 console.`);
  });

  it('the check after cannot be read: nothing is claimed terminated, and the failure says why', async () => {
    const [a, b] = await launchNamed(EAST, 2, 'a');
    const i = input('u', { terminate: [a!, b!] });
    const p: TerminatePlan = (await tplan(i)).data;
    fail(ec2(EAST), 'DescribeInstancesCommand', ACCESS_DENIED);
    const out = await rig.execute(terminateListed, i, p);
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([
      "The instances in us-east-1 could not be checked after: ec2:DescribeInstances on `us-east-1` failed: User is not authorized to perform this action. Grant the bot's role permission for `ec2:DescribeInstances` on this resource (see template.yaml).",
    ]);
    expect(out.lines[0]).toBe(':broom: Terminated *0* of 2 instances: none.');
    expect(out.lines[1]).toBe(`:x: Still running or unknown: \`${a}\`, \`${b}\`. Terminate them in the EC2 console.`);
  });
});

function slackSince(iso: string): string {
  if (iso.startsWith('<!date')) return iso;
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time}|${iso.slice(0, 16).replace('T', ' ')} UTC>`;
}


/** Executes with a run record (channel C1, ts 1.000) and Slack posts answered by `post`: the event thread. */
async function executeWith(i: CompromiseInput & AnyRunInput, p: ContainPlan, post: RunbookDeps['slack']['post']): Promise<Outcome> {
  const progress: Progress = { report: async () => {} };
  return rig.durable((ctx, d, x) => {
    const store = { getRun: async () => ({ runId: i.runId, channel: 'C1', ts: '1.000' }) as unknown as RunRecord } as unknown as RunbookDeps['store'];
    const deps: RunbookDeps = { ...d, store, slack: { ...d.slack, post } };
    return contain.execute(ctx, deps, x as CompromiseInput & AnyRunInput, p, progress);
  }, i);
}
