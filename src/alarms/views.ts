import { escapeMrkdwn, safeLines, slackDate } from '../slack/views/format';
import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { SlackMessage } from '../slack/poster';
import type { AlarmKind, AlarmMetric, AlarmState, AlarmThread, DigestModel, NoticeNotification } from './model';
import { REGION_CODE } from './model';
import { backupTargetOf } from './backup-target';
import { parseBackupJob, renderBackupJob } from './backup-job';

/** The action_ids the alarm buttons carry; listeners register exactly these. */
export const ALARM_ACTIONS = {
  ack: 'alarm_ack',
  checkReplication: 'alarm_check_replication',
  restoreReplica: 'alarm_restore_replica',
  runBackup: 'alarm_run_backup',
  viewLogs: 'alarm_view_logs',
  viewRun: 'alarm_view_run',
} as const;
export type AlarmActionId = (typeof ALARM_ACTIONS)[keyof typeof ALARM_ACTIONS];

/** Slack's limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  sectionText: 3000,
  fieldText: 2000,
  buttonValue: 2000,
  blocks: 50,
  /** Characters a message; Slack truncates around 12-40 k, we stay under 12 k. */
  message: 12_000,
} as const;

export interface AlarmViewOptions {
  /** Region for console links when the alarm's own region is unknown. */
  consoleRegion?: string;
  /** The DR runbook; a section anchor is added per alarm kind unless the URL has one. */
  runbookUrl?: string;
}

// ---- text helpers -------------------------------------------------------------------------

/** Escapes the three characters Slack's mrkdwn gives meaning to, so `<!channel>` cannot ping. */
export { escapeMrkdwn };

/** Cuts at `max` characters without splitting a surrogate pair or an `&amp;`-style entity. */
function cutAt(s: string, max: number): number {
  if (s.length <= max) return s.length;
  let cut = max;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  const amp = s.lastIndexOf('&', cut - 1);
  if (amp !== -1 && amp >= cut - 5 && s.indexOf(';', amp) >= cut) cut = amp;
  return cut;
}

/** Escapes, then clips to `max` characters with an ellipsis. */
/** AWS-supplied text (an alarm's name, reason, subject) as one safe line: escaped, unsafe characters shown as `�`, code spans closed, clipped. */
function clipEscaped(s: string, max: number): string {
  const e = escapeMrkdwn(safeLines(s.replace(/\r?\n/g, ' ')));
  if (e.length <= max) return e;
  return safeLines(`${e.slice(0, cutAt(e, max - 1))}…`);
}

function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,20}$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

/** Slack renders the date in the reader's time zone; the fallback is UTC. */
export { slackDate };

/** 42s, 45m, 1h 5m, 2d 3h. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

const STATE_EMOJI: Record<AlarmState, string> = {
  ALARM: ':red_circle:',
  OK: ':large_green_circle:',
  INSUFFICIENT_DATA: ':large_orange_circle:',
};
const STATE_LABEL: Record<AlarmState, string> = {
  ALARM: 'ALARM',
  OK: 'OK',
  INSUFFICIENT_DATA: 'INSUFFICIENT DATA',
};

const COMPARISON: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '≥',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside the band',
  LessThanLowerThreshold: 'below the band',
  GreaterThanUpperThreshold: 'above the band',
};

function titleCase(s: string): string {
  return /^[A-Z]+$/.test(s) ? s.charAt(0) + s.slice(1).toLowerCase() : s;
}

/** `AWS/S3 ReplicationLatency (Maximum over 900 s) > 900`. */
export function describeMetric(m: AlarmMetric): string {
  const parts = [`${m.namespace} ${m.name}`];
  const over = [m.statistic ? titleCase(m.statistic) : undefined, m.period !== undefined ? `over ${m.period} s` : undefined]
    .filter(Boolean)
    .join(' ');
  if (over) parts.push(`(${over})`);
  if (m.threshold !== undefined) {
    const op = m.comparison ? (COMPARISON[m.comparison] ?? m.comparison) : 'threshold';
    parts.push(`${op} ${m.threshold}${m.unit && m.unit !== 'None' ? ` ${m.unit}` : ''}`);
  }
  return parts.join(' ');
}

function consoleUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(name)}`;
}

const RUNBOOK_ANCHOR: Record<AlarmKind, string> = {
  'replication-lag': 'cross-region-replication',
  'replication-failed': 'cross-region-replication',
  'backup-failure': 'backup-monitoring',
  'run-failure': 'backup-monitoring',
  other: 'backup-monitoring',
};

function runbookLink(base: string, kind: AlarmKind): string {
  return base.includes('#') ? base : `${base}#${RUNBOOK_ANCHOR[kind]}`;
}

