/**
 * The backup-lambda runbook (src/runbooks/backup-lambda/runbook.ts, `/dr backup lambda`) on its own,
 * against moto: what its plan reads (each function's published versions, which are already stored
 * with Lambda's checksum, its aliases), what its run writes to the backup bucket (each version's
 * configuration then its code, checked against Lambda's SHA-256; a manifest per run and the
 * function's `latest.json`), and what --prune deletes (stored version folders past
 * `retention.lambdaVersions`, only for functions this run exported whole). The flows through Slack
 * and approval are backup-lambda.test.ts and prune-exports.test.ts, the prune adapter's listing
 * prune-adapters.test.ts; these need no local stack, so `npm run mutate` can run them for each mutant.
 *
 * moto's Code.Location cannot be downloaded: the download port (deps.fetchCode) serves the packages
 * the test made, by their SHA-256. moto never throttles or denies: refusals, and answers moto never
 * gives (no $LATEST, no LastModified, an empty routing), are SDK middleware on the runbook's clients.
 */
import { CreateAliasCommand, CreateFunctionCommand, DeleteFunctionCommand, type ListAliasesCommandOutput, type ListVersionsByFunctionCommandOutput, ListVersionsByFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CodeFetcher } from '../../src/aws/lambda';
import type { DrConfig } from '../../src/config/schema';
import { lambdaSha256 } from '../../src/aws/lambda';
import { DrbotError } from '../../src/errors';
import { storedZip } from '../../src/local/estate';
import type { BackupLambdaInput } from '../../src/runbooks/backup-lambda';
import { codeKey, configKey, type LambdaManifest, type LambdaPlan, latestKey, manifestKey, runbook, versionPrefix } from '../../src/runbooks/backup-lambda/runbook';
import type { Outcome } from '../../src/runbooks/driver';
import { sha256Hex } from '../../src/runbooks/exports';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { lambdaRoles, ROLE_ARN } from '../helpers/lambda-fns';
import { useRunbookRig, watchSteps } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const lambda = () => rig.moto().clients.lambda('us-east-1');
const s3 = () => rig.s3('us-east-1');
const REQUESTED = '2026-12-04T10:11:12.000Z';
const DAY = '2026-12-04';
const DAY_MS = 86_400_000;
const THROTTLED = { name: 'SlowDown', message: 'Please reduce your request rate.', status: 503 };
let n = 0;

/** The packages of every function the tests made, by Lambda's CodeSha256; the SHA-256s downloaded. */
const packages = new Map<string, Uint8Array>();
const fetched: string[] = [];
const fetchCode: CodeFetcher = async (_location, sha) => {
  fetched.push(sha);
  const p = packages.get(sha);
  if (!p) throw new DrbotError('code_download_failed', 'not a package the test made', 'none');
  return p;
};

beforeAll(async () => {
  await lambdaRoles(rig.moto().clients.iam('us-east-1'));
});

/** A new function with `versions` published versions (0: only $LATEST), each its own code: its name and each version's code. */
async function fn(versions: number): Promise<{ name: string; zips: Uint8Array[] }> {
  const name = `fn-${++n}`;
  const zips: Uint8Array[] = [];
  const zip = (v: number) => {
    const z = storedZip('index.js', `exports.handler = async () => ({ fn: ${JSON.stringify(name)}, version: ${v} });\n`);
    packages.set(lambdaSha256(z), z);
    return z;
  };
  await lambda().send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE_ARN, Code: { ZipFile: zip(1) } }));
  for (let v = 1; v <= versions; v++) {
    const z = zip(v);
    if (v > 1) await lambda().send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: z }));
    await lambda().send(new PublishVersionCommand({ FunctionName: name, Description: `release ${v}` }));
    zips.push(z);
  }
  return { name, zips };
}

async function alias(f: string, name: string, version: string, opts: { routing?: Record<string, number>; description?: string } = {}): Promise<void> {
  await lambda().send(
    new CreateAliasCommand({
      FunctionName: f,
      Name: name,
      FunctionVersion: version,
      ...(opts.description ? { Description: opts.description } : {}),
      ...(opts.routing ? { RoutingConfig: { AdditionalVersionWeights: opts.routing } } : {}),
    }),
  );
}

/** A new versioned backup bucket, and the config's functions as told: the bucket. */
async function setUp(functions: string[]): Promise<string> {
  const bucket = `lambda-backups-${++n}`;
  await rig.makeBucket(bucket, 'us-east-1');
  rig.configure({ backupBucket: bucket, lambda: { functions, alias: 'production' } });
  return bucket;
}

/** What Lambda holds of one version. */
async function conf(f: string, version: string) {
  const r = await lambda().send(new ListVersionsByFunctionCommand({ FunctionName: f }));
  const c = (r.Versions ?? []).find((v) => v.Version === version);
  if (!c) throw new Error(`no version ${version} of ${f}`);
  return c;
}

