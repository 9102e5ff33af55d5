import { escapeMrkdwn, oneLine, safeLines } from '../../slack/views/format';
import { type Colour, type Readiness, type ReadinessItem, rpoText } from './readiness';

/** The readiness as message lines: a summary, then every item red first, each escaped to one line. */

const EMOJI: Record<Colour, string> = { red: ':red_circle:', amber: ':large_orange_circle:', green: ':large_green_circle:' };
const KIND: Record<ReadinessItem['kind'], string> = { s3: 'S3', dynamodb: 'DynamoDB', ami: 'AMI', dns: 'DNS' };
const ORDER: Colour[] = ['red', 'amber', 'green'];
/** Items shown one per line; the rest are counted (a plan stays within Slack's section limits). */
const MAX_ITEMS = 30;

export function itemLine(i: ReadinessItem): string {
  const name = oneLine(i.name).replace(/`/g, '\u02cb').slice(0, 120);
  const parts = [i.reasons.join('; '), i.facts.length ? `_${i.facts.join(' · ')}_` : ''].filter(Boolean).map((p) => escapeMrkdwn(oneLine(p)).slice(0, 400));
  return safeLines(`${EMOJI[i.colour]} *${KIND[i.kind]}* \`${escapeMrkdwn(name)}\`${parts.length ? ` — ${parts.join(' — ')}` : ''}`);
}

export function countText(items: readonly ReadinessItem[]): string {
  const n = (c: Colour) => items.filter((i) => i.colour === c).length;
  return `${n('red')} red, ${n('amber')} amber, ${n('green')} green`;
}

export function readinessLines(r: Readiness): string[] {
  const sorted = [...r.items].sort((a, b) => ORDER.indexOf(a.colour) - ORDER.indexOf(b.colour));
  const lines = [
    `*Readiness of a failover to ${r.target}*: ${EMOJI[r.overall]} ${countText(r.items)}. Estimated RPO: ${escapeMrkdwn(rpoText(r))}.`,
    ...sorted.slice(0, MAX_ITEMS).map(itemLine),
    ...(sorted.length > MAX_ITEMS ? [`…and ${sorted.length - MAX_ITEMS} more (${countText(sorted.slice(MAX_ITEMS))})`] : []),
  ];
  if (r.unreachable.length) {
    lines.push(
      safeLines(`:warning: ${r.primary} unreachable (${r.unreachable.length} call${r.unreachable.length === 1 ? '' : 's'} with no answer within the short deadline, e.g. ${escapeMrkdwn(oneLine(r.unreachable[0] ?? '')).slice(0, 200)}): not needed for the failover.`),
    );
  }
  return lines;
}