function button(actionId: AlarmActionId, text: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text, emoji: true }, value, ...(style ? { style } : {}) };
}

/**
 * The buttons an alarm thread gets. An open alarm: its kind's actions plus Acknowledge (until
 * someone acknowledges). A resolved alarm keeps the read-only check for the post-mortem, and Acknowledge until someone
 * has acknowledged it.
 */
export function alarmButtons(thread: Pick<AlarmThread, 'id' | 'kind' | 'state' | 'acknowledgedBy'> & { alarm?: Pick<AlarmThread['alarm'], 'name' | 'functionName' | 'metric'> }): Button[] {
  const value = thread.id;
  if (value.length > SLACK_LIMITS.buttonValue) return [];
  const resolved = thread.state === 'OK';
  const out: Button[] = [];
  if (thread.kind === 'replication-lag' || thread.kind === 'replication-failed') {
    out.push(button(ALARM_ACTIONS.checkReplication, 'Check replication', value));
    if (!resolved) out.push(button(ALARM_ACTIONS.restoreReplica, 'Restore from replica', value, 'danger'));
  } else if (thread.kind === 'backup-failure') {
    // The button names the backup it reruns; with none to name, there is no button to press by mistake.
    const target = thread.alarm ? backupTargetOf(thread.alarm) : undefined;
    if (!resolved && target) out.push(button(ALARM_ACTIONS.runBackup, target.label, value, 'primary'));
    out.push(button(ALARM_ACTIONS.viewLogs, 'View logs', value));
  } else if (thread.kind === 'run-failure') {
    out.push(button(ALARM_ACTIONS.viewRun, 'View run', value, 'primary'));
    out.push(button(ALARM_ACTIONS.viewLogs, 'View logs', value));
  }
  // Acknowledge stays until someone does: on-call records who looked, even after it cleared.
  if (!thread.acknowledgedBy) out.push(button(ALARM_ACTIONS.ack, 'Acknowledge', value));
  return out;
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function context(...texts: string[]): ContextBlock {
  return { type: 'context', elements: texts.map((text) => ({ type: 'mrkdwn', text })) };
}

// ---- alarm --------------------------------------------------------------------------------

function headline(thread: AlarmThread): string {
  const name = `*${clipEscaped(thread.alarm.name, 300)}*`;
  switch (thread.state) {
    case 'ALARM':
      return `${STATE_EMOJI.ALARM} *ALARM* ${name}${thread.count > 1 ? ` (×${thread.count})` : ''}`;
    case 'OK': {
      const after = thread.resolvedAt ? ` after ${formatDuration(thread.resolvedAt.getTime() - thread.episodeStart.getTime())}` : '';
      return `${STATE_EMOJI.OK} *Resolved*${after} ${name}`;
    }
    case 'INSUFFICIENT_DATA':
      return `${STATE_EMOJI.INSUFFICIENT_DATA} *INSUFFICIENT DATA* ${name}`;
  }
}

/** The one message an alarm keeps, updated in place as its state changes. */
export function renderAlarm(thread: AlarmThread, opts: AlarmViewOptions = {}): SlackMessage & { blocks: KnownBlock[] } {
  const a = thread.alarm;
  const blocks: KnownBlock[] = [];
  const head = headline(thread);
  blocks.push(section(a.description ? `${head}\n${clipEscaped(a.description, 1000)}` : head));

  const fields: { type: 'mrkdwn'; text: string }[] = [];
  fields.push({ type: 'mrkdwn', text: `*Reason*\n${clipEscaped(a.reason || '(none given)', 1900)}` });
  if (a.metric) fields.push({ type: 'mrkdwn', text: `*Metric*\n${clipEscaped(describeMetric(a.metric), 1000)}` });
  if (a.composite && a.rule) fields.push({ type: 'mrkdwn', text: `*Rule*\n${clipEscaped(a.rule, 1000)}` });
  if (a.bucket) fields.push({ type: 'mrkdwn', text: `*Bucket*\n${clipEscaped(a.bucket, 300)}` });
  if (a.functionName) fields.push({ type: 'mrkdwn', text: `*Function*\n${clipEscaped(a.functionName, 300)}` });
  fields.push({ type: 'mrkdwn', text: `*Region*\n${clipEscaped(a.regionName ? `${a.region} (${a.regionName})` : a.region, 200)}` });
  fields.push({ type: 'mrkdwn', text: `*State changed*\n${slackDate(a.stateChangeTime)}` });
  if (a.previousState) fields.push({ type: 'mrkdwn', text: `*Previous state*\n${STATE_LABEL[a.previousState]}` });
  blocks.push({ type: 'section', fields: fields.slice(0, 10) });

  if (a.composite && a.children?.length) {
    const names = a.children.slice(0, 10).map((c) => {
      const name = c.arn.includes(':alarm:') ? c.arn.slice(c.arn.indexOf(':alarm:') + 7) : c.arn;
      return `${clipEscaped(name, 200)}${c.state ? ` (${clipEscaped(c.state, 40)})` : ''}`;
    });
    blocks.push(context(`Triggered by ${names.join(', ')}${a.children.length > 10 ? ', …' : ''}`));
  }

  const seen: string[] = [];
  if (thread.count > 1) seen.push(`Seen ${thread.count} times, last ${slackDate(thread.lastSeen)}`);
  else seen.push(`First seen ${slackDate(thread.firstSeen)}`);
  if (thread.state === 'OK' && thread.resolvedAt) seen.push(`resolved ${slackDate(thread.resolvedAt)}`);
  if (thread.acknowledgedBy) {
    seen.push(`:eyes: Acknowledged by ${mention(thread.acknowledgedBy)}${thread.acknowledgedAt ? ` at ${slackDate(thread.acknowledgedAt)}` : ''}`);
  }
  blocks.push(context(seen.join(' · ')));

  const region = REGION_CODE.test(a.region) ? a.region : opts.consoleRegion;
  const links: string[] = [];
  if (region) links.push(`<${consoleUrl(region, a.name)}|CloudWatch console>`);
  if (opts.runbookUrl) links.push(`<${runbookLink(opts.runbookUrl, thread.kind)}|Runbook>`);
  if (links.length) blocks.push(context(links.join(' · ')));

  const buttons = alarmButtons(thread);
  if (buttons.length) {
    const actions: ActionsBlock = { type: 'actions', block_id: 'alarm_actions', elements: buttons };
    blocks.push(actions);
  }

  const stateWord = thread.state === 'OK' ? 'Resolved' : STATE_LABEL[thread.state];
  const text = `${stateWord}: ${clipEscaped(a.name, 255)}${a.reason ? ` — ${clipEscaped(a.reason, 200)}` : ''}`;
  return { text, blocks };
}

/** The short reply posted in the alarm's thread when it resolves. */
export function renderAlarmResolvedReply(thread: AlarmThread): SlackMessage {
  const after = thread.resolvedAt ? ` after ${formatDuration(thread.resolvedAt.getTime() - thread.episodeStart.getTime())}` : '';
  const when = thread.resolvedAt ? ` at ${slackDate(thread.resolvedAt)}` : '';
  const seen = thread.count > 1 ? ` Seen ${thread.count} times.` : '';
  return { text: `${STATE_EMOJI.OK} *${clipEscaped(thread.alarm.name, 255)}* resolved${after}${when}.${seen}` };
}

// ---- notice -------------------------------------------------------------------------------

const NOTICE_RAW_SECTIONS = 3;
const NOTICE_SECTION_BUDGET = SLACK_LIMITS.sectionText - 8; // room for the ``` fences

function topicName(arn: string): string {
  const i = arn.lastIndexOf(':');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/** Pretty JSON when the raw content is small, valid JSON; otherwise the raw text as it came. */
function displayRaw(raw: string): string {
  if (raw.length <= 20_000) {
    const t = raw.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.stringify(JSON.parse(t), null, 2);
      } catch {
        // not JSON (or too deep to print): show it as it came
      }
    }
  }
  return raw;
}