/** A version stored as an earlier run stored it (its code with Lambda's checksum, or the one given). */
async function stored(bucket: string, f: string, version: string, sha?: string): Promise<void> {
  const c = await conf(f, version);
  const meta = { 'drbot-run': 'r-earlier', 'code-sha256': sha ?? c.CodeSha256 ?? '', function: f, version };
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: configKey(f, version), Body: JSON.stringify(c), Metadata: meta }));
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: codeKey(f, version), Body: packages.get(c.CodeSha256 ?? '') ?? new Uint8Array(), Metadata: meta }));
}

function input(functions: string[] = [], over: Partial<BackupLambdaInput> = {}): BackupLambdaInput & AnyRunInput {
  return { kind: 'backup-lambda', runId: `r-${(++n).toString(16).padStart(12, '0')}`, requester: 'UALICE', channel: 'C1', commandText: '/dr backup lambda', requestedAt: REQUESTED, functions, dryRun: false, prune: false, ...over } as BackupLambdaInput & AnyRunInput;
}

const at = (now: Date): RunbookDeps => ({ ...rig.deps(), now: () => now });
const plan = (i: BackupLambdaInput, now = new Date()) => runbook(i).plan(at(now), i);

type Reports = Array<[number, number, string]>;
/** The run on the local runner with the test's download port: its outcome, progress and checkpoints (see watchSteps). */
async function execute(i: BackupLambdaInput & AnyRunInput, p: LambdaPlan, fetch: CodeFetcher = fetchCode): Promise<Outcome & { reports: Reports; checkpoints: string[] }> {
  const reports: Reports = [];
  let checkpoints: string[] = [];
  const r = await rig.run((ctx, d, x) => {
    const w = watchSteps(ctx);
    checkpoints = w.checkpoints;
    return runbook(i).execute(w.ctx, { ...d, fetchCode: fetch }, x as BackupLambdaInput, p, { report: async (...a) => void reports.push(a) });
  }, i);
  expect({ status: r.status, error: r.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
  return { ...(r.result as Outcome), reports, checkpoints };
}

async function text(bucket: string, key: string): Promise<string> {
  return (await (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
}
async function bytes(bucket: string, key: string): Promise<Uint8Array> {
  return (await (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToByteArray()) ?? new Uint8Array();
}
const head = (bucket: string, key: string) => s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));

/** Every object version in the bucket, by key (sorted; a key twice for two versions). */
async function keys(bucket: string): Promise<string[]> {
  const r = await s3().send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return (r.Versions ?? []).map((v) => v.Key ?? '').sort();
}

describe('the plan', () => {
  it('per function: its published versions, which it stores and which are already stored with Lambda’s checksum, its aliases; writes nothing', async () => {
    // prepare
    const a = await fn(3);
    await alias(a.name, 'production', '3');
    await alias(a.name, 'canary', '2', { routing: { '1': 0.25 } });
    const b = await fn(1);
    const c = await fn(0);
    const bucket = await setUp([a.name, b.name, c.name]);
    await stored(bucket, a.name, '1');
    // stored with another checksum: stored again
    await stored(bucket, a.name, '2', 'not-lambdas');
    const before = await keys(bucket);
    const i = input();

    // act
    const p = await plan(i);

    // assess
    expect(p.data).toStrictEqual({
      bucket,
      functions: [
        { name: a.name, toStore: ['2', '3'], stored: ['1'], aliases: ['canary → 2', 'production → 3'] },
        { name: b.name, toStore: ['1'], stored: [], aliases: [] },
        { name: c.name, toStore: [], stored: [], aliases: [] },
      ],
    });
    expect(p.lines).toEqual([
      `\`${a.name}\`: 3 published versions; stores v2, v3 (v1 already stored); aliases: canary → 2, production → 3`,
      `\`${b.name}\`: 1 published version; stores v1; aliases: none`,
      `\`${c.name}\`: 0 published versions; stores none; aliases: none`,
      `To \`s3://${bucket}/lambda/<function>/<version>/\`, with a manifest per run; reads Lambda only.`,
    ]);
    expect(p.empty).toBe(false);
    expect(await keys(bucket)).toEqual(before);
    expect(runbook(i).title(i)).toBe('Export of Lambda functions');
  });

  it('the functions named, not the config’s; a dry run says would; all stored says none', async () => {
    // prepare
    const a = await fn(2);
    const other = await fn(1);
    const bucket = await setUp([other.name]);
    await stored(bucket, a.name, '1');
    await stored(bucket, a.name, '2');
    const i = input([a.name], { dryRun: true });

    // act
    const p = await plan(i);

    // assess
    expect(p.lines).toEqual([`\`${a.name}\`: 2 published versions; would store none (v1, v2 already stored); aliases: none`, `To \`s3://${bucket}/lambda/<function>/<version>/\`, with a manifest per run; reads Lambda only.`]);
    expect(p.data.functions.map((f) => f.name)).toEqual([a.name]);
    expect(runbook(i).title(i)).toBe(`Export of Lambda ${a.name}`);
    expect(runbook(input(['x', 'y'])).title(input(['x', 'y']))).toBe('Export of Lambda x, y');
  });

  it('no function configured: says so, empty, and --prune plans nothing', async () => {
    // prepare
    const bucket = await setUp([]);

    for (const prune of [false, true]) {
      // act
      const p = await plan(input([], { prune }));

      // assess
      expect(p).toStrictEqual({
        lines: ['No Lambda function is configured: set `lambda.functions` in the drbot config.', `To \`s3://${bucket}/lambda/<function>/<version>/\`, with a manifest per run; reads Lambda only.`],
        empty: true,
        data: { bucket, functions: [] },
      });
    }
  });

  it('a function Lambda cannot list: its error in the plan, the others planned; an unexpected error stops the plan', async () => {
    // prepare
    const a = await fn(1);
    await setUp(['fn-missing', a.name]);

    // act
    const p = await plan(input());

    // assess
    const error = p.data.functions[0]?.error ?? '';
    // (moto lists no versions of a function it does not have; its aliases it refuses)
    expect(error).toMatch(/^List\w+ on `fn-missing` failed: Function not found/);
    expect(p.data.functions).toStrictEqual([
      { name: 'fn-missing', toStore: [], stored: [], aliases: [], error },
      { name: a.name, toStore: ['1'], stored: [], aliases: [] },
    ]);
    expect(p.lines.slice(0, 2)).toEqual([`:x: \`fn-missing\`: ${error}`, `\`${a.name}\`: 1 published version; stores v1; aliases: none`]);

    // aliases denied
    fail(lambda(), 'ListAliasesCommand', ACCESS_DENIED);
    expect((await plan(input([a.name]))).data.functions[0]?.error).toBe(`ListAliases on \`${a.name}\` failed: User is not authorized to perform this action`);
    undoFaults();

    // not one of our errors: a listing that is not a list (SDK middleware answers it)
    rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: [null as never] }));
    await expect(plan(input([a.name]))).rejects.toBeInstanceOf(TypeError);
  });

  it('refuses without a backup bucket', async () => {
    // prepare
    const bucket = await setUp([]);
    rig.configure({ backupBucket: undefined });

    try {
      // act & assess
      await expect(plan(input())).rejects.toMatchObject({ code: 'no_backup_bucket' });
    } finally {
      rig.configure({ backupBucket: bucket });
    }
  });

  it('only a person’s --prune needs approval (destructive); a scheduled one and a plain export do not', () => {
    const when = { name: 'nightly', at: REQUESTED };
    expect(runbook(input([], { prune: true })).destructive).toBe(true);
    expect(runbook(input([], { prune: true, schedule: when })).destructive).toBe(false);
    expect(runbook(input()).destructive).toBe(false);
    expect(runbook(input([], { schedule: when })).destructive).toBe(false);
  });
});

