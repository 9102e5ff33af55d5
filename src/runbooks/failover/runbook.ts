import type { Change } from '@aws-sdk/client-route-53';
import { instanceHealth, instancesTagged, type InstanceHealth, launchInstances, type LaunchedInstance } from '../../aws/ec2-instances';
import type { FailoverConfig } from '../../config/schema';
import { PreconditionError } from '../../errors';
import { code, escapeMrkdwn, oneLine } from '../../slack/views/format';
import { type Outcome, type Runbook, safeStep } from '../driver';
import type { FailoverInput } from '.';
import { clock, elapsed, objective, withinRto } from './clock';
import { applyDns, switchedSet, valuesFor, verifyRecords } from './dns';
import { failoverRegion, type LaunchSource, lagText, readiness, type RecordNow, readRecords, recordValue, rpoText } from './readiness';
import { type FailoverState, getFailoverState, putFailoverState } from './state';
import { readinessLines } from './view';

/** The tag every instance a failover launches carries, with the run's id. */
export const FAILOVER_TAG = 'drbot-failover';
const POLL_SECONDS = 15;
/** 40 checks of 15 s: instances usually pass their status checks within a few minutes. */
const MAX_CHECKS = 40;
const STEPS = ['launch', 'running and status checks', 'switch DNS', 'INSYNC and verify', 'report'] as const;

export interface FailoverPlan {
  target: string;
  /** The newest backup copy of each tagged image: what is launched. */
  sources: LaunchSource[];
  zoneId?: string;
  records: RecordNow[];
  rpo: string;
  /** The config's instance settings at plan time (what the approver saw). */
  settings?: FailoverConfig['instances'];
}

type Health = { checks: number; health: InstanceHealth[]; instances: LaunchedInstance[]; error?: string };

