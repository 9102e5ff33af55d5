import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handlerFile, samEsbuildArgs, samFunctions } from '../../scripts/sam-build';

const ROOT = join(__dirname, '..', '..');

describe('samEsbuildArgs', () => {
  it('adds SAM defaults only for what the properties leave out', () => {
    // Act
    const bare = samEsbuildArgs({ EntryPoints: ['handlers/x.ts'] }, '/out');
    const given = samEsbuildArgs({ EntryPoints: ['handlers/x.ts'], Target: 'es2022', Format: 'esm', Minify: false, Sourcemap: true, Loader: ['.yaml=text', '.txt=text'], External: ['@aws-sdk/*'] }, '/out');

    // Assess
    expect(bare).toEqual(['--bundle', '--platform=node', '--outdir=/out', '--target=es2020', '--format=cjs', '--minify', 'handlers/x.ts']);
    expect(given).toEqual(['--bundle', '--platform=node', '--outdir=/out', '--sourcemap', '--target=es2022', '--format=esm', '--external:@aws-sdk/*', '--loader:.yaml=text', '--loader:.txt=text', 'handlers/x.ts']);
  });
});

describe('template.yaml esbuild Metadata', () => {
  const fns = samFunctions(readFileSync(join(ROOT, 'template.yaml'), 'utf8'));

  it('builds every function from handlers/, with the config imported as text, and a Handler that names the bundle', () => {
    expect(fns.map((f) => f.logicalId).sort()).toEqual(['AlarmFunction', 'RunbookFunction', 'ScheduleFunction', 'SlackFunction']);
    for (const fn of fns) {
      expect(fn.properties.Loader).toContain('.yaml=text');
      expect(fn.properties.Format).toBe('cjs');
      expect(handlerFile(fn)).toEqual({ file: `${fn.properties.EntryPoints[0]?.replace(/^handlers\/|\.ts$/g, '')}.js`, exported: 'handler' });
    }
  });

  it('refuses a Handler that does not match the bundle esbuild writes', () => {
    expect(() => handlerFile({ logicalId: 'F', handler: 'index.handler', codeUri: '.', properties: { EntryPoints: ['handlers/slack.ts'] } })).toThrow(/does not match entry point/);
  });
});

describe('package.json for sam build', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  it('installs esbuild with the production dependencies (sam build runs npm install without dev dependencies)', () => {
    expect(pkg.dependencies.esbuild).toBeDefined();
  });

  it('keeps what only npm start and the tests need out of the Lambda build install', () => {
    for (const dev of ['tsx', '@aws/durable-execution-sdk-js-testing', 'dynalite']) {
      expect(pkg.dependencies[dev]).toBeUndefined();
      expect(pkg.devDependencies[dev]).toBeDefined();
    }
  });
});
