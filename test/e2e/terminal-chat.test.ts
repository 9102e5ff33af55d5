import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CATALOGUE } from '../../src/runbooks/catalogue';

/**
 * `npm start` as a newcomer uses it: the terminal chat reading a script from stdin, against the
 * sandbox (its own moto), printing what the channel would show. Each run takes several seconds.
 */

const ROOT = resolve(__dirname, '../..');
const BUCKET = 'spawn-binaries-us-east-1';
const RUN_TIMEOUT_MS = 90_000;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a newcomer's shell: no Slack tokens, no config, so the sandbox chat starts. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
  for (const k of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'DRBOT_CONFIG', 'AWS_ENDPOINT_URL']) delete env[k];
  return env;
}

function run(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${cmd} ${args.join(' ')} did not exit within ${RUN_TIMEOUT_MS} ms\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-2000)}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** The terminal chat with a script on stdin. */
function chat(lines: string[]): Promise<Exit> {
  return run('npx', ['tsx', 'src/local/main.ts'], `${lines.join('\n')}\n`);
}

/** Asserts each needle appears, in this order. */
function expectInOrder(text: string, needles: (string | RegExp)[]): void {
  let from = 0;
  for (const n of needles) {
    const rest = text.slice(from);
    const m = typeof n === 'string' ? { index: rest.indexOf(n), length: n.length } : ((r) => (r ? { index: r.index, length: r[0].length } : { index: -1, length: 0 }))(n.exec(rest));
    if (m.index < 0) throw new Error(`expected ${String(n)} after offset ${from} in:\n${text.slice(from, from + 4000)}`);
    from += m.index + m.length;
  }
}

