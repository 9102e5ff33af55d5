import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOptions, configFallbackPlugin, handlerEntries } from '../../scripts/build';

/** Loads a bundle in a separate Node process (as Lambda would) and returns what handler() gives. */
function runHandler(outfile: string): { kind: string; result: unknown } {
  const script = `
    const m = require(${JSON.stringify(outfile)});
    Promise.resolve(m.handler()).then((result) => {
      process.stdout.write(JSON.stringify({ kind: typeof m.handler, result }));
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    kind: string;
    result: unknown;
  };
}

describe('scripts/build', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drbot-build-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('bundles an entry that imports .yaml into CJS exporting handler, with the yaml text inside', async () => {
    // Prepare
    writeFileSync(join(dir, 'inventory.yaml'), 'buckets:\n  - name: marker-bucket-7f3a\n');
    writeFileSync(
      join(dir, 'entry.ts'),
      [
        "import text from './inventory.yaml';",
        'export const handler = async (): Promise<string> => text;',
      ].join('\n'),
    );
    const outfile = join(dir, 'out', 'entry.js');

    // Act
    const result = await esbuild.build(buildOptions(join(dir, 'entry.ts'), outfile));

    // Assess
    expect(result.errors).toHaveLength(0);
    const code = readFileSync(outfile, 'utf8');
    expect(code).toContain('marker-bucket-7f3a');
    expect(code).toMatch(/module\.exports\s*=/); // CommonJS, not ESM
    expect(code).not.toMatch(/^\s*export\s/m);
    expect(existsSync(`${outfile}.map`)).toBe(true);
    expect(runHandler(outfile)).toEqual({ kind: 'function', result: 'buckets:\n  - name: marker-bucket-7f3a\n' });
  });

  it('bundles for Node as Lambda loads it: builtins required, not inlined; comments and whitespace gone; a source map back to the TypeScript', async () => {
    // Prepare: an entry that uses a Node builtin, a dependency from node_modules, and carries a comment
    writeFileSync(
      join(dir, 'entry.ts'),
      [
        "import { createHash } from 'node:crypto';",
        "import { parse } from 'yaml';",
        '// COMMENT-THAT-MUST-NOT-SHIP',
        'export const handler = async (): Promise<string> => {',
        "  const longLocalVariableName = createHash('sha256').update(String(parse('n: 7').n)).digest('hex');",
        '  return longLocalVariableName.slice(0, 8);',
        '};',
      ].join('\n'),
    );
    const outfile = join(dir, 'out', 'entry.js');

    // Act (the entry sits in a temporary folder: its packages come from the project's node_modules)
    await esbuild.build({ ...buildOptions(join(dir, 'entry.ts'), outfile), nodePaths: [join(__dirname, '../../node_modules')] });

    // Assess: it runs in a bare Node process (yaml bundled in, crypto left to Node)
    const code = readFileSync(outfile, 'utf8');
    expect(runHandler(outfile)).toEqual({ kind: 'function', result: '7902699b' });
    expect(code).toMatch(/require\("node:crypto"\)|require\("crypto"\)/);
    expect(code).not.toContain('COMMENT-THAT-MUST-NOT-SHIP');
    expect(code).not.toContain('longLocalVariableName');
    const map = JSON.parse(readFileSync(`${outfile}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.some((src) => src.endsWith('entry.ts'))).toBe(true);
  });

  /** The shipped example with another estate name: a valid config that is easy to recognise. */
  const estate = (name: string): string => readFileSync(join(__dirname, '../../drbot.config.example.yaml'), 'utf8').replace(/^name: spawn$/m, `name: ${name}`);

  it('falls back to drbot.config.example.yaml when drbot.config.yaml is missing, with one notice', async () => {
    // Prepare
    writeFileSync(join(dir, 'drbot.config.example.yaml'), estate('example-estate'));
    writeFileSync(
      join(dir, 'entry.ts'),
      [
        "import a from './drbot.config.yaml';",
        "import b from './drbot.config.yaml';",
        'export const handler = async () => [(a as { name: string }).name, (b as { name: string }).name];',
      ].join('\n'),
    );
    const lines: string[] = [];
    const outfile = join(dir, 'entry.js');
    const opts = { ...buildOptions(join(dir, 'entry.ts'), outfile), plugins: [configFallbackPlugin((l) => lines.push(l))] };

    // Act
    await esbuild.build(opts);

    // Assess
    expect(runHandler(outfile).result).toEqual(['example-estate', 'example-estate']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('drbot.config.example.yaml');
  });

  it('uses drbot.config.yaml itself when it exists, bundled as validated data with defaults filled in', async () => {
    writeFileSync(join(dir, 'drbot.config.example.yaml'), estate('example-estate'));
    writeFileSync(join(dir, 'drbot.config.yaml'), estate('real-estate'));
    writeFileSync(join(dir, 'entry.ts'), "import a from './drbot.config.yaml';\nexport const handler = async () => a;\n");
    const lines: string[] = [];
    const outfile = join(dir, 'entry.js');

    await esbuild.build({ ...buildOptions(join(dir, 'entry.ts'), outfile), plugins: [configFallbackPlugin((l) => lines.push(l))] });

    const bundled = runHandler(outfile).result as { name: string; approvals: { required: number } };
    expect(bundled.name).toBe('real-estate');
    expect(bundled.approvals.required).toBe(1);
    expect(lines).toHaveLength(0);
  });

  it('fails the build on an invalid config, naming the field', async () => {
    writeFileSync(join(dir, 'drbot.config.yaml'), estate('bad').replace(/backup: us-west-2/, 'backup: mars-north-9x'));
    writeFileSync(join(dir, 'entry.ts'), "import a from './drbot.config.yaml';\nexport const handler = async () => a;\n");

    const build = esbuild.build({ ...buildOptions(join(dir, 'entry.ts'), join(dir, 'entry.js')), plugins: [configFallbackPlugin(() => {})], logLevel: 'silent' });

    await expect(build).rejects.toThrow(/regions\.backup/);
  });

  it('finds handlers/*.ts but skips _helpers, declarations and tests', () => {
    const root = dir;
    const handlers = join(root, 'handlers');
    mkdirSync(handlers);
    for (const f of ['slack.ts', 'alarm.ts', '_shared.ts', 'types.d.ts', 'slack.test.ts', 'notes.md']) {
      writeFileSync(join(handlers, f), '');
    }

    expect(handlerEntries(root).map((e) => e.name)).toEqual(['alarm', 'slack']);
  });
});
