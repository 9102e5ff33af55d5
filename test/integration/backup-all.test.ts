import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { computeStatus } from '../../src/runbooks/status/posture';
import { ACCESS_DENIED, fail } from '../helpers/faults';
import { command, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr backup all on the seeded sandbox (moto; Lambda code served by the sandbox's package store,
 * since moto's code location is not downloadable): one run, one message with a line per kind, a
 * failing kind reported while the others go on, and /dr status turning the backup rows green.
 */

describe('/dr backup all on the sandbox estate', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;

  const bucket = () => stack.config.backupBucket ?? '';
  const keys = async (prefix: string) => ((await stack.clients.s3('us-east-1').send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '');
  const copies = async () => (await stack.clients.ec2('us-west-2').send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
  const backupRows = async () => (await computeStatus(stack.config, stack.clients, new Date())).items.filter((i) => ['ami', 'iam', 'route53', 'lambda'].includes(i.kind));

  beforeAll(() => {
    stack = getStack();
  });

  it('plans every kind in a dry run, a line each, and changes nothing', async () => {
    // prepare: what the other test's runs stored and copied
    const [keysBefore, copiesBefore] = [await keys(''), await copies()];

    // act
    const reply = await command(stack, 'alice', 'backup all --dry-run');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const lines = runSummary(stack, runId)?.lines ?? [];
    expect(lines.map((l) => /^\*(\w+)\*/.exec(l)?.[1])).toEqual(['DynamoDB', 'AMIs', 'IAM', 'Route53', 'Lambda']);
    expect(await keys('')).toEqual(keysBefore);
    expect(await copies()).toEqual(copiesBefore);
  });

  it('shows every /dr status row with a real colour before any backup, the backup rows not green; reports a kind that fails mid-run (IAM export denied) and completes the others, one line per kind; a second run fills the gap (IAM) without copying or storing anything twice, and the backup rows of /dr status turn green', async () => {
    // One scenario, from the estate with no backup to every backup row green.
    // act: /dr status before any backup
    const status = await command(stack, 'carol', 'status');

    // assess
    const statusId = runIdOf(status);
    expect(runSummary(stack, statusId)).toMatchObject({ status: 'succeeded' });
    expect(runSummary(stack, statusId)?.lines[0]).toMatch(/, 0 not checked$/);
    const rowsBefore = await backupRows();
    expect(rowsBefore.map((r) => r.kind).sort()).toEqual(['ami', 'ami', 'iam', 'lambda', 'route53']);
    expect(rowsBefore.every((r) => r.colour === 'red' || r.colour === 'amber')).toBe(true);

    // prepare: the backup bucket refuses writes under iam/ only
    const undo = fail(stack.clients.s3('us-east-1'), 'PutObjectCommand', ACCESS_DENIED, { when: (i) => String(i.Key).startsWith('iam/') });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup all');
    } finally {
      undo();
    }

    // assess: the message
    const runId = runIdOf(reply);
    const summary = runSummary(stack, runId);
    expect(summary).toMatchObject({ status: 'failed', failures: 1 });
    const lines = summary?.lines ?? [];
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^:white_check_mark: \*DynamoDB\*: 3 of 3 backups AVAILABLE/);
    expect(lines[1]).toMatch(/^:white_check_mark: \*AMIs\*: 2 of 2 copies available in us-west-2/);
    expect(lines[2]).toMatch(/^:x: \*IAM\*: .*PutObject on `spawn-backups\/iam\//);
    expect(lines[3]).toMatch(/^:white_check_mark: \*Route53\*: Exported \*302\* record sets/);
    expect(lines[4]).toMatch(/^:white_check_mark: \*Lambda\*: .*`spawn-dns-updater`: 3 versions in the backup bucket; stored v1, v2, v3/);
    expect(message(runId)).toContain('PutObject on `spawn-backups/iam/');
    // AWS's end state: everything but IAM
    expect(await keys('iam/')).toEqual([]);
    expect((await keys('route53/')).length).toBe(2);
    expect(await keys('lambda/spawn-dns-updater/3/')).toHaveLength(2);
    expect(await copies()).toHaveLength(2);
    const backups = await stack.clients.dynamodb('us-east-1').send(new ListBackupsCommand({}));
    expect((backups.BackupSummaries ?? []).filter((b) => b.BackupName?.includes('-backup-')).length).toBeGreaterThanOrEqual(3 + 1);

    // act: a second run
    const second = await command(stack, 'alice', 'backup all');

    // assess
    const secondId = runIdOf(second);
    const secondLines = runSummary(stack, secondId)?.lines ?? [];
    expect(runSummary(stack, secondId)).toMatchObject({ status: 'succeeded' });
    expect(secondLines[1]).toMatch(/^:white_check_mark: \*AMIs\*: nothing to do/);
    expect(secondLines[2]).toMatch(/^:white_check_mark: \*IAM\*: Exported \*12\* roles/);
    expect(secondLines[4]).toContain('stored none new, 3 already there');
    expect(await copies()).toHaveLength(2);
    const rows = await backupRows();
    expect(rows.filter((r) => r.colour !== 'green')).toEqual([]);
    expect(rows).toHaveLength(5);
  });
});
