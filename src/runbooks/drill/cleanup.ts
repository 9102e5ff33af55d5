import type { DurableContext } from '@aws/durable-execution-sdk-js';
import {
  canaryItemVisible,
  deleteCanaryItem,
  deleteCanaryObjects,
  DRILL_TAG,
  drillInstances,
  drillTableName,
  findCanaryObject,
  tableKeyAndReplica,
  tableTags,
  terminateDrillInstances,
} from '../../aws/drill';
import { deleteTable, describeTableIfAny } from '../../aws/dynamodb-restore';
import { DrbotError } from '../../errors';
import { code } from '../../slack/views/format';
import { formatCount } from '../../slack/views/run';
import { safeStep } from '../driver';
import type { RunbookDeps } from '../types';

/*
 * The drill's clean-up, by its run id alone (so a resumed run, a --keep, or `/dr drill cleanup`
 * finds the same things whatever the steps before recorded): instances tagged with the id, every
 * version of the canary key in each replicated bucket and its replica, each table's canary item
 * while it carries the id, and the temporary tables named with it (tagged with it or untagged).
 * Each part is its own checkpointed step, and a part that fails does not stop the others.
 */

const INSTANCE_POLL_SECONDS = 15;
const INSTANCE_MAX_POLLS = 40;

/** What a drill run left in AWS, found by its id. */
export interface Leftovers {
  instances: string[];
  objects: { bucket: string; region: string }[];
  items: string[];
  tables: string[];
}

const regionOf = (deps: RunbookDeps, r: string | undefined) => r ?? deps.config.regions.primary;

/** Where each canary object of a run could be: the replicated buckets and their replicas. */
function canaryBuckets(deps: RunbookDeps): { bucket: string; region: string }[] {
  return deps.config.s3.buckets.flatMap((b) => (b.replica ? [{ bucket: b.name, region: regionOf(deps, b.region) }, { bucket: b.replica.bucket, region: b.replica.region }] : []));
}

/**
 * A temporary table is this run's when it carries the run's tag, or no drill tag at all (a restore
 * whose tagging failed). Tags that cannot be read are an error, not "no tag": the table may be
 * another run's, so it is left alone.
 */
async function ownTable(deps: RunbookDeps, table: string, region: string, runId: string): Promise<string | undefined> {
  const ddb = deps.clients.dynamodb(region);
  const name = drillTableName(table, runId);
  const d = await describeTableIfAny(ddb, name);
  if (!d) return undefined;
  const tag = (await tableTags(ddb, d.TableArn ?? ''))[DRILL_TAG];
  if (tag !== undefined && tag !== runId) throw new DrbotError('drill_not_ours', `\`${name}\` is tagged \`${DRILL_TAG}=${tag}\`, not this run's: left alone.`, 'Remove it by hand if it should go.');
  return name;
}

/** What is left of a drill run (read-only; the plan of `/dr drill cleanup`). */
export async function findLeftovers(deps: RunbookDeps, runId: string): Promise<Leftovers> {
  const { backup } = deps.config.regions;
  const instances = (await drillInstances(deps.clients.ec2(backup), runId)).map((i) => i.InstanceId ?? '');
  const objects: Leftovers['objects'] = [];
  for (const b of canaryBuckets(deps)) if ((await findCanaryObject(deps.clients.s3(b.region), b.bucket, runId)).found) objects.push(b);
  const items: string[] = [];
  const tables: string[] = [];
  for (const t of deps.config.dynamodb.tables) {
    const region = regionOf(deps, t.region);
    const ddb = deps.clients.dynamodb(region);
    const { key } = await tableKeyAndReplica(ddb, t.name, backup);
    if (await canaryItemVisible(ddb, t.name, key, runId)) items.push(t.name);
    const own = await ownTable(deps, t.name, region, runId);
    if (own) tables.push(own);
  }
  return { instances, objects, items, tables };
}

export function leftoverLines(l: Leftovers, backup: string): string[] {
  return [
    ...l.instances.map((i) => `instance ${code(i)} in ${backup}`),
    ...l.objects.map((o) => `canary object ${code(`${o.bucket}/.drbot-drill/…`)} (every version of the run's key)`),
    ...l.items.map((t) => `canary item in ${code(t)}`),
    ...l.tables.map((t) => `temporary table ${code(t)}`),
  ];
}

export interface CleanupResult {
  removed: string[];
  failures: string[];
}

/** Removes everything a drill run created; every part is tried, whatever failed before it. */
export async function cleanUp(ctx: DurableContext, deps: RunbookDeps, runId: string): Promise<CleanupResult> {
  const { backup } = deps.config.regions;
  const removed: string[] = [];
  const failures: string[] = [];
  const ec2 = deps.clients.ec2(backup);

  const terminated = await safeStep(ctx, 'cleanup-instances', () => terminateDrillInstances(ec2, runId));
  if (!terminated.ok) failures.push(`clean-up of the instance: ${terminated.message}`);
  else if (terminated.value.length) {
    // Durable waits until EC2 says terminated, so the report can say nothing is left running.
    let left = terminated.value;
    for (let poll = 0; poll < INSTANCE_MAX_POLLS && left.length; poll++) {
      const r = await safeStep(ctx, `cleanup-instances-check-${poll}`, async () => (await drillInstances(ec2, runId)).map((i) => i.InstanceId ?? ''));
      left = r.ok ? r.value : left;
      if (left.length) await ctx.wait(`cleanup-instances-wait-${poll}`, { seconds: INSTANCE_POLL_SECONDS });
    }
    removed.push(...terminated.value.filter((i) => !left.includes(i)).map((i) => `instance ${code(i)} terminated`));
    if (left.length) failures.push(`instance ${left.join(', ')} not terminated after ${(INSTANCE_MAX_POLLS * INSTANCE_POLL_SECONDS) / 60} min`);
  }

  for (const [i, b] of canaryBuckets(deps).entries()) {
    const r = await safeStep(ctx, `cleanup-s3-${i}`, () => deleteCanaryObjects(deps.clients.s3(b.region), b.bucket, runId));
    if (!r.ok) failures.push(`clean-up of the canary in ${b.bucket}: ${r.message}`);
    else if (r.value) removed.push(`${formatCount(r.value)} canary object version${r.value === 1 ? '' : 's'} in ${code(b.bucket)}`);
  }

  for (const [i, t] of deps.config.dynamodb.tables.entries()) {
    const region = regionOf(deps, t.region);
    const ddb = deps.clients.dynamodb(region);
    const item = await safeStep(ctx, `cleanup-item-${i}`, async () => deleteCanaryItem(ddb, t.name, (await tableKeyAndReplica(ddb, t.name, backup)).key, runId));
    if (!item.ok) failures.push(`clean-up of the canary item in ${t.name}: ${item.message}`);
    else if (item.value) removed.push(`canary item in ${code(t.name)}`);
    const table = await safeStep(ctx, `cleanup-table-${i}`, async () => {
      const own = await ownTable(deps, t.name, region, runId);
      if (!own) return undefined;
      await deleteTable(ddb, own);
      return own;
    });
    if (!table.ok) failures.push(`clean-up of the temporary table of ${t.name}: ${table.message}`);
    else if (table.value) removed.push(`temporary table ${code(table.value)} deleted`);
  }
  return { removed, failures };
}
