import { deleteTable, describeTableIfAny, readPitrWindow, setDeletionProtection } from '../../aws/dynamodb-restore';
import { DrbotError, PreconditionError, sentence, withHint } from '../../errors';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { formatBytes } from '../../util/limit';
import { type Runbook, safeStep, step, type StepFailure, stepFailure } from '../driver';
import { ownedRestore } from '../restore-dynamodb/owned';
import { restoredFrom, sourceInName } from '../restored-tables';
import { tableRegion } from '../resources';
import type { DeleteRestoredTableInput } from '.';

export interface DeletePlan {
  table: string;
  region: string;
  run: string;
  /** Deletion protection is on, and drbot turned it on: it is turned off first. */
  unprotect: boolean;
  pitr: boolean;
}

/** A table takes seconds to minutes to go; after this many checks (~30 min) we report and stop waiting. */
const MAX_POLLS = 60;

interface GoneState {
  status: string;
  polls: number;
  transient: number;
  error?: StepFailure;
}

export const runbook: Runbook<DeleteRestoredTableInput, DeletePlan> = {
  title: (input) => `Delete restored table ${input.restored}`,
  destructive: true,
  // The restored table, and its source: a cut-over from it holds the source.
  resources: (input) => [`dynamodb:${input.restored}`, ...(sourceInName(input.restored) ? [`dynamodb:${sourceInName(input.restored)}`] : [])],

  async plan(deps, input) {
    const table = restoredFrom(input.restored, deps.config.dynamodb.tables.map((t) => t.name)) ?? '';
    const region = tableRegion(deps.config, table);
    const ddb = deps.clients.dynamodb(region);
    const owned = await ownedRestore(ddb, input.restored, table, region);
    const d = owned.desc;
    if (d.TableStatus !== 'ACTIVE') throw new PreconditionError('table_busy', `\`${input.restored}\` is ${d.TableStatus ?? 'not ACTIVE'}; a table can be deleted once it is ACTIVE.`, 'Run the command again in a few minutes.');
    const protectedNow = d.DeletionProtectionEnabled === true;
    if (protectedNow && !owned.protectionByDrbot) {
      throw new PreconditionError(
        'protected_by_someone',
        `\`${input.restored}\` has deletion protection that drbot did not turn on, so drbot does not turn it off.`,
        'If it is meant to go, turn deletion protection off in the console, then run this again.',
      );
    }
    const pitr = await readPitrWindow(ddb, input.restored).then(
      (w) => w.enabled,
      () => false,
    );
    const verb = input.dryRun ? 'Would delete' : 'Deletes';
    const lines = [
      `${verb} \`${input.restored}\` (${region}): restored from \`${table}\` by run ${code(owned.run)}${d.CreationDateTime ? ` on ${d.CreationDateTime.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}; ~${formatCount(d.ItemCount ?? 0)} items, ${formatBytes(d.TableSizeBytes ?? 0)} (DynamoDB’s counts, refreshed about every six hours).`,
      protectedNow ? 'Deletion protection is on, turned on by drbot when it copied it from the source: turned off first.' : 'Deletion protection is off.',
      pitr ? 'PITR is on, so DynamoDB keeps a system backup of it for 35 days after the deletion.' : 'PITR is off: no backup of it is kept once it is deleted.',
      `\`${table}\` and its backups are not touched. An application pointed at \`${input.restored}\` (Keep both) stops working.`,
    ];
    return { lines, data: { table, region, run: owned.run, unprotect: protectedNow, pitr } };
  },

  async execute(ctx, deps, input, plan) {
    const ddb = () => deps.clients.dynamodb(plan.region);
    const name = input.restored;
    // Checked again right before acting: the approval may have waited a while.
    if (plan.unprotect) {
      await step(ctx, 'unprotect', async () => {
        await ownedRestore(ddb(), name, plan.table, plan.region);
        await setDeletionProtection(ddb(), name, false);
      });
    }
    const deleted = await safeStep(ctx, 'delete', async () => {
      if (!(await describeTableIfAny(ddb(), name))) return 'gone' as const;
      await ownedRestore(ddb(), name, plan.table, plan.region);
      return deleteTable(ddb(), name);
    });
    if (!deleted.ok) {
      // Not deleted: the protection drbot took off goes back on, so a failed delete leaves the table as it was.
      const back = plan.unprotect ? await safeStep(ctx, 'reprotect', () => setDeletionProtection(ddb(), name, true)) : undefined;
      const protection = !plan.unprotect ? '' : back?.ok ? ' Its deletion protection is back on.' : ` Its deletion protection could not be turned back on (${back && !back.ok ? back.message : ''}): turn it on in the console.`;
      return {
        ok: false,
        lines: [`:x: \`${name}\` was not deleted: ${sentence(withHint(deleted))}${protection}`],
        failures: [`${name}: ${deleted.message}`],
      };
    }
    const first = deleted.value;
    const gone = await ctx.waitForCondition<GoneState>(
      'wait-gone',
      async (s) => {
        try {
          const d = await describeTableIfAny(ddb(), name);
          return { status: d ? (d.TableStatus ?? 'DELETING') : 'GONE', polls: s.polls + 1, transient: 0 };
        } catch (e) {
          if (!(e instanceof DrbotError)) throw e;
          if (e.code === 'aws_throttled' || e.code === 'aws_error') return { ...s, polls: s.polls + 1, transient: s.transient + 1 };
          return { ...s, polls: s.polls + 1, error: stepFailure(e) };
        }
      },
      {
        initialState: { status: first === 'gone' ? 'GONE' : 'DELETING', polls: 0, transient: 0 },
        waitStrategy: (s, attempt) => (s.status === 'GONE' || s.error || s.transient >= 20 || attempt >= MAX_POLLS ? { shouldContinue: false } : { shouldContinue: true, delay: { seconds: attempt <= 6 ? 5 : 30 } }),
      },
    );
    if (gone.status !== 'GONE') {
      const why = gone.error ? gone.error.message : `it is still ${gone.status}`;
      return { ok: false, lines: [`:hourglass: \`${name}\` was asked to be deleted, but ${why}. Check it in the console.`], failures: [`${name}: not deleted yet (${gone.status})`] };
    }
    return {
      ok: true,
      lines: [
        `:wastebasket: Deleted \`${name}\` (restored from \`${plan.table}\` by run ${code(plan.run)})${plan.unprotect ? ', after turning off the deletion protection drbot had set' : ''}.`,
        plan.pitr ? 'DynamoDB keeps a system backup of it for 35 days (`/dr restore dynamodb` cannot name it: it is not a configured table).' : 'No backup of it is kept.',
        `\`${plan.table}\` was not touched.`,
      ],
      failures: [],
    };
  },
};
