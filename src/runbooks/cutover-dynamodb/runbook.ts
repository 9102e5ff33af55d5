import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createBackup, describeBackup } from '../../aws/dynamodb';
import { describeTableShape, findBackupByName, type KeyAttribute, listTableTags, type TableShape } from '../../aws/dynamodb-items';
import { PreconditionError } from '../../errors';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { isSdkControlFlow, type Outcome, type Runbook, safeStep, STEP, type StepFailure } from '../driver';
import { tableRegion } from '../resources';
import { spacedChecks, spacedDelay } from '../spaced-wait';
import type { NextStep } from '../verb';
import { allDone, type ChunkContext, type ChunkResult, type Cursor, deleteChunk, startCursors, writeChunk } from './apply';
import { type DiffCounts, diffTables, type TableDiff } from './diff';
import { type CutoverDynamodbInput, restoredNamePattern } from '.';

/** Segments of every parallel scan (the diff scans both tables at once: twice this many in flight). */
const SEGMENTS = 4;
/**
 * Items scanned per checkpointed chunk: a quarter of the table, from 500 to 5,000 items, and more
 * only where a table is so big that a phase would need over 2,000 chunks (the durable history holds
 * at most 25,000 operations). A chunk's checkpoint is its scan cursors and counts, whatever its size.
 * (Bigger chunks mean fewer scan pages: on moto every page costs time in proportion to the table.)
 */
const CHUNK_MIN = 500;
const CHUNK_MAX = 5000;
const CHUNKS_PER_PHASE_MAX = 2000;
/** A phase stops after this many chunks whatever happens (segments of uneven size, 1 MB pages). */
const MAX_CHUNKS_PER_PHASE = 4 * CHUNKS_PER_PHASE_MAX;

export function chunkItems(tableItems: number): number {
  return Math.max(Math.ceil(tableItems / CHUNKS_PER_PHASE_MAX), Math.min(CHUNK_MAX, Math.max(CHUNK_MIN, Math.ceil(tableItems / 4))));
}
const WRITE_CONCURRENCY = 4;
/** A chunk that fails for a passing reason is done again this many times, after durable waits of 5, 10, 20, 40 s. */
const CHUNK_RETRIES = 4;
const CHUNK_BACKOFF_SECONDS = 5;
/** An on-demand backup is usually AVAILABLE in seconds to minutes; after 30 min the run stops before writing. */
const BACKUP_WAIT_MINUTES = 30;
const BACKUP_NAME_MAX = 255;

/** The tags `/dr restore dynamodb` puts on the tables it restores. */
export const RESTORED_FROM_TAG = 'drbot-restored-from';
export const RUN_TAG = 'drbot-run';

export interface CutoverPlan {
  region: string;
  key: KeyAttribute[];
  backupName: string;
  counts: DiffCounts;
  /** Items scanned per chunk step. */
  chunkItems: number;
}

/**
 * `<table>-before-cutover-<UTC yyyymmdd-HHMMSS>-<run id>`, within DynamoDB's backup-name rules
 * ([a-zA-Z0-9_.-], ≤ 255). The run id makes the name this run's own: the safety-backup step reuses a
 * backup found by it (the one a retried step's CreateBackup had made), never an earlier run's.
 */
