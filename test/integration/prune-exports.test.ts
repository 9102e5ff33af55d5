import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateAliasCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { type ListObjectVersionsCommandOutput, PutObjectCommand } from '@aws-sdk/client-s3';
import { lambdaSha256 } from '../../src/aws/lambda';
import { parseConfig } from '../../src/config/load';
import { packageFetcher, SANDBOX_LAMBDA_ROLE, seedBackupBucket, seedLambda, seedZone, storedZip } from '../../src/local/estate';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { parseScheduleEvent, startScheduledRun } from '../../src/schedules/start';
import { rewrite } from '../helpers/faults';
import { click, command, listAllVersions, requestRun, restoreBeforeEach, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * --prune of the exports in the backup bucket, against moto S3: Route53 exports
 * (`route53/<zone>/<date>/<run id>.json`, kept forever by default) and stored Lambda versions
 * (`lambda/<function>/<version>/`, every version kept by default). With a retention in days, what
 * is older goes, for good (every object version), except the newest, what `latest.json` or an alias
 * points at, and anything drbot did not write.
 *
 * The clock is fixed 100 days ahead. moto stamps objects with the real time in whole seconds, so
 * each object's age is set on ListObjectVersions' answer by SDK middleware (`rewrite`), counted
 * back from that clock, for the keys a test names.
 */

const DAY = 86_400_000;
const NOW = new Date(Math.floor((Date.now() + 100 * DAY) / 1000) * 1000);
const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const FN = 'spawn-dns-updater';
const packages = new Map<string, Uint8Array>();

describe('--prune of the exports in the backup bucket', () => {
  const getStack = useLocalStack({ seed: false, now: () => NOW, config: parseConfig({ ...SANDBOX_CONFIG }), fetchCode: packageFetcher(packages) });
  let stack: LocalStack;
  let zoneId: string;
  /** Age in days by key prefix (the longest matching prefix wins). */
  const ages = new Map<string, number>();
  const s3 = () => stack.clients.s3('us-east-1');
  const keys = async (prefix: string) => [...new Set((await listAllVersions(s3(), BACKUPS, prefix)).versions.map((v) => v.Key ?? ''))].sort();
  const put = (Key: string, Body = '{}') => s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key, Body }));
  const ageOf = (key: string): number | undefined => [...ages.entries()].filter(([p]) => key.startsWith(p)).sort((a, b) => b[0].length - a[0].length)[0]?.[1];

  beforeAll(async () => {
    stack = getStack();
    await seedBackupBucket(stack.clients, stack.config);
    zoneId = await seedZone(stack.clients, stack.config, 5);
    stack.config.route53 = { hostedZoneId: zoneId };
    await stack.clients.iam('us-east-1').send(new CreateRoleCommand({ RoleName: SANDBOX_LAMBDA_ROLE, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }));
    await seedLambda(stack.clients, stack.config, packages);
    rewrite<ListObjectVersionsCommandOutput>(s3(), 'ListObjectVersionsCommand', (out) => ({
      ...out,
      Versions: (out.Versions ?? []).map((v) => {
        const age = ageOf(v.Key ?? '');
        return age === undefined ? v : { ...v, LastModified: new Date(NOW.getTime() - age * DAY) };
      }),
    }));
  }, 60_000);

  describe('/dr backup route53 --prune', () => {
    const at = (date: string, n: number) => `route53/${zoneId}/${date}/r-00000000000${n}.json`;
    const day = (age: number) => new Date(NOW.getTime() - age * DAY).toISOString().slice(0, 10);

    beforeAll(async () => {
      // A is what latest.json points at; D is the newest; the note and the other zone's export are not drbot's to prune here.
      for (const [key, age] of [
        [at(day(90), 1), 90],
        [at(day(80), 2), 80],
        [at(day(60), 3), 60],
        [at(day(40), 4), 40],
        [`route53/${zoneId}/notes.json`, 400],
        ['route53/ZOTHERZONE/2026-01-01/r-000000000009.json', 400],
      ] as const) {
        await put(key);
        ages.set(key, age);
      }
      await put(`route53/${zoneId}/latest.json`, JSON.stringify({ key: at(day(90), 1), runId: 'r-000000000001', exportedAt: day(90), sha256: '', count: 7 }));
    });

    it('by default (forever) a --prune plans no deletion and deletes nothing', async () => {
      // prepare
      const before = await keys('route53/');

      // act
      const reply = await command(stack, 'alice', 'backup route53 --prune --dry-run');

      // assess
      const text = textOf(runMessage(stack.standIn, runIdOf(reply)));
      expect(stack.config.retention.route53ExportDays).toBe('forever');
      expect(text).toContain('Prune: no Route53 exports to delete (kept forever) beyond the newest of each.');
      expect(text).toContain('1 not made by drbot, never touched');
      expect(await keys('route53/')).toEqual(before);
    });

    it('with 30 days: after approval deletes the old exports for good, keeping the newest, the latest pointer\'s target and what is not drbot\'s', async () => {
      // prepare
      stack.config.retention.route53ExportDays = 30;
      try {
        // act
        const { runId, message } = await requestRun(stack, 'alice', 'backup route53 --prune');
        await click(stack, 'bob', message, 'run_approve');

        // assess: the plan
        const plan = textOf(message);
        expect(plan).toContain(`Prune: deletes 2 Route53 exports older than 30 days: \`${at(day(80), 2)}\` (${day(80)}), \`${at(day(60), 3)}\` (${day(60)})`);
        expect(plan).toContain(`Prune keeps the newest good copy of each (1), whatever its age; 1 still in use: \`${at(day(90), 1)}\` (the latest pointer); 1 not made by drbot, never touched.`);
        // the run
        expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
        expect(textOf(runMessage(stack.standIn, runId))).toContain('Pruned 2 old exports.');
        // S3: gone for good (no version left), the rest there
        const left = await keys('route53/');
        expect(left).not.toContain(at(day(80), 2));
        expect(left).not.toContain(at(day(60), 3));
        expect(left).toEqual(expect.arrayContaining([at(day(90), 1), at(day(40), 4), `route53/${zoneId}/notes.json`, 'route53/ZOTHERZONE/2026-01-01/r-000000000009.json', `route53/${zoneId}/latest.json`]));
        expect(left.some((k) => k.endsWith(`/${runId}.json`))).toBe(true);
        expect((await listAllVersions(s3(), BACKUPS, 'route53/')).markers).toEqual([]);
      } finally {
        stack.config.retention.route53ExportDays = 'forever';
      }
    });
  });

  describe('/dr backup lambda --prune', () => {
    const folder = (v: number) => `lambda/${FN}/${v}/`;

    beforeAll(async () => {
      // Versions 4 and 5, an alias canary on 4 sending 10% to 2 (production is on 3), every version stored by a first run.
      const lambda = stack.clients.lambda('us-east-1');
      for (const v of [4, 5]) {
        const zip = storedZip('index.js', `exports.handler = async () => ({ version: ${v} });\n`);
        packages.set(lambdaSha256(zip), zip);
        await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FN, ZipFile: zip }));
        await lambda.send(new PublishVersionCommand({ FunctionName: FN }));
      }
      await lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'canary', FunctionVersion: '4', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
      const first = await command(stack, 'alice', 'backup lambda');
      expect(runSummary(stack, runIdOf(first))).toMatchObject({ status: 'succeeded' });
      for (const [v, age] of [[1, 90], [2, 85], [3, 80], [4, 75], [5, 70]] as const) ages.set(folder(v), age);
      await put(`lambda/${FN}/README.txt`, 'ours, not drbot\'s');
      await put(`${folder(1)}notes.txt`, 'also not drbot\'s');
      ages.set(`lambda/${FN}/README.txt`, 400);
      ages.set(`${folder(1)}notes.txt`, 400);
    });
    // each test starts from the versions, alias and stored copies above (jest --randomize)
    restoreBeforeEach(getStack);

    it('by default (all versions) a --prune plans no deletion and deletes nothing', async () => {
      // prepare
      const before = await keys('lambda/');

      // act
      const reply = await command(stack, 'alice', 'backup lambda --prune --dry-run');

      // assess
      const text = textOf(runMessage(stack.standIn, runIdOf(reply)));
      expect(stack.config.retention.lambdaVersions).toBe('all');
      expect(text).toContain('Prune: no stored Lambda versions to delete (kept forever) beyond the newest of each.');
      expect(await keys('lambda/')).toEqual(before);
    });

    it('with 30 days: deletes only the old version no alias points at; the newest, the alias targets, manifests and foreign files stay', async () => {
      // prepare
      stack.config.retention.lambdaVersions = 30;
      try {
        // act
        const { runId, message } = await requestRun(stack, 'alice', 'backup lambda --prune');
        await click(stack, 'bob', message, 'run_approve');

        // assess: the plan
        const plan = textOf(message);
        const d = (age: number) => new Date(NOW.getTime() - age * DAY).toISOString().slice(0, 10);
        expect(plan).toContain(`Prune: deletes 1 stored Lambda version older than 30 days: \`${folder(1)}\` (${d(90)})`);
        expect(plan).toContain(
          `Prune keeps the newest good copy of each (1), whatever its age; 3 still in use: \`${folder(2)}\` (alias canary), \`${folder(3)}\` (alias production), \`${folder(4)}\` (alias canary); 2 not made by drbot, never touched.`,
        );
        // the run
        expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
        expect(textOf(runMessage(stack.standIn, runId))).toContain('Pruned 1 old stored version.');
        // S3
        const left = await keys('lambda/');
        expect(left).not.toContain(`${folder(1)}code.zip`);
        expect(left).not.toContain(`${folder(1)}configuration.json`);
        for (const v of [2, 3, 4, 5]) expect(left).toEqual(expect.arrayContaining([`${folder(v)}code.zip`, `${folder(v)}configuration.json`]));
        expect(left).toEqual(expect.arrayContaining([`${folder(1)}notes.txt`, `lambda/${FN}/README.txt`, `lambda/${FN}/latest.json`]));
        expect(left.filter((k) => k.startsWith(`lambda/${FN}/exports/`))).toHaveLength(2);
      } finally {
        stack.config.retention.lambdaVersions = 'all';
      }
    });

    it('a scheduled run prunes by the retention without waiting for anyone', async () => {
      // prepare: versions 1 and 2 are old and no alias points at them any more
      stack.config.retention.lambdaVersions = 30;
      await stack.clients.lambda('us-east-1').send(new UpdateAliasCommand({ FunctionName: FN, Name: 'canary', FunctionVersion: '4', RoutingConfig: { AdditionalVersionWeights: {} } }));
      try {
        // act
        const r = await startScheduledRun({ config: stack.config, catalogue: stack.catalogue, engine: stack.engine, now: stack.now }, parseScheduleEvent({ schedule: 'backup-lambda-daily', verb: 'backup-lambda', scheduledTime: NOW.toISOString() }));
        await stack.engine.idle();

        // assess
        expect(runSummary(stack, r.runId)).toMatchObject({ status: 'succeeded' });
        expect(textOf(runMessage(stack.standIn, r.runId))).toContain('Pruned 2 old stored versions.');
        const left = await keys('lambda/');
        expect(left).not.toContain(`${folder(1)}code.zip`);
        expect(left).not.toContain(`${folder(2)}code.zip`);
        expect(left).toEqual(expect.arrayContaining([`${folder(3)}code.zip`, `${folder(4)}code.zip`, `${folder(5)}code.zip`]));
      } finally {
        stack.config.retention.lambdaVersions = 'all';
      }
    });
  });
});
