/**
 * Section 9 (issue 10): a Route53 restore of RECORDS record sets on moto, after CHANGED of them were
 * changed and DELETED deleted, three ways, each from the same damaged zone and the same export:
 *
 *   (a) the runbook's restore-route53.sh (dr-runbook.md, "Restore DNS records"), as written, with
 *       bash, jq and AWS CLI v1, pointed at the same moto by an `aws` shim on PATH that adds
 *       `--endpoint-url`. It sends every record set in one UPSERT batch; AWS (and moto) refuse
 *       more than 1,000 ResourceRecord elements a batch, an UPSERT counting twice, so above 500
 *       record sets it cannot work. Its outcome is reported as it is: its exit code, what it
 *       printed, and the zone after it.
 *   (b) a plain chunked UPSERT loop: every exported record set (SOA and NS aside) UPSERTed 500 a
 *       call, one call at a time, no diff, no verify; its verify listing is timed apart.
 *   (c) drbot: the whole product path in the local stack — `/dr restore route53` from an operator
 *       (plan posted, not timed), an approver's Approve click, timed from the click to the durable
 *       runner being idle (the diff, the change set written, batches of 500 UPSERTs, INSYNC checks,
 *       the verify listing, the report).
 * Correctness first: after each way the zone is listed and compared with the export record by
 * record (differences = missing + different + extra). Then time.
 *
 * moto costs: CREATE and DELETE scan the zone's whole change journal, so the zone is seeded with
 * UPSERTs, and the record sets deleted are the first seeded (their journal entries come first).
 * Run alone with `npx tsx bench/route53-restore.ts`; BENCH_ZONE_RECORDS changes the size.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Change, ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import { parseConfig } from '../src/config/load';
import { sandboxRecords, seedBackupBucket } from '../src/local/estate';
import { SANDBOX_CREDENTIALS } from '../src/local/moto';
import type { LocalStack } from '../src/local/stack';
import { latestKey, readZone, type Route53Export } from '../src/runbooks/backup-route53/runbook';
import { putObject, readLatest, sha256Hex } from '../src/runbooks/exports';
import { differences, diffZone, isZoneOwned } from '../src/runbooks/restore-route53/diff';
import { readExport } from '../src/runbooks/restore-route53/runbook';
import { ACTION_APPROVE } from '../src/slack/views/run';
import { benchStack } from './stack';
import { tempDir } from './util';

const ZONE = 'bench.example.com';
const APEX = `${ZONE}.`;
const BUCKET = 'drbot-bench-backups';
const OPERATOR = 'UBENCHOPS';
const APPROVER = 'UBENCHAPPR';
const CHANNEL = 'CBENCHOPS';
const UPSERTS_PER_CALL = 500;

/** restore-route53.sh from dr-runbook.md, as written there. */
const RESTORE_ROUTE53_SH = `#!/bin/bash
# restore-route53.sh

BACKUP_FILE=$1
HOSTED_ZONE_ID=$2

# Convert to change batch format
jq '{
  "Changes": [
    .ResourceRecordSets[] |
    select(.Type != "NS" and .Type != "SOA") |
    {
      "Action": "UPSERT",
      "ResourceRecordSet": .
    }
  ]
}' $BACKUP_FILE > changes.json

# Apply changes
aws route53 change-resource-record-sets \\
  --hosted-zone-id $HOSTED_ZONE_ID \\
  --change-batch file://changes.json

echo "DNS records restored"
`;

export interface Route53RestoreResult {
  records: number;
  changed: number;
  deleted: number;
  seedSeconds: number;
  exportSeconds: number;
  /** Differences from the export before each way (the damage). */
  damage: number;
  script:
    | { skipped: true; reason: string }
    | { skipped: false; seconds: number; exitCode: number | null; printed: string; error: string; differencesAfter: number; cliCalls: number };
  plain: { seconds: number; calls: number; upserts: number; verifySeconds: number; differencesAfter: number };
  drbot: { seconds: number; planSeconds: number; runStatus: string; batches: number; changesSent: number; differencesAfter: number; finalMessage: string };
}

const secondsSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

