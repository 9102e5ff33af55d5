/**
 * The backup-iam runbook (src/runbooks/backup-iam/runbook.ts, `/dr backup iam`) on its own, against
 * moto: what its plan reads and counts (the roles within `iam.rolePrefix`, nothing else), what its run
 * writes to the backup bucket (one export per run, the `iam/latest.json` pointer), how it verifies the
 * export by reading it back, and what --prune deletes (drbot's exports past `retention.iamExportDays`,
 * never the newest, the pointer or anything not drbot's). The flows through Slack and approval are
 * backup-iam.test.ts and prune-exports.test.ts, the prune adapter's listing prune-adapters.test.ts;
 * these need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * moto never pages GetAccountAuthorizationDetails, holds no AWS-managed policies, always answers a
 * role's MaxSessionDuration, stamps objects with the real time and never throttles or denies: those
 * answers, a read-back that differs and AWS's refusals are SDK middleware on the runbook's clients
 * (faults.ts), and each test says so.
 */
import { createHash } from 'node:crypto';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type ListRolesCommandOutput,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  type RoleDetail,
} from '@aws-sdk/client-iam';
import { GetObjectCommand, type GetObjectCommandOutput, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BackupIamInput } from '../../src/runbooks/backup-iam';
import { type IamExport, type IamPlan, LATEST_KEY, readIam, runbook } from '../../src/runbooks/backup-iam/runbook';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, patchInput, rewrite, SERVICE_UNAVAILABLE, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const iam = () => rig.moto().clients.iam('us-east-1');
const s3 = () => rig.s3('us-east-1');
const ACCOUNT = '123456789012';
const REQUESTED = '2026-12-04T10:11:12.000Z';
const DAY_MS = 86_400_000;
const THROTTLED = { name: 'Throttling', message: 'Rate exceeded', status: 400 };
let n = 0;

const doc = (action: string, resource = '*') => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });
const trust = (service: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
const sha = (body: string) => createHash('sha256').update(body).digest('hex');

/** A run id as drbot makes them (the prune adapter knows drbot's exports by it). */
const runId = () => `r-${(++n).toString(16).padStart(12, '0')}`;

/** A new versioned backup bucket and role prefix, both put in the config: the test's own. */
async function setUp(): Promise<{ bucket: string; prefix: string }> {
  const bucket = `iam-backups-${++n}`;
  const prefix = `t${n}-`;
  await rig.makeBucket(bucket, 'us-east-1');
  rig.configure({ backupBucket: bucket, iam: { rolePrefix: prefix } });
  return { bucket, prefix };
}

/** A role as a person made it: its trust, and as told a path, description, tags, inline policies, attached policies and boundary. */
async function role(
  name: string,
  opts: { path?: string; description?: string; maxSession?: number; tags?: Record<string, string>; inline?: Record<string, unknown>; attach?: string[]; boundary?: string } = {},
): Promise<string> {
  const r = await iam().send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify(trust('ec2.amazonaws.com')),
      ...(opts.path ? { Path: opts.path } : {}),
      ...(opts.description ? { Description: opts.description } : {}),
      ...(opts.maxSession ? { MaxSessionDuration: opts.maxSession } : {}),
      Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  for (const [PolicyName, d] of Object.entries(opts.inline ?? {})) await iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName, PolicyDocument: JSON.stringify(d) }));
  for (const arn of opts.attach ?? []) await iam().send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: arn }));
  if (opts.boundary) await iam().send(new PutRolePermissionsBoundaryCommand({ RoleName: name, PermissionsBoundary: opts.boundary }));
  return r.Role?.Arn ?? '';
}

/** A customer-managed policy: its ARN. */
async function policy(name: string, document: unknown): Promise<string> {
  return (await iam().send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: JSON.stringify(document) }))).Policy?.Arn ?? '';
}

function input(over: Partial<BackupIamInput> = {}): BackupIamInput & AnyRunInput {
  return { kind: 'backup-iam', runId: runId(), requester: 'UALICE', channel: 'C1', commandText: '/dr backup iam', requestedAt: REQUESTED, dryRun: false, prune: false, ...over } as BackupIamInput & AnyRunInput;
}

const keyOf = (i: BackupIamInput) => `iam/2026-12-04/${i.runId}.json`;
/** The rig's deps with the clock at `now`. */
const at = (now: Date): RunbookDeps => ({ ...rig.deps(), now: () => now });
const plan = (i: BackupIamInput, now = new Date()) => runbook(i).plan(at(now), i);
const execute = (i: BackupIamInput & AnyRunInput, p: IamPlan, answer?: (step: string) => unknown) => rig.executeWatched(runbook(i), i, p, answer);

