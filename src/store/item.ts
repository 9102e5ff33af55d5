import * as z from 'zod/mini';
import { DrbotError } from '../errors';

/*
 * Reading state-table items through schemas (zod/mini, as the config does, for the Slack bundle's
 * size). An item that does not match fails with StateItemError naming its key; a field is never
 * silently defaulted unless its absence has a meaning, said where the schema says so.
 */

/** An item in the state table is not what this code reads. Names the item's key and every mismatch. */
export class StateItemError extends DrbotError {
  constructor(
    readonly key: string,
    readonly issues: string,
  ) {
    super('state_item_invalid', `State table item \`${key}\` does not match what drbot reads: ${issues}`, 'Check or delete the item in the state table; the logs have the correlation id.');
  }
}

/** An ISO 8601 time as the store writes it (`Date#toISOString`), read as a Date. */
export const isoDate = z.pipe(
  z.string().check(z.refine((s) => Number.isFinite(Date.parse(s)), 'expected an ISO 8601 time')),
  z.transform((s: string) => new Date(s)),
);

/** JSON text (an attribute holding a serialised object), parsed; invalid JSON is a schema issue, not a throw. */
export const jsonText = z.pipe(
  z.string(),
  z.transform((s: string, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'expected JSON text', input: s });
      return z.NEVER;
    }
  }),
);

/** One line per issue: `path: message`. */
function describe(error: z.core.$ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(item)'}: ${i.message}`).join('; ');
}

/** Parses `item` (the item whose key is `key`) with `schema`, or throws StateItemError. */
export function readItem<S extends z.ZodMiniType>(schema: S, item: unknown, key: string): z.output<S> {
  const r = z.safeParse(schema, item);
  if (!r.success) throw new StateItemError(key, describe(r.error));
  return r.data;
}
