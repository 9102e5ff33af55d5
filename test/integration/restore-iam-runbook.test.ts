/**
 * The IAM restore runbook (src/runbooks/restore-iam/runbook.ts, `/dr restore iam`) on its own,
 * against moto: which export its plan trusts and refuses, what it counts and shows, and what its
 * execution writes, verifies and reports, with IAM refusing on the way. The flows through Slack
 * and approval are restore-iam.test.ts; these need no local stack, so `npm run mutate` can run them
 * for each mutant. Each test has its own role prefix (the config's `iam.rolePrefix`) and its own
 * roles, exported by the backup runbook itself.
 *
 * moto enforces no IAM policy and never throttles: refusals are SDK middleware on the runbook's own
 * client (test/helpers/faults.ts).
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyCommand,
  DetachRolePolicyCommand,
  ListPolicyVersionsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DeleteObjectCommand, GetObjectCommand, type GetObjectCommandOutput, HeadObjectCommand, type ListObjectVersionsCommandOutput, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BackupIamInput } from '../../src/runbooks/backup-iam';
import { LATEST_KEY, runbook as backupRunbook } from '../../src/runbooks/backup-iam/runbook';
import type { RestoreIamInput } from '../../src/runbooks/restore-iam';
import { type RestoreIamPlan, restorePolicy, restoreRole, runbook } from '../../src/runbooks/restore-iam/runbook';
import { sha256Hex } from '../../src/runbooks/exports';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, sdkError, stub, undoFaults } from '../helpers/faults';
import { defaultDocument as docOf, deleteRole as removeRole, roleState as stateOf } from '../helpers/iam-roles';
import { savedResult, useRunbookRig, watchSteps } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const BACKUPS = 'spawn-backups';
const iam = () => rig.moto().clients.iam('us-east-1');
const s3 = () => rig.s3('us-east-1');
const trust = (principal: object) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] });
const doc = (action: string, resource: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Main', Effect: 'Allow', Action: action, Resource: resource }] });
const date = /<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+>/.source;
const roleState = (name: string) => stateOf(iam(), name);
const defaultDocument = (arn: string) => docOf(iam(), arn);
const deleteRole = (name: string) => removeRole(iam(), name);
/** The plan's diff as it shows in the plan itself, in a code block. */
const diffBlock = (lines: string[]) => `Diff (\`-\` is IAM now, \`+\` is the export: what the restore writes):\n\`\`\`\n${lines.join('\n')}\n\`\`\``;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  await rig.makeBucket(BACKUPS, 'us-east-1');
});

interface Estate {
  prefix: string;
  roles: string[];
  policyArn: string;
  key: string;
  backupRun: string;
}

/**
 * `count` roles under a prefix of their own (the config pointed at it), each with a trust policy,
 * description, tags, an inline policy and the prefix's managed policy, exported by /dr backup iam.
 */
async function estate(count = 3): Promise<Estate> {
  const prefix = `t${++n}-`;
  rig.configure({ iam: { rolePrefix: prefix } });
  const policy = await iam().send(new CreatePolicyCommand({ PolicyName: `${prefix}read`, PolicyDocument: doc('s3:GetObject', 'arn:aws:s3:::spawn-binaries/*') }));
  const policyArn = policy.Policy?.Arn ?? '';
  const roles: string[] = [];
  for (let i = 0; i < count; i++) {
    const RoleName = `${prefix}role-${i}`;
    await iam().send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust({ Service: 'ec2.amazonaws.com' }), Description: `worker ${i}`, MaxSessionDuration: 7200, Tags: [{ Key: 'team', Value: 'spawn' }] }));
    await iam().send(new PutRolePolicyCommand({ RoleName, PolicyName: 'results', PolicyDocument: doc('s3:PutObject', `arn:aws:s3:::spawn-results/r${i}/*`) }));
    await iam().send(new AttachRolePolicyCommand({ RoleName, PolicyArn: policyArn }));
    roles.push(RoleName);
  }
  const { key, runId } = await backup();
  return { prefix, roles, policyArn, key, backupRun: runId };
}

async function backup(): Promise<{ key: string; runId: string }> {
  // a run ID as drbot makes them: the prune (and the refusal's list of the newest) knows exports by it
  const i = { kind: 'backup-iam', runId: `r-${String(++n).padStart(12, '0')}`, requester: 'UALICE', channel: 'C1', commandText: '/dr backup iam', requestedAt: new Date().toISOString(), dryRun: false, prune: false } as BackupIamInput & AnyRunInput;
  const rb = backupRunbook(i);
  const p = await rb.plan(rig.deps(), i);
  const out = await rig.execute(rb, i, p.data);
  expect(out.ok).toBe(true);
  const pointer = await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: LATEST_KEY }))).Body?.transformToString();
  return { key: (JSON.parse(pointer ?? '{}') as { key: string }).key, runId: i.runId };
}

function input(over: Partial<RestoreIamInput> = {}): RestoreIamInput & AnyRunInput {
  return { kind: 'restore-iam', runId: `r${++n}`, requester: 'UALICE', channel: 'C1', commandText: '/dr restore iam', requestedAt: new Date().toISOString(), roles: [], all: false, dryRun: false, ...over } as RestoreIamInput & AnyRunInput;
}

