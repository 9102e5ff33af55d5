import {
  AttachRolePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readRole } from '../../src/aws/iam';
import type { RoleExport } from '../../src/runbooks/backup-iam/runbook';
import { canonical, diffPolicy, diffRole, isAwsManaged, sameDocument, statementDiff } from '../../src/runbooks/restore-iam/diff';
import { restorePolicy, restoreRole } from '../../src/runbooks/restore-iam/runbook';
import { MAX_THREAD_MESSAGES, PLAN_BUDGET, renderPlan, roleDetail, roleSummary } from '../../src/runbooks/restore-iam/view';
import { checkLimits } from '../../src/local/slack-standin';

const ARN = 'arn:aws:iam::123456789012:policy/spawn-read-artifacts';
const doc = (resource: string, sid?: string) => ({ Version: '2012-10-17', Statement: [{ ...(sid ? { Sid: sid } : {}), Effect: 'Allow', Action: 's3:GetObject', Resource: resource }] });
const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };

function role(over: Partial<RoleExport> = {}): RoleExport {
  return {
    name: 'spawn-worker-00',
    arn: 'arn:aws:iam::123456789012:role/spawn-worker-00',
    path: '/',
    description: 'worker',
    maxSessionDuration: 3600,
    trustPolicy: trust,
    tags: [{ key: 'team', value: 'spawn' }],
    inlinePolicies: [{ name: 'results', document: doc('arn:aws:s3:::r/*', 'Results') }],
    attachedPolicies: [{ name: 'spawn-read-artifacts', arn: ARN }],
    ...over,
  };
}

