import type { KnownBlock } from '@slack/types';
import type { TrailEvent } from '../../aws/cloudtrail';
import type { InstanceInfo } from '../../aws/instances';
import type { SlackMessage } from '../../slack/poster';
import { code, escapeMrkdwn, oneLine, slackDate } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';

/*
 * The compromise report's pieces, pure: CloudTrail events grouped (writes first), the full list
 * for the thread, instances and IAM changes. Every value from CloudTrail or EC2 is someone else's
 * text (a user agent is whatever the caller sent): each goes through code() or safe() before Slack.
 */

export interface EventGroup {
  name: string;
  region: string;
  ip: string;
  agent: string;
  readOnly: boolean;
  count: number;
  oldest: string;
  newest: string;
  errors: number;
}

/** Events grouped by name, region, source IP and user agent: writes first, then the most frequent, then the newest. */
export function groupEvents(events: readonly TrailEvent[]): EventGroup[] {
  const groups = new Map<string, EventGroup>();
  for (const e of events) {
    const k = JSON.stringify([e.name, e.region, e.ip, e.agent, e.readOnly]);
    const g = groups.get(k);
    if (!g) {
      groups.set(k, { name: e.name, region: e.region, ip: e.ip, agent: e.agent, readOnly: e.readOnly, count: 1, oldest: e.time, newest: e.time, errors: e.errorCode ? 1 : 0 });
      continue;
    }
    g.count++;
    if (e.errorCode) g.errors++;
    if (e.time < g.oldest) g.oldest = e.time;
    if (e.time > g.newest) g.newest = e.time;
  }
  return [...groups.values()].sort((a, b) => Number(a.readOnly) - Number(b.readOnly) || b.count - a.count || b.newest.localeCompare(a.newest));
}

/** One group as a bullet: `RunInstances` ×3 in us-east-1 from `1.2.3.4` with `aws-cli/2…`, oldest – newest. */
export function groupLine(g: EventGroup): string {
  const span = g.oldest === g.newest ? slackDate(g.oldest) : `${slackDate(g.oldest)} – ${slackDate(g.newest)}`;
  const failed = g.errors ? ` (${formatCount(g.errors)} refused)` : '';
  return `${g.readOnly ? '' : '*write* '}${code(g.name, 60)} ×${formatCount(g.count)}${failed} in ${code(g.region, 30)} from ${code(g.ip || '?', 60)} with ${code(g.agent || '?', 40)}, ${span}`;
}

/** A CloudTrail value as a line in a code block: one line, nothing that closes the block or links. */
const safe = (s: string, max = 120) => escapeMrkdwn(oneLine(s.length > max ? `${s.slice(0, max)}…` : s).replace(/`/g, '\u02cb'));

const THREAD_SECTION_CHARS = 2_800;
const SECTIONS_PER_MESSAGE = 4;
export const MAX_THREAD_MESSAGES = 10;

/**
 * Every event, oldest first, as thread replies: code blocks of one line per event (time, name,
 * region, IP, user agent, key, what it touched), a few a message, at most MAX_THREAD_MESSAGES.
 */
export function eventThread(runId: string, user: string, events: readonly TrailEvent[]): { messages: SlackMessage[]; shown: number } {
  const sorted = [...events].sort((a, b) => a.time.localeCompare(b.time));
  const lines = sorted.map((e) =>
    [e.time.slice(0, 19).replace('T', ' ') + 'Z', e.readOnly ? 'read ' : 'WRITE', safe(e.name, 60), safe(e.region, 20), safe(e.ip || '?', 50), safe(e.accessKeyId || '-', 24), safe(e.agent || '?', 80), e.errorCode ? `refused:${safe(e.errorCode, 40)}` : '', e.instanceIds ? safe(e.instanceIds.join(','), 200) : '', e.target ? safe(e.target, 120) : '']
      .filter(Boolean)
      .join('  '),
  );
  const sections: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const l of lines) {
    if (cur.length && size + l.length + 1 > THREAD_SECTION_CHARS - 8) {
      sections.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(l);
    size += l.length + 1;
  }
  if (cur.length) sections.push(cur);
  const room = MAX_THREAD_MESSAGES * SECTIONS_PER_MESSAGE;
  const kept = sections.slice(0, room);
  const shown = kept.reduce((n, s) => n + s.length, 0);
  const parts = Math.ceil(kept.length / SECTIONS_PER_MESSAGE);
  const messages: SlackMessage[] = [];
  for (let i = 0; i < parts; i++) {
    const chunk = kept.slice(i * SECTIONS_PER_MESSAGE, (i + 1) * SECTIONS_PER_MESSAGE);
    const head = `*CloudTrail events of ${code(user, 64)} (run \`${runId}\`), part ${i + 1} of ${parts}*: time, read/WRITE, event, region, source IP, access key, user agent, what it touched`;
    const blocks: KnownBlock[] = [mrkdwn(head), ...chunk.map((s) => mrkdwn('```' + s.join('\n') + '```'))];
    if (i === parts - 1 && shown < lines.length) blocks.push(mrkdwn(`:warning: ${formatCount(lines.length - shown)} more events are not shown here (the thread holds the oldest ${formatCount(shown)}); look the rest up in the CloudTrail console.`));
    messages.push({ text: `CloudTrail events of ${user}, part ${i + 1} of ${parts}`, blocks });
  }
  return { messages, shown };
}

function mrkdwn(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text, verbatim: true } };
}

