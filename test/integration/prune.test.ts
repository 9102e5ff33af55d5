import { CreateBackupCommand, CreateTableCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MiddlewareStack } from '@smithy/types';
import type { LocalStack } from '../../src/local/stack';
import { click, command, nextSecond, requestRun, restoreBeforeEach, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * --prune on the backup verbs, against moto. moto stamps every backup and object with the real
 * time, so the stack's clock runs 100 days ahead: everything made here is "100 days old", past the
 * runbook's retention (DynamoDB backups 35 days, IAM exports 90). What must survive: the newest
 * good copy of each thing, and everything drbot did not make.
 */

const AHEAD_MS = 100 * 86_400_000;
const BACKUPS = 'spawn-backups';
const TABLE = 'spawn-instances';

function refuse<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }, commandName: string, name: string, message: string): () => void {
  const id = `refuse-${commandName}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) throw Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
      return next(args);
    },
    { step: 'initialize', name: id },
  );
  return () => {
    client.middlewareStack.remove(id);
  };
}

describe('--prune', () => {
  const getStack = useLocalStack({ seed: false, now: () => new Date(Date.now() + AHEAD_MS) });
  let stack: LocalStack;
  const ddb = () => stack.clients.dynamodb('us-east-1');
  const backupNames = async () => ((await ddb().send(new ListBackupsCommand({ TableName: TABLE }))).BackupSummaries ?? []).map((b) => b.BackupName ?? '').sort();

  beforeAll(async () => {
    stack = getStack();
    await ddb().send(
      new CreateTableCommand({ TableName: TABLE, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
    const s3 = stack.clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BACKUPS }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BACKUPS, VersioningConfiguration: { Status: 'Enabled' } }));
    await stack.clients.iam('us-east-1').send(new CreateRoleCommand({ RoleName: 'spawn-worker', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }));
  });

  describe('/dr backup dynamodb --prune', () => {
    beforeAll(async () => {
      // made in this order, so the -0102 one is the newest of drbot's
      for (const BackupName of [`${TABLE}-backup-20260101-000000`, 'before-migration-manual', `${TABLE}-backup-20260102-000000`]) {
        await ddb().send(new CreateBackupCommand({ TableName: TABLE, BackupName }));
        await nextSecond(); // moto stamps whole seconds: keep the order visible
      }
    });
    // Each test starts from these three backups and no run's.
    restoreBeforeEach(getStack);

    it('plans the deletion, waits for approval, and after it deletes only drbot\'s old backups, keeping the newest and the manual one; a dry run then lists the one that is no longer the newest, and deletes nothing', async () => {
      // One scenario: the dry run's plan follows from the backup the approved run made.
      // act
      const { runId, message } = await requestRun(stack, 'alice', `backup dynamodb ${TABLE} --prune`);
      const plan = textOf(message);
      await click(stack, 'bob', message, 'run_approve');

      // assess: the plan named what goes and what stays
      expect(plan).toContain(`Prune: deletes 1 on-demand backup older than 35 days: \`${TABLE}-backup-20260101-000000\``);
      expect(plan).toContain('Prune keeps the newest good copy of each (1), whatever its age; 1 not made by drbot, never touched.');
      // the run
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(runMessage(stack.standIn, runId))).toContain('Pruned 1 old backup.');
      // AWS
      const names = await backupNames();
      expect(names).not.toContain(`${TABLE}-backup-20260101-000000`);
      expect(names).toEqual(expect.arrayContaining(['before-migration-manual', `${TABLE}-backup-20260102-000000`]));
      expect(names).toHaveLength(3); // the two kept and the one this run made

      // act: a dry run, now that the run's own backup is the newest of drbot's
      const before = await backupNames();
      const reply = await command(stack, 'alice', `backup dynamodb ${TABLE} --prune --dry-run`);

      // assess: it would delete the one kept above, and deletes nothing
      const text = textOf(runMessage(stack.standIn, runIdOf(reply)));
      expect(text).toContain(`Prune: would delete 1 on-demand backup older than 35 days: \`${TABLE}-backup-20260102-000000\``);
      expect(await backupNames()).toEqual(before);
    });

    it('when DeleteBackup is refused mid-run: the run fails naming it, the backup is still there, the new one was made', async () => {
      // prepare
      const before = await backupNames();
      const undo = refuse(ddb(), 'DeleteBackupCommand', 'AccessDeniedException', 'not authorized to perform: dynamodb:DeleteBackup');

      // act
      let runId = '';
      try {
        const req = await requestRun(stack, 'alice', `backup dynamodb ${TABLE} --prune`);
        runId = req.runId;
        await click(stack, 'bob', req.message, 'run_approve');
      } finally {
        undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      expect(textOf(runMessage(stack.standIn, runId))).toContain('DeleteBackup on');
      const after = await backupNames();
      expect(after).toEqual(expect.arrayContaining(before));
      expect(after).toHaveLength(before.length + 1);
    });
  });

  describe('/dr backup iam --prune', () => {
    const OLD = 'iam/2026-01-01/r-000000000001.json';
    const NEWER = 'iam/2026-01-02/r-000000000002.json';
    const FOREIGN = 'iam/manual-export.json';
    const versions = async () => (await stack.clients.s3('us-east-1').send(new ListObjectVersionsCommand({ Bucket: BACKUPS, Prefix: 'iam/' }))).Versions ?? [];

    beforeAll(async () => {
      const s3 = stack.clients.s3('us-east-1');
      for (const Key of [OLD, FOREIGN, NEWER]) {
        await s3.send(new PutObjectCommand({ Bucket: BACKUPS, Key, Body: '{}' }));
        await nextSecond();
      }
    });

    it('deletes the old export for good once the new one verifies, keeping the newest, the pointer and what is not drbot\'s', async () => {
      // act
      const { runId, message } = await requestRun(stack, 'alice', 'backup iam --prune');
      await click(stack, 'bob', message, 'run_approve');

      // assess
      expect(textOf(message)).toContain(`Prune: deletes 1 IAM export older than 90 days: \`${OLD}\``);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(runMessage(stack.standIn, runId))).toContain('Pruned 1 old export.');
      const keys = (await versions()).map((v) => v.Key);
      expect(keys).not.toContain(OLD);
      expect(keys).toEqual(expect.arrayContaining([NEWER, FOREIGN, 'iam/latest.json']));
      expect(keys.some((k) => k?.endsWith(`${runId}.json`))).toBe(true);
    });
  });
});
