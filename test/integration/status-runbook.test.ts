/**
 * The status runbook (src/runbooks/status/runbook.ts, `/dr status` as a run) on its own, against
 * moto: read-only, one checkpointed read of every configured resource's posture, summed up by
 * colour in one line, the report replacing the run message. The colours' rules are status.test.ts
 * (computeStatus); these read a small estate through the runbook, so `npm run mutate` can run
 * them per mutant.
 */
import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import type { ContextBlock, HeaderBlock } from '@slack/types';
import type { StatusInput } from '../../src/runbooks/status';
import { runbook } from '../../src/runbooks/status/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();

function input(): StatusInput & AnyRunInput {
  return { kind: 'status', runId: 's1', requester: 'UCAROL', channel: 'C1', commandText: '/dr status', requestedAt: new Date().toISOString() } as StatusInput & AnyRunInput;
}

/** A bucket whose noncurrent versions expire after `days` and whose `results/` go to Glacier after 30 days. */
async function bucketExpiring(days: number): Promise<string> {
  const name = await rig.bucket({ archivePrefix: 'results/' });
  const rules = [
    { ID: 'expire', Status: 'Enabled' as const, Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: days } },
    { ID: 'archive', Status: 'Enabled' as const, Filter: { Prefix: 'results/' }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' as const }] },
  ];
  await rig.s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: name, LifecycleConfiguration: { Rules: rules } }));
  return name;
}

it('is read-only, says so, and is titled as the posture', async () => {
  const p = await runbook.plan(rig.deps(), input(), { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
  expect(p).toEqual({ lines: ['Reading the backup settings of every configured resource (read-only).'], data: null });
  expect(runbook.destructive).toBe(false);
  expect(runbook.title(input())).toBe('Backup posture');
});

it('counts each colour once per resource in its line, and the report (with the time it was read) replaces the message; one checkpointed read', async () => {
  // the sandbox config's other sections read as 4 red (Lambda, IAM, Route53, failover: nothing made
  // in moto) and 1 amber (no AMI tagged); its buckets and tables are replaced by these
  rig.configure({ s3: { buckets: [] }, dynamodb: { tables: [] } });
  const green = await bucketExpiring(90);
  const amber = await bucketExpiring(30);
  const d = rig.deps();
  rig.configure({ s3: { buckets: [...d.config.s3.buckets, { name: 'status-never-made' }] } });

  const r = await rig.executeWatched(runbook, input(), null);

  expect(r).toMatchObject({ ok: true, failures: [], lines: ['overall red: 5 red, 2 amber, 1 green, 0 not checked'] });
  expect(r.checkpoints).toEqual(['status']);
  const text = r.message?.text ?? '';
  expect(text).toMatch(/^DR status for spawn: RED\. 5 red, 2 amber, 1 green, 0 not checked\./);
  expect(text).toContain('status-never-made');
  const blocks = r.message?.blocks ?? [];
  expect((blocks[0] as HeaderBlock).text.text).toBe(':red_circle: DR status: spawn is red');
  // the report's time went through the checkpoint as text and comes back a time (not "Invalid Date")
  const context = JSON.stringify((blocks[1] as ContextBlock).elements);
  expect(context).toMatch(/checked \d{4}-\d\d-\d\d \d\d:\d\dZ/);
  // each bucket under its own colour
  const all = JSON.stringify(blocks);
  expect(all).toContain(`:large_green_circle: *S3* \`${green}\``);
  expect(all).toContain(`:large_orange_circle: *S3* \`${amber}\``);
  expect(all).toContain(':red_circle: *S3* `status-never-made`');
});
