/**
 * `sam build`'s esbuild step, reproduced without the SAM CLI:
 *
 *   npx tsx scripts/sam-build.ts        (run by .ci/run)
 *
 * SAM copies the project to a scratch directory, runs `npm ci`/`npm install` without dev
 * dependencies there, and runs that install's esbuild with the options of each function's
 * `Metadata.BuildProperties` (aws-lambda-builders' nodejs_npm_esbuild workflow). So this: copies
 * the sources and the example config (as drbot.config.yaml, which `sam build` requires) to a
 * temporary directory, installs production dependencies only, runs `node_modules/.bin/esbuild`
 * with the arguments samEsbuildArgs() derives from template.yaml, and loads each bundle the way
 * Lambda would (`<file>.handler` must be a function; the Slack handler answers a forged request
 * with 401). It fails if esbuild is not a production dependency, or a handler imports a dev one.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { parse } from 'yaml';

const REPO_ROOT = resolve(__dirname, '..');

/** The esbuild BuildProperties SAM reads (PascalCase in the template). */
export interface EsbuildProperties {
  EntryPoints: string[];
  Target?: string;
  Format?: string;
  Minify?: boolean;
  Sourcemap?: boolean;
  MainFields?: string;
  External?: string[];
  Loader?: string[];
}

export interface SamFunction {
  logicalId: string;
  handler: string;
  codeUri: string;
  properties: EsbuildProperties;
}

interface TemplateResource {
  Type?: string;
  Metadata?: { BuildMethod?: string; BuildProperties?: EsbuildProperties };
  Properties?: { Handler?: string; CodeUri?: string };
}

/** The esbuild-built functions of a SAM template (CloudFormation's short-form tags are not needed here). */
export function samFunctions(templateText: string): SamFunction[] {
  const template = parse(templateText, { logLevel: 'silent' }) as { Resources?: Record<string, TemplateResource> };
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function' && r.Metadata?.BuildMethod === 'esbuild')
    .map(([logicalId, r]) => {
      const properties = r.Metadata?.BuildProperties;
      if (!properties?.EntryPoints?.length) throw new Error(`${logicalId}: Metadata.BuildProperties.EntryPoints is missing`);
      return { logicalId, handler: r.Properties?.Handler ?? '', codeUri: r.Properties?.CodeUri ?? '.', properties };
    });
}

/**
 * The esbuild command line SAM runs for these properties: its defaults (bundle, platform node,
 * outdir, and target es2020 / format cjs / minify unless given), then booleans, single values and
 * the repeated `--loader:`/`--external:` options, then the entry points.
 */
export function samEsbuildArgs(p: EsbuildProperties, outdir: string): string[] {
  const args = ['--bundle', '--platform=node', `--outdir=${outdir}`];
  if (p.Target === undefined) args.push('--target=es2020');
  if (p.Format === undefined) args.push('--format=cjs');
  if (p.Minify === undefined) args.push('--minify');
  if (p.Minify) args.push('--minify');
  if (p.Sourcemap) args.push('--sourcemap');
  if (p.Target !== undefined) args.push(`--target=${p.Target}`);
  if (p.Format !== undefined) args.push(`--format=${p.Format}`);
  if (p.MainFields !== undefined) args.push(`--main-fields=${p.MainFields}`);
  for (const e of p.External ?? []) args.push(`--external:${e}`);
  for (const l of p.Loader ?? []) args.push(`--loader:${l}`);
  return [...args, ...p.EntryPoints];
}

