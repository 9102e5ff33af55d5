import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { type ChangeStatus, changeStatus } from '../aws/route53';
import { DrbotError } from '../errors';

/** Where a durable wait for a Route53 change ended: INSYNC, still PENDING after the last check, or an error that ended it. */
export interface Insync {
  id: string;
  status: ChangeStatus;
  checks: number;
  error?: string;
}

/**
 * Waits (durably: no Lambda sleeps) until the change `changeId` is INSYNC, asking at most
 * `maxChecks` times, `delay(checks)` seconds after the check numbered `checks` (from 1). Throttling
 * or a 5xx asks again at the next check; any other error ends the wait, and is returned for the
 * report. `name` is the wait's operation name.
 */
export function waitInsync(ctx: DurableContext, r53: Route53Client, name: string, changeId: string, opts: { delay: (checks: number) => number; maxChecks: number }): Promise<Insync> {
  return ctx.waitForCondition<Insync>(
    name,
    async (s) => {
      try {
        return { ...s, status: await changeStatus(r53, s.id), checks: s.checks + 1 };
      } catch (e) {
        const transient = !(e instanceof DrbotError) || e.code === 'aws_throttled' || e.code === 'aws_error';
        return { ...s, checks: s.checks + 1, ...(transient ? {} : { error: e.message }) };
      }
    },
    {
      initialState: { id: changeId, status: 'PENDING', checks: 0 },
      waitStrategy: (s) => (s.status === 'INSYNC' || s.error || s.checks >= opts.maxChecks ? { shouldContinue: false } : { shouldContinue: true, delay: { seconds: opts.delay(s.checks) } }),
    },
  );
}
