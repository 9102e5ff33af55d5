import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  ListTablesCommand,
  type Tag,
} from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { StoredMessage } from '../../src/local/slack-standin';
import { ACCESS_DENIED, fail } from '../helpers/faults';
import { buttons, click, command, ephemeralsFor, nextSecond, requestRun, runIdOf, runSummary, snapshot, textOf, useLocalStack } from '../helpers/flow';
import { createSourceTable, itemsOf } from '../helpers/tables';

/*
 * What comes after a restore, against moto: `/dr keep dynamodb` (both tables side by side, how to
 * point an application at the restored one) and `/dr delete restored-table` (only drbot's own
 * restores, deletion protection off only if drbot turned it on), refusing every other table by
 * name; and the same two reached through the restore's next-step buttons.
 */

const TABLE = 'spawn-instances';
const config = parseConfig({ ...SANDBOX_CONFIG, dynamodb: { tables: [{ name: TABLE }, { name: 'spawn-queues' }] } }, 'restored-table verbs config');

describe('after a restore: keep dynamodb and delete restored-table', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  const ddb = () => stack.clients.dynamodb('us-east-1');
  const exists = async (t: string) => ((await ddb().send(new ListTablesCommand({}))).TableNames ?? []).includes(t);
  const message = (runId: string) => stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
  const current = (m: StoredMessage) => stack.standIn.message(m.channel, m.ts) ?? m;
  let source: Map<string, string>;

  /** A table named like a restore, with the tags given (none: someone else's table). */
  async function lookalike(name: string, tags: Tag[], deletionProtection = false): Promise<void> {
    await ddb().send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: deletionProtection,
        ...(tags.length ? { Tags: tags } : {}),
      }),
    );
  }

  /** A real restore of spawn-instances (alice asks, bob approves): the finished message and the new table. */
  async function restored(): Promise<{ message: StoredMessage; target: string; runId: string }> {
    const instant = (await ddb().send(new DescribeContinuousBackupsCommand({ TableName: TABLE }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.EarliestRestorableDateTime?.toISOString();
    const before = new Set((await ddb().send(new ListTablesCommand({}))).TableNames ?? []);
    const { runId, message: planned } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to ${instant ?? ''}`);
    await click(stack, 'bob', planned, 'run_approve');
    const target = ((await ddb().send(new ListTablesCommand({}))).TableNames ?? []).find((t) => !before.has(t)) ?? '';
    // Two restores in the same second would want the same name: the next one is a second later.
    await nextSecond();
    return { message: snapshot(current(planned)), target, runId };
  }

  beforeAll(async () => {
    stack = getStack();
    const items = await createSourceTable(ddb(), TABLE, { items: 20, pitr: true, stream: 'NEW_AND_OLD_IMAGES', deletionProtection: true, tags: { team: 'spawn' } });
    source = new Map(items.map((it) => [it.pk?.S ?? '', JSON.stringify(it)]));
  }, 60_000);

  describe('keep dynamodb', () => {
    it('checks the restored table is drbot’s, shows both side by side, says how to point an application at it, changes nothing, and offers only Delete', async () => {
      // prepare
      const { target, runId: restoreRun } = await restored();
      const itemsBefore = await itemsOf(ddb(), target);

      // act
      const reply = await command(stack, 'alice', `keep dynamodb ${TABLE} --restored ${target}`);

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      const m = message(runId);
      const text = textOf(m);
      const arn = (await ddb().send(new DescribeTableCommand({ TableName: target }))).Table?.TableArn ?? '';
      expect(text).toContain(`\`${target}\` was made by drbot (run \`${restoreRun}\`) from \`${TABLE}\`.`);
      expect(text).toContain(`*Restored* \`${target}\`: ACTIVE`);
      expect(text).toContain(`ARN \`${arn}\``);
      expect(text).toContain(`\`TABLE_NAME=${target}\``);
      expect(text).toMatch(/its own stream is `arn:aws:dynamodb:us-east-1:123456789012:table\/spawn-instances-restored-[^`]+\/stream\//);
      expect(text).toContain('Alarms and dashboards on `TableName=spawn-instances` do not cover');
      expect(buttons(m).map((b) => [b.text, b.action_id])).toEqual([['Delete restored table', 'run_next:0']]);
      expect((await stack.store.getRun(runId))?.next).toEqual([{ label: 'Delete restored table', command: `delete restored-table ${target}`, style: 'danger' }]);
      expect(await itemsOf(ddb(), target)).toEqual(itemsBefore);
      expect(await exists(TABLE)).toBe(true);
    });

    it('refuses a table named like a restore that drbot did not make, and one drbot restored from another table', async () => {
      // prepare
      await lookalike(`${TABLE}-restored-20200101-000000`, []);
      await lookalike(`${TABLE}-restored-20200101-000001`, [
        { Key: 'drbot-run', Value: 'r-000000000001' },
        { Key: 'drbot-restored-from', Value: 'spawn-queues' },
      ]);

      // act
      const foreign = runIdOf(await command(stack, 'alice', `keep dynamodb ${TABLE} --restored ${TABLE}-restored-20200101-000000`));
      const other = runIdOf(await command(stack, 'alice', `keep dynamodb ${TABLE} --restored ${TABLE}-restored-20200101-000001`));

      // assess
      expect(runSummary(stack, foreign)).toMatchObject({ status: 'failed' });
      expect(textOf(message(foreign))).toContain(`\`${TABLE}-restored-20200101-000000\` was not made by drbot from \`${TABLE}\`: it lacks the tags \`drbot-run\` and \`drbot-restored-from=${TABLE}\`, so drbot leaves it alone.`);
      expect(runSummary(stack, other)).toMatchObject({ status: 'failed' });
      expect(textOf(message(other))).toContain('(it says it came from `spawn-queues`)');
    });

    it('refuses the live table itself and a restore of another table at the command', async () => {
      // act
      const live = await command(stack, 'alice', `keep dynamodb ${TABLE} --restored ${TABLE}`);
      const wrong = await command(stack, 'alice', `keep dynamodb spawn-queues --restored ${TABLE}-restored-20200101-000000`);

      // assess
      const said = ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).join('\n') + (live.json?.text ?? '') + (wrong.json?.text ?? '');
      expect(said).toContain(`\`${TABLE}\` is a configured table, not a table drbot restored.`);
      expect(said).toContain(`\`${TABLE}-restored-20200101-000000\` is a restore of \`${TABLE}\`, not of \`spawn-queues\`.`);
    });
  });

  describe('delete restored-table', () => {
    it('refuses tables drbot did not restore (by name or by tags), the live table, and protection someone else set; nothing is deleted', async () => {
      // prepare: a lookalike without drbot's tags, and one with them whose deletion protection drbot did not set
      const foreignName = `${TABLE}-restored-20200101-000004`;
      await lookalike(foreignName, []);
      const protectedName = `${TABLE}-restored-20200101-000002`;
      await lookalike(protectedName, [
        { Key: 'drbot-run', Value: 'r-000000000002' },
        { Key: 'drbot-restored-from', Value: TABLE },
      ], true);

      // act
      const foreign = runIdOf(await command(stack, 'alice', `delete restored-table ${foreignName}`));
      const byOther = runIdOf(await command(stack, 'alice', `delete restored-table ${protectedName}`));
      const live = await command(stack, 'alice', `delete restored-table ${TABLE}`);
      const random = await command(stack, 'alice', 'delete restored-table payments-ledger');

      // assess
      expect(runSummary(stack, foreign)).toMatchObject({ status: 'failed' });
      expect(textOf(message(foreign))).toContain('was not made by drbot');
      expect(runSummary(stack, byOther)).toMatchObject({ status: 'failed' });
      expect(textOf(message(byOther))).toContain(`\`${protectedName}\` has deletion protection that drbot did not turn on, so drbot does not turn it off.`);
      const said = ephemeralsFor(stack.standIn, 'alice').map((m) => textOf(m)).join('\n') + (live.json?.text ?? '') + (random.json?.text ?? '');
      expect(said).toContain(`\`${TABLE}\` is a configured table, not a table drbot restored.`);
      expect(said).toContain('`payments-ledger` is not a table drbot restored');
      for (const t of [TABLE, foreignName, protectedName]) expect(await exists(t)).toBe(true);
      expect((await ddb().send(new DescribeTableCommand({ TableName: protectedName }))).Table?.DeletionProtectionEnabled).toBe(true);
    });

    it('shows a tag value in a plan as one inert code span: a line separator in drbot-run cannot forge a plan line', async () => {
      // prepare: anyone who may tag a table can write drbot's tags
      const forged = `${TABLE}-restored-20200101-000003`;
      await lookalike(forged, [
        { Key: 'drbot-run', Value: 'r-1\u2028• Deletes nothing else. Approved by security' },
        { Key: 'drbot-restored-from', Value: TABLE },
      ]);

      // act
      const runId = runIdOf(await command(stack, 'alice', `delete restored-table ${forged} --dry-run`));

      // assess
      const raw = JSON.stringify(message(runId)?.blocks ?? []);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
      expect(raw).not.toContain('\u2028');
      expect(raw).not.toMatch(/\\n• Deletes nothing else/);
      expect(textOf(message(runId))).toContain('by run `r-1\ufffd• Deletes nothing else. Approved by security`');
    });

    it('deletes drbot’s restored table after an approver approves, turning off the protection drbot set, and waits until it is gone', async () => {
      // prepare
      const { target } = await restored();
      const dry = runIdOf(await command(stack, 'alice', `delete restored-table ${target} --dry-run`));
      const { runId, message: planned } = await requestRun(stack, 'alice', `delete restored-table ${target}`);

      // act: the requester cannot approve; bob can
      await click(stack, 'alice', planned, 'run_approve');
      const afterSelf = await exists(target);
      await click(stack, 'bob', planned, 'run_approve');

      // assess
      expect(runSummary(stack, dry)).toMatchObject({ status: 'dry_run' });
      expect(textOf(message(dry))).toContain(`Would delete \`${target}\``);
      expect(textOf(planned)).toContain('Deletion protection is on, turned on by drbot when it copied it from the source: turned off first.');
      expect(afterSelf).toBe(true);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(await exists(target)).toBe(false);
      expect(textOf(current(planned))).toContain(`Deleted \`${target}\` (restored from \`${TABLE}\``);
      expect(await exists(TABLE)).toBe(true);
      expect((await itemsOf(ddb(), TABLE)).size).toBe(source.size);
    });

    it('delete-denied: the table stays, its deletion protection goes back on, and the message says why', async () => {
      // prepare
      const { target } = await restored();
      const { runId, message: planned } = await requestRun(stack, 'alice', `delete restored-table ${target}`);
      const undo = fail(ddb(), 'DeleteTableCommand', ACCESS_DENIED);

      // act
      try {
        await click(stack, 'bob', planned, 'run_approve');
      } finally {
        undo();
      }

      // assess
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      expect(await exists(target)).toBe(true);
      expect((await ddb().send(new DescribeTableCommand({ TableName: target }))).Table?.DeletionProtectionEnabled).toBe(true);
      const text = textOf(current(planned));
      expect(text).toContain(`\`${target}\` was not deleted: DeleteTable on \`${target}\` failed: User is not authorized`);
      expect(text).toContain('Its deletion protection is back on.');
    });
  });

  it('through the buttons: the restore offers Keep both; Keep both offers Delete; Delete runs with its own approval, all in one message', async () => {
    // prepare
    const { message: done, target } = await restored();
    const posted = stack.standIn.channelMessages(SANDBOX_CHANNEL).length;

    // act
    await click(stack, 'alice', done, 'Keep both');
    const kept = snapshot(current(done));
    await click(stack, 'alice', kept, 'Delete restored table');
    const planned = snapshot(current(done));
    await click(stack, 'bob', planned, 'run_approve');

    // assess
    expect(stack.standIn.channelMessages(SANDBOX_CHANNEL)).toHaveLength(posted);
    expect(textOf(kept)).toContain('To point an application at the restored table');
    expect(buttons(kept).map((b) => b.text)).toEqual(['Delete restored table']);
    expect(textOf(planned)).toContain(`Deletes \`${target}\``);
    expect(await exists(target)).toBe(false);
    expect(textOf(current(done))).toContain(`Deleted \`${target}\``);
  });
});
