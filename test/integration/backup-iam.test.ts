import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, PutRolePermissionsBoundaryCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { parseConfig } from '../../src/config/load';
import { DrbotError } from '../../src/errors';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { IamExport } from '../../src/runbooks/backup-iam/runbook';
import { parseCommand } from '../../src/slack/parse';
import { fail } from '../helpers/faults';
import { command, recordedSlackWaits, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr backup iam on the local stack against moto: the export's content in the backup bucket, the
 * latest pointer, the roles outside the prefix left out, a dry run that writes nothing, and AWS
 * refusing mid-run (injected as SDK middleware on the runbook's own clients, since moto enforces no IAM).
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const ACCOUNT_POLICY = 'spawn-read-artifacts';
const trust = (service: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
const inline = (i: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::spawn-results-us-east-1/r${i}/*` }] });

async function objectText(stack: LocalStack, key: string): Promise<string> {
  const r = await stack.clients.s3('us-east-1').send(new GetObjectCommand({ Bucket: BACKUPS, Key: key }));
  return (await r.Body?.transformToString()) ?? '';
}

async function keysUnder(stack: LocalStack, prefix: string): Promise<string[]> {
  const r = await stack.clients.s3('us-east-1').send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key ?? '');
}

describe('/dr backup iam', () => {
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, slackRetry });
  let stack: LocalStack;

  beforeAll(async () => {
    stack = getStack();
    const iam = stack.clients.iam('us-east-1');
    const s3 = stack.clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BACKUPS }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BACKUPS, VersioningConfiguration: { Status: 'Enabled' } }));
    const policy = await iam.send(new CreatePolicyCommand({ PolicyName: ACCOUNT_POLICY, PolicyDocument: inline(99) }));
    const boundary = await iam.send(new CreatePolicyCommand({ PolicyName: 'spawn-boundary', PolicyDocument: inline(98) }));
    for (let i = 0; i < 12; i++) {
      const RoleName = `spawn-role-${String(i).padStart(2, '0')}`;
      await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust('ec2.amazonaws.com'), Description: `worker ${i}`, MaxSessionDuration: 7200, Tags: [{ Key: 'team', Value: 'spawn' }] }));
      await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'read-results', PolicyDocument: inline(i) }));
      await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: policy.Policy?.Arn }));
    }
    await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: 'spawn-role-00', PermissionsBoundary: boundary.Policy?.Arn }));
    await iam.send(new CreateRoleCommand({ RoleName: 'payments-admin', AssumeRolePolicyDocument: trust('lambda.amazonaws.com') }));
    const foreign = await iam.send(new CreatePolicyCommand({ PolicyName: 'payments-policy', PolicyDocument: inline(97) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'payments-admin', PolicyArn: foreign.Policy?.Arn }));
  });

  it('plans a dry run with the counts and writes nothing', async () => {
    // prepare
    const before = await keysUnder(stack, 'iam/');

    // act
    const reply = await command(stack, 'alice', 'backup iam --dry-run');

    // assess
    const runId = runIdOf(reply);
    const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
    expect(textOf(msg)).toContain('*12* roles named `spawn…`: 12 inline policies, 12 attached managed policies (1 customer-managed, their documents included)');
    expect(textOf(msg)).toContain(`Would write \`s3://${BACKUPS}/iam/`);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    expect(await keysUnder(stack, 'iam/')).toEqual(before);
  });

  it('exports every role within the prefix, whole, with the customer-managed documents, and points latest at it', async () => {
    // act
    const reply = await command(stack, 'alice', 'backup iam');

    // assess: the run
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
    expect(textOf(msg)).toContain('Exported *12* roles to');
    expect(textOf(msg)).toContain('Verified by reading it back: same checksum, every role present.');
    // the export
    const pointer = JSON.parse(await objectText(stack, 'iam/latest.json')) as { key: string; runId: string; roles: number };
    expect(pointer).toMatchObject({ runId, roles: 12 });
    expect(pointer.key).toMatch(new RegExp(`^iam/\\d{4}-\\d{2}-\\d{2}/${runId}\\.json$`));
    const doc = JSON.parse(await objectText(stack, pointer.key)) as IamExport;
    expect(doc.format).toBe('drbot-iam-export/1');
    expect(doc.roles.map((r) => r.name)).toEqual(Array.from({ length: 12 }, (_, i) => `spawn-role-${String(i).padStart(2, '0')}`));
    const first = doc.roles[0];
    expect(first).toMatchObject({
      description: 'worker 0',
      maxSessionDuration: 7200,
      trustPolicy: JSON.parse(trust('ec2.amazonaws.com')) as unknown,
      tags: [{ key: 'team', value: 'spawn' }],
      inlinePolicies: [{ name: 'read-results', document: JSON.parse(inline(0)) as unknown }],
    });
    expect(first?.permissionsBoundary).toMatch(/policy\/spawn-boundary$/);
    expect(first?.attachedPolicies.map((p) => p.name)).toEqual([ACCOUNT_POLICY]);
    expect(doc.managedPolicies).toEqual([expect.objectContaining({ name: ACCOUNT_POLICY, document: JSON.parse(inline(99)) as unknown })]);
    expect(doc.roles.some((r) => r.name === 'payments-admin')).toBe(false);
    const head = await stack.clients.s3('us-east-1').send(new HeadObjectCommand({ Bucket: BACKUPS, Key: pointer.key }));
    expect(head.Metadata).toMatchObject({ 'role-count': '12', 'drbot-run': runId });
  });

  it('stops at the plan with the operation and the fix when IAM denies the read; nothing is written', async () => {
    // prepare
    const before = await keysUnder(stack, 'iam/');
    const undo = fail(stack.clients.iam('us-east-1'), 'GetAccountAuthorizationDetailsCommand', { name: 'AccessDenied', message: 'User is not authorized to perform: iam:GetAccountAuthorizationDetails' });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup iam');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(textOf(msg)).toContain('GetAccountAuthorizationDetails on `IAM` failed');
    expect(textOf(msg)).toContain("Grant the bot's role permission for `GetAccountAuthorizationDetails`");
    expect(await keysUnder(stack, 'iam/')).toEqual(before);
  });

  it('fails the run, saying so, when the write to the backup bucket is denied mid-run; latest still points at the last good export', async () => {
    // prepare: a good export first, whatever ran before
    expect(runSummary(stack, runIdOf(await command(stack, 'alice', 'backup iam')))).toMatchObject({ status: 'succeeded' });
    const latestBefore = await objectText(stack, 'iam/latest.json');
    const undo = fail(stack.clients.s3('us-east-1'), 'PutObjectCommand', { name: 'AccessDenied', message: 'Access Denied' });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup iam');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(textOf(msg)).toContain(`PutObject on \`${BACKUPS}/iam/`);
    expect(await objectText(stack, 'iam/latest.json')).toBe(latestBefore);
    expect((await keysUnder(stack, 'iam/')).some((k) => k.includes(runId))).toBe(false);
  });

  it('slack-429-on-final-update: the export is written and its message still ends Done after Slack rate-limits the last update', async () => {
    // prepare: the final update ("Done: …") is rate limited six times, more than a step's own retries
    const waited = slackRetry.waits.length;
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 6 ? { status: 429, retryAfter: 1 } : undefined);

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup iam');
    } finally {
      delete stack.standIn.fault;
    }

    // assess: AWS's end state, the run, and the message
    const runId = runIdOf(reply);
    expect(limited).toBe(7);
    expect(slackRetry.waits.slice(waited)).toEqual(Array(6).fill(1000));
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const pointer = JSON.parse(await objectText(stack, 'iam/latest.json')) as { key: string; runId: string; roles: number };
    expect(pointer).toMatchObject({ runId, roles: 12 });
    expect((JSON.parse(await objectText(stack, pointer.key)) as IamExport).roles).toHaveLength(12);
    const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
    expect(textOf(msg)).toMatch(/^✅ Done/);
    expect(textOf(msg)).toContain('Exported *12* roles to');
  });

  it('refuses at the command, naming the config field, when no backup bucket is configured', () => {
    // prepare
    const { backupBucket: _none, ...rest } = SANDBOX_CONFIG;
    const config = parseConfig(rest);

    // act
    let error: unknown;
    try {
      parseCommand('backup iam', config, new Date());
    } catch (e) {
      error = e;
    }

    // assess
    expect(error).toBeInstanceOf(DrbotError);
    expect((error as DrbotError).code).toBe('no_backup_bucket');
    expect((error as DrbotError).hint).toContain('`backupBucket`');
  });
});
