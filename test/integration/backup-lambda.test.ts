import { CreateAliasCommand, CreateFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCodeFetcher, lambdaSha256 } from '../../src/aws/lambda';
import { parseConfig } from '../../src/config/load';
import { DrbotError } from '../../src/errors';
import { packageFetcher, SANDBOX_LAMBDA_ROLE, seedBackupBucket, seedLambda, storedZip } from '../../src/local/estate';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { LambdaManifest } from '../../src/runbooks/backup-lambda/runbook';
import { parseCommand } from '../../src/slack/parse';
import { ACCESS_DENIED, fail } from '../helpers/faults';
import { command, restoreBeforeEach, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { CreateRoleCommand } from '@aws-sdk/client-iam';

/*
 * /dr backup lambda against moto for everything but the code download: moto's Code.Location is
 * not downloadable, so the download port is a test double (`packageFetcher`, serving the packages
 * the test created by their SHA-256). The HTTPS fetcher itself is tested against a local server.
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const FN = 'spawn-dns-updater';
const OTHER = 'spawn-alarm-router';
const packages = new Map<string, Uint8Array>();
const downloads: string[] = [];
const doubleFetcher = packageFetcher(packages);

describe('/dr backup lambda (code download through a test double)', () => {
  const getStack = useLocalStack({
    seed: false,
    config: parseConfig({ ...SANDBOX_CONFIG, lambda: { functions: [FN, OTHER, 'spawn-missing'], alias: 'production' } }),
    fetchCode: async (location, sha) => {
      downloads.push(sha);
      return doubleFetcher(location, sha);
    },
  });
  let stack: LocalStack;
  let versions: string[] = [];

  const s3 = () => stack.clients.s3('us-east-1');
  const text = async (key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: key }))).Body?.transformToString()) ?? '';
  const bytes = async (key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: key }))).Body?.transformToByteArray()) ?? new Uint8Array();
  const keys = async (prefix: string) => ((await s3().send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '').sort();
  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));

  beforeAll(async () => {
    stack = getStack();
    await seedBackupBucket(stack.clients, stack.config);
    await stack.clients.iam('us-east-1').send(new CreateRoleCommand({ RoleName: SANDBOX_LAMBDA_ROLE, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const seeded = await seedLambda(stack.clients, stack.config, packages);
    versions = seeded?.versions ?? [];
    // Routing on the alias: 10% to the previous version.
    const lambda = stack.clients.lambda('us-east-1');
    await lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'canary', FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
    const other = storedZip('index.js', 'exports.handler = async () => "router";\n');
    packages.set(lambdaSha256(other), other);
    await lambda.send(new CreateFunctionCommand({ FunctionName: OTHER, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::123456789012:role/${SANDBOX_LAMBDA_ROLE}`, Code: { ZipFile: other } }));
    await lambda.send(new PublishVersionCommand({ FunctionName: OTHER }));
  }, 60_000);
  // Each test starts from the functions as published above and nothing in the backup bucket.
  restoreBeforeEach(getStack);

  /** A fourth version of FN: new code, published. */
  async function publishV4(): Promise<Uint8Array> {
    const lambda = stack.clients.lambda('us-east-1');
    const v4 = storedZip('index.js', 'exports.handler = async () => ({ version: 4 });\n');
    packages.set(lambdaSha256(v4), v4);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FN, ZipFile: v4 }));
    await lambda.send(new PublishVersionCommand({ FunctionName: FN }));
    return v4;
  }
  /** A backup of the named functions, done. */
  async function backedUp(...fns: string[]): Promise<void> {
    expect(runSummary(stack, runIdOf(await command(stack, 'alice', `backup lambda ${fns.join(' ')}`)))).toMatchObject({ status: 'succeeded' });
  }

  it('plans a dry run per function, reports the missing one, and writes nothing', async () => {
    // act
    const reply = await command(stack, 'alice', 'backup lambda --dry-run');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const msg = message(runId);
    expect(msg).toContain(`\`${FN}\`: 3 published versions; would store v1, v2, v3; aliases: canary → 3, production → 3`);
    expect(msg).toMatch(/`spawn-missing`: List\w+ on `spawn-missing` failed: Function not found/);
    expect(await keys('lambda/')).toEqual([]);
  });

  it('stores every version with its code and configuration, and a manifest with aliases and routing; reports the missing function and goes on', async () => {
    // act
    const reply = await command(stack, 'alice', `backup lambda`);

    // assess: the run failed only for the missing function
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    const msg = message(runId);
    expect(msg).toContain(`\`${FN}\`: 3 versions in the backup bucket; stored v1, v2, v3`);
    expect(msg).toContain('canary → v3 (+ v2 10%)');
    expect(msg).toMatch(/`spawn-missing`: List\w+ on `spawn-missing` failed: Function not found/);
    // the objects
    for (const v of versions) {
      const zip = await bytes(`lambda/${FN}/${v}/code.zip`);
      const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: `lambda/${FN}/${v}/code.zip` }));
      expect(head.Metadata?.['code-sha256']).toBe(lambdaSha256(zip));
      const conf = JSON.parse(await text(`lambda/${FN}/${v}/configuration.json`)) as { Version: string; CodeSha256: string };
      expect(conf).toMatchObject({ Version: v, CodeSha256: lambdaSha256(zip) });
    }
    const pointer = JSON.parse(await text(`lambda/${FN}/latest.json`)) as { key: string; runId: string; count: number };
    expect(pointer).toMatchObject({ runId, count: 3 });
    const manifest = JSON.parse(await text(pointer.key)) as LambdaManifest;
    expect(manifest.configuration).toMatchObject({ FunctionName: FN, Version: '$LATEST', Handler: 'index.handler' });
    expect(manifest.versions.map((v) => v.version)).toEqual(['1', '2', '3']);
    expect(new Set(manifest.versions.map((v) => v.codeSha256)).size).toBe(3);
    expect(manifest.aliases).toEqual(expect.arrayContaining([{ name: 'production', functionVersion: '3' }, { name: 'canary', functionVersion: '3', routing: { '2': 0.1 } }]));
    expect(await keys(`lambda/${OTHER}/1/`)).toEqual([`lambda/${OTHER}/1/code.zip`, `lambda/${OTHER}/1/configuration.json`]);
  });

  it('does not store a version again: a second run downloads only the new version', async () => {
    // prepare: versions 1 to 3 stored by an earlier backup, then a fourth published
    await backedUp(FN);
    const v4 = await publishV4();
    downloads.length = 0;

    // act
    const reply = await command(stack, 'alice', `backup lambda ${FN}`);

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(downloads).toEqual([lambdaSha256(v4)]);
    expect(message(runId)).toContain(`\`${FN}\`: 4 versions in the backup bucket; stored v4, 3 already there`);
    const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: `lambda/${FN}/1/code.zip` }));
    expect(head.Metadata?.['drbot-run']).not.toBe(runId);
  });

  it('reports a version whose download is denied mid-run, stores the others, and still writes the manifest', async () => {
    // prepare: both functions backed up, FN's fourth version too; then a second version of the other, and GetFunction on it denied
    await publishV4();
    await backedUp(FN, OTHER);
    const lambda = stack.clients.lambda('us-east-1');
    const second = storedZip('index.js', 'exports.handler = async () => "router v2";\n');
    packages.set(lambdaSha256(second), second);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: OTHER, ZipFile: second }));
    await lambda.send(new PublishVersionCommand({ FunctionName: OTHER }));
    const undo = fail(lambda, 'GetFunctionCommand', ACCESS_DENIED, { when: (i) => i.FunctionName === OTHER && i.Qualifier === '2' });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', `backup lambda ${OTHER} ${FN}`);
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    const msg = message(runId);
    expect(msg).toContain(`*failed* v2`);
    expect(msg).toContain(`v2: GetFunction on \`${OTHER}:2\` failed`);
    expect(msg).toContain(`\`${FN}\`: 4 versions in the backup bucket; stored none new`);
    expect(await keys(`lambda/${OTHER}/2/`)).toEqual([]);
    expect(JSON.parse(await text(`lambda/${OTHER}/latest.json`))).toMatchObject({ runId });
  });

  it('refuses an unknown function and a missing backup bucket at the command', () => {
    const codeOf = (text: string, config = stack.config) => {
      try {
        parseCommand(text, config, new Date());
      } catch (e) {
        return e instanceof DrbotError ? e.code : String(e);
      }
      return 'no error';
    };
    const { backupBucket: _b, ...noBucket } = SANDBOX_CONFIG;
    expect(codeOf('backup lambda spawn-nope')).toBe('unknown_function');
    expect(codeOf('backup lambda', parseConfig(noBucket))).toBe('no_backup_bucket');
  });
});

describe('httpCodeFetcher', () => {
  it('downloads the package from the location, and fails with the HTTP status otherwise', async () => {
    // prepare
    const zip = storedZip('index.js', 'x');
    const server = createServer((req, res) => {
      if (req.url === '/ok') res.end(Buffer.from(zip));
      else res.writeHead(403).end('denied');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    try {
      // act / assess
      expect(lambdaSha256(await httpCodeFetcher(`${base}/ok`, ''))).toBe(lambdaSha256(zip));
      await expect(httpCodeFetcher(`${base}/expired`, '')).rejects.toMatchObject({ code: 'code_download_failed', message: expect.stringContaining('HTTP 403') });
    } finally {
      server.close();
    }
  });
});
