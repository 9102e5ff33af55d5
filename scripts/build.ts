/**
 * Bundles every Lambda entry point in handlers/*.ts into dist/handlers/<name>.js.
 *
 *   npm run build            (npx tsx scripts/build.ts)
 *
 * The options match template.yaml's esbuild Metadata (cjs, minified, source maps, `.yaml` as
 * text) so a local bundle is the bundle `sam build` deploys; the target is node20 so the same
 * bundle also runs on the oldest Node we support. The bench builds its comparison app through
 * buildOptions() to compare like with like.
 */
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseConfigText } from '../src/config/load';

export const REPO_ROOT = resolve(__dirname, '..');
export const CONFIG_FILE = 'drbot.config.yaml';
export const EXAMPLE_CONFIG_FILE = 'drbot.config.example.yaml';

/**
 * Handlers import `../drbot.config.yaml` as text. A fresh clone has only the example, so when
 * the real file is missing the import resolves to drbot.config.example.yaml beside it, with a
 * one-line notice: the build still works, and nobody ships the example unknowingly.
 */
const noticed = new Set<string>(); // one notice per missing file per process, not per bundle

export function configFallbackPlugin(log: (line: string) => void = (l) => console.warn(l)): esbuild.Plugin {
  return {
    name: 'drbot-config-fallback',
    setup(build) {
      build.onResolve({ filter: /(^|[\\/])drbot\.config\.yaml$/ }, (args) => {
        const wanted = resolve(args.resolveDir, args.path);
        if (existsSync(wanted)) return { path: wanted };
        const example = join(dirname(wanted), EXAMPLE_CONFIG_FILE);
        if (!existsSync(example)) return undefined; // let esbuild report the missing file
        if (!noticed.has(wanted)) {
          noticed.add(wanted);
          log(`drbot build: ${CONFIG_FILE} not found, bundling ${EXAMPLE_CONFIG_FILE} instead (cp ${EXAMPLE_CONFIG_FILE} ${CONFIG_FILE} to use your own)`);
        }
        return { path: example };
      });
      // The config is parsed and validated here, once, and bundled as data: a bad config fails the
      // build, and a cold start skips YAML parsing (about 11 ms) and never loads the yaml library.
      // (sam build's esbuild bundles it as text instead; the handler accepts both.)
      build.onLoad({ filter: /(^|[\\/])drbot\.config(\.example)?\.yaml$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const config = parseConfigText(text, basename(args.path));
        return { contents: JSON.stringify(config), loader: 'json' };
      });
    },
  };
}

/** esbuild options for one Lambda bundle: `entry` → `outfile`, exporting `handler` as CJS. */
export function buildOptions(entry: string, outfile: string): esbuild.BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    // Prefer ESM builds of dependencies (AWS SDK v3) so unused code is dropped.
    mainFields: ['module', 'main'],
    loader: { '.yaml': 'text' },
    plugins: [configFallbackPlugin()],
    logLevel: 'warning',
  };
}

/** The handler entry points: handlers/*.ts, minus helpers (`_x.ts`), declarations and tests. */
export function handlerEntries(root = REPO_ROOT): { name: string; entry: string }[] {
  const dir = join(root, 'handlers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('_') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => ({ name: basename(f, '.ts'), entry: join(dir, f) }));
}

export interface BuildAllOptions {
  root?: string;
  outDir?: string;
}

/** Builds every handler to <outDir>/<name>.js; returns each bundle's size in bytes. */
export async function buildAll(opts: BuildAllOptions = {}): Promise<{ name: string; bytes: number }[]> {
  const root = opts.root ?? REPO_ROOT;
  const outDir = opts.outDir ?? join(root, 'dist', 'handlers');
  const entries = handlerEntries(root);
  rmSync(outDir, { recursive: true, force: true });
  return Promise.all(
    entries.map(async ({ name, entry }) => {
      const outfile = join(outDir, `${name}.js`);
      await esbuild.build(buildOptions(entry, outfile));
      return { name, bytes: statSync(outfile).size };
    }),
  );
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const sizes = await buildAll();
  if (sizes.length === 0) {
    console.log('drbot build: no handlers found in handlers/*.ts');
    return;
  }
  const rows = sizes.map((s) => ({ path: `dist/handlers/${s.name}.js`, size: kib(s.bytes) }));
  const width = Math.max(...rows.map((r) => r.path.length));
  for (const r of rows) console.log(`  ${r.path.padEnd(width)}  ${r.size.padStart(10)}`);
  console.log(`drbot build: ${sizes.length} bundle(s) in ${Date.now() - started} ms`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    // esbuild has already printed the located errors; end with a short summary and a failing code.
    console.error(`drbot build failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    process.exitCode = 1;
  });
}