export function cutoverBackupName(table: string, now: Date, runId: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = `-before-cutover-${stamp}-${runId.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
  return table.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, BACKUP_NAME_MAX - suffix.length) + suffix;
}

function showSchema(t: TableShape): string {
  return t.key.map((k) => `${k.name} (${k.type || '?'}, ${k.role})`).join(', ');
}

/**
 * The refusals before anything is read item by item: both tables exist and are usable, RESTORED is
 * drbot's restored copy of TABLE (its name and its tag), and their keys are the same.
 */
async function checkTables(ddb: DynamoDBClient, input: CutoverDynamodbInput, region: string): Promise<{ live: TableShape; restored: TableShape; restoreRun: string }> {
  const { table, from } = input;
  if (!restoredNamePattern(table).test(from)) {
    throw new PreconditionError('not_a_restored_table', `\`${from}\` is not named like a restored copy of \`${table}\`.`, `drbot names them \`${table}-restored-<UTC yyyymmdd-HHMMSS>\`.`);
  }
  const [live, restored] = await Promise.all([describeTableShape(ddb, table), describeTableShape(ddb, from)]);
  if (!live) throw new PreconditionError('table_missing', `Table \`${table}\` does not exist in ${region}.`, 'Check the table name and region in the drbot config; to bring back a deleted table, restore it with `/dr restore dynamodb`.');
  if (!restored) {
    throw new PreconditionError('restored_table_missing', `There is no table \`${from}\` in ${region}.`, `Restore one first with \`/dr restore dynamodb ${table} --to TIME\` (or --backup, --latest-backup); its message offers the cut-over.`);
  }
  if (restored.status !== 'ACTIVE') throw new PreconditionError('restored_table_not_active', `\`${from}\` is ${restored.status}, not ACTIVE.`, 'Wait for the restore to finish, then run the cut-over again.');
  if (live.status !== 'ACTIVE' && live.status !== 'UPDATING') throw new PreconditionError('table_not_active', `\`${table}\` is ${live.status}.`, 'A cut-over writes into the table: wait until it is ACTIVE.');
  const tags = await listTableTags(ddb, restored.arn, from);
  const origin = tags[RESTORED_FROM_TAG];
  const restoreRun = tags[RUN_TAG];
  if (origin !== table || !restoreRun) {
    const said = origin === undefined ? `has no \`${RESTORED_FROM_TAG}\` tag` : `is tagged \`${RESTORED_FROM_TAG}\`=${code(origin, 80)}`;
    throw new PreconditionError(
      'not_a_restored_table',
      `\`${from}\` is not drbot's restored copy of \`${table}\`: it ${said}${origin === table ? ` but no \`${RUN_TAG}\` tag` : ''}.`,
      `A cut-over only copies from a table \`/dr restore dynamodb ${table}\` made (tagged \`${RESTORED_FROM_TAG}=${table}\` and \`${RUN_TAG}\`), so a table of other data is never copied over this one.`,
    );
  }
  const same = live.key.length === restored.key.length && live.key.every((k, i) => k.name === restored.key[i]?.name && k.role === restored.key[i]?.role && k.type === restored.key[i]?.type);
  if (!same) {
    throw new PreconditionError(
      'key_schema_mismatch',
      `The key schemas differ: \`${table}\` has ${showSchema(live)}; \`${from}\` has ${showSchema(restored)}.`,
      'Items are copied by their key, so both tables need the same key attributes and types. Restore again from a backup of this table.',
    );
  }
  return { live, restored, restoreRun };
}

