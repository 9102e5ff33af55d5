import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { LOOKUP_CALLS_PER_SECOND, type LookupAttribute, lookupPage, type TrailEvent } from '../../aws/cloudtrail';
import { type AccessKeyInfo, attachDenyAll, createKeyIntoSecret, deactivateKey, DENY_ALL_POLICY, denyAllArn, deleteLoginProfile, getUserArn, hasDenyAll, hasLoginProfile, listAccessKeys, MAX_ACCESS_KEYS, partitionOf, replacementSecretName } from '../../aws/iam-users';
import { findInstances, type InstanceInfo, instancesSince, terminate } from '../../aws/instances';
import { PreconditionError, withHint } from '../../errors';
import { code, slackDate } from '../../slack/views/format';
import { formatCount, plural } from '../../slack/views/run';
import { type Outcome, type Runbook, safeStep } from '../driver';
import type { RunbookDeps } from '../types';
import type { NextStep } from '../verb';
import { eventThread, groupEvents, groupLine, iamChanges, instanceLine } from './report';
import type { CompromiseInput } from '.';

/*
 * /dr compromise USER: contain first (one approval, then every access key of the user, or the
 * named one, set Inactive, one step per key so a refusal on one is reported and the others still
 * done), then investigate (CloudTrail LookupEvents by user name and by key ID in every configured
 * region, paced by durable waits to LookupEvents' 2 calls a second), then list what to clean up
 * (instances, IAM changes) with next-step buttons. `--terminate` is its own runbook: the listed
 * instances, shown, approved, terminated and checked.
 */

/** How far back CloudTrail is read without --since. */
export const DEFAULT_SINCE_MS = 24 * 3_600_000;
/** Pages of one lookup in one region before the rest is left to the console (50 events a page). */
export const MAX_PAGES_PER_LOOKUP = 40;
const GROUP_LINES = 8;
const INSTANCE_LINES = 8;
const IAM_LINES = 6;
/** The result's section holds 3,000 characters (src/slack/views/run.ts); dates are long in mrkdwn. */
const RESULT_BUDGET = 2_900;
/** TerminateInstances takes at most 1,000 IDs; --terminate takes 50. */
const MAX_TERMINATE = 50;

export interface ContainPlan {
  user: string;
  /** The keys to deactivate (every key of the user, or the named one), as listed at plan time. */
  keys: AccessKeyInfo[];
  /** Every key of the user (the replacement's room: IAM allows two). */
  keyCount: number;
  since: string;
  regions: string[];
  /** --lock: AWSDenyAll's ARN in the user's partition, whether it is attached already, whether there is a console password. */
  lock?: { denyAll: boolean; console: boolean; policyArn?: string };
}

const regionsOf = (deps: RunbookDeps) => [...new Set([deps.config.regions.primary, deps.config.regions.backup])];

function unknownUser(user: string): PreconditionError {
  return new PreconditionError('unknown_user', `There is no IAM user ${code(user, 64)} in this account.`, 'IAM user names are case-sensitive: check the name in the IAM console (a role or an SSO session is not a user).');
}

// ---- investigation: paced CloudTrail lookups ------------------------------------------------------------

interface Cursor {
  lookup: number;
  token?: string;
  pages: number;
}

interface Batch {
  events: TrailEvent[];
  calls: number;
  /** Where the next step goes on from (undefined: every lookup read). */
  next?: Cursor | undefined;
  /** Whether a lookup was cut at MAX_PAGES_PER_LOOKUP. */
  cut: boolean;
}

/** At most LOOKUP_CALLS_PER_SECOND pages, from the cursor on: one step's worth of LookupEvents. */
async function lookupBatch(deps: RunbookDeps, region: string, lookups: readonly LookupAttribute[], from: Cursor, start: Date, end: Date): Promise<Batch> {
  const ct = deps.clients.cloudtrail(region);
  const out: Batch = { events: [], calls: 0, cut: false };
  let c: Cursor | undefined = from;
  while (c && out.calls < LOOKUP_CALLS_PER_SECOND) {
    const attr = lookups[c.lookup] as LookupAttribute;
    const page = await lookupPage(ct, region, attr, start, end, c.token);
    out.calls++;
    out.events.push(...page.events);
    const pages: number = c.pages + 1;
    if (page.next && pages < MAX_PAGES_PER_LOOKUP) c = { lookup: c.lookup, token: page.next, pages };
    else {
      if (page.next) out.cut = true;
      c = c.lookup + 1 < lookups.length ? { lookup: c.lookup + 1, pages: 0 } : undefined;
    }
  }
  out.next = c;
  return out;
}

