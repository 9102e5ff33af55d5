/**
 * The Route53 restore runbook (src/runbooks/restore-route53/runbook.ts, `/dr restore route53`) on
 * its own, against moto: which export its plan reads and refuses, what it counts and shows, and
 * what its execution writes, waits for, verifies and reports, with AWS refusing on the way. The
 * flows through Slack and approval are restore-route53.test.ts (and, where moto differs from AWS,
 * restore-route53-aws-limits.test.ts); these need no local stack, so `npm run mutate` can run them
 * for each mutant. Each test has its own zone, exported by the backup runbook itself.
 *
 * moto answers every change INSYNC at once and enforces no IAM policy: PENDING changes, refusals
 * and lost answers are SDK middleware on the runbook's own clients (test/helpers/faults.ts).
 */
import { type Change, type ChangeResourceRecordSetsCommandInput, type ChangeResourceRecordSetsCommandOutput, type ListResourceRecordSetsCommandOutput, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { seedZone } from '../../src/local/estate';
import type { BackupRoute53Input } from '../../src/runbooks/backup-route53';
import { runbook as backupRunbook } from '../../src/runbooks/backup-route53/runbook';
import type { RestoreRoute53Input } from '../../src/runbooks/restore-route53';
import { type RestoreRoute53Plan, runbook } from '../../src/runbooks/restore-route53/runbook';
import { sha256Hex } from '../../src/runbooks/exports';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, rewrite, sdkError, stub, undoFaults } from '../helpers/faults';
import { applyChanges, countCalls, latestExportKey, readExportDoc, zoneRecords, zoneVsExport } from '../helpers/route53';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);
let n = 0;

const BACKUPS = 'spawn-backups';
const r53 = () => rig.moto().clients.route53('us-east-1');
const s3 = () => rig.s3('us-east-1');
/** Route53's answer to a batch already applied (a retry of one whose answer was lost). */
const ALREADY_EXISTS = { name: 'InvalidChangeBatch', message: '[Tried to create resource record set but it already exists]', status: 400 };

beforeAll(async () => {
  await rig.makeBucket(BACKUPS, 'us-east-1');
});

const rec = (apex: string, name: string, type: string, value: string, ttl = 300): ResourceRecordSet => ({ Name: `${name}.${apex}`, Type: type as ResourceRecordSet['Type'], TTL: ttl, ResourceRecords: [{ Value: value }] });
const upsert = (r: ResourceRecordSet): Change => ({ Action: 'UPSERT', ResourceRecordSet: r });
const del = (r: ResourceRecordSet): Change => ({ Action: 'DELETE', ResourceRecordSet: r });

interface Zone {
  id: string;
  apex: string;
  key: string;
  exported: ResourceRecordSet[];
}

/** A zone of its own with `count` record sets of ours, the config pointed at it, and exported by /dr backup route53. */
async function zone(count = 20, name = `z${++n}.example.com`): Promise<Zone> {
  const id = await seedZone(rig.moto().clients, rig.deps().config, count, name);
  rig.configure({ route53: { hostedZoneId: id } });
  const key = await backup(id);
  return { id, apex: `${name}.`, key, exported: (await readExportDoc(s3(), BACKUPS, key)).recordSets };
}

async function backup(zoneId: string): Promise<string> {
  const i = { kind: 'backup-route53', runId: `b${++n}`, requester: 'UALICE', channel: 'C1', commandText: '/dr backup route53', requestedAt: new Date().toISOString(), dryRun: false, prune: false } as BackupRoute53Input & AnyRunInput;
  const rb = backupRunbook(i);
  const p = await rb.plan(rig.deps(), i);
  const out = await rig.execute(rb, i, p.data);
  expect(out.ok).toBe(true);
  return latestExportKey(s3(), BACKUPS, zoneId);
}

function input(over: Partial<RestoreRoute53Input> = {}): RestoreRoute53Input & AnyRunInput {
  return { kind: 'restore-route53', runId: `r${++n}`, requester: 'UALICE', channel: 'C1', commandText: '/dr restore route53', requestedAt: new Date().toISOString(), deleteExtra: false, dryRun: false, ...over } as RestoreRoute53Input & AnyRunInput;
}

const plan = (i: RestoreRoute53Input) => runbook.plan(rig.deps(), i);
const execute = (i: RestoreRoute53Input & AnyRunInput, p: RestoreRoute53Plan) => rig.execute(runbook, i, p);
const live = (z: Zone) => zoneRecords(r53(), z.id);
/** Where a run keeps the change set it sends (spelled out here: the runbook's own helper is what is tested). */
const setKeyOf = (zoneId: string, runId: string) => `route53-restores/${zoneId}/${runId}.json`;
const put = (key: string, body: string, sha256 = sha256Hex(body)) => s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: key, Body: body, Metadata: { sha256 } }));

/** Changes `count` of the zone's plain record sets (A, AAAA, CNAME, TXT, MX) away from its export: their TTL 999. */
async function ttlDrift(z: Zone, count: number): Promise<void> {
  const moved = z.exported.filter((r) => /^(a|aaaa|cname|txt|mx)-\d+\./.test(r.Name ?? '')).slice(0, count);
  expect(moved).toHaveLength(count);
  await applyChanges(r53(), z.id, moved.map((r) => upsert({ ...r, TTL: 999 })));
}

