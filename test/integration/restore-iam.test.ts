import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  type IAMClient,
  ListPolicyVersionsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { restorePolicy, restoreRole } from '../../src/runbooks/restore-iam/runbook';
import { type IamExport, LATEST_KEY } from '../../src/runbooks/backup-iam/runbook';
import { Leases } from '../../src/store/leases';
import { fail } from '../helpers/faults';
import { defaultDocument, deleteRole, roleExists, roleState } from '../helpers/iam-roles';
import { click, command, ephemeralsFor, recordedSlackWaits, requestRun, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr restore iam on the local stack against moto: an export made by /dr backup iam, IAM changed
 * after it (an inline policy edited, a managed policy detached, a trust policy changed, a tag
 * removed, a role deleted, a policy document rewritten), then the diff in the plan, the approval,
 * and IAM's end state checked role by role. Faults are SDK middleware on the run's own IAM client
 * (moto neither throttles nor enforces IAM) and the Slack stand-in's 429/500.
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const POLICY = 'spawn-read-artifacts';
const ROLES = Array.from({ length: 8 }, (_, i) => `spawn-role-${String(i).padStart(2, '0')}`);
const trust = (service: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
const inline = (i: number, action = 's3:PutObject') => ({ Version: '2012-10-17', Statement: [{ Sid: 'Results', Effect: 'Allow', Action: action, Resource: `arn:aws:s3:::spawn-results-us-east-1/r${i}/*` }] });
const managed = (resource: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }] });

