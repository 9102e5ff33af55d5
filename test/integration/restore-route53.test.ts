import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import { createHash } from 'node:crypto';
import { DrbotError, UsageError } from '../../src/errors';
import { SANDBOX_ZONE_NAME, seedBackupBucket, seedZone } from '../../src/local/estate';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { Leases } from '../../src/store/leases';
import { parseCommand } from '../../src/slack/parse';
import { ACCESS_DENIED, fail } from '../helpers/faults';
import { click, command, ephemeralsFor, recordedSlackWaits, requestRun, restoreBeforeEach, runIdOf, runSummary, snapshot, textOf, useLocalStack } from '../helpers/flow';
import { applyChanges, countCalls, latestExportKey, readExportDoc, zoneOwned, zoneRecords, zoneVsExport } from '../helpers/route53';

/*
 * /dr restore route53 against moto, record by record: an export made by /dr backup route53, the
 * zone changed (values, routing fields, alias targets, deletions, extras), then restored and
 * compared with the export. Where moto differs from AWS (no INSYNC delay, no 32,000-character
 * limit, CREATE/DELETE checks) see restore-route53-aws-limits.test.ts.
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const RECORDS = 1200;
const APEX = `${SANDBOX_ZONE_NAME}.`;
const THROTTLED = { name: 'Throttling', message: 'Rate exceeded', status: 400 };
const NOW = new Date('2026-01-27T12:00:00.000Z');

const rec = (name: string, type: string, value: string, ttl = 300): ResourceRecordSet => ({ Name: `${name}.${APEX}`, Type: type as ResourceRecordSet['Type'], TTL: ttl, ResourceRecords: [{ Value: value }] });
const upsert = (r: ResourceRecordSet): Change => ({ Action: 'UPSERT', ResourceRecordSet: r });
const del = (r: ResourceRecordSet): Change => ({ Action: 'DELETE', ResourceRecordSet: r });

describe('/dr restore route53', () => {
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, config: { ...SANDBOX_CONFIG }, slackRetry });
  let stack: LocalStack;
  let zoneId: string;

  const r53 = () => stack.clients.route53('us-east-1');
  const s3 = () => stack.clients.s3('us-east-1');
  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
  const live = () => zoneRecords(r53(), zoneId);
  /** The zone's A record sets of our seed, by name order: what the tests change. */
  const plainA = async () => [...(await live()).values()].filter((r) => r.Type === 'A' && /^a-\d+\./.test(r.Name ?? '')).sort((a, b) => (a.Name ?? '').localeCompare(b.Name ?? ''));

  /** Exports the zone now with /dr backup route53; returns the export's key. */
  async function exportZone(): Promise<string> {
    const reply = await command(stack, 'alice', 'backup route53');
    expect(runSummary(stack, runIdOf(reply))).toMatchObject({ status: 'succeeded' });
    return latestExportKey(s3(), BACKUPS, zoneId);
  }

  /** Requests a restore as alice and has bob approve it; returns the run id. */
  async function restore(args = ''): Promise<string> {
    const { runId, message: msg } = await requestRun(stack, 'alice', `restore route53 ${args}`.trim());
    await click(stack, 'bob', msg, 'run_approve');
    return runId;
  }

  beforeAll(async () => {
    stack = getStack();
    await seedBackupBucket(stack.clients, stack.config);
    zoneId = await seedZone(stack.clients, stack.config, RECORDS);
    // moto assigns zone IDs: the config learns it the way the sandbox's does.
    stack.config.route53 = { hostedZoneId: zoneId };
    // A multivalue answer set and a delegation below the apex, beside the seed's alias, failover, weighted, latency and geo sets.
    await applyChanges(r53(), zoneId, [
      upsert({ ...rec('mv', 'A', '10.6.0.1', 60), SetIdentifier: 'mv-one', MultiValueAnswer: true }),
      upsert({ ...rec('mv', 'A', '10.6.0.2', 60), SetIdentifier: 'mv-two', MultiValueAnswer: true }),
      upsert(rec('sub', 'NS', 'ns1.sub-provider.example.', 3600)),
    ]);
  }, 120_000);

  describe('refusals', () => {
    it('refuses a zone ID that is not the configured one, naming the configured zone, and starts no run', async () => {
      // act
      const reply = await command(stack, 'alice', 'restore route53 ZOTHER123 --dry-run');

      // assess
      expect(reply.json?.text ?? '').not.toMatch(/r-[0-9a-f]{12}/);
      const said = ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).join('\n') + (reply.json?.text ?? '');
      expect(said).toContain('Unknown zone `ZOTHER123`');
      expect(said).toContain(zoneId);
    });

    it('refuses --backup with --latest, the latest pointer, another bucket, and keys that are not export keys (hostile text included)', () => {
      // prepare
      const cfg = { ...SANDBOX_CONFIG, route53: { hostedZoneId: 'ZSEEDED' } };
      const refusal = (text: string) => {
        try {
          parseCommand(text, cfg, NOW);
        } catch (e) {
          return e instanceof DrbotError ? `${e.code}: ${e.message}` : String(e);
        }
        return 'accepted';
      };

      // act / assess
      expect(refusal('restore route53 --backup route53/ZSEEDED/2026-01-20/r-000000000001.json --latest')).toBe('usage: --backup and --latest cannot be used together.');
      expect(refusal('restore route53 --backup route53/ZSEEDED/latest.json')).toMatch(/^usage: --backup names the latest pointer/);
      expect(refusal('restore route53 --backup s3://someone-elses-bucket/route53/ZSEEDED/2026-01-20/r-1.json')).toMatch(/^usage: --backup names bucket `someone-elses-bucket`/);
      expect(refusal('restore route53 --backup iam/2026-01-20/r-1.json')).toMatch(/^usage: --backup `iam\/2026-01-20\/r-1.json` is not a Route53 export key/);
      expect(refusal('restore route53 --backup "route53/<!channel>/`x`"')).toMatch(/^usage: /);
      expect(refusal('restore route53 --backup route53/ZSEEDED/2026-01-20/r-1.json\u2028Approved')).toMatch(/^usage: /);
      expect(() => parseCommand('restore route53 --backup route53/ZSEEDED/2026-01-20/r-1.json', cfg, NOW)).not.toThrow();
      expect(() => parseCommand(`restore route53 --backup s3://${BACKUPS}/route53/ZSEEDED/2026-01-20/r-1.json`, cfg, NOW)).not.toThrow();
      expect(() => parseCommand('restore route53 --delete-extra --dry-run', { ...SANDBOX_CONFIG, route53: undefined }, NOW)).toThrow(/No hosted zone is configured/);
      expect(() => parseCommand('restore route53 extra words', cfg, NOW)).toThrow(UsageError);
    });

    it('says there is no export yet and how to make one, and changes nothing', async () => {
      // prepare: no export of the zone (the tests with one may have run first)
      const made = (await s3().send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: `route53/${zoneId}/` }))).Contents ?? [];
      if (made.length) await s3().send(new DeleteObjectsCommand({ Bucket: BACKUPS, Delete: { Objects: made.map((o) => ({ Key: o.Key })) } }));
      const before = await live();

      // act
      const latest = await command(stack, 'alice', 'restore route53 --latest');
      const named = await command(stack, 'alice', `restore route53 --backup route53/${zoneId}/2026-01-20/r-000000000001.json`);

      // assess
      expect(runSummary(stack, runIdOf(latest))).toMatchObject({ status: 'failed' });
      expect(message(runIdOf(latest))).toContain(`There is no export of zone \`${zoneId}\` in \`s3://${BACKUPS}/route53/${zoneId}/\``);
      expect(message(runIdOf(latest))).toContain('Make one with `/dr backup route53`');
      expect(message(runIdOf(named))).toContain(`There is no export \`route53/${zoneId}/2026-01-20/r-000000000001.json\``);
      expect(message(runIdOf(named))).toContain('`/dr backup route53` makes a new one');
      expect(await live()).toEqual(before);
    });
  });

  describe('with an export', () => {
    let key: string;
    let exported: ResourceRecordSet[];

    beforeAll(async () => {
      key = await exportZone();
      exported = (await readExportDoc(s3(), BACKUPS, key)).recordSets;
    }, 60_000);
    // Each test starts from the zone as exported, that export the latest, and nothing restored yet.
    restoreBeforeEach(getStack);

    /** Two record sets that are not in the export. */
    const extras = [rec('extra-1', 'TXT', '"not in the export"'), rec('extra-2', 'A', '10.99.0.1')];
    /** The zone drifted from the export: 5 values changed, 3 record sets deleted, 2 extras. Returns the A record sets as they were. */
    async function drift(): Promise<ResourceRecordSet[]> {
      const a = await plainA();
      await applyChanges(r53(), zoneId, [...a.slice(0, 5).map((r) => upsert({ ...r, ResourceRecords: [{ Value: '10.200.0.1' }] })), ...a.slice(5, 8).map(del), ...extras.map(upsert)]);
      return a;
    }

    it('plans a dry run with counts and escaped samples, and changes nothing', async () => {
      // prepare: 5 values changed, 3 record sets deleted, 2 extras
      const a = await drift();
      const before = await live();

      // act
      const reply = await command(stack, 'alice', 'restore route53 --dry-run');

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
      const msg = message(runId);
      expect(msg).toContain(`Zone \`${APEX}\` (\`${zoneId}\`) from the export \`${key}\``);
      expect(msg).toContain('*3* to create, *5* to change, *0* to delete');
      expect(msg).toContain('would be written in 1 change batch');
      expect(msg).toContain(`Create: \`${a[5]?.Name} A\``);
      expect(msg).toContain(`Change: \`${a[0]?.Name} A\` (values)`);
      expect(msg).toContain('Kept: *2* record sets not in the export (`--delete-extra` deletes them)');
      expect(msg).toContain('Never touched: the SOA and the apex NS.');
      expect(await live()).toEqual(before);
      expect((await s3().send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: 'route53-restores/' }))).Contents ?? []).toEqual([]);
    });

    it('four eyes: alice cannot approve her own restore; bob approves, it runs once and the zone equals the export, extras kept, SOA and apex NS untouched', async () => {
      // prepare: the zone drifted as the dry run's test has it
      await drift();
      const before = await live();
      const owned = zoneOwned(before, APEX);
      const calls = countCalls(r53(), 'ChangeResourceRecordSetsCommand');
      const { runId, message: msg } = await requestRun(stack, 'alice', 'restore route53 --latest');

      // act
      try {
        const own = await click(stack, 'alice', msg, 'run_approve');
        expect(JSON.stringify(own.json ?? {}) + ephemeralsFor(stack.standIn, 'alice').map(textOf).join('\n')).toContain('four eyes');
        await click(stack, 'bob', msg, 'run_approve');
        await click(stack, 'dave', snapshot(msg), 'run_approve');
      } finally {
        calls.undo();
      }

      // assess: the run
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      const text = message(runId);
      expect(text).toContain('Approved by @bob');
      expect(text).toContain(`Applied *8* of 8 changes to \`${APEX}\` in 1 of 1 change batch: 3 created, 5 changed, 0 deleted.`);
      expect(text).toContain('Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences. 2 record sets not in the export were kept');
      expect(text).toContain(`s3://${BACKUPS}/route53-restores/${zoneId}/${runId}.json`);
      // executed once: one batch of 8 UPSERTs, and the extras kept
      expect(calls.inputs).toHaveLength(1);
      expect((calls.inputs[0]?.ChangeBatch as { Changes: Change[] }).Changes.map((c) => c.Action)).toEqual(Array(8).fill('UPSERT'));
      // the zone, record by record
      const after = await live();
      expect(zoneVsExport(after, exported, APEX, { extrasAllowed: [`extra-1.${APEX}|TXT|`, `extra-2.${APEX}|A|`] })).toEqual([]);
      expect(zoneOwned(after, APEX)).toEqual(owned);
      // the change set that was sent is kept, and says what it sent
      const set = JSON.parse((await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: `route53-restores/${zoneId}/${runId}.json` }))).Body?.transformToString()) ?? '{}') as { batches: Change[][]; export: string };
      expect(set.export).toBe(key);
      expect(set.batches.flat()).toHaveLength(8);
    });

    it('--delete-extra with the zone ID: routing record sets and alias targets restored whole, extras deleted, a CNAME in the way replaced in the same batch', async () => {
      // prepare: routing fields changed, the alias deleted, a CNAME where an A record was, and two extras
      await applyChanges(r53(), zoneId, extras.map(upsert));
      const z = await live();
      const get = (name: string, type: string, set?: string) => z.get(`${name}.${APEX}|${type}|${set ?? ''}`) as ResourceRecordSet;
      const a0 = (await plainA())[0] as ResourceRecordSet;
      await applyChanges(r53(), zoneId, [
        upsert({ ...get('canary', 'CNAME', 'green'), Weight: 70 }),
        upsert({ ...get('edge', 'A', 'usw2'), TTL: 5 }),
        upsert({ ...get('geo', 'A', 'eu'), GeoLocation: { ContinentCode: 'AS' } }),
        upsert({ ...get('api', 'A', 'primary'), AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: 'other-lb.us-east-1.elb.amazonaws.com.', EvaluateTargetHealth: false } }),
        upsert({ ...get('mv', 'A', 'mv-two'), ResourceRecords: [{ Value: '10.6.0.99' }] }),
        upsert({ ...get('sub', 'NS'), ResourceRecords: [{ Value: 'ns.hijacked.example.' }] }),
        del(get('www', 'A')),
        del(a0),
      ]);
      await applyChanges(r53(), zoneId, [upsert(rec(a0.Name?.split('.')[0] ?? '', 'CNAME', 'elsewhere.example.'))]);

      // act: first the plan without --delete-extra shows what stands in the way
      const dry = await command(stack, 'alice', 'restore route53 --dry-run');
      const runId = await restore(`${zoneId} --delete-extra`);

      // assess
      expect(message(runIdOf(dry))).toContain(`*1* record set cannot be restored while a live record set not in the export holds its name, e.g. \`${a0.Name} A\` (in the way: \`${a0.Name} CNAME\`)`);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(message(runId)).toContain('2 created, 6 changed, 3 deleted');
      expect(message(runId)).toContain('*0* differences.');
      const after = await live();
      expect(zoneVsExport(after, exported, APEX)).toEqual([]);
      expect(after.get(`www.${APEX}|A|`)).toEqual(exported.find((r) => r.Name === `www.${APEX}` && r.Type === 'A'));
      expect(after.get(`api.${APEX}|A|primary`)?.AliasTarget).toEqual(exported.find((r) => r.SetIdentifier === 'primary')?.AliasTarget);
    });

    it('restores an older export named with --backup, not the latest', async () => {
      // prepare: change the zone, export it (now the latest), change it again
      const a = await plainA();
      await applyChanges(r53(), zoneId, a.slice(0, 3).map((r) => upsert({ ...r, TTL: 30 })));
      const newer = await exportZone();
      await applyChanges(r53(), zoneId, a.slice(3, 6).map(del));

      // act
      const runId = await restore(`--backup s3://${BACKUPS}/${key}`);

      // assess: the first export, not the newer one
      expect(newer).not.toBe(key);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(message(runId)).toContain('3 created, 3 changed, 0 deleted');
      expect(zoneVsExport(await live(), exported, APEX)).toEqual([]);
    });

    it('refuses an export of another zone, a document that is not an export, and one that changed after it was written; accepts an export of a recreated zone of the same name', async () => {
      // prepare: documents in the backup bucket under export keys
      const doc = await readExportDoc(s3(), BACKUPS, key);
      const put = async (k: string, body: string, sha?: string) => {
        await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: k, Body: body, ...(sha ? { Metadata: { sha256: sha } } : {}) }));
        return k;
      };
      const sha = (b: string) => createHash('sha256').update(b).digest('hex');
      const otherBody = JSON.stringify({ ...doc, zone: { ...doc.zone, id: 'ZOTHERZONE1', name: 'other.example.com.' } });
      const other = await put('route53/ZOTHERZONE1/2026-01-20/r-00000000000a.json', otherBody, sha(otherBody));
      const recreatedBody = JSON.stringify({ ...doc, zone: { ...doc.zone, id: 'ZOLDZONE0001' } });
      const recreated = await put('route53/ZOLDZONE0001/2026-01-20/r-00000000000b.json', recreatedBody, sha(recreatedBody));
      const notExport = await put(`route53/${zoneId}/2026-01-20/r-00000000000c.json`, '{"hello":"world"}');
      const tamperedBody = JSON.stringify(doc).replace('"TTL":300', '"TTL":1');
      const tampered = await put(`route53/${zoneId}/2026-01-20/r-00000000000d.json`, tamperedBody, sha(JSON.stringify(doc)));
      const before = await live();

      // act
      const runs = [];
      for (const k of [other, recreated, notExport, tampered]) runs.push(runIdOf(await command(stack, 'alice', `restore route53 --backup ${k} --dry-run`)));

      // assess
      const [rOther, rRecreated, rNot, rTampered] = runs as [string, string, string, string];
      expect(runSummary(stack, rOther)).toMatchObject({ status: 'failed' });
      expect(message(rOther)).toContain(`The export \`${other}\` is of zone \`ZOTHERZONE1\` (\`other.example.com.\`), not of \`${zoneId}\` (\`${APEX}\`).`);
      expect(runSummary(stack, rRecreated)).toMatchObject({ status: 'dry_run' });
      expect(message(rRecreated)).toContain('The export is of zone `ZOLDZONE0001`, which had the same name (the zone was recreated).');
      expect(message(rNot)).toContain(`\`${notExport}\` is not a Route53 export written by \`/dr backup route53\`.`);
      expect(message(rTampered)).toContain(`The export \`${tampered}\` does not match the checksum it was written with`);
      expect(await live()).toEqual(before);
    });

    it('shows hostile record names in a plan as escaped code spans on verbatim text: no mention, link, formatting or line break forms', async () => {
      // prepare: extras whose names carry backticks, a mention, a link and formatting
      const hostile = [rec('x`*approved-by-secops*`', 'TXT', '"a"'), rec('<!channel>-and-<https://evil.example|click>', 'TXT', '"b"')];
      await applyChanges(r53(), zoneId, hostile.map(upsert));

      // act
      let runId: string;
      try {
        runId = runIdOf(await command(stack, 'alice', 'restore route53 --dry-run'));
      } finally {
        await applyChanges(r53(), zoneId, hostile.map(del));
      }

      // assess: the raw Block Kit Slack receives
      const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => m.text.includes(runId));
      const plan = (msg?.blocks as KnownBlock[] | undefined)?.find((b): b is SectionBlock => b.type === 'section' && (b.text?.text ?? '').includes('Kept:'));
      const text = plan?.text?.text ?? '';
      expect((plan?.text as MrkdwnElement | undefined)?.verbatim).toBe(true);
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<https://');
      expect(text).toContain('&lt;!channel&gt;-and-&lt;https://evil.example|click&gt;');
      expect(text).toContain('`xˋ*approved-by-secops*ˋ.spawn.example.com. TXT`');
      const kept = text.split('\n').find((l) => l.includes('Kept:')) ?? '';
      expect((kept.match(/`/g) ?? []).length % 2).toBe(0);
    });

    it('says so, and changes nothing, when the zone already equals the export', async () => {
      // act
      const reply = await command(stack, 'alice', `restore route53 --backup ${key}`);

      // assess
      expect(runSummary(stack, runIdOf(reply))).toMatchObject({ status: 'nothing_to_do' });
      expect(message(runIdOf(reply))).toContain('*0* to create, *0* to change, *0* to delete');
    });

    it('throttled mid-apply: the batch is retried, every batch lands once, and the zone equals the export', async () => {
      // prepare: 700 record sets changed → two batches (500 UPSERTs, then 200); the second is throttled twice
      const a = await plainA();
      const more = [...(await live()).values()].filter((r) => /^(aaaa|txt|mx|cname)-/.test(r.Name ?? '')).slice(0, 700 - a.length);
      await applyChanges(r53(), zoneId, [...a, ...more].map((r) => upsert({ ...r, TTL: 7 })));
      const calls = countCalls(r53(), 'ChangeResourceRecordSetsCommand');
      const undo = fail(r53(), 'ChangeResourceRecordSetsCommand', THROTTLED, { times: 2, when: (i) => String((i.ChangeBatch as { Comment?: string })?.Comment).includes('batch 2 of 2') });

      // act
      let runId: string;
      try {
        runId = await restore(`--backup ${key}`);
      } finally {
        undo();
        calls.undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(message(runId)).toContain('Applied *700* of 700 changes');
      expect(calls.inputs.map((i) => (i.ChangeBatch as { Changes: Change[] }).Changes.length)).toEqual([500, 200]);
      expect(zoneVsExport(await live(), exported, APEX)).toEqual([]);
    });

    it('AccessDenied on the second batch: the run ends Failed saying which batch was applied and which was not; the zone holds exactly the first', async () => {
      // prepare: 700 record sets deleted → two batches of UPSERTs
      const victims = [...(await live()).values()].filter((r) => /^(a|aaaa|txt|mx|cname)-\d+\./.test(r.Name ?? '')).slice(0, 700);
      await applyChanges(r53(), zoneId, victims.map(del));
      const undo = fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED, { when: (i) => String((i.ChangeBatch as { Comment?: string })?.Comment).includes('batch 2 of 2') });

      // act
      let runId: string;
      try {
        runId = await restore(`--backup ${key}`);
      } finally {
        undo();
      }

      // assess: the message
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const text = message(runId);
      expect(text).toMatch(/^❌ Failed/);
      expect(text).toContain(`Stopped at batch 2 of 2: ChangeResourceRecordSets on \`${zoneId}\` failed: User is not authorized to perform this action`);
      expect(text).toContain("Grant the bot's role permission for `ChangeResourceRecordSets`");
      expect(text).toContain('Applied: batch 1 (500 created, 0 changed, 0 deleted). Not applied: batch 2 (200 changes: 200 to create, 0 to change, 0 to delete).');
      expect(text).toContain('Verified by listing: *200* differences from the export remain');
      // the zone: exactly the first batch's record sets are back
      const set = JSON.parse((await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: `route53-restores/${zoneId}/${runId}.json` }))).Body?.transformToString()) ?? '{}') as { batches: Change[][] };
      const after = await live();
      const back = (c: Change) => after.has(`${(c.ResourceRecordSet?.Name ?? '').toLowerCase()}|${c.ResourceRecordSet?.Type}|`);
      expect(set.batches[0]?.every(back)).toBe(true);
      expect(set.batches[1]?.some(back)).toBe(false);
      // run again with the permission back: only the rest is sent
      const again = await restore(`--backup ${key}`);
      expect(message(again)).toContain('Applied *200* of 200 changes');
      expect(zoneVsExport(await live(), exported, APEX)).toEqual([]);
    });

    it('Slack answers 429 and then 500 on the run updates: the restore still completes and its record and audit say succeeded', async () => {
      // prepare
      const a = await plainA();
      await applyChanges(r53(), zoneId, a.slice(0, 4).map((r) => upsert({ ...r, TTL: 9 })));
      const { runId, message: msg } = await requestRun(stack, 'alice', `restore route53 --backup ${key}`);
      const waited = slackRetry.waits.length;
      let limited = 0;
      stack.standIn.fault = (method, args) => {
        if (method !== 'chat.update') return undefined;
        if (limited++ < 3) return { status: 429, retryAfter: 1 };
        return String(args.text).startsWith('Done') ? { status: 500 } : undefined;
      };

      // act
      try {
        await click(stack, 'bob', msg, 'run_approve');
      } finally {
        delete stack.standIn.fault;
      }

      // assess
      expect(limited).toBeGreaterThan(3);
      // the three 429s came first, each waited out for its Retry-After (1 s); the 500s after them backed off
      expect(slackRetry.waits.slice(waited, waited + 3)).toEqual([1000, 1000, 1000]);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
      expect((await stack.store.listAudit(100)).filter((e) => e.runId === runId && e.action === 'result')).toMatchObject([{ result: 'succeeded' }]);
      expect(zoneVsExport(await live(), exported, APEX)).toEqual([]);
    });

    it('one destructive run per zone: while another run holds the zone, a restore is refused naming that run (typed zone: before its plan; the configured one: before its first change), and nothing changes', async () => {
      // prepare: another run holds the zone, and the zone differs from the export
      const leases = new Leases(stack.store.doc, stack.store.tableName);
      const now = new Date();
      await leases.acquire(`route53:${zoneId}`, { runId: 'r-000000000009', channel: SANDBOX_CHANNEL, ts: '1700000000.000200', until: now.getTime() + 3_600_000 }, now);
      const a = await plainA();
      await applyChanges(r53(), zoneId, [upsert({ ...(a[0] as ResourceRecordSet), TTL: 11 })]);
      const before = await live();

      // act
      let typed: string;
      let configured: string;
      try {
        typed = runIdOf(await command(stack, 'alice', `restore route53 ${zoneId} --backup ${key}`));
        configured = await restore(`--backup ${key}`);
      } finally {
        await leases.release(`route53:${zoneId}`, 'r-000000000009');
      }

      // assess
      for (const runId of [typed, configured]) {
        expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
        expect(message(runId)).toContain(`\`route53:${zoneId}\` is busy: run \`r-000000000009\` is working on it`);
      }
      expect(message(typed)).not.toContain('to create');
      expect(await live()).toEqual(before);
      // free again: the same restore goes through
      const again = await restore(`--backup ${key}`);
      expect(runSummary(stack, again)).toMatchObject({ status: 'succeeded' });
      expect(zoneVsExport(await live(), exported, APEX)).toEqual([]);
    });
  });
});