/** Changes the zone away from its export: one value changed, one deleted, one added (an extra). */
async function drift(z: Zone): Promise<{ changed: ResourceRecordSet; deleted: ResourceRecordSet; extra: ResourceRecordSet }> {
  const a = z.exported.find((r) => r.Name === `a-0.${z.apex}`) as ResourceRecordSet;
  const t = z.exported.find((r) => r.Name === `txt-3.${z.apex}`) as ResourceRecordSet;
  const extra = rec(z.apex, 'extra', 'A', '10.99.0.1');
  await applyChanges(r53(), z.id, [upsert({ ...a, ResourceRecords: [{ Value: '10.66.6.6' }] }), del(t), upsert(extra)]);
  return { changed: a, deleted: t, extra };
}

describe('the plan', () => {
  it('no zone configured, or no export of it yet: refused, saying how to make one', async () => {
    rig.configure({ route53: undefined });
    await expect(plan(input())).rejects.toMatchObject({ code: 'no_zone', message: 'No hosted zone is configured.', hint: 'Set `route53.hostedZoneId` in the drbot config.' });
    const id = await seedZone(rig.moto().clients, rig.deps().config, 10, `z${++n}.example.com`);
    rig.configure({ route53: { hostedZoneId: id } });
    await expect(plan(input())).rejects.toMatchObject({
      code: 'no_export',
      message: `There is no export of zone \`${id}\` in \`s3://${BACKUPS}/route53/${id}/\`, so there is nothing to restore from.`,
      hint: expect.stringContaining('/dr backup route53'),
    });
  });

  it('an export key that is not there, or a latest pointer naming a gone export: refused, each with its own advice', async () => {
    const z = await zone();
    const missing = z.key.replace(/[^/]+\.json$/, 'gone.json');
    await expect(plan(input({ backup: missing }))).rejects.toMatchObject({ code: 'no_export', message: `There is no export \`${missing}\` in \`s3://${BACKUPS}\`.`, hint: expect.stringMatching(/^Check the key/) });
    await s3().send(new DeleteObjectCommand({ Bucket: BACKUPS, Key: z.key }));
    await expect(plan(input())).rejects.toMatchObject({ code: 'no_export', hint: 'The latest pointer names an export that is gone: make a new one with `/dr backup route53`.' });
  });

  it('a latest pointer that is not JSON, or names no export: refused as a pointer it cannot read, with the way round it', async () => {
    const z = await zone(5);
    for (const body of ['{"key": "route53/', JSON.stringify({ key: 7 }), 'null']) {
      await put(`route53/${z.id}/latest.json`, body);
      await expect(plan(input())).rejects.toMatchObject({
        code: 'bad_export_pointer',
        message: `\`s3://${BACKUPS}/route53/${z.id}/latest.json\` is not a pointer drbot can read: it names no export.`,
        hint: 'Run the backup again to rewrite it, or name an export with `--backup KEY`.',
      });
    }
    // naming the export reads no pointer
    expect((await plan(input({ backup: z.key }))).data.key).toBe(z.key);
  });

  it('an export changed after it was written, a document that is not an export, or not JSON: refused', async () => {
    const z = await zone();
    const body = await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: z.key }))).Body?.transformToString();
    const head = await s3().send(new HeadObjectCommand({ Bucket: BACKUPS, Key: z.key }));
    await put(z.key, (body ?? '').replace('"10.0.0.1"', '"10.6.6.6"'), head.Metadata?.sha256);
    await expect(plan(input({ backup: z.key }))).rejects.toMatchObject({
      code: 'export_corrupt',
      message: `The export \`${z.key}\` does not match the checksum it was written with: it changed after \`/dr backup route53\` wrote it.`,
      hint: 'Restore from another export (`--backup KEY`), or make a new one with `/dr backup route53`.',
    });

    for (const doc of ['{"format":"drbot-route53-export/2","recordSets":[],"zone":{}}', '{"format":"drbot-route53-export/1","recordSets":{},"zone":{}}', '{"format":"drbot-route53-export/1","recordSets":[]}', 'not json']) {
      await put(z.key, doc);
      await expect(plan(input({ backup: z.key }))).rejects.toMatchObject({
        code: 'not_an_export',
        message: `\`${z.key}\` is not a Route53 export written by \`/dr backup route53\`.`,
        hint: 'Name an export key (`route53/ZONE-ID/YYYY-MM-DD/RUN-ID.json`), or use `--latest`.',
      });
    }
    // no checksum in its metadata: read as it is
    await s3().send(new PutObjectCommand({ Bucket: BACKUPS, Key: z.key, Body: body }));
    expect((await plan(input({ backup: z.key }))).empty).toBe(true);
  });

  it("an export of another zone is refused; one of a zone of the same name (recreated) is accepted and said so", async () => {
    const a = await zone(10);
    const b = await zone(10);
    await expect(plan(input({ backup: a.key }))).rejects.toMatchObject({
      code: 'export_other_zone',
      message: `The export \`${a.key}\` is of zone \`${a.id}\` (\`${a.apex}\`), not of \`${b.id}\` (\`${b.apex}\`).`,
      hint: 'Name an export of this zone with `--backup`, or use `--latest`.',
    });
    const again = await seedZone(rig.moto().clients, rig.deps().config, 10, b.apex.slice(0, -1));
    rig.configure({ route53: { hostedZoneId: again } });
    const p = await plan(input({ backup: b.key }));
    expect(p.lines[1]).toBe(`The export is of zone \`${b.id}\`, which had the same name (the zone was recreated).`);
    expect(p.data.zoneId).toBe(again);
  });

  it('the export refused by S3 (AccessDenied): that refusal said, not "no export"; a backup bucket that is gone: no export there', async () => {
    const z = await zone(10);
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED, { when: (x) => x.Key === z.key });
    await expect(plan(input({ backup: z.key }))).rejects.toMatchObject({
      code: 'aws_access_denied',
      message: `GetObject on \`${BACKUPS}/${z.key}\` failed: User is not authorized to perform this action`,
    });
    undoFaults();

    // S3 answers NoSuchBucket (404), not NoSuchKey
    rig.configure({ backupBucket: 'spawn-backups-gone' });
    try {
      await expect(plan(input({ backup: z.key }))).rejects.toMatchObject({ code: 'no_export', message: `There is no export \`${z.key}\` in \`s3://spawn-backups-gone\`.` });
    } finally {
      rig.configure({ backupBucket: BACKUPS });
    }
  });

  it('counts what it creates, changes and keeps, and shows samples; --delete-extra deletes the extras; a dry run says would', async () => {
    const z = await zone();
    const { changed, deleted, extra } = await drift(z);

    const p = await plan(input());
    const x = await plan(input({ deleteExtra: true, dryRun: true }));

    expect(p.empty).toBe(false);
    expect(p.data).toEqual({ bucket: BACKUPS, zoneId: z.id, zoneName: z.apex, key: z.key, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), create: 1, change: 1, remove: 0, kept: 1, blocked: 0, batches: 1 });
    // the 20 of the seed and the SOA and apex NS
    expect(p.lines[0]).toMatch(new RegExp(`^Zone \`${z.apex.replace(/\./g, '\\.')}\` \\(\`${z.id}\`\\) from the export \`${z.key.replace(/\./g, '\\.')}\`: 22 record sets, exported <!date\\^\\d+\\^`));
    expect(p.lines.slice(1)).toEqual([
      '*1* to create, *1* to change, *0* to delete',
      'They will be written in 1 change batch (≤ 1,000 records and 32,000 value characters each, an UPSERT counting twice), each waited for until INSYNC; then the zone is listed and compared with the export',
      `Create: \`${deleted.Name} TXT\``,
      `Change: \`${changed.Name} A\` (values)`,
      `Kept: *1* record set not in the export (\`--delete-extra\` deletes it), e.g. \`${extra.Name} A\``,
      `Never touched: the SOA and the apex NS. Already as in the export: 18 record sets.`,
    ]);
    expect(x.data).toMatchObject({ create: 1, change: 1, remove: 1, kept: 0 });
    expect(x.lines).toContain('*1* to create, *1* to change, *1* to delete');
    expect(x.lines).toContain(`Delete (not in the export): \`${extra.Name} A\``);
    expect(x.lines.find((l) => l.startsWith('They '))).toMatch(/^They would be written in 1 change batch/);

    // one change and one deletion (--delete-extra): two changes to make, not an empty plan
    await applyChanges(r53(), z.id, [upsert(deleted)]);
    const y = await plan(input({ deleteExtra: true }));
    expect(y.empty).toBe(false);
    expect(y.data).toMatchObject({ create: 0, change: 1, remove: 1, batches: 1 });
    expect(y.lines).toContain('They will be written in 1 change batch (≤ 1,000 records and 32,000 value characters each, an UPSERT counting twice), each waited for until INSYNC; then the zone is listed and compared with the export');
  });

  it('samples: five of more than five to create or change, then an ellipsis; exactly five, none; each change with every field that differs', async () => {
    const z = await zone();
    const named = (label: string) => z.exported.find((r) => r.Name === `${label}.${z.apex}`) as ResourceRecordSet;
    const changed = ['a-0', 'aaaa-1', 'cname-2', 'txt-3', 'mx-4', 'a-5'].map(named);
    const deleted = ['aaaa-6', 'cname-7', 'txt-8', 'mx-9', 'a-10'].map(named);
    await applyChanges(r53(), z.id, [
      upsert({ ...named('a-0'), TTL: 60, ResourceRecords: [{ Value: '10.66.6.6' }] }),
      ...changed.slice(1).map((r) => upsert({ ...r, TTL: 60 })),
      ...deleted.map(del),
    ]);
    // in the export's order, as the plan lists them
    const inOrder = (rs: ResourceRecordSet[]) => z.exported.filter((r) => rs.includes(r));
    const label = (r: ResourceRecordSet) => `\`${r.Name} ${r.Type}\``;
    const fields = (r: ResourceRecordSet) => (r.Name === `a-0.${z.apex}` ? 'TTL, values' : 'TTL');

    const p = await plan(input());
    expect(p.data).toMatchObject({ create: 5, change: 6 });
    expect(p.lines).toContain(`Create: ${inOrder(deleted).map(label).join(', ')}`);
    expect(p.lines).toContain(`Change: ${inOrder(changed).slice(0, 5).map((r) => `${label(r)} (${fields(r)})`).join(', ')}, …`);

    // one change put back, one more record set gone: six to create, five to change
    const www = named('www');
    await applyChanges(r53(), z.id, [upsert(named('a-5')), del(www)]);
    const q = await plan(input());
    expect(q.data).toMatchObject({ create: 6, change: 5 });
    expect(q.lines).toContain(`Create: ${inOrder([...deleted, www]).slice(0, 5).map(label).join(', ')}, …`);
    expect(q.lines).toContain(`Change: ${inOrder(changed.slice(0, 5)).map((r) => `${label(r)} (${fields(r)})`).join(', ')}`);
  });

  it('names held by record sets the export lacks: blocked and said (three of four shown); the zone as exported: nothing to do, and nothing else said', async () => {
    const z = await zone();
    const held = ['a-0', 'aaaa-1', 'a-5', 'a-10'].map((l) => z.exported.find((r) => r.Name === `${l}.${z.apex}`) as ResourceRecordSet);
    await applyChanges(r53(), z.id, [...held.map(del), ...held.map((r) => upsert({ Name: r.Name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'elsewhere.example.' }] }))]);
    const i = input();
    const p = await plan(i);
    expect(p.data).toMatchObject({ create: 0, blocked: 4, kept: 4 });
    const shown = z.exported.filter((r) => held.includes(r)).slice(0, 3);
    expect(p.lines).toContain(
      `:warning: *4* record sets cannot be restored while live record sets not in the export hold their names, e.g. ${shown.map((r) => `\`${r.Name} ${r.Type}\` (in the way: \`${r.Name} CNAME\`)`).join(', ')}; \`--delete-extra\` replaces them in the same batch`,
    );
    expect(p.lines.find((l) => l.startsWith('Kept: '))).toMatch(/^Kept: \*4\* record sets not in the export \(`--delete-extra` deletes them\), e\.g\. /);
    // run: no batch, and the four named in the plural
    const out = await execute(i, p.data);
    expect(out.lines[0]).toBe(
      `Nothing the run could write in \`${z.apex}\`: the only differences, *4* record sets from the export, are blocked by live record sets not in the export that hold their names (\`--delete-extra\` replaces them).`,
    );
    expect(out.ok).toBe(false);

    const same = await zone();
    const e = await plan(input());
    expect(e.empty).toBe(true);
    expect(e.data).toMatchObject({ create: 0, change: 0, remove: 0, batches: 0, zoneId: same.id });
    expect(e.lines).toEqual([
      expect.stringMatching(/^Zone `[^`]+` \(`[^`]+`\) from the export `[^`]+`: 22 record sets, exported <!date/),
      '*0* to create, *0* to change, *0* to delete',
      'Never touched: the SOA and the apex NS. Already as in the export: 20 record sets.',
    ]);
  });

  it('record sets of a traffic policy: never touched, and counted apart', async () => {
    // moto has no traffic policy instances: its listing shows www as one's, to the backup and the restore alike
    rewrite<ListResourceRecordSetsCommandOutput>(r53(), 'ListResourceRecordSetsCommand', (o) => ({
      ...o,
      ResourceRecordSets: (o.ResourceRecordSets ?? []).map((r) => (r.Name?.startsWith('www.') ? { ...r, TrafficPolicyInstanceId: 'tpi-1' } : r)),
    }));
    await zone();
    const p = await plan(input());
    expect(p.empty).toBe(true);
    expect(p.lines[p.lines.length - 1]).toBe('Never touched: the SOA and the apex NS, and 1 record set of traffic policies. Already as in the export: 19 record sets.');

    // two of them: in the plural
    undoFaults();
    rewrite<ListResourceRecordSetsCommandOutput>(r53(), 'ListResourceRecordSetsCommand', (o) => ({
      ...o,
      ResourceRecordSets: (o.ResourceRecordSets ?? []).map((r) => (r.Name?.startsWith('www.') || r.Name?.startsWith('a-0.') ? { ...r, TrafficPolicyInstanceId: 'tpi-1' } : r)),
    }));
    await zone();
    const two = await plan(input());
    expect(two.lines.at(-1)).toBe('Never touched: the SOA and the apex NS, and 2 record sets of traffic policies. Already as in the export: 18 record sets.');
  });

  it('title and resources: the typed zone, else the plan\'s', () => {
    expect(runbook.title(input())).toBe('Restore the Route53 zone from an export');
    expect(runbook.title(input({ zone: 'Z123' }))).toBe('Restore Route53 zone Z123 from an export');
    expect(runbook.resources?.(input({ zone: '/hostedzone/Z123' }))).toEqual(['route53:Z123']);
    expect(runbook.resources?.(input())).toEqual([]);
    expect(runbook.resources?.(input({ zone: 'Z123' }), { zoneId: 'Z9' } as RestoreRoute53Plan)).toEqual(['route53:Z9']);
  });
});

describe('the execution', () => {
  it('writes the differences in one batch, keeps the change set in the bucket, and verifies the zone equals the export (extras kept)', async () => {
    const z = await zone();
    const { extra } = await drift(z);
    const i = input();
    const p = await plan(i);
    const asks = countTries(r53(), 'GetChangeCommand');

    const out = await execute(i, p.data);

    expect(zoneVsExport(await live(z), z.exported, z.apex, { extrasAllowed: [`${extra.Name}|A|`] })).toEqual([]);
    // the batch was answered INSYNC: no GetChange to wait for it
    expect(asks.tries()).toBe(0);
    asks.undo();
    expect((await live(z)).get(`${extra.Name}|A|`)).toBeDefined();
    expect(out.ok).toBe(true);
    expect(out.failures).toEqual([]);
    expect(out.reports).toEqual([[2, 2, 'changes applied']]);
    const setKey = setKeyOf(z.id, i.runId);
    expect(out.lines).toEqual([
      `Applied *2* of 2 changes to \`${z.apex}\` in 1 of 1 change batch: 1 created, 1 changed, 0 deleted.`,
      'Route53 reported every applied batch INSYNC (on all its name servers).',
      ':mag: Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences. 1 record set not in the export was kept (`--delete-extra` deletes it).',
      `The change set sent is kept at \`s3://${BACKUPS}/${setKey}\`.`,
    ]);
    const kept = await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: setKey }));
    const body = (await kept.Body?.transformToString()) ?? '';
    expect(kept.Metadata).toEqual({ 'drbot-run': i.runId, sha256: sha256Hex(body), 'zone-id': z.id, batches: '1' });
    expect(JSON.parse(body)).toMatchObject({ format: 'drbot-route53-changes/1', runId: i.runId, zoneId: z.id, export: z.key, batches: [[{ Action: 'UPSERT' }, { Action: 'UPSERT' }]] });
  });

  it('--delete-extra: the extra is deleted, and the zone then equals the export exactly', async () => {
    const z = await zone();
    await drift(z);
    const i = input({ deleteExtra: true });
    const out = await execute(i, (await plan(i)).data);
    expect(zoneVsExport(await live(z), z.exported, z.apex)).toEqual([]);
    expect(out.lines[0]).toBe(`Applied *3* of 3 changes to \`${z.apex}\` in 1 of 1 change batch: 1 created, 1 changed, 1 deleted.`);
    expect(out.lines).toContain(':mag: Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences.');
  });

  it('more than one batch: 600 changes in two, AccessDenied on the second: the first applied, the second named, the differences left said', async () => {
    const z = await zone(620);
    const moved = z.exported.filter((r) => /^(a|aaaa|cname|txt|mx)-\d+\./.test(r.Name ?? '')).slice(0, 600);
    expect(moved).toHaveLength(600);
    await applyChanges(r53(), z.id, moved.map((r) => upsert({ ...r, TTL: 999 })));
    const i = input();
    const p = await plan(i);
    expect(p.data).toMatchObject({ change: 600, batches: 2 });
    expect(p.lines).toContain('They will be written in 2 change batches (≤ 1,000 records and 32,000 value characters each, an UPSERT counting twice), each waited for until INSYNC; then the zone is listed and compared with the export');
    let sent = 0;
    fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED, { when: () => ++sent > 1 });

    const out = await execute(i, p.data);

    const left = zoneVsExport(await live(z), z.exported, z.apex);
    expect(left).toHaveLength(100);
    expect(out.ok).toBe(false);
    expect(out.reports).toEqual([[500, 600, 'changes applied']]);
    expect(out.lines[0]).toBe(`Applied *500* of 600 changes to \`${z.apex}\` in 1 of 2 change batches: 0 created, 500 changed, 0 deleted.`);
    expect(out.lines[2]).toMatch(/^:x: Stopped at batch 2 of 2: .*not authorized/);
    expect(out.lines[3]).toBe('Applied: batch 1 (0 created, 500 changed, 0 deleted). Not applied: batch 2 (100 changes: 0 to create, 100 to change, 0 to delete). Run the command again once that is fixed: it diffs afresh and applies only what still differs.');
    expect(out.lines[4]).toMatch(/^:warning: Verified by listing: \*100\* differences from the export remain, e\.g\. (`[^`]+`, ){5}…\.$/);
    expect(out.failures).toEqual([expect.stringMatching(/^batch 2: .*not authorized/), '100 differences from the export remain after the restore']);
  });

  it('two batches, the first refused: nothing applied, both named; run again with both answers lost: each found applied, sent once with its own comment', async () => {
    const z = await zone(620);
    await ttlDrift(z, 600);
    const i = input();
    const p = await plan(i);
    const undoDenied = fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED);
    const out = await execute(i, p.data);
    undoDenied();
    expect(zoneVsExport(await live(z), z.exported, z.apex)).toHaveLength(600);
    expect(out.lines[0]).toBe(`Applied *0* of 600 changes to \`${z.apex}\` in 0 of 2 change batches: 0 created, 0 changed, 0 deleted.`);
    expect(out.lines[2]).toBe(
      'Applied: nothing. Not applied: batches 1–2 (600 changes: 0 to create, 600 to change, 0 to delete). Run the command again once that is fixed: it diffs afresh and applies only what still differs.',
    );

    const sent = countCalls(r53(), 'ChangeResourceRecordSetsCommand');
    rewrite(r53(), 'ChangeResourceRecordSetsCommand', () => {
      throw sdkError(ALREADY_EXISTS);
    });
    const j = input();
    const again = await execute(j, (await plan(j)).data);
    sent.undo();
    expect(sent.inputs.map((x) => (x.ChangeBatch as ChangeResourceRecordSetsCommandInput['ChangeBatch'] | undefined)?.Comment)).toEqual([`drbot ${j.runId}: restore batch 1 of 2`, `drbot ${j.runId}: restore batch 2 of 2`]);
    expect(zoneVsExport(await live(z), z.exported, z.apex)).toEqual([]);
    expect(again.ok).toBe(true);
    expect(again.lines[1]).toBe('2 batches were found already applied when retried (an earlier answer was lost), and not sent twice.');
  });

  it('two batches PENDING: GetChange refused for both, said once for both; still PENDING after 35 checks each: both named', async () => {
    const z = await zone(620);
    const ids: string[] = [];
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (o) => {
      ids.push(String(o.ChangeInfo?.Id).replace(/^\/change\//, ''));
      return { ...o, ChangeInfo: { ...o.ChangeInfo!, Status: 'PENDING' } };
    });
    await ttlDrift(z, 600);
    ids.length = 0;
    const undoDenied = fail(r53(), 'GetChangeCommand', ACCESS_DENIED);
    const i = input();
    const denied = await execute(i, (await plan(i)).data);
    undoDenied();
    expect(ids).toHaveLength(2);
    expect(denied.lines).toContain(
      `:warning: Could not ask Route53 whether 2 batches are INSYNC (GetChange): ${ids.map((id, k) => `batch ${k + 1}: GetChange on \`${id}\` failed: User is not authorized to perform this action`).join('; ')}. The changes are made; only their propagation is unconfirmed.`,
    );
    expect(denied.ok).toBe(true);

    await ttlDrift(z, 600);
    let checks = 0;
    stub(r53(), 'GetChangeCommand', (x) => ({ ChangeInfo: { Id: String(x.Id), Status: (++checks, 'PENDING'), SubmittedAt: new Date() } }));
    const j = input();
    const slow = await execute(j, (await plan(j)).data);
    expect(checks).toBe(70);
    expect(slow.lines).toContain(':hourglass: batches 1, 2 not INSYNC after 15 min of checking; Route53 still propagates them.');
    expect(zoneVsExport(await live(z), z.exported, z.apex)).toEqual([]);
  });

  it('four batches PENDING with GetChange refused: all four counted, the first three named (the line stays short)', async () => {
    const name = `z${++n}.example.com`;
    const id = await seedZone(rig.moto().clients, rig.deps().config, 10, name);
    rig.configure({ route53: { hostedZoneId: id } });
    const apex = `${name}.`;
    // 42 values of 194 characters: 8,148, which an UPSERT counts twice (16,296), so two do not fit in a batch's 32,000: one a batch.
    const big = [0, 1, 2, 3].map((k): ResourceRecordSet => ({ Name: `big-${k}.${apex}`, Type: 'TXT', TTL: 300, ResourceRecords: Array.from({ length: 42 }, (_, j) => ({ Value: `"${k}-${String(j).padStart(2, '0')}-${'x'.repeat(187)}"` })) }));
    // Set up in one call over the limit: moto does not check it (the runbook under test does).
    await applyChanges(r53(), id, big.map(upsert));
    const key = await backup(id);
    const exported = (await readExportDoc(s3(), BACKUPS, key)).recordSets;
    await applyChanges(r53(), id, big.map((r) => upsert({ ...r, TTL: 999 })));
    const ids: string[] = [];
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (o) => {
      ids.push(String(o.ChangeInfo?.Id).replace(/^\/change\//, ''));
      return { ...o, ChangeInfo: { ...o.ChangeInfo!, Status: 'PENDING' } };
    });
    fail(r53(), 'GetChangeCommand', ACCESS_DENIED);
    const i = input();
    const out = await execute(i, (await plan(i)).data);
    expect(ids).toHaveLength(4);
    expect(zoneVsExport(await live({ id, apex, key, exported }), exported, apex)).toEqual([]);
    expect(out.lines).toContain(
      `:warning: Could not ask Route53 whether 4 batches are INSYNC (GetChange): ${ids
        .slice(0, 3)
        .map((c, k) => `batch ${k + 1}: GetChange on \`${c}\` failed: User is not authorized to perform this action`)
        .join('; ')}. The changes are made; only their propagation is unconfirmed.`,
    );
    expect(out.ok).toBe(true);
  });

  it('the change set cannot be read back (AccessDenied): nothing applied, the key and the refusal said', async () => {
    const z = await zone();
    await drift(z);
    const i = input();
    const p = await plan(i);
    const setKey = setKeyOf(z.id, i.runId);
    fail(s3(), 'GetObjectCommand', ACCESS_DENIED, { when: (x) => x.Key === setKey });
    const before = await live(z);
    const out = await execute(i, p.data);
    expect(await live(z)).toEqual(before);
    expect(out.ok).toBe(false);
    expect(out.lines[1]).toBe(
      `:x: Stopped at batch 1 of 1: GetObject on \`${BACKUPS}/${setKey}\` failed: User is not authorized to perform this action. Grant the bot's role permission for \`GetObject\` on this resource (see template.yaml).`,
    );
  });

  it('the export gone by the time of the check: the changes reported made, the check not done, the run failed', async () => {
    const z = await zone();
    const { extra } = await drift(z);
    const i = input();
    const p = await plan(i);
    // S3's answer for a deleted key, from the second read of the export on (the first is the run's diff)
    let reads = 0;
    fail(s3(), 'GetObjectCommand', { name: 'NoSuchKey', message: 'The specified key does not exist.', status: 404 }, { when: (x) => x.Key === z.key && ++reads > 1 });
    const out = await execute(i, p.data);
    expect(zoneVsExport(await live(z), z.exported, z.apex, { extrasAllowed: [`${extra.Name}|A|`] })).toEqual([]);
    expect(out.ok).toBe(false);
    expect(out.lines).toEqual([
      `Applied *2* of 2 changes to \`${z.apex}\` in 1 of 1 change batch: 1 created, 1 changed, 0 deleted.`,
      'Route53 reported every applied batch INSYNC (on all its name servers).',
      `:warning: Could not verify by listing the zone: The export \`${z.key}\` went away during the run. Compare the zone by hand or make a new export.`,
      `The change set sent is kept at \`s3://${BACKUPS}/${setKeyOf(z.id, i.runId)}\`.`,
    ]);
    expect(out.failures).toEqual([`verify: The export \`${z.key}\` went away during the run.`]);
  });

  it('a blocked record set is not written without --delete-extra: the rest applied, the run failed, the difference named', async () => {
    const z = await zone();
    const a = z.exported.find((r) => r.Name === `a-0.${z.apex}`) as ResourceRecordSet;
    const t = z.exported.find((r) => r.Name === `txt-3.${z.apex}`) as ResourceRecordSet;
    const cname = rec(z.apex, 'a-0', 'CNAME', 'elsewhere.example.');
    await applyChanges(r53(), z.id, [del(a), upsert(cname), upsert({ ...t, TTL: 60 })]);
    const i = input();
    const p = await plan(i);
    expect(p.data).toMatchObject({ change: 1, blocked: 1 });
    expect(p.lines).toContain(
      `:warning: *1* record set cannot be restored while a live record set not in the export holds its name, e.g. \`${a.Name} A\` (in the way: \`${cname.Name} CNAME\`); \`--delete-extra\` replaces it in the same batch`,
    );
    const out = await execute(i, p.data);
    expect(zoneVsExport(await live(z), z.exported, z.apex, { extrasAllowed: [`${cname.Name}|CNAME|`] })).toEqual([`missing ${a.Name}|A|`]);
    expect(out.ok).toBe(false);
    // a batch was written (the TXT change): its line, not "nothing the run could write"
    expect(out.lines[0]).toBe(`Applied *1* of 1 change to \`${z.apex}\` in 1 of 1 change batch: 0 created, 1 changed, 0 deleted.`);
    expect(out.lines).toContain(`:warning: Verified by listing: *1* difference from the export remains, e.g. \`${a.Name} A\`.`);
    expect(out.failures).toEqual(['1 difference from the export remains after the restore']);

    // run again: only the blocked record set differs, so there is no batch, and the run says why
    const j = input();
    const again = await execute(j, (await plan(j)).data);
    expect(again.lines.slice(0, 2)).toEqual([
      `Nothing the run could write in \`${z.apex}\`: the only difference, *1* record set from the export, is blocked by a live record set not in the export that holds its name (\`--delete-extra\` replaces it).`,
      `:warning: Verified by listing: *1* difference from the export remains, e.g. \`${a.Name} A\`.`,
    ]);
    expect(again.ok).toBe(false);
  });

  it('the first batch refused: nothing applied, said so', async () => {
    const z = await zone();
    await drift(z);
    const i = input();
    const p = await plan(i);
    fail(r53(), 'ChangeResourceRecordSetsCommand', ACCESS_DENIED);
    const out = await execute(i, p.data);
    expect(out.lines[0]).toBe(`Applied *0* of 2 changes to \`${z.apex}\` in 0 of 1 change batch: 0 created, 0 changed, 0 deleted.`);
    expect(out.lines).not.toContain('Route53 reported every applied batch INSYNC (on all its name servers).');
    expect(out.lines[1]).toBe(
      `:x: Stopped at batch 1 of 1: ChangeResourceRecordSets on \`${z.id}\` failed: User is not authorized to perform this action. Grant the bot's role permission for \`ChangeResourceRecordSets\` on this resource (see template.yaml).`,
    );
    expect(out.lines[2]).toMatch(/^Applied: nothing\. Not applied: batch 1 \(2 changes: 1 to create, 1 to change, 0 to delete\)\./);
  });

  it("a batch whose answer was lost, refused when sent again, is found applied and not counted a failure; one refused outright is reported with Route53's reason", async () => {
    const z = await zone();
    await drift(z);
    // a second record set not in the export: both kept, counted in the plural
    await applyChanges(r53(), z.id, [upsert(rec(z.apex, 'extra-2', 'A', '10.99.0.2'))]);
    const i = input();
    const p = await plan(i);
    // moto applies the batch; the answer is an InvalidChangeBatch, as a retry of an applied batch gets
    const sends = countTries(r53(), 'ChangeResourceRecordSetsCommand');
    const undo = rewrite(r53(), 'ChangeResourceRecordSetsCommand', () => {
      throw sdkError(ALREADY_EXISTS);
    });

    const out = await execute(i, p.data);
    undo();

    expect(out.ok).toBe(true);
    expect(out.lines).toEqual([
      `Applied *2* of 2 changes to \`${z.apex}\` in 1 of 1 change batch: 1 created, 1 changed, 0 deleted.`,
      'One batch was found already applied when retried (an earlier answer was lost), and not sent twice.',
      'Route53 reported every applied batch INSYNC (on all its name servers).',
      ':mag: Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences. 2 record sets not in the export were kept (`--delete-extra` deletes them).',
      `The change set sent is kept at \`s3://${BACKUPS}/${setKeyOf(z.id, i.runId)}\`.`,
    ]);
    expect(sends.tries()).toBe(1);
    sends.undo();

    await drift(z);
    const j = input();
    const q = await plan(j);
    // Route53 lists every error of a batch in one message: only its first 300 characters are shown
    const reasons = Array.from({ length: 8 }, (_, k) => `RRSet of type CNAME with DNS name c-${k}.example.com. is not permitted`);
    const reason = `[${reasons.join(', ')}]`;
    expect(reason.length).toBeGreaterThan(300);
    fail(r53(), 'ChangeResourceRecordSetsCommand', sdkError({ name: 'InvalidChangeBatch', message: reason, status: 400 }));
    const refused = await execute(j, q.data);
    expect(refused.ok).toBe(false);
    expect(refused.lines[1]).toBe(
      `:x: Stopped at batch 1 of 1: Route53 refused the change batch: ${reason.slice(0, 300)}. Route53 applies a batch whole or not at all, so nothing of this batch was applied. A record set changed since the plan may stand in the way: run the command again to diff afresh.`,
    );
  });

  it('a change PENDING: waited for until INSYNC; still PENDING after 35 checks in 15 min, or GetChange refused: said, and still verified', async () => {
    const z = await zone();
    await drift(z);
    rewrite<ChangeResourceRecordSetsCommandOutput>(r53(), 'ChangeResourceRecordSetsCommand', (o) => ({ ...o, ChangeInfo: { ...o.ChangeInfo!, Status: 'PENDING' } }));
    let checks = 0;
    const undoGet = stub(r53(), 'GetChangeCommand', (x) => ({ ChangeInfo: { Id: String(x.Id), Status: ++checks >= 3 ? 'INSYNC' : 'PENDING', SubmittedAt: new Date() } }));
    const i = input();
    const out = await execute(i, (await plan(i)).data);
    undoGet();
    expect(checks).toBe(3);
    expect(out.lines).toContain('Route53 reported every applied batch INSYNC (on all its name servers).');
    expect(out.ok).toBe(true);

    await drift(z);
    let slow = 0;
    const undoSlow = stub(r53(), 'GetChangeCommand', (x) => ({ ChangeInfo: { Id: String(x.Id), Status: (++slow, 'PENDING'), SubmittedAt: new Date() } }));
    const j = input();
    const pending = await rig.executeWatched(runbook, j, (await plan(j)).data);
    undoSlow();
    expect(slow).toBe(35);
    // every 10 s in the first minute, then every 30 s (durable waits, the time skipped): the last check at 15 min
    expect(pending.delays).toEqual({ 'insync-0': [...Array<number>(6).fill(10), ...Array<number>(28).fill(30)] });
    expect(pending.lines).toContain(':hourglass: batch 1 not INSYNC after 15 min of checking; Route53 still propagates it.');
    expect(pending.lines).not.toContain('Route53 reported every applied batch INSYNC (on all its name servers).');
    expect(pending.lines).toContain(':mag: Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences. 1 record set not in the export was kept (`--delete-extra` deletes it).');

    await drift(z);
    fail(r53(), 'GetChangeCommand', ACCESS_DENIED);
    const k = input();
    const denied = await execute(k, (await plan(k)).data);
    expect(denied.lines.find((l) => l.startsWith(':warning: Could not ask'))).toMatch(/^:warning: Could not ask Route53 whether a batch is INSYNC \(GetChange\): batch 1: .*not authorized.*\. The changes are made; only their propagation is unconfirmed\.$/);
    expect(denied.ok).toBe(true);
  });

  it('the export changed between plan and run: nothing changed; the change set altered while the run applies it: stopped', async () => {
    const z = await zone();
    await drift(z);
    const i = input();
    const p = await plan(i);
    await backup(z.id).then(async (newer) => {
      // the planned key itself rewritten (same key, other content)
      const body = await (await s3().send(new GetObjectCommand({ Bucket: BACKUPS, Key: newer }))).Body?.transformToString();
      await put(z.key, body ?? '');
    });
    const before = await live(z);

    const out = await execute(i, p.data);

    expect(await live(z)).toEqual(before);
    expect(out).toMatchObject({
      ok: false,
      lines: [`:x: Nothing was changed: The export \`${z.key}\` changed or went away after the plan was made. Run the command again to plan from the export as it is now.`],
      failures: [`The export \`${z.key}\` changed or went away after the plan was made.`],
    });

    const y = await zone();
    await drift(y);
    const j = input();
    const q = await plan(j);
    stub(s3(), 'GetObjectCommand', (x) => (x.Key === setKeyOf(y.id, j.runId) ? { Body: { transformToString: async () => '{"batches":[[]]}' } as never } : undefined));
    const altered = await execute(j, q.data);
    expect(altered.lines[1]).toBe(`:x: Stopped at batch 1 of 1: The change set \`${setKeyOf(y.id, j.runId)}\` changed while the run was applying it. Run the command again: it diffs afresh.`);
  });

  it('the zone cannot be listed for the check: the changes are reported made, the check not done, the run failed', async () => {
    const z = await zone();
    await drift(z);
    const i = input();
    const p = await plan(i);
    let lists = 0;
    fail(r53(), 'ListResourceRecordSetsCommand', ACCESS_DENIED, { when: () => ++lists > 1 });
    const out = await execute(i, p.data);
    expect(out.ok).toBe(false);
    expect(out.lines[0]).toBe(`Applied *2* of 2 changes to \`${z.apex}\` in 1 of 1 change batch: 1 created, 1 changed, 0 deleted.`);
    expect(out.lines).toContainEqual(expect.stringMatching(/^:warning: Could not verify by listing the zone: .*not authorized/));
    expect(out.failures).toEqual([expect.stringMatching(/^verify: .*not authorized/)]);
  });

  it('nothing left to change when the run starts (the zone put back meanwhile): said, no change set', async () => {
    const z = await zone();
    const { changed, deleted, extra } = await drift(z);
    const i = input();
    const p = await plan(i);
    await applyChanges(r53(), z.id, [upsert(changed), upsert(deleted), del(extra)]);
    const out = await execute(i, p.data);
    expect(out.lines).toEqual([`Nothing left to change in \`${z.apex}\`: the zone already matched the export when the run started.`, ':mag: Verified by listing: the zone equals the export (SOA and apex NS aside): *0* differences.']);
    expect(out.ok).toBe(true);
  });
});
