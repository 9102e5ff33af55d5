import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { instanceHealth, instancesTagged, type LaunchedInstance, terminateInstances } from '../../aws/ec2-instances';
import { taggedImages } from '../../aws/ec2';
import type { FailoverRecord } from '../../config/schema';
import { PreconditionError } from '../../errors';
import { code, escapeMrkdwn } from '../../slack/views/format';
import { type Runbook, safeStep } from '../driver';
import { applyDns, sameSet, verifyRecords } from '../failover/dns';
import { reach } from '../failover/reach';
import { dnsName, readRecords, recordValue } from '../failover/readiness';
import { FAILOVER_TAG } from '../failover/runbook';
import { type FailoverState, getFailoverState, putFailoverState } from '../failover/state';
import type { FailbackInput } from '.';

const POLL_SECONDS = 15;
const MAX_CHECKS = 20;

interface Revert {
  record: FailoverRecord;
  /** UPSERT back to the pre-switch set, or DELETE of the set the failover created. */
  change?: Change;
  /** Why this record is left as it is. */
  skip?: string;
  /** What the record should hold once reverted (absent: deleted). */
  want?: ResourceRecordSet;
}

export interface FailbackPlan {
  failover: FailoverState;
  reverts: Revert[];
  instances: LaunchedInstance[];
}

/** A record set as Route53 takes it back: an alias has no TTL and no values (some endpoints list TTL 0 for one). */
export function writable(s: ResourceRecordSet): ResourceRecordSet {
  if (!s.AliasTarget) return s;
  const { TTL: _ttl, ResourceRecords: _values, ...rest } = s;
  return rest;
}

const instanceLine = (i: LaunchedInstance) =>
  `• \`${i.id}\` ${escapeMrkdwn(i.type)} ${i.state}${i.launchedAt ? `, launched ${i.launchedAt.slice(0, 16).replace('T', ' ')}Z` : ''}${i.tags.Name ? `, ${code(i.tags.Name, 80)}` : ''}`;

