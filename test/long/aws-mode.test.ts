import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedSandbox } from '../../src/local/seed';
import { useMoto } from '../helpers/moto';

/**
 * `npm start -- --aws` as someone tries it against an AWS-compatible endpoint (moto here) with a
 * config of their own, typed relative to their own directory.
 */

const ROOT = resolve(__dirname, '../..');
const BUCKET = 'spawn-binaries-us-east-1';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** No Slack tokens, no AWS credentials anywhere in the default chain unless `extra` gives them. */
function awsEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const k of Object.keys(env)) if (/^(SLACK_|AWS_(ACCESS|SECRET|SESSION|PROFILE|ENDPOINT|DEFAULT_PROFILE|ROLE|WEB_IDENTITY|CONTAINER))|^DRBOT_/.test(k)) delete env[k];
  return { ...env, AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

/** `npm start -- ARGS`, typed in `cwd` (npm --prefix when that is not the checkout). */
function start(args: string[], input: string, env: NodeJS.ProcessEnv, cwd: string = ROOT): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['--silent', '--prefix', ROOT, 'start', '--', ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`did not exit\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-2000)}`));
    }, 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** The example config with Slack user IDs for the roles, as the README tells people to write it. */
function userConfig(dir: string): string {
  const example = readFileSync(join(ROOT, 'drbot.config.example.yaml'), 'utf8');
  const yaml = example
    .replace('viewer: [S0SREVIEW]', 'viewer: [U0CAROL]')
    .replace('operator: [S0SREOPS]', 'operator: [U0ALICE]')
    .replace('approver: [S0SRELEADS]', 'approver: [U0BOB]');
  writeFileSync(join(dir, 'my.config.yaml'), yaml);
  return 'my.config.yaml';
}

describe('npm start -- --aws', () => {
  const moto = useMoto();

  it('with no credentials refuses once, clearly, before anything else', async () => {
    // act
    const r = await start(['--aws', '--config', 'drbot.config.example.yaml'], '/dr status\n', awsEnv({}));

    // assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No usable AWS credentials');
    expect(r.stderr).toContain('AWS_PROFILE');
    expect(r.stderr.match(/credentials/gi)?.length ?? 0).toBeLessThan(4);
    expect(r.stdout).not.toContain('/dr status');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('with an unreachable endpoint says what it could not reach, without a stack trace', async () => {
    // act
    const r = await start(['--aws', '--config', 'drbot.config.example.yaml'], '', awsEnv({ AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }));

    // assess
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Could not reach http:\/\/127\.0\.0\.1:9 .*ECONNREFUSED/);
    expect(r.stderr).toContain('AWS_ENDPOINT_URL');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('against an endpoint: names the account, region and state table, resolves --config from where it was typed, and reports a run left waiting', async () => {
    // prepare
    const { endpoint, clients } = moto();
    await seedSandbox(clients);
    const dir = mkdtempSync(join(tmpdir(), 'drbot-aws-'));
    const config = userConfig(dir);
    const env = awsEnv({ AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint });

    // act
    const r = await start(['--aws', '--config', config], `/dr restore s3 ${BUCKET}\n`, env, dir);

    // assess
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: "" });
    expect(r.stderr).toMatch(/ready\. Acting on account 123456789012 \(arn:aws:[^)]+\) in us-east-1 at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr).toContain(`State: table drbot-state at ${endpoint} (created if missing, kept from one start to the next; DRBOT_STATE_TABLE to change)`);
    expect(r.stderr).toContain('act as one of its users with /as: U0ALICE, U0BOB, U0CAROL');
    // The chat is the config's operator in the config's ops channel, not the sandbox's alice in #dr-ops.
    expect(r.stdout).toContain(`U0ALICE: /dr restore s3 ${BUCKET}`);
    expect(r.stdout).not.toMatch(/alice|#dr-ops|<#/);
    expect(r.stdout).toContain('[drbot · #C0SPAWNOPS (ops channel) · message');
    const runId = /Started run (r-[0-9a-f]{12})/.exec(r.stdout)?.[1] ?? 'none';
    expect(r.stderr).toMatch(new RegExp(`still waiting for approval[^]*${runId}  /dr restore s3 ${BUCKET} \\(requested by @U0ALICE\\) — waiting for approval in #C0SPAWNOPS \\(ops channel\\), message \\d+\\.\\d+`));
  }, 120_000);

  it('with a config whose roles are user groups only, says how to map terminal users to roles', async () => {
    // prepare
    const { endpoint } = moto();
    const env = awsEnv({ AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint, DRBOT_STATE_TABLE: 'drbot-state-groups' });

    // act
    const r = await start(['--aws', '--config', 'drbot.config.example.yaml'], '', env);

    // assess
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('State: table drbot-state-groups at');
    expect(r.stderr).toContain('gives roles to Slack user groups only');
    expect(r.stderr).toContain('Add Slack user IDs (U…) under slack.roles');
  }, 120_000);
});
