import type { KnownBlock } from '@slack/types';
import type { ButtonRef } from './signed';

const EMOJI: Record<string, string> = {
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  large_green_circle: '🟢',
  white_circle: '⚪',
  white_check_mark: '✅',
  x: '❌',
  warning: '⚠️',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  hourglass: '⏳',
  hourglass_flowing_sand: '⏳',
  alarm_clock: '⏰',
  raised_hand: '✋',
  clipboard: '📋',
  gear: '⚙️',
  memo: '📝',
  mag: '🔍',
  arrow_forward: '▶️',
  rotating_light: '🚨',
  bell: '🔔',
  eyes: '👀',
  information_source: 'ℹ️',
  envelope_with_arrow: '📩',
};

/** Slack mrkdwn to terminal text: mentions by name, dates by their fallback, entities decoded. */
export function mrkdwnToText(text: string, userName: (id: string) => string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(\|[^>]*)?>/g, (_, id: string) => `@${userName(id)}`)
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/:([a-z_]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface Rendered {
  text: string;
  buttons: ButtonRef[];
}

/**
 * Renders a message's blocks as readable text; buttons are listed for `/press` and numbered by
 * `number(button)` so numbers stay unique across the conversation.
 */
export function renderBlocks(blocks: KnownBlock[], fallback: string, userName: (id: string) => string, number: (b: ButtonRef) => number): Rendered {
  const out: string[] = [];
  const buttons: ButtonRef[] = [];
  const t = (s: string) => mrkdwnToText(s, userName);
  if (!blocks.length) return { text: t(fallback), buttons };
  for (const b of blocks) {
    switch (b.type) {
      case 'header':
        out.push(t(b.text.text).toUpperCase());
        break;
      case 'section':
        if (b.text) out.push(t(b.text.text));
        if (b.fields?.length) out.push(b.fields.map((f) => t(f.text)).join('   '));
        break;
      case 'context':
        out.push(
          b.elements
            .map((e) => (e.type === 'mrkdwn' || e.type === 'plain_text' ? t(e.text) : ''))
            .filter(Boolean)
            .join(' · '),
        );
        break;
      case 'divider':
        out.push('────────');
        break;
      case 'actions': {
        const labels: string[] = [];
        for (const el of b.elements) {
          if (el.type !== 'button') continue;
          const ref: ButtonRef = { action_id: el.action_id ?? '', value: el.value ?? '', text: el.text.text, ...(b.block_id ? { block_id: b.block_id } : {}) };
          buttons.push(ref);
          labels.push(`[${number(ref)}] ${el.text.text}`);
        }
        if (labels.length) out.push(labels.join('  '));
        break;
      }
      default:
        break;
    }
  }
  return { text: out.join('\n'), buttons };
}
