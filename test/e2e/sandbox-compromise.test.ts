import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetUserPolicyCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { SIMULATED_USER } from '../../src/local/compromise';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import { localSandboxTools } from '../../src/local/sandbox-tools';
import type { LocalStack } from '../../src/local/stack';
import { buttons, click, command, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 11's done-when for the compromise, as a newcomer types it in the sandbox: `/dr simulate
 * compromise`, then `/dr compromise spawn-user`, approve → the key is Inactive, CloudTrail's events
 * (the sandbox's event history, src/local/moto-gaps.ts: moto has no LookupEvents) summarized with
 * the full list in the thread, the instances offered for termination; Terminate all listed,
 * approved → they are terminated. No secret in any message (the journal scans the rest).
 */

describe('sandbox: a leaked key, contained, investigated, cleaned up', () => {
  const getStack = useLocalStack({ sandboxTools: localSandboxTools, progressIntervalMs: 0 });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  it('simulate compromise, then /dr compromise spawn-user contains, investigates and offers clean-up', async () => {
    // act: the simulation
    await command(stack, 'alice', 'simulate compromise');
    const said = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).at(-1));
    const iam = stack.clients.iam('us-east-1');
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: SIMULATED_USER }))).AccessKeyMetadata ?? [];

    // assess: a user with one active key, named (never its secret)
    expect(said).toContain('Simulated compromise');
    expect(keys).toHaveLength(1);
    expect(keys[0]?.Status).toBe('Active');
    expect(said).toContain(keys[0]?.AccessKeyId ?? 'no key');

    // act: the response, approved by another person
    const { runId, message } = await requestRun(stack, 'alice', `compromise ${SIMULATED_USER}`);
    const plan = textOf(message);
    await click(stack, 'bob', message, 'run_approve');

    // assess: the plan named the key; the key is Inactive now
    expect(plan).toContain(`1 access key will be set *Inactive*: \`${keys[0]?.AccessKeyId}\``);
    const after = (await iam.send(new ListAccessKeysCommand({ UserName: SIMULATED_USER }))).AccessKeyMetadata ?? [];
    expect(after.map((k) => k.Status)).toEqual(['Inactive']);
    const final = stack.standIn.message(message.channel, message.ts);
    const text = textOf(final);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(text).toContain(`*Contained* at`);
    expect(text).toMatch(/\*Found\* in CloudTrail since .* 67 events, 7 write calls; writes first:/);
    expect(text).toContain('*write* `RunInstances` ×2 in `us-east-1` from `203.0.113.77`');
    expect(text).toContain("The full list (67 of 67 events) is in this message's thread.");
    expect(text).toContain('3 instances launched by `spawn-user`');
    expect(text).toContain('`CreateUser` `spawn-backdoor`');
    expect(text).toContain('Delete the IAM users it created, after review: `spawn-backdoor`');
    expect(buttons(final).map((b) => b.text)).toEqual(['Deny all + revoke console', 'Create replacement key', 'Terminate all listed', 'Restore IAM from backup']);
    expect(text).toContain('`PutRolePolicy` `spawn-worker-00`');
    const thread = stack.standIn.channelMessages(message.channel).filter((m) => m.threadTs === message.ts);
    expect(thread.map(textOf).join('\n')).toContain('RunInstances');

    // act: Deny all + revoke console (the button's command carries --since as an ISO time), approved
    await click(stack, 'alice', final!, 'Deny all + revoke console');
    await click(stack, 'bob', stack.standIn.message(message.channel, message.ts)!, 'run_approve');
    const locked = stack.standIn.message(message.channel, message.ts)!;

    // assess: the deny-all policy is on the user, the keys still Inactive, the report offered again without that button
    const policy = await iam.send(new GetUserPolicyCommand({ UserName: SIMULATED_USER, PolicyName: 'drbot-compromise-deny-all' }));
    expect(policy.PolicyName).toBe('drbot-compromise-deny-all');
    expect(textOf(locked)).toContain('*Locked*: the inline policy `drbot-compromise-deny-all` denies every action; it had no console password.');
    expect(textOf(locked)).toContain('67 events');
    expect(buttons(locked).map((b) => b.text)).toEqual(['Create replacement key', 'Terminate all listed', 'Restore IAM from backup']);

    // act: Terminate all listed, approved
    await click(stack, 'alice', locked, 'Terminate all listed');
    const asked = stack.standIn.message(message.channel, message.ts);
    expect(textOf(asked)).toContain('*3 instances* will be terminated');
    await click(stack, 'bob', asked!, 'run_approve');

    // assess: every instance the simulation launched is terminated, in both regions
    for (const region of ['us-east-1', 'us-west-2']) {
      const r = await stack.clients.ec2(region).send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['xmrig-*'] }] }));
      const states = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.State?.Name);
      expect(states.length).toBeGreaterThan(0);
      expect(states.every((s) => s === 'terminated' || s === 'shutting-down')).toBe(true);
    }
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('Terminated *3* of 3 instances');
    // no secret access key anywhere in the channel (the journal scans logs and audit too)
    const all = stack.standIn.channelMessages(SANDBOX_CHANNEL).map((m) => JSON.stringify(m)).join('\n');
    expect(all).not.toMatch(/SecretAccessKey|secretAccessKey/);
  });
});
