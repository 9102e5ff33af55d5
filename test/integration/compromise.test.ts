import { type Event, LookupEventsCommand, type LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  type AttachedPolicy,
  AttachUserPolicyCommand,
  type AttachUserPolicyCommandInput,
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  GetLoginProfileCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { ACCESS_DENIED, countTries, fail, rewrite } from '../helpers/faults';
import { buttons, click, command, ephemeralsFor, executionOf, realNow, recordedSlackWaits, requestRun, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { instanceStates, launch } from '../helpers/ec2-instances';
import { journal } from '../helpers/journal';

/*
 * /dr compromise on the local stack: IAM, EC2 and Secrets Manager are moto; CloudTrail's
 * LookupEvents is aws-sdk-client-mock on the run's own CloudTrail clients (moto lacks LookupEvents),
 * answering with AWS's Event shape (CloudTrailEvent JSON included) and paging (50 a page, NextToken).
 * Faults are SDK middleware on the run's clients (moto neither throttles nor enforces IAM) and the
 * Slack stand-in's 429. --lock attaches AWS's managed AWSDenyAll, which moto knows only when it
 * loads every AWS managed policy (MOTO_IAM_LOAD_MANAGED_POLICIES, slow): AttachUserPolicy and
 * ListAttachedUserPolicies of that user are aws-sdk-client-mock there, every other IAM call moto.
 */

const ACCOUNT = '123456789012';
const IP = '203.0.113.9';
const AGENT = 'aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0';

/** An event as LookupEvents returns it. */
function trailEvent(o: { user: string; keyId: string; name: string; source: string; region: string; at: Date; readOnly: boolean; request?: object; response?: object; ip?: string; agent?: string }): Event {
  const id = randomUUID();
  return {
    EventId: id,
    EventName: o.name,
    ReadOnly: String(o.readOnly),
    AccessKeyId: o.keyId,
    EventTime: o.at,
    EventSource: o.source,
    Username: o.user,
    Resources: [],
    CloudTrailEvent: JSON.stringify({
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:user/${o.user}`, accountId: ACCOUNT, accessKeyId: o.keyId, userName: o.user },
      eventTime: o.at.toISOString(),
      eventSource: o.source,
      eventName: o.name,
      awsRegion: o.region,
      sourceIPAddress: o.ip ?? IP,
      userAgent: o.agent ?? AGENT,
      requestParameters: o.request ?? null,
      responseElements: o.response ?? null,
      requestID: randomUUID(),
      eventID: id,
      readOnly: o.readOnly,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: 'Management',
    }),
  };
}

/** A CloudTrail history for LookupEvents: newest first, one attribute, 50 a page, NextToken as an opaque string. */
function answerLookups(events: readonly Event[]) {
  return (input: LookupEventsCommandInput) => {
    const a = input.LookupAttributes?.[0];
    if ((input.LookupAttributes?.length ?? 0) !== 1) throw Object.assign(new Error('one lookup attribute'), { name: 'InvalidLookupAttributesException' });
    const match = events
      .filter((e) => (a?.AttributeKey === 'Username' ? e.Username === a.AttributeValue : a?.AttributeKey === 'AccessKeyId' ? e.AccessKeyId === a.AttributeValue : false))
      .filter((e) => (!input.StartTime || e.EventTime! >= input.StartTime) && (!input.EndTime || e.EventTime! <= input.EndTime))
      .sort((x, y) => y.EventTime!.getTime() - x.EventTime!.getTime());
    const from = input.NextToken ? Number(input.NextToken.replace('opaque-', '')) : 0;
    const max = Math.min(input.MaxResults ?? 50, 50);
    const more = from + max < match.length;
    return Promise.resolve({ $metadata: {}, Events: match.slice(from, from + max), ...(more ? { NextToken: `opaque-${from + max}` } : {}) });
  };
}

describe('/dr compromise', () => {
  // The posters' waits are recorded, not slept: the Slack fault tests assert the ones their faults caused.
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, progressIntervalMs: 0, slackRetry });
  let stack: LocalStack;
  let iam: IAMClient;
  const trails = { east: undefined as unknown as ReturnType<typeof mockClient>, west: undefined as unknown as ReturnType<typeof mockClient> };
  const history: { east: Event[]; west: Event[] } = { east: [], west: [] };

  async function makeUser(name: string, keys = 2): Promise<string[]> {
    await iam.send(new CreateUserCommand({ UserName: name }));
    const ids: string[] = [];
    for (let i = 0; i < keys; i++) ids.push((await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey?.AccessKeyId ?? '');
    return ids;
  }
  /** aws-sdk-client-mock on the run's IAM client for AWSDenyAll only: every other call goes through to moto. */
  function denyAllMock(user: string, attach: (input: AttachUserPolicyCommandInput) => Promise<object>) {
    const attached: AttachedPolicy[] = [];
    const m = mockClient(iam);
    m.send.callThrough();
    m.on(ListAttachedUserPoliciesCommand, { UserName: user }).callsFake(() => Promise.resolve({ AttachedPolicies: [...attached], IsTruncated: false }));
    m.on(AttachUserPolicyCommand).callsFake(async (input: AttachUserPolicyCommandInput) => {
      const out = await attach(input);
      attached.push({ PolicyName: 'AWSDenyAll', PolicyArn: input.PolicyArn });
      return out;
    });
    return { m, attached };
  }
  const inlinePolicies = async (user: string) => (await iam.send(new ListUserPoliciesCommand({ UserName: user }))).PolicyNames ?? [];
  const statuses = async (user: string) => Object.fromEntries(((await iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));
  const lookups = (region: 'east' | 'west') => trails[region].commandCalls(LookupEventsCommand).map((c) => c.args[0].input as LookupEventsCommandInput);
  const launchNamed = (region: string, count: number, tag: string) => launch(stack.clients.ec2(region), count, { Name: tag });
  const stateOf = (region: string, ids: string[]) => instanceStates(stack.clients.ec2(region), ids);

  beforeAll(() => {
    stack = getStack();
    iam = stack.clients.iam('us-east-1');
    trails.east = mockClient(stack.clients.cloudtrail('us-east-1'));
    trails.west = mockClient(stack.clients.cloudtrail('us-west-2'));
  });
  beforeEach(() => {
    history.east = [];
    history.west = [];
    trails.east.reset();
    trails.west.reset();
    trails.east.on(LookupEventsCommand).callsFake(answerLookups(history.east));
    trails.west.on(LookupEventsCommand).callsFake(answerLookups(history.west));
    stack.standIn.fault = undefined;
  });
  afterAll(() => {
    trails.east?.restore();
    trails.west?.restore();
  });

  it('contains after approval (not by the requester), reads CloudTrail in pages at most 2 calls a second per region (aws-sdk-client-mock: moto lacks LookupEvents), and lists what to clean up', async () => {
    // prepare: 110 events by user name in us-east-1 (3 pages), RunInstances in us-west-2 naming an instance
    const user = 'leaky-1';
    const [k1, k2] = await makeUser(user);
    // the app's clock is the real one; the process's Date is the durable runner's fake (skipTime), which drifts from it
    const now = realNow();
    for (let i = 0; i < 110; i++) history.east.push(trailEvent({ user, keyId: k1!, name: i % 2 ? 'ListBuckets' : 'DescribeInstances', source: i % 2 ? 's3.amazonaws.com' : 'ec2.amazonaws.com', region: 'us-east-1', at: new Date(now - (i + 1) * 60_000), readOnly: true }));
    history.east.push(trailEvent({ user, keyId: k2!, name: 'CreateUser', source: 'iam.amazonaws.com', region: 'us-east-1', at: new Date(now - 5 * 60_000), readOnly: false, request: { userName: 'evil-admin' } }));
    const [west] = await launchNamed('us-west-2', 1, 'miner');
    history.west.push(
      trailEvent({ user, keyId: k1!, name: 'RunInstances', source: 'ec2.amazonaws.com', region: 'us-west-2', at: new Date(now - 30 * 60_000), readOnly: false, response: { instancesSet: { items: [{ instanceId: west }] } } }),
    );
    // older than --since: CloudTrail must not be asked for it, and it is not in the result
    history.east.push(trailEvent({ user, keyId: k1!, name: 'DeleteBucket', source: 's3.amazonaws.com', region: 'us-east-1', at: new Date(now - 3 * 86_400_000), readOnly: false }));

    // act: the requester cannot approve; another approver can
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user} --since 24h`);
    const plan = textOf(message);
    await click(stack, 'alice', message, 'run_approve');
    const before = await statuses(user);
    const lookedUpBefore = lookups('east').length + lookups('west').length;
    await click(stack, 'bob', message, 'run_approve');

    // assess: the plan, and nothing changed until approved
    expect(plan).toContain(`2 access keys will be set *Inactive*: \`${k1}\``);
    expect(lookedUpBefore).toBe(0);
    expect(before).toEqual({ [k1!]: 'Active', [k2!]: 'Active' });
    // both keys Inactive, as IAM says
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive', [k2!]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
    // the lookups: by user name, then by each key ID, each paged with NextToken, one attribute, 50 a page, the window asked
    const east = lookups('east');
    expect(east.map((i) => [i.LookupAttributes?.[0]?.AttributeKey, i.LookupAttributes?.[0]?.AttributeValue, i.NextToken])).toEqual([
      ['Username', user, undefined],
      ['Username', user, 'opaque-50'],
      ['Username', user, 'opaque-100'],
      ['AccessKeyId', k1, undefined],
      ['AccessKeyId', k1, 'opaque-50'],
      ['AccessKeyId', k1, 'opaque-100'],
      ['AccessKeyId', k2, undefined],
    ]);
    for (const i of [...east, ...lookups('west')]) {
      expect(i.LookupAttributes).toHaveLength(1);
      expect(i.MaxResults).toBe(50);
      expect(now - i.StartTime!.getTime()).toBeGreaterThan(23.9 * 3_600_000);
      expect(now - i.StartTime!.getTime()).toBeLessThan(24.1 * 3_600_000);
      // up to the investigation, after the keys were contained (not only to the request)
      expect(i.EndTime!.getTime()).toBeGreaterThanOrEqual(now);
    }
    expect(lookups('west').map((i) => i.LookupAttributes?.[0]?.AttributeKey)).toEqual(['Username', 'AccessKeyId', 'AccessKeyId']);
    // the pace: each step made at most 2 LookupEvents calls, and a durable wait of a second separates two steps of a region
    const ops = executionOf(stack, runId)!.getOperations();
    const trail = ops.filter((o) => /^cloudtrail(-pace)? us-east-1 /.test(o.getName() ?? ''));
    const calls = trail.filter((o) => o.getName()?.startsWith('cloudtrail ')).map((o) => (o.getStepDetails()?.result as { value: { calls: number } }).value.calls);
    expect(calls).toEqual([2, 2, 2, 1]);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(east.length);
    expect(trail.map((o) => (o.getName()?.startsWith('cloudtrail-pace') ? `wait ${o.getWaitDetails()?.waitSeconds}s` : 'lookups'))).toEqual(['lookups', 'wait 1s', 'lookups', 'wait 1s', 'lookups', 'wait 1s', 'lookups']);
    // the report
    const final = stack.standIn.message(message.channel, message.ts);
    const text = textOf(final);
    expect(text).toContain(`*Contained* at`);
    expect(text).toContain('(checked with ListAccessKeys)');
    expect(text).toMatch(/\*Found\* in CloudTrail since .*: 112 events, 2 write calls; writes first:/);
    expect(text.indexOf('*write* `CreateUser`')).toBeLessThan(text.indexOf('`DescribeInstances` ×55'));
    expect(text).toContain(`*write* \`RunInstances\` ×1 in \`us-west-2\` from \`${IP}\` with \`${AGENT}\``);
    expect(text).not.toContain('DeleteBucket');
    expect(text).toContain(`\`${west}\` \`t3.micro\` in \`us-west-2\``);
    expect(text).toContain(`launched by \`${user}\` (CloudTrail)`);
    expect(text).toContain('`CreateUser` `evil-admin`');
    expect(text).toContain('Delete the IAM users it created, after review: `evil-admin`');
    expect(buttons(final).map((b) => b.text)).toEqual(['Deny all + revoke console', 'Terminate all listed']);
    // the whole list in the thread, a line per event
    const thread = stack.standIn.channelMessages(SANDBOX_CHANNEL).filter((m) => m.threadTs === message.ts).map(textOf).join('\n');
    expect(thread.match(/DescribeInstances|ListBuckets|CreateUser|RunInstances/g)).toHaveLength(112);
    expect(text).toContain("The full list (112 of 112 events) is in this message's thread.");
    // approved once, executed once
    const audit = (await stack.store.listAudit(100)).filter((e) => e.runId === runId).map((e) => e.action);
    expect(audit.filter((a) => a === 'result')).toHaveLength(1);
  });

  it('--key deactivates only that key; the other stays Active', async () => {
    // prepare
    const user = 'leaky-2';
    const [k1, k2] = await makeUser(user);

    // act
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user} --key ${k2}`);
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(await statuses(user)).toEqual({ [k1!]: 'Active', [k2!]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(lookups('east').map((i) => i.LookupAttributes?.[0]?.AttributeValue)).toEqual([user, k2]);
    expect(buttons(stack.standIn.message(message.channel, message.ts)).map((b) => b.text)).toContain('Deny all + revoke console');
  });

  it('a key made while the approval waits (an attacker with CreateAccessKey) is contained too, said, and looked up in CloudTrail', async () => {
    // prepare: the plan lists one key; then, before bob approves, a second key appears
    const user = 'leaky-late';
    const [k1] = await makeUser(user, 1);
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user}`);
    const late = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey?.AccessKeyId ?? '';

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: both Inactive, the late one named, and its ID looked up
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive', [late]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = textOf(runMessage(stack.standIn, runId));
    expect(text).toContain('*Contained*');
    expect(text).toContain(`appeared while the approval waited (\`${late}\`)`);
    expect(lookups('east').map((i) => i.LookupAttributes?.[0]?.AttributeValue)).toEqual(expect.arrayContaining([user, k1, late]));
  });

  it('dry run: the plan only; keys stay Active, CloudTrail is not asked, nothing is created', async () => {
    // prepare
    const user = 'leaky-3';
    const [k1] = await makeUser(user, 1);

    // act
    const reply = await command(stack, 'alice', `compromise ${user} --new-key --lock --dry-run`);

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const text = textOf(runMessage(stack.standIn, runId));
    expect(text).toContain(`1 access key would be set *Inactive*: \`${k1}\``);
    expect(text).toContain('the console password does not exist');
    expect(text).toContain('would be created straight into the Secrets Manager secret');
    expect(await statuses(user)).toEqual({ [k1!]: 'Active' });
    expect(text).toContain("*Lock*: AWS's managed policy `AWSDenyAll` (an explicit Deny of every action) would be attached (no inline policy is written)");
    expect(lookups('east')).toHaveLength(0);
    expect((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user }))).AttachedPolicies).toEqual([]);
    expect(await inlinePolicies(user)).toEqual([]);
  });

  it('--new-key: a replacement key stored in Secrets Manager, only its ARN shown; its secret in no message, audit item, log line or checkpoint', async () => {
    // prepare
    const user = 'leaky-4';
    const [k1] = await makeUser(user, 1);

    // act
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user} --new-key`);
    await click(stack, 'bob', message, 'run_approve');

    // assess: the old key Inactive, a new one Active
    const keys = await statuses(user);
    const fresh = Object.keys(keys).find((k) => k !== k1) ?? '';
    expect(keys).toEqual({ [k1!]: 'Inactive', [fresh]: 'Active' });
    // the secret holds the new key; the journal fails the run if its secret half appears anywhere
    const secret = await stack.clients.secretsManager('us-east-1').send(new GetSecretValueCommand({ SecretId: `drbot/compromise/${user}/${runId}` }));
    const value = JSON.parse(secret.SecretString ?? '{}') as { accessKeyId: string; secretAccessKey: string };
    journal('secret', value.secretAccessKey);
    expect(value.accessKeyId).toBe(fresh);
    expect(value.secretAccessKey.length).toBeGreaterThanOrEqual(20);
    const text = textOf(stack.standIn.message(message.channel, message.ts));
    expect(text).toContain(`*Replacement key* \`${fresh}\` is in Secrets Manager: \`${secret.ARN}\``);
    // and directly: not in Slack, not in the audit, not in the run's checkpoints
    const slack = JSON.stringify(stack.standIn.calls);
    expect(slack).not.toContain(value.secretAccessKey);
    expect(JSON.stringify(await stack.store.listAudit(100))).not.toContain(value.secretAccessKey);
    const checkpoints = JSON.stringify(executionOf(stack, runId)!.getOperations().map((o) => o.getOperationData()));
    expect(checkpoints).toContain(secret.ARN);
    expect(checkpoints).not.toContain(value.secretAccessKey);
    expect(buttons(stack.standIn.message(message.channel, message.ts)).map((b) => b.text)).not.toContain('Create replacement key');
  });

  it('--lock: AWSDenyAll attached with exactly that ARN (aws-sdk-client-mock: moto lacks AWS managed policies), no inline policy written, the console password deleted; again: attached already, not attached twice', async () => {
    // prepare
    const user = 'leaky-5';
    await makeUser(user, 1);
    await iam.send(new CreateLoginProfileCommand({ UserName: user, Password: `Pw-${randomUUID()}` }));
    const { m, attached } = denyAllMock(user, () => Promise.resolve({}));

    // act: --lock, approved; then --lock again, approved
    let plan = '';
    let text = '';
    let again = '';
    let againText = '';
    let attachCalls: unknown[] = [];
    let puts = -1;
    try {
      const first = await requestRun(stack, 'alice', `compromise ${user} --lock`);
      plan = textOf(first.message);
      await click(stack, 'bob', first.message, 'run_approve');
      text = textOf(stack.standIn.message(first.message.channel, first.message.ts));
      const second = await requestRun(stack, 'alice', `compromise ${user} --lock`);
      again = textOf(second.message);
      await click(stack, 'bob', second.message, 'run_approve');
      againText = textOf(stack.standIn.message(second.message.channel, second.message.ts));
      attachCalls = m.commandCalls(AttachUserPolicyCommand).map((c) => c.args[0].input);
      puts = m.commandCalls(PutUserPolicyCommand).length;
    } finally {
      m.restore();
    }

    // assess: AWS's end state — exactly AWSDenyAll attached to exactly this user, once; no inline policy (moto); no console password (moto)
    expect(attachCalls).toEqual([{ UserName: user, PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' }]);
    expect(attached).toEqual([{ PolicyName: 'AWSDenyAll', PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' }]);
    expect(puts).toBe(0);
    expect(await inlinePolicies(user)).toEqual([]);
    await expect(iam.send(new GetLoginProfileCommand({ UserName: user }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    // the messages
    expect(plan).toContain("*Lock*: AWS's managed policy `AWSDenyAll` (an explicit Deny of every action) will be attached (no inline policy is written); the console password will be deleted.");
    expect(text).toContain("*Locked*: AWS's managed policy `AWSDenyAll` is attached and denies every action; the console password is deleted.");
    expect(again).toContain('`AWSDenyAll` (an explicit Deny of every action) is attached already');
    expect(againText).toContain("*Locked*: AWS's managed policy `AWSDenyAll` was attached already and denies every action; it had no console password.");
  });

  it('--lock with AttachUserPolicy denied: the keys contained and the console password deleted, the report says AWSDenyAll was NOT attached; nothing written instead', async () => {
    // prepare
    const user = 'leaky-13';
    const [k1] = await makeUser(user, 1);
    await iam.send(new CreateLoginProfileCommand({ UserName: user, Password: `Pw-${randomUUID()}` }));
    const { m, attached } = denyAllMock(user, () => Promise.reject(Object.assign(new Error('User is not authorized to perform: iam:AttachUserPolicy'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })));

    // act
    let runId = '';
    let text = '';
    let puts = -1;
    try {
      const r = await requestRun(stack, 'alice', `compromise ${user} --lock`);
      runId = r.runId;
      await click(stack, 'bob', r.message, 'run_approve');
      text = textOf(stack.standIn.message(r.message.channel, r.message.ts));
      puts = m.commandCalls(PutUserPolicyCommand).length;
    } finally {
      m.restore();
    }

    // assess: AWS's end state, then the message
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive' });
    expect(attached).toEqual([]);
    expect(puts).toBe(0);
    expect(await inlinePolicies(user)).toEqual([]);
    await expect(iam.send(new GetLoginProfileCommand({ UserName: user }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    expect(text).toContain('The deny-all policy `AWSDenyAll` was NOT attached: iam:AttachUserPolicy on `leaky-13` failed: User is not authorized');
    expect(text).toContain('*Locked*: the console password is deleted.');
  });

  it('instances: launched by the principal or since --since are listed (launch time filtered here: moto cannot backdate, so one is rewritten older); Terminate all listed, approved, terminates exactly them', async () => {
    // prepare
    const user = 'leaky-6';
    const [k1] = await makeUser(user, 1);
    for (const region of ['us-east-1', 'us-west-2']) {
      const ec2 = stack.clients.ec2(region);
      const left = ((await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] }))).Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId ?? '');
      if (left.length) await ec2.send(new TerminateInstancesCommand({ InstanceIds: left }));
    }
    const east = await launchNamed('us-east-1', 3, 'batch');
    const [old] = east;
    const undo = rewrite<{ Reservations?: { Instances?: { InstanceId?: string; LaunchTime?: Date }[] }[] }>(stack.clients.ec2('us-east-1'), 'DescribeInstancesCommand', (out) => {
      for (const r of out.Reservations ?? []) for (const i of r.Instances ?? []) if (i.InstanceId === old) i.LaunchTime = new Date(Date.now() - 3 * 86_400_000);
      return out;
    });
    const { message } = await requestRun(stack, 'alice', `compromise ${user} --since 2h`);

    // act: contain, then the offered clean-up
    let asked;
    try {
      await click(stack, 'bob', message, 'run_approve');
      const report = stack.standIn.message(message.channel, message.ts)!;
      expect(textOf(report)).not.toContain(old!);
      await click(stack, 'alice', report, 'Terminate all listed');
      asked = stack.standIn.message(message.channel, message.ts)!;
      await click(stack, 'bob', asked, 'run_approve');
    } finally {
      undo();
    }

    // assess: the two new ones terminated, the old one (and nothing else) left alone
    expect(textOf(asked)).toContain('will be terminated');
    const states = await stateOf('us-east-1', east);
    expect(states[old!]).toBe('running');
    for (const id of east.slice(1)) expect(['terminated', 'shutting-down']).toContain(states[id]);
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('Terminated *2* of 2 instances');
    expect(k1).toBeTruthy();
  });

  it('TerminateInstances denied: the instances stay running and the message says which and what to do; --new-key at IAM\'s 2 keys creates nothing and says why', async () => {
    // prepare
    const user = 'leaky-12';
    const [k1, k2] = await makeUser(user);
    const [id] = await launchNamed('us-west-2', 1, 'stuck');
    const undo = fail(stack.clients.ec2('us-west-2'), 'TerminateInstancesCommand', ACCESS_DENIED);

    // act
    let text = '';
    let keyText = '';
    try {
      const { runId, message } = await requestRun(stack, 'alice', `compromise ${user} --terminate ${id}`);
      await click(stack, 'bob', message, 'run_approve');
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
      text = textOf(stack.standIn.message(message.channel, message.ts));
    } finally {
      undo();
    }
    const second = await requestRun(stack, 'alice', `compromise ${user} --new-key`);
    const creates = countTries(iam, 'CreateAccessKeyCommand');
    try {
      await click(stack, 'bob', second.message, 'run_approve');
    } finally {
      creates.undo();
    }
    keyText = textOf(stack.standIn.message(second.message.channel, second.message.ts));

    // assess: AWS's end state, then the messages
    expect((await stateOf('us-west-2', [id!]))[id!]).toBe('running');
    expect(text).toContain('Terminated *0* of 1 instance');
    expect(text).toContain(`Still running or unknown: \`${id}\`. Terminate them in the EC2 console.`);
    expect(text).toContain('ec2:TerminateInstances');
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive', [k2!]: 'Inactive' });
    expect(keyText).toContain("`leaky-12` already has IAM's limit of 2 access keys, so no replacement was created.");
    // the keys were counted first: no CreateAccessKey sent for IAM to refuse (the SDK retries that refusal as throttling, 5 tries)
    expect(creates.tries()).toBe(0);
    expect(runSummary(stack, second.runId)).toMatchObject({ status: 'failed' });
  });

  it('UpdateAccessKey denied on one key and throttled on the other: the throttled one is retried and contained, the denied one reported NOT contained', async () => {
    // prepare
    const user = 'leaky-7';
    const [k1, k2] = await makeUser(user);
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user}`);
    const undoDeny = fail(iam, 'UpdateAccessKeyCommand', ACCESS_DENIED, { when: (i) => i.AccessKeyId === k1 });
    const undoThrottle = fail(iam, 'UpdateAccessKeyCommand', { name: 'Throttling', message: 'Rate exceeded', status: 400 }, { when: (i) => i.AccessKeyId === k2, times: 1 });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undoDeny();
      undoThrottle();
    }

    // assess: AWS's end state, then the message
    expect(await statuses(user)).toEqual({ [k1!]: 'Active', [k2!]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    const text = textOf(stack.standIn.message(message.channel, message.ts));
    expect(text).toContain(`*NOT fully contained*: \`${k1}\` is still *Active*; Inactive: \`${k2}\``);
    expect(text).toContain(`Deactivate \`${k1}\` now`);
    expect(text).toContain(`${k1} was NOT deactivated: iam:UpdateAccessKey on \`${user}/${k1}\` failed: User is not authorized`);
    // the investigation still ran
    expect(lookups('east').length).toBeGreaterThan(0);
  });

  it('CloudTrail denied in one region: the keys are contained and the report says which region was not read', async () => {
    // prepare
    const user = 'leaky-8';
    const [k1] = await makeUser(user, 1);
    trails.west.on(LookupEventsCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudtrail:LookupEvents'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));

    // act
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user}`);
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('CloudTrail in us-west-2 could not be read');
  });

  it('slack-429-on-update: the keys are contained and the message ends Done once Slack answers', async () => {
    // prepare
    const user = 'leaky-9';
    const [k1] = await makeUser(user, 1);
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user}`);
    let hits = 0;
    stack.standIn.fault = (method) => (method === 'chat.update' && hits++ < 4 ? { status: 429, retryAfter: 1 } : undefined);
    const waited = slackRetry.waits.length;

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess: Retry-After (1 s) waited once for each of the four 429s
    expect(hits).toBeGreaterThanOrEqual(4);
    expect(slackRetry.waits.slice(waited)).toEqual([1000, 1000, 1000, 1000]);
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toMatch(/^✅ Done/);
    expect((await stack.store.getRun(runId))?.status).toBe('succeeded');
  });

  it('slack-429-on-final-update: Retry-After waited out; the keys are contained, the record and the message end Done', async () => {
    // prepare
    const user = 'leaky-9b';
    const [k1] = await makeUser(user, 1);
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${user}`);
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 2 ? { status: 429, retryAfter: 1 } : undefined);
    const waited = slackRetry.waits.length;

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      delete stack.standIn.fault;
    }

    // assess
    expect(limited).toBe(3);
    expect(slackRetry.waits.slice(waited)).toEqual([1000, 1000]);
    expect(await statuses(user)).toEqual({ [k1!]: 'Inactive' });
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect((await stack.store.getRun(runId))?.status).toBe('succeeded');
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toMatch(/^✅ Done/);
  });

  it('bad input: an unknown user, a key of another user, a malformed key, hostile text, unknown instances; clear refusals, nothing changed', async () => {
    // prepare
    const [other] = await makeUser('leaky-10', 1);
    await makeUser('leaky-11', 1);
    const before = stack.engine.names().length;

    // act: refused at the command
    const badKey = await command(stack, 'alice', 'compromise leaky-11 --key AKIA123');
    const mention = await command(stack, 'alice', 'compromise <!channel>');
    const hostile = await command(stack, 'alice', 'compromise spawn`*x*`');
    const long = await command(stack, 'alice', `compromise ${'a'.repeat(80)}`);
    const badIds = await command(stack, 'alice', 'compromise leaky-11 --terminate i-123,`rm`');
    const both = await command(stack, 'alice', 'compromise leaky-11 --terminate i-0123456789abcdef0 --lock');
    const simulate = await command(stack, 'alice', 'simulate compromise');
    const started = stack.engine.names().length;
    // refused at the plan
    const unknown = await command(stack, 'alice', 'compromise nobody-here');
    const notTheirs = await command(stack, 'alice', `compromise leaky-11 --key ${other}`);
    const noInstance = await command(stack, 'alice', 'compromise leaky-11 --terminate i-0123456789abcdef0');

    // assess
    expect(badKey.json?.text).toContain('--key `AKIA123` is not an access key ID');
    expect(mention.json?.text).toContain('mentions, channels and links are not arguments');
    expect(hostile.json?.text).toContain('is not a valid IAM user name');
    expect(long.json?.text).toContain('is not a valid IAM user name');
    expect(badIds.json?.text).toContain("--terminate takes up to 50 EC2 instance IDs separated by commas (i-0abc…,i-0def…), not `i-123,'rm'`.");
    expect(both.json?.text).toContain('--terminate and --lock cannot be used together.');
    expect(simulate.json?.text).toContain('`/dr simulate` works only in the local sandbox');
    expect(started).toBe(before);
    expect(textOf(runMessage(stack.standIn, runIdOf(unknown)))).toContain('There is no IAM user `nobody-here` in this account.');
    expect(textOf(runMessage(stack.standIn, runIdOf(notTheirs)))).toContain(`\`${other}\` is not an access key of \`leaky-11\``);
    expect(textOf(runMessage(stack.standIn, runIdOf(noInstance)))).toContain('`i-0123456789abcdef0` is not an instance in `us-east-1` or `us-west-2`; nothing was terminated.');
    for (const id of [unknown, notTheirs, noInstance].map(runIdOf)) expect(runSummary(stack, id)).toMatchObject({ status: 'failed' });
    expect(Object.values(await statuses('leaky-10'))).toEqual(['Active']);
    expect(Object.values(await statuses('leaky-11'))).toEqual(['Active']);
  });
});