interface Investigation {
  events: TrailEvent[];
  failures: string[];
  cut: boolean;
}

/**
 * Every lookup in every region, one step per LOOKUP_CALLS_PER_SECOND pages with a durable wait of
 * a second between two steps of a region: never more than LookupEvents allows, and no Lambda
 * sleeping. Events seen by two lookups (by user and by key) are kept once.
 */
async function investigate(ctx: DurableContext, deps: RunbookDeps, plan: ContainPlan, keys: readonly AccessKeyInfo[] = plan.keys): Promise<Investigation> {
  const lookups: LookupAttribute[] = [{ key: 'Username', value: plan.user }, ...keys.map((k) => ({ key: 'AccessKeyId' as const, value: k.id }))];
  const start = new Date(plan.since);
  // Up to now, after the containment: what the key did until it stopped working is the point (checkpointed: the same on replay).
  const end = new Date(await ctx.step('investigation-window', async () => deps.now().toISOString()));
  const byId = new Map<string, TrailEvent>();
  const failures: string[] = [];
  let cut = false;
  for (const region of plan.regions) {
    let cursor: Cursor | undefined = { lookup: 0, pages: 0 };
    for (let n = 0; cursor; n++) {
      if (n > 0) await ctx.wait(`cloudtrail-pace ${region} ${n}`, { seconds: 1 });
      const from: Cursor = cursor;
      const r = await safeStep(ctx, `cloudtrail ${region} ${n}`, () => lookupBatch(deps, region, lookups, from, start, end));
      if (!r.ok) {
        failures.push(`CloudTrail in ${region} could not be read (${r.message}): look the user up in that region's CloudTrail console.${r.hint ? ` ${r.hint}` : ''}`);
        break;
      }
      for (const e of r.value.events) byId.set(`${e.region}:${e.id}`, e);
      cut ||= r.value.cut;
      cursor = r.value.next;
    }
  }
  return { events: [...byId.values()], failures, cut };
}

/** Posts the full event list in the run message's thread (best effort: the report says whether it is all there, part of it, or none and why). */
async function postThread(ctx: DurableContext, deps: RunbookDeps, input: CompromiseInput, events: readonly TrailEvent[]): Promise<{ posted: number; shown: number; refused?: boolean }> {
  return ctx.step('post-events', async () => {
    const run = await deps.store.getRun(input.runId).catch(() => undefined);
    // No run message to reply under (Slack was down when it was posted, or the record cannot be read): nothing to thread.
    if (!run?.ts || !events.length) return { posted: 0, shown: 0 };
    const { messages, shown } = eventThread(input.runId, input.user, events);
    let posted = 0;
    for (const m of messages) {
      try {
        await deps.slack.post(run.channel, m, { threadTs: run.ts });
        posted++;
      } catch (e) {
        console.warn(JSON.stringify({ level: 'WARN', message: 'event list not posted in the thread', runId: input.runId, error: String((e as Error)?.message ?? e).slice(0, 200) }));
        break;
      }
    }
    return { posted, shown: posted === messages.length ? shown : 0, ...(posted < messages.length ? { refused: true } : {}) };
  });
}

/**
 * The report at the most bullets that fit the result's section: cut the event groups first (the
 * thread has every event) down to two, then the instances down to one, then (with one group and
 * one instance) the IAM changes down to one; the last of these when none fits. `assemble(g, i, m)`
 * makes the report with at most g groups, i instances and m IAM changes.
 */
export function fitReport(assemble: (g: number, i: number, m: number) => string[], budget = RESULT_BUDGET): string[] {
  const tries: [number, number, number][] = [];
  for (let g = GROUP_LINES; g >= 2; g--) tries.push([g, INSTANCE_LINES, IAM_LINES]);
  for (let i = INSTANCE_LINES - 1; i >= 1; i--) tries.push([2, i, IAM_LINES]);
  for (let m = IAM_LINES; m >= 1; m--) tries.push([1, 1, m]);
  let report: string[] = [];
  for (const [g, i, m] of tries) {
    report = assemble(g, i, m);
    if (report.join('\n').length <= budget) break;
  }
  return report;
}