/** An instance as a bullet: id, type, region, launch time, tags, and (when known) who launched it. */
export function instanceLine(i: InstanceInfo, byPrincipal?: boolean, user = ''): string {
  const tags = i.tags.slice(0, 3).map((t) => code(`${t.key}=${t.value}`, 60));
  const more = i.tags.length > 3 ? ` +${i.tags.length - 3}` : '';
  return `${code(i.id)} ${code(i.type || '?', 20)} in ${code(i.region, 20)}, ${i.state}, launched ${slackDate(i.launchTime)}${tags.length ? `, tags ${tags.join(' ')}${more}` : ', no tags'}${byPrincipal === undefined ? '' : byPrincipal ? ` — launched by ${code(user, 64)} (CloudTrail)` : ' — launched since then (CloudTrail does not name who)'}`;
}

/** IAM writes by the principal, by what they make or change. */
export interface IamChanges {
  users: string[];
  roles: string[];
  keys: string[];
  policies: string[];
  lines: string[];
}

const USER_EVENTS = /^(CreateUser|CreateLoginProfile|UpdateLoginProfile|AddUserToGroup|PutUserPolicy|AttachUserPolicy)$/;
const ROLE_EVENTS = /^(CreateRole|UpdateAssumeRolePolicy|PutRolePolicy|AttachRolePolicy|DetachRolePolicy|DeleteRolePolicy|UpdateRole|PutRolePermissionsBoundary|DeleteRolePermissionsBoundary)$/;
const POLICY_EVENTS = /^(CreatePolicy|CreatePolicyVersion|SetDefaultPolicyVersion|PutGroupPolicy|AttachGroupPolicy)$/;

export function iamChanges(events: readonly TrailEvent[]): IamChanges {
  const out: IamChanges = { users: [], roles: [], keys: [], policies: [], lines: [] };
  const seen = new Set<string>();
  for (const e of [...events].sort((a, b) => a.time.localeCompare(b.time))) {
    if (e.source !== 'iam.amazonaws.com' || e.readOnly || e.errorCode) continue;
    const t = e.target ?? '';
    if (e.name === 'CreateUser' && t) out.users.push(t);
    else if (e.name === 'CreateAccessKey') out.keys.push(t || e.user);
    else if (ROLE_EVENTS.test(e.name) && t) out.roles.push(t);
    else if ((POLICY_EVENTS.test(e.name) || USER_EVENTS.test(e.name)) && t) out.policies.push(`${e.name} ${t}`);
    const k = `${e.name} ${t}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.lines.push(`${code(e.name, 60)}${t ? ` ${code(t, 120)}` : ''} at ${slackDate(e.time)}`);
  }
  out.users = [...new Set(out.users)];
  out.roles = [...new Set(out.roles)];
  out.keys = [...new Set(out.keys)];
  out.policies = [...new Set(out.policies)];
  return out;
}
