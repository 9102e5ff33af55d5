import { type Change, ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { seedBackupBucket } from '../../src/local/estate';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { click, command, requestRun, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { latestExportKey, readExportDoc, zoneVsExport } from '../helpers/route53';
import { AwsLikeZone } from '../helpers/route53-fake';

/*
 * /dr restore route53 where moto differs from AWS, with aws-sdk-client-mock answering the stack's
 * Route53 client from a zone that behaves as AWS documents (test/helpers/route53-fake.ts): moto
 * answers every change INSYNC at once, does not limit value characters, duplicates on CREATE and
 * accepts a DELETE of a record set that is gone. S3 and the state table are still moto.
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const ZONE_ID = 'ZFAKEAWS0000001';
const APEX = 'spawn.example.com.';

const a = (i: number): ResourceRecordSet => ({ Name: `a-${String(i).padStart(4, '0')}.${APEX}`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: `10.1.${Math.floor(i / 250)}.${i % 250}` }] });
/** A TXT record set of two 125-character strings: 250 value characters. */
const txt = (i: number, v = 'x'): ResourceRecordSet => ({ Name: `t-${String(i).padStart(3, '0')}.${APEX}`, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: `"${v.repeat(123)}"` }, { Value: `"${String(i).padStart(123, '0')}"` }] });

/** AWS's own limits, counted here independently of drbot's code. */
function awsWeight(batch: readonly Change[]): { rr: number; chars: number; upserts: number } {
  let rr = 0;
  let chars = 0;
  for (const c of batch) {
    const f = c.Action === 'UPSERT' ? 2 : 1;
    for (const v of c.ResourceRecordSet?.ResourceRecords ?? []) {
      rr += f;
      chars += f * (v.Value ?? '').length;
    }
  }
  return { rr, chars, upserts: batch.filter((c) => c.Action === 'UPSERT').length };
}