export const runbook: Runbook<FailoverInput, FailoverPlan> = {
  title: (input) => `Failover${input.region ? ` to ${input.region}` : ''}`,
  destructive: true,
  resources: (_input, plan) => ['failover', ...(plan?.zoneId ? [`route53:${plan.zoneId}`] : [])],

  async plan(deps, input) {
    const cfg = deps.config;
    const target = input.region || failoverRegion(cfg);
    if (target === cfg.regions.primary) throw new PreconditionError('failover_to_primary', `\`${target}\` is the primary region: nothing to fail over to.`, 'Set `failover.region` (or `regions.backup`) to another region.');
    const current = await getFailoverState(deps.store);
    const active = current && current.status !== 'failed-back' ? current : undefined;
    const r = await readiness(cfg, deps.clients, target, deps.now());
    const lines = readinessLines(r);
    const fo = cfg.failover;
    const data: FailoverPlan = { target, sources: r.sources, records: r.records, rpo: rpoText(r), ...(r.zoneId ? { zoneId: r.zoneId } : {}), ...(fo ? { settings: fo.instances } : {}) };
    if (!fo) {
      lines.push('No `failover:` section in the drbot config: readiness only. Add one (instance type, subnet, security groups, count, DNS records) to fail over.');
      if (!input.dryRun) throw new PreconditionError('no_failover_config', 'No `failover:` section in the drbot config: drbot does not know what to launch or which records to switch.', 'Add a `failover:` section (see drbot.config.example.yaml); `/dr failover --dry-run` shows the readiness meanwhile.');
      return { lines, data };
    }
    const i = fo.instances;
    lines.push(
      `*Plan* (RTO objective ${objective(cfg.objectives.rtoMinutes)}, clock running since the request):`,
      r.sources.length
        ? `1. Launch ${i.count} × \`${escapeMrkdwn(i.type)}\` per image in ${target} from ${r.sources.map((s) => `${code(s.copyId)} (${escapeMrkdwn(oneLine(s.name))})`).join(', ')}${i.subnetId ? ` in \`${i.subnetId}\`` : ''}${i.securityGroupIds?.length ? `, groups ${i.securityGroupIds.map((g) => `\`${g}\``).join(', ')}` : ''}${i.instanceProfile ? `, profile ${code(i.instanceProfile)}` : ''}, tagged \`${FAILOVER_TAG}=${input.runId}\`.`
        : `1. :x: Nothing to launch: no backup AMI copy in ${target} (\`/dr backup amis\` makes them).`,
      '2. Wait until they run and pass both status checks.',
      r.zoneId && r.records.length
        ? `3. Switch ${r.records.length} record${r.records.length === 1 ? '' : 's'} in \`${r.zoneId}\` (UPSERT), wait until INSYNC, list them again:`
        : '3. No DNS records to switch (`failover.dns`).',
      ...r.records.map((x) => `• \`${escapeMrkdwn(x.record.name)}\` ${x.record.type}${x.record.setIdentifier ? ` (${code(x.record.setIdentifier)})` : ''}: ${code(recordValue(x.current), 120)} → the new instances' ${x.record.target}, TTL ${x.record.ttl}`),
      '4. Report what the replicas held at cut-over, the achieved RTO and the estimated RPO. `/dr failback` switches the records back.',
    );
    if (input.dryRun) return { lines, data };
    if (active) {
      throw new PreconditionError('failover_active', `A failover to ${active.target} is already in effect (run \`${active.runId}\`, ${active.status}).`, 'Run `/dr failback` first (`--terminate` also removes its instances); `/dr failover --dry-run` shows the readiness meanwhile.');
    }
    if (!r.sources.length) throw new PreconditionError('nothing_to_launch', `No backup AMI copy in ${target}: there is nothing to launch.`, 'Copy the images with `/dr backup amis` while the primary answers.');
    return { lines, data };
  },

  async execute(ctx, deps, input, plan, progress) {
    const cfg = deps.config;
    const fo = cfg.failover;
    const rto = cfg.objectives.rtoMinutes;
    const target = plan.target;
    const ec2 = deps.clients.ec2(target);
    const settings = plan.settings ?? fo?.instances;
    const failures: string[] = [];
    const times: string[] = [];
    const tick = (n: number, label: string) => progress.report(n, STEPS.length, `${clock(input.requestedAt, deps.now(), rto)} — ${label}`);
    /** The clock shown at a step's start, as a step of its own (a replay does not show it again). */
    const show = (n: number, label: string) => ctx.step(`clock-${n}`, () => tick(n, label));
    const mark = async (name: string) => {
      const at = await ctx.step(`time-${name}`, async () => deps.now().toISOString());
      times.push(`${name} at T+${elapsed(Date.parse(at) - Date.parse(input.requestedAt))}`);
    };
    const terminateNext = { label: 'Terminate failover instances', command: 'failback --terminate', style: 'danger' as const };
    const end = async (ok: boolean, lines: string[], next: Outcome['next'] = []): Promise<Outcome> => {
      const at = await ctx.step('end-time', async () => deps.now().toISOString());
      const t = clock(input.requestedAt, new Date(at), rto);
      return {
        ok,
        lines: [
          ...lines,
          ok ? `*Achieved RTO: ${t}* ${withinRto(input.requestedAt, new Date(at), rto) ? ':white_check_mark: within' : ':x: over'} the objective. Estimated RPO: ${escapeMrkdwn(plan.rpo)}.` : `Stopped at ${t}. Estimated RPO: ${escapeMrkdwn(plan.rpo)}.`,
          `Steps: ${times.join(' · ') || 'none finished'}`,
        ],
        failures,
        next,
      };
    };
    if (!fo || !settings) {
      failures.push('the `failover:` section is gone from the config');
      return end(false, ['Nothing was launched: the drbot config has no `failover:` section any more.']);
    }

    // 0. The plan was checked before the approval; another failover may have been approved and run
    // since (the lease keeps two apart only while one runs). Its state is not overwritten: this run stops.
    const other = await ctx.step('state-at-approval', async () => {
      const s = await getFailoverState(deps.store);
      return s && s.status !== 'failed-back' && s.runId !== input.runId ? { runId: s.runId, target: s.target, status: s.status } : null;
    });
    if (other) {
      failures.push(`a failover to ${other.target} (run ${other.runId}) came into effect after this plan was made`);
      return end(false, [`:x: Nothing was launched and DNS was not touched: a failover to ${other.target} (run \`${other.runId}\`, ${other.status}) came into effect while this plan waited for its approval. \`/dr failback\` first, then plan again.`]);
    }

    // 1. Launch from each image's newest copy. A step that is retried or replayed finds this run's
    // instances by their tags and launches none twice.
    await show(0, `launching in ${target}`);
    const launched: { source: LaunchSource; instances: LaunchedInstance[] }[] = [];
    for (const s of plan.sources) {
      const r = await safeStep(ctx, `launch-${s.sourceId}`, async () => {
        const mine = (await instancesTagged(ec2, FAILOVER_TAG, input.runId, `failover instances in ${target}`)).filter((x) => x.tags['source-ami'] === s.sourceId);
        if (mine.length) return mine;
        return launchInstances(ec2, {
          imageId: s.copyId,
          type: settings.type,
          count: settings.count,
          ...(settings.subnetId ? { subnetId: settings.subnetId } : {}),
          ...(settings.securityGroupIds ? { securityGroupIds: settings.securityGroupIds } : {}),
          ...(settings.instanceProfile ? { instanceProfile: settings.instanceProfile } : {}),
          tags: { ...settings.tags, Name: `${s.name}-failover`.slice(0, 256), [FAILOVER_TAG]: input.runId, 'source-ami': s.sourceId },
          clientToken: `drbot-${input.runId}-${s.sourceId}`,
        });
      });
      if (r.ok) launched.push({ source: s, instances: r.value });
      else failures.push(`launch from \`${s.copyId}\` (${s.name}): ${r.message}`);
    }
    await mark('launched');
    const ids = launched.flatMap((l) => l.instances.map((i) => i.id));
    // Kept at once: whatever happens next, `/dr failback --terminate` finds what this run launched.
    if (ids.length) await ctx.step('state-launched', () => putFailoverState(deps.store, { runId: input.runId, target, primary: cfg.regions.primary, at: deps.now().toISOString(), before: [], after: [], instances: ids, status: 'launched' }));
    const launchLines = launched.map((l) => `• ${escapeMrkdwn(oneLine(l.source.name))}: ${l.instances.map((i) => `\`${i.id}\``).join(', ')} from \`${l.source.copyId}\``);
    if (failures.length) {
      return end(false, [`:x: Not every image could be launched in ${target}, so DNS was *not* switched.`, ...(ids.length ? [`Launched (tagged \`${FAILOVER_TAG}=${input.runId}\`):`, ...launchLines] : ['Nothing was launched.'])], ids.length ? [terminateNext] : []);
    }

    // 2. Until every instance runs and passes both status checks (durable waits between checks).
    await show(1, `waiting for ${ids.length} instance${ids.length === 1 ? '' : 's'} to run and pass status checks`);
    const health = await ctx.waitForCondition<Health>(
      'running',
      async (h) => {
        try {
          const r = await instanceHealth(ec2, ids);
          const ok = r.health.filter((x) => x.checksOk).length;
          await tick(1, `${ok} of ${ids.length} running with status checks passed`);
          return { checks: h.checks + 1, ...r };
        } catch (e) {
          return { ...h, checks: h.checks + 1, error: (e as Error).message };
        }
      },
      {
        initialState: { checks: 0, health: [], instances: [] },
        waitStrategy: (h) =>
          (h.health.length && h.health.every((x) => x.checksOk)) || h.health.some((x) => ['terminated', 'shutting-down', 'stopped'].includes(x.state)) || h.checks >= MAX_CHECKS
            ? { shouldContinue: false }
            : { shouldContinue: true, delay: { seconds: POLL_SECONDS } },
      },
    );
    await mark('running');
    const bad = health.health.filter((x) => !x.checksOk);
    if (!health.health.length || bad.length) {
      failures.push(...(bad.length ? bad.map((x) => `\`${x.id}\`: ${x.detail}`) : [`instance status unknown: ${health.error ?? 'no answer'}`]));
      return end(false, [`:x: The instances did not all run and pass their status checks, so DNS was *not* switched.`, `Launched (tagged \`${FAILOVER_TAG}=${input.runId}\`):`, ...launchLines], [terminateNext]);
    }
    const instances = health.instances;

    // 3. DNS: the records as they are now are kept (for the failback) before anything is written.
    const lines = [`Launched ${ids.length} instance${ids.length === 1 ? '' : 's'} in ${target}, running with both status checks passed:`, ...launchLines];
    const zoneId = plan.zoneId;
    const records = fo.dns?.records ?? [];
    if (!zoneId || !records.length) {
      await ctx.step('state', () => putFailoverState(deps.store, { runId: input.runId, target, primary: cfg.regions.primary, at: deps.now().toISOString(), before: [], after: [], instances: ids, status: 'failed-over' }));
      lines.push('No DNS records configured (`failover.dns`): nothing switched.');
      return end(true, lines, [{ label: 'Fail back', command: 'failback' }]);
    }
    await show(2, `switching ${records.length} DNS record${records.length === 1 ? '' : 's'}`);
    const prepared = await safeStep(ctx, 'dns-prepare', async () => {
      const now = await readRecords(deps.clients, zoneId, records);
      const after = now.map((x) => switchedSet(x, valuesFor(x.record, x.record.image ? instances.filter((i) => i.tags.Name === `${x.record.image}-failover`) : instances)));
      const state: FailoverState = { runId: input.runId, target, primary: cfg.regions.primary, zoneId, at: deps.now().toISOString(), before: now.map((x) => ({ record: x.record, ...(x.current ? { set: x.current } : {}) })), after, instances: ids, status: 'switching' };
      await putFailoverState(deps.store, state);
      return state;
    });
    if (!prepared.ok) {
      failures.push(`DNS: ${prepared.message}`);
      return end(false, [...lines, `:x: DNS was *not* switched: ${escapeMrkdwn(prepared.message)}`], [terminateNext]);
    }
    const state = prepared.value;
    const changes: Change[] = state.after.map((s) => ({ Action: 'UPSERT', ResourceRecordSet: s }));
    const dns = await applyDns(ctx, deps, 'dns', zoneId, changes, `drbot ${input.runId}: failover to ${target}`);
    await mark('DNS switched');
    if (dns.failure) {
      failures.push(`DNS batch ${dns.failure.batch}: ${dns.failure.message}`);
      lines.push(`:x: DNS switch stopped: ${dns.applied} of ${changes.length} records written (Route53 applies a batch whole or not at all). \`/dr failback\` puts back what was written.${dns.failure.hint ? ` ${dns.failure.hint}` : ''}`);
      return end(false, lines, [{ label: 'Fail back', command: 'failback' }, terminateNext]);
    }
    await show(3, 'waiting for Route53 INSYNC and listing the records');
    const wrong = await safeStep(ctx, 'dns-verify', () => verifyRecords(deps, zoneId, state.before.map((b, i) => ({ record: b.record, ...(state.after[i] ? { want: state.after[i] } : {}) }))));
    await ctx.step('state-done', () => putFailoverState(deps.store, { ...state, status: 'failed-over', at: deps.now().toISOString() }));
    await mark('DNS verified');
    lines.push(`Switched ${changes.length} record${changes.length === 1 ? '' : 's'} in \`${zoneId}\`:`, ...state.before.map((b, i) => `• \`${escapeMrkdwn(b.record.name)}\` ${b.record.type}: ${code(recordValue(b.set), 100)} → ${code(recordValue(state.after[i]), 100)}`));
    if (dns.pending.length) lines.push(`:hourglass: ${escapeMrkdwn(dns.pending.join('; '))}`);
    else lines.push('Route53 reported the change INSYNC on all its name servers.');
    if (!wrong.ok) failures.push(`could not list the records again: ${wrong.message}`);
    else if (wrong.value.length) failures.push(`listed again, ${wrong.value.length} record(s) do not hold the new values: ${wrong.value.join(', ')}`);
    else lines.push('Listed again: every record holds the new values.');

    // 4. What the replicas held at cut-over (the target region only; the primary is not needed).
    await show(4, 'reading what the replicas held at cut-over');
    const held = await safeStep(ctx, 'cut-over', async () => {
      const r = await readiness(cfg, deps.clients, target, deps.now(), { light: true });
      return r.items.filter((x) => x.kind === 's3' || x.kind === 'dynamodb').map((x) => `• ${x.kind === 's3' ? 'S3' : 'DynamoDB'} \`${escapeMrkdwn(x.name)}\`: ${escapeMrkdwn([...x.facts, ...x.reasons].join('; ') || 'nothing known')}${x.rpoMs !== undefined ? ` (lag ${lagText(x.rpoMs)})` : ''}`);
    });
    if (held.ok) lines.push('*At cut-over the replicas held:*', ...held.value.slice(0, 20));
    else lines.push(`Could not read the replicas at cut-over: ${escapeMrkdwn(held.message)}`);
    await mark('reported');
    return end(failures.length === 0, lines, [{ label: 'Fail back', command: 'failback' }]);
  },
};