async function text(bucket: string, key: string, versionId?: string): Promise<string> {
  const r = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return (await r.Body?.transformToString()) ?? '';
}

/** Every object version in the bucket: `key` (sorted), with its version ID. */
async function versions(bucket: string): Promise<Array<{ key: string; versionId: string }>> {
  const r = await s3().send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return (r.Versions ?? []).map((v) => ({ key: v.Key ?? '', versionId: v.VersionId ?? '' })).sort((a, b) => a.key.localeCompare(b.key) || a.versionId.localeCompare(b.versionId));
}
const keys = async (bucket: string) => (await versions(bucket)).map((v) => v.key);

/** An object written as an earlier run or a person did: its version ID. */
async function put(bucket: string, key: string, body = '{}'): Promise<string> {
  return (await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId ?? '';
}

/** GetObject's body answered as `body` (as if S3 held it): the read-back the runbook verifies. */
function readBack(bucket: string, body: string): void {
  rewrite<GetObjectCommandOutput>(s3(), 'GetObjectCommand', (out, q) => (q.Bucket === bucket ? { ...out, Body: { transformToString: async () => body } as unknown as GetObjectCommandOutput['Body'] } : out));
}

describe('the plan', () => {
  it('counts the roles within the prefix, their inline and attached policies and the customer-managed ones; names the export; writes nothing', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    const mine = await policy(`${prefix}pol`, doc('s3:GetObject'));
    const mine2 = await policy(`${prefix}pol2`, doc('s3:PutObject'));
    await role(`${prefix}b`, { inline: { one: doc('s3:ListBucket'), two: doc('sqs:SendMessage') }, attach: [mine, mine2] });
    await role(`${prefix}a`, { inline: { three: doc('sns:Publish'), five: doc('sns:Subscribe') }, attach: [mine] });
    await role(`${prefix}c`);
    // outside the prefix: its name contains it but does not start with it
    await role(`x${prefix}d`, { inline: { four: doc('s3:*') }, attach: [mine2] });
    const i = input();

    // act
    const p = await plan(i);

    // assess
    expect(p.data).toStrictEqual({ bucket, key: keyOf(i), roles: 3 });
    expect(p.empty).toBe(false);
    expect(p.lines).toEqual([
      `*3* roles named \`${prefix}…\`: 4 inline policies, 3 attached managed policies (2 customer-managed, their documents included)`,
      `Writes \`s3://${bucket}/${keyOf(i)}\` and points \`iam/latest.json\` at it`,
      'Reads IAM only: no role or policy is changed.',
    ]);
    expect(await keys(bucket)).toEqual([]);
    expect(LATEST_KEY).toBe('iam/latest.json');
  });

  it('a dry run says it would write; --prune without anything to prune says so', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}only`);
    const i = input({ dryRun: true, prune: true });

    // act
    const p = await plan(i);

    // assess
    expect(p.lines).toEqual([
      `*1* role named \`${prefix}…\`: 0 inline policies, 0 attached managed policies (0 customer-managed, their documents included)`,
      `Would write \`s3://${bucket}/${keyOf(i)}\` and points \`iam/latest.json\` at it`,
      'Reads IAM only: no role or policy is changed.',
      'Prune: no IAM exports older than 90 days beyond the newest of each.',
      'Prune keeps the newest good copy of each (0), whatever its age.',
    ]);
    expect(p.data).toStrictEqual({ bucket, key: keyOf(i), roles: 1, prune: [] });
    expect(p.empty).toBeUndefined();
  });

  it('one role with one inline and one attached policy: each counted in the singular', async () => {
    // prepare
    const { prefix } = await setUp();
    const mine = await policy(`${prefix}pol`, doc('s3:GetObject'));
    await role(`${prefix}one`, { inline: { one: doc('s3:ListBucket') }, attach: [mine] });

    // act
    const p = await plan(input());

    // assess
    expect(p.lines[0]).toBe(`*1* role named \`${prefix}…\`: 1 inline policy, 1 attached managed policy (1 customer-managed, their documents included)`);
  });

  it('no role within the prefix: nothing to export, and --prune plans no deletion', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`other-${prefix}x`);
    const old = `iam/2026-01-01/${runId()}.json`;
    await put(bucket, old);
    await put(bucket, `iam/2026-01-02/${runId()}.json`);
    const lists = countTries(s3(), 'ListObjectVersionsCommand');

    for (const prune of [false, true]) {
      const i = input({ prune });

      // act
      const p = await plan(i, new Date(Date.now() + 100 * DAY_MS));

      // assess
      expect(p).toStrictEqual({
        lines: [`No role's name starts with \`${prefix}\`: there is nothing to export.`, 'Check `iam.rolePrefix` in the drbot config.'],
        empty: true,
        data: { bucket, key: keyOf(i), roles: 0 },
      });
    }
    expect(lists.tries()).toBe(0);
  });

  it('refuses without a backup bucket before reading IAM; the execution refuses too', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}r`);
    const reads = countTries(iam(), 'GetAccountAuthorizationDetailsCommand');
    const i = input();
    const p = await plan(i);
    const before = reads.tries();
    rig.configure({ backupBucket: undefined });

    try {
      // act & assess
      await expect(plan(i)).rejects.toMatchObject({ code: 'no_backup_bucket', message: 'No backup bucket is configured, so there is nowhere to write the export.', hint: 'Set `backupBucket` in the drbot config (a versioned bucket; `/dr setup` can create it).' });
      expect(reads.tries()).toBe(before);
      const r = await rig.run((ctx, d, x) => runbook(i).execute(ctx, d, x as BackupIamInput, p.data, { report: async () => {} }), i);
      expect(r).toEqual({ status: 'FAILED', error: 'No backup bucket is configured, so there is nowhere to write the export.' });
      expect(reads.tries()).toBe(before);
      expect(await keys(bucket)).toEqual([]);
    } finally {
      rig.configure({ backupBucket: bucket });
    }
  });

  it('IAM refusing a read stops the plan, naming the call (moto enforces no IAM: SDK middleware refuses)', async () => {
    // prepare
    const { prefix } = await setUp();
    await role(`${prefix}r`);
    const undo = fail(iam(), 'GetAccountAuthorizationDetailsCommand', ACCESS_DENIED);

    // act & assess
    await expect(plan(input())).rejects.toMatchObject({
      code: 'aws_access_denied',
      message: 'GetAccountAuthorizationDetails on `IAM` failed: User is not authorized to perform this action',
      hint: "Grant the bot's role permission for `GetAccountAuthorizationDetails` on this resource (see template.yaml).",
    });
    undo();
    fail(iam(), 'ListRolesCommand', THROTTLED);
    await expect(plan(input())).rejects.toMatchObject({ code: 'aws_throttled', message: 'ListRoles on `IAM` failed: Rate exceeded' });
  });

  it('only a person’s --prune needs approval (destructive); a scheduled one and a plain export do not', () => {
    const when = { name: 'nightly', at: REQUESTED };
    expect(runbook(input({ prune: true })).destructive).toBe(true);
    expect(runbook(input({ prune: true, schedule: when })).destructive).toBe(false);
    expect(runbook(input()).destructive).toBe(false);
    expect(runbook(input({ schedule: when })).destructive).toBe(false);
    expect(runbook(input()).title(input())).toBe('Export of the IAM roles');
  });
});

describe('the export', () => {
  it('writes every role within the prefix whole, sorted, with the customer-managed documents; points latest at it; verifies it', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    const z = await policy(`${prefix}z-pol`, doc('s3:GetObject'));
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: z, PolicyDocument: JSON.stringify(doc('s3:GetObjectVersion')), SetAsDefault: true }));
    const a = await policy(`${prefix}a-pol`, doc('sqs:SendMessage'));
    const unattached = await policy(`${prefix}unused`, doc('sns:Publish'));
    const boundary = await policy(`${prefix}boundary`, doc('s3:*'));
    const arnB = await role(`${prefix}b`, { path: '/team/', description: 'wörker b', maxSession: 7200, tags: { team: 'spawn', tier: '1' }, inline: { read: doc('s3:GetObject', 'arn:aws:s3:::r/*') }, attach: [z, a], boundary });
    const arnA = await role(`${prefix}a`);
    await role(`other-${prefix}c`, { attach: [unattached] });
    const i = input();
    const p = await plan(i);
    // made after the plan: the export is what IAM holds when it runs
    const arnC = await role(`${prefix}c`, { inline: { x: doc('ec2:Describe*') } });

    // act
    const r = await execute(i, p.data);

    // assess: the export
    const body = await text(bucket, keyOf(i));
    const exported = JSON.parse(body) as IamExport;
    expect(exported).toEqual({
      format: 'drbot-iam-export/1',
      exportedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) as unknown,
      runId: i.runId,
      rolePrefix: prefix,
      roles: [
        { name: `${prefix}a`, arn: arnA, path: '/', maxSessionDuration: 3600, trustPolicy: trust('ec2.amazonaws.com'), tags: [], inlinePolicies: [], attachedPolicies: [] },
        {
          name: `${prefix}b`,
          arn: arnB,
          path: '/team/',
          description: 'wörker b',
          maxSessionDuration: 7200,
          trustPolicy: trust('ec2.amazonaws.com'),
          permissionsBoundary: boundary,
          tags: [
            { key: 'team', value: 'spawn' },
            { key: 'tier', value: '1' },
          ],
          inlinePolicies: [{ name: 'read', document: doc('s3:GetObject', 'arn:aws:s3:::r/*') }],
          attachedPolicies: [
            { name: `${prefix}z-pol`, arn: z },
            { name: `${prefix}a-pol`, arn: a },
          ],
        },
        { name: `${prefix}c`, arn: arnC, path: '/', maxSessionDuration: 3600, trustPolicy: trust('ec2.amazonaws.com'), tags: [], inlinePolicies: [{ name: 'x', document: doc('ec2:Describe*') }], attachedPolicies: [] },
      ],
      managedPolicies: [
        { name: `${prefix}a-pol`, arn: a, defaultVersionId: 'v1', document: doc('sqs:SendMessage') },
        { name: `${prefix}z-pol`, arn: z, defaultVersionId: 'v2', document: doc('s3:GetObjectVersion') },
      ],
    });
    expect(Date.parse(exported.exportedAt)).toBeGreaterThan(Date.parse(i.requestedAt) - 1);
    expect(body).toBe(JSON.stringify(exported, null, 1));
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(i) }));
    expect(head.ContentType).toBe('application/json');
    expect(head.Metadata).toEqual({ 'drbot-run': i.runId, 'role-count': '3', sha256: sha(body) });
    // the pointer
    expect(JSON.parse(await text(bucket, LATEST_KEY))).toStrictEqual({ key: keyOf(i), runId: i.runId, roles: 3, sha256: sha(body) });
    const latestHead = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: LATEST_KEY }));
    expect(latestHead.Metadata).toEqual({ 'drbot-run': i.runId });
    expect(latestHead.ContentType).toBe('application/json');
    expect(await keys(bucket)).toEqual([LATEST_KEY, keyOf(i)].sort());
    // the run
    const bytes = Buffer.byteLength(body);
    expect(bytes).toBeGreaterThan(body.length);
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      lines: [`Exported *3* roles to \`s3://${bucket}/${keyOf(i)}\` (${(bytes / 1024).toFixed(1)} KB); \`iam/latest.json\` points at it.`, ':mag: Verified by reading it back: same checksum, every role present.'],
      reports: [[1, 2, 'written']],
      checkpoints: ['export', 'latest', 'verify'],
    });
  });

  it('an export of a few roles is sized in bytes, and a second run points latest at the new one, keeping the old', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}one`);
    const first = input();
    await execute(first, (await plan(first)).data);
    const second = input();

    // act
    const r = await execute(second, (await plan(second)).data);

    // assess
    const body = await text(bucket, keyOf(second));
    expect(Buffer.byteLength(body)).toBeLessThan(1024);
    expect(r.lines[0]).toBe(`Exported *1* role to \`s3://${bucket}/${keyOf(second)}\` (${Buffer.byteLength(body)} B); \`iam/latest.json\` points at it.`);
    expect((JSON.parse(await text(bucket, LATEST_KEY)) as { key: string }).key).toBe(keyOf(second));
    expect(await keys(bucket)).toEqual([LATEST_KEY, LATEST_KEY, keyOf(first), keyOf(second)].sort());
  });

  it('reads every page of both listings, asking for each from the marker (moto pages only ListRoles: middleware pages GetAccountAuthorizationDetails)', async () => {
    // prepare
    const { prefix } = await setUp();
    const pol = await policy(`${prefix}p`, doc('s3:GetObject'));
    await role(`${prefix}1`, { description: 'first', attach: [pol] });
    await role(`${prefix}2`, { description: 'second' });
    await role(`${prefix}3`, { description: 'third' });
    const asked: unknown[] = [];
    rewrite<GetAccountAuthorizationDetailsCommandOutput>(iam(), 'GetAccountAuthorizationDetailsCommand', (out, q) => {
      asked.push(q.Marker);
      expect({ Filter: q.Filter, MaxItems: q.MaxItems }).toEqual({ Filter: ['Role', 'LocalManagedPolicy'], MaxItems: 1000 });
      if (asked.length > 5) throw new Error('paging never ends');
      const roles = (out.RoleDetailList ?? []).filter((r) => r.RoleName?.startsWith(prefix));
      // the first page holds the first role; the second the rest with the policies; no page says where to go after
      return q.Marker === undefined ? { ...out, RoleDetailList: roles.slice(0, 1), Policies: [], IsTruncated: true, Marker: 'page-2' } : { ...out, RoleDetailList: roles.slice(1), IsTruncated: false, Marker: 'not-again' };
    });
    const listed: unknown[] = [];
    rewrite<ListRolesCommandOutput>(iam(), 'ListRolesCommand', (out, q) => {
      listed.push(q.Marker);
      // two roles a page over every role the file's tests made so far (how many depends on their order)
      if (listed.length > 500) throw new Error('paging never ends');
      return out;
    });
    patchInput(iam(), 'ListRolesCommand', { MaxItems: 2 });

    // act
    const read = await readIam(iam(), prefix);

    // assess
    expect(asked).toEqual([undefined, 'page-2']);
    expect(listed.length).toBeGreaterThan(1);
    expect(listed[0]).toBeUndefined();
    expect(listed.slice(1).every((m) => typeof m === 'string' && m !== '')).toBe(true);
    expect(read.roles.map((r) => [r.name, r.description])).toEqual([
      [`${prefix}1`, 'first'],
      [`${prefix}2`, 'second'],
      [`${prefix}3`, 'third'],
    ]);
    expect(read.managedPolicies.map((p) => p.arn)).toEqual([pol]);
  });

  it('what moto never answers (middleware rewrites it): bare roles and policies, named policies, AWS-managed ones, no default version, no lists', async () => {
    // prepare
    const { prefix } = await setUp();
    const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:policy/${name}`;
    const aws = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    const bare: RoleDetail = { RoleName: `${prefix}bare`, Tags: [{} as never], RolePolicyList: [{}], AttachedManagedPolicies: [{}, { PolicyName: 'ro', PolicyArn: aws }, { PolicyArn: arn('named') }, { PolicyArn: arn('nodefault') }, { PolicyArn: arn('noversions') }] };
    const pages: GetAccountAuthorizationDetailsCommandOutput[] = [
      { $metadata: {}, IsTruncated: true, Marker: 'm' },
      {
        $metadata: {},
        RoleDetailList: [bare, { Arn: 'arn:aws:iam::1:role/nameless' }],
        Policies: [
          { Arn: aws, PolicyName: 'ReadOnlyAccess', PolicyVersionList: [{ VersionId: 'v1', IsDefaultVersion: true, Document: JSON.stringify(doc('*')) }] },
          { Arn: arn('named'), PolicyName: 'given-name', PolicyVersionList: [{ VersionId: 'v1', IsDefaultVersion: false, Document: JSON.stringify(doc('a:1')) }, { VersionId: 'v3', IsDefaultVersion: true, Document: JSON.stringify(doc('a:3')) }] },
          { Arn: arn('nodefault'), PolicyVersionList: [{ VersionId: 'v4', Document: JSON.stringify(doc('b:4')) }, { VersionId: 'v5', Document: JSON.stringify(doc('b:5')) }] },
          { Arn: arn('noversions'), DefaultVersionId: 'v9' },
          { PolicyName: 'no-arn' },
        ],
      },
    ];
    rewrite<GetAccountAuthorizationDetailsCommandOutput>(iam(), 'GetAccountAuthorizationDetailsCommand', (_out, q) => (q.Marker === 'm' ? pages[1] : pages[0]) as GetAccountAuthorizationDetailsCommandOutput);
    // a first page without a role list
    const listed: Array<Record<string, unknown>> = [];
    stub<ListRolesCommandOutput>(iam(), 'ListRolesCommand', (q) => {
      listed.push(q);
      if (listed.length > 5) throw new Error('paging never ends');
      return q.Marker === 'lr' ? { Roles: [{ RoleName: `${prefix}bare`, MaxSessionDuration: 0, Description: '' } as never, { Arn: 'nameless' } as never], IsTruncated: false } : // Roles is required in the SDK's type; AWS and moto always send it
          ({ IsTruncated: true, Marker: 'lr' } as unknown as ListRolesCommandOutput);
    });

    // act
    const read = await readIam(iam(), prefix);

    // assess
    expect(listed).toEqual([{ MaxItems: 1000 }, { MaxItems: 1000, Marker: 'lr' }]);
    expect(read).toStrictEqual({
      rolePrefix: prefix,
      roles: [
        {
          name: `${prefix}bare`,
          arn: '',
          path: '/',
          trustPolicy: null,
          tags: [{ key: '', value: '' }],
          inlinePolicies: [{ name: '', document: null }],
          attachedPolicies: [
            { name: '', arn: '' },
            { name: 'ro', arn: aws },
            { name: '', arn: arn('named') },
            { name: '', arn: arn('nodefault') },
            { name: '', arn: arn('noversions') },
          ],
        },
      ],
      managedPolicies: [
        { name: 'given-name', arn: arn('named'), defaultVersionId: 'v3', document: doc('a:3') },
        { name: 'nodefault', arn: arn('nodefault'), defaultVersionId: 'v4', document: doc('b:4') },
        { name: 'noversions', arn: arn('noversions'), defaultVersionId: 'v9', document: null },
      ],
    });
  });

  it('a policy with neither a default version nor an ID has an empty one; policies asked for are read attached or not, AWS-managed never', async () => {
    // prepare
    const { prefix } = await setUp();
    const used = await policy(`${prefix}used`, doc('s3:GetObject'));
    const asked = await policy(`${prefix}asked`, doc('s3:PutObject'));
    await policy(`${prefix}ignored`, doc('s3:DeleteObject'));
    await role(`${prefix}r`, { attach: [used] });
    const aws = 'arn:aws:iam::aws:policy/AdministratorAccess';
    rewrite<GetAccountAuthorizationDetailsCommandOutput>(iam(), 'GetAccountAuthorizationDetailsCommand', (out) => ({
      ...out,
      Policies: [...(out.Policies ?? []), { Arn: aws, PolicyName: 'AdministratorAccess', PolicyVersionList: [] }, { Arn: `arn:aws:iam::${ACCOUNT}:policy/empty` }],
    }));

    // act
    const plain = await readIam(iam(), prefix);
    const also = await readIam(iam(), prefix, { alsoPolicies: [asked, aws, `arn:aws:iam::${ACCOUNT}:policy/empty`] });

    // assess
    expect(plain.managedPolicies.map((p) => p.arn)).toEqual([used]);
    expect(also.managedPolicies).toEqual([
      { name: 'empty', arn: `arn:aws:iam::${ACCOUNT}:policy/empty`, defaultVersionId: '', document: null },
      { name: `${prefix}asked`, arn: asked, defaultVersionId: 'v1', document: doc('s3:PutObject') },
      { name: `${prefix}used`, arn: used, defaultVersionId: 'v1', document: doc('s3:GetObject') },
    ]);
  });
});

describe('the read-back', () => {
  it('a different body read back: not verified, said with its role count, latest still written', async () => {
    // prepare: S3 answers the export's read with other bytes (moto returns what was written: middleware changes it)
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    await role(`${prefix}b`);
    const i = input();
    const p = await plan(i);
    readBack(bucket, JSON.stringify({ roles: [{}, {}] }));

    // act
    const r = await execute(i, p.data);

    // assess
    expect(r).toMatchObject({
      ok: false,
      lines: [expect.stringMatching(/^Exported \*2\* roles to /) as unknown, ':warning: Read back a different checksum with 2 roles.'],
      failures: ['the export read back differs from what was written'],
      checkpoints: ['export', 'latest', 'verify'],
    });
    expect(r.lines).toHaveLength(2);
    undoFaults();
    expect((JSON.parse(await text(bucket, LATEST_KEY)) as { key: string }).key).toBe(keyOf(i));
  });

  it('a different body with one role read back: "1 role"', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input();
    const p = await plan(i);
    readBack(bucket, JSON.stringify({ roles: [{}] }));

    // act
    const r = await execute(i, p.data);

    // assess
    expect(r.ok).toBe(false);
    expect(r.lines).toEqual([expect.stringMatching(/^Exported \*1\* role to /), ':warning: Read back a different checksum with 1 role.']);
  });

  it('a body without roles read back holds none readable', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input();
    const p = await plan(i);
    readBack(bucket, '{"format":"drbot-iam-export/1"}');

    // act
    const r = await execute(i, p.data);

    // assess
    expect(r.ok).toBe(false);
    expect(r.lines[1]).toBe(':warning: Read back a different checksum with no roles readable.');
  });

  it('the same checksum but not the role count the export step recorded (a replayed step): not verified; latest carries the step’s record', async () => {
    // prepare: the export step's checkpointed result is given, with an object of that checksum in the bucket
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input();
    const p = await plan(i);
    const body = JSON.stringify({ roles: [{}, {}] });
    await put(bucket, keyOf(i), body);
    const written = { key: keyOf(i), bytes: 2048, sha256: sha(body), roles: 5 };

    // act
    const r = await execute(i, p.data, (name) => (name === 'export' ? { ok: true, value: written } : undefined));

    // assess
    expect(r).toMatchObject({
      ok: false,
      lines: [`Exported *5* roles to \`s3://${bucket}/${keyOf(i)}\` (2.0 KB); \`iam/latest.json\` points at it.`, ':warning: Read back the same checksum with 2 roles.'],
      failures: ['the export read back differs from what was written'],
      reports: [],
    });
    expect(JSON.parse(await text(bucket, LATEST_KEY))).toStrictEqual({ key: keyOf(i), runId: i.runId, roles: 5, sha256: sha(body) });
  });
});