async function send(r53: Route53Client, zoneId: string, changes: readonly Change[], per: number): Promise<number> {
  let calls = 0;
  for (let i = 0; i < changes.length; i += per) {
    await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes.slice(i, i + per) } }));
    calls++;
  }
  return calls;
}

/** Record by record: missing + different + extra, against the export (SOA and apex NS aside). */
async function diffCount(r53: Route53Client, zoneId: string, exported: readonly ResourceRecordSet[]): Promise<number> {
  return differences(diffZone(exported, (await readZone(r53, zoneId)).recordSets, APEX, { deleteExtra: true }), true);
}

export async function benchRoute53Restore(opts: { records?: number; changed?: number; deleted?: number; log?: (l: string) => void } = {}): Promise<Route53RestoreResult | { skipped: true; reason: string }> {
  const records = opts.records ?? Number(process.env.BENCH_ZONE_RECORDS ?? 10_000);
  const changed = opts.changed ?? Math.round(records * 0.3);
  const deleted = opts.deleted ?? Math.round(records * 0.1);
  const log = opts.log ?? (() => {});
  const config = parseConfig(
    {
      name: 'bench',
      regions: { primary: 'us-east-1', backup: 'us-west-2' },
      s3: { buckets: [] },
      dynamodb: { tables: [] },
      route53: { hostedZoneId: 'ZPLACEHOLDER' },
      backupBucket: BUCKET,
      slack: { channels: { ops: CHANNEL, alerts: 'CBENCHALERT' }, roles: { viewer: [], operator: [OPERATOR], approver: [APPROVER] } },
      approvals: { required: 1, expiresMinutes: 30 },
    },
    'bench route53 config',
  );
  // moto answers every change INSYNC, so the runbook never waits.
  const started = await benchStack(config);
  if ('skipped' in started) return started;
  const stack = started;
  const r53 = stack.clients.route53('us-east-1');
  const s3 = stack.clients.s3('us-east-1');
  await seedBackupBucket(stack.clients, stack.config);

  // The zone, seeded with UPSERTs of 500 (setup, not timed into any way).
  let t = process.hrtime.bigint();
  const created = await r53.send(new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `bench-restore-${Date.now()}` }));
  const zoneId = (created.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  stack.config.route53 = { hostedZoneId: zoneId };
  await send(r53, zoneId, sandboxRecords(ZONE, records).map((c) => ({ ...c, Action: 'UPSERT' as const })), UPSERTS_PER_CALL);
  const seedSeconds = secondsSince(t);
  log(`  seeded ${records.toLocaleString('en-US')} record sets in ${seedSeconds.toFixed(1)} s`);

  // The export, written as /dr backup route53 writes it (its document, checksum and latest pointer;
  // one listing instead of the verb's two, since a 10,000-record listing costs moto seconds).
  t = process.hrtime.bigint();
  const read = await readZone(r53, zoneId);
  const doc: Route53Export = { format: 'drbot-route53-export/1', exportedAt: new Date().toISOString(), runId: 'r-bench0000001', zone: read.zone, recordCount: read.recordSets.length, recordSets: read.recordSets };
  const body = JSON.stringify(doc);
  const exportKey = `route53/${zoneId}/${doc.exportedAt.slice(0, 10)}/${doc.runId}.json`;
  await putObject(s3, BUCKET, exportKey, body, { sha256: sha256Hex(body), 'record-count': String(doc.recordCount) });
  await putObject(s3, BUCKET, latestKey(zoneId), JSON.stringify({ key: exportKey, runId: doc.runId, exportedAt: doc.exportedAt, sha256: sha256Hex(body), count: doc.recordCount }), {});
  const exp = await readExport(s3, BUCKET, (await readLatest(s3, BUCKET, latestKey(zoneId)))?.key ?? '');
  if (!exp || exp.doc.recordSets.length !== records + 2) throw new Error(`the export holds ${exp?.doc.recordSets.length} record sets, expected ${records + 2}`);
  const exported: Route53Export = exp.doc;
  const exportSeconds = secondsSince(t);

  // The damage: the first `deleted` plain record sets (first in moto's journal) deleted, the next `changed` changed.
  const plain = exported.recordSets.filter((r) => /^(a|aaaa|cname|txt|mx)-\d+\./.test(r.Name ?? ''));
  const order = (r: ResourceRecordSet) => Number(/-(\d+)\./.exec(r.Name ?? '')?.[1] ?? 0);
  plain.sort((x, y) => order(x) - order(y));
  const toDelete = plain.slice(0, deleted);
  const toChange = plain.slice(deleted, deleted + changed);
  // (A listing of 10,000 record sets costs moto seconds: the damage is checked once, below, after the script.)
  const damage = async () => {
    await send(r53, zoneId, toChange.map((r): Change => ({ Action: 'UPSERT', ResourceRecordSet: { ...r, TTL: 60 } })), UPSERTS_PER_CALL);
    await send(r53, zoneId, toDelete.map((r): Change => ({ Action: 'DELETE', ResourceRecordSet: r })), 1000);
  };
  await damage();
  const damaged = changed + deleted;
  log(`  export written in ${exportSeconds.toFixed(1)} s; zone damaged: ${changed} changed, ${deleted} deleted`);

  // (a) restore-route53.sh: one UPSERT batch of everything. Route53 refuses a batch whole, so a
  // refused one leaves the zone as damaged; the listing after it says so (and checks the damage).
  const script = runScript(stack, exported, zoneId);
  const afterScript = await diffCount(r53, zoneId, exported.recordSets);
  const scriptResult = script.skipped ? script : { ...script, differencesAfter: afterScript };
  if (!scriptResult.skipped) log(`  restore-route53.sh: exit ${scriptResult.exitCode} in ${scriptResult.seconds.toFixed(1)} s; ${scriptResult.differencesAfter} differences after`);
  // The script restores a zone of at most 500 record sets: then damage it again for drbot.
  if (afterScript === 0 && !script.skipped) await damage();
  else if (afterScript !== damaged) throw new Error(`the zone held ${afterScript} differences after the script, expected ${damaged}`);

  // (c) drbot
  const drbot = await drbotRestore(stack);
  const drbotDiff = await diffCount(r53, zoneId, exported.recordSets);
  log(`  drbot: plan ${drbot.planSeconds.toFixed(1)} s (not timed), approve → idle ${drbot.seconds.toFixed(1)} s, ${drbot.runStatus}; ${drbotDiff} differences after`);

  // (b) the plain loop, from the same damage (the same calls from the same state as before)
  await damage();
  const all = exported.recordSets.filter((r) => !isZoneOwned(r, APEX)).map((r): Change => ({ Action: 'UPSERT', ResourceRecordSet: r }));
  t = process.hrtime.bigint();
  const calls = await send(r53, zoneId, all, UPSERTS_PER_CALL);
  const plainSeconds = secondsSince(t);
  t = process.hrtime.bigint();
  const plainDiff = await diffCount(r53, zoneId, exported.recordSets);
  const verifySeconds = secondsSince(t);
  log(`  plain loop: ${calls} calls in ${plainSeconds.toFixed(1)} s (+ ${verifySeconds.toFixed(1)} s verify listing); ${plainDiff} differences after`);

  return {
    records: exported.recordSets.length,
    changed,
    deleted,
    seedSeconds,
    exportSeconds,
    damage: damaged,
    script: scriptResult,
    plain: { seconds: plainSeconds, calls, upserts: all.length, verifySeconds, differencesAfter: plainDiff },
    drbot: { ...drbot, differencesAfter: drbotDiff },
  };
}

