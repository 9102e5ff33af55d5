import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

type TomlValue = string | number | boolean;

/** The TOML samconfig.toml uses: `[a.b.c]` tables of `key = "string" | true | false | number`, `#` comments. */
export function parseSamconfig(text: string): Record<string, Record<string, TomlValue>> {
  const out: Record<string, Record<string, TomlValue>> = {};
  let table = '';
  out[table] = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) return;
    const header = /^\[([A-Za-z0-9_.-]+)\]$/.exec(line);
    if (header?.[1]) {
      table = header[1];
      out[table] ??= {};
      return;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (!kv?.[1] || kv[2] === undefined) throw new Error(`samconfig.toml line ${i + 1}: cannot read ${raw}`);
    const v = kv[2];
    const value: TomlValue = v === 'true' ? true : v === 'false' ? false : /^".*"$/.test(v) ? v.slice(1, -1) : /^[0-9.]+$/.test(v) ? Number(v) : NaN;
    if (typeof value === 'number' && Number.isNaN(value)) throw new Error(`samconfig.toml line ${i + 1}: unsupported value ${v}`);
    (out[table] as Record<string, TomlValue>)[kv[1]] = value;
  });
  return out;
}

/** What SAM CLI uses for `sam <command>` under a config environment: its command table over its global one. */
function effective(config: Record<string, Record<string, TomlValue>>, env: string, command: string): Record<string, TomlValue> {
  return { ...(config[`${env}.global.parameters`] ?? {}), ...(config[`${env}.${command}.parameters`] ?? {}) };
}

/** Every `sam …` command in a markdown file's code (fenced blocks and inline spans), `&&` chains split. */
function samCommands(markdown: string): string[] {
  const code = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').replace(/\\\n\s*/g, ' '));
  const inline = [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
  return [...code.flatMap((c) => c.split('\n')), ...inline]
    .flatMap((l) => l.split('&&'))
    .map((c) => c.trim())
    .filter((c) => /^sam (build|deploy)\b/.test(c));
}

describe('samconfig.toml', () => {
  const config = parseSamconfig(read('samconfig.toml'));

  it.each(['default', 'backup-alarms'])('[%s] gives build and deploy the language-extensions switch, and deploy the capabilities', (env) => {
    const build = effective(config, env, 'build');
    const deploy = effective(config, env, 'deploy');
    expect(build.language_extensions).toBe(true);
    expect(deploy.language_extensions).toBe(true);
    expect(String(deploy.capabilities).split(' ').sort()).toEqual(['CAPABILITY_AUTO_EXPAND', 'CAPABILITY_IAM']);
    expect(deploy.resolve_s3).toBe(true);
    expect(deploy.stack_name).toEqual(expect.any(String));
    expect(deploy.region).toEqual(expect.any(String));
  });

  it('deploys the backup-alarms environment in backup-region-alarms mode, in the backup region', () => {
    const deploy = effective(config, 'backup-alarms', 'deploy');
    const app = effective(config, 'default', 'deploy');
    expect(String(deploy.parameter_overrides)).toContain('DeployMode=backup-region-alarms');
    expect(String(deploy.parameter_overrides)).toContain(`BackupRegion=${deploy.region}`);
    expect(String(app.parameter_overrides)).toContain(`PrimaryRegion=${app.region}`);
    expect(deploy.stack_name).not.toBe(app.stack_name);
  });

  it('is committed, not ignored', () => {
    expect(read('.gitignore').split('\n')).not.toContain('samconfig.toml');
  });
});

describe.each(['README.md', 'docs/deploy.md'])('the deploy commands in %s', (file) => {
  const config = parseSamconfig(read('samconfig.toml'));
  const commands = samCommands(read(file));

  it('include `sam build && sam deploy`, the one command samconfig.toml completes', () => {
    expect(read(file)).toContain('sam build && sam deploy');
    expect(commands).toEqual(expect.arrayContaining(['sam build', 'sam deploy']));
  });

  it('pass nothing samconfig.toml already carries, and name only config environments it has', () => {
    for (const c of commands) {
      expect(c).not.toMatch(/--capabilities|--language-extensions|--resolve-s3|--parameter-overrides|--region|--stack-name/);
      const env = /--config-env\s+(\S+)/.exec(c)?.[1] ?? 'default';
      expect(Object.keys(config)).toContain(`${env}.deploy.parameters`);
      // Only flags SAM needs no further input for; `--guided` is mentioned, not used, as the way in.
      const flags = c.match(/--[a-z-]+/g) ?? [];
      expect(flags.filter((f) => !['--config-env', '--guided'].includes(f))).toEqual([]);
    }
  });

  it('state the Node.js versions the same way: 20 or 22 locally, 22 on Lambda', () => {
    const text = read(file);
    expect(text).toMatch(/Node\.js 20\s+or\s+22/);
    expect(text).toMatch(/Node\.js 22(\*\*)? (on Lambda|\(`nodejs22\.x`)|Lambda runs Node\.js 22/);
    expect(text).not.toMatch(/Node 22\+|Node\.js 20 or newer/);
  });
});

describe('the runtime the docs name', () => {
  it('is the one template.yaml deploys, and package.json allows both local versions', () => {
    expect(read('template.yaml')).toMatch(/\n {4}Runtime: nodejs22\.x\n/);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20');
  });
});
