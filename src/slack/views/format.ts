/** Small formatting pieces every view shares. */

/** Slack's own escaping for mrkdwn: &, < and > (which is what mentions and links are made of). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Characters that must never reach a message from user input: controls, line and paragraph separators, bidi and zero-width marks. */
// eslint-disable-next-line no-control-regex
export const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** One line of plain text: unsafe characters become a visible `�`. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE_CHARS, '\ufffd');
}

/**
 * Text our code composed around values it may not have escaped (a runbook's plan or result lines):
 * the unsafe characters become `�` (line breaks between our own lines stay), and a line whose code
 * spans do not close has its backticks neutralised, so nothing after it renders as code or not.
 */
export function safeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const clean = line.replace(UNSAFE_CHARS, '\ufffd');
      return (clean.match(/`/g)?.length ?? 0) % 2 === 0 ? clean : clean.replace(/`/g, '\u02cb');
    })
    .join('\n');
}

/**
 * A user-supplied value (a prefix, an S3 key) shown to an approver: one line, as a code span that
 * nothing can close (backticks become `ˋ`), escaped so no mention or link can form, cut at `max`.
 */
export function code(value: string, max = 200): string {
  const line = oneLine(value).replace(/`/g, '\u02cb');
  const cut = line.length > max ? `${line.slice(0, max)}…` : line;
  return `\`${escapeMrkdwn(cut)}\``;
}

/** A time Slack shows in the reader's own zone, with a UTC fallback for clients that cannot. */
export function slackDate(at: Date | string, opts: { seconds?: boolean } = {}): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  const epoch = Math.floor(d.getTime() / 1000);
  const iso = d.toISOString();
  const fallback = opts.seconds ? `${iso.slice(0, 19).replace('T', ' ')}Z` : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${epoch}^{date_short_pretty} ${opts.seconds ? '{time_secs}' : '{time}'}|${fallback}>`;
}