// ---- contain, investigate, offer the clean-up --------------------------------------------------------------

const contain: Runbook<CompromiseInput, ContainPlan> = {
  // IAM user names are [\w+=,.@-]: nothing in one can format or link.
  title: (input) => `Compromised IAM user ${input.user}: contain and investigate`,
  destructive: true,
  resources: (input) => [`iam-user:${input.user}`],

  async plan(deps, input) {
    const iam = deps.clients.iam(deps.config.regions.primary);
    const userArn = await getUserArn(iam, input.user);
    if (userArn === undefined) throw unknownUser(input.user);
    const all = await listAccessKeys(iam, input.user);
    const keys = input.key ? all.filter((k) => k.id === input.key) : all;
    if (input.key && !keys.length) {
      throw new PreconditionError(
        'unknown_key',
        `${code(input.key)} is not an access key of ${code(input.user, 64)}${all.length ? ` (its keys: ${all.map((k) => code(k.id)).join(', ')})` : ' (it has no access keys)'}.`,
        'Check the key ID, or leave out `--key` to deactivate every key of the user.',
      );
    }
    const since = input.since ?? new Date(Date.parse(input.requestedAt) - DEFAULT_SINCE_MS).toISOString();
    const regions = regionsOf(deps);
    const policyArn = denyAllArn(partitionOf(userArn));
    const lock = input.lock ? { denyAll: await hasDenyAll(iam, input.user, policyArn), console: await hasLoginProfile(iam, input.user), policyArn } : undefined;
    const will = input.dryRun ? 'would be' : 'will be';
    const active = keys.filter((k) => k.status === 'Active');
    const inactive = keys.filter((k) => k.status !== 'Active');
    const keyText = (k: AccessKeyInfo) => `${code(k.id)}${k.created ? ` (created ${slackDate(k.created)})` : ''}`;
    const lines = [
      `*Contain* IAM user ${code(input.user, 64)}: ${
        active.length ? `${plural(active.length, 'access key')} ${will} set *Inactive*: ${active.map(keyText).join(', ')}` : keys.length ? 'its access keys are Inactive already' : 'it has no access keys'
      }${inactive.length && active.length ? `; already Inactive: ${inactive.map((k) => code(k.id)).join(', ')}` : ''}. Nothing is deleted: the keys stay as evidence.`,
    ];
    if (lock) {
      lines.push(
        `*Lock*: AWS's managed policy ${code(DENY_ALL_POLICY)} (an explicit Deny of every action) ${lock.denyAll ? 'is attached already' : `${will} attached`} (no inline policy is written); the console password ${lock.console ? `${will} deleted` : 'does not exist (nothing to revoke)'}.`,
      );
    }
    if (input.newKey) {
      lines.push(
        all.length >= MAX_ACCESS_KEYS
          ? `:warning: *Replacement key*: the user has IAM's limit of ${MAX_ACCESS_KEYS} keys, so IAM will refuse a new one until a key is deleted (drbot deletes none).`
          : `*Replacement key*: a new access key ${will} created straight into the Secrets Manager secret ${code(replacementSecretName(input.user, input.runId))} in ${code(deps.config.regions.primary)}; only the secret's ARN is shown, never the key's secret.`,
      );
    }
    lines.push(
      `Then, read only: CloudTrail since ${slackDate(since)} in ${regions.map((r) => code(r)).join(' and ')} (by user name${keys.length ? ` and by ${plural(keys.length, 'key ID')}` : ''}, at most ${LOOKUP_CALLS_PER_SECOND} calls a second), the instances launched by the user or since then, and the IAM changes it made.`,
    );
    return { lines, data: { user: input.user, keys, keyCount: all.length, since, regions, ...(lock ? { lock } : {}) } };
  },

  async execute(ctx, deps, input, plan, progress) {
    const iam = deps.clients.iam(deps.config.regions.primary);
    const failures: string[] = [];
    const needsHuman: string[] = [];

    // 1. Contain: one step per key, so one refused key does not hide the others. Without --key, the
    // user's keys are listed again first: a key made while the approval waited (an attacker with
    // iam:CreateAccessKey) is contained too, not left Active under a "Contained" headline.
    const now = input.key ? undefined : await safeStep(ctx, 'keys-at-approval', () => listAccessKeys(iam, plan.user));
    const planned = new Set(plan.keys.map((k) => k.id));
    const newer = now?.ok ? now.value.filter((k) => !planned.has(k.id)) : [];
    const keys = [...plan.keys, ...newer];
    if (newer.length) needsHuman.push(`${plural(newer.length, 'access key')} appeared while the approval waited (${newer.map((k) => code(k.id)).join(', ')}), and ${newer.length === 1 ? 'was' : 'were'} contained too: find out who made ${newer.length === 1 ? 'it' : 'them'}.`);
    const contained: { id: string; at: string }[] = [];
    // Keys IAM no longer has (deleted between the listing and the run): they cannot sign either, but are not "Inactive".
    const goneKeys: string[] = [];
    const notContained: string[] = [];
    const refusals = new Map<string, string>();
    for (const [i, k] of keys.entries()) {
      const r = await safeStep(ctx, `deactivate ${k.id}`, async () => ({ state: await deactivateKey(iam, plan.user, k.id), at: deps.now().toISOString() }));
      if (r.ok && r.value.state === 'gone') goneKeys.push(k.id);
      else if (r.ok) contained.push({ id: k.id, at: r.value.at });
      else {
        notContained.push(k.id);
        refusals.set(k.id, `${k.id} was NOT deactivated: ${withHint(r)}`);
      }
      // In a step: the body replays after every durable wait, and a replay must not post stale progress.
      await ctx.step(`progress-keys-${i}`, () => progress.report(i + 1, keys.length, 'access keys deactivated'));
    }
    // What IAM says now, key by key (a retry of this step reads again): every key of the user
    // without --key, so one made after the listing above still shows as Active.
    const check = await safeStep(ctx, 'verify-keys', () => listAccessKeys(iam, plan.user));
    const status = new Map(check.ok ? check.value.map((k) => [k.id, k.status]) : []);
    const watched = input.key ? keys : check.ok ? check.value : keys;
    const stillActive = check.ok ? watched.filter((k) => status.get(k.id) === 'Active').map((k) => k.id) : notContained;
    // Deleted since the listing: no such key to deactivate, or (deleted after) not in the listing after.
    const deleted = keys.map((k) => k.id).filter((id) => goneKeys.includes(id) || (check.ok && !status.has(id)));
    // A refused key deleted since cannot sign: not a failure.
    for (const [id, why] of refusals) if (!deleted.includes(id)) failures.push(why);
    // The user's keys now (the replacement's room): as listed after, or as the plan counted them, with those that appeared and less those deleted since.
    const keyCount = check.ok ? check.value.length : plan.keyCount + newer.length - goneKeys.length;

    // 2. Lock, when asked.
    const lockLines: string[] = [];
    if (input.lock) {
      // AttachUserPolicy of AWSDenyAll only (the role may attach no other policy); skipped when ListAttachedUserPolicies shows it.
      const deny = await safeStep(ctx, 'deny-all', () => attachDenyAll(iam, plan.user, plan.lock?.policyArn ?? denyAllArn()));
      if (deny.ok) lockLines.push(`AWS's managed policy ${code(DENY_ALL_POLICY)} ${deny.value === 'already' ? 'was attached already and' : 'is attached and'} denies every action`);
      else failures.push(`The deny-all policy ${code(DENY_ALL_POLICY)} was NOT attached: ${withHint(deny)}`);
      const pw = await safeStep(ctx, 'console-password', () => deleteLoginProfile(iam, plan.user));
      if (pw.ok) lockLines.push(pw.value === 'deleted' ? 'the console password is deleted' : 'it had no console password');
      else failures.push(`The console password was NOT deleted: ${withHint(pw)}`);
    }

    // 3. The replacement key, when asked: created and stored in one step, so the step's result (the
    // checkpoint) holds only the key ID and the secret's ARN.
    let replacement: { accessKeyId: string; secretArn: string } | undefined;
    if (input.newKey) {
      const name = replacementSecretName(plan.user, input.runId);
      const r = await safeStep(ctx, 'replacement-key', async () => {
        const made = await createKeyIntoSecret(iam, deps.clients.secretsManager(deps.config.regions.primary), plan.user, name);
        return { accessKeyId: made.accessKeyId, secretArn: made.secretArn };
      });
      if (r.ok) replacement = r.value;
      else failures.push(`No replacement key: ${withHint(r)}`);
    }

    // 4. Investigate.
    const found = await investigate(ctx, deps, plan, keys);
    failures.push(...found.failures);
    const thread = await postThread(ctx, deps, input, found.events);

    // 5. What to clean up: instances (by the principal per CloudTrail, or launched since), IAM changes.
    const launched = new Set(found.events.flatMap((e) => e.instanceIds ?? []));
    const instances: InstanceInfo[] = [];
    for (const region of plan.regions) {
      const r = await safeStep(ctx, `instances ${region}`, () => instancesSince(deps.clients.ec2(region), region, new Date(plan.since), [...launched]));
      if (r.ok) instances.push(...r.value);
      else failures.push(`Instances in ${region} could not be listed (${r.message}): check the EC2 console for instances launched since ${plan.since}.`);
    }
    instances.sort((a, b) => Number(launched.has(b.id)) - Number(launched.has(a.id)) || b.launchTime.localeCompare(a.launchTime));
    const iamWrites = iamChanges(found.events);

    // 6. The report.
    const lines: string[] = [];
    // The last key set Inactive: the keys are deactivated in order, so the last one's time is the newest.
    const containedAt = contained.at(-1)?.at;
    const inactive = keys.filter((k) => !stillActive.includes(k.id) && !deleted.includes(k.id));
    const goneText = deleted.length ? [`deleted since the listing: ${deleted.map((id) => code(id)).join(', ')}`] : [];
    if (!keys.length) lines.push(`:information_source: ${code(plan.user, 64)} has no access keys to deactivate.`);
    else if (!stillActive.length) {
      const off = inactive.length ? [`${plural(inactive.length, 'access key')} of ${code(plan.user, 64)} ${inactive.length === 1 ? 'is' : 'are'} Inactive${check.ok ? ' (checked with ListAccessKeys)' : ''}: ${inactive.map((k) => code(k.id)).join(', ')}`] : [];
      lines.push(`:lock: *Contained*${containedAt ? ` at ${slackDate(containedAt, { seconds: true })}` : ''}: ${[...off, ...goneText].join('; ')}.`);
    } else {
      const off = inactive.length ? [`Inactive: ${inactive.map((k) => code(k.id)).join(', ')}`] : [];
      lines.push(`:rotating_light: *NOT fully contained*: ${stillActive.map((id) => code(id)).join(', ')} ${stillActive.length === 1 ? 'is' : 'are'} still *Active*${[...off, ...goneText].map((x) => `; ${x}`).join('')}.`);
      needsHuman.push(`Deactivate ${stillActive.map((id) => code(id)).join(', ')} now (IAM console, or run this command again).`);
    }
    if (lockLines.length) lines.push(`:no_entry: *Locked*: ${lockLines.join('; ')}.`);
    if (replacement) lines.push(`:key: *Replacement key* ${code(replacement.accessKeyId)} is in Secrets Manager: ${code(replacement.secretArn, 300)} (its secret is shown nowhere else).`);

    const groups = groupEvents(found.events);
    const writes = found.events.filter((e) => !e.readOnly).length;
    const foundHead = `:mag: *Found* in CloudTrail since ${slackDate(plan.since)} in ${plan.regions.map((r) => code(r)).join(' and ')}: ${plural(found.events.length, 'event')}, ${plural(writes, 'write call')}${found.cut ? ` (:warning: more than ${formatCount(MAX_PAGES_PER_LOOKUP * 50)} events for one lookup: the rest is in the console)` : ''}${groups.length ? (writes ? '; writes first:' : ':') : '.'}`;
    const threadLine = found.events.length
      ? [
          thread.posted && !thread.refused
            ? `The full list (${formatCount(thread.shown)} of ${plural(found.events.length, 'event')}) is in this message's thread.`
            : thread.posted
              ? "Part of the list is in this message's thread; Slack refused the rest: look the user up in the CloudTrail console."
              : `The full list could not be posted in the thread (${thread.refused ? 'Slack refused it' : 'the run message could not be found'}): look the user up in the CloudTrail console.`,
        ]
      : [];
    const instanceHead = instances.length
      ? `:broom: *To clean up*: ${plural(instances.length, 'instance')} launched by ${code(plan.user, 64)} or since ${slackDate(plan.since)}:`
      : `:broom: No instance was launched by ${code(plan.user, 64)} or since ${slackDate(plan.since)} in the configured regions.`;
    const terminateOne = instances.length ? [`Terminate one: \`/dr compromise ${plan.user} --terminate ${instances[0]?.id ?? 'i-…'}\` (IDs separated by commas).`] : [];
    const iamHead = iamWrites.lines.length ? [`:busts_in_silhouette: *IAM changes* made by ${code(plan.user, 64)}:`] : [];
    // What no button does.
    if (iamWrites.users.length) needsHuman.push(`Delete the IAM users it created, after review: ${iamWrites.users.map((u) => code(u, 64)).join(', ')} (a restore never deletes users).`);
    if (iamWrites.keys.length) needsHuman.push(`Deactivate the access keys it created for ${iamWrites.keys.map((u) => code(u, 64)).join(', ')}.`);
    if (iamWrites.policies.length) needsHuman.push(`Review the policy changes: ${iamWrites.policies.slice(0, 5).map((p) => code(p, 120)).join(', ')}.`);
    if (keyCount >= MAX_ACCESS_KEYS && !replacement) needsHuman.push(`A replacement key needs room: IAM allows ${MAX_ACCESS_KEYS} keys and the user has ${keyCount}; delete one (after review) before \`--new-key\`.`);
    if (!input.lock) needsHuman.push('Consider *Deny all + revoke console*: an inactive key cannot sign, but the user may have a console password.');
    needsHuman.push('Find where the key leaked and rotate whatever used it (the replacement key lives in Secrets Manager); delete the inactive keys once reviewed.');
    const human = [':bust_in_silhouette: *Still needs a human*:', ...needsHuman.map((l) => `• ${l}`)];
    // The result is one Slack section (3,000 characters): fewer bullets until it fits; the thread has them all.
    const more = (n: number, what: string) => (n > 0 ? [`• …and ${plural(n, what)}`] : []);
    const assemble = (g: number, i: number, m: number) => [
      ...lines,
      foundHead,
      ...groups.slice(0, g).map((x) => `• ${groupLine(x)}`),
      ...more(groups.length - g, 'more group'),
      ...threadLine,
      instanceHead,
      ...instances.slice(0, i).map((x) => `• ${instanceLine(x, launched.has(x.id), plan.user)}`),
      ...more(instances.length - i, 'more instance'),
      ...terminateOne,
      ...iamHead,
      ...iamWrites.lines.slice(0, m).map((l) => `• ${l}`),
      ...more(iamWrites.lines.length - m, 'more IAM change'),
      ...human,
    ];
    const report = fitReport(assemble);

    const keyFlag = input.key ? ` --key ${input.key}` : '';
    const sinceFlag = ` --since ${plan.since}`;
    const next: NextStep[] = [];
    if (!input.lock) next.push({ label: 'Deny all + revoke console', command: `compromise ${plan.user}${keyFlag}${sinceFlag} --lock`, style: 'danger' });
    if (!input.newKey && !replacement && keyCount < MAX_ACCESS_KEYS) next.push({ label: 'Create replacement key', command: `compromise ${plan.user}${keyFlag}${sinceFlag} --new-key` });
    if (instances.length) {
      const ids = instances.slice(0, MAX_TERMINATE).map((i) => i.id);
      next.push({ label: instances.length > MAX_TERMINATE ? `Terminate the first ${MAX_TERMINATE} listed` : 'Terminate all listed', command: `compromise ${plan.user} --terminate ${ids.join(',')}`, style: 'danger' });
    }
    if ((iamWrites.roles.length || iamWrites.policies.length) && deps.config.backupBucket) next.push({ label: 'Restore IAM from backup', command: 'restore iam --all' });
    return { ok: failures.length === 0, lines: report, failures, next } satisfies Outcome;
  },
};