describe('the export', () => {
  it('stores each version to store (configuration first, code last, checksummed), writes the manifest and latest, reports progress per version', async () => {
    // prepare
    const a = await fn(3);
    await alias(a.name, 'production', '3');
    await alias(a.name, 'canary', '2', { routing: { '1': 0.25 }, description: 'the canary' });
    const b = await fn(1);
    const bucket = await setUp([a.name, b.name]);
    await stored(bucket, a.name, '1');
    const i = input();
    const p = await plan(i);
    const puts: string[] = [];
    rewrite(s3(), 'PutObjectCommand', (out, q) => {
      puts.push(String(q.Key));
      return out;
    });
    fetched.length = 0;

    // act
    const r = await execute(i, p.data);

    // assess: the versions
    undoFaults();
    const manifestA = manifestKey(a.name, DAY, i.runId);
    const manifestB = manifestKey(b.name, DAY, i.runId);
    expect(puts).toEqual([configKey(a.name, '2'), codeKey(a.name, '2'), configKey(a.name, '3'), codeKey(a.name, '3'), manifestA, latestKey(a.name), configKey(b.name, '1'), codeKey(b.name, '1'), manifestB, latestKey(b.name)]);
    for (const v of ['2', '3']) {
      const c = await conf(a.name, v);
      expect(await bytes(bucket, codeKey(a.name, v))).toEqual(a.zips[Number(v) - 1]);
      const code = await head(bucket, codeKey(a.name, v));
      expect(code.Metadata).toEqual({ 'drbot-run': i.runId, 'code-sha256': c.CodeSha256, function: a.name, version: v });
      expect(code.ContentType).toBe('application/zip');
      expect(JSON.parse(await text(bucket, configKey(a.name, v)))).toEqual(JSON.parse(JSON.stringify(c)));
      const config = await head(bucket, configKey(a.name, v));
      expect(config.Metadata).toEqual(code.Metadata);
      expect(config.ContentType).toBe('application/json');
    }
    expect(fetched).toEqual([lambdaSha256(a.zips[1] ?? new Uint8Array()), lambdaSha256(a.zips[2] ?? new Uint8Array()), lambdaSha256(b.zips[0] ?? new Uint8Array())]);
    // the manifest and latest
    const body = await text(bucket, manifestA);
    const manifest = JSON.parse(body) as LambdaManifest;
    const latest = await conf(a.name, '$LATEST');
    expect(manifest).toEqual({
      format: 'drbot-lambda-export/1',
      exportedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown,
      runId: i.runId,
      function: a.name,
      configuration: JSON.parse(JSON.stringify(latest)) as unknown,
      versions: await Promise.all(
        ['1', '2', '3'].map(async (v) => ({ version: v, codeSha256: (await conf(a.name, v)).CodeSha256, lastModified: (await conf(a.name, v)).LastModified, codeKey: codeKey(a.name, v), configKey: configKey(a.name, v) })),
      ),
      aliases: [
        { name: 'canary', functionVersion: '2', description: 'the canary', routing: { '1': 0.25 } },
        { name: 'production', functionVersion: '3' },
      ],
    });
    expect((await head(bucket, manifestA)).Metadata).toEqual({ 'drbot-run': i.runId, 'version-count': '3', sha256: sha256Hex(body) });
    expect(JSON.parse(await text(bucket, latestKey(a.name)))).toStrictEqual({ key: manifestA, runId: i.runId, exportedAt: manifest.exportedAt, sha256: sha256Hex(body), count: 3 });
    expect((await head(bucket, latestKey(a.name))).Metadata).toEqual({ 'drbot-run': i.runId });
    expect(await keys(bucket)).toEqual(
      [...['1', '2', '3'].flatMap((v) => [codeKey(a.name, v), configKey(a.name, v)]), manifestA, latestKey(a.name), codeKey(b.name, '1'), configKey(b.name, '1'), manifestB, latestKey(b.name)].sort(),
    );
    // the run
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      lines: [
        `:white_check_mark: \`${a.name}\`: 3 versions in the backup bucket; stored v2, v3, 1 already there; aliases canary → v2 (+ v1 25%), production → v3; manifest \`${manifestA}\``,
        `:white_check_mark: \`${b.name}\`: 1 version in the backup bucket; stored v1; aliases none; manifest \`${manifestB}\``,
      ],
      // each version stored and each manifest written, up to the total
      reports: [
        [1, 5, 'versions and manifests stored'],
        [2, 5, 'versions and manifests stored'],
        [3, 5, 'versions and manifests stored'],
        [4, 5, 'versions and manifests stored'],
        [5, 5, 'versions and manifests stored'],
      ],
      checkpoints: [`store-${a.name}-2`, `store-${a.name}-3`, `manifest-${a.name}`, `store-${b.name}-1`, `manifest-${b.name}`],
    });
    expect(versionPrefix(a.name, '2')).toBe(`lambda/${a.name}/2/`);
  });

  it('nothing new: none stored; a version stored since the plan is not written or downloaded again, and said to be stored by this run only when it was', async () => {
    // prepare
    const a = await fn(1);
    const bucket = await setUp([a.name]);
    const i = input();
    const p = await plan(i);
    await execute(i, p.data);
    const before = await keys(bucket);
    fetched.length = 0;
    const again = input();

    // act: the same plan again (v1 to store), and a plan that stores nothing
    const r = await execute(again, p.data);
    const none = await execute(input(), (await plan(input())).data);
    // the first run's own step tried again (its upload landed, its checkpoint did not): stored by it
    const retried = await execute(i, p.data);

    // assess
    expect(fetched).toEqual([]);
    // the version already there (the step found another run's) is not said to be stored by this run
    expect(r.lines[0]).toBe(`:white_check_mark: \`${a.name}\`: 1 version in the backup bucket; stored none new, 1 already there; aliases none; manifest \`${manifestKey(a.name, DAY, again.runId)}\``);
    expect((await keys(bucket)).filter((k) => k.endsWith('code.zip'))).toEqual(before.filter((k) => k.endsWith('code.zip')));
    expect((await head(bucket, codeKey(a.name, '1'))).Metadata?.['drbot-run']).toBe(i.runId);
    expect(none.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${a.name}\`: 1 version in the backup bucket; stored none new, 1 already there; aliases none; manifest `));
    expect(none).toMatchObject({ ok: true, reports: [[1, 1, 'versions and manifests stored']], checkpoints: [`manifest-${a.name}`] });
    expect(retried.lines[0]).toMatch(new RegExp(`^:white_check_mark: \`${a.name}\`: 1 version in the backup bucket; stored v1; aliases none; manifest `));
  });

  it('versions stored at the plan and since it by another run are counted together as already there', async () => {
    // prepare: v1 stored before the plan, v2 by another run after it
    const a = await fn(2);
    const bucket = await setUp([a.name]);
    await stored(bucket, a.name, '1');
    const i = input();
    const p = await plan(i);
    expect(p.data.functions[0]).toMatchObject({ toStore: ['2'], stored: ['1'] });
    await stored(bucket, a.name, '2');

    // act
    const r = await execute(i, p.data);

    // assess
    expect(r.lines).toEqual([`:white_check_mark: \`${a.name}\`: 2 versions in the backup bucket; stored none new, 2 already there; aliases none; manifest \`${manifestKey(a.name, DAY, i.runId)}\``]);
  });

  it('what moto never answers (middleware rewrites it): no $LATEST, no LastModified, an empty routing, no version at all', async () => {
    // prepare
    const a = await fn(1);
    await alias(a.name, 'production', '1');
    const bucket = await setUp([a.name]);
    await stored(bucket, a.name, '1');
    const i = input();
    const p = await plan(i);
    rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({
      ...out,
      // and an entry without a version number: not a published version
      Versions: [...(out.Versions ?? []).filter((v) => v.Version !== '$LATEST').map(({ LastModified: _, ...v }) => v), { FunctionName: a.name }],
    }));
    rewrite<ListAliasesCommandOutput>(lambda(), 'ListAliasesCommand', (out) => ({ ...out, Aliases: (out.Aliases ?? []).map((x) => ({ ...x, RoutingConfig: { AdditionalVersionWeights: {} } })) }));

    // act
    const r = await execute(i, p.data);

    // assess
    const manifest = JSON.parse(await text(bucket, manifestKey(a.name, DAY, i.runId))) as LambdaManifest;
    expect(manifest.configuration).toMatchObject({ Version: '1' });
    expect(manifest.versions).toStrictEqual([{ version: '1', codeSha256: (await conf(a.name, '1')).CodeSha256, codeKey: codeKey(a.name, '1'), configKey: configKey(a.name, '1') }]);
    expect(manifest.aliases).toStrictEqual([{ name: 'production', functionVersion: '1' }]);
    expect(r.lines[0]).toContain('; aliases production → v1; manifest');

    // no version at all
    undoFaults();
    rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: [] }));
    const j = input();
    await execute(j, { bucket, functions: [{ name: a.name, toStore: [], stored: [], aliases: [] }] });
    expect((JSON.parse(await text(bucket, manifestKey(a.name, DAY, j.runId))) as LambdaManifest).configuration).toEqual({});

    // $LATEST listed last: still the configuration kept
    undoFaults();
    rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: [...(out.Versions ?? [])].reverse() }));
    const k = input();
    await execute(k, { bucket, functions: [{ name: a.name, toStore: [], stored: [], aliases: [] }] });
    expect((JSON.parse(await text(bucket, manifestKey(a.name, DAY, k.runId))) as LambdaManifest).configuration).toMatchObject({ Version: '$LATEST' });
  });
});