function sampleLine(d: TableDiff): string {
  const parts = [
    d.samples.missing.length ? `missing ${d.samples.missing.map((k) => code(k, 80)).join(', ')}` : '',
    d.samples.different.length ? `different ${d.samples.different.map((k) => code(k, 80)).join(', ')}` : '',
    d.samples.extra.length ? `to delete ${d.samples.extra.map((k) => code(k, 80)).join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? `e.g. ${parts.join('; ')}` : '';
}

function nextSteps(input: CutoverDynamodbInput, again: boolean, deleteRestored: boolean): NextStep[] {
  return [
    ...(again ? [{ label: 'Cut over again', command: `cutover dynamodb ${input.table} --from ${input.from}`, style: 'primary' as const }] : []),
    ...(deleteRestored ? [{ label: 'Delete restored table', command: `delete restored-table ${input.from}`, style: 'danger' as const }] : []),
  ];
}

interface Totals {
  compared: number;
  written: number;
  deleted: number;
  unchanged: number;
  units: number;
}

export const runbook: Runbook<CutoverDynamodbInput, CutoverPlan> = {
  title: (input) => `Cut over ${input.table} to the data of ${input.from}`,
  destructive: true,
  // The restored table too: it must not be deleted while it is being copied from.
  resources: (input) => [`dynamodb:${input.table}`, `dynamodb:${input.from}`],

  async plan(deps, input) {
    const region = tableRegion(deps.config, input.table);
    const ddb = deps.clients.dynamodb(region);
    const { live, restoreRun } = await checkTables(ddb, input, region);
    const d = await diffTables(ddb, input.table, input.from, live.key, { segments: SEGMENTS });
    const backupName = cutoverBackupName(input.table, deps.now(), input.runId);
    const toWrite = d.missing + d.different;
    const counts: DiffCounts = { restoredItems: d.restoredItems, liveItems: d.liveItems, missing: d.missing, different: d.different, extra: d.extra, unchanged: d.unchanged, minUnits: d.minUnits, fullCopyUnits: d.fullCopyUnits };
    const data: CutoverPlan = { region, key: live.key, backupName, counts, chunkItems: chunkItems(Math.max(d.restoredItems, d.liveItems)) };
    if (toWrite + d.extra === 0) {
      return {
        lines: [`\`${input.table}\` already holds the data of \`${input.from}\`: all *${formatCount(d.unchanged)}* items are the same (full diff of both tables). Nothing to do.`],
        empty: true,
        data,
      };
    }
    const lines = [
      `Make \`${input.table}\` hold the data of \`${input.from}\` (restored by run ${code(restoreRun, 40)}), item by item: the table keeps its name, ARN, stream, alarms and IAM.`,
      `Full diff of both tables (${formatCount(d.restoredItems)} restored items, ${formatCount(d.liveItems)} live): *${formatCount(toWrite)}* to write (${formatCount(d.missing)} missing, ${formatCount(d.different)} different), *${formatCount(d.extra)}* to delete, ${formatCount(d.unchanged)} unchanged.`,
      sampleLine(d),
      `First ${input.dryRun ? 'it would take' : 'it takes'} an on-demand safety backup of \`${input.table}\`, \`${backupName}\`, and writes only once it is AVAILABLE.`,
      `Only the differing items are written: ${formatCount(d.minUnits)} write units (copying every item would take ${formatCount(d.fullCopyUnits)}).`,
      `:warning: Pause the writers of \`${input.table}\` first: what they write during the cut-over may be overwritten or deleted.`,
    ].filter(Boolean);
    return { lines, data };
  },

  async execute(ctx, deps, input, plan, progress) {
    const ddb = deps.clients.dynamodb(plan.region);
    const again = nextSteps(input, true, false);

    // 1. The safety backup, AVAILABLE before anything is written (a retried step finds the one it made).
    const made = await safeStep(ctx, 'safety-backup', async () => (await findBackupByName(ddb, input.table, plan.backupName)) ?? (await createBackup(ddb, input.table, plan.backupName)));
    if (!made.ok) {
      return { ok: false, lines: [`Nothing was changed: the safety backup \`${plan.backupName}\` of \`${input.table}\` could not be made, so no item was written.`], failures: [failureText(made)], next: again };
    }
    const backup = made.value;
    let status = backup.status;
    // CreateBackup's own answer is the first check; 64 more in the 30 min, the last at its end (each wait and check is a durable operation, of the 25,000 a run may hold)
    for (let poll = 0; status === 'CREATING' && poll < spacedChecks(BACKUP_WAIT_MINUTES) - 1; poll++) {
      // after the first check, 10 s apart in the first minute, then 30 s
      await ctx.wait(`backup-wait-${poll}`, { seconds: spacedDelay(poll + 1) });
      const d = await safeStep(ctx, `backup-check-${poll}`, async () => {
        const b = await describeBackup(ddb, backup.arn);
        await progress.report(0, plan.counts.restoredItems + plan.counts.liveItems, `waiting for the safety backup (${b.status}); items compared`);
        return b.status;
      });
      if (!d.ok) return { ok: false, lines: [`Nothing was changed: the safety backup \`${plan.backupName}\` could not be checked, so no item was written.`], failures: [failureText(d)], next: again };
      status = d.value;
    }
    if (status !== 'AVAILABLE') {
      const why = status === 'CREATING' ? `still CREATING after ${BACKUP_WAIT_MINUTES} min` : status;
      return { ok: false, lines: [`Nothing was changed: the safety backup \`${plan.backupName}\` is ${why}, so no item was written.`], failures: [`backup ${backup.arn}: ${status}`], next: again };
    }
    const backupLine = `Safety backup \`${plan.backupName}\` is AVAILABLE (\`${backup.arn}\`): it holds \`${input.table}\` as it was before the cut-over.`;

    // 2. Write what differs, then delete what the restored table does not have: chunk by chunk. A
    // chunk that fails for a passing reason is done again after a durable wait; it compares again
    // first, so what its failed attempt wrote is not written twice (and was counted then).
    const totals: Totals = { compared: 0, written: 0, deleted: 0, unchanged: 0, units: 0 };
    let writeCompared = 0;
    const total = plan.counts.restoredItems + plan.counts.liveItems;
    const chunkCtx: ChunkContext = { ddb, live: input.table, restored: input.from, key: plan.key, budget: plan.chunkItems, writeConcurrency: WRITE_CONCURRENCY };
    let failure: StepFailure | undefined;
    let retried = 0;
    for (const phase of ['write', 'delete'] as const) {
      let cursors: Cursor[] = startCursors(SEGMENTS);
      for (let i = 0; !allDone(cursors) && i < MAX_CHUNKS_PER_PHASE && !failure; i++) {
        for (let attempt = 0; ; attempt++) {
          const before = { ...totals };
          const from = cursors;
          const r = await chunkStep(ctx, attempt ? `${phase}-${i}-again-${attempt}` : `${phase}-${i}`, from, async () => {
            const c = await (phase === 'write' ? writeChunk : deleteChunk)(chunkCtx, from);
            await progress.report(Math.min(total, before.compared + c.compared), total, `items compared, ${formatCount(before.written + c.written)} written, ${formatCount(before.deleted + c.deleted)} deleted:`);
            return c;
          });
          totals.written += r.written;
          totals.deleted += r.deleted;
          totals.units += r.units;
          if (!r.failure) {
            totals.compared += r.compared;
            if (phase === 'write') writeCompared += r.compared;
            cursors = r.cursors;
            break;
          }
          if (!r.failure.transient || attempt >= CHUNK_RETRIES) {
            failure = r.failure;
            break;
          }
          retried++;
          await ctx.wait(`${phase}-${i}-backoff-${attempt}`, { seconds: CHUNK_BACKOFF_SECONDS * 2 ** attempt });
        }
      }
      if (failure) break;
    }
    // Each restored item was compared once by a chunk that finished: written (maybe by an earlier, failed attempt) or already the same.
    totals.unchanged = Math.max(0, writeCompared - totals.written);

    const toWrite = plan.counts.missing + plan.counts.different;
    const doneLine = `Wrote *${formatCount(totals.written)}* of ${formatCount(toWrite)} items and deleted *${formatCount(totals.deleted)}* of ${formatCount(plan.counts.extra)} in \`${input.table}\`; ${formatCount(totals.unchanged)} were already the same${retried ? ` (${formatCount(retried)} chunk${retried === 1 ? '' : 's'} done again after a passing failure)` : ''}.`;
    const unitsLine = `Write units: *${formatCount(totals.units)}* spent; the minimum for these changes was ${formatCount(plan.counts.minUnits)} (copying every item would have taken ${formatCount(plan.counts.fullCopyUnits)}).`;
    if (failure) {
      return {
        ok: false,
        lines: [`:x: Stopped part-way: wrote *${formatCount(totals.written)}* of ${formatCount(toWrite)} items and deleted *${formatCount(totals.deleted)}* of ${formatCount(plan.counts.extra)} in \`${input.table}\` before it failed.`, backupLine, `Fix the cause and press Cut over again: it diffs again and writes only what still differs.`],
        failures: [failureText(failure)],
        next: again,
      };
    }

    // 3. Verify: a second full diff must find nothing.
    const verified = await safeStep(ctx, 'verify', async () => {
      const d = await diffTables(ddb, input.table, input.from, plan.key, { segments: SEGMENTS });
      return { toWrite: d.missing + d.different, extra: d.extra, items: d.restoredItems };
    });
    if (!verified.ok) {
      return { ok: false, lines: [doneLine, unitsLine, backupLine, ':warning: The verifying diff could not run.'], failures: [failureText(verified)], next: nextSteps(input, true, true) };
    }
    const v = verified.value;
    const clean = v.toWrite === 0 && v.extra === 0;
    const lines = [
      doneLine,
      unitsLine,
      clean
        ? `:mag: Verified by a full diff of both tables: *0* differences; \`${input.table}\` holds the ${formatCount(v.items)} items of \`${input.from}\`, item by item.`
        : `:warning: Verified by a full diff of both tables: *${formatCount(v.toWrite)}* items still differ and *${formatCount(v.extra)}* are still to delete (written by something else meanwhile?). Cut over again to finish.`,
      backupLine,
      `\`${input.from}\` is kept until someone presses Delete restored table.`,
    ];
    return { ok: clean, lines, failures: [], next: nextSteps(input, !clean, true) } satisfies Outcome;
  },
};

function failureText(f: { message: string; hint?: string }): string {
  return f.hint ? `${f.message.replace(/\.?$/, '.')} ${f.hint}` : f.message;
}

/**
 * A chunk as a checkpointed step. A chunk that keeps failing in a way we do not understand (the
 * step's own retries spent) stops the run like a permanent failure, so it still says what was done.
 */
async function chunkStep(ctx: DurableContext, name: string, from: Cursor[], fn: () => Promise<ChunkResult>): Promise<ChunkResult> {
  try {
    return await ctx.step(name, fn, STEP);
  } catch (e) {
    if (isSdkControlFlow(e)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    return { cursors: from, compared: 0, written: 0, deleted: 0, unchanged: 0, units: 0, failure: { code: 'step_failed', message: `${name}: ${message.slice(0, 300)}`, transient: false } };
  }
}