function runScript(stack: LocalStack, exported: Route53Export, zoneId: string): { skipped: true; reason: string } | { skipped: false; seconds: number; exitCode: number | null; printed: string; error: string; cliCalls: number } {
  const realAws = spawnSync('bash', ['-lc', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
  const jq = spawnSync('bash', ['-lc', 'command -v jq'], { encoding: 'utf8' }).stdout.trim();
  if (!realAws || !jq) return { skipped: true, reason: `needs ${[!realAws ? 'the AWS CLI' : '', !jq ? 'jq' : ''].filter(Boolean).join(' and ')} on PATH` };
  const dir = tempDir('drbot-bench-route53-');
  const shim = join(dir, 'bin');
  spawnSync('mkdir', ['-p', shim]);
  const calls = join(dir, 'calls.log');
  writeFileSync(join(shim, 'aws'), `#!/bin/bash\necho x >> ${calls}\nexec ${realAws} --endpoint-url ${stack.clients.endpoint} "$@"\n`);
  chmodSync(join(shim, 'aws'), 0o755);
  writeFileSync(join(dir, 'restore-route53.sh'), RESTORE_ROUTE53_SH);
  // The runbook's backup file is `aws route53 list-resource-record-sets` output: the same record sets under ResourceRecordSets.
  writeFileSync(join(dir, 'route53-backup.json'), JSON.stringify({ ResourceRecordSets: exported.recordSets }));
  const env = { ...process.env, PATH: `${shim}:${process.env.PATH ?? ''}`, AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
  const t = process.hrtime.bigint();
  const run = spawnSync('bash', ['restore-route53.sh', 'route53-backup.json', `/hostedzone/${zoneId}`], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = secondsSince(t);
  const cliCalls = spawnSync('bash', ['-c', `wc -l < ${calls} 2>/dev/null || echo 0`], { encoding: 'utf8' }).stdout.trim();
  return { skipped: false, seconds, exitCode: run.status, printed: run.stdout.trim().split('\n').slice(-1)[0] ?? '', error: run.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '', cliCalls: Number(cliCalls) };
}

async function drbotRestore(stack: LocalStack): Promise<Omit<Route53RestoreResult['drbot'], 'differencesAfter'>> {
  const known = new Set(stack.engine.names());
  let t = process.hrtime.bigint();
  const ack = await stack.client.command({ user: OPERATOR, channel: CHANNEL, text: 'restore route53 --latest' });
  if (ack.status !== 200 || !/Started run/.test(ack.raw)) throw new Error(`restore command was not started: HTTP ${ack.status} ${ack.raw.slice(0, 200)}`);
  await stack.engine.idle();
  const planSeconds = secondsSince(t);
  const msg = [...stack.standIn.channelMessages(CHANNEL)].reverse().find((m) => m.blocks.some((b) => b.type === 'actions'));
  const actions = msg?.blocks.find((b) => b.type === 'actions');
  const button = actions?.type === 'actions' ? actions.elements.find((e) => e.type === 'button' && e.action_id === ACTION_APPROVE) : undefined;
  if (!msg || !button || button.type !== 'button') throw new Error('no Approve button was posted');

  t = process.hrtime.bigint();
  const click = await stack.client.click({
    user: APPROVER,
    channel: CHANNEL,
    messageTs: msg.ts,
    messageText: msg.text,
    blocks: msg.blocks,
    button: { action_id: button.action_id ?? '', value: button.value ?? '', text: button.text.text, ...(actions?.block_id ? { block_id: actions.block_id } : {}) },
  });
  if (click.status !== 200) throw new Error(`approve click failed: HTTP ${click.status} ${click.raw.slice(0, 200)}`);
  await stack.engine.idle();
  const seconds = secondsSince(t);

  const name = stack.engine.names().find((n) => !known.has(n));
  const result = name ? stack.engine.result(name) : undefined;
  const summary = result?.getResult() as { status?: string } | undefined;
  const final = (stack.standIn.message(CHANNEL, msg.ts)?.text ?? '').replace(/\s+/g, ' ');
  const sent = /Applied \*?([\d,]+)\*? of [\d,]+ changes .* in ([\d,]+) of/.exec(JSON.stringify(stack.standIn.message(CHANNEL, msg.ts)?.blocks ?? []));
  return {
    seconds,
    planSeconds,
    runStatus: `${result ? String(result.getStatus()) : 'no result'}${summary?.status ? ` / ${summary.status}` : ''}`,
    changesSent: Number((sent?.[1] ?? '0').replace(/,/g, '')),
    batches: Number((sent?.[2] ?? '0').replace(/,/g, '')),
    finalMessage: final.slice(0, 200),
  };
}

if (require.main === module) {
  benchRoute53Restore({ log: console.log })
    .then(async (r) => {
      console.log(JSON.stringify(r, null, 2));
      const { cleanup } = await import('./util');
      await cleanup();
      process.exit(0);
    })
    .catch(async (e: unknown) => {
      console.error(e);
      const { cleanup } = await import('./util');
      await cleanup();
      process.exit(1);
    });
}
