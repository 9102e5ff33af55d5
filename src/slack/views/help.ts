import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../poster';
import { COMMANDS, type CommandSpec } from '../registry';

function line(c: CommandSpec): string {
  const tags = [c.role === 'anyone' ? '' : c.role, c.destructive ? 'needs approval' : '', c.sandboxOnly ? 'sandbox only' : ''].filter(Boolean).join(', ');
  return `*\`${c.usage}\`*${tags ? ` _(${tags})_` : ''}\n${c.summary}\ne.g. \`${c.example}\``;
}

/** `/dr help`: every command, with one example each, straight from the registry. */
export function renderHelp(opts: { sandbox: boolean }): SlackMessage {
  const shown = COMMANDS.filter((c) => opts.sandbox || !c.sandboxOnly);
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: '*drbot* — disaster recovery for AWS. Destructive commands post a plan and wait for a second person to approve; add `--dry-run` to see the plan only.' } },
    ...shown.map((c): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: line(c) } })),
  ];
  const text = ['drbot commands:', ...shown.map((c) => `${c.usage} — ${c.summary}`)].join('\n');
  return { text, blocks };
}
