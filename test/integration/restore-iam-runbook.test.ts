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
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type ListObjectVersionsCommandOutput, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BackupIamInput } from '../../src/runbooks/backup-iam';
import { LATEST_KEY, runbook as backupRunbook } from '../../src/runbooks/backup-iam/runbook';
import type { RestoreIamInput } from '../../src/runbooks/restore-iam';
import { type RestoreIamPlan, runbook } from '../../src/runbooks/restore-iam/runbook';
import { sha256Hex } from '../../src/runbooks/exports';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { defaultDocument as docOf, deleteRole as removeRole, roleState as stateOf } from '../helpers/iam-roles';
import { useRunbookRig } from '../helpers/runbook-rig';

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
    await expect(plan(input({ all: true }))).rejects.toMatchObject({ code: 'no_iam_export', message: `There is no IAM export in \`s3://${BACKUPS}/iam/\` yet, so there is nothing to restore from.` });
    for (const body of ['not json', '{"key":42}', '{"key":"iam/latest.json"}']) {
      await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: LATEST_KEY, Body: body }));
      await expect(plan(input({ all: true }))).rejects.toMatchObject({ code: 'bad_export_pointer', message: `\`s3://${BACKUPS}/${LATEST_KEY}\` does not point at an IAM export.` });
    }
  });

  it('an export key that is not there: refused, naming the newest exports', async () => {
    const e = await estate(1);
    const newer = await backup();
    // moto's LastModified has second resolution: this test's two exports are made the newest of the file's
    rewrite<ListObjectVersionsCommandOutput>(s3(), 'ListObjectVersionsCommand', (o) => ({
      ...o,
      Versions: (o.Versions ?? []).map((v) => (v.Key === newer.key ? { ...v, LastModified: new Date(Date.now() + 120_000) } : v.Key === e.key ? { ...v, LastModified: new Date(Date.now() + 60_000) } : v)),
    }));
    await expect(plan(input({ all: true, backup: 'iam/2020-01-01/nope.json' }))).rejects.toMatchObject({
      code: 'unknown_export',
      message: `There is no IAM export \`iam/2020-01-01/nope.json\` in \`s3://${BACKUPS}\`.`,
      hint: expect.stringMatching(new RegExp(`^The newest: \`iam/[^\`]+\`(, \`iam/[^\`]+\`){1,2}\\. Or leave out \`--backup\` to use the latest\\.$`)),
    });
    const hint = ((await plan(input({ all: true, backup: 'iam/2020-01-01/nope.json' })).catch((x: unknown) => x)) as { hint: string }).hint;
    expect(hint.indexOf(newer.key)).toBeGreaterThan(0);
    expect(hint.indexOf(e.key)).toBeGreaterThan(hint.indexOf(newer.key));
  });

  it('an export changed after it was written, or not an export drbot reads: refused', async () => {
    const e = await estate(1);
    const body = (await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: e.key }))).Body?.transformToString()) ?? '';
    const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: e.key }));
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: e.key, Body: body.replace('worker 0', 'worker X'), Metadata: { sha256: head.Metadata?.sha256 ?? '' } }));
    await expect(plan(input({ all: true }))).rejects.toMatchObject({ code: 'export_corrupt', message: `The export \`${e.key}\` does not match the checksum it was written with.` });
    for (const bad of ['{"format":"drbot-iam-export/2","roles":[],"managedPolicies":[]}', '{"format":"drbot-iam-export/1","roles":{},"managedPolicies":[]}', '{"format":"drbot-iam-export/1","roles":[]}', '[]', 'nope']) {
      await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: e.key, Body: bad, Metadata: { sha256: sha256Hex(bad) } }));
      await expect(plan(input({ all: true }))).rejects.toMatchObject({ code: 'export_format', message: `\`${e.key}\` is not an IAM export drbot can read (format drbot-iam-export/1).` });
    }
  });

  it('a named role the export does not hold: refused, naming it and the export', async () => {
    const e = await estate(2);
    await expect(plan(input({ roles: [e.roles[0]!, `${e.prefix}ghost`] }))).rejects.toMatchObject({
      code: 'role_not_in_export',
      message: expect.stringMatching(new RegExp(`^\`${esc(e.prefix)}ghost\` is not in the export \`${esc(e.key)}\` \\(2 roles, exported ${date}\\), so there is nothing to restore it from\\.$`)),
    });
    await expect(plan(input({ roles: [`${e.prefix}x`, `${e.prefix}y`] }))).rejects.toMatchObject({ message: expect.stringContaining('` are not in the export `') });
    await expect(plan(input({ roles: [`${e.prefix}x`, `${e.prefix}y`] }))).rejects.toMatchObject({ message: expect.stringContaining('nothing to restore them from') });
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
    expect(named.lines).toEqual([expect.stringMatching(/by run `r-\d{12}`$/), `The role \`${e.roles[0]}\` matches the export: nothing to restore.`]);
    expect(named.lines[0]).not.toContain('(the latest)');
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

    const out = await execute(i, p.data);

    expect((await roleState(r0)).attached).toEqual([`${e.prefix}read`]);
    expect(out.lines[0]).toBe(`Restored *1* of 1 role from \`${e.key}\` and 1 of 1 managed policy.`);
    expect(out.lines[1]).toBe(`• Managed policy \`${e.prefix}read\` created again from the export`);
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

    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as RestoreIamInput & AnyRunInput, p.data, { report: async () => {} }), i);

    expect(r.status).toBe('FAILED');
    expect(r.error).toContain(`The export \`${e.key}\` changed after the plan was made; nothing was written.`);
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
  });
});
