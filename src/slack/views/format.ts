/** Small formatting pieces every view shares. */

/** Slack's own escaping for mrkdwn: &, < and > (which is what mentions and links are made of). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A time Slack shows in the reader's own zone, with a UTC fallback for clients that cannot. */
export function slackDate(at: Date | string, opts: { seconds?: boolean } = {}): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  const epoch = Math.floor(d.getTime() / 1000);
  const iso = d.toISOString();
  const fallback = opts.seconds ? `${iso.slice(0, 19).replace('T', ' ')}Z` : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${epoch}^{date_short_pretty} ${opts.seconds ? '{time_secs}' : '{time}'}|${fallback}>`;
}