describe('/dr restore iam', () => {
  // The posters' waits are recorded, not slept: the Slack fault tests assert the ones their faults caused.
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, progressIntervalMs: 0, slackRetry });
  let stack: LocalStack;
  let iam: IAMClient;
  let policyArn = '';
  /** Every role as it was when exported. */
  const original = new Map<string, Awaited<ReturnType<typeof roleState>>>();
  let exportKey = '';

  /** Sets IAM back to the exported state between tests (through the runbook's own code, which the tests below check). */
  async function reset(): Promise<void> {
    const doc = JSON.parse(await (await stack.clients.s3('us-east-1').send(new GetObjectCommand({ Bucket: BACKUPS, Key: exportKey }))).Body!.transformToString()) as IamExport;
    for (const p of doc.managedPolicies) await restorePolicy(iam, p);
    for (const r of doc.roles) await restoreRole(iam, r);
  }

  beforeAll(async () => {
    stack = getStack();
    iam = stack.clients.iam('us-east-1');
    const s3 = stack.clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BACKUPS }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BACKUPS, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  it('says how to make an export when there is none, and changes nothing', async () => {
    // prepare: no pointer to an export, whichever tests ran before (a delete marker hides it)
    const s3 = stack.clients.s3('us-east-1');
    const hidden = (await s3.send(new DeleteObjectCommand({ Bucket: BACKUPS, Key: LATEST_KEY }))).VersionId;

    // act
    let reply: Awaited<ReturnType<typeof command>>;
    try {
      reply = await command(stack, 'alice', 'restore iam spawn-role-00');
    } finally {
      if (hidden) await s3.send(new DeleteObjectCommand({ Bucket: BACKUPS, Key: LATEST_KEY, VersionId: hidden }));
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const text = textOf(runMessage(stack.standIn, runId));
    expect(text).toContain(`There is no IAM export in \`s3://${BACKUPS}/iam/\` yet`);
    expect(text).toContain('Make one with `/dr backup iam`');
  });

  describe('with an export', () => {
    beforeAll(async () => {
      const policy = await iam.send(new CreatePolicyCommand({ PolicyName: POLICY, PolicyDocument: JSON.stringify(managed('arn:aws:s3:::spawn-binaries-us-east-1/*')) }));
      policyArn = policy.Policy?.Arn ?? '';
      for (const [i, RoleName] of ROLES.entries()) {
        await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust('ec2.amazonaws.com')), Description: `worker ${i}`, MaxSessionDuration: 7200, Tags: [{ Key: 'team', Value: 'spawn' }, { Key: 'tier', Value: String(i) }] }));
        await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'results', PolicyDocument: JSON.stringify(inline(i)) }));
        await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: policyArn }));
      }
      await iam.send(new CreateRoleCommand({ RoleName: 'payments-admin', AssumeRolePolicyDocument: JSON.stringify(trust('lambda.amazonaws.com')) }));
      const reply = await command(stack, 'alice', 'backup iam');
      expect(runSummary(stack, runIdOf(reply))).toMatchObject({ status: 'succeeded' });
      const pointer = JSON.parse(await (await stack.clients.s3('us-east-1').send(new GetObjectCommand({ Bucket: BACKUPS, Key: 'iam/latest.json' }))).Body!.transformToString()) as { key: string };
      exportKey = pointer.key;
      for (const r of ROLES) original.set(r, await roleState(iam, r));
    });

    afterEach(async () => {
      delete stack.standIn.fault;
      await reset();
    });

    /** IAM changed after the export, one kind of change per role. */
    async function drift(): Promise<void> {
      await iam.send(new PutRolePolicyCommand({ RoleName: 'spawn-role-01', PolicyName: 'results', PolicyDocument: JSON.stringify(inline(1, 's3:*')) }));
      await iam.send(new DetachRolePolicyCommand({ RoleName: 'spawn-role-02', PolicyArn: policyArn }));
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'spawn-role-03', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' }] }) }));
      await iam.send(new UntagRoleCommand({ RoleName: 'spawn-role-04', TagKeys: ['team'] }));
      await deleteRole(iam, 'spawn-role-05');
    }

    const CHANGED = ['spawn-role-01', 'spawn-role-02', 'spawn-role-03', 'spawn-role-04', 'spawn-role-05'];

    it('dry run: the plan shows the diff role by role, and IAM is left as it is', async () => {
      // prepare
      await drift();
      const before = await Promise.all(CHANGED.slice(0, 4).map((r) => roleState(iam, r)));

      // act
      const reply = await command(stack, 'alice', `restore iam ${CHANGED.join(' ')} --dry-run`);

      // assess: the plan
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
      const text = textOf(runMessage(stack.standIn, runId));
      expect(text).toContain(`From the IAM export \`${exportKey}\` (the latest)`);
      expect(text).toContain('*5* roles differ (1 deleted since the export, to create again): 7 changes would be written, nothing else');
      // statement by statement: the edited statement, paired by its Sid
      expect(text).toContain('inline policy results');
      expect(text).toContain('- Sid Results: {"Action":"s3:*","Effect":"Allow","Resource":"arn:aws:s3:::spawn-results-us-east-1/r1/*","Sid":"Results"}');
      expect(text).toContain('+ Sid Results: {"Action":"s3:PutObject","Effect":"Allow","Resource":"arn:aws:s3:::spawn-results-us-east-1/r1/*","Sid":"Results"}');
      expect(text).toContain(`+ managed policy ${POLICY} (${policyArn}): attached`);
      expect(text).toMatch(/trust policy\n\s+- statement 1: \{"Action":"sts:AssumeRole","Effect":"Allow","Principal":\{"AWS":"arn:aws:iam::999999999999:root"\}\}\n\s+\+ statement 1: \{"Action":"sts:AssumeRole","Effect":"Allow","Principal":\{"Service":"ec2.amazonaws.com"\}\}/);
      expect(text).toMatch(/tag team\n\s+\+ spawn/);
      expect(text).toContain('spawn-role-05: deleted since the export, created again');
      expect(text).toContain('A role created again gets a new role ID');
      // and nothing changed
      expect(await Promise.all(CHANGED.slice(0, 4).map((r) => roleState(iam, r)))).toEqual(before);
      expect(await roleExists(iam, 'spawn-role-05')).toBe(false);
    });

    it('restores each role after approval (not by the requester): inline edited, managed detached, trust changed, tag removed, role deleted', async () => {
      // prepare
      await drift();

      // act: alice asks and cannot approve her own run; bob approves
      const { runId, message } = await requestRun(stack, 'alice', `restore iam ${CHANGED.join(' ')}`);
      await click(stack, 'alice', message, 'run_approve');
      const refused = textOf(ephemeralsFor(stack.standIn, 'alice').at(-1));
      const stillDrifted = await roleState(iam, 'spawn-role-01');
      await click(stack, 'bob', message, 'run_approve');

      // assess: the refusal, and nothing written before the approval
      expect(refused).toMatch(/someone else must approve it \(four eyes\)/);
      expect(stillDrifted.inlines.results).toEqual(inline(1, 's3:*'));
      // IAM, role by role
      for (const r of CHANGED) expect({ role: r, ...(await roleState(iam, r)) }).toEqual({ role: r, ...original.get(r) });
      expect((await roleState(iam, 'spawn-role-01')).inlines.results).toEqual(inline(1));
      expect((await roleState(iam, 'spawn-role-02')).attached).toEqual([POLICY]);
      expect((await roleState(iam, 'spawn-role-03')).trust).toEqual(trust('ec2.amazonaws.com'));
      expect((await roleState(iam, 'spawn-role-04')).tags).toEqual({ team: 'spawn', tier: '4' });
      expect(await roleState(iam, 'spawn-role-05')).toEqual({ trust: trust('ec2.amazonaws.com'), description: 'worker 5', maxSession: 7200, tags: { team: 'spawn', tier: '5' }, inlines: { results: inline(5) }, attached: [POLICY] });
      // the run: executed once, verified
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
      const final = textOf(stack.standIn.message(message.channel, message.ts));
      expect(final).toContain(`Restored *5* of 5 roles from \`${exportKey}\` (1 created again).`);
      expect(final).toContain('Verified by exporting IAM again: the 5 roles match the export, *0* differences.');
      const audit = (await stack.store.listAudit(50)).filter((e) => e.runId === runId).map((e) => e.action);
      expect(audit.filter((a) => a === 'result')).toHaveLength(1);
    });

    it('writes only the differences: a role that matches gets no call, and a second restore finds nothing to do', async () => {
      // prepare
      await iam.send(new UntagRoleCommand({ RoleName: 'spawn-role-06', TagKeys: ['tier'] }));
      const calls: string[] = [];
      const spy = { name: 'spy' };
      iam.middlewareStack.add(
        (next, context) => async (args) => {
          if (!/^(Get|List)/.test(context.commandName ?? '')) calls.push(`${context.commandName} ${String((args.input as { RoleName?: string }).RoleName ?? '')}`);
          return next(args);
        },
        { step: 'initialize', name: spy.name },
      );

      // act
      let second;
      try {
        const { message } = await requestRun(stack, 'alice', 'restore iam spawn-role-06 spawn-role-07');
        await click(stack, 'bob', message, 'run_approve');
        second = await command(stack, 'alice', 'restore iam spawn-role-06 spawn-role-07');
      } finally {
        iam.middlewareStack.remove(spy.name);
      }

      // assess
      expect(calls).toEqual(['TagRoleCommand spawn-role-06']);
      expect((await roleState(iam, 'spawn-role-06')).tags).toEqual({ team: 'spawn', tier: '6' });
      const runId = runIdOf(second);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'nothing_to_do' });
      expect(textOf(runMessage(stack.standIn, runId))).toContain('All 2 roles match the export: nothing to restore.');
    });

    it('puts a managed policy document back as a new default version, deleting the oldest non-default version when the policy has five', async () => {
      // prepare: four more versions (five in all), the newest default
      for (let i = 0; i < 4; i++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: JSON.stringify(managed(`arn:aws:s3:::elsewhere-${i}/*`)), SetAsDefault: true }));
      const before = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: policyArn }))).Versions ?? [];

      // act
      const { runId, message } = await requestRun(stack, 'alice', 'restore iam spawn-role-00');
      const plan = textOf(message);
      await click(stack, 'bob', message, 'run_approve');

      // assess
      expect(before).toHaveLength(5);
      expect(plan).toContain('*1* managed policy document differs: 1 change will be written, nothing else; 1 role already matches');
      expect(plan).toContain(`managed policy ${POLICY} (${policyArn}): default version`);
      expect(plan).toContain('- statement 1: {"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::elsewhere-3/*"}');
      expect(await defaultDocument(iam, policyArn)).toEqual(managed('arn:aws:s3:::spawn-binaries-us-east-1/*'));
      const after = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: policyArn }))).Versions ?? [];
      expect(after).toHaveLength(5);
      expect(after.map((v) => v.VersionId)).not.toContain('v1');
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('(deleted the oldest version, `v1`, to stay within IAM\'s 5)');
      // tidy: back to one version for the other tests
      for (const v of after) if (!v.IsDefaultVersion) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: policyArn, VersionId: v.VersionId }));
    });

    it('creates again a managed policy that was deleted, and attaches it to the roles that had it', async () => {
      // prepare: detached everywhere, then deleted (as IAM requires)
      for (const r of ROLES) await iam.send(new DetachRolePolicyCommand({ RoleName: r, PolicyArn: policyArn }));
      for (const v of (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: policyArn }))).Versions ?? []) {
        if (!v.IsDefaultVersion) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: policyArn, VersionId: v.VersionId }));
      }
      await iam.send(new DeletePolicyCommand({ PolicyArn: policyArn }));

      // act
      const { runId, message } = await requestRun(stack, 'alice', 'restore iam --all');
      await click(stack, 'bob', message, 'run_approve');

      // assess
      expect(textOf(message)).toContain(`managed policy ${POLICY} (${policyArn}): deleted since the export, created again`);
      expect(await defaultDocument(iam, policyArn)).toEqual(managed('arn:aws:s3:::spawn-binaries-us-east-1/*'));
      for (const r of ROLES) expect((await roleState(iam, r)).attached).toEqual([POLICY]);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('the 8 roles match the export, *0* differences');
    });

    it('--all: every role of the export; a role made after the export is named and left alone; a long diff is summarised with the whole of it in the thread', async () => {
      // prepare: every role's inline policy rewritten with a long statement, and a new role
      const wide = { Version: '2012-10-17', Statement: [{ Sid: 'Wide', Effect: 'Allow', Action: Array.from({ length: 40 }, (_, i) => `s3:Action${i}`), Resource: '*' }] };
      for (const r of ROLES) await iam.send(new PutRolePolicyCommand({ RoleName: r, PolicyName: 'results', PolicyDocument: JSON.stringify(wide) }));
      await iam.send(new CreateRoleCommand({ RoleName: 'spawn-newcomer', AssumeRolePolicyDocument: JSON.stringify(trust('ec2.amazonaws.com')) }));

      // act
      const { runId, message } = await requestRun(stack, 'alice', 'restore iam --all');
      await click(stack, 'bob', message, 'run_approve');

      // assess: the plan fits its section and points at the thread, which holds every role's diff
      const plan = textOf(message);
      const section = (message.blocks[1] as { text?: { text: string } }).text?.text ?? '';
      expect(section.length).toBeLessThanOrEqual(3000);
      expect(plan).toContain("is in this message's thread");
      expect(plan).toContain('Not in the export, left as it is (drbot never deletes a role): `spawn-newcomer`');
      const replies = stack.standIn.channelMessages(SANDBOX_CHANNEL).filter((m) => m.threadTs === message.ts);
      expect(replies.length).toBeGreaterThan(0);
      const thread = replies.map(textOf).join('\n');
      for (const r of ROLES) expect(thread).toContain(`${r}\n  inline policy results`);
      expect(thread).toContain('s3:Action39');
      // IAM
      for (const r of ROLES) expect((await roleState(iam, r)).inlines).toEqual({ results: inline(Number(r.slice(-2))) });
      expect(await roleExists(iam, 'spawn-newcomer')).toBe(true);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      await deleteRole(iam, 'spawn-newcomer');
    });

    it('throttled mid-apply: the step tries again and every role is restored, nothing written twice', async () => {
      // prepare
      await drift();
      const { runId, message } = await requestRun(stack, 'alice', `restore iam ${CHANGED.join(' ')}`);
      const undo = fail(iam, 'AttachRolePolicyCommand', { name: 'Throttling', message: 'Rate exceeded', status: 400 }, { times: 1 });
      const untag = fail(iam, 'UpdateAssumeRolePolicyCommand', { name: 'Throttling', message: 'Rate exceeded', status: 400 }, { times: 1 });
      // the writes that reach IAM (the faults above answer before the request is built)
      const writes: string[] = [];
      iam.middlewareStack.add(
        (next, context) => async (args) => {
          if (!/^(Get|List)/.test(context.commandName ?? '')) writes.push(`${context.commandName} ${String((args.input as { RoleName?: string }).RoleName ?? '')}`);
          return next(args);
        },
        { step: 'build', name: 'writes' },
      );

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undo();
        untag();
        iam.middlewareStack.remove('writes');
      }

      // assess: each write once, the throttled ones included
      expect(writes.sort()).toEqual([
        'AttachRolePolicyCommand spawn-role-02',
        'AttachRolePolicyCommand spawn-role-05',
        'CreateRoleCommand spawn-role-05',
        'PutRolePolicyCommand spawn-role-01',
        'PutRolePolicyCommand spawn-role-05',
        'TagRoleCommand spawn-role-04',
        'UpdateAssumeRolePolicyCommand spawn-role-03',
      ]);
      for (const r of CHANGED) expect({ role: r, ...(await roleState(iam, r)) }).toEqual({ role: r, ...original.get(r) });
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('*0* differences');
    });

    it('AccessDenied on one role: the others are restored, and the message ends saying which failed and why', async () => {
      // prepare
      await drift();
      const { runId, message } = await requestRun(stack, 'alice', `restore iam ${CHANGED.join(' ')}`);
      const undo = fail(iam, 'UpdateAssumeRolePolicyCommand', { name: 'AccessDenied', message: 'User is not authorized to perform: iam:UpdateAssumeRolePolicy', status: 403 }, { when: (i) => i.RoleName === 'spawn-role-03' });

      // act
      try {
        await click(stack, 'bob', message, 'run_approve');
      } finally {
        undo();
      }

      // assess: IAM
      for (const r of CHANGED.filter((x) => x !== 'spawn-role-03')) expect({ role: r, ...(await roleState(iam, r)) }).toEqual({ role: r, ...original.get(r) });
      expect((await roleState(iam, 'spawn-role-03')).trust).not.toEqual(trust('ec2.amazonaws.com'));
      // the run and its message
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
      const final = textOf(stack.standIn.message(message.channel, message.ts));
      expect(final).toContain('Restored *4* of 5 roles');
      expect(final).toContain('*1* difference remains: `spawn-role-03`: trust policy');
      expect(final).toContain('Not restored: `spawn-role-03`; the others were.');
      const tail = final.slice(final.lastIndexOf('1 failed:'));
      expect(tail).toContain('spawn-role-03: UpdateAssumeRolePolicy on `spawn-role-03` failed: User is not authorized');
      expect(tail).toContain("Grant the bot's role permission for `UpdateAssumeRolePolicy`");
    });

    it('slack-429-and-500-on-update: IAM is restored and the message still ends Done once Slack answers', async () => {
      // prepare
      await drift();
      const { runId, message } = await requestRun(stack, 'alice', `restore iam ${CHANGED.join(' ')}`);
      let hits = 0;
      stack.standIn.fault = (method) => (method === 'chat.update' && hits++ < 4 ? (hits % 2 ? { status: 429, retryAfter: 1 } : { status: 500 }) : undefined);
      const waited = slackRetry.waits.length;

      // act
      await click(stack, 'bob', message, 'run_approve');

      // assess: the four faults fall on one update's tries: Retry-After (1 s) for each 429, the backoff of its try (20 ms × 2^try) for each 500
      expect(hits).toBeGreaterThanOrEqual(4);
      expect(slackRetry.waits.slice(waited)).toEqual([1000, 40, 1000, 160]);
      for (const r of CHANGED) expect({ role: r, ...(await roleState(iam, r)) }).toEqual({ role: r, ...original.get(r) });
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      const final = textOf(stack.standIn.message(message.channel, message.ts));
      expect(final).toMatch(/^✅ Done/);
      expect(final).toContain('*0* differences');
    });

    it('refuses at the command a role outside the prefix, by name, and a hostile name; starts nothing', async () => {
      // prepare
      const before = stack.engine.names().length;

      // act
      const outside = await command(stack, 'alice', 'restore iam spawn-role-01 payments-admin');
      const mention = await command(stack, 'alice', 'restore iam spawn-`<!channel>`');
      const hostile = await command(stack, 'alice', 'restore iam spawn-`x`*y*');
      const long = await command(stack, 'alice', `restore iam spawn-${'a'.repeat(80)}`);
      const invisible = await command(stack, 'alice', 'restore iam spawn-role-01\u202e');
      const both = await command(stack, 'alice', 'restore iam spawn-role-01 --all');
      const none = await command(stack, 'alice', 'restore iam');
      const badKey = await command(stack, 'alice', 'restore iam spawn-role-01 --backup ../etc/passwd');
      const twoSources = await command(stack, 'alice', 'restore iam spawn-role-01 --backup iam/2026-01-01/r-000000000000.json --latest');

      // assess
      expect(outside.json?.text).toContain('`payments-admin` is not a drbot role: only roles whose names start with `spawn` are managed.');
      expect(mention.json?.text).toContain('mentions, channels and links are not arguments');
      expect(hostile.json?.text).toContain("`spawn-'x'*y*` is not a valid IAM role name.");
      expect(long.json?.text).toContain('is not a valid IAM role name.');
      expect(invisible.json?.text).toContain('control or invisible characters');
      expect(both.json?.text).toContain('name roles or give --all, not both.');
      expect(none.json?.text).toContain('ROLE is missing');
      expect(badKey.json?.text).toContain('--backup takes the key of an IAM export');
      expect(twoSources.json?.text).toContain('--backup and --latest cannot be used together.');
      expect(stack.engine.names()).toHaveLength(before);
    });

    it('an unknown export key, and a role the export does not hold: clear messages naming the newest exports; nothing changed', async () => {
      // prepare
      await iam.send(new TagRoleCommand({ RoleName: 'spawn-role-00', Tags: [{ Key: 'team', Value: 'other' }] }));

      // act
      const unknown = await command(stack, 'alice', 'restore iam spawn-role-00 --backup iam/2020-01-01/r-000000000000.json');
      const absent = await command(stack, 'alice', 'restore iam spawn-role-00 spawn-ghost');

      // assess
      const u = textOf(runMessage(stack.standIn, runIdOf(unknown)));
      expect(runSummary(stack, runIdOf(unknown))).toMatchObject({ status: 'failed' });
      expect(u).toContain(`There is no IAM export \`iam/2020-01-01/r-000000000000.json\` in \`s3://${BACKUPS}\`.`);
      expect(u).toContain(`The newest: \`${exportKey}\``);
      const a = textOf(runMessage(stack.standIn, runIdOf(absent)));
      expect(a).toContain(`\`spawn-ghost\` is not in the export \`${exportKey}\``);
      expect((await roleState(iam, 'spawn-role-00')).tags.team).toBe('other');
    });

    it('one run per role: a named role another run holds is refused before the plan; --all is refused at its lease after approval; nothing changed; leases freed after a run', async () => {
      // prepare: another run holds spawn-role-01
      await drift();
      const leases = new Leases(stack.store.doc, stack.store.tableName);
      const now = new Date();
      await leases.acquire('iam:spawn-role-01', { runId: 'r-000000000002', channel: SANDBOX_CHANNEL, ts: '1700000000.000200', until: now.getTime() + 3_600_000 }, now);
      const before = await roleState(iam, 'spawn-role-04');

      // act
      let named;
      let all;
      try {
        named = await command(stack, 'alice', 'restore iam spawn-role-01');
        all = await requestRun(stack, 'alice', 'restore iam --all');
        await click(stack, 'bob', all.message, 'run_approve');
      } finally {
        await leases.release('iam:spawn-role-01', 'r-000000000002');
      }

      // assess
      expect(textOf(runMessage(stack.standIn, runIdOf(named)))).toContain('`iam:spawn-role-01` is busy: run `r-000000000002` is working on it');
      expect(runSummary(stack, all.runId)).toMatchObject({ status: 'failed' });
      expect(textOf(stack.standIn.message(all.message.channel, all.message.ts))).toContain('`iam:spawn-role-01` is busy');
      expect(await roleState(iam, 'spawn-role-04')).toEqual(before);
      expect(await roleExists(iam, 'spawn-role-05')).toBe(false);
      // a run that ends frees what it held
      const again = await requestRun(stack, 'alice', 'restore iam spawn-role-04');
      await click(stack, 'bob', again.message, 'run_approve');
      expect(runSummary(stack, again.runId)).toMatchObject({ status: 'succeeded' });
      expect(await leases.holder('iam:spawn-role-04', new Date())).toBeUndefined();
    });

    it('restores from a named export with --backup', async () => {
      // prepare
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'spawn-role-07', PolicyName: 'results' }));

      // act
      const { message } = await requestRun(stack, 'alice', `restore iam spawn-role-07 --backup ${exportKey}`);
      await click(stack, 'bob', message, 'run_approve');

      // assess
      expect(textOf(message)).toContain(`From the IAM export \`${exportKey}\`, taken`);
      expect((await roleState(iam, 'spawn-role-07')).inlines).toEqual({ results: inline(7) });
    });
  });
});
