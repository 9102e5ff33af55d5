/**
 * The tables `/dr restore dynamodb` makes: their names and the tags that mark them as drbot's. Pure
 * functions, no SDK: the Slack function's parser (args.ts) and three verbs' specs share them.
 *
 *   name  `<table>-restored-<UTC yyyymmdd-HHMMSS>` (the table part cut so the whole fits in 255)
 *   tags  drbot-run=<run id>, drbot-restored-from=<table>, and drbot-deletion-protection=on when
 *         the restore turned deletion protection on (copied from the source), so that
 *         `/dr delete restored-table` turns off only what drbot itself set.
 */

/** DynamoDB's table-name limit. */
export const TABLE_NAME_MAX = 255;
export const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export const TAG_RUN = 'drbot-run';
export const TAG_RESTORED_FROM = 'drbot-restored-from';
export const TAG_PROTECTION = 'drbot-deletion-protection';
/** Tags drbot writes on a restored table (never copied from a source). */
export const DRBOT_TAGS: readonly string[] = [TAG_RUN, TAG_RESTORED_FROM, TAG_PROTECTION];

const INFIX = '-restored-';
const STAMP = /\d{8}-\d{6}$/;

/** `20261201-101500` (UTC). */
export function utcStamp(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
}

/** The table a restore of `table` at `at` writes into. */
export function restoredTableName(table: string, at: Date): string {
  const suffix = `${INFIX}${utcStamp(at)}`;
  return table.slice(0, TABLE_NAME_MAX - suffix.length) + suffix;
}

/** The exact names restoredTableName gives for `table` (its truncation included). */
export function restoredPattern(table: string): RegExp {
  const prefix = restoredTableName(table, new Date(0)).slice(0, -'19700101-000000'.length);
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d{8}-\\d{6}$`);
}

/** The configured table a restored table's name says it came from (the longest match), if any. */
export function restoredFrom(name: string, tables: readonly string[]): string | undefined {
  return tables
    .filter((t) => t !== name && restoredPattern(t).test(name))
    .sort((a, b) => b.length - a.length)[0];
}

/**
 * The source a restored name points at, from the name alone (no config): what leases use, so a
 * delete and a cut-over of the same pair exclude each other. Empty when the name is not a restored one.
 */
export function sourceInName(name: string): string {
  const i = name.lastIndexOf(INFIX);
  return i > 0 && STAMP.test(name) && name.length - i === INFIX.length + 15 ? name.slice(0, i) : '';
}
