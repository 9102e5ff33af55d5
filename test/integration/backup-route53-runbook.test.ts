/**
 * The backup-route53 runbook (src/runbooks/backup-route53/runbook.ts, `/dr backup route53`) on its
 * own, against moto: every record set of the zone, read page by page, written whole to the backup
 * bucket with its count and checksum, the latest pointer moved to it, verified by reading it back,
 * and with --prune drbot's exports past retention deleted only once the new one verifies. The
 * flows through Slack are backup-route53.test.ts; these need no local stack, so `npm run mutate`
 * can run them per mutant.
 *
 * moto enforces no IAM policy and never throttles: refusals are SDK middleware on the runbook's
 * clients (faults.ts). A read-back that differs from what was written is an answer rewritten: S3
 * never returns other bytes than it stored. moto stamps every object now, so exports past
 * retention are planned with a clock 30 days on.
 */
import { createHash } from 'node:crypto';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DrbotError } from '../../src/errors';
import { seedZone } from '../../src/local/estate';
import type { BackupRoute53Input } from '../../src/runbooks/backup-route53';
import { type Route53Export, type Route53Plan, runbook } from '../../src/runbooks/backup-route53/runbook';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import { formatBytes } from '../../src/util/limit';
import { ACCESS_DENIED, countTries, fail, rewrite, SERVICE_UNAVAILABLE, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const BACKUPS = 'rig-r53-backups';
const RECORDS = 420;
const DAY = 86_400_000;
let zoneId = '';
let runs = 0;

beforeAll(async () => {
  rig.configure({ backupBucket: BACKUPS, retention: { ...rig.deps().config.retention, route53ExportDays: 7 } });
  await rig.makeBucket(BACKUPS, 'us-east-1');
  zoneId = await seedZone(rig.moto().clients, rig.deps().config, RECORDS, 'r53-rig.example.com');
  rig.configure({ route53: { hostedZoneId: zoneId } });
}, 60_000);

const s3 = () => rig.s3();
const r53 = () => rig.moto().clients.route53('us-east-1');
const text = async (key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: key }))).Body?.transformToString()) ?? '';
const versions = async (prefix: string) => ((await s3().send(new ListObjectVersionsCommand({ Bucket: BACKUPS, Prefix: prefix }))).Versions ?? []).map((v) => v.Key ?? '').sort();

function input(over: Partial<BackupRoute53Input> = {}): BackupRoute53Input & AnyRunInput {
  const runId = `r-${(++runs).toString(16).padStart(12, '0')}`;
  return { kind: 'backup-route53', runId, requester: 'UALICE', channel: 'C1', commandText: '/dr backup route53', requestedAt: '2026-12-04T10:00:00.000Z', dryRun: false, prune: false, ...over } as BackupRoute53Input & AnyRunInput;
}