// ---- --terminate: the listed instances ---------------------------------------------------------------------

export interface TerminatePlan {
  byRegion: Record<string, string[]>;
}

const GONE = new Set(['shutting-down', 'terminated']);

const terminateListed: Runbook<CompromiseInput, TerminatePlan> = {
  title: (input) => `Compromised IAM user ${input.user}: terminate ${plural(input.terminate?.length ?? 0, 'instance')}`,
  destructive: true,
  resources: (input) => (input.terminate ?? []).map((id) => `ec2:${id}`),

  async plan(deps, input) {
    const ids = input.terminate ?? [];
    const found: InstanceInfo[] = [];
    for (const region of regionsOf(deps)) found.push(...(await findInstances(deps.clients.ec2(region), region, ids)));
    const missing = ids.filter((id) => !found.some((i) => i.id === id));
    if (missing.length) {
      throw new PreconditionError('unknown_instance', `${missing.map((id) => code(id)).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not an instance in ${regionsOf(deps).map((r) => code(r)).join(' or ')}; nothing was terminated.`, 'Use the IDs the compromise report listed.');
    }
    const live = found.filter((i) => !GONE.has(i.state));
    const gone = found.filter((i) => GONE.has(i.state));
    const will = input.dryRun ? 'would be' : 'will be';
    const byRegion: Record<string, string[]> = {};
    for (const i of live) (byRegion[i.region] ??= []).push(i.id);
    const lines = [
      live.length ? `*${plural(live.length, 'instance')}* ${will} terminated (their EBS volumes deleted as their settings say; nothing else is touched):` : 'Every named instance is terminated already.',
      ...live.slice(0, 20).map((i) => `• ${instanceLine(i)}`),
      ...(live.length > 20 ? [`• …and ${formatCount(live.length - 20)} more`] : []),
      ...(gone.length ? [`Already terminated: ${gone.map((i) => code(i.id)).join(', ')}`] : []),
    ];
    return { lines, data: { byRegion }, ...(live.length ? {} : { empty: true }) };
  },

  async execute(ctx, deps, input, plan) {
    // TerminateInstances' refusal, by region: told with what the check after shows (or with the check's own failure).
    const refused = new Map<string, string>();
    for (const [region, ids] of Object.entries(plan.byRegion)) {
      const r = await safeStep(ctx, `terminate ${region}`, () => terminate(deps.clients.ec2(region), region, ids));
      if (!r.ok) refused.set(region, withHint(r));
    }
    const states = new Map<string, string>();
    const failures: string[] = [];
    for (const [region, ids] of Object.entries(plan.byRegion)) {
      const r = await safeStep(ctx, `verify ${region}`, () => findInstances(deps.clients.ec2(region), region, ids));
      if (r.ok) for (const i of r.value) states.set(i.id, i.state);
      // An instance the check shows ended is ended, whatever TerminateInstances answered (a 5xx after it acted).
      const why = refused.get(region);
      if (!r.ok) failures.push(`The instances in ${region} could not be checked after: ${withHint(r)}${why ? ` (TerminateInstances had answered: ${why})` : ''}`);
      else {
        // Not ended by the check: each named with what is known of it, so a run that is not ok always says why.
        const left = ids.filter((id) => !GONE.has(states.get(id) ?? ''));
        const seen = left.filter((id) => states.has(id));
        const unseen = left.filter((id) => !states.has(id));
        const was = (l: string[]) => `${l.join(', ')} in ${region} ${l.length === 1 ? 'was' : 'were'}`;
        const them = (l: string[]) => (l.length === 1 ? 'it' : 'them');
        if (seen.length && why) failures.push(`${was(seen)} NOT terminated: ${why}`);
        else if (seen.length) failures.push(`${seen.map((id) => `${id} (${states.get(id)})`).join(', ')} in ${region} ${seen.length === 1 ? 'is' : 'are'} not ended, though TerminateInstances answered without error: check ${them(seen)} in the EC2 console.`);
        if (unseen.length) failures.push(`${was(unseen)} not found by the check after${why ? ` (TerminateInstances had answered: ${why})` : ''}: check ${them(unseen)} in the EC2 console.`);
      }
    }
    const all = Object.values(plan.byRegion).flat();
    const ended = all.filter((id) => GONE.has(states.get(id) ?? ''));
    const lines = [
      `:broom: Terminated *${formatCount(ended.length)}* of ${plural(all.length, 'instance')}: ${ended.map((id) => `${code(id)} (${states.get(id)})`).join(', ') || 'none'}.`,
      ...(ended.length < all.length ? [`:x: Still running or unknown: ${all.filter((id) => !ended.includes(id)).map((id) => code(id)).join(', ')}. Terminate them in the EC2 console.`] : []),
      `The other follow-ups stay commands: \`/dr compromise ${input.user} --lock\`, \`--new-key\`, \`/dr restore iam --all\`.`,
    ];
    return { ok: ended.length === all.length, lines, failures };
  },
};

export const runbook = (input: CompromiseInput): Runbook<CompromiseInput, unknown> => (input.terminate?.length ? terminateListed : contain) as Runbook<CompromiseInput, unknown>;

export { contain, terminateListed };