describe('failures mid-run (moto never throttles or denies: SDK middleware on the runbook’s clients)', () => {
  it('a version gone since the plan, one whose download does not match, one whose code Lambda will not give: each named; the rest stored; the manifest written', async () => {
    // prepare
    const a = await fn(4);
    const bucket = await setUp([a.name]);
    const i = input();
    const p = await plan(i);
    await lambda().send(new DeleteFunctionCommand({ FunctionName: a.name, Qualifier: '1' }));
    fail(lambda(), 'GetFunctionCommand', ACCESS_DENIED, { when: (q) => q.Qualifier === '3' });
    const v2 = (await conf(a.name, '2')).CodeSha256 ?? '';
    const wrong = new Uint8Array([1, 2, 3]);
    const fetch: CodeFetcher = async (loc, sha) => (sha === v2 ? wrong : fetchCode(loc, sha));

    // act
    const r = await execute(i, p.data, fetch);

    // assess
    const gone = `Version 1 of \`${a.name}\` no longer exists.`;
    const mismatch = `The code package downloaded for \`${a.name}:2\` has SHA-256 ${lambdaSha256(wrong)}, Lambda says ${v2}.`;
    const denied = `GetFunction on \`${a.name}:3\` failed: User is not authorized to perform this action`;
    expect(r).toMatchObject({
      ok: false,
      failures: [`${a.name}:1: ${gone}`, `${a.name}:2: ${mismatch}`, `${a.name}:3: ${denied}`],
      lines: [
        `:warning: \`${a.name}\`: 3 versions in the backup bucket; stored v4; *failed* v1, v2, v3; aliases none; manifest \`${manifestKey(a.name, DAY, i.runId)}\``,
        // each with its hint: what to do about it
        `   • v1: ${gone} It was deleted after the plan; nothing to store.`,
        `   • v2: ${mismatch} Run it again; if it persists, the package in Lambda is not what its configuration claims.`,
        `   • v3: ${denied}. Grant the bot's role permission for \`GetFunction\` on this resource (see template.yaml).`,
      ],
      // each version counts, stored or refused, then the manifest
      reports: [
        [1, 5, 'versions and manifests stored'],
        [2, 5, 'versions and manifests stored'],
        [3, 5, 'versions and manifests stored'],
        [4, 5, 'versions and manifests stored'],
        [5, 5, 'versions and manifests stored'],
      ],
      checkpoints: [`store-${a.name}-1`, `store-${a.name}-2`, `store-${a.name}-3`, `store-${a.name}-4`, `manifest-${a.name}`],
    });
    expect(await keys(bucket)).toEqual([codeKey(a.name, '4'), configKey(a.name, '4'), manifestKey(a.name, DAY, i.runId), latestKey(a.name)].sort());
  });

  it('a version Lambda gives no checksum for is not stored: the download cannot be checked', async () => {
    // prepare
    const a = await fn(1);
    const bucket = await setUp([a.name]);
    const i = input();
    const p = await plan(i);
    rewrite<ListVersionsByFunctionCommandOutput>(lambda(), 'ListVersionsByFunctionCommand', (out) => ({ ...out, Versions: (out.Versions ?? []).map(({ CodeSha256: _, ...v }) => v) }));
    const asked: string[] = [];
    const fetch: CodeFetcher = async (_loc, sha) => {
      asked.push(sha);
      return a.zips[0] ?? new Uint8Array();
    };

    // act
    const r = await execute(i, p.data, fetch);

    // assess
    expect(asked).toEqual(['']);
    expect(r.failures).toEqual([`${a.name}:1: The code package downloaded for \`${a.name}:1\` has SHA-256 ${lambdaSha256(a.zips[0] ?? new Uint8Array())}, Lambda says nothing.`]);
    expect(await keys(bucket)).toEqual([manifestKey(a.name, DAY, i.runId), latestKey(a.name)].sort());
    // the manifest lists the version with no checksum: Lambda gave none
    const manifest = JSON.parse(await text(bucket, manifestKey(a.name, DAY, i.runId))) as LambdaManifest;
    expect(manifest.versions.map((v) => [v.version, v.codeSha256])).toEqual([['1', '']]);
  });

  it('throttled writes are retried within the step; the version is stored once', async () => {
    // prepare
    const a = await fn(1);
    const bucket = await setUp([a.name]);
    const i = input();
    const p = await plan(i);
    fail(s3(), 'PutObjectCommand', THROTTLED, { times: 2, when: (q) => q.Key === codeKey(a.name, '1') });

    // act
    const r = await execute(i, p.data);

    // assess
    expect(r).toMatchObject({ ok: true, failures: [], checkpoints: [`store-${a.name}-1`, `manifest-${a.name}`] });
    // each try writes the configuration first; the code, which marks the version stored, once
    expect(await keys(bucket)).toEqual([codeKey(a.name, '1'), configKey(a.name, '1'), configKey(a.name, '1'), configKey(a.name, '1'), manifestKey(a.name, DAY, i.runId), latestKey(a.name)].sort());
    expect(await bytes(bucket, codeKey(a.name, '1'))).toEqual(a.zips[0]);
  });

  it('the manifest not written: that function fails, saying so with the versions that failed, its latest untouched; the next function still exported; a function the plan could not read fails named', async () => {
    // prepare
    const a = await fn(1);
    const b = await fn(1);
    const bucket = await setUp(['fn-missing', a.name, b.name]);
    const i = input();
    const p = await plan(i);
    const missing = p.data.functions[0]?.error ?? '';
    const key = manifestKey(a.name, DAY, i.runId);
    fail(s3(), 'PutObjectCommand', ACCESS_DENIED, { when: (q) => q.Key === key });
    // and its one version's code refused too: the version's line still shown under the manifest's
    fail(lambda(), 'GetFunctionCommand', ACCESS_DENIED, { when: (q) => q.FunctionName === a.name });

    // act
    const r = await execute(i, p.data);

    // assess
    const denied = `PutObject on \`${bucket}/${key}\` failed: User is not authorized to perform this action`;
    const code = `GetFunction on \`${a.name}:1\` failed: User is not authorized to perform this action`;
    expect(r).toMatchObject({
      ok: false,
      failures: [`fn-missing: ${missing}`, `${a.name}:1: ${code}`, `${a.name}: ${denied}`],
      lines: [
        `:x: \`fn-missing\`: ${missing}`,
        `:x: \`${a.name}\`: manifest not written: ${denied}. Grant the bot's role permission for \`PutObject\` on this resource (see template.yaml).`,
        `   • v1: ${code}. Grant the bot's role permission for \`GetFunction\` on this resource (see template.yaml).`,
        expect.stringMatching(new RegExp(`^:white_check_mark: \`${b.name}\`: 1 version in`)) as unknown,
      ],
      // the function the plan could not read counts nothing; the refused manifest still counts
      reports: [
        [1, 4, 'versions and manifests stored'],
        [2, 4, 'versions and manifests stored'],
        [3, 4, 'versions and manifests stored'],
        [4, 4, 'versions and manifests stored'],
      ],
      checkpoints: [`store-${a.name}-1`, `manifest-${a.name}`, `store-${b.name}-1`, `manifest-${b.name}`],
    });
    expect(r.lines).toHaveLength(4);
    expect(await keys(bucket)).toEqual([codeKey(b.name, '1'), configKey(b.name, '1'), manifestKey(b.name, DAY, i.runId), latestKey(b.name)].sort());
  });
});