describe('faults mid-run (moto never throttles or denies: SDK middleware on the runbook’s clients)', () => {
  it('throttled and 5xx answers are retried within the step: the export is written once and verified', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input();
    const p = await plan(i);
    fail(iam(), 'GetAccountAuthorizationDetailsCommand', SERVICE_UNAVAILABLE, { times: 1 });
    fail(s3(), 'PutObjectCommand', THROTTLED, { times: 2, when: (q) => q.Key === keyOf(i) });
    const puts = countTries(s3(), 'PutObjectCommand');

    // act
    const r = await execute(i, p.data);

    // assess
    expect(r).toMatchObject({ ok: true, failures: [], checkpoints: ['export', 'latest', 'verify'] });
    expect(puts.tries()).toBe(2);
    expect(await keys(bucket)).toEqual([LATEST_KEY, keyOf(i)].sort());
  });

  it('the export’s write denied: the run fails naming it; nothing is written and latest still points at the last export', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const last = input();
    await execute(last, (await plan(last)).data);
    const pointer = await text(bucket, LATEST_KEY);
    const i = input();
    const p = await plan(i);
    fail(s3(), 'PutObjectCommand', ACCESS_DENIED);

    // act
    const r = await rig.run((ctx, d, x) => runbook(i).execute(ctx, d, x as BackupIamInput, p.data, { report: async () => {} }), i);

    // assess
    expect(r).toEqual({ status: 'FAILED', error: `PutObject on \`${bucket}/${keyOf(i)}\` failed: User is not authorized to perform this action` });
    expect(await keys(bucket)).toEqual([LATEST_KEY, keyOf(last)].sort());
    expect(await text(bucket, LATEST_KEY)).toBe(pointer);
  });

  it('the pointer’s write denied: the export is there, latest is not moved, the run fails naming the pointer', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input();
    const p = await plan(i);
    fail(s3(), 'PutObjectCommand', ACCESS_DENIED, { when: (q) => q.Key === LATEST_KEY });
    const reports: Array<[number, number, string]> = [];

    // act
    const r = await rig.run((ctx, d, x) => runbook(i).execute(ctx, d, x as BackupIamInput, p.data, { report: async (...a) => void reports.push(a) }), i);

    // assess
    expect(r).toEqual({ status: 'FAILED', error: `PutObject on \`${bucket}/${LATEST_KEY}\` failed: User is not authorized to perform this action` });
    expect(await keys(bucket)).toEqual([keyOf(i)]);
    expect(reports[0]).toEqual([1, 2, 'written']);
  });

  it('IAM denied at execution, or the read-back denied: the run fails naming the call', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input();
    const p = await plan(i);
    const run = () => rig.run((ctx, d, x) => runbook(i).execute(ctx, d, x as BackupIamInput, p.data, { report: async () => {} }), i);

    // act & assess
    fail(iam(), 'ListRolesCommand', ACCESS_DENIED);
    expect(await run()).toEqual({ status: 'FAILED', error: 'ListRoles on `IAM` failed: User is not authorized to perform this action' });
    expect(await keys(bucket)).toEqual([]);
    undoFaults();

    fail(s3(), 'GetObjectCommand', ACCESS_DENIED);
    expect(await run()).toEqual({ status: 'FAILED', error: `GetObject on \`${bucket}/${keyOf(i)}\` failed: User is not authorized to perform this action` });
  });
});

