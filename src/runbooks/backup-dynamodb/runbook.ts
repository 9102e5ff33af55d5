import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { backupName, createBackup, describeBackup } from '../../aws/dynamodb';
import { withHint, wrapAws } from '../../errors';
import { formatCount } from '../../slack/views/run';
import { formatBytes, mapLimit } from '../../util/limit';
import { type Runbook, STEP, safeStep } from '../driver';
import { tableRegion } from '../resources';
import { type Copy, executePrune, planPrune, pruneLines, pruneResultLines } from '../retention';
import type { BackupDynamodbInput } from '.';
import { deleteTableBackup, listTableCopies } from './prune';

const POLL_SECONDS = 10;
/** A backup normally turns AVAILABLE in seconds to minutes; after this we report and stop waiting. */
const MAX_POLLS = 90;

export interface BackupPlan {
  targets: { table: string; region: string; backupName: string }[];
  /** drbot's backups past retention, deleted after the new ones are AVAILABLE (with --prune). */
  prune?: Copy[];
}

interface Made {
  table: string;
  arn: string;
  name: string;
}

const backup: Runbook<BackupDynamodbInput, BackupPlan> = {
  title: (input) => `On-demand backup of ${input.tables.length ? input.tables.join(', ') : 'every configured table'}`,
  destructive: false,

  async plan(deps, input) {
    const names = input.tables.length ? input.tables : deps.config.dynamodb.tables.map((t) => t.name);
    const now = deps.now();
    const targets = names.map((table) => ({ table, region: tableRegion(deps.config, table), backupName: backupName(table, now) }));
    if (!targets.length) return { lines: ['No table is configured under `dynamodb.tables`: nothing to back up.'], empty: true, data: { targets } };
    // Fail before creating anything if a table is missing or unreadable.
    await mapLimit(targets, 4, async (t) => {
      try {
        await deps.clients.dynamodb(t.region).send(new DescribeTableCommand({ TableName: t.table }));
      } catch (e) {
        throw wrapAws(e, 'DescribeTable', t.table);
      }
    });
    const lines = [
      `${formatCount(targets.length)} table${targets.length === 1 ? '' : 's'}: ${targets.map((t) => `\`${t.table}\` → \`${t.backupName}\``).join(', ')}`,
      'Creates on-demand backups only; no table is changed.',
    ];
    if (!input.prune) return { lines, data: { targets } };
    const retention = deps.config.retention.dynamodbBackupDays;
    const copies = (await mapLimit(targets, 4, (t) => listTableCopies(deps.clients.dynamodb(t.region), t.table))).flat();
    const pruning = planPrune(copies, retention, now);
    lines.push(...pruneLines(pruning, ['on-demand backup', 'on-demand backups'], retention, input.dryRun));
    return { lines, data: { targets, prune: pruning.delete } };
  },

  async execute(ctx, deps, _input, plan, progress) {
    const made: Made[] = [];
    const failures: string[] = [];
    for (const [i, t] of plan.targets.entries()) {
      // Progress is reported from inside steps only: code outside steps runs again on replay.
      // safeStep: throttling and 5xx are retried in the step; a failure keeps its hint (access denied: which permission).
      const r = await safeStep(ctx, `create-${t.table}`, async () => {
        try {
          const b = await createBackup(deps.clients.dynamodb(t.region), t.table, t.backupName);
          return { arn: b.arn, name: b.name };
        } finally {
          await progress.report(i + 1, plan.targets.length, 'backups started');
        }
      });
      if (r.ok) made.push({ table: t.table, arn: r.value.arn, name: r.value.name });
      else failures.push(`${t.table}: ${withHint(r)}`);
    }

    const regionOf = new Map(plan.targets.map((t) => [t.table, t.region]));
    type State = { table: string; arn: string; status: string; sizeBytes?: number };
    let states: State[] = made.map((m) => ({ table: m.table, arn: m.arn, status: 'CREATING' }));
    for (let poll = 0; poll <= MAX_POLLS && states.some((s) => s.status === 'CREATING'); poll++) {
      const prev = states;
      states = await ctx.step(
        `check-${poll}`,
        async () => {
          const next = await mapLimit(prev, 4, async (s) => {
            if (s.status !== 'CREATING') return s;
            const d = await describeBackup(deps.clients.dynamodb(regionOf.get(s.table)), s.arn);
            return { table: s.table, arn: s.arn, status: d.status, ...(d.sizeBytes !== undefined ? { sizeBytes: d.sizeBytes } : {}) };
          });
          await progress.report(next.filter((s) => s.status === 'AVAILABLE').length, next.length, 'backups available');
          return next;
        },
        STEP,
      );
      // MAX_POLLS waits, a check before each and one after the last: the time said is the time waited.
      if (poll < MAX_POLLS && states.some((s) => s.status === 'CREATING')) await ctx.wait(`wait-${poll}`, { seconds: POLL_SECONDS });
    }
    for (const s of states) if (s.status !== 'AVAILABLE' && s.status !== 'CREATING') failures.push(`${s.table}: backup ${s.status}`);
    const pending = states.filter((s) => s.status === 'CREATING');
    const lines = [
      `${formatCount(states.filter((s) => s.status === 'AVAILABLE').length)} of ${formatCount(plan.targets.length)} backups AVAILABLE:`,
      ...states.map((s) => `• \`${s.table}\` ${s.status}${s.sizeBytes !== undefined ? ` ${formatBytes(s.sizeBytes)}` : ''}\n   \`${s.arn}\``),
      ...(pending.length ? [`:hourglass: ${pending.length} still CREATING after ${(MAX_POLLS * POLL_SECONDS) / 60} min; check \`/dr status\` later.`] : []),
    ];
    if (plan.prune?.length) {
      const pruned = await executePrune(ctx, 'ddb', plan.prune, (c) => deleteTableBackup(deps.clients.dynamodb(tableRegion(deps.config, c.group)), c.id));
      lines.push(...pruneResultLines(pruned, 'old backup'));
      failures.push(...pruned.failures);
    }
    return { ok: failures.length === 0 && pending.length === 0, lines, failures };
  },
};

/**
 * Pruning deletes: a person's --prune waits for an approval of the plan that lists what goes. A
 * scheduled run prunes by the config's retention (reviewed policy) without waiting on anyone.
 */
export const runbook = (input: BackupDynamodbInput): Runbook<BackupDynamodbInput, BackupPlan> => (input.prune && !input.schedule ? { ...backup, destructive: true } : backup);