describe('/dr restore route53 against a zone that behaves as AWS documents', () => {
  const getStack = useLocalStack({ seed: false, config: { ...SANDBOX_CONFIG, route53: { hostedZoneId: ZONE_ID } } });
  let stack: LocalStack;
  let zone: AwsLikeZone;
  let restoreMock: () => void;
  let exported: ResourceRecordSet[];
  let key: string;

  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
  const restore = async (args = '') => {
    const { runId, message: msg } = await requestRun(stack, 'alice', `restore route53 ${args}`.trim());
    await click(stack, 'bob', msg, 'run_approve');
    return runId;
  };

  beforeAll(async () => {
    stack = getStack();
    await seedBackupBucket(stack.clients, stack.config);
    zone = new AwsLikeZone(ZONE_ID, APEX);
    for (let i = 0; i < 1000; i++) zone.put(a(i));
    for (let i = 0; i < 100; i++) zone.put(txt(i));
    zone.put({ Name: `canary.${APEX}`, Type: 'CNAME', SetIdentifier: 'blue', Weight: 90, TTL: 60, ResourceRecords: [{ Value: 'blue.example.' }] });
    zone.put({ Name: `canary.${APEX}`, Type: 'CNAME', SetIdentifier: 'green', Weight: 10, TTL: 60, ResourceRecords: [{ Value: 'green.example.' }] });
    restoreMock = zone.attach(stack.clients.route53('us-east-1'));
    const reply = await command(stack, 'alice', 'backup route53');
    expect(runSummary(stack, runIdOf(reply))).toMatchObject({ status: 'succeeded' });
    key = await latestExportKey(stack.clients.s3('us-east-1'), BACKUPS, ZONE_ID);
    exported = (await readExportDoc(stack.clients.s3('us-east-1'), BACKUPS, key)).recordSets;
  }, 60_000);
  afterAll(() => restoreMock?.());
  // Each test starts from the zone as exported, changes PENDING for two checks (the zone's default) and no fault set.
  beforeEach(() => {
    zone.records.clear();
    for (const r of exported) zone.put(r);
    zone.pendingChecks = 2;
    zone.throttleGetChange = 0;
    zone.denyGetChange = false;
    delete zone.loseAnswer;
  });

  it('(aws-sdk-client-mock: moto does not enforce the 32,000-character limit) sends only batches AWS accepts, where the runbook script’s single batch is refused', async () => {
    // prepare: 600 A record sets deleted and every long TXT value changed
    for (let i = 0; i < 600; i++) zone.records.delete(`${a(i).Name}|A|`);
    for (let i = 0; i < 100; i++) zone.put(txt(i, 'y'));
    const before = zone.applied.length;
    const logged = zone.log.length;
    // restore-route53.sh's approach, for contrast: every record set in one UPSERT batch
    const script = exported.filter((r) => r.Type !== 'SOA' && r.Type !== 'NS').map((r): Change => ({ Action: 'UPSERT', ResourceRecordSet: r }));
    const refused = await stack.clients.route53('us-east-1').send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE_ID, ChangeBatch: { Changes: script } })).catch((e: Error) => e.name);

    // act
    const runId = await restore();

    // assess
    expect(refused).toBe('InvalidChangeBatch');
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const sent = zone.applied.slice(before);
    expect(sent.flat()).toHaveLength(700);
    expect(sent.map(awsWeight).filter((w) => w.rr > 1000 || w.chars > 32_000 || w.upserts > 500)).toEqual([]);
    // the character limit is what split the TXT record sets: 100 of them would be 50,000 characters as UPSERTs
    expect(sent.some((b) => b.some((c) => c.ResourceRecordSet?.Type === 'TXT') && awsWeight(b).chars > 30_000)).toBe(true);
    expect(zone.log.slice(logged).filter((l) => l.startsWith('refused')).length).toBe(1);
    expect(zoneVsExport(zone.records, exported, APEX)).toEqual([]);
    expect(message(runId)).toContain(`in ${sent.length} of ${sent.length} change batches`);
  });

  it('(aws-sdk-client-mock: moto answers every change INSYNC at once) waits for each batch to be INSYNC with GetChange, through throttling, before sending the next', async () => {
    // prepare: 700 A record sets changed → two batches, each PENDING for two checks; the first check throttled
    for (let i = 0; i < 700; i++) zone.put({ ...a(i), TTL: 5 });
    zone.pendingChecks = 2;
    zone.throttleGetChange = 1;
    const from = zone.log.length;

    // act
    const runId = await restore();

    // assess: change, its checks until INSYNC, then the next change
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const log = zone.log.slice(from).filter((l) => /^(change|get)/.test(l));
    const [c1, c2] = log.filter((l) => l.startsWith('change')).map((l) => l.split(' ')[1]);
    expect(log).toEqual([`change ${c1} (500)`, 'get throttled', `get ${c1} PENDING`, `get ${c1} PENDING`, `get ${c1} INSYNC`, `change ${c2} (200)`, `get ${c2} PENDING`, `get ${c2} PENDING`, `get ${c2} INSYNC`]);
    expect(message(runId)).toContain('Route53 reported every applied batch INSYNC');
    expect(zoneVsExport(zone.records, exported, APEX)).toEqual([]);
  });

  it('(aws-sdk-client-mock: moto answers every change INSYNC at once) says so when GetChange is denied: the changes are made and verified, only their propagation is unconfirmed', async () => {
    // prepare
    zone.put({ ...a(9), TTL: 2 });
    zone.pendingChecks = 1;
    zone.denyGetChange = true;

    // act
    let runId: string;
    try {
      runId = await restore();
    } finally {
      zone.denyGetChange = false;
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = message(runId);
    expect(text).toContain('Could not ask Route53 whether a batch is INSYNC (GetChange): batch 1: GetChange on');
    expect(text).toContain('The changes are made; only their propagation is unconfirmed.');
    expect(text).not.toContain('Route53 reported every applied batch INSYNC');
    expect(zoneVsExport(zone.records, exported, APEX)).toEqual([]);
  });

  it('(aws-sdk-client-mock: moto answers every change INSYNC at once) reports a batch still PENDING after 15 minutes of checking, and still verifies the zone', async () => {
    // prepare
    zone.put({ ...a(10), TTL: 3 });
    zone.pendingChecks = 1000;
    const from = zone.log.length;

    // act
    let runId: string;
    try {
      runId = await restore();
    } finally {
      zone.pendingChecks = 0;
    }

    // assess: 35 checks, 10 s apart in the first minute, then 30 s (durable waits; the local runner skips the time)
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(zone.log.slice(from).filter((l) => / PENDING$/.test(l))).toHaveLength(35);
    expect(message(runId)).toContain('batch 1 not INSYNC after 15 min of checking; Route53 still propagates it.');
    expect(message(runId)).toContain('*0* differences.');
  });

  it('(aws-sdk-client-mock: moto accepts a DELETE of a record set that is gone) a batch whose answer was lost is found applied when retried, and not sent twice', async () => {
    // prepare: extras to delete (one with its values in another order and a health check: deleted exactly as it is), one value changed;
    // the first batch holding a DELETE is applied and its answer lost
    zone.put({ Name: `extra.${APEX}`, Type: 'A', TTL: 42, HealthCheckId: 'hc-1', ResourceRecords: [{ Value: '10.9.0.2' }, { Value: '10.9.0.1' }] });
    zone.put({ Name: `extra-2.${APEX}`, Type: 'TXT', TTL: 42, ResourceRecords: [{ Value: '"x"' }] });
    zone.put({ ...a(5), ResourceRecords: [{ Value: '10.200.0.1' }] });
    let lost = 0;
    zone.loseAnswer = (batch) => batch.some((c) => c.Action === 'DELETE') && lost++ === 0;
    zone.pendingChecks = 0;
    const before = zone.applied.length;

    // act
    let runId: string;
    try {
      runId = await restore('--delete-extra');
    } finally {
      delete zone.loseAnswer;
    }

    // assess: applied once; the retry was refused by AWS (the records were gone) and recognised as done
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(zone.applied.slice(before)).toHaveLength(1);
    expect(zone.log).toContainEqual(expect.stringMatching(/^refused Tried to delete resource record set \[name='extra/));
    expect(message(runId)).toContain('One batch was found already applied when retried (an earlier answer was lost), and not sent twice.');
    expect(message(runId)).toContain('0 created, 1 changed, 2 deleted');
    expect(zoneVsExport(zone.records, exported, APEX)).toEqual([]);
  });

  it('a CNAME in the way without --delete-extra: the other changes go through in batches AWS accepts, and the run ends Failed naming what remains', async () => {
    // prepare: a-0007 replaced by a CNAME (AWS refuses an A beside it), and a-0008 changed
    zone.records.delete(`${a(7).Name}|A|`);
    zone.put({ Name: a(7).Name, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'elsewhere.example.' }] });
    zone.put({ ...a(8), TTL: 1 });
    const refusedBefore = zone.log.filter((l) => l.startsWith('refused')).length;

    // act
    const runId = await restore();

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const text = message(runId);
    expect(text).toContain(`\`${a(7).Name} A\` (in the way: \`${a(7).Name} CNAME\`)`);
    expect(text).toContain('Applied *1* of 1 change');
    expect(text).toContain(`Verified by listing: *1* difference from the export remains, e.g. \`${a(7).Name} A\``);
    expect(zone.log.filter((l) => l.startsWith('refused')).length).toBe(refusedBefore);
    expect(zoneVsExport(zone.records, exported, APEX, { extrasAllowed: [`${a(7).Name}|CNAME|`] })).toEqual([`missing ${a(7).Name}|A|`]);
  });
});
