import { CATALOGUE } from '../../src/runbooks/catalogue';
import { BUCKET, chat, cleanEnv, expectInOrder, explain, run } from '../helpers/terminal';

/**
 * `npm start` as a newcomer uses it: the terminal chat reading a script from stdin, against the
 * sandbox (its own moto). The whole approval flows through it are long proofs:
 * test/long/terminal-chat-flows.test.ts (npm run test:long).
 */

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
