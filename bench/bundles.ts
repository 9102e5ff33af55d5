/**
 * Section 1: bundle sizes. drbot's handlers through scripts/build.ts `buildAll()` (the bundles
 * `npm run build` and `sam build` produce), and the minimal Bolt app (bench/minimal-app.ts) built
 * with the very same `buildOptions()` into the bench's temp dir. Also bundles the child-process
 * runner for the latency benches.
 */
import * as esbuild from 'esbuild';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT, buildAll, buildOptions } from '../scripts/build';

export interface BundleSize {
  name: string;
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** Bytes a package (or drbot's own code) contributes to a bundle's output. */
export interface Contributor {
  name: string;
  slackBytes: number;
  minimalBytes: number;
}

export interface BundlesResult {
  handlers: BundleSize[];
  minimal: BundleSize;
  /** Largest contributors to slack.js by output bytes, next to what they weigh in the minimal app. */
  composition: Contributor[];
  /** Absolute paths the latency benches load. */
  slackBundle: string;
  minimalBundle: string;
  runner: string;
  buildMs: number;
}

function sizeOf(name: string, path: string, shownPath: string): BundleSize {
  return { name, path: shownPath, bytes: statSync(path).size, gzipBytes: gzipSync(readFileSync(path), { level: 9 }).length };
}

/** Output bytes per npm package (scoped packages by scope/name), drbot's own files as `drbot (src, handlers)`. */
function byPackage(meta: esbuild.Metafile | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [file, o] of Object.entries(meta?.outputs ?? {})) {
    if (!file.endsWith('.js')) continue;
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = m ? (m[1] as string) : 'drbot (src, handlers)';
      out.set(name, (out.get(name) ?? 0) + bytesInOutput);
    }
  }
  return out;
}

export async function buildBundles(tmp: string): Promise<BundlesResult> {
  const started = Date.now();
  const built = await buildAll();
  const distDir = join(REPO_ROOT, 'dist', 'handlers');
  const handlers = built
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((b) => sizeOf(b.name, join(distDir, `${b.name}.js`), `dist/handlers/${b.name}.js`));

  const minimalBundle = join(tmp, 'minimal', 'minimal.js');
  const minimalMeta = (await esbuild.build({ ...buildOptions(join(REPO_ROOT, 'bench', 'minimal-app.ts'), minimalBundle), metafile: true })).metafile;
  const minimal = sizeOf('minimal Bolt app', minimalBundle, '(temp)/minimal.js');

  // Where slack.js's bytes come from: the same build again, into the temp dir, with a metafile.
  const slackMeta = (
    await esbuild.build({ ...buildOptions(join(REPO_ROOT, 'handlers', 'slack.ts'), join(tmp, 'composition', 'slack.js')), metafile: true })
  ).metafile;
  const slackBy = byPackage(slackMeta);
  const minimalBy = byPackage(minimalMeta);
  const composition = [...slackBy.entries()]
    .map(([name, bytes]) => ({ name, slackBytes: bytes, minimalBytes: minimalBy.get(name) ?? 0 }))
    .sort((a, b) => b.slackBytes - b.minimalBytes - (a.slackBytes - a.minimalBytes));

  // The runner is test tooling, not a Lambda: plain options, no minify, so a failure reads well.
  const runner = join(tmp, 'runner', 'runner.js');
  await esbuild.build({
    entryPoints: [join(REPO_ROOT, 'bench', 'runner.ts')],
    outfile: runner,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });

  const slack = handlers.find((h) => h.name === 'slack');
  if (!slack) throw new Error('buildAll() produced no dist/handlers/slack.js');
  return { handlers, minimal, composition, slackBundle: join(distDir, 'slack.js'), minimalBundle, runner, buildMs: Date.now() - started };
}
