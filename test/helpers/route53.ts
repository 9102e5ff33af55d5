import { type Change, ChangeResourceRecordSetsCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { readZone, type Route53Export } from '../../src/runbooks/backup-route53/runbook';
import { byKey, isZoneOwned, recordKey, sameRecord } from '../../src/runbooks/restore-route53/diff';

/** Test helpers for hosted zones: change them in batches, read them whole, compare them with an export. */

/** Every record set of the zone by identity (name, type, set identifier). */
export async function zoneRecords(r53: Route53Client, zoneId: string): Promise<Map<string, ResourceRecordSet>> {
  return byKey((await readZone(r53, zoneId)).recordSets);
}

/** Applies changes in sequential batches of `chunk` (moto refuses more than 1,000 ResourceRecords a call, an UPSERT counting twice). */
export async function applyChanges(r53: Route53Client, zoneId: string, changes: readonly Change[], chunk = 400): Promise<void> {
  for (let i = 0; i < changes.length; i += chunk) {
    await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes.slice(i, i + chunk) } }));
  }
}

export async function readExportDoc(s3: S3Client, bucket: string, key: string): Promise<Route53Export> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await r.Body?.transformToString()) ?? '') as Route53Export;
}

export async function latestExportKey(s3: S3Client, bucket: string, zoneId: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `route53/${zoneId}/latest.json` }));
  return (JSON.parse((await r.Body?.transformToString()) ?? '{}') as { key: string }).key;
}

/**
 * Record by record, how the live zone differs from an export (the SOA and apex NS aside): each
 * exported record set missing or different, and, unless `extrasAllowed`, each live one the export
 * lacks. Empty when the zone equals the export.
 */
export function zoneVsExport(live: ReadonlyMap<string, ResourceRecordSet>, exported: readonly ResourceRecordSet[], apex: string, opts: { extrasAllowed?: readonly string[] } = {}): string[] {
  const out: string[] = [];
  const want = byKey(exported.filter((r) => !isZoneOwned(r, apex)));
  for (const [k, r] of want) {
    const now = live.get(k);
    if (!now) out.push(`missing ${k}`);
    else if (!sameRecord(now, r)) out.push(`different ${k}: ${JSON.stringify(now)} vs ${JSON.stringify(r)}`);
  }
  const allowed = new Set(opts.extrasAllowed ?? []);
  for (const [k, r] of live) if (!isZoneOwned(r, apex) && !want.has(k) && !allowed.has(k)) out.push(`extra ${k}`);
  return out;
}

/** The zone's own SOA and apex NS, as they are. */
export function zoneOwned(live: ReadonlyMap<string, ResourceRecordSet>, apex: string): ResourceRecordSet[] {
  return [...live.values()].filter((r) => isZoneOwned(r, apex)).sort((a, b) => recordKey(a).localeCompare(recordKey(b)));
}

/** Records the input of every call of one command that succeeded (faults injected at `initialize` and SDK retries excluded). */
export function countCalls(client: unknown, commandName: string): { inputs: Record<string, unknown>[]; undo: () => void } {
  const inputs: Record<string, unknown>[] = [];
  const name = `count-${commandName}-${Math.random().toString(36).slice(2)}`;
  const stack = (client as { middlewareStack: { add: (mw: unknown, o: unknown) => void; remove: (n: string) => void } }).middlewareStack;
  stack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const r = await next(args);
      if (context.commandName === commandName) inputs.push(args.input);
      return r;
    },
    { step: 'serialize', name },
  );
  return { inputs, undo: () => stack.remove(name) };
}
