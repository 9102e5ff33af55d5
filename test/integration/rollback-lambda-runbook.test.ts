/**
 * The rollback-lambda runbook (src/runbooks/rollback-lambda/runbook.ts, `/dr rollback lambda`) on
 * its own, against moto: what its plan reads, refuses and shows, and what its execution leaves the
 * alias on, for a rollback, a canary and its abort, with AWS refusing on the way. The flows through
 * Slack and approval are rollback-lambda.test.ts; these need no local stack, so `npm run mutate` can
 * run them for each mutant.
 *
 * moto ignores RevisionId, records no Lambda metrics and never throttles: a changed revision and
 * refusals are SDK middleware on the runbook's client, the canary's metrics are put into moto's
 * CloudWatch here, as Lambda would publish them.
 */
import { type AliasConfiguration, GetAliasCommand, type GetAliasCommandOutput, type ListVersionsByFunctionCommandOutput, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { SANDBOX_LAMBDA_ROLE, storedZip } from '../../src/local/estate';
import type { RollbackLambdaInput } from '../../src/runbooks/rollback-lambda';
import { CANARY_WATCH_MINUTES, describeVersion, type RollbackPlan, runbook } from '../../src/runbooks/rollback-lambda/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { ALIAS, lambdaRoles, makeFunction, putInvocations as putMetrics } from '../helpers/lambda-fns';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const lambda = () => rig.moto().clients.lambda('us-east-1');
const alias = (fn: string): Promise<AliasConfiguration> => lambda().send(new GetAliasCommand({ FunctionName: fn, Name: ALIAS }));
const state = async (fn: string) => {
  const a = await alias(fn);
  return { version: a.FunctionVersion, routing: { ...(a.RoutingConfig?.AdditionalVersionWeights ?? {}) } };
};

beforeAll(async () => {
  await lambdaRoles(rig.moto().clients.iam('us-east-1'), [SANDBOX_LAMBDA_ROLE, 'rb-other-exec']);
});

/** A new function with `versions` published versions and the alias on the newest (or as told). */
async function fn(versions = 3, opts: Parameters<typeof makeFunction>[3] = {}): Promise<string> {
  const name = `rb-${++n}`;
  await makeFunction(lambda(), name, versions, opts);
  return name;
}

function input(f: string, over: Partial<RollbackLambdaInput> = {}): RollbackLambdaInput & AnyRunInput {
  return { kind: 'rollback-lambda', runId: `rb${++n}`, requester: 'UALICE', channel: 'C1', commandText: `/dr rollback lambda ${f}`, requestedAt: new Date().toISOString(), fn: f, abortCanary: false, dryRun: false, ...over } as RollbackLambdaInput & AnyRunInput;
}

const plan = (i: RollbackLambdaInput) => runbook.plan(rig.deps(), i);
const execute = (i: RollbackLambdaInput & AnyRunInput, p: RollbackPlan) => rig.execute(runbook, i, p);

describe('the plan', () => {
  it("goes back to the version before the alias's, showing both versions' facts as AWS holds them; a dry run says would", async () => {
    // prepare
    const f = await fn(3);
    const a = await alias(f);

    // act
    const p = await plan(input(f));
    const dry = await plan(input(f, { dryRun: true }));

    // assess
    expect(p.empty).toBeUndefined();
    expect(p.data).toMatchObject({ mode: 'rollback', fn: f, alias: ALIAS, revisionId: a.RevisionId, routing: {}, from: { version: '3', description: `release 3 of ${f}` }, to: { version: '2', description: `release 2 of ${f}` } });
    expect(p.data.from.codeSha256).not.toBe(p.data.to.codeSha256);
    expect(p.data.to.role).toMatch(/role\/drbot-sandbox-lambda-exec$/);
    expect(p.lines[0]).toBe(`\`${f}\` alias \`${ALIAS}\`: v3 → *v2*.`);
    expect(p.lines[1]).toMatch(new RegExp(`^From v3: \`release 3 of ${f}\`, published <!date\\^\\d+\\^\\{date_short_pretty\\} \\{time\\}\\|[^>]+>, code SHA-256 \`${p.data.from.codeSha256.replace(/[+/]/g, '.')}\`$`));
    expect(p.lines[2]).toMatch(/^To v2: /);
    expect(p.lines.at(-1)).toBe('Applies with UpdateAlias, then reads the alias back with GetAlias.');
    expect(dry.lines.at(-1)).toBe('Would apply with UpdateAlias, then reads the alias back with GetAlias.');
    expect(p.lines.join('\n')).not.toContain('rolls forward');
  });

  it('a named version, forward: warned; a routed alias: its routing shown and cleared; already there with no routing: nothing to do', async () => {
    const first = await fn(3, { aliasOn: '1' });
    const forward = await plan(input(first, { version: '3' }));
    expect(forward.lines).toContain(':warning: v3 is newer than v1: this rolls forward.');

    const routed = await fn(3, { routing: { '2': 0.25 } });
    const r = await plan(input(routed, { version: '1' }));
    expect(r.lines[0]).toBe(`\`${routed}\` alias \`${ALIAS}\`: v3 → *v1* (now also 25 % to v2).`);
    expect(r.lines).toContain("The alias's routing (25 % to v2) is cleared: all traffic goes to v1.");
    // the alias's own version with its routing to clear is a change; without routing it is not
    const same = await plan(input(routed, { version: '3' }));
    expect(same.empty).toBeUndefined();
    const plain = await fn(2);
    const nothing = await plan(input(plain, { version: '2' }));
    expect(nothing).toMatchObject({ empty: true, lines: [`\`${plain}\` alias \`${ALIAS}\` is already on v2 with no routing: nothing to do.`] });
  });

  it('versions listed in any order (moto lists them oldest first; SDK middleware reverses the list): the one before is by number', async () => {
    const f = await fn(3);
    rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: [...(out.Versions ?? [])].reverse() }));
    expect((await plan(input(f))).data.to.version).toBe('2');
    await expect(plan(input(f, { version: '9' }))).rejects.toMatchObject({ message: expect.stringContaining('Published versions: v1, v2, v3.') });
  });

  it('how a version is shown: its number, or any other value as code; its description, date and checksum', () => {
    expect(describeVersion({ version: '1234567890', description: 'ok', lastModified: '2026-12-01T10:00:00.000+0000', codeSha256: 'abc=' })).toBe(
      'v1234567890: `ok`, published <!date^1796119200^{date_short_pretty} {time}|2026-12-01 10:00 UTC>, code SHA-256 `abc=`',
    );
    expect(describeVersion({ version: '12345678901', description: '', codeSha256: 'abc=' })).toBe('`12345678901`: _no description_, code SHA-256 `abc=`');
    expect(describeVersion({ version: '2', description: 'x', lastModified: 'last tuesday', codeSha256: '' })).toBe('v2: `x`, published `last tuesday`, code SHA-256 ``');
  });

  it('an alias on $LATEST goes back to the newest published version; $LATEST itself is never a target', async () => {
    const f = await fn(3, { aliasOn: '$LATEST' });
    const p = await plan(input(f));
    expect(p.data.to.version).toBe('3');
    expect(p.lines[0]).toBe(`\`${f}\` alias \`${ALIAS}\`: \`$LATEST\` → *v3*.`);
    await expect(plan(input(f, { version: '$LATEST' }))).rejects.toMatchObject({ code: 'no_such_version' });
  });

  it('refuses a version that does not exist, an alias with nothing before it, a missing function or alias, each in its own words', async () => {
    const f = await fn(3, { aliasOn: '1' });
    await expect(plan(input(f, { version: '7' }))).rejects.toMatchObject({
      code: 'no_such_version',
      message: `Version 7 of \`${f}\` does not exist. Published versions: v1, v2, v3.`,
      hint: `Name one of them, or leave VERSION out to go back to the version before the one \`${ALIAS}\` is on.`,
    });
    await expect(plan(input(f))).rejects.toMatchObject({
      code: 'no_earlier_version',
      message: `\`${ALIAS}\` of \`${f}\` is on v1: there is no published version before it to roll back to (published: v1, v2, v3).`,
      hint: 'Name a VERSION to move to, or publish the version you want first.',
    });
    await expect(plan(input('rb-never'))).rejects.toMatchObject({
      code: 'function_not_in_lambda',
      message: '`rb-never` is in the drbot config but Lambda has no such function in us-east-1.',
      hint: 'Check the name in `lambda.functions`, or whether the function was deleted (`/dr backup lambda` keeps its versions in the backup bucket).',
    });
    // nothing published at all
    const none = await fn(0, { aliasOn: '$LATEST' });
    await expect(plan(input(none))).rejects.toMatchObject({ code: 'no_earlier_version', message: expect.stringContaining('is on `$LATEST`: there is no published version before it to roll back to (published: none).') });
    const noAlias = await fn(2, { alias: false });
    await expect(plan(input(noAlias))).rejects.toMatchObject({ code: 'unknown_alias' });
    // deleted between ListVersionsByFunction and GetAlias
    fail(lambda(), 'GetAliasCommand', { name: 'ResourceNotFoundException', message: `Function not found: arn:aws:lambda:us-east-1:123456789012:function:${f}`, status: 404 }, { times: 1 });
    await expect(plan(input(f, { version: '2' }))).rejects.toMatchObject({ code: 'function_not_in_lambda' });
    // Lambda answering ResourceNotFound for the listing is the same
    fail(lambda(), 'ListVersionsByFunctionCommand', { name: 'ResourceNotFoundException', message: 'Function not found', status: 404 }, { times: 1 });
    await expect(plan(input(f, { version: '2' }))).rejects.toMatchObject({ code: 'function_not_in_lambda' });
    // anything else is AWS's own error
    fail(lambda(), 'ListVersionsByFunctionCommand', ACCESS_DENIED, { times: 1 });
    await expect(plan(input(f, { version: '2' }))).rejects.toMatchObject({ code: 'aws_access_denied' });
    fail(lambda(), 'GetAliasCommand', ACCESS_DENIED, { times: 1 });
    await expect(plan(input(f, { version: '2' }))).rejects.toMatchObject({ code: 'aws_access_denied' });
  });

  it('a canary: the share, both versions, the routing it replaces; refused on $LATEST, onto the same version, or between different roles', async () => {
    const routed = await fn(3, { routing: { '1': 0.05 } });
    const p = await plan(input(routed, { canary: 10 }));
    expect(p.data).toMatchObject({ mode: 'canary', weight: 0.1, from: { version: '3' }, to: { version: '2' } });
    expect(p.lines[0]).toBe(`\`${routed}\` alias \`${ALIAS}\`: stays on v3; *10 %* of its traffic goes to v2 (now also 5 % to v1).`);
    expect(p.lines[1]).toMatch(/^Main v3: /);
    expect(p.lines[2]).toMatch(/^Canary v2: /);
    expect(p.lines).toContain("Replaces the alias's current routing (5 % to v1).");
    expect(p.lines.at(-1)).toMatch(/^Applies with UpdateAlias, reads it back with GetAlias, watches 5 minutes, .*\*Complete rollback\* \(all traffic to v2\) and \*Abort\* \(all back to v3\)\.$/);
    // the canary's own version already in the routing is not "replaced"
    const onTwo = await fn(3, { routing: { '2': 0.05 } });
    expect((await plan(input(onTwo, { canary: 10 }))).lines.join('\n')).not.toContain('Replaces');

    const latest = await fn(2, { aliasOn: '$LATEST' });
    await expect(plan(input(latest, { canary: 10 }))).rejects.toMatchObject({
      code: 'canary_on_latest',
      message: `\`${ALIAS}\` of \`${latest}\` is on \`$LATEST\`, and Lambda does not split an alias on \`$LATEST\` between two versions.`,
      hint: 'Roll back without --canary, or point the alias at a published version first.',
    });
    const plain = await fn(2);
    await expect(plan(input(plain, { canary: 10, version: '2' }))).rejects.toMatchObject({ code: 'canary_same_version', message: `\`${ALIAS}\` is already on v2: a canary needs another version.`, hint: 'Name the VERSION to send part of the traffic to.' });
    // v2 runs under another role
    const roles = await fn(1);
    await lambda().send(new UpdateFunctionCodeCommand({ FunctionName: roles, ZipFile: storedZip('index.js', 'exports.handler = async () => 2;\n') }));
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: roles, Role: 'arn:aws:iam::123456789012:role/rb-other-exec' }));
    await lambda().send(new PublishVersionCommand({ FunctionName: roles }));
    await expect(plan(input(roles, { canary: 10, version: '2' }))).rejects.toMatchObject({
      code: 'canary_incompatible',
      message: `Lambda splits an alias only between versions with the same execution role and dead-letter queue; v1 and v2 of \`${roles}\` differ.`,
      hint: 'Roll back without --canary (all traffic at once).',
    });
    // the same role, another dead-letter queue (moto keeps none per version: SDK middleware sets v2's)
    const dlq = await fn(3);
    const undo = rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({
      ...out,
      Versions: (out.Versions ?? []).map((v) => (v.Version === '2' ? { ...v, DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' } } : v)),
    }));
    await expect(plan(input(dlq, { canary: 10 }))).rejects.toMatchObject({ code: 'canary_incompatible' });
    expect((await plan(input(dlq, { version: '2' }))).data.to.deadLetter).toBe('arn:aws:sqs:us-east-1:123456789012:dlq');
    undo();
    expect((await plan(input(dlq, { canary: 10 }))).data.to.deadLetter).toBeUndefined();
  });

  it('an abort: the routing cleared back to the main version; with no routing, nothing to abort', async () => {
    const routed = await fn(3, { routing: { '2': 0.1 } });
    const p = await plan(input(routed, { abortCanary: true }));
    expect(p.data).toMatchObject({ mode: 'abort', from: { version: '3' }, to: { version: '3' }, routing: { '2': 0.1 } });
    expect(p.lines[0]).toBe(`\`${routed}\` alias \`${ALIAS}\`: v3 with 10 % to v2 → *v3 only*: the routing is cleared, all traffic goes to its main version.`);
    const plain = await fn(2);
    expect(await plan(input(plain, { abortCanary: true }))).toMatchObject({ empty: true, lines: [`\`${plain}\` alias \`${ALIAS}\` is on v2 with no routing: there is no canary to abort.`] });
  });

  it('titles say which of the three it is', () => {
    expect(runbook.title(input('f'))).toBe('Rollback of Lambda f');
    expect(runbook.title(input('f', { version: '2' }))).toBe('Rollback of Lambda f to v2');
    expect(runbook.title(input('f', { canary: 10 }))).toBe('Canary rollback of Lambda f at 10 %');
    expect(runbook.title(input('f', { canary: 10, version: '2' }))).toBe('Canary rollback of Lambda f to v2 at 10 %');
    expect(runbook.title(input('f', { abortCanary: true }))).toBe('Abort of the canary on Lambda f');
    expect(runbook.resources?.(input('f'))).toEqual(['lambda:f']);
    expect(runbook.destructive).toBe(true);
  });

  it("each mode's plan line by line: a rollback of an alias without routing, an abort, a canary replacing no routing", async () => {
    // prepare
    const f = await fn(3);
    const routed = await fn(3, { routing: { '2': 0.1 } });

    // act
    const back = await plan(input(f));
    const abort = await plan(input(routed, { abortCanary: true }));
    const canary = await plan(input(f, { canary: 10 }));

    // assess: nothing about routing or rolling forward where there is none
    expect(back.lines).toEqual([`\`${f}\` alias \`${ALIAS}\`: v3 → *v2*.`, `From ${describeVersion(back.data.from)}`, `To ${describeVersion(back.data.to)}`, 'Applies with UpdateAlias, then reads the alias back with GetAlias.']);
    expect(abort.lines).toEqual([
      `\`${routed}\` alias \`${ALIAS}\`: v3 with 10 % to v2 → *v3 only*: the routing is cleared, all traffic goes to its main version.`,
      `Main ${describeVersion(abort.data.from)}`,
      'Applies with UpdateAlias, then reads the alias back with GetAlias.',
    ]);
    expect(abort.lines[1]).toMatch(new RegExp(`^Main v3: \`release 3 of ${routed}\`, published `));
    expect(canary.lines).toEqual([
      `\`${f}\` alias \`${ALIAS}\`: stays on v3; *10 %* of its traffic goes to v2.`,
      `Main ${describeVersion(canary.data.from)}`,
      `Canary ${describeVersion(canary.data.to)}`,
      "Applies with UpdateAlias, reads it back with GetAlias, watches 5 minutes, then shows each version's invocations and errors with *Complete rollback* (all traffic to v2) and *Abort* (all back to v3).",
    ]);
  });

  it('rolls forward only to a higher version number: v10 → v11 is forward, the alias\'s own version is not, nor any version not a plain number', async () => {
    // prepare
    const many = await fn(11, { aliasOn: '10' });
    const routed = await fn(3, { routing: { '2': 0.25 } });
    const odd = await fn(3);

    // act
    const eleven = await plan(input(many, { version: '11' }));
    const back = await plan(input(many));
    const same = await plan(input(routed, { version: '3' }));
    // Lambda's alias versions are digits or $LATEST; one that is neither (SDK middleware: moto keeps
    // Lambda's rule) but reads as a number to JavaScript (`0x1` is 1) is still not a version to compare
    rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => ({ ...out, FunctionVersion: '0x1' }));
    const hex = await plan(input(odd, { version: '2' }));

    // assess
    expect(eleven.lines).toContain(':warning: v11 is newer than v10: this rolls forward.');
    expect(back.data.to.version).toBe('9');
    expect(back.lines.join('\n')).not.toContain('rolls forward');
    expect(same.lines).toEqual([
      `\`${routed}\` alias \`${ALIAS}\`: v3 → *v3* (now also 25 % to v2).`,
      `From ${describeVersion(same.data.from)}`,
      `To ${describeVersion(same.data.to)}`,
      "The alias's routing (25 % to v2) is cleared: all traffic goes to v3.",
      'Applies with UpdateAlias, then reads the alias back with GetAlias.',
    ]);
    expect(hex.lines[0]).toBe(`\`${odd}\` alias \`${ALIAS}\`: \`0x1\` → *v2*.`);
    expect(hex.lines.join('\n')).not.toContain('rolls forward');
  });

  it('routing to more than one version (AWS allows one; moto keeps two): each shown, comma-separated', async () => {
    const f = await fn(3, { routing: { '1': 0.1, '2': 0.2 } });
    const p = await plan(input(f, { version: '1' }));
    expect(p.lines[0]).toBe(`\`${f}\` alias \`${ALIAS}\`: v3 → *v1* (now also 10 % to v1, 20 % to v2).`);
  });

  it('what AWS leaves out is said as missing, not made up: a version without its number, description, checksum or role; an alias without its version or revision', async () => {
    // SDK middleware throughout: moto always returns these fields
    // a listing entry without a version number is not a published version
    const f = await fn(3);
    let undo = rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: [...(out.Versions ?? []), { FunctionName: f }] }));
    await expect(plan(input(f, { version: '9' }))).rejects.toMatchObject({ message: `Version 9 of \`${f}\` does not exist. Published versions: v1, v2, v3.` });
    undo();

    // the alias's own version not in the listing: only its number is known
    undo = rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: (out.Versions ?? []).filter((v) => v.Version !== '3') }));
    const unlisted = await plan(input(f));
    expect(unlisted.data.from).toEqual({ version: '3', description: '', codeSha256: '' });
    expect(unlisted.lines.slice(0, 2)).toEqual([`\`${f}\` alias \`${ALIAS}\`: v3 → *v2*.`, 'From v3: _no description_, code SHA-256 ``']);
    undo();

    // versions listed without description, checksum or role: none; and two versions without a role have the same one, so a canary may split them
    undo = rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({
      ...out,
      Versions: (out.Versions ?? []).map((v) => ({ ...v, Description: undefined, CodeSha256: undefined, Role: undefined })),
    }));
    const bare = await plan(input(f, { canary: 10 }));
    expect(bare.data).toMatchObject({ mode: 'canary', from: { version: '3', description: '', codeSha256: '' }, to: { version: '2', description: '', codeSha256: '' } });
    expect(bare.data.from.role).toBeUndefined();
    expect(bare.data.to.role).toBeUndefined();
    expect(bare.lines[2]).toMatch(/^Canary v2: _no description_, published <!date.+>, code SHA-256 ``$/);
    undo();

    // an alias read without its version or revision: on no version, and no revision to send
    rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => ({ ...out, FunctionVersion: undefined, RevisionId: undefined }));
    const blank = await plan(input(f, { version: '2' }));
    expect(blank.data).toMatchObject({ revisionId: '', from: { version: '' }, to: { version: '2' } });
    expect(blank.lines[0]).toBe(`\`${f}\` alias \`${ALIAS}\`: \`\` → *v2*.`);
  });

  it('a missing function is told from the listing: an empty listing is no function, and only a not-found GetAlias is one', async () => {
    // an existing function always lists $LATEST; SDK middleware lists nothing, as for a missing one, while GetAlias still answers
    const f = await fn(3);
    const undo = rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: [] }));
    await expect(plan(input(f, { version: '2' }))).rejects.toMatchObject({ code: 'function_not_in_lambda' });
    undo();

    // a server error that mentions a missing function is AWS's own error, not "no such function"
    fail(lambda(), 'GetAliasCommand', { name: 'ServiceException', message: 'Function not found in the service cache; retry', status: 500 }, { times: 1 });
    await expect(plan(input(f, { version: '2' }))).rejects.toMatchObject({ code: 'aws_error', message: `GetAlias on \`${f}:${ALIAS}\` failed: Function not found in the service cache; retry` });
  });
});

