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

  it('targets node20 CJS, minified, with source maps and the yaml text loader', () => {
    const opts = buildOptions('handlers/x.ts', 'dist/handlers/x.js');

    expect(opts).toMatchObject({
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      loader: { '.yaml': 'text' },
    });
  });

  it('falls back to drbot.config.example.yaml when drbot.config.yaml is missing, with one notice', async () => {
    // Prepare
    writeFileSync(join(dir, 'drbot.config.example.yaml'), 'name: example-estate\n');
    writeFileSync(
      join(dir, 'entry.ts'),
      [
        "import a from './drbot.config.yaml';",
        "import b from './drbot.config.yaml';",
        'export const handler = async (): Promise<string> => a + b;',
      ].join('\n'),
    );
    const lines: string[] = [];
    const outfile = join(dir, 'entry.js');
    const opts = { ...buildOptions(join(dir, 'entry.ts'), outfile), plugins: [configFallbackPlugin((l) => lines.push(l))] };

    // Act
    await esbuild.build(opts);

    // Assess
    expect(runHandler(outfile).result).toBe('name: example-estate\nname: example-estate\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('drbot.config.example.yaml');
  });

  it('uses drbot.config.yaml itself when it exists', async () => {
    writeFileSync(join(dir, 'drbot.config.example.yaml'), 'name: example-estate\n');
    writeFileSync(join(dir, 'drbot.config.yaml'), 'name: real-estate\n');
    writeFileSync(join(dir, 'entry.ts'), "import a from './drbot.config.yaml';\nexport const handler = async () => a;\n");
    const lines: string[] = [];
    const outfile = join(dir, 'entry.js');

    await esbuild.build({ ...buildOptions(join(dir, 'entry.ts'), outfile), plugins: [configFallbackPlugin((l) => lines.push(l))] });

    expect(runHandler(outfile).result).toBe('name: real-estate\n');
    expect(lines).toHaveLength(0);
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