const plan = async (i: BackupRoute53Input, deps: RunbookDeps = rig.deps()) => runbook(i).plan(deps, i, { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
const later = (days: number): RunbookDeps => ({ ...rig.deps(), now: () => new Date(Date.now() + days * DAY) });

/** Plans and executes a run (watched: its checkpoints too). */
async function backup(i: BackupRoute53Input & AnyRunInput, p?: Route53Plan) {
  const data = p ?? (await plan(i)).data;
  return { data, ...(await rig.executeWatched(runbook(i), i, data)) };
}

/** A zone of its own: two TXT and one A record besides SOA and NS, made with a comment. */
async function smallZone(name: string, comment?: string): Promise<string> {
  const z = await r53().send(new CreateHostedZoneCommand({ Name: name, CallerReference: `${name}-${Date.now()}-${runs}`, ...(comment ? { HostedZoneConfig: { Comment: comment, PrivateZone: false } } : {}) }));
  return (z.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
}

describe('the plan', () => {
  it('counts the zone by type and routing, names the key it writes and the pointer it moves, and says it changes no record', async () => {
    const i = input();
    const p = await plan(i);
    const key = `route53/${zoneId}/2026-12-04/${i.runId}.json`;
    expect(p.data).toEqual({ bucket: BACKUPS, zoneId, key, records: RECORDS + 2 });
    expect(p.lines).toEqual([
      `Zone \`r53-rig.example.com.\` (\`${zoneId}\`): *422* record sets: 90 A, 84 CNAME, 82 AAAA, 82 MX, 82 TXT, 1 NS, 1 SOA; 2 alias, 2 failover, 2 weighted, 2 latency, 2 geo`,
      `Writes \`s3://${BACKUPS}/${key}\` and points \`route53/${zoneId}/latest.json\` at it`,
      'Reads Route53 only: no record is changed.',
    ]);
    expect(runbook(i).title(i)).toBe('Export of the Route53 zone');
  });

  it('a dry run says "Would write"; a zone named in the command (with or without /hostedzone/) is the one read', async () => {
    const own = await smallZone('r53-other.example.com');
    for (const zone of [own, `/hostedzone/${own}`]) {
      const i = input({ dryRun: true, zone });
      const p = await plan(i);
      expect(p.data.zoneId).toBe(own);
      expect(p.lines[0]).toBe(`Zone \`r53-other.example.com.\` (\`${own}\`): *2* record sets: 1 NS, 1 SOA`);
      expect(p.lines[1]).toBe(`Would write \`s3://${BACKUPS}/route53/${own}/2026-12-04/${i.runId}.json\` and points \`route53/${own}/latest.json\` at it`);
    }
  });

  it('refuses without a configured zone, and without a backup bucket, before reading anything', async () => {
    const d = rig.deps();
    const noZone = { ...d, config: { ...d.config, route53: undefined } } as RunbookDeps;
    await expect(plan(input(), noZone)).rejects.toMatchObject({ code: 'no_zone', message: 'No hosted zone is configured.', hint: 'Set `route53.hostedZoneId` in the drbot config.' });
    const noBucket = { ...d, config: { ...d.config, backupBucket: undefined } } as RunbookDeps;
    await expect(plan(input(), noBucket)).rejects.toBeInstanceOf(DrbotError);
  });

  it('a zone Route53 does not know is refused naming GetHostedZone and the zone', async () => {
    await expect(plan(input({ zone: 'ZNOSUCHZONE123' }))).rejects.toThrow(/GetHostedZone on `ZNOSUCHZONE123`/);
  });

  it('a listing refused is refused naming ListResourceRecordSets and the zone', async () => {
    fail(r53(), 'ListResourceRecordSetsCommand', ACCESS_DENIED);
    await expect(plan(input())).rejects.toMatchObject({ message: `ListResourceRecordSets on \`${zoneId}\` failed: User is not authorized to perform this action` });
  });

  it('only --prune makes a person\'s run destructive (a scheduled prune is reviewed policy)', () => {
    expect(runbook(input()).destructive).toBe(false);
    expect(runbook(input({ prune: true })).destructive).toBe(true);
    expect(runbook(input({ prune: true, schedule: { name: 'nightly', at: '2026-12-04T03:00:00.000Z' } })).destructive).toBe(false);
  });
});

describe('the export', () => {
  it('writes every record set across pages once, the zone and its count, checksum and run in the metadata; moves latest; verifies by reading back', async () => {
    const i = input();
    const p = await plan(i);
    const pages = countTries(r53(), 'ListResourceRecordSetsCommand');

    const r = await backup(i, p.data);

    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.checkpoints).toEqual(['export', 'latest', 'verify']);
    expect(r.reports).toEqual([[1, 2, 'written']]);
    // 422 record sets at 300 a page: two pages, read again at execution
    expect(pages.tries()).toBe(2);
    const body = await text(r.data.key);
    const doc = JSON.parse(body) as Route53Export;
    expect(doc).toMatchObject({ format: 'drbot-route53-export/1', runId: i.runId, zone: { id: zoneId, name: 'r53-rig.example.com.', privateZone: false }, recordCount: RECORDS + 2 });
    expect(doc.zone).not.toHaveProperty('comment');
    expect(Date.parse(doc.exportedAt)).not.toBeNaN();
    const ids = doc.recordSets.map((s) => `${s.Name} ${s.Type} ${s.SetIdentifier ?? ''}`);
    expect(new Set(ids).size).toBe(RECORDS + 2);
    const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: r.data.key }));
    const sha256 = createHash('sha256').update(body).digest('hex');
    expect(head.Metadata).toEqual({ 'drbot-run': i.runId, 'record-count': String(RECORDS + 2), sha256, 'zone-id': zoneId });
    expect(head.ContentType).toBe('application/json');
    const pointer = JSON.parse(await text(`route53/${zoneId}/latest.json`)) as Record<string, unknown>;
    expect(pointer).toEqual({ key: r.data.key, runId: i.runId, exportedAt: doc.exportedAt, sha256, count: RECORDS + 2 });
    const pointerHead = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: `route53/${zoneId}/latest.json` }));
    expect(pointerHead.Metadata).toEqual({ 'drbot-run': i.runId, 'record-count': String(RECORDS + 2) });
    expect(r.lines).toEqual([
      `Exported *${RECORDS + 2}* record sets of \`${zoneId}\` to \`s3://${BACKUPS}/${r.data.key}\` (${formatBytes(Buffer.byteLength(body))}); \`route53/${zoneId}/latest.json\` points at it.`,
      ':mag: Verified by reading it back: same checksum, every record set present.',
    ]);
  });

  it('keeps the zone\'s comment, and reads the zone again at execution: a record added after the plan is in the export', async () => {
    const own = await smallZone('r53-comment.example.com', 'spawn public zone');
    const i = input({ zone: own });
    const p = await plan(i);
    expect(p.data.records).toBe(2);
    await r53().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: own, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'late.r53-comment.example.com', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"late"' }] } }] } }));

    const r = await backup(i, p.data);

    const doc = JSON.parse(await text(p.data.key)) as Route53Export;
    expect(doc.zone).toEqual({ id: own, name: 'r53-comment.example.com.', privateZone: false, comment: 'spawn public zone' });
    expect(doc.recordCount).toBe(3);
    expect(r.lines[0]).toContain('Exported *3* record sets');
    expect(r.ok).toBe(true);
  });

  it('a read-back that differs fails the run, saying what came back, and prunes nothing', async () => {
    // two exports of the zone, so one is past retention whatever ran before
    await backup(input());
    await backup(input());
    const i = input({ prune: true });
    const p = await plan(i, later(30));
    expect(p.data.prune?.length).toBeGreaterThan(0);
    const before = await versions(`route53/${zoneId}/`);
    rewrite<{ Body?: unknown }>(s3(), 'GetObjectCommand', (o, inp) => (inp.Key === p.data.key ? { ...o, Body: { transformToString: async () => JSON.stringify({ recordSets: [{}, {}] }) } } : o));

    const r = await backup(i, p.data);

    expect(r.ok).toBe(false);
    expect(r.lines.slice(1)).toEqual([':warning: Read back a different checksum with 2 record sets.', 'Nothing was pruned: the new export did not verify.']);
    expect(r.failures).toEqual(['the export read back differs from what was written']);
    expect(r.checkpoints).toEqual(['export', 'latest', 'verify']);
    // only the new export and its pointer were added
    expect(await versions(`route53/${zoneId}/`)).toEqual([...before, p.data.key, `route53/${zoneId}/latest.json`].sort());
  });

  it('a read-back with every record set but a different checksum (one TTL changed) fails the run', async () => {
    const i = input();
    const p = await plan(i);
    // the body as written, one record set's TTL changed: the same count, another checksum
    type Body = { transformToString: () => Promise<string> };
    const changed = async (body: Body): Promise<string> => {
      const doc = JSON.parse(await body.transformToString()) as Route53Export;
      const first = doc.recordSets[0];
      if (first) first.TTL = (first.TTL ?? 0) + 1;
      return JSON.stringify(doc);
    };
    rewrite<{ Body?: Body }>(s3(), 'GetObjectCommand', (o, inp) => {
      const body = o.Body;
      return inp.Key === p.data.key && body ? { ...o, Body: { transformToString: () => changed(body) } } : o;
    });

    const r = await backup(i, p.data);

    expect(r.lines[0]).toContain(`Exported *${p.data.records}* record sets`);
    expect(r.ok).toBe(false);
    expect(r.lines[1]).toBe(`:warning: Read back a different checksum with ${p.data.records} record sets.`);
    expect(r.failures).toEqual(['the export read back differs from what was written']);
  });

  it('the same checksum with a record count that differs from the one written still fails (and an empty read-back holds none)', async () => {
    const i = input();
    const p = await plan(i);
    // the body read back is empty: its checksum differs and it holds no record sets
    rewrite<{ Body?: unknown }>(s3(), 'GetObjectCommand', (o, inp) => (inp.Key === p.data.key ? { ...o, Body: { transformToString: async () => '' } } : o));
    const r = await backup(i, p.data);
    expect(r.ok).toBe(false);
    expect(r.lines[1]).toBe(':warning: Read back a different checksum with no record sets readable.');
    // no prune was planned: no "Nothing was pruned" line
    expect(r.lines).toHaveLength(2);
  });

  it('a read-back that is not JSON, or not there at all, fails the verification (not the step), each said as it is; a refused read-back still fails the step', async () => {
    const i = input();
    const p = await plan(i);
    rewrite<{ Body?: unknown }>(s3(), 'GetObjectCommand', (o, inp) => (inp.Key === p.data.key ? { ...o, Body: { transformToString: async () => '{"format":"drbot-route53-exp' } } : o));
    const cut = await backup(i, p.data);
    expect(cut.ok).toBe(false);
    expect(cut.lines[1]).toBe(':warning: Read back a different checksum with no record sets readable.');
    expect(cut.failures).toEqual(['the export read back differs from what was written']);
    undoFaults();

    const j = input();
    const q = await plan(j);
    fail(s3(), 'GetObjectCommand', { name: 'NoSuchKey', message: 'The specified key does not exist.', status: 404 }, { when: (x) => x.Key === q.data.key });
    const gone = await backup(j, q.data);
    expect(gone.ok).toBe(false);
    expect(gone.lines[1]).toBe(':warning: The export was not there when it was read back.');
    expect(gone.failures).toEqual(['the export was not there when it was read back']);
    undoFaults();

    // refused is not "not there": the step fails, naming the call (the driver reports it)
    const k = input();
    const r = await plan(k);
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED, { when: (x) => x.Key === r.data.key });
    const refused = await rig.run((ctx, d, x) => runbook(k).execute(ctx, d, x as typeof k, r.data, { report: async () => {} }), k);
    expect(refused).toMatchObject({ status: 'FAILED', error: `GetObject on \`${BACKUPS}/${r.data.key}\` failed: User is not authorized to perform this action` });
  });

  it('a listing of more pages passes on each part of where the last one stopped, the set identifier too (moto gives none: the first page is rewritten)', async () => {
    const own = await smallZone('r53-paged.example.com');
    const calls: Record<string, unknown>[] = [];
    rewrite<{ ResourceRecordSets?: { Name?: string; Type?: string }[]; IsTruncated?: boolean }>(r53(), 'ListResourceRecordSetsCommand', (o, x) => {
      calls.push(x);
      if (x.StartRecordName) return o;
      const [first, second] = o.ResourceRecordSets ?? [];
      return { ...o, ResourceRecordSets: [first!], IsTruncated: true, NextRecordName: second?.Name, NextRecordType: second?.Type, NextRecordIdentifier: 'weighted-2' };
    });
    const i = input({ zone: own });

    await plan(i);

    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ HostedZoneId: own, StartRecordName: 'r53-paged.example.com.', StartRecordType: expect.any(String), StartRecordIdentifier: 'weighted-2' });
  });

  it('a zone AWS gives no Config for (made without one) is exported as public', async () => {
    const own = await smallZone('r53-noconfig.example.com');
    rewrite<{ HostedZone?: { Config?: unknown } }>(r53(), 'GetHostedZoneCommand', (o) => ({ ...o, HostedZone: { ...o.HostedZone, Config: undefined } }));
    const i = input({ zone: own });
    const r = await backup(i);
    expect((JSON.parse(await text(r.data.key)) as Route53Export).zone).toEqual({ id: own, name: 'r53-noconfig.example.com.', privateZone: false });
  });

  it('retries a 5xx on the second page and still writes every record set', async () => {
    const i = input();
    const p = await plan(i);
    const tries = countTries(r53(), 'ListResourceRecordSetsCommand');
    fail(r53(), 'ListResourceRecordSetsCommand', SERVICE_UNAVAILABLE, { when: (x) => x.StartRecordName !== undefined, times: 1 });
    const r = await backup(i, p.data);
    // page 1, the refused page 2 (not counted: the fault is met first), then the step again: pages 1 and 2
    expect(tries.tries()).toBe(3);
    expect(r.ok).toBe(true);
    expect((JSON.parse(await text(r.data.key)) as Route53Export).recordSets).toHaveLength(RECORDS + 2);
  });

  it('a denied write fails the run naming PutObject and the key; latest still points at the last good export', async () => {
    const good = await backup(input());
    const pointer = await text(`route53/${zoneId}/latest.json`);
    const i = input();
    const p = await plan(i);
    fail(s3(), 'PutObjectCommand', ACCESS_DENIED);

    const r = await rig.run((ctx, d, x) => runbook(i).execute(ctx, d, x as BackupRoute53Input & AnyRunInput, p.data, { report: () => Promise.resolve() }), i);

    expect(r.status).toBe('FAILED');
    expect(r.error).toContain(`PutObject on \`${BACKUPS}/${p.data.key}\``);
    expect(await text(`route53/${zoneId}/latest.json`)).toBe(pointer);
    expect(good.ok).toBe(true);
  });
});

