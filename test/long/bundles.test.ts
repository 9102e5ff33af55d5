import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildOptions, REPO_ROOT } from '../../scripts/build';
import { VERBS } from '../../src/runbooks/catalogue';

/** The source files esbuild put into a bundle, relative to the repository. */
async function inputsOf(entry: string, outfile: string): Promise<string[]> {
  const r = await esbuild.build({ ...buildOptions(entry, outfile), metafile: true, sourcemap: false });
  const out = Object.entries(r.metafile?.outputs ?? {}).find(([k]) => k.endsWith('.js'))?.[1];
  return Object.keys(out?.inputs ?? {}).map((k) => relative(REPO_ROOT, join(process.cwd(), k)));
}

describe('what each Lambda bundle carries of the verbs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'drbot-bundles-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every runbook out of the Slack function: it bundles the verbs’ specs only, and no S3 client', async () => {
    // act
    const inputs = await inputsOf(join(REPO_ROOT, 'handlers', 'slack.ts'), join(dir, 'slack.js'));

    // assess
    for (const v of VERBS) expect(inputs).toContain(`src/runbooks/${v.id}/index.ts`);
    expect(inputs.filter((f) => /src\/runbooks\/[^/]+\/runbook\.ts$/.test(f))).toEqual([]);
    expect(inputs.filter((f) => f.includes('@aws-sdk/client-s3/'))).toEqual([]);
  });

  it('bundles every verb’s runbook into the runbook function, and loads each by id from the bundle', async () => {
    // prepare: an entry exposing the dispatch's loader, bundled the way the handlers are
    const entry = join(dir, 'probe.ts');
    const src = (p: string) => JSON.stringify(join(REPO_ROOT, 'src', 'runbooks', p));
    writeFileSync(entry, `export { loadRunbook } from ${src('handler')};\nexport { CATALOGUE } from ${src('catalogue')};\n`);
    const outfile = join(dir, 'probe.js');
    const inputs = await inputsOf(entry, outfile);
    const script = `
      const m = require(${JSON.stringify(outfile)});
      Promise.all(m.CATALOGUE.commands.filter((c) => typeof c.input === 'function').map(async (v) => {
        const r = await m.loadRunbook(m.CATALOGUE, v.id);
        return [v.id, typeof r === 'function' || typeof r.plan === 'function'];
      })).then((rows) => process.stdout.write(JSON.stringify(rows)));`;

    // act
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as [string, boolean][];

    // assess
    for (const v of VERBS) expect(inputs).toContain(`src/runbooks/${v.id}/runbook.ts`);
    expect(loaded.sort()).toEqual(VERBS.map((v) => [v.id, true]).sort());
  });
});
