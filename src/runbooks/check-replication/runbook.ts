import { getBucketPosture } from '../../aws/s3';
import { type Runbook, STEP } from '../driver';
import { bucketRegion, replicaOf } from '../resources';
import type { CheckReplicationInput } from '.';

/** "Check replication" on a replication alarm: the bucket's replication set-up, read-only. */
export const runbook: Runbook<CheckReplicationInput, null> = {
  title: (input) => `Replication of ${input.bucket}`,
  destructive: false,
  async plan() {
    return { lines: ['Reading the replication configuration (read-only).'], data: null };
  },
  async execute(ctx, deps, input) {
    const p = await ctx.step('posture', async () => getBucketPosture(deps.clients.s3(bucketRegion(deps.config, input.bucket)), input.bucket), STEP);
    const expected = deps.config.s3.buckets.find((b) => b.name === input.bucket)?.replica;
    const lines: string[] = [];
    const problems: string[] = [];
    if (!p.exists) problems.push(`bucket \`${input.bucket}\` does not exist`);
    if (p.error) problems.push(p.error);
    lines.push(`Versioning: ${p.versioning}`);
    if (!p.replication) problems.push('no replication rule');
    else {
      const r = p.replication;
      lines.push(`Rule ${r.ruleId ? `\`${r.ruleId}\`` : '(unnamed)'}: ${r.enabled ? 'enabled' : 'DISABLED'} → \`${r.destinationBucket}\``);
      lines.push(`RTC (15 min): ${r.rtc ? 'on' : 'off'} · metrics: ${r.metrics ? 'on' : 'off'} · delete markers: ${r.deleteMarkerReplication ? 'replicated' : 'not replicated'}`);
      if (!r.enabled) problems.push('the replication rule is disabled');
      if (!r.rtc) problems.push('RTC is off, so the 15-minute replication SLA does not apply');
      if (expected && r.destinationBucket !== expected.bucket) problems.push(`replicates to ${r.destinationBucket}, but the config names ${expected.bucket}`);
    }
    if (expected) lines.push(`Copy back with \`/dr restore s3 ${input.bucket} --from-replica\` (replica \`${replicaOf(deps.config, input.bucket).bucket}\`).`);
    return { ok: problems.length === 0, lines, failures: problems };
  },
};