describe('the execution', () => {
  it('moves the alias and clears its routing, verified with GetAlias; an abort clears the routing only', async () => {
    // prepare
    const routed = await fn(3, { routing: { '2': 0.25 } });
    const i = input(routed, { version: '1' });
    const p = (await plan(i)).data;

    // act
    const r = await execute(i, p);

    // assess
    expect(await state(routed)).toEqual({ version: '1', routing: {} });
    expect(r).toMatchObject({ ok: true, failures: [], lines: [`:white_check_mark: \`${ALIAS}\` of \`${routed}\` is on v1 (was v3 with 25 % to v2), with no routing; verified with GetAlias.`] });

    const canaried = await fn(3, { routing: { '2': 0.1 } });
    const a = input(canaried, { abortCanary: true });
    const ab = await execute(a, (await plan(a)).data);
    expect(await state(canaried)).toEqual({ version: '3', routing: {} });
    expect(ab.lines).toEqual([`:white_check_mark: \`${ALIAS}\` of \`${canaried}\` sends all traffic to v3 again (was v3 with 10 % to v2); verified with GetAlias.`]);
  });

  it('UpdateAlias refused: the run fails, saying what the alias is on now (unchanged)', async () => {
    const f = await fn(3);
    const i = input(f);
    const p = (await plan(i)).data;
    fail(lambda(), 'UpdateAliasCommand', ACCESS_DENIED);

    const r = await execute(i, p);

    expect(await state(f)).toEqual({ version: '3', routing: {} });
    expect(r.ok).toBe(false);
    expect(r.lines[0]).toBe(`:x: UpdateAlias failed: UpdateAlias on \`${f}:${ALIAS}\` failed: User is not authorized to perform this action. \`${ALIAS}\` is on v3 only, as before: nothing was changed.`);
    expect(r.failures).toEqual([`UpdateAlias on \`${f}:${ALIAS}\` failed: User is not authorized to perform this action`]);
    // and the alias cannot be read either: the failure alone, nothing said of what it is on
    fail(lambda(), 'GetAliasCommand', ACCESS_DENIED);
    const blind = await execute(input(f), p);
    expect(blind.lines[0]).toBe(`:x: UpdateAlias failed: UpdateAlias on \`${f}:${ALIAS}\` failed: User is not authorized to perform this action.`);
  });

  it('the alias changed after the plan (AWS refuses the revision; moto ignores it, SDK middleware answers so): refused unless it is already as wanted', async () => {
    // prepare: someone moves the alias to v1 after the plan
    const f = await fn(3);
    const i = input(f);
    const p = (await plan(i)).data;
    await lambda().send(new UpdateAliasCommand({ FunctionName: f, Name: ALIAS, FunctionVersion: '1' }));
    const changed = { name: 'PreconditionFailedException', message: 'The Revision Id provided does not match the latest Revision Id.', status: 412 };
    const undo = fail(lambda(), 'UpdateAliasCommand', changed);

    // act
    const r = await execute(i, p);
    undo();

    // assess
    expect(await state(f)).toEqual({ version: '1', routing: {} });
    expect(r.ok).toBe(false);
    expect(r.lines[0]).toBe(`:x: UpdateAlias failed: The alias \`${ALIAS}\` of \`${f}\` changed after the plan was made. \`${ALIAS}\` is on v1 only.`);
    expect(r.lines[1]).toBe('Someone else moved it; run the command again to plan from its current state.');

    // a replayed step whose first call landed: the alias is where it was to go
    await lambda().send(new UpdateAliasCommand({ FunctionName: f, Name: ALIAS, FunctionVersion: '2' }));
    fail(lambda(), 'UpdateAliasCommand', changed);
    const again = await execute(input(f), p);
    expect(again.ok).toBe(true);
    expect(again.lines[0]).toMatch(/It was already so when the step ran again\.$/);
  });

  it('the alias read back is not what was written, or cannot be read: the run fails saying so', async () => {
    const f = await fn(3);
    const i = input(f);
    const p = (await plan(i)).data;
    rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => ({ ...out, FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '3': 0.5 } } }));

    const r = await execute(i, p);

    expect(r).toMatchObject({ ok: false, lines: [`:x: GetAlias reads \`${ALIAS}\` on v1 with 50 % to v3, not v2 only.`], failures: [`alias ${ALIAS} reads 1 {"3":0.5} after the update`] });
    undoFaults();
    fail(lambda(), 'GetAliasCommand', ACCESS_DENIED);
    const unread = await execute(input(f), { ...p, revisionId: '' });
    expect(unread.ok).toBe(false);
    expect(unread.lines[0]).toBe(`:x: The update was sent, but GetAlias could not read the alias back: GetAlias on \`${f}:${ALIAS}\` failed: User is not authorized to perform this action`);
    expect(unread.failures[0]).toMatch(/^GetAlias after the update: /);
  });

  it('an alias without routing: says where it was and nothing of routing', async () => {
    const f = await fn(3);
    const i = input(f);
    const r = await execute(i, (await plan(i)).data);
    expect(await state(f)).toEqual({ version: '2', routing: {} });
    expect(r).toMatchObject({ ok: true, failures: [], lines: [`:white_check_mark: \`${ALIAS}\` of \`${f}\` is on v2 (was v3), with no routing; verified with GetAlias.`] });
  });

  it('read back with any weight left, however small (1e-9, the rounding tolerance), or without a version: the run fails saying so', async () => {
    const f = await fn(3);
    const i = input(f);
    const p = (await plan(i)).data;
    let undo = rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => ({ ...out, RoutingConfig: { AdditionalVersionWeights: { '3': 1e-9 } } }));

    const r = await execute(i, p);
    undo();

    expect(r).toMatchObject({ ok: false, lines: [`:x: GetAlias reads \`${ALIAS}\` on v2 with 0 % to v3, not v2 only.`], failures: [`alias ${ALIAS} reads 2 {"3":1e-9} after the update`] });

    undo = rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => ({ ...out, FunctionVersion: undefined }));
    const none = await execute(input(f), { ...p, revisionId: '' });
    undo();
    expect(none).toMatchObject({ ok: false, lines: [`:x: GetAlias reads \`${ALIAS}\` on \`?\` only, not v2 only.`], failures: [`alias ${ALIAS} reads ? {} after the update`] });
  });

  it('its checkpoints, named as a replay finds them: a rollback, a refused update, a canary minute by minute', async () => {
    // prepare
    const f = await fn(3);
    const g = await fn(3);
    const h = await fn(3);
    const i = input(f);
    const j = input(g);
    const k = input(h, { canary: 10 });
    const [pi, pj, pk] = [(await plan(i)).data, (await plan(j)).data, (await plan(k)).data];

    // act
    const moved = await rig.executeWatched(runbook, i, pi);
    const undo = fail(lambda(), 'UpdateAliasCommand', ACCESS_DENIED);
    const refused = await rig.executeWatched(runbook, j, pj);
    undo();
    const canary = await rig.executeWatched(runbook, k, pk);

    // assess
    expect(moved).toMatchObject({ ok: true, checkpoints: ['update-alias', 'verify'] });
    expect(refused).toMatchObject({ ok: false, checkpoints: ['update-alias', 'read-after-failure'] });
    expect(refused.lines[0]).toMatch(/, as before: nothing was changed\.$/);
    expect(canary.ok).toBe(true);
    expect(canary.checkpoints).toEqual([
      'shift',
      'verify-shift',
      ...Array.from({ length: CANARY_WATCH_MINUTES }, (_, m) => [`watch-${m}`, `watch-wait-${m} (wait 60 s)`]).flat(),
      'read-metrics',
    ]);
  });

  describe('a canary', () => {
    /** The AWS/Lambda points Lambda would publish for the alias, per executed version, a minute from now. */
    const putInvocations = (f: string, points: Record<string, { invocations: number; errors: number }>) =>
      putMetrics(rig.moto().clients.cloudwatch('us-east-1'), f, points, new Date(Date.now() + 60_000));

    it('shifts the share, watches minute by minute, then shows each version\'s errors and offers Complete rollback and Abort', async () => {
      // prepare
      const f = await fn(3);
      const i = input(f, { canary: 10 });
      const p = (await plan(i)).data;
      await putInvocations(f, { '2': { invocations: 40, errors: 0 }, '3': { invocations: 360, errors: 3 } });

      // act
      const r = await execute(i, p);

      // assess
      expect(await state(f)).toEqual({ version: '3', routing: { '2': 0.1 } });
      expect(r.reports.map(([done, total]) => [done, total])).toEqual(Array.from({ length: CANARY_WATCH_MINUTES }, (_, k) => [k, CANARY_WATCH_MINUTES]));
      expect(r.reports[0]?.[2]).toBe(`minutes watched, 10 % of \`${ALIAS}\` on v2:`);
      expect(r.ok).toBe(true);
      expect(r.lines[0]).toBe(`:white_check_mark: \`${ALIAS}\` of \`${f}\` stays on v3 and sends *10 %* of its traffic to v2; verified with GetAlias.`);
      expect(r.lines[1]).toMatch(/^\*Errors\* \(AWS\/Lambda, alias `production`, <!date.+ to <!date.+; Lambda publishes them a minute or two late\):$/);
      expect(r.lines.slice(2, 5)).toEqual(['• v2 (canary, 10 %): 40 invocations, 0 errors (0.00 %)', '• v3 (main): 360 invocations, 3 errors (0.83 %)', ':white_check_mark: v2 fails no more often than v3.']);
      expect(r.lines.at(-1)).toBe('*Complete rollback* moves all traffic to v2; *Abort* sends it all back to v3. Each has its own plan and approval.');
      expect(r.next).toEqual([
        { label: 'Complete rollback', command: `rollback lambda ${f} 2`, style: 'primary' },
        { label: 'Abort', command: `rollback lambda ${f} --abort-canary`, style: 'danger' },
      ]);
    });

    it("the verdicts: a canary failing more often, one invocation, none for the canary, none at all", async () => {
      const run = async (points: Record<string, { invocations: number; errors: number }>) => {
        const f = await fn(3);
        const i = input(f, { canary: 25 });
        const p = (await plan(i)).data;
        await putInvocations(f, points);
        return (await execute(i, p)).lines;
      };
      expect((await run({ '2': { invocations: 50, errors: 10 }, '3': { invocations: 150, errors: 1 } })).slice(2, 5)).toEqual([
        '• v2 (canary, 25 %): 50 invocations, 10 errors (20.0 %)',
        '• v3 (main): 150 invocations, 1 error (0.67 %)',
        ':warning: v2 fails more often than v3: consider *Abort*.',
      ]);
      expect((await run({ '2': { invocations: 1, errors: 0 }, '3': { invocations: 0, errors: 0 } })).slice(2, 5)).toEqual([
        '• v2 (canary, 25 %): 1 invocation, 0 errors (0.00 %)',
        '• v3 (main): 0 invocations, 0 errors',
        ':white_check_mark: v2 fails no more often than v3.',
      ]);
      expect((await run({ '3': { invocations: 20, errors: 0 } }))[4]).toBe(':grey_question: v2 received no invocations in the window yet.');
      expect((await run({}))[4]).toBe(":grey_question: No invocations were recorded in the window: there is nothing to compare yet. Look at the function's metrics again before completing.");
    });

    it('metrics refused, or the alias moved during the watch: said, and the run still offers both buttons', async () => {
      const f = await fn(3);
      const i = input(f, { canary: 10 });
      const p = (await plan(i)).data;
      fail(rig.moto().clients.cloudwatch('us-east-1'), 'GetMetricDataCommand', ACCESS_DENIED);
      const r = await execute(i, p);
      expect(r.ok).toBe(true);
      expect(r.lines[1]).toMatch(/^:warning: Could not read the error metrics: GetMetricData on `AWS\/Lambda .+` failed: User is not authorized to perform this action\. Grant the bot's role permission for `GetMetricData` on this resource \(see template\.yaml\)\. Check the function's Errors metric in CloudWatch before completing\.$/);
      expect(r.next).toHaveLength(2);
      undoFaults();

      // the alias moved by someone else once the watch began: the read after the watch says so
      const g = await fn(3);
      const j = input(g, { canary: 10 });
      const q = (await plan(j)).data;
      let reads = 0;
      rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => (++reads > 1 ? { ...out, FunctionVersion: '1', RoutingConfig: undefined } : out));
      const moved = await execute(j, q);
      expect(moved.lines).toContain(':warning: The alias changed during the watch: it is now on v1 only. The buttons plan from what it is now.');
    });

    it('a replayed shift that had landed (the revision changed, the alias already as wanted): said, and the canary goes on', async () => {
      const f = await fn(3);
      const i = input(f, { canary: 10 });
      const p = (await plan(i)).data;
      await lambda().send(new UpdateAliasCommand({ FunctionName: f, Name: ALIAS, FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
      fail(lambda(), 'UpdateAliasCommand', { name: 'PreconditionFailedException', message: 'The Revision Id provided does not match the latest Revision Id.', status: 412 });
      const r = await execute(i, p);
      expect(r.ok).toBe(true);
      expect(r.lines[0]).toBe(`:white_check_mark: \`${ALIAS}\` of \`${f}\` stays on v3 and sends *10 %* of its traffic to v2 (already so); verified with GetAlias.`);
    });

    it('the shift refused: the run fails with the alias unchanged and no buttons; read back wrong: only Abort is offered', async () => {
      const f = await fn(3);
      const i = input(f, { canary: 10 });
      const p = (await plan(i)).data;
      let undo = fail(lambda(), 'UpdateAliasCommand', ACCESS_DENIED);
      const r = await execute(i, p);
      expect(await state(f)).toEqual({ version: '3', routing: {} });
      expect(r.ok).toBe(false);
      expect(r.next).toBeUndefined();
      expect(r.lines[0]).toMatch(/, as before: nothing was changed\.$/);
      undo();

      undo = rewrite<GetAliasCommandOutput>(lambda(), 'GetAliasCommand', (out) => ({ ...out, RoutingConfig: undefined }));
      const wrong = await execute(input(f, { canary: 10 }), { ...p, revisionId: '' });
      expect(wrong.ok).toBe(false);
      expect(wrong.lines[0]).toBe(`:x: GetAlias reads \`${ALIAS}\` on v3 only, not v3 with 10 % to v2.`);
      expect(wrong.next).toEqual([{ label: 'Abort', command: `rollback lambda ${f} --abort-canary`, style: 'danger' }]);
      undo();
    });

    it('a canary failing exactly 10 % shows one decimal; an alias left as the canary set it: no warning and no failures', async () => {
      // prepare
      const f = await fn(3);
      const i = input(f, { canary: 10 });
      const p = (await plan(i)).data;
      await putInvocations(f, { '2': { invocations: 100, errors: 10 }, '3': { invocations: 900, errors: 9 } });

      // act
      const r = await execute(i, p);

      // assess
      expect(await state(f)).toEqual({ version: '3', routing: { '2': 0.1 } });
      expect(r).toMatchObject({ ok: true, failures: [] });
      expect(r.lines).toEqual([
        `:white_check_mark: \`${ALIAS}\` of \`${f}\` stays on v3 and sends *10 %* of its traffic to v2; verified with GetAlias.`,
        expect.stringMatching(/^\*Errors\* \(AWS\/Lambda, alias `production`, /),
        '• v2 (canary, 10 %): 100 invocations, 10 errors (10.0 %)',
        '• v3 (main): 900 invocations, 9 errors (1.00 %)',
        ':warning: v2 fails more often than v3: consider *Abort*.',
        '*Complete rollback* moves all traffic to v2; *Abort* sends it all back to v3. Each has its own plan and approval.',
      ]);
    });
  });
});
