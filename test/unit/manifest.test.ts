import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { manifestFields, MANIFEST_FILE, renderManifest } from '../../scripts/manifest';
import { positional } from '../../src/runbooks/args';
import { CATALOGUE, createCatalogue, VERBS } from '../../src/runbooks/catalogue';
import { defineVerb } from '../../src/runbooks/verb';
import { renderHelp } from '../../src/slack/views/help';

interface Manifest {
  display_information: { long_description: string };
  features: { slash_commands: { command: string; description: string; usage_hint: string }[] };
}

const text = readFileSync(MANIFEST_FILE, 'utf8');
const manifest = parse(text) as Manifest;
const slash = manifest.features.slash_commands[0];

/** The command words /dr help shows in a real workspace. */
function helpWords(): string[] {
  const msg = renderHelp({ sandbox: false, catalogue: CATALOGUE });
  return [...msg.text.matchAll(/^\/dr ([a-z0-9 -]+?)(?= [A-Z[]| —)/gm)].map((m) => m[1] ?? '');
}

describe('manifest.yaml', () => {
  it('is what the command catalogue gives (npm run manifest rewrites it)', () => {
    // assess
    expect(renderManifest(text)).toBe(text);
    expect(slash?.usage_hint).toBe(manifestFields().usageHint);
    expect(slash?.description).toBe(manifestFields().description);
  });

  it('advertises exactly the commands /dr help lists, and nothing that does not exist', () => {
    // prepare
    const hinted = (slash?.usage_hint ?? '').split(' | ').map((h) => h.replace(/( [A-Z][A-Z…]*)+$/, ''));

    // assess
    expect(hinted.sort()).toEqual(helpWords().sort());
    for (const missing of ['simulate']) {
      expect(slash?.usage_hint).not.toContain(missing);
      expect(manifest.display_information.long_description).not.toContain(`/dr ${missing}`);
    }
  });

  it('changes when a verb is added, so a new verb cannot be left out', () => {
    // prepare
    const more = createCatalogue([
      ...VERBS,
      defineVerb({
        id: 'example-verb',
        words: ['example', 'verb'],
        group: 'Restore',
        summary: 's',
        example: '/dr example verb f',
        role: 'operator',
        destructive: true,
        args: { fn: positional('function', 'FUNCTION', 'f', { required: true }) },
        input: (a) => ({ fn: a.fn }),
      }),
    ]);

    // act
    const next = renderManifest(text, more);

    // assess
    expect(next).not.toBe(text);
    expect(next).toContain('example verb FUNCTION');
    expect(next).toMatch(/\/dr example\s+verb/);
  });
});
