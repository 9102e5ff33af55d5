import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { SANDBOX_ZONE_NAME, seedBackupBucket, seedZone } from '../../src/local/estate';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { click, command, requestRun, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { applyChanges, countCalls, latestExportKey, readExportDoc, zoneOwned, zoneRecords, zoneVsExport } from '../helpers/route53';

/*
 * Any size: a 10,000-record zone on moto, exported by /dr backup route53, then 3,000 record sets
 * changed and 1,000 deleted (seeded in batches), restored and compared record by record.
 */

const BACKUPS = SANDBOX_CONFIG.backupBucket ?? 'spawn-backups';
const APEX = `${SANDBOX_ZONE_NAME}.`;

describe('/dr restore route53 of a 10,000-record zone', () => {
  const getStack = useLocalStack({ seed: false, config: { ...SANDBOX_CONFIG } });
  let stack: LocalStack;
  let zoneId: string;

  beforeAll(async () => {
    stack = getStack();
    await seedBackupBucket(stack.clients, stack.config);
    zoneId = await seedZone(stack.clients, stack.config, 10_000);
    stack.config.route53 = { hostedZoneId: zoneId };
  }, 300_000);

  it('restores 3,000 changed and 1,000 deleted record sets in batches of 500 UPSERTs; the zone equals the export record by record', async () => {
    // prepare: the export, then the damage
    const r53 = stack.clients.route53('us-east-1');
    const backup = await command(stack, 'alice', 'backup route53');
    expect(runSummary(stack, runIdOf(backup))).toMatchObject({ status: 'succeeded' });
    const key = await latestExportKey(stack.clients.s3('us-east-1'), BACKUPS, zoneId);
    const exported = (await readExportDoc(stack.clients.s3('us-east-1'), BACKUPS, key)).recordSets;
    expect(exported).toHaveLength(10_002);
    const plain = [...(await zoneRecords(r53, zoneId)).values()].filter((r) => /^(a|aaaa|cname|txt|mx)-\d+\./.test(r.Name ?? ''));
    const changed = plain.slice(0, 3000).map((r): Change => ({ Action: 'UPSERT', ResourceRecordSet: { ...r, TTL: 60 } }));
    const deleted = plain.slice(3000, 4000).map((r): Change => ({ Action: 'DELETE', ResourceRecordSet: r }));
    await applyChanges(r53, zoneId, [...changed, ...deleted]);
    const damaged = await zoneRecords(r53, zoneId);
    expect(zoneVsExport(damaged, exported, APEX)).toHaveLength(4000);
    const calls = countCalls(r53, 'ChangeResourceRecordSetsCommand');

    // act
    let runId: string;
    try {
      const req = await requestRun(stack, 'alice', 'restore route53 --latest');
      runId = req.runId;
      expect(textOf(req.message)).toContain('*1,000* to create, *3,000* to change, *0* to delete');
      await click(stack, 'bob', req.message, 'run_approve');
    } finally {
      calls.undo();
    }

    // assess: the run, its batches, and the zone record by record
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    const text = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
    expect(text).toContain('Applied *4,000* of 4,000 changes');
    expect(text).toContain('1,000 created, 3,000 changed, 0 deleted');
    expect(text).toContain('*0* differences.');
    expect(calls.inputs.map((i) => (i.ChangeBatch as { Changes: Change[] }).Changes.length)).toEqual(Array(8).fill(500));
    const after = await zoneRecords(r53, zoneId);
    expect(zoneVsExport(after, exported, APEX)).toEqual([]);
    expect(after.size).toBe(10_002);
    expect(zoneOwned(after, APEX)).toEqual(zoneOwned(damaged, APEX));
    const sample = exported.find((r) => r.Name === (deleted[0]?.ResourceRecordSet as ResourceRecordSet).Name);
    expect(after.get(`${sample?.Name}|${sample?.Type}|`)).toEqual(sample);
  }, 600_000);
});