function explain(r: Exit): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-2000)}`;
}

describe('npm start (terminal chat on the sandbox)', () => {
  it('prints the help, a red/amber/green status report, and a refusal for eve, then exits 0', async () => {
    // act
    const r = await chat(['/dr help', '/dr status', '/as eve', '/dr status']);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    for (const c of CATALOGUE.commands) expect(r.stdout).toContain(c.usage);
    const status = r.stdout.slice(r.stdout.indexOf('alice: /dr status'), r.stdout.indexOf('(you are now eve)'));
    expect(status).toMatch(/🔴 S3 spawn-logs-us-east-1/);
    expect(status).toMatch(/🟠 S3 spawn-results-us-east-1/);
    expect(status).toMatch(/🟢 S3 spawn-binaries-us-east-1/);
    expect(status).toMatch(/🔴 DynamoDB spawn-alerts/);
    // every row checked: the backup rows are red until /dr backup all, and none says 'not checked yet'
    expect(status).toMatch(/🔴 Route53 hosted zone \S+ — no export in s3:\/\/spawn-backups\/route53\//);
    expect(status).toMatch(/🔴 IAM roles spawn\* — no export/);
    expect(status).toContain('⚪ 0 not checked');
    expect(status).not.toMatch(/AMI AMIs|Lambda Lambda|IAM IAM|Route53 Route53/);
    expectInOrder(r.stdout, ['(you are now eve)', 'eve: /dr status', '[drbot → only @eve]', '🚫 You may not run /dr status: it needs the viewer role, and you have no drbot role.']);
  }, 120_000);

  it('undelete: plan with 250, alice’s own approval refused, bob approves, Done with 250 restored and verified, audit lines', async () => {
    // act
    const r = await chat([
      '/as alice',
      `/dr restore s3 ${BUCKET} --dry-run`,
      `/dr restore s3 ${BUCKET}`,
      '/press Approve',
      '/as bob',
      '/press Approve',
      '/dr audit',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    expectInOrder(r.stdout, [
      `alice: /dr restore s3 ${BUCKET} --dry-run`,
      '250 deleted objects would be restored',
      'Dry run — nothing changed',
      `alice: /dr restore s3 ${BUCKET}`,
      '250 deleted objects will be restored',
      /\[\d+\] Approve {2}\[\d+\] Reject/,
      'alice: pressed',
      '[drbot → only @alice]',
      'someone else must approve it (four eyes)',
      'bob: pressed',
      'Approved by @bob',
      '✅ Done: Undelete objects in spawn-binaries-us-east-1',
      'Restored 250 objects',
      'Verified by listing: no restorable delete markers remain.',
      /waited \d+ s for approval, then worked \d+ s/,
      'bob: /dr audit',
    ]);
    const audit = r.stdout.slice(r.stdout.lastIndexOf('bob: /dr audit'));
    expect(audit).toMatch(/system result \/dr restore s3 spawn-binaries-us-east-1 → succeeded/);
    expect(audit).toMatch(/@bob approve Undelete objects in spawn-binaries-us-east-1 → approved/);
    expect(audit).toMatch(/@alice click approve ap-[0-9a-f]{12} → refused — own_request/);
    expect(audit).toMatch(/@alice plan \/dr restore s3 spawn-binaries-us-east-1 → ok/);
    expect(audit).toMatch(/→ ok .*dry run: nothing changed/);
  }, 120_000);

  it('copy back from the replica: plan with 250 missing and 5 different, four eyes, Done with 255 copied and verified, audit lines', async () => {
    // act
    const r = await chat([
      '/as alice',
      `/dr restore s3 ${BUCKET} --from-replica --dry-run`,
      `/dr restore s3 ${BUCKET} --from-replica`,
      '/press Approve',
      '/as bob',
      '/press Approve',
      '/dr audit',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    expectInOrder(r.stdout, [
      '250 missing and 5 different objects would be copied',
      'Dry run — nothing changed',
      `alice: /dr restore s3 ${BUCKET} --from-replica`,
      '250 missing and 5 different objects will be copied',
      'alice: pressed',
      'someone else must approve it (four eyes)',
      'bob: pressed',
      '✅ Done: Copy back spawn-binaries-us-east-1 from its replica',
      'Copied 255 objects',
      'Verified by listing both buckets: every replica object is present and identical in the primary.',
      'bob: /dr audit',
    ]);
    const audit = r.stdout.slice(r.stdout.lastIndexOf('bob: /dr audit'));
    expect(audit).toMatch(/system result \/dr restore s3 spawn-binaries-us-east-1 --from-replica → succeeded/);
    expect(audit).toMatch(/@bob approve Copy back spawn-binaries-us-east-1 from its replica → approved/);
    expect(audit).toMatch(/@alice click approve ap-[0-9a-f]{12} → refused — own_request/);
  }, 120_000);

  it('backup dynamodb: no approval, every table backed up with its ARN, audit lines', async () => {
    // act
    const r = await chat(['/as alice', '/dr backup dynamodb', '/dr audit']);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    const run = r.stdout.slice(0, r.stdout.indexOf('alice: /dr audit'));
    expect(run).not.toMatch(/\] Approve/);
    expect(run).toContain('3 of 3 backups AVAILABLE');
    for (const table of ['spawn-instances', 'spawn-queues', 'spawn-alerts']) {
      expect(run).toMatch(new RegExp(`${table} AVAILABLE .*\\n +arn:aws:dynamodb:us-east-1:\\d{12}:table/${table}/backup/\\S+`));
    }
    const audit = r.stdout.slice(r.stdout.indexOf('alice: /dr audit'));
    expect(audit).toMatch(/system result \/dr backup dynamodb → succeeded/);
    expect(audit).toMatch(/@alice plan \/dr backup dynamodb → ok/);
  }, 120_000);

  it('/press LABEL with two matching buttons refuses and lists them by number; with one it acts; bare /press and /as print their usage', async () => {
    // act: two runs wait for approval, so "Approve" is ambiguous until one is decided
    const r = await chat([
      '/as alice',
      `/dr restore s3 ${BUCKET}`,
      `/dr restore s3 ${BUCKET} --from-replica`,
      '/as bob',
      '/press Approve',
      '/press 3',
      '/press approve',
      '/press',
      '/as',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    expectInOrder(r.stdout, [
      '(you are now bob)',
      '2 buttons are labelled "Approve"; press one by its number:',
      /\/press 1 +Approve — Waiting for approval: Undelete objects in spawn-binaries-us-east-1/,
      /\/press 3 +Approve — Waiting for approval: Copy back spawn-binaries-us-east-1 from its replica/,
      'bob: pressed [3] Approve',
      '✅ Done: Copy back spawn-binaries-us-east-1 from its replica',
      'bob: pressed [1] Approve',
      '✅ Done: Undelete objects in spawn-binaries-us-east-1',
      'Usage: /press N or /press LABEL',
      'Usage: /as NAME',
    ]);
    expect(r.stdout).not.toContain('No button ""');
    expect(r.stdout).not.toContain('No such user ""');
  }, 120_000);

  it('renders Slack markup as plain text when piped, and shows "Started run" before the message it announces', async () => {
    // act
    const r = await chat([
      '/dr help',
      '/dr simulate alarm ok',
      '/dr status',
      `/dr restore s3 ${BUCKET} --dry-run`,
      '/dr simulate alarm replication-lag',
      '/dr restore s3 no-such-bucket',
      '/dr audit',
    ]);

    // assess
    expect({ code: r.code, why: r.code === 0 ? '' : explain(r) }).toEqual({ code: 0, why: '' });
    // No bold, italics, code spans, mentions, channel links, dates or entities left as Slack writes them.
    expect(r.stdout).not.toMatch(/(^|\s)\*[^*\s][^*\n]*\*(\s|$)/m);
    expect(r.stdout).not.toMatch(/(^|\s)_[^_\s][^_\n]*_(\s|$)/m);
    expect(r.stdout).not.toContain('`');
    expect(r.stdout).not.toMatch(/<[@#!]/);
    expect(r.stdout).not.toMatch(/&(lt|gt|amp);/);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/ref: [0-9a-f]{16}/);
    expect(r.stdout).toContain('Unknown bucket no-such-bucket');
    // An OK with no open alarm says so, instead of nothing after its first line.
    expectInOrder(r.stdout, [
      'alice: /dr simulate alarm ok',
      'Delivering a simulated ok alarm notification to the alarm handler, as SNS would…',
      'There was no open spawn-s3-replication-lag alarm to resolve, so the OK notification changed nothing.',
      'alice: /dr status',
    ]);
    // The ephemeral ack comes before the channel message of the run it started.
    const runId = /Started run (r-[0-9a-f]{12})/.exec(r.stdout)?.[1] ?? 'none';
    expectInOrder(r.stdout, [`Started run ${runId}`, '[drbot · #dr-ops · message', `run ${runId}`]);
  }, 120_000);

  it('without moto exits non-zero and prints how to install it', async () => {
    // act
    const r = await run('npm', ['start'], '/dr help\n', cleanEnv({ DRBOT_PYTHON: '/nonexistent' }));

    // assess
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(`${r.stdout}${r.stderr}`).toContain("python3 -m pip install 'moto[server]'");
    expect(r.stdout).not.toContain('drbot commands');
  }, 120_000);
});