describe('--prune', () => {
  /** Versions 1–3 of a function stored by an earlier run, and a person's file beside them. */
  async function storedEarlier(bucket: string, f: string): Promise<void> {
    for (const v of ['1', '2', '3']) await stored(bucket, f, v);
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: `lambda/${f}/notes.txt`, Body: 'mine' }));
  }
  const ahead = () => new Date(Date.now() + 100 * DAY_MS);

  it('with the default retention (all versions) nothing is planned to go', async () => {
    // prepare
    const a = await fn(3);
    const bucket = await setUp([a.name]);
    await storedEarlier(bucket, a.name);

    // act
    const p = await plan(input([], { prune: true }), ahead());

    // assess
    expect(p.data.prune).toEqual([]);
    expect(p.lines.slice(2)).toEqual(['Prune: no stored Lambda versions to delete (kept forever) beyond the newest of each.', 'Prune keeps the newest good copy of each (1), whatever its age; 1 not made by drbot, never touched.']);
    expect(p.empty).toBeUndefined();
  });

  describe('with a retention in days', () => {
    let retention: DrConfig['retention'] | undefined;
    beforeEach(() => {
      retention = rig.deps().config.retention;
      rig.configure({ retention: { ...retention, lambdaVersions: 30 } });
    });
    afterEach(() => {
      if (retention) rig.configure({ retention });
    });

    it('plans to delete stored versions older than that, keeping the newest, every alias target and what is not drbot’s; a dry run says would', async () => {
      // prepare
      const a = await fn(3);
      await alias(a.name, 'canary', '2');
      const bucket = await setUp([a.name, 'fn-missing']);
      await storedEarlier(bucket, a.name);
      const today = new Date().toISOString().slice(0, 10);

      // act
      const p = await plan(input([], { prune: true }), ahead());
      const dry = await plan(input([], { prune: true, dryRun: true }), ahead());

      // assess
      expect(p.data.prune?.map((c) => [c.label, c.group])).toEqual([[versionPrefix(a.name, '1'), a.name]]);
      expect(p.lines.slice(3)).toEqual([
        `Prune: deletes 1 stored Lambda version older than 30 days: \`lambda/${a.name}/1/\` (${today})`,
        `Prune keeps the newest good copy of each (1), whatever its age; 1 still in use: \`lambda/${a.name}/2/\` (alias canary); 1 not made by drbot, never touched.`,
      ]);
      expect(dry.lines[3]).toBe(`Prune: would delete 1 stored Lambda version older than 30 days: \`lambda/${a.name}/1/\` (${today})`);
    });

    it('a function whose stored versions cannot be listed is skipped, saying why', async () => {
      // prepare
      const a = await fn(1);
      const bucket = await setUp([a.name]);
      fail(s3(), 'ListObjectVersionsCommand', ACCESS_DENIED);

      // act
      const p = await plan(input([], { prune: true }), ahead());

      // assess
      expect(p.lines.at(-1)).toBe(`:warning: Prune skipped for \`${a.name}\`: ListObjectVersions on \`${bucket}\` failed: User is not authorized to perform this action`);
      expect(p.data.prune).toEqual([]);
      undoFaults();

      // not one of our errors: a listing that is not a list (SDK middleware answers it)
      rewrite(s3(), 'ListObjectVersionsCommand', (out) => ({ ...out, Versions: [null] }));
      await expect(plan(input([], { prune: true }), ahead())).rejects.toBeInstanceOf(TypeError);
    });

    it('a function the plan could not read is not listed for pruning', async () => {
      // prepare: its aliases denied (listing them again for the prune would fail too)
      const a = await fn(1);
      const b = await fn(1);
      await setUp([a.name, b.name]);
      fail(lambda(), 'ListAliasesCommand', ACCESS_DENIED, { when: (q) => q.FunctionName === b.name });

      // act
      const p = await plan(input([], { prune: true }), ahead());

      // assess
      expect(p.lines[1]).toBe(`:x: \`${b.name}\`: ListAliases on \`${b.name}\` failed: User is not authorized to perform this action`);
      expect(p.lines.join('\n')).not.toContain('Prune skipped');
      expect(p.lines.slice(3)).toEqual(['Prune: no stored Lambda versions older than 30 days beyond the newest of each.', 'Prune keeps the newest good copy of each (0), whatever its age.']);
    });

    it('after the function is exported whole, deletes the planned folders for good, each in its own step; nothing else is touched', async () => {
      // prepare
      const a = await fn(3);
      await alias(a.name, 'canary', '2');
      const bucket = await setUp([a.name]);
      await storedEarlier(bucket, a.name);
      const i = input([], { prune: true });
      const p = await plan(i, ahead());

      // act
      const r = await execute(i, p.data);

      // assess
      expect(await keys(bucket)).toEqual(
        [...['2', '3'].flatMap((v) => [codeKey(a.name, v), configKey(a.name, v)]), `lambda/${a.name}/notes.txt`, manifestKey(a.name, DAY, i.runId), latestKey(a.name)].sort(),
      );
      expect(r).toMatchObject({ ok: true, failures: [], checkpoints: [`manifest-${a.name}`, 'prune-lambda-0'] });
      expect(r.lines.slice(1)).toEqual([':wastebasket: Pruned 1 old stored version.']);
    });

    it('a delete refused: kept, the run fails naming it', async () => {
      // prepare
      const a = await fn(3);
      const bucket = await setUp([a.name]);
      await storedEarlier(bucket, a.name);
      const i = input([], { prune: true });
      const p = await plan(i, ahead());
      fail(s3(), 'DeleteObjectsCommand', ACCESS_DENIED);

      // act
      const r = await execute(i, p.data);

      // assess
      expect(r.ok).toBe(false);
      expect(r.failures).toEqual([
        `lambda/${a.name}/1/: DeleteObjects on \`${bucket}\` failed: User is not authorized to perform this action`,
        `lambda/${a.name}/2/: DeleteObjects on \`${bucket}\` failed: User is not authorized to perform this action`,
      ]);
      expect(r.lines.at(-1)).toBe(':wastebasket: Pruned 0 old stored versions; 2 could not be deleted.');
      expect((await keys(bucket)).filter((k) => k.endsWith('code.zip'))).toHaveLength(3);
    });

    it('a function not exported whole keeps its old versions, saying how many; another function’s still go', async () => {
      // prepare
      const a = await fn(3);
      const b = await fn(3);
      await alias(a.name, 'canary', '2');
      const bucket = await setUp([a.name, b.name]);
      await storedEarlier(bucket, a.name);
      await storedEarlier(bucket, b.name);
      const v4 = storedZip('index.js', 'exports.handler = async () => 4;\n');
      packages.set(lambdaSha256(v4), v4);
      await lambda().send(new UpdateFunctionCodeCommand({ FunctionName: a.name, ZipFile: v4 }));
      await lambda().send(new PublishVersionCommand({ FunctionName: a.name, Description: 'v4' }));
      const i = input([], { prune: true });
      const p = await plan(i, ahead());
      expect(p.data.prune?.map((c) => c.label)).toEqual([versionPrefix(a.name, '1'), versionPrefix(b.name, '1'), versionPrefix(b.name, '2')]);
      fail(lambda(), 'GetFunctionCommand', ACCESS_DENIED);

      // act
      const r = await execute(i, p.data);

      // assess
      expect(r.lines.slice(-2)).toEqual([':wastebasket: Pruned 2 old stored versions.', 'Nothing pruned for 1 stored version of functions whose export did not complete.']);
      expect(r.checkpoints.slice(-2)).toEqual(['prune-lambda-0', 'prune-lambda-1']);
      const left = await keys(bucket);
      expect(left).toContain(codeKey(a.name, '1'));
      expect(left).toContain(codeKey(a.name, '2'));
      expect(left).not.toContain(codeKey(b.name, '1'));
      expect(left).not.toContain(codeKey(b.name, '2'));
    });

    it('no function exported whole: nothing pruned, the versions held counted in the plural', async () => {
      // prepare
      const a = await fn(3);
      const bucket = await setUp([a.name]);
      await storedEarlier(bucket, a.name);
      const v4 = storedZip('index.js', 'exports.handler = async () => 44;\n');
      packages.set(lambdaSha256(v4), v4);
      await lambda().send(new UpdateFunctionCodeCommand({ FunctionName: a.name, ZipFile: v4 }));
      await lambda().send(new PublishVersionCommand({ FunctionName: a.name, Description: 'v4' }));
      const i = input([], { prune: true });
      const p = await plan(i, ahead());
      expect(p.data.prune).toHaveLength(2);
      fail(lambda(), 'GetFunctionCommand', ACCESS_DENIED);

      // act
      const r = await execute(i, p.data);

      // assess
      expect(r.ok).toBe(false);
      expect(r.lines.at(-1)).toBe('Nothing pruned for 2 stored versions of functions whose export did not complete.');
      expect(r.lines.some((l) => l.startsWith(':wastebasket:'))).toBe(false);
      expect(r.checkpoints.some((c) => c.startsWith('prune-'))).toBe(false);
      expect((await keys(bucket)).filter((k) => k.endsWith('code.zip'))).toHaveLength(3);
    });
  });
});