/** What Lambda loads for `Handler: file.export`: <artifacts>/<file>.js exporting <export>. */
export function handlerFile(fn: SamFunction): { file: string; exported: string } {
  const [file, exported] = fn.handler.split('.');
  const entry = fn.properties.EntryPoints[0] ?? '';
  if (!file || !exported) throw new Error(`${fn.logicalId}: Handler ${fn.handler} is not file.export`);
  if (basename(entry, extname(entry)) !== file) throw new Error(`${fn.logicalId}: Handler ${fn.handler} does not match entry point ${entry} (esbuild writes ${basename(entry, extname(entry))}.js)`);
  return { file: `${file}.js`, exported };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function main(): void {
  const started = Date.now();
  const fns = samFunctions(readFileSync(join(REPO_ROOT, 'template.yaml'), 'utf8'));
  const scratch = mkdtempSync(join(tmpdir(), 'drbot-sam-build-'));
  try {
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'handlers', 'src', 'types']) {
      if (existsSync(join(REPO_ROOT, f))) cpSync(join(REPO_ROOT, f), join(scratch, f), { recursive: true });
    }
    // docs/deploy.md step 2: `sam build` needs drbot.config.yaml; CI uses the example.
    cpSync(join(REPO_ROOT, 'drbot.config.example.yaml'), join(scratch, 'drbot.config.yaml'));
    console.log('  npm ci --omit=dev (production dependencies only, as sam build installs them)');
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], scratch);
    const esbuild = join(scratch, 'node_modules', '.bin', 'esbuild');
    if (!existsSync(esbuild)) throw new Error('esbuild is not installed by `npm ci --omit=dev`: sam build would not find it (make it a dependency)');
    for (const dev of ['tsx', '@aws/durable-execution-sdk-js-testing', 'dynalite', 'jest']) {
      if (existsSync(join(scratch, 'node_modules', dev))) throw new Error(`${dev} is installed for the Lambda build; it belongs in devDependencies`);
    }
    for (const fn of fns) {
      if (fn.codeUri !== '.') throw new Error(`${fn.logicalId}: CodeUri ${fn.codeUri}; this check builds from the project root`);
      const outdir = join(scratch, '.aws-sam', fn.logicalId);
      const args = samEsbuildArgs(fn.properties, outdir);
      run(esbuild, [...args, '--log-level=warning'], scratch);
      const { file, exported } = handlerFile(fn);
      const bundle = join(outdir, file);
      const probe =
        `const m = require(${JSON.stringify(bundle)});` +
        `if (typeof m[${JSON.stringify(exported)}] !== 'function') { console.error('no ' + ${JSON.stringify(exported)} + ' export'); process.exit(1); }` +
        (fn.logicalId === 'SlackFunction'
          ? `m.handler({ headers: { 'x-slack-signature': 'v0=forged', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)) }, body: 'command=/dr&text=help', isBase64Encoded: false }, {})` +
            `.then((r) => process.exit(r.statusCode === 401 ? 0 : (console.error('status ' + r.statusCode), 1)));`
          : '');
      // Loaded from outside the scratch tree, as Lambda loads the artifact alone (no node_modules).
      const artifactOnly = mkdtempSync(join(tmpdir(), 'drbot-artifact-'));
      try {
        cpSync(outdir, artifactOnly, { recursive: true });
        run(process.execPath, ['-e', probe.replace(JSON.stringify(bundle), JSON.stringify(join(artifactOnly, file)))], artifactOnly, {
          ...process.env,
          SLACK_SIGNING_SECRET: 'ci-secret',
          SLACK_BOT_TOKEN: 'xoxb-ci',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        });
      } finally {
        rmSync(artifactOnly, { recursive: true, force: true });
      }
      const kib = (statSync(bundle).size / 1024).toFixed(1);
      console.log(`  ok   ${fn.logicalId}: esbuild ${args.filter((a) => !a.startsWith('--outdir')).join(' ')} -> ${file} (${kib} KiB), ${fn.handler} loads`);
    }
    console.log(`sam build check passed: ${fns.length} function(s) in ${Date.now() - started} ms`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e: unknown) {
    const err = e as { message?: string; stderr?: string };
    console.error(`sam build check FAILED: ${err.message ?? String(e)}${err.stderr ? `\n${err.stderr}` : ''}`);
    process.exitCode = 1;
  }
}