describe('--prune', () => {
  it('deletes drbot\'s exports past retention after the new one verifies, keeping the newest, the pointer\'s target and anything not drbot\'s', async () => {
    const own = await smallZone('r53-prune.example.com');
    const first = await backup(input({ zone: own }));
    const second = await backup(input({ zone: own }));
    const foreign = `route53/${own}/2026-01-01/someone-else.json`;
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: foreign, Body: '{}' }));
    const i = input({ zone: own, prune: true });

    const p = await plan(i, later(30));

    expect(p.data.prune?.map((c) => c.label)).toEqual([first.data.key]);
    expect(p.lines.slice(3)).toEqual([
      `Prune: deletes 1 Route53 export older than 7 days: \`${first.data.key}\` (${new Date().toISOString().slice(0, 10)})`,
      `Prune keeps the newest good copy of each (1), whatever its age; 1 not made by drbot, never touched.`,
    ]);

    const r = await backup(i, p.data);

    expect(r.ok).toBe(true);
    expect(r.checkpoints).toEqual(['export', 'latest', 'verify', 'prune-route53-0']);
    expect(r.lines[2]).toBe(':wastebasket: Pruned 1 old export.');
    const left = await versions(`route53/${own}/`);
    expect(left).not.toContain(first.data.key);
    expect(left).toEqual(expect.arrayContaining([second.data.key, p.data.key, foreign, `route53/${own}/latest.json`]));
  });

  it('a delete refused mid-prune fails the run naming the export; the new export stays good', async () => {
    const own = await smallZone('r53-prune-denied.example.com');
    const first = await backup(input({ zone: own }));
    await backup(input({ zone: own }));
    const i = input({ zone: own, prune: true });
    const p = await plan(i, later(30));
    fail(s3(), 'DeleteObjectCommand', ACCESS_DENIED);
    fail(s3(), 'DeleteObjectsCommand', ACCESS_DENIED);

    const r = await backup(i, p.data);

    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toContain(first.data.key);
    expect(r.lines[1]).toBe(':mag: Verified by reading it back: same checksum, every record set present.');
    expect(r.lines[2]).toBe(':wastebasket: Pruned 0 old exports; 1 could not be deleted.');
    expect(await versions(`route53/${own}/`)).toContain(first.data.key);
    expect(JSON.parse(await text(`route53/${own}/latest.json`))).toMatchObject({ key: p.data.key });
  });

  it('a listing refused at plan skips the prune with a warning, and the export still runs', async () => {
    const i = input({ prune: true });
    fail(s3(), 'ListObjectVersionsCommand', ACCESS_DENIED, { times: 1 });
    const p = await plan(i, later(30));
    expect(p.data.prune).toBeUndefined();
    expect(p.lines[3]).toMatch(/^:warning: Prune skipped: ListObjectVersions/);
    expect(p.lines).toHaveLength(4);
    undoFaults();
    const r = await backup(i, p.data);
    expect(r.ok).toBe(true);
    expect(r.checkpoints).toEqual(['export', 'latest', 'verify']);
  });

  it('with retention forever nothing is planned for deletion', async () => {
    const d = later(30);
    const forever = { ...d, config: { ...d.config, retention: { ...d.config.retention, route53ExportDays: 'forever' as const } } };
    const p = await plan(input({ prune: true }), forever);
    expect(p.data.prune).toEqual([]);
    expect(p.lines[3]).toBe('Prune: no Route53 exports to delete (kept forever) beyond the newest of each.');
  });
});