const plan = (i: RestoreIamInput) => runbook.plan(rig.deps(), i);
const execute = (i: RestoreIamInput & AnyRunInput, p: RestoreIamPlan) => rig.execute(runbook, i, p);

/** IAM changed after the export: role 0's inline policy widened, role 1's managed policy detached and its trust opened, role 2 deleted. */
async function drift(e: Estate): Promise<void> {
  const [r0, r1, r2] = e.roles as [string, string, string | undefined];
  await iam().send(new PutRolePolicyCommand({ RoleName: r0, PolicyName: 'results', PolicyDocument: doc('s3:*', '*') }));
  await iam().send(new DetachRolePolicyCommand({ RoleName: r1, PolicyArn: e.policyArn }));
  await iam().send(new UpdateAssumeRolePolicyCommand({ RoleName: r1, PolicyDocument: trust({ AWS: 'arn:aws:iam::999999999999:root' }) }));
  await iam().send(new UntagRoleCommand({ RoleName: r1, TagKeys: ['team'] }));
  if (r2) await deleteRole(r2);
}

describe('the plan', () => {
  it('no latest pointer, or one that names no export: refused, saying how to make one', async () => {
    await s3().send(new DeleteObjectCommand({ Bucket: BACKUPS, Key: LATEST_KEY }));
    await expect(plan(input({ all: true }))).rejects.toMatchObject({
      code: 'no_iam_export',
      message: `There is no IAM export in \`s3://${BACKUPS}/iam/\` yet, so there is nothing to restore from.`,
      hint: 'Make one with `/dr backup iam` (the daily schedule writes one too), then run the restore again.',
    });
    for (const body of ['not json', '{"key":42}', '{"key":"iam/latest.json"}']) {
      await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: LATEST_KEY, Body: body }));
      await expect(plan(input({ all: true }))).rejects.toMatchObject({
        code: 'bad_export_pointer',
        message: `\`s3://${BACKUPS}/${LATEST_KEY}\` does not point at an IAM export.`,
        hint: 'Run `/dr backup iam` to write a new export and pointer, or name an export with `--backup iam/<yyyy-mm-dd>/<run id>.json`.',
      });
    }
  });

  it('an export key that is not there: refused, naming the newest exports', async () => {
    const e = await estate(1);
    await backup();
    await backup();
    const newer = await backup();
    // the newer export written twice (two versions of one key), and a file under iam/ that is no export of drbot's
    const written = await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: newer.key }));
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: newer.key, Body: (await written.Body?.transformToString()) ?? '', Metadata: written.Metadata ?? {} }));
    const stray = 'iam/2020-01-01/notes.json';
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: stray, Body: '{}' }));
    // the stray file goes even when an assertion fails: the file's later tests list the same bucket
    try {
      // moto's LastModified has second resolution: this test's two exports are made the newest of the file's, the stray file newer still
      const at = (k: string | undefined) => (k === stray ? 180_000 : k === newer.key ? 120_000 : k === e.key ? 60_000 : undefined);
      rewrite<ListObjectVersionsCommandOutput>(s3(), 'ListObjectVersionsCommand', (o) => ({
        ...o,
        Versions: (o.Versions ?? []).map((v) => (at(v.Key) === undefined ? v : { ...v, LastModified: new Date(Date.now() + (at(v.Key) ?? 0)) })),
      }));
      await expect(plan(input({ all: true, backup: 'iam/2020-01-01/nope.json' }))).rejects.toMatchObject({
        code: 'unknown_export',
        message: `There is no IAM export \`iam/2020-01-01/nope.json\` in \`s3://${BACKUPS}\`.`,
        hint: expect.stringMatching(new RegExp(`^The newest: \`iam/[^\`]+\`(, \`iam/[^\`]+\`){2}\\. Or leave out \`--backup\` to use the latest\\.$`)),
      });
      const hint = ((await plan(input({ all: true, backup: 'iam/2020-01-01/nope.json' })).catch((x: unknown) => x)) as { hint: string }).hint;
      expect(hint.startsWith(`The newest: \`${newer.key}\`, \`${e.key}\``)).toBe(true);
      expect(hint).not.toContain(stray);

      // the listing refused: the refusal stands, without the names
      fail(s3(), 'ListObjectVersionsCommand', ACCESS_DENIED);
      await expect(plan(input({ all: true, backup: 'iam/2020-01-01/nope.json' }))).rejects.toMatchObject({ code: 'unknown_export', hint: 'There is no IAM export yet: make one with `/dr backup iam`.' });
    } finally {
      await s3().send(new DeleteObjectCommand({ Bucket: BACKUPS, Key: stray }));
    }
  });

  it('the export unreadable: refused with the S3 error; missing (NoSuchKey or a 404): refused as no such export', async () => {
    const e = await estate(1);
    const undo = fail(s3(), 'GetObjectCommand', ACCESS_DENIED, { when: (x) => x.Key === e.key });
    await expect(plan(input({ all: true, backup: e.key }))).rejects.toMatchObject({ operation: 'GetObject', resource: `${BACKUPS}/${e.key}`, message: expect.stringContaining('not authorized') });
    undo();
    // as the SDK names a missing key, by its name alone or by its HTTP status alone
    for (const missing of [Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }), sdkError({ name: 'NotFound', message: 'Not Found', status: 404 })]) {
      const off = fail(s3(), 'GetObjectCommand', missing, { when: (x) => x.Key === e.key });
      await expect(plan(input({ all: true, backup: e.key }))).rejects.toMatchObject({ code: 'unknown_export', message: `There is no IAM export \`${e.key}\` in \`s3://${BACKUPS}\`.` });
      off();
    }
    // an answer without a body reads as empty: no export drbot reads (its checksum, of nothing, holds)
    stub<GetObjectCommandOutput>(s3(), 'GetObjectCommand', (x) => (x.Key === e.key ? { Metadata: { sha256: sha256Hex('') } } : undefined));
    await expect(plan(input({ all: true, backup: e.key }))).rejects.toMatchObject({ code: 'export_format' });
  });

  it('an export changed after it was written, or not an export drbot reads: refused', async () => {
    const e = await estate(1);
    const body = (await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: e.key }))).Body?.transformToString()) ?? '';
    const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: e.key }));
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: e.key, Body: body.replace('worker 0', 'worker X'), Metadata: { sha256: head.Metadata?.sha256 ?? '' } }));
    await expect(plan(input({ all: true }))).rejects.toMatchObject({
      code: 'export_corrupt',
      message: `The export \`${e.key}\` does not match the checksum it was written with.`,
      hint: 'Restore from another export with `--backup`, or make a new one with `/dr backup iam`.',
    });
    for (const bad of ['{"format":"drbot-iam-export/2","roles":[],"managedPolicies":[]}', '{"format":"drbot-iam-export/1","roles":{},"managedPolicies":[]}', '{"format":"drbot-iam-export/1","roles":[]}', '[]', 'nope']) {
      await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: e.key, Body: bad, Metadata: { sha256: sha256Hex(bad) } }));
      await expect(plan(input({ all: true }))).rejects.toMatchObject({ code: 'export_format', message: `\`${e.key}\` is not an IAM export drbot can read (format drbot-iam-export/1).`, hint: 'Name an export `/dr backup iam` wrote, or make a new one.' });
    }
  });

  it('a named role the export does not hold: refused, naming it and the export', async () => {
    const e = await estate(2);
    await expect(plan(input({ roles: [e.roles[0]!, `${e.prefix}ghost`] }))).rejects.toMatchObject({
      code: 'role_not_in_export',
      message: expect.stringMatching(new RegExp(`^\`${esc(e.prefix)}ghost\` is not in the export \`${esc(e.key)}\` \\(2 roles, exported ${date}\\), so there is nothing to restore it from\\.$`)),
      hint: 'Check the spelling, or name an older export with `--backup iam/<yyyy-mm-dd>/<run id>.json`.',
    });
    await expect(plan(input({ roles: [`${e.prefix}x`, `${e.prefix}y`] }))).rejects.toMatchObject({
      message: expect.stringMatching(new RegExp(`^\`${esc(e.prefix)}x\`, \`${esc(e.prefix)}y\` are not in the export \`${esc(e.key)}\` \\(2 roles, exported ${date}\\), so there is nothing to restore them from\\.$`)),
    });
  });

  it('nothing to restore: an export with no role of the prefix, or every role as exported (a role made since is named and left alone)', async () => {
    const e = await estate(2);
    rig.configure({ iam: { rolePrefix: 'nothing-here-' } });
    const none = await plan(input({ all: true }));
    expect(none).toMatchObject({ empty: true, data: { key: e.key, roles: [], policies: [] } });
    expect(none.lines[1]).toBe('It holds no role named `nothing-here-…`: there is nothing to restore.');

    rig.configure({ iam: { rolePrefix: e.prefix } });
    await iam().send(new CreateRoleCommand({ RoleName: `${e.prefix}newer`, AssumeRolePolicyDocument: trust({ Service: 'lambda.amazonaws.com' }) }));
    const same = await plan(input({ all: true }));
    expect(same.empty).toBe(true);
    expect(same.lines[0]).toMatch(new RegExp(`^From the IAM export \`${esc(e.key)}\` \\(the latest\\), taken ${date} by run \`${e.backupRun}\`$`));
    expect(same.lines.slice(1)).toEqual(['All 2 roles match the export: nothing to restore.', `Not in the export, left as it is (drbot never deletes a role): \`${e.prefix}newer\``]);
    const named = await plan(input({ roles: [e.roles[0]!], backup: e.key }));
    expect(named.lines).toEqual([expect.stringMatching(new RegExp(`^From the IAM export \`${esc(e.key)}\`, taken ${date} by run \`${e.backupRun}\`$`)), `The role \`${e.roles[0]}\` matches the export: nothing to restore.`]);

    // more roles made since: five named, then the sixth counted
    const made = [`${e.prefix}newer`];
    for (const x of ['a', 'b', 'c', 'd']) {
      made.push(`${e.prefix}x-${x}`);
      await iam().send(new CreateRoleCommand({ RoleName: `${e.prefix}x-${x}`, AssumeRolePolicyDocument: trust({ Service: 'lambda.amazonaws.com' }) }));
    }
    const five = await plan(input({ all: true }));
    expect(five.lines.at(-1)).toBe(`Not in the export, left as they are (drbot never deletes a role): ${made.map((r) => `\`${r}\``).join(', ')}`);
    await iam().send(new CreateRoleCommand({ RoleName: `${e.prefix}x-e`, AssumeRolePolicyDocument: trust({ Service: 'lambda.amazonaws.com' }) }));
    const six = await plan(input({ all: true }));
    expect(six.lines.at(-1)).toBe(`Not in the export, left as they are (drbot never deletes a role): ${made.map((r) => `\`${r}\``).join(', ')}, …and 1 more`);
  });

  it('an export without its run ID, naming an AWS-managed policy: the run shown as ?, the AWS policy attached, never compared', async () => {
    const e = await estate(1);
    const [r0] = e.roles as [string];
    const aws = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    const exported = JSON.parse((await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: e.key }))).Body?.transformToString()) ?? '{}') as {
      runId?: string;
      roles: { attachedPolicies: { name: string; arn: string }[] }[];
      managedPolicies: { name: string; arn: string; defaultVersionId: string; document: unknown }[];
    };
    delete exported.runId;
    exported.roles[0]?.attachedPolicies.push({ name: 'ReadOnlyAccess', arn: aws });
    exported.managedPolicies.push({ name: 'ReadOnlyAccess', arn: aws, defaultVersionId: 'v1', document: JSON.parse(doc('s3:Get*', '*')) });
    const body = JSON.stringify(exported);
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: e.key, Body: body, Metadata: { sha256: sha256Hex(body) } }));

    const p = await plan(input({ roles: [r0], backup: e.key }));

    expect(p.lines[0]).toMatch(new RegExp(`^From the IAM export \`${esc(e.key)}\`, taken ${date} by run \`\\?\`: 1 role compared with IAM$`));
    expect(p.data).toMatchObject({ roles: [r0], policies: [] });
    expect(p.lines[1]).toBe('*1* role differs: 1 change will be written, nothing else');
    // no note on the AWS-managed policy: drbot neither reads nor writes one
    expect(p.lines).toHaveLength(3);
  });

  it('roles named: only the managed policies they attach are compared', async () => {
    const e = await estate(2);
    const [r0, r1] = e.roles as [string, string];
    const other = await iam().send(new CreatePolicyCommand({ PolicyName: `${e.prefix}write`, PolicyDocument: doc('s3:PutObject', 'arn:aws:s3:::spawn-binaries/*') }));
    await iam().send(new AttachRolePolicyCommand({ RoleName: r1, PolicyArn: other.Policy?.Arn }));
    const { key } = await backup();
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: other.Policy?.Arn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));

    const p0 = await plan(input({ roles: [r0], backup: key }));
    const p1 = await plan(input({ roles: [r1], backup: key }));

    expect(p0.data.policies).toEqual([e.policyArn]);
    expect(p1.data.policies).toEqual([e.policyArn, other.Policy?.Arn]);
    expect(p1.lines[1]).toBe('*2* managed policy documents differ: 2 changes will be written, nothing else; 1 role already matches');
  });

  it('only roles differ, every one of them: the head says so and no more; the diff whole', async () => {
    const e = await estate(2);
    const [r0, r1] = e.roles as [string, string];
    await iam().send(new PutRolePolicyCommand({ RoleName: r0, PolicyName: 'results', PolicyDocument: doc('s3:*', '*') }));
    await iam().send(new UntagRoleCommand({ RoleName: r1, TagKeys: ['team'] }));

    const p = await plan(input({ all: true }));

    expect(p.lines).toEqual([
      expect.stringMatching(/: 2 roles compared with IAM$/),
      '*2* roles differ: 2 changes will be written, nothing else',
      diffBlock([
        r0,
        '  inline policy results',
        '    - Sid Main: {"Action":"s3:*","Effect":"Allow","Resource":"*","Sid":"Main"}',
        '    + Sid Main: {"Action":"s3:PutObject","Effect":"Allow","Resource":"arn:aws:s3:::spawn-results/r0/*","Sid":"Main"}',
        '',
        r1,
        '  tag team',
        '    + spawn',
      ]),
    ]);
  });

  it('only a managed policy document differs: the head says so, the roles that match counted', async () => {
    const e = await estate(3);
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));

    const p = await plan(input({ all: true }));

    expect(p.lines).toEqual([
      expect.stringMatching(/: 3 roles compared with IAM$/),
      '*1* managed policy document differs: 1 change will be written, nothing else; 3 roles already match',
      diffBlock([
        `managed policy ${e.prefix}read (${e.policyArn}): default version`,
        '    - Sid Main: {"Action":"s3:*","Effect":"Allow","Resource":"*","Sid":"Main"}',
        '    + Sid Main: {"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::spawn-binaries/*","Sid":"Main"}',
      ]),
    ]);
  });

  it('the diff: roles that differ (one deleted, to create again) and how many changes; a managed policy document changed; a dry run says would', async () => {
    const e = await estate(4);
    await drift(e);
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));

    const p = await plan(input({ all: true }));
    const dry = await plan(input({ all: true, dryRun: true }));

    expect(p.empty).toBeUndefined();
    expect(p.data).toEqual({ bucket: BACKUPS, key: e.key, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), roles: e.roles.slice(0, 3), policies: [e.policyArn] });
    expect(p.lines[0]).toMatch(new RegExp(`by run \`${e.backupRun}\`: 4 roles compared with IAM$`));
    // role 0: inline; role 1: trust, attach, tag; role 2: created, its inline and its managed policy; the policy's document
    expect(p.lines[1]).toBe('*3* roles differ (1 deleted since the export, to create again) and *1* managed policy document differs: 8 changes will be written, nothing else; 1 role already matches');
    expect(dry.lines[1]).toContain(': 8 changes would be written, nothing else');
    expect(p.lines).toContain('A role created again gets a new role ID: resource policies that named the old role (S3 buckets, KMS keys, trust in other accounts) now show its old ID and must name the role again.');
    const diff = p.lines.find((l) => l.startsWith('Diff ('));
    expect(diff).toContain(e.roles[2]);
  });

  it('title and resources: the named roles before the plan, the planned roles and policies after', () => {
    expect(runbook.title(input({ all: true }))).toBe('Restore the IAM roles of an export');
    expect(runbook.title(input({ roles: ['spawn-a'] }))).toBe('Restore IAM role spawn-a');
    expect(runbook.title(input({ roles: ['spawn-a', 'spawn-b'] }))).toBe('Restore 2 IAM roles');
    expect(runbook.resources?.(input({ roles: ['spawn-a', 'spawn-b'] }))).toEqual(['iam:spawn-a', 'iam:spawn-b']);
    expect(runbook.resources?.(input({ all: true }), { roles: ['spawn-c'], policies: ['arn:aws:iam::123456789012:policy/team/spawn-read'] } as RestoreIamPlan)).toEqual(['iam:spawn-c', 'iam:policy/spawn-read']);
  });
});