describe('diffRole', () => {
  it('finds nothing between a role and itself, and takes a missing max session as IAM’s one hour', () => {
    // act
    const same = diffRole(role(), role());
    const session = diffRole(role({ maxSessionDuration: undefined }), role({ maxSessionDuration: 3600 }));
    const keyOrder = diffRole(role(), role({ trustPolicy: { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' }, Effect: 'Allow' }], Version: '2012-10-17' } }));

    // assess
    expect(same.changes).toEqual([]);
    expect(session.changes).toEqual([]);
    expect(keyOrder.changes).toEqual([]);
  });

  it('lists each kind of difference as the change that undoes it', () => {
    // prepare: IAM now
    const live = role({
      description: 'changed',
      maxSessionDuration: 7200,
      trustPolicy: doc('x'),
      permissionsBoundary: 'arn:aws:iam::123456789012:policy/spawn-boundary',
      tags: [{ key: 'team', value: 'other' }, { key: 'owner', value: 'mallory' }],
      inlinePolicies: [{ name: 'results', document: doc('arn:aws:s3:::*', 'Results') }, { name: 'extra', document: doc('*') }],
      attachedPolicies: [{ name: 'AdministratorAccess', arn: 'arn:aws:iam::aws:policy/AdministratorAccess' }],
    });

    // act
    const d = diffRole(role(), live);

    // assess
    expect(d.changes.map((c) => c.kind)).toEqual(['trust', 'settings', 'boundary', 'inline', 'inline', 'attach', 'detach', 'tag', 'untag']);
    expect(d.changes).toContainEqual({ kind: 'settings', from: { description: 'changed', maxSessionDuration: 7200 }, to: { description: 'worker', maxSessionDuration: 3600 } });
    expect(d.changes).toContainEqual({ kind: 'boundary', from: 'arn:aws:iam::123456789012:policy/spawn-boundary' });
    expect(d.changes).toContainEqual({ kind: 'inline', name: 'extra', from: doc('*') });
    expect(d.changes).toContainEqual({ kind: 'detach', arn: 'arn:aws:iam::aws:policy/AdministratorAccess', name: 'AdministratorAccess' });
    expect(d.changes).toContainEqual({ kind: 'tag', key: 'team', from: 'other', to: 'spawn' });
    expect(d.changes).toContainEqual({ kind: 'untag', key: 'owner', from: 'mallory' });
    expect(roleSummary(d, role())).toBe(
      '`spawn-worker-00`: trust policy, description, max session 7,200 s → 3,600 s, permissions boundary removed, inline `results` (1 statement changed), inline `extra` deleted, `spawn-read-artifacts` attached, `AdministratorAccess` detached, tag `team` set back, tag `owner` removed',
    );
  });

  it('creates a deleted role, then puts back its inline and managed policies (tags go with CreateRole)', () => {
    // act
    const d = diffRole(role(), undefined);

    // assess
    expect(d.changes).toEqual([{ kind: 'create' }, { kind: 'inline', name: 'results', to: doc('arn:aws:s3:::r/*', 'Results') }, { kind: 'attach', arn: ARN, name: 'spawn-read-artifacts' }]);
    expect(roleDetail(d, role())[0]).toBe('spawn-worker-00: deleted since the export, created again');
  });
});

describe('statementDiff', () => {
  it('pairs a statement changed under its Sid, leaves identical statements out, and shows the rest removed then written', () => {
    // prepare
    const now = { Version: '2012-10-17', Statement: [{ Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 'sqs:*', Resource: '*' }, { Effect: 'Deny', Action: 'iam:*', Resource: '*' }] };
    const then = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iam:*', Resource: '*' }, { Sid: 'A', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] };

    // act
    const lines = statementDiff(now, then);

    // assess
    expect(lines).toEqual([
      { sign: '-', text: 'Sid A: {"Action":"s3:*","Effect":"Allow","Resource":"*","Sid":"A"}' },
      { sign: '+', text: 'Sid A: {"Action":"s3:GetObject","Effect":"Allow","Resource":"*","Sid":"A"}' },
      { sign: '-', text: 'statement 2: {"Action":"sqs:*","Effect":"Allow","Resource":"*"}' },
      { sign: '+', text: 'statement 3: {"Action":"sns:Publish","Effect":"Allow","Resource":"*"}' },
    ]);
  });

  it('reads one statement object like a list of one, and says when only the order differs', () => {
    // prepare
    const a = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
    const b = { Effect: 'Deny', Action: 'iam:*', Resource: '*' };

    // act
    const single = statementDiff({ Version: '2012-10-17', Statement: a }, { Version: '2012-10-17', Statement: [a] });
    const order = statementDiff({ Statement: [a, b] }, { Statement: [b, a] });
    const version = statementDiff({ Version: '2008-10-17', Statement: [a] }, { Version: '2012-10-17', Statement: [a] });

    // assess
    expect(single).toEqual([{ sign: ' ', text: 'the same statements, in another order or form (written as in the export)' }]);
    expect(order).toEqual([{ sign: ' ', text: 'the same statements, in another order or form (written as in the export)' }]);
    expect(version).toEqual([
      { sign: '-', text: 'Version: "2008-10-17"' },
      { sign: '+', text: 'Version: "2012-10-17"' },
    ]);
  });
});

describe('what an IAM restore changes, at the edges (restore-iam/diff.ts)', () => {
  it('each setting on its own: description, session, a boundary added or changed, a tag added', () => {
    const boundary = 'arn:aws:iam::123456789012:policy/spawn-boundary';
    expect(diffRole(role({ description: 'worker' }), role({ description: undefined })).changes).toEqual([{ kind: 'settings', from: { maxSessionDuration: 3600 }, to: { description: 'worker', maxSessionDuration: 3600 } }]);
    expect(diffRole(role({ description: undefined }), role({ description: '' })).changes).toEqual([]);
    expect(diffRole(role({ maxSessionDuration: 7200 }), role()).changes).toEqual([{ kind: 'settings', from: { description: 'worker', maxSessionDuration: 3600 }, to: { description: 'worker', maxSessionDuration: 7200 } }]);
    expect(diffRole(role({ permissionsBoundary: boundary }), role()).changes).toEqual([{ kind: 'boundary', to: boundary }]);
    expect(diffRole(role({ permissionsBoundary: boundary }), role({ permissionsBoundary: `${boundary}-2` })).changes).toEqual([{ kind: 'boundary', from: `${boundary}-2`, to: boundary }]);
    expect(diffRole(role({ permissionsBoundary: boundary }), role({ permissionsBoundary: boundary })).changes).toEqual([]);
    expect(diffRole(role({ tags: [{ key: 'team', value: 'spawn' }, { key: 'cost', value: 'dr' }] }), role()).changes).toEqual([{ kind: 'tag', key: 'cost', to: 'dr' }]);
    expect(diffRole(role({ tags: [{ key: 'team', value: '' }] }), role({ tags: [{ key: 'team', value: '' }] })).changes).toEqual([]);
  });

  it('policies: an inline one written back, one equal but for key order left alone, one attached already left alone, only the missing attached', () => {
    const other = 'arn:aws:iam::123456789012:policy/spawn-other';
    const want = role({ inlinePolicies: [{ name: 'results', document: doc('r', 'Results') }, { name: 'added', document: doc('a') }], attachedPolicies: [{ name: 'spawn-read-artifacts', arn: ARN }, { name: 'spawn-other', arn: other }] });
    const live = role({ inlinePolicies: [{ name: 'results', document: { Statement: [{ Resource: 'r', Action: 's3:GetObject', Effect: 'Allow', Sid: 'Results' }], Version: '2012-10-17' } }], attachedPolicies: [{ name: 'spawn-read-artifacts', arn: ARN }] });
    expect(diffRole(want, live).changes).toEqual([
      { kind: 'inline', name: 'added', to: doc('a') },
      { kind: 'attach', arn: other, name: 'spawn-other' },
    ]);
    // a role created again is given every policy and no tag change (CreateRole takes the tags)
    expect(diffRole(want, undefined).changes).toEqual([
      { kind: 'create' },
      { kind: 'inline', name: 'results', to: doc('r', 'Results') },
      { kind: 'inline', name: 'added', to: doc('a') },
      { kind: 'attach', arn: ARN, name: 'spawn-read-artifacts' },
      { kind: 'attach', arn: other, name: 'spawn-other' },
    ]);
    expect(diffRole(want, undefined).role).toBe('spawn-worker-00');
  });

  it('a managed policy: nothing when its document is the same, the live one when not, no live document when it is gone; named from its ARN when the export has no name; outside the prefix is shown, not written', () => {
    const want = { arn: ARN, name: 'spawn-read-artifacts', document: doc('x') };
    expect(diffPolicy(want, { document: { Statement: doc('x').Statement, Version: '2012-10-17' } }, 'spawn-')).toBeUndefined();
    expect(diffPolicy(want, { document: doc('y') }, 'spawn-')).toEqual({ arn: ARN, name: 'spawn-read-artifacts', from: doc('y'), to: doc('x'), outside: false });
    expect(diffPolicy(want, undefined, 'spawn-')).toEqual({ arn: ARN, name: 'spawn-read-artifacts', to: doc('x'), outside: false });
    expect(diffPolicy({ ...want, name: '' }, undefined, 'spawn-')).toEqual({ arn: ARN, name: 'spawn-read-artifacts', to: doc('x'), outside: false });
    expect(diffPolicy({ ...want, name: '', arn: 'no-slash' }, undefined, 'spawn-')).toMatchObject({ name: 'no-slash', outside: true });
    expect(diffPolicy(want, undefined, 'payments-')).toMatchObject({ outside: true });
  });

  it('AWS-managed policies by ARN, in any partition, and nothing that only looks like one', () => {
    expect(isAwsManaged('arn:aws:iam::aws:policy/AdministratorAccess')).toBe(true);
    expect(isAwsManaged('arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess')).toBe(true);
    expect(isAwsManaged('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')).toBe(true);
    for (const arn of [ARN, 'xarn:aws:iam::aws:policy/A', 'arn:aws:iam::123456789012:policy/aws:policy/A', 'arn:a:b:iam::aws:policy/A', 'arn:aws:iam::aws:policyA', 'arn::iam::aws:policy/A']) {
      expect({ arn, aws: isAwsManaged(arn) }).toEqual({ arn, aws: false });
    }
  });

  it('documents compare by meaning of their keys, not their order; arrays keep their order', () => {
    expect(canonical({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
    expect(sameDocument({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameDocument(undefined, undefined)).toBe(true);
    expect(sameDocument('x', 'x')).toBe(true);
  });

  it('statements: a top-level field on one side only, duplicates counted, an empty Sid as none, a Sid only removed or only written', () => {
    const a = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
    const b = { Effect: 'Deny', Action: 'iam:*', Resource: '*' };
    expect(statementDiff({ Id: 'x', Statement: [a] }, { Statement: [a] })).toEqual([{ sign: '-', text: 'Id: "x"' }]);
    expect(statementDiff({ Statement: [a] }, { Id: 'y', Statement: [a] })).toEqual([{ sign: '+', text: 'Id: "y"' }]);
    expect(statementDiff({ Statement: [a, a] }, { Statement: [a] })).toEqual([{ sign: '-', text: `statement 2: ${canonical(a)}` }]);
    expect(statementDiff({ Statement: [{ ...a, Sid: '' }] }, { Statement: [{ ...b, Sid: '' }] })).toEqual([
      { sign: '-', text: `statement 1: ${canonical({ ...a, Sid: '' })}` },
      { sign: '+', text: `statement 1: ${canonical({ ...b, Sid: '' })}` },
    ]);
    expect(statementDiff({ Statement: [{ ...a, Sid: 'Old' }] }, { Statement: [{ ...b, Sid: 'New' }, a] })).toEqual([
      { sign: '-', text: `Sid Old: ${canonical({ ...a, Sid: 'Old' })}` },
      { sign: '+', text: `Sid New: ${canonical({ ...b, Sid: 'New' })}` },
      { sign: '+', text: `statement 2: ${canonical(a)}` },
    ]);
    expect(statementDiff(null, { Statement: a })).toEqual([{ sign: '+', text: `statement 1: ${canonical(a)}` }]);
    expect(statementDiff({ Statement: a }, {})).toEqual([{ sign: '-', text: `statement 1: ${canonical(a)}` }]);
    expect(statementDiff({ Statement: [a] }, { Statement: [a] })).toEqual([]);
  });

  it('statements: a changed one pairs only with its own Sid; one without a Sid pairs with none; top-level fields in name order', () => {
    const a = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
    const b = { Effect: 'Deny', Action: 'iam:*', Resource: '*' };
    const c = { Effect: 'Allow', Action: 'sqs:*', Resource: '*' };
    expect(statementDiff({ Statement: [{ ...a, Sid: 'A' }, { ...b, Sid: 'B' }] }, { Statement: [{ ...c, Sid: 'B' }] })).toEqual([
      { sign: '-', text: `Sid B: ${canonical({ ...b, Sid: 'B' })}` },
      { sign: '+', text: `Sid B: ${canonical({ ...c, Sid: 'B' })}` },
      { sign: '-', text: `Sid A: ${canonical({ ...a, Sid: 'A' })}` },
    ]);
    expect(statementDiff({ Statement: [a, b] }, { Statement: [c] })).toEqual([
      { sign: '-', text: `statement 1: ${canonical(a)}` },
      { sign: '-', text: `statement 2: ${canonical(b)}` },
      { sign: '+', text: `statement 1: ${canonical(c)}` },
    ]);
    expect(statementDiff({ Version: '2008-10-17', Id: 'x', Statement: [a] }, { Version: '2012-10-17', Id: 'y', Statement: [a] }).map((l) => l.text)).toEqual(['Id: "x"', 'Id: "y"', 'Version: "2008-10-17"', 'Version: "2012-10-17"']);
  });

  it('a change adds no field it does not have: a new inline policy has no `from`, a new tag no `from`', () => {
    const changes = diffRole(role({ inlinePolicies: [{ name: 'new', document: doc('n') }], tags: [{ key: 'cost', value: 'dr' }] }), role({ inlinePolicies: [], tags: [] })).changes;
    expect(changes).toStrictEqual([
      { kind: 'inline', name: 'new', to: doc('n') },
      { kind: 'tag', key: 'cost', to: 'dr' },
    ]);
  });
});

describe('renderPlan', () => {
  const HOSTILE = ['```', '<!channel>', '<@U123>', 'a\u2028b', 'x\u202ey', '`code`', '*bold* _it_', '<https://evil.example|click>', 'z\u0000\u001b[31m', '&lt;!here&gt;'];

  function hostileRole(i: number): { d: ReturnType<typeof diffRole>; want: RoleExport } {
    const want = role({
      name: `spawn-r${i}`,
      description: HOSTILE.join(' '),
      tags: HOSTILE.map((v, j) => ({ key: `k${j}${v}`, value: v })),
      inlinePolicies: [{ name: `p${HOSTILE[i % HOSTILE.length]}`, document: { Version: '2012-10-17', Statement: HOSTILE.map((v) => ({ Sid: 'S', Effect: 'Allow', Action: v, Resource: v.repeat(40) })) } }],
    });
    return { d: diffRole(want, { ...want, description: 'other', tags: [], inlinePolicies: [] }), want };
  }

  function allText(v: ReturnType<typeof renderPlan>): string[] {
    return [...v.lines, ...v.thread.flatMap((m) => (m.blocks ?? []).map((b) => (b.type === 'section' ? (b.text?.text ?? '') : '')))];
  }

  it('keeps hostile values from IAM inside their code blocks: no mention, link, line separator or bidi control reaches Slack', () => {
    // prepare
    const roles = Array.from({ length: 3 }, (_, i) => hostileRole(i));

    // act
    const small = renderPlan({ runId: 'r-1', head: ['head'], summaries: roles.map((r) => roleSummary(r.d, r.want)), detail: roleDetail(roles[0]!.d, roles[0]!.want).slice(0, 3), notes: [] });
    const big = renderPlan({ runId: 'r-1', head: ['head'], summaries: roles.map((r) => roleSummary(r.d, r.want)), detail: roles.flatMap((r) => roleDetail(r.d, r.want)), notes: [] });

    // assess
    expect(small.thread).toEqual([]);
    expect(big.thread.length).toBeGreaterThan(0);
    for (const text of [...allText(small), ...allText(big)]) {
      expect(text).not.toMatch(/<[!@#]|<https?:/);
      expect(text).not.toMatch(/[\u2028\u2029\u202a-\u202e\u2066-\u2069\u0000-\u0009\u000b-\u001f]/);
      // fences only where the view opens and closes its code blocks
      for (const block of text.split('```').filter((_, j) => j % 2 === 1)) expect(block).not.toContain('`');
      expect((text.match(/```/g) ?? []).length % 2).toBe(0);
    }
  });

  it('fits the plan in its section and splits the whole diff into thread replies Slack accepts', () => {
    // prepare: 40 roles with long diffs
    const roles = Array.from({ length: 40 }, (_, i) => hostileRole(i));

    // act
    const v = renderPlan({ runId: 'r-1', head: ['head'], summaries: roles.map((r) => roleSummary(r.d, r.want)), detail: roles.flatMap((r) => roleDetail(r.d, r.want)), notes: ['a note'] });

    // assess
    expect(v.lines.reduce((n, l) => n + l.length + 3, 0)).toBeLessThanOrEqual(PLAN_BUDGET);
    expect(v.lines.at(-1)).toBe('a note');
    expect(v.lines.some((l) => /^…and \d+ more \(in the thread\)$/.test(l))).toBe(true);
    expect(v.thread.length).toBeLessThanOrEqual(MAX_THREAD_MESSAGES);
    for (const m of v.thread) {
      expect(checkLimits(m.text, m.blocks ?? [])).toBeUndefined();
      expect(JSON.stringify(m).length).toBeLessThan(14_000);
    }
  });

  it('says so in the plan and in the thread when the diff is longer than the thread may hold', () => {
    // prepare
    const roles = Array.from({ length: 200 }, (_, i) => hostileRole(i));

    // act
    const v = renderPlan({ runId: 'r-1', head: ['head'], summaries: roles.map((r) => roleSummary(r.d, r.want)), detail: roles.flatMap((r) => roleDetail(r.d, r.want)), notes: [] });

    // assess
    expect(v.thread).toHaveLength(MAX_THREAD_MESSAGES);
    expect(v.lines.join('\n')).toMatch(/:warning: The diff is too long to show whole \([\d,]+ lines\): the thread shows the first [\d,]+\. Name fewer roles/);
    const last = v.thread.at(-1)?.blocks?.at(-1);
    expect(last?.type === 'section' ? last.text?.text : '').toMatch(/more lines are not shown/);
  });
});

describe('IAM calls of a restore (aws-sdk-client-mock: moto differs)', () => {
  const iamMock = mockClient(IAMClient);
  const iam = new IAMClient({ region: 'us-east-1' });
  const enc = (d: unknown) => encodeURIComponent(JSON.stringify(d));
  beforeEach(() => {
    iamMock.reset();
  });

  it('reads every page of a role’s inline and attached policies (aws-sdk-client-mock: moto answers ListRolePolicies in one page)', async () => {
    // prepare: AWS's shapes, URL-encoded documents, two pages each
    iamMock.on(GetRoleCommand).resolves({ Role: { RoleName: 'spawn-a', RoleId: 'AROA1', Arn: 'arn:aws:iam::123456789012:role/spawn-a', Path: '/', CreateDate: new Date(), AssumeRolePolicyDocument: enc(trust), MaxSessionDuration: 3600, Tags: [{ Key: 'team', Value: 'spawn' }] } });
    iamMock.on(ListRolePoliciesCommand).resolvesOnce({ PolicyNames: ['a'], IsTruncated: true, Marker: 'm1' }).resolvesOnce({ PolicyNames: ['b'], IsTruncated: false });
    iamMock.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string }) => ({ RoleName: 'spawn-a', PolicyName: input.PolicyName, PolicyDocument: enc(doc(input.PolicyName)) }));
    iamMock.on(ListAttachedRolePoliciesCommand).resolvesOnce({ AttachedPolicies: [{ PolicyName: 'p1', PolicyArn: 'arn:1' }], IsTruncated: true, Marker: 'm2' }).resolvesOnce({ AttachedPolicies: [{ PolicyName: 'p2', PolicyArn: 'arn:2' }], IsTruncated: false });

    // act
    const r = await readRole(iam, 'spawn-a');

    // assess
    expect(iamMock.commandCalls(ListRolePoliciesCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'spawn-a', MaxItems: 1000 }, { RoleName: 'spawn-a', MaxItems: 1000, Marker: 'm1' }]);
    expect(iamMock.commandCalls(ListAttachedRolePoliciesCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'spawn-a', MaxItems: 1000 }, { RoleName: 'spawn-a', MaxItems: 1000, Marker: 'm2' }]);
    expect(r).toEqual({
      name: 'spawn-a',
      arn: 'arn:aws:iam::123456789012:role/spawn-a',
      path: '/',
      maxSessionDuration: 3600,
      trustPolicy: trust,
      tags: [{ key: 'team', value: 'spawn' }],
      inlinePolicies: [{ name: 'a', document: doc('a') }, { name: 'b', document: doc('b') }],
      attachedPolicies: [{ name: 'p1', arn: 'arn:1' }, { name: 'p2', arn: 'arn:2' }],
    });
  });

  it('compares with the role as it is when CreateRole says it exists although GetRole did not find it (aws-sdk-client-mock: moto is never eventually consistent)', async () => {
    // prepare: not found, then EntityAlreadyExists, then there with its trust but no policies
    const want = role();
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(new IAMServiceException({ name: 'NoSuchEntityException', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'The role with name spawn-worker-00 cannot be found.' }))
      .resolves({ Role: { RoleName: want.name, RoleId: 'AROA2', Arn: want.arn, Path: '/', CreateDate: new Date(), AssumeRolePolicyDocument: enc(trust), Description: 'worker', MaxSessionDuration: 3600, Tags: [{ Key: 'team', Value: 'spawn' }] } });
    iamMock.on(CreateRoleCommand).rejects(new IAMServiceException({ name: 'EntityAlreadyExistsException', $fault: 'client', $metadata: { httpStatusCode: 409 }, message: 'Role with name spawn-worker-00 already exists.' }));
    iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [], IsTruncated: false });
    iamMock.on(PutRolePolicyCommand).resolves({});
    iamMock.on(AttachRolePolicyCommand).resolves({});

    // act
    const r = await restoreRole(iam, want);

    // assess: the exact writes, as the export holds them
    expect(iamMock.commandCalls(CreateRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'spawn-worker-00', Path: '/', AssumeRolePolicyDocument: JSON.stringify(trust), Description: 'worker', MaxSessionDuration: 3600, Tags: [{ Key: 'team', Value: 'spawn' }] },
    ]);
    expect(iamMock.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'spawn-worker-00', PolicyName: 'results', PolicyDocument: JSON.stringify(doc('arn:aws:s3:::r/*', 'Results')) }]);
    expect(iamMock.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'spawn-worker-00', PolicyArn: ARN }]);
    expect(iamMock).not.toHaveReceivedCommand(UpdateRoleCommand);
    expect(r).toMatchObject({ created: false, changes: 2 });
  });

  it('sends the description and the session together to UpdateRole (IAM resets a session it is not given to one hour)', async () => {
    // prepare
    const want = role({ description: 'worker', maxSessionDuration: 7200 });
    iamMock.on(GetRoleCommand).resolves({ Role: { RoleName: want.name, RoleId: 'AROA3', Arn: want.arn, Path: '/', CreateDate: new Date(), AssumeRolePolicyDocument: enc(trust), Description: 'changed', MaxSessionDuration: 7200, Tags: [{ Key: 'team', Value: 'spawn' }] } });
    iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['results'], IsTruncated: false });
    iamMock.on(GetRolePolicyCommand).resolves({ RoleName: want.name, PolicyName: 'results', PolicyDocument: enc(doc('arn:aws:s3:::r/*', 'Results')) });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyName: 'spawn-read-artifacts', PolicyArn: ARN }], IsTruncated: false });
    iamMock.on(UpdateRoleCommand).resolves({});

    // act
    await restoreRole(iam, want);

    // assess
    expect(iamMock.commandCalls(UpdateRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'spawn-worker-00', Description: 'worker', MaxSessionDuration: 7200 }]);
  });

  it('deletes the oldest non-default version by date, whatever the listing order and version numbers, before a sixth (aws-sdk-client-mock: moto lists versions oldest first, numbered in order)', async () => {
    // prepare: five versions, listed newest first, v10 older than v9 would sort by text
    iamMock.on(GetPolicyCommand).resolves({ Policy: { Arn: ARN, PolicyName: 'spawn-read-artifacts', DefaultVersionId: 'v12' } });
    iamMock.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { VersionId: 'v12', IsDefaultVersion: true, Document: enc(doc('elsewhere')) } });
    iamMock.on(ListPolicyVersionsCommand).resolves({
      Versions: [
        { VersionId: 'v12', IsDefaultVersion: true, CreateDate: new Date('2026-01-05T00:00:00Z') },
        { VersionId: 'v11', IsDefaultVersion: false, CreateDate: new Date('2026-01-04T00:00:00Z') },
        { VersionId: 'v9', IsDefaultVersion: false, CreateDate: new Date('2026-01-02T00:00:00Z') },
        { VersionId: 'v10', IsDefaultVersion: false, CreateDate: new Date('2026-01-03T00:00:00Z') },
        { VersionId: 'v8', IsDefaultVersion: false, CreateDate: new Date('2026-01-01T00:00:00Z') },
      ],
      IsTruncated: false,
    });
    iamMock.on(DeletePolicyVersionCommand).resolves({});
    iamMock.on(CreatePolicyVersionCommand).resolves({ PolicyVersion: { VersionId: 'v13', IsDefaultVersion: true } });

    // act
    const r = await restorePolicy(iam, { arn: ARN, name: 'spawn-read-artifacts', document: doc('arn:aws:s3:::spawn-binaries-us-east-1/*') });

    // assess
    expect(iamMock.commandCalls(DeletePolicyVersionCommand).map((c) => c.args[0].input)).toEqual([{ PolicyArn: ARN, VersionId: 'v8' }]);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand).map((c) => c.args[0].input)).toEqual([{ PolicyArn: ARN, PolicyDocument: JSON.stringify(doc('arn:aws:s3:::spawn-binaries-us-east-1/*')), SetAsDefault: true }]);
    expect(r.summary).toContain('new default version `v13` (deleted the oldest version, `v8`');
  });
});