describe('--prune', () => {
  /**
   * drbot's exports of earlier runs (the last one written last, with the largest key: the newest),
   * one of a person's under `iam/`, and the pointer; a plan at `days` ahead sees them that old.
   */
  async function earlier(bucket: string): Promise<{ old: string[]; newest: string; foreign: string }> {
    const old = [`iam/2026-01-01/${runId()}.json`, `iam/2026-02-01/${runId()}.json`];
    const newest = `iam/2026-03-01/${runId()}.json`;
    const foreign = 'iam/2026-01-01/by-hand.json';
    for (const k of [foreign, ...old, LATEST_KEY, newest]) await put(bucket, k);
    return { old, newest, foreign };
  }

  it('plans to delete drbot’s exports past retention, oldest first, keeping the newest, the pointer and a person’s', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const { old } = await earlier(bucket);
    const today = new Date().toISOString().slice(0, 10);
    const i = input({ prune: true });
    const dry = input({ prune: true, dryRun: true });

    // act
    const p = await plan(i, new Date(Date.now() + 100 * DAY_MS));
    const d = await plan(dry, new Date(Date.now() + 100 * DAY_MS));

    // assess
    expect(p.data.prune?.map((c) => c.label)).toEqual(old);
    expect(p.data.prune?.every((c) => c.group === 'iam' && c.ours && c.state === 'good')).toBe(true);
    expect(p.lines.slice(3)).toEqual([`Prune: deletes 2 IAM exports older than 90 days: \`${old[0]}\` (${today}), \`${old[1]}\` (${today})`, 'Prune keeps the newest good copy of each (1), whatever its age; 1 not made by drbot, never touched.']);
    expect(d.lines[3]).toBe(`Prune: would delete 2 IAM exports older than 90 days: \`${old[0]}\` (${today}), \`${old[1]}\` (${today})`);
    expect(p.empty).toBeUndefined();
  });

  it('one export past retention: said in the singular', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const old = `iam/2026-01-01/${runId()}.json`;
    for (const k of [old, `iam/2026-03-01/${runId()}.json`]) await put(bucket, k);
    const today = new Date().toISOString().slice(0, 10);

    // act
    const p = await plan(input({ prune: true }), new Date(Date.now() + 100 * DAY_MS));

    // assess
    expect(p.lines[3]).toBe(`Prune: deletes 1 IAM export older than 90 days: \`${old}\` (${today})`);
  });

  it('nothing to prune: no prune step and no prune line, verified or not', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const i = input({ prune: true });
    const p = await plan(i);
    expect(p.data.prune).toEqual([]);

    // act
    const good = await execute(i, p.data);
    readBack(bucket, '{"roles":[]}');
    const bad = await execute(i, p.data);

    // assess
    expect(good).toMatchObject({ ok: true, checkpoints: ['export', 'latest', 'verify'] });
    expect(good.lines).toHaveLength(2);
    expect(bad).toMatchObject({ ok: false, checkpoints: ['export', 'latest', 'verify'] });
    expect(bad.lines).toHaveLength(2);
  });

  it('keeps what the configured retention keeps', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    await earlier(bucket);
    const retention = rig.deps().config.retention;
    rig.configure({ retention: { ...retention, iamExportDays: 200 } });

    try {
      // act
      const p = await plan(input({ prune: true }), new Date(Date.now() + 100 * DAY_MS));

      // assess
      expect(p.data.prune).toEqual([]);
      expect(p.lines[3]).toBe('Prune: no IAM exports older than 200 days beyond the newest of each.');
    } finally {
      rig.configure({ retention });
    }
  });

  it('after the new export verifies, deletes exactly the planned exports, each in its own step; nothing else is touched', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const { old, newest, foreign } = await earlier(bucket);
    const i = input({ prune: true });
    const p = await plan(i, new Date(Date.now() + 100 * DAY_MS));

    // act
    const r = await execute(i, p.data);

    // assess
    expect(await keys(bucket)).toEqual([foreign, LATEST_KEY, LATEST_KEY, newest, keyOf(i)].sort());
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      checkpoints: ['export', 'latest', 'verify', 'prune-iam-0', 'prune-iam-1'],
    });
    expect(r.lines.slice(1)).toEqual([':mag: Verified by reading it back: same checksum, every role present.', ':wastebasket: Pruned 2 old exports.']);
  });

  it('a delete refused: the others still go, the run fails naming the one kept', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const { old, newest, foreign } = await earlier(bucket);
    const i = input({ prune: true });
    const p = await plan(i, new Date(Date.now() + 100 * DAY_MS));
    fail(s3(), 'DeleteObjectCommand', ACCESS_DENIED, { when: (q) => q.Key === old[0] });

    // act
    const r = await execute(i, p.data);

    // assess
    expect(await keys(bucket)).toEqual([foreign, LATEST_KEY, LATEST_KEY, newest, keyOf(i), old[0] ?? ''].sort());
    expect(r).toMatchObject({
      ok: false,
      failures: [`${old[0]}: DeleteObject on \`${bucket}/${old[0]}\` failed: User is not authorized to perform this action`],
      checkpoints: ['export', 'latest', 'verify', 'prune-iam-0', 'prune-iam-1'],
    });
    expect(r.lines[2]).toBe(':wastebasket: Pruned 1 old export; 1 could not be deleted.');
  });

  it('the new export not verified: nothing is pruned, and the run says so', async () => {
    // prepare
    const { bucket, prefix } = await setUp();
    await role(`${prefix}a`);
    const { old, newest, foreign } = await earlier(bucket);
    const i = input({ prune: true });
    const p = await plan(i, new Date(Date.now() + 100 * DAY_MS));
    readBack(bucket, '{"roles":[]}');

    // act
    const r = await execute(i, p.data);

    // assess
    expect(await keys(bucket)).toEqual([foreign, LATEST_KEY, LATEST_KEY, newest, keyOf(i), ...old].sort());
    expect(r).toMatchObject({
      ok: false,
      lines: [expect.stringMatching(/^Exported \*1\* role to/) as unknown, ':warning: Read back a different checksum with 0 roles.', 'Nothing was pruned: the new export did not verify.'],
      failures: ['the export read back differs from what was written'],
      checkpoints: ['export', 'latest', 'verify'],
    });
  });
});