export const runbook: Runbook<FailbackInput, FailbackPlan> = {
  title: (input) => (input.terminate ? 'Failback and termination of the failover instances' : 'Failback'),
  destructive: true,
  resources: (_input, plan) => ['failover', ...(plan?.failover.zoneId ? [`route53:${plan.failover.zoneId}`] : [])],

  async plan(deps, input) {
    const f = await getFailoverState(deps.store);
    if (!f) throw new PreconditionError('no_failover', 'drbot has no failover to fail back from.', '`/dr failover` records what it switched; records changed by hand are restored with `/dr restore route53`.');
    const primary = deps.config.regions.primary;
    const alive = await reach(() => taggedImages(deps.clients.ec2(primary), deps.config.ami.tagKey, deps.config.ami.tagValue, primary));
    const lines: string[] = [`Failover run \`${f.runId}\` to ${f.target} (${f.status}, ${f.at.slice(0, 16).replace('T', ' ')}Z).`];
    lines.push(alive.ok ? `:large_green_circle: ${primary} answers again.` : `:red_circle: ${primary} is still unreachable (${escapeMrkdwn(alive.reason)}).`);
    const reverts: Revert[] = [];
    if (f.status === 'failed-back') {
      lines.push(`DNS: already switched back${f.failback ? ` by run \`${f.failback.runId}\` at ${f.failback.at.slice(0, 16).replace('T', ' ')}Z` : ''}.`);
    } else if (f.zoneId && f.before.length) {
      const live = await readRecords(deps.clients, f.zoneId, f.before.map((b) => b.record));
      for (const [i, b] of f.before.entries()) {
        const cur = live[i]?.current;
        if (b.set) {
          reverts.push(sameSet(cur, b.set) ? { record: b.record, skip: 'already as before', want: b.set } : { record: b.record, change: { Action: 'UPSERT', ResourceRecordSet: writable(b.set) }, want: b.set });
        } else if (!cur) reverts.push({ record: b.record, skip: 'already gone' });
        else if (sameSet(cur, f.after[i])) reverts.push({ record: b.record, change: { Action: 'DELETE', ResourceRecordSet: cur } });
        else reverts.push({ record: b.record, skip: 'created by the failover but changed since: left for a person', want: cur });
      }
      lines.push(`DNS in \`${f.zoneId}\`: ${reverts.filter((r) => r.change).length} of ${reverts.length} record${reverts.length === 1 ? '' : 's'} to switch back:`);
      for (const [i, r] of reverts.entries()) {
        const now = live[i]?.current;
        const what = r.change?.Action === 'DELETE' ? 'delete (the failover created it)' : r.change ? `→ ${code(recordValue(r.want), 100)}` : `left: ${r.skip ?? ''}`;
        lines.push(`• \`${escapeMrkdwn(dnsName(r.record.name))}\` ${r.record.type}: ${code(recordValue(now), 100)} ${what}`);
      }
    } else lines.push('DNS: the failover switched no records.');
    const found = await instancesTagged(deps.clients.ec2(f.target), FAILOVER_TAG, f.runId, `failover instances in ${f.target}`);
    const instances = found.filter((i) => i.tags[FAILOVER_TAG] === f.runId);
    if (instances.length) {
      lines.push(`${instances.length} instance${instances.length === 1 ? '' : 's'} launched by the failover (tagged \`${FAILOVER_TAG}=${f.runId}\`) in ${f.target}${input.terminate ? ', to terminate' : ' (kept; `--terminate` or the button terminates them)'}:`, ...instances.slice(0, 30).map(instanceLine));
    } else lines.push(`No instance tagged \`${FAILOVER_TAG}=${f.runId}\` is left in ${f.target}.`);
    const dnsWork = reverts.some((r) => r.change);
    if (!input.dryRun && dnsWork && !alive.ok) {
      throw new PreconditionError('primary_unreachable', `${primary} is still unreachable: failing back now would point the records at a region that does not answer.`, '`/dr failback --dry-run` shows the state; run `/dr failback` again once the primary is back.');
    }
    const empty = !dnsWork && !(input.terminate && instances.length) && f.status === 'failed-back';
    return { lines, empty, data: { failover: f, reverts, instances } };
  },

  async execute(ctx, deps, input, plan) {
    const f = plan.failover;
    const failures: string[] = [];
    const lines: string[] = [];
    // The plan was made before the approval: if another failover has replaced the one it reverts,
    // its records would be put back over the new one's. Nothing is done then.
    const now = await ctx.step('state-at-approval', async () => {
      const s = await getFailoverState(deps.store);
      return s ? { runId: s.runId, status: s.status } : null;
    });
    if (now && now.runId !== f.runId) {
      return {
        ok: false,
        lines: [`:x: Nothing was changed: this plan reverts failover \`${f.runId}\`, but failover \`${now.runId}\` (${now.status}) came into effect while it waited for its approval. Plan again: \`/dr failback\`.`],
        failures: [`failover ${now.runId} replaced ${f.runId} after this plan was made`],
        next: [{ label: 'Plan again', command: input.terminate ? 'failback --terminate' : 'failback' }],
      };
    }
    const changes = plan.reverts.flatMap((r) => (r.change ? [r.change] : []));
    if (changes.length && f.zoneId) {
      const zoneId = f.zoneId;
      const dns = await applyDns(ctx, deps, 'dns-back', zoneId, changes, `drbot ${input.runId}: failback of ${f.runId}`);
      if (dns.failure) {
        failures.push(`DNS: ${dns.failure.message}`);
        lines.push(`:x: DNS switch-back stopped at batch ${dns.failure.batch}: ${dns.applied} of ${changes.length} records written. Run \`/dr failback\` again.${dns.failure.hint ? ` ${dns.failure.hint}` : ''}`);
      } else {
        lines.push(`Switched ${changes.length} record${changes.length === 1 ? '' : 's'} back in \`${zoneId}\`${dns.pending.length ? ` (:hourglass: ${escapeMrkdwn(dns.pending.join('; '))})` : '; Route53 reported INSYNC'}:`);
        lines.push(...plan.reverts.filter((r) => r.change).map((r) => `• \`${escapeMrkdwn(dnsName(r.record.name))}\` ${r.record.type} → ${r.change?.Action === 'DELETE' ? 'deleted' : code(recordValue(r.want), 100)}`));
        const wrong = await safeStep(ctx, 'verify', () => verifyRecords(deps, zoneId, plan.reverts.filter((r) => r.change).map((r) => ({ record: r.record, ...(r.want ? { want: r.want } : {}) }))));
        if (!wrong.ok) failures.push(`could not list the records again: ${wrong.message}`);
        else if (wrong.value.length) failures.push(`listed again, ${wrong.value.length} record(s) do not hold the pre-failover values: ${wrong.value.join(', ')}`);
        else lines.push('Listed again: every record holds what it held before the failover.');
      }
    } else if (f.status !== 'failed-back') lines.push('No DNS record needed switching back.');
    if (!failures.length && f.status !== 'failed-back') {
      await ctx.step('state', async () => putFailoverState(deps.store, { ...f, status: 'failed-back', failback: { runId: input.runId, at: deps.now().toISOString() } }));
    }

    let left = plan.instances;
    // DNS that is not back may still point at the failover's instances: they stay until it is.
    const dnsBack = !failures.length;
    if (input.terminate && plan.instances.length && !dnsBack) {
      lines.push(`The failover's instances were *not* terminated: DNS is not back, and may still point at them. Run \`/dr failback --terminate\` again once it can be switched back.`);
    }
    if (input.terminate && plan.instances.length && dnsBack) {
      const ec2 = deps.clients.ec2(f.target);
      const done = await safeStep(ctx, 'terminate', async () => {
        // Only what still carries this failover's tag: an instance re-tagged since the plan is left alone.
        const still = (await instancesTagged(ec2, FAILOVER_TAG, f.runId, `failover instances in ${f.target}`)).filter((i) => i.tags[FAILOVER_TAG] === f.runId && plan.instances.some((p) => p.id === i.id));
        return still.length ? terminateInstances(ec2, still.map((i) => i.id)) : [];
      });
      if (!done.ok) failures.push(`terminate: ${done.message}`);
      else {
        const ids = done.value.map((t) => t.id);
        const gone = await ctx.waitForCondition<{ checks: number; states: { id: string; state: string }[] }>(
          'terminated',
          async (s) => {
            try {
              const h = await instanceHealth(ec2, ids);
              return { checks: s.checks + 1, states: h.health.map((x) => ({ id: x.id, state: x.state })) };
            } catch {
              return { ...s, checks: s.checks + 1 };
            }
          },
          {
            initialState: { checks: 0, states: done.value },
            waitStrategy: (s) => (s.states.every((x) => x.state === 'terminated') || s.checks >= MAX_CHECKS ? { shouldContinue: false } : { shouldContinue: true, delay: { seconds: POLL_SECONDS } }),
          },
        );
        lines.push(`Terminated ${ids.length} instance${ids.length === 1 ? '' : 's'} tagged \`${FAILOVER_TAG}=${f.runId}\` in ${f.target}: ${gone.states.map((x) => `\`${x.id}\` ${x.state}`).join(', ') || 'none left'}.`);
        left = [];
      }
    }
    if (left.length) lines.push(`${left.length} failover instance${left.length === 1 ? '' : 's'} still running in ${f.target}:`, ...left.slice(0, 30).map(instanceLine));
    return {
      ok: failures.length === 0,
      lines,
      failures,
      next: left.length ? [{ label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' }] : [],
    };
  },
};