describe('the execution', () => {
  it('writes only the differences, creates the deleted role again, puts the policy document back, and verifies by exporting again', async () => {
    const e = await estate(3);
    const before = await Promise.all(e.roles.map(roleState));
    const document = await defaultDocument(e.policyArn);
    await drift(e);
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    const i = input({ all: true });
    const p = await plan(i);

    const out = await execute(i, p.data);

    expect(await Promise.all(e.roles.map(roleState))).toEqual(before);
    expect(await defaultDocument(e.policyArn)).toEqual(document);
    expect(out.failures).toEqual([]);
    expect(out.ok).toBe(true);
    expect(out.reports).toEqual([
      [1, 4, 'policies and roles restored'],
      [2, 4, 'policies and roles restored'],
      [3, 4, 'policies and roles restored'],
      [4, 4, 'policies and roles restored'],
    ]);
    expect(out.lines[0]).toBe(`Restored *3* of 3 roles from \`${e.key}\` (1 created again) and 1 of 1 managed policy.`);
    expect(out.lines[1]).toMatch(new RegExp(`^• Managed policy \`${esc(e.prefix)}read\`: the export's document is the new default version \`v\\d+\`$`));
    expect(out.lines[4]).toBe(`• \`${e.roles[2]}\`: *deleted* since the export; created again with 1 inline policy, 1 managed policy and 1 tag`);
    expect(out.lines[5]).toBe(':mag: Verified by exporting IAM again: the 3 roles match the export, *0* differences.');
    expect(out.lines).toHaveLength(6);

    // again: nothing left to write
    const again = await execute(input({ all: true }), p.data);
    expect(again.lines.slice(1, 5)).toEqual([`• Managed policy \`${e.prefix}read\`: already matched the export`, ...e.roles.slice(0, 3).map((r) => `• \`${r}\`: already matched the export`)]);
  });

  it('a managed policy deleted since the export is created again before the roles attach it', async () => {
    const e = await estate(1);
    const [r0] = e.roles as [string];
    await iam().send(new DetachRolePolicyCommand({ RoleName: r0, PolicyArn: e.policyArn }));
    await iam().send(new DeletePolicyCommand({ PolicyArn: e.policyArn }));
    const i = input({ roles: [r0] });
    const p = await plan(i);
    expect(p.lines[1]).toBe('*1* role differs and *1* managed policy document differs: 2 changes will be written, nothing else');
    expect(p.lines[2]).toBe(
      diffBlock([
        `managed policy ${e.prefix}read (${e.policyArn}): deleted since the export, created again`,
        '    + Version: "2012-10-17"',
        '    + Sid Main: {"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::spawn-binaries/*","Sid":"Main"}',
        '',
        r0,
        `  + managed policy ${e.prefix}read (${e.policyArn}): attached`,
      ]),
    );

    const out = await rig.executeWatched(runbook, i, p.data);

    expect(out.checkpoints).toEqual(['export', `policy ${e.prefix}read`, `role ${r0}`, 'verify']);
    expect((await roleState(r0)).attached).toEqual([`${e.prefix}read`]);
    expect(out.lines[0]).toBe(`Restored *1* of 1 role from \`${e.key}\` and 1 of 1 managed policy.`);
    expect(out.lines[1]).toBe(`• Managed policy \`${e.prefix}read\` created again from the export`);
    expect(out.lines.at(-1)).toBe(':mag: Verified by exporting IAM again: the 1 role matches the export, *0* differences.');
  });

  it('a managed policy detached since the export, attached to no role now: read as it is (unchanged), only attached again', async () => {
    const e = await estate(1);
    const [r0] = e.roles as [string];
    await iam().send(new DetachRolePolicyCommand({ RoleName: r0, PolicyArn: e.policyArn }));
    const i = input({ roles: [r0] });
    const p = await plan(i);
    expect(p.lines[1]).toBe('*1* role differs: 1 change will be written, nothing else');
    expect(p.lines[2]).toBe(diffBlock([r0, `  + managed policy ${e.prefix}read (${e.policyArn}): attached`]));

    const out = await rig.executeWatched(runbook, i, p.data);

    expect(out.checkpoints).toEqual(['export', `role ${r0}`, 'verify']);
    expect(out.ok).toBe(true);
    expect((await roleState(r0)).attached).toEqual([`${e.prefix}read`]);
    expect(await defaultDocument(e.policyArn)).toEqual(JSON.parse(doc('s3:GetObject', 'arn:aws:s3:::spawn-binaries/*')));
    expect(out.lines.at(-1)).toBe(':mag: Verified by exporting IAM again: the 1 role matches the export, *0* differences.');
  });

  it('AccessDenied on one role: the others are restored; the report names it, the difference left, and the run fails', async () => {
    const e = await estate(3);
    await drift(e);
    const [r0, r1] = e.roles as [string, string];
    fail(iam(), 'PutRolePolicyCommand', ACCESS_DENIED, { when: (x) => x.RoleName === r0 });
    const i = input({ all: true });

    const out = await execute(i, (await plan(i)).data);

    expect((await roleState(r1)).attached).toEqual([`${e.prefix}read`]);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`Restored *2* of 3 roles from \`${e.key}\` (1 created again).`);
    expect(out.lines).toContainEqual(expect.stringMatching(new RegExp(`^:warning: Verified by exporting IAM again: \\*1\\* difference remains: \`${esc(r0)}\`: inline \`results\``)));
    expect(out.lines.at(-1)).toBe(`:x: Not restored: \`${r0}\`; the others were. The reasons are below.`);
    expect(out.failures).toEqual([expect.stringMatching(new RegExp(`^${esc(r0)}: .*not authorized`))]);
  });

  it('every write refused: nothing restored, the policy named too', async () => {
    const e = await estate(2);
    await drift(e);
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    const i = input({ all: true });
    const p = await plan(i);
    for (const c of ['PutRolePolicyCommand', 'AttachRolePolicyCommand', 'UpdateAssumeRolePolicyCommand', 'TagRoleCommand', 'CreatePolicyVersionCommand', 'DeletePolicyVersionCommand']) fail(iam(), c, ACCESS_DENIED);

    const out = await execute(i, p.data);

    expect(out.lines[0]).toBe(`Restored *0* of 2 roles from \`${e.key}\` and 0 of 1 managed policy.`);
    expect(out.lines.at(-1)).toBe(`:x: Not restored: \`${e.prefix}read\`, ${e.roles.map((r) => `\`${r}\``).join(', ')}. The reasons are below.`);
    expect(out.failures[0]).toMatch(new RegExp(`^managed policy ${esc(e.prefix)}read: .*not authorized`));
    expect(out.lines).toContainEqual(expect.stringMatching(/^:warning: Verified by exporting IAM again: \*\d+\* differences remain: /));
  });

  it('the export changed after the plan: the run fails before any write', async () => {
    const e = await estate(2);
    await drift(e);
    const i = input({ all: true });
    const p = await plan(i);
    const body = '{"format":"drbot-iam-export/1","roles":[],"managedPolicies":[]}';
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: e.key, Body: body, Metadata: { sha256: sha256Hex(body) } }));
    const before = await roleState(e.roles[0]!);

    let checkpoints: string[] = [];
    const r = await rig.run((ctx, d, x) => {
      const watched = watchSteps(ctx);
      checkpoints = watched.checkpoints;
      return runbook.execute(watched.ctx, d, x as RestoreIamInput & AnyRunInput, p.data, { report: async () => {} });
    }, i);

    expect(checkpoints).toEqual(['export']);
    expect(r.status).toBe('FAILED');
    expect(r.error).toContain(`The export \`${e.key}\` changed after the plan was made; nothing was written.`);
    // the error as the driver gets it, with its code and hint
    const caught = await rig.durable((ctx, d, x) => runbook.execute(ctx, d, x as RestoreIamInput & AnyRunInput, p.data, { report: async () => {} }).then(() => ({}), (err: { code?: string; hint?: string }) => ({ code: err.code, hint: err.hint })), input({ all: true }));
    expect(caught).toEqual({ code: 'export_changed', hint: 'Run the restore again to review the diff against it as it is now.' });
    expect(await roleState(e.roles[0]!)).toEqual(before);
  });

  it('more than 12 lines: the rest counted; a policy at IAM\'s five versions loses its oldest non-default one', async () => {
    const e = await estate(14);
    for (const r of e.roles) await iam().send(new UntagRoleCommand({ RoleName: r, TagKeys: ['team'] }));
    for (let v = 0; v < 4; v++) await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc(`s3:Get${v}`, '*'), SetAsDefault: true }));
    const i = input({ all: true });

    const out = await execute(i, (await plan(i)).data);

    expect(out.lines[0]).toBe(`Restored *14* of 14 roles from \`${e.key}\` and 1 of 1 managed policy.`);
    // v1 (the export's document) and v2..v5 made since, v5 the default: v1 goes, the export's document comes back as v6
    expect(out.lines[1]).toBe(`• Managed policy \`${e.prefix}read\`: the export's document is the new default version \`v6\` (deleted the oldest version, \`v1\`, to stay within IAM's 5)`);
    expect(out.lines[13]).toBe('• …and 3 more');
    expect(out.lines[14]).toBe(':mag: Verified by exporting IAM again: the 14 roles match the export, *0* differences.');
    expect(((await iam().send(new ListPolicyVersionsCommand({ PolicyArn: e.policyArn }))).Versions ?? []).map((v) => v.VersionId).sort()).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);

    // 12 lines exactly: all shown, none counted
    const twelve = await execute(i, { ...(await plan(i)).data, policies: [e.policyArn], roles: e.roles.slice(0, 11) });
    expect(twelve.lines).toHaveLength(14);
    expect(twelve.lines[12]).toBe(`• \`${e.roles[10]}\`: already matched the export`);
    expect(twelve.lines[13]).toBe(':mag: Verified by exporting IAM again: the 14 roles match the export, *0* differences.');

    // every tag refused: the first 5 differences named, the rest counted
    for (const r of e.roles) await iam().send(new UntagRoleCommand({ RoleName: r, TagKeys: ['team'] }));
    const p = await plan(i);
    fail(iam(), 'TagRoleCommand', ACCESS_DENIED);
    const refused = await execute(i, p.data);
    const first = [...e.roles].sort((a, b) => a.localeCompare(b)).slice(0, 5);
    expect(refused.lines).toContain(`:warning: Verified by exporting IAM again: *14* differences remain: ${first.map((r) => `\`${r}\`: tag \`team\` put back`).join('; ')}; …and 9 more`);
  });

  it('a managed policy named outside the prefix is shown, never written, nor counted; what is left after refusals is named', async () => {
    const e = await estate(2);
    const [r0, r1] = e.roles as [string, string];
    const ext = await iam().send(new CreatePolicyCommand({ PolicyName: `ext-${e.prefix}read`, PolicyDocument: doc('s3:GetObject', 'arn:aws:s3:::spawn-ext/*') }));
    const extArn = ext.Policy?.Arn ?? '';
    await iam().send(new AttachRolePolicyCommand({ RoleName: r0, PolicyArn: extArn }));
    await backup();
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: extArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    await iam().send(new PutRolePolicyCommand({ RoleName: r1, PolicyName: 'results', PolicyDocument: doc('s3:*', '*') }));
    const i = input({ all: true });

    const p = await plan(i);
    fail(iam(), 'CreatePolicyVersionCommand', ACCESS_DENIED);
    fail(iam(), 'PutRolePolicyCommand', ACCESS_DENIED, { when: (x) => x.RoleName === r1 });
    const out = await execute(i, p.data);

    expect(p.data.policies).toEqual([e.policyArn]);
    expect(p.data.roles).toEqual([r1]);
    expect(p.lines[1]).toBe('*1* role differs and *1* managed policy document differs: 2 changes will be written, nothing else; 1 role already matches');
    expect(p.lines.slice(3)).toEqual([`Managed policy \`ext-${e.prefix}read\` differs from the export; it is named outside \`iam.rolePrefix\`, so drbot leaves it as it is`]);
    expect(await defaultDocument(extArn)).toEqual(JSON.parse(doc('s3:*', '*')));
    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `Restored *0* of 1 role from \`${p.data.key}\` and 0 of 1 managed policy.`,
      `:warning: Verified by exporting IAM again: *2* differences remain: Managed policy \`${e.prefix}read\`: its document becomes a new default version; \`${r1}\`: inline \`results\` (1 statement changed)`,
      `:x: Not restored: \`${e.prefix}read\`, \`${r1}\`. The reasons are below.`,
    ]);
  });

  it('a plan naming a policy or role the export does not hold: those fail, the rest is restored, and the run fails', async () => {
    const e = await estate(1);
    const [r0] = e.roles as [string];
    const write = await iam().send(new CreatePolicyCommand({ PolicyName: `${e.prefix}write`, PolicyDocument: doc('s3:PutObject', 'arn:aws:s3:::spawn-binaries/*') }));
    const writeArn = write.Policy?.Arn ?? '';
    await iam().send(new AttachRolePolicyCommand({ RoleName: r0, PolicyArn: writeArn }));
    const { key } = await backup();
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: writeArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    const i = input({ all: true });
    const p = await plan(i);
    expect(p.data.policies).toEqual([writeArn]);
    const ghostArn = e.policyArn.replace(/read$/, 'ghost');

    const out = await rig.executeWatched(runbook, i, { ...p.data, policies: [ghostArn, writeArn], roles: [`${e.prefix}ghost`] });

    expect(await defaultDocument(writeArn)).toEqual(JSON.parse(doc('s3:PutObject', 'arn:aws:s3:::spawn-binaries/*')));
    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `Restored *0* of 1 role from \`${key}\` and 1 of 2 managed policies.`,
      `• Managed policy \`${e.prefix}write\`: the export's document is the new default version \`v3\``,
      ':mag: Verified by exporting IAM again: the 1 role matches the export, *0* differences.',
      `:x: Not restored: \`${e.prefix}ghost\`, \`${e.prefix}ghost\`. The reasons are below.`,
    ]);
    expect(out.failures).toEqual([
      `managed policy ${e.prefix}ghost: Managed policy \`${ghostArn}\` is not in the export. Run the restore again.`,
      `${e.prefix}ghost: Role \`${e.prefix}ghost\` is not in the export. Run the restore again.`,
    ]);
    // the steps' checkpoints keep each failure's code
    const saved = (name: string) => savedResult<{ code?: string }>(out.history, name)?.code;
    expect([saved(`policy ${e.prefix}ghost`), saved(`role ${e.prefix}ghost`)]).toEqual(['policy_not_in_export', 'role_not_in_export']);
  });

  it('roles that still exist: an attachment and a tag made since are taken off; nothing is created, nothing else is sent', async () => {
    const e = await estate(2);
    const [r0, r1] = e.roles as [string, string];
    const before = await Promise.all(e.roles.map(roleState));
    const extra = await iam().send(new CreatePolicyCommand({ PolicyName: `${e.prefix}extra`, PolicyDocument: doc('s3:ListBucket', '*') }));
    await iam().send(new AttachRolePolicyCommand({ RoleName: r0, PolicyArn: extra.Policy?.Arn }));
    await iam().send(new TagRoleCommand({ RoleName: r0, Tags: [{ Key: 'added', Value: 'since' }] }));
    await iam().send(new PutRolePolicyCommand({ RoleName: r1, PolicyName: 'results', PolicyDocument: doc('s3:*', '*') }));
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: e.policyArn, PolicyDocument: doc('s3:*', '*'), SetAsDefault: true }));
    const i = input({ all: true });
    const p = await plan(i);
    // what a restore of roles and policies that exist never sends
    fail(iam(), 'CreateRoleCommand', ACCESS_DENIED);
    fail(iam(), 'CreatePolicyCommand', ACCESS_DENIED);
    fail(iam(), 'UntagRoleCommand', ACCESS_DENIED, { when: (x) => x.RoleName === r1 });

    const out = await execute(i, p.data);

    expect(out.failures).toEqual([]);
    expect(await Promise.all(e.roles.map(roleState))).toEqual(before);
    expect(out.lines.slice(2, 4)).toEqual([`• \`${r0}\`: \`${e.prefix}extra\` detached, tag \`added\` removed`, `• \`${r1}\`: inline \`results\` (1 statement changed)`]);
    expect(out.ok).toBe(true);
  });

  it('restoreRole and restorePolicy on their own: what they count and say, and a policy that is there and is not', async () => {
    const e = await estate(1);
    const [r0] = e.roles as [string];
    const exported = JSON.parse((await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: e.key }))).Body?.transformToString()) ?? '{}') as { roles: Parameters<typeof restoreRole>[1][] };
    const want = exported.roles.find((r) => r.name === r0);
    if (!want) throw new Error('role 0 is not in its export');
    await deleteRole(r0);

    expect(await restoreRole(iam(), want)).toEqual({ created: true, changes: 3, summary: `\`${r0}\`: *deleted* since the export; created again with 1 inline policy, 1 managed policy and 1 tag` });
    expect(await restoreRole(iam(), want)).toEqual({ created: false, changes: 0, summary: `\`${r0}\`: already matched the export` });
    // a policy without its name in the export is named by its ARN
    const document = await defaultDocument(e.policyArn);
    expect(await restorePolicy(iam(), { arn: e.policyArn, name: '', document })).toEqual({ summary: `Managed policy \`${e.prefix}read\`: already matched the export` });

    // gone at the first read, there when created again (made meanwhile): compared as it is
    fail(iam(), 'GetPolicyCommand', sdkError({ name: 'NoSuchEntity', message: 'Policy not found.', status: 404 }), { times: 1 });
    expect(await restorePolicy(iam(), { arn: e.policyArn, name: `${e.prefix}read`, document })).toEqual({ summary: `Managed policy \`${e.prefix}read\`: already matched the export` });

    // deleted, yet IAM says it exists when it is created again
    await iam().send(new DetachRolePolicyCommand({ RoleName: r0, PolicyArn: e.policyArn }));
    await iam().send(new DeletePolicyCommand({ PolicyArn: e.policyArn }));
    fail(iam(), 'CreatePolicyCommand', sdkError({ name: 'EntityAlreadyExists', message: 'A policy called that already exists.', status: 409 }));
    await expect(restorePolicy(iam(), { arn: e.policyArn, name: `${e.prefix}read`, document })).rejects.toMatchObject({
      code: 'policy_vanished',
      message: `Managed policy \`${e.prefix}read\` exists and does not; IAM is changing under the restore.`,
      hint: 'Run the restore again in a minute.',
    });
  });
});
