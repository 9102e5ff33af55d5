import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { listAliases } from '../../aws/lambda';
import { DrbotError } from '../../errors';
import type { VersionItem } from '../../aws/s3';
import { listStoredVersions, refsId } from '../export-prune';
import type { Copy } from '../retention';

/*
 * Retention adapter for stored Lambda versions: drbot's are the folders `lambda/<function>/<version>/`
 * holding `code.zip` and `configuration.json` (backup-lambda/runbook.ts); a folder is one copy, all
 * its object versions deleted together. The newest stored version and every version an alias points
 * at (its routing's extra version too) are pinned: never deleted, whatever their age. The per-run
 * manifests (`exports/…`) and `latest.json` are not versions and are left alone; any other object
 * under the function's prefix is someone else's.
 */

const FILES = new Set(['code.zip', 'configuration.json']);

/** `lambda/<fn>/<version>/<file>` → version and file, for drbot's two files only. */
function versionFile(fn: string, key: string): { version: string; file: string } | undefined {
  const m = /^lambda\/([^/]+)\/([1-9]\d{0,9})\/([^/]+)$/.exec(key);
  if (!m || m[1] !== fn || !FILES.has(m[3] ?? '')) return undefined;
  return { version: m[2] ?? '', file: m[3] ?? '' };
}

/** Versions an alias of the function points at, with the aliases' names. */
async function aliasTargets(lambda: LambdaClient, fn: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let aliases: Awaited<ReturnType<typeof listAliases>> = [];
  try {
    aliases = await listAliases(lambda, fn);
  } catch (e) {
    // A function that no longer exists has no aliases left; any other failure means we cannot know.
    if (!(e instanceof DrbotError && e.code === 'aws_not_found')) throw e;
  }
  for (const a of aliases) {
    for (const v of [a.FunctionVersion, ...Object.keys(a.RoutingConfig?.AdditionalVersionWeights ?? {})]) {
      if (v && v !== '$LATEST') out.set(v, [...(out.get(v) ?? []), a.Name ?? '?']);
    }
  }
  return out;
}

/** The function's stored version folders (and anything foreign under its prefix), as copies of the function. */
export async function listStoredVersionCopies(s3: S3Client, bucket: string, lambda: LambdaClient, fn: string): Promise<Copy[]> {
  const prefix = `lambda/${fn}/`;
  const [objects, aliases] = await Promise.all([listStoredVersions(s3, bucket, prefix), aliasTargets(lambda, fn)]);
  const folders = new Map<string, { refs: VersionItem[]; files: Set<string> }>();
  const foreign: Copy[] = [];
  for (const o of objects) {
    if (o.key === `${prefix}latest.json` || o.key.startsWith(`${prefix}exports/`)) continue;
    const vf = versionFile(fn, o.key);
    if (!vf) {
      foreign.push({ id: refsId([o]), group: fn, createdAt: o.lastModified.toISOString(), state: 'good', ours: false, label: o.key });
      continue;
    }
    const f = folders.get(vf.version) ?? { refs: [], files: new Set<string>() };
    f.refs.push(o);
    f.files.add(vf.file);
    folders.set(vf.version, f);
  }
  // The newest version stored whole: pinned by its number, not by when it was written (a first run stores them all at once).
  const complete = [...folders.entries()].filter(([, f]) => f.files.has('code.zip')).map(([v]) => Number(v));
  const newest = complete.length ? String(Math.max(...complete)) : undefined;
  const copies: Copy[] = [...folders.entries()].map(([version, f]) => {
    const why = [...(version === newest ? ['the newest version'] : []), ...(aliases.get(version) ?? []).map((a) => `alias ${a}`)];
    return {
      id: refsId(f.refs),
      group: fn,
      createdAt: new Date(Math.max(...f.refs.map((r) => r.lastModified.getTime()))).toISOString(),
      // configuration.json is written first, code.zip last: a folder without the code is a store that failed.
      state: f.files.has('code.zip') ? 'good' : 'failed',
      ours: true,
      label: `${prefix}${version}/`,
      ...(why.length ? { pinned: why.join(', ') } : {}),
    };
  });
  return [...copies, ...foreign];
}
