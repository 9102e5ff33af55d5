import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { describeTableIfAny, readTableSettings, type TableSettings } from '../../aws/dynamodb-restore';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import type { Runbook } from '../driver';
import { ownedRestore } from '../restore-dynamodb/owned';
import { tableRegion } from '../resources';
import type { KeepDynamodbInput } from '.';

interface Side {
  name: string;
  arn: string;
  status: string;
  items?: number;
  streamArn?: string;
  settings: TableSettings;
  /** Settings AWS would not tell us (denied, throttled): shown as unread, never as off. */
  unread?: { setting: string; reason: string }[];
}

export interface KeepPlan {
  run: string;
  live?: Side;
  restored: Side;
}

async function side(ddb: Parameters<typeof readTableSettings>[0], desc: TableDescription): Promise<Side> {
  const { settings, unread } = await readTableSettings(ddb, desc);
  return {
    ...(unread.length ? { unread } : {}),
    name: desc.TableName ?? '',
    arn: desc.TableArn ?? '',
    status: desc.TableStatus ?? 'UNKNOWN',
    ...(desc.ItemCount !== undefined ? { items: desc.ItemCount } : {}),
    ...(desc.LatestStreamArn && settings.streamViewType ? { streamArn: desc.LatestStreamArn } : {}),
    settings,
  };
}

const onOff = (b: boolean | undefined) => (b ? 'on' : 'off');

function sideLine(s: Side, role: string): string {
  const st = s.settings;
  const unread = new Map((s.unread ?? []).map((u) => [u.setting, u.reason]));
  /** A setting AWS would not tell us is shown as unread with the reason, not as off. */
  const known = (setting: string, text: string) => (unread.has(setting) ? `${setting} unread: ${code(unread.get(setting) ?? '')}` : text);
  return [
    `*${role}* \`${s.name}\`: ${s.status}${s.items !== undefined ? `, ~${formatCount(s.items)} items` : ''}`,
    `ARN \`${s.arn}\``,
    known('PITR', `PITR ${onOff(st.pitr)}`),
    known('TTL', `TTL ${st.ttlAttribute ? `on ${code(st.ttlAttribute)}` : 'off'}`),
    `stream ${st.streamViewType ? `${st.streamViewType} \`${s.streamArn ?? '?'}\`` : 'off'}`,
    `deletion protection ${onOff(st.deletionProtection)}`,
    known('resource policy', `resource policy ${st.resourcePolicy ? 'yes' : 'none'}`),
  ].join(' · ');
}

export const runbook: Runbook<KeepDynamodbInput, KeepPlan> = {
  title: (input) => `Keep both: ${input.table} and ${input.restored}`,
  destructive: false,

  async plan(deps, input) {
    const region = tableRegion(deps.config, input.table);
    const ddb = deps.clients.dynamodb(region);
    const owned = await ownedRestore(ddb, input.restored, input.table, region);
    const live = await describeTableIfAny(ddb, input.table);
    const [restored, liveSide] = await Promise.all([side(ddb, owned.desc), live ? side(ddb, live) : undefined]);
    const lines = [
      `\`${input.restored}\` was made by drbot (run ${code(owned.run)}) from \`${input.table}\`.`,
      liveSide ? sideLine(liveSide, 'Live') : `*Live* \`${input.table}\`: gone (deleted).`,
      sideLine(restored, 'Restored'),
      '(~ counts are DynamoDB’s own, refreshed about every six hours.)',
    ];
    return { lines, data: { run: owned.run, restored, ...(liveSide ? { live: liveSide } : {}) } };
  },

  async execute(_ctx, _deps, input, plan) {
    const r = plan.restored;
    const l = plan.live;
    const stream = r.streamArn
      ? `Streams: consumers of ${l?.streamArn ? `the live table’s stream \`${l.streamArn}\`` : 'the live table’s stream'} (Lambda event source mappings, Kinesis adapters) do not see the restored table; its own stream is \`${r.streamArn}\`: add a mapping for it.`
      : 'Streams: the restored table has no stream; anything that consumed the live table’s stream gets nothing from it.';
    const lines = [
      `Both tables stay; nothing was changed. \`${r.name}\` is billed until it is deleted.`,
      '*To point an application at the restored table:*',
      `• Its table name is \`${r.name}\`: change the setting the application reads (for example \`TABLE_NAME=${r.name}\` in a Lambda function’s environment, or the app’s config) and redeploy; where an ARN is used, it is \`${r.arn}\`.`,
      `• IAM: policies that grant access to \`${l?.arn ?? `…:table/${input.table}`}\` (and \`/index/*\`) must also grant it to \`${r.arn}\`.`,
      `• ${stream}`,
      `• Alarms and dashboards on \`TableName=${input.table}\` do not cover \`${r.name}\`: copy the ones you need.`,
      `• Backups: drbot’s config lists \`${input.table}\`; if \`${r.name}\` is to stay, add it under \`dynamodb.tables\` so \`/dr status\`, \`/dr backup\` and \`/dr setup\` cover it.`,
      ...(r.settings.pitr || r.unread?.some((u) => u.setting === 'PITR') ? [] : [`• \`${r.name}\` has no PITR: turn it on before it holds data you cannot lose.`]),
    ];
    return { ok: true, lines, failures: [], next: [{ label: 'Delete restored table', command: `delete restored-table ${r.name}`, style: 'danger' }] };
  },
};