/**
 * A notification that is not a CloudWatch alarm, shown with its raw content in code blocks,
 * escaped (it cannot ping) and truncated to fit Slack's limits.
 */
export function renderNotice(n: NoticeNotification): SlackMessage & { blocks: KnownBlock[] } {
  // AWS Backup job events get their own message, with buttons (src/alarms/backup-job.ts).
  const job = parseBackupJob(n.raw);
  if (job) return renderBackupJob(job, n);
  const bytes = Buffer.byteLength(n.raw, 'utf8');
  const shown = safeLines(displayRaw(n.raw)).replace(/```/g, '\u02cb\u02cb\u02cb');
  let rest = escapeMrkdwn(shown);
  const chunks: string[] = [];
  while (rest.length && chunks.length < NOTICE_RAW_SECTIONS) {
    const cut = cutAt(rest, NOTICE_SECTION_BUDGET);
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  const truncated = rest.length > 0;

  const from = n.topicArn ? ` from \`${clipEscaped(topicName(n.topicArn), 256)}\`` : '';
  const head = `:envelope_with_arrow: *Notice*${from}: ${clipEscaped(n.reason, 400)}`;
  const blocks: KnownBlock[] = [section(n.subject ? `${head}\n*${clipEscaped(n.subject, 300)}*` : head)];
  if (chunks.length === 0) blocks.push(section('_(empty message)_'));
  for (const c of chunks) blocks.push(section(`\`\`\`${c}\`\`\``));
  const meta = [`MessageId \`${clipEscaped(n.messageId, 120)}\``, `received ${slackDate(n.receivedAt)}`];
  if (truncated) meta.push(`*truncated, ${bytes} bytes total*`);
  blocks.push(context(meta.join(' · ')));

  const text = `Notice${n.subject ? `: ${clipEscaped(n.subject, 200)}` : ''} — ${clipEscaped(n.reason, 200)}`;
  return { text, blocks };
}

// ---- digest -------------------------------------------------------------------------------

const DIGEST_TOP = 15;

/** One message standing in for many alarms in a channel while a storm lasts. */
export function renderDigest(d: DigestModel): SlackMessage & { blocks: KnownBlock[] } {
  const counts: Record<AlarmState, number> = { ALARM: 0, OK: 0, INSUFFICIENT_DATA: 0 };
  for (const a of d.alarms) counts[a.state] += 1;
  const rank = (s: AlarmState) => (s === 'ALARM' ? 0 : s === 'INSUFFICIENT_DATA' ? 1 : 2);
  const sorted = [...d.alarms].sort(
    (x, y) => y.count - x.count || rank(x.state) - rank(y.state) || y.lastSeen.getTime() - x.lastSeen.getTime() || x.name.localeCompare(y.name),
  );

  const blocks: KnownBlock[] = [];
  blocks.push(
    section(
      `:rotating_light: *Alarm storm*: ${d.alarms.length} alarm${d.alarms.length === 1 ? '' : 's'}, ` +
        `*${d.notifications} notification${d.notifications === 1 ? '' : 's'} recorded*`,
    ),
  );
  blocks.push({
    type: 'section',
    fields: (['ALARM', 'INSUFFICIENT_DATA', 'OK'] as const).map((s) => ({
      type: 'mrkdwn' as const,
      text: `${STATE_EMOJI[s]} *${s === 'OK' ? 'Resolved' : STATE_LABEL[s]}*\n${counts[s]}`,
    })),
  });

  if (sorted.length) {
    const lines: string[] = [];
    let used = 0;
    for (const a of sorted.slice(0, DIGEST_TOP)) {
      const line = `${STATE_EMOJI[a.state]} *${clipEscaped(a.name, 200)}* ×${a.count} · last ${slackDate(a.lastSeen)}`;
      if (used + line.length + 1 > SLACK_LIMITS.sectionText - 100) break;
      lines.push(line);
      used += line.length + 1;
    }
    const more = sorted.length - lines.length;
    if (more > 0) lines.push(`_…and ${more} more_`);
    blocks.push(section(`*Top alarms*\n${lines.join('\n')}`));
  }

  if (d.notices > 0) {
    const recent = d.recentNotices
      .slice(0, 5)
      .map((r) => `• ${r.subject ? `*${clipEscaped(r.subject, 150)}* — ` : ''}${clipEscaped(r.reason, 200)}`);
    blocks.push(section(`*${d.notices} other notice${d.notices === 1 ? '' : 's'}* (not alarms)${recent.length ? `\n${recent.join('\n')}` : ''}`));
  }

  blocks.push(
    context(
      `Individual alarm messages are held back while the storm lasts; every notification is recorded. ` +
        `Started ${slackDate(d.openedAt)}, updated ${slackDate(d.updatedAt)}.`,
    ),
  );

  const text =
    `Alarm storm: ${d.alarms.length} alarms (${counts.ALARM} ALARM, ${counts.INSUFFICIENT_DATA} INSUFFICIENT_DATA, ` +
    `${counts.OK} resolved), ${d.notifications} notifications recorded`;
  return { text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
