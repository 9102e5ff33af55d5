import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseConfig } from '../../src/config/load';
import { DrbotError } from '../../src/errors';
import { SANDBOX_ZONE_NAME, seedBackupBucket, seedZone } from '../../src/local/estate';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { Route53Export } from '../../src/runbooks/backup-route53/runbook';
import { parseCommand } from '../../src/slack/parse';
import { ACCESS_DENIED, fail, SERVICE_UNAVAILABLE } from '../helpers/faults';
import { command, ephemeralsFor, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr backup route53 against moto: the whole zone (more than one page of 300) in the backup
 * bucket with its count and checksum in the metadata, the latest pointer, dry run, bad input,
 * and AWS failing mid-run (SDK middleware on the stack's own clients).
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const RECORDS = 420;

describe('/dr backup route53', () => {
  const getStack = useLocalStack({ seed: false, config: { ...SANDBOX_CONFIG } });
  let stack: LocalStack;
  let zoneId: string;

  const s3 = () => stack.clients.s3('us-east-1');
  const text = async (key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: key }))).Body?.transformToString()) ?? '';
  const keys = async (prefix: string) => ((await s3().send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '');
  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));

  beforeAll(async () => {
    stack = getStack();
    await seedBackupBucket(stack.clients, stack.config);
    zoneId = await seedZone(stack.clients, stack.config, RECORDS);
    // moto assigns zone IDs: the config learns it the way the sandbox's does.
    stack.config.route53 = { hostedZoneId: zoneId };
  }, 60_000);

  it('plans a dry run with the record counts by type and routing, and writes nothing', async () => {
    // prepare: the exports other tests wrote
    const before = await keys('route53/');

    // act
    const reply = await command(stack, 'alice', 'backup route53 --dry-run');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const msg = message(runId);
    expect(msg).toContain(`Zone \`${SANDBOX_ZONE_NAME}.\``);
    expect(msg).toContain(`*${RECORDS + 2}* record sets`);
    expect(msg).toContain('2 alias, 2 failover, 2 weighted, 2 latency, 2 geo');
    expect(await keys('route53/')).toEqual(before);
  });

  it('exports every record set across pages, alias, failover, weighted, latency and geo kept whole, with count and checksum in the metadata', async () => {
    // act
    const reply = await command(stack, 'alice', 'backup route53');

    // assess: the run
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(message(runId)).toContain(`Exported *${RECORDS + 2}* record sets of \`${zoneId}\``);
    // the export
    const pointer = JSON.parse(await text(`route53/${zoneId}/latest.json`)) as { key: string; runId: string; count: number; sha256: string };
    expect(pointer).toMatchObject({ runId, count: RECORDS + 2 });
    expect(pointer.key).toMatch(new RegExp(`^route53/${zoneId}/\\d{4}-\\d{2}-\\d{2}/${runId}\\.json$`));
    const body = await text(pointer.key);
    const doc = JSON.parse(body) as Route53Export;
    expect(doc).toMatchObject({ format: 'drbot-route53-export/1', runId, zone: { id: zoneId, name: `${SANDBOX_ZONE_NAME}.` }, recordCount: RECORDS + 2 });
    expect(doc.recordSets).toHaveLength(RECORDS + 2);
    const ids = doc.recordSets.map((r) => `${r.Name} ${r.Type} ${r.SetIdentifier ?? ''}`);
    expect(new Set(ids).size).toBe(ids.length);
    const z = `${SANDBOX_ZONE_NAME}.`;
    expect(doc.recordSets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: `www.${z}`, Type: 'A', AliasTarget: expect.objectContaining({ DNSName: 'spawn-lb-123.us-east-1.elb.amazonaws.com', EvaluateTargetHealth: true }) }),
        expect.objectContaining({ Name: `api.${z}`, SetIdentifier: 'primary', Failover: 'PRIMARY' }),
        expect.objectContaining({ Name: `api.${z}`, SetIdentifier: 'secondary', Failover: 'SECONDARY', ResourceRecords: [{ Value: '10.9.0.1' }] }),
        expect.objectContaining({ Name: `canary.${z}`, SetIdentifier: 'green', Weight: 10 }),
        expect.objectContaining({ Name: `edge.${z}`, SetIdentifier: 'usw2', Region: 'us-west-2' }),
        expect.objectContaining({ Name: `geo.${z}`, SetIdentifier: 'eu', GeoLocation: { ContinentCode: 'EU' } }),
        expect.objectContaining({ Type: 'SOA' }),
      ]),
    );
    const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: pointer.key }));
    expect(head.Metadata).toMatchObject({ 'record-count': String(RECORDS + 2), 'drbot-run': runId, sha256: pointer.sha256 });
    expect(createHash('sha256').update(body).digest('hex')).toBe(pointer.sha256);
  });

  it('retries a 5xx on the second page of ListResourceRecordSets and still exports every record set', async () => {
    // prepare
    const undo = fail(stack.clients.route53('us-east-1'), 'ListResourceRecordSetsCommand', SERVICE_UNAVAILABLE, { when: (i) => i.StartRecordName !== undefined, times: 1 });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup route53');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const pointer = JSON.parse(await text(`route53/${zoneId}/latest.json`)) as { key: string; runId: string };
    expect(pointer.runId).toBe(runId);
    expect((JSON.parse(await text(pointer.key)) as Route53Export).recordSets).toHaveLength(RECORDS + 2);
  });

  it('fails the run, saying so, when the write is denied mid-run; latest still points at the last good export', async () => {
    // prepare: a good export first, whatever ran before
    expect(runSummary(stack, runIdOf(await command(stack, 'alice', 'backup route53')))).toMatchObject({ status: 'succeeded' });
    const before = await text(`route53/${zoneId}/latest.json`);
    const undo = fail(stack.clients.s3('us-east-1'), 'PutObjectCommand', ACCESS_DENIED);

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup route53');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(message(runId)).toContain(`PutObject on \`${BACKUPS}/route53/${zoneId}/`);
    expect(message(runId)).toContain("Grant the bot's role permission for `PutObject`");
    expect(await text(`route53/${zoneId}/latest.json`)).toBe(before);
    expect((await keys('route53/')).some((k) => k.includes(runId))).toBe(false);
  });

  it('stops at the plan, with the operation, when Route53 denies the read', async () => {
    // prepare
    const undo = fail(stack.clients.route53('us-east-1'), 'ListResourceRecordSetsCommand', ACCESS_DENIED);

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup route53');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(message(runId)).toContain(`ListResourceRecordSets on \`${zoneId}\` failed`);
    expect((await keys('route53/')).some((k) => k.includes(runId))).toBe(false);
  });

  it('refuses a zone ID that is not the configured one, naming the configured zone', async () => {
    // act
    const reply = await command(stack, 'alice', 'backup route53 ZOTHER123');

    // assess
    expect(reply.json?.text ?? '').not.toMatch(/r-[0-9a-f]{12}/);
    const said = ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).join('\n') + (reply.json?.text ?? '');
    expect(said).toContain('Unknown zone `ZOTHER123`');
    expect(said).toContain(zoneId);
  });

  it('refuses at the command when no backup bucket or no zone is configured', () => {
    // prepare
    const { backupBucket: _b, ...noBucket } = { ...SANDBOX_CONFIG, route53: { hostedZoneId: 'Z123' } };
    const { route53: _zone, ...withoutZone } = SANDBOX_CONFIG;
    const noZone = parseConfig(withoutZone);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof DrbotError ? e.code : String(e);
      }
      return 'no error';
    };

    // act / assess
    expect(codeOf(() => parseCommand('backup route53', parseConfig(noBucket), new Date()))).toBe('no_backup_bucket');
    expect(codeOf(() => parseCommand('backup route53', noZone, new Date()))).toBe('no_zone');
  });
});
