import { DescribeContinuousBackupsCommand, ListBackupsCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import { localSandboxTools } from '../../src/local/sandbox-tools';
import { SEED_TABLE_ITEMS } from '../../src/local/seed';
import type { LocalStack } from '../../src/local/stack';
import { buttons, click, command, requestRun, runSummary, snapshot, textOf, realNow, useLocalStack } from '../helpers/flow';
import { itemsOf } from '../helpers/tables';

/*
 * The sandbox's corrupted-table story, as a newcomer types it (issue 10's done-when): `/dr simulate corruption spawn-instances`, then
 * `/dr restore dynamodb spawn-instances --to 5m`, approve → a new table holding the items as they
 * were before the corruption, item by item; then Cut over, approve → the live table holds them again. moto's own PITR would restore the corrupted items: the
 * sandbox's point-in-time stand-in (src/local/moto-gaps.ts) is what this exercises.
 */

const TABLE = 'spawn-instances';

describe('sandbox: corrupt a table, restore it to before', () => {
  const getStack = useLocalStack({ sandboxTools: localSandboxTools, progressIntervalMs: 0 });
  let stack: LocalStack;
  const ddb = () => stack.clients.dynamodb('us-east-1');
  beforeAll(() => {
    stack = getStack();
  });

  it('simulate corruption overwrites and deletes items and says so; restore --to 5m brings back every item as it was', async () => {
    // prepare
    const before = await itemsOf(ddb(), TABLE);

    // act: the corruption
    await command(stack, 'alice', `simulate corruption ${TABLE}`);
    const corrupted = await itemsOf(ddb(), TABLE);
    const said = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).at(-1));

    // act: the restore, approved
    const { runId, message } = await requestRun(stack, 'alice', `restore dynamodb ${TABLE} --to 5m`);
    await click(stack, 'bob', message, 'run_approve');

    // assess: the corruption was real and said what it did
    expect(before.size).toBe(SEED_TABLE_ITEMS[0]);
    const overwritten = [...corrupted].filter(([k, v]) => before.has(k) && before.get(k) !== v).length;
    const deleted = [...before.keys()].filter((k) => !corrupted.has(k)).length;
    expect(overwritten).toBe(100);
    expect(deleted).toBe(60);
    expect(said).toContain(`Simulated corruption of \`${TABLE}\`* (sandbox only), by @alice`);
    expect(said).toContain(`overwrote *100* of its 2,000 items and deleted *60*`);
    expect(said).toContain(`\`/dr restore dynamodb ${TABLE} --to 5m\` within five minutes`);
    // the restored table holds the items from before, every one
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded', failures: 0 });
    const restored = ((await ddb().send(new ListTablesCommand({}))).TableNames ?? []).filter((t) => t.startsWith(`${TABLE}-restored-`));
    expect(restored).toHaveLength(1);
    expect(await itemsOf(ddb(), restored[0] ?? '')).toEqual(before);
    // and the result compares it with the corrupted live table
    const final = stack.standIn.message(message.channel, message.ts);
    const text = textOf(final);
    expect(text).toContain(`has *2,000* items, \`${TABLE}\` *1,940* (exact counts)`);
    expect(text).toMatch(/\*[1-9]\d*\* differ/);
    expect(text).toContain('Re-applied from the live table: 2 tags; PITR; TTL on `expiresAt`; stream (NEW_AND_OLD_IMAGES); resource policy; deletion protection.');
    expect(buttons(final).map((b) => b.text)).toEqual(['Cut over', 'Keep both', 'Delete restored table']);
    // the stand-in's snapshots stay out of sight
    const names = ((await ddb().send(new ListBackupsCommand({ TableName: TABLE }))).BackupSummaries ?? []).map((b) => b.BackupName ?? '');
    expect(names.some((n) => n.startsWith('drbot-sandbox-pitr.'))).toBe(false);

    // act: Cut over (its own plan, in the same message), approved by bob
    await click(stack, 'alice', snapshot(final!), 'Cut over');
    const planned = snapshot(stack.standIn.message(message.channel, message.ts)!);
    const liveBeforeApproval = await itemsOf(ddb(), TABLE);
    await click(stack, 'bob', planned, 'run_approve');

    // assess: the live table holds again exactly what it held before the corruption, and the message says it was verified
    expect(textOf(planned)).toContain('safety backup');
    expect(liveBeforeApproval).toEqual(corrupted);
    expect(await itemsOf(ddb(), TABLE)).toEqual(before);
    expect(textOf(stack.standIn.message(message.channel, message.ts))).toContain('Verified by a full diff of both tables: *0* differences');
    }, 300_000);

  it('shows a PITR window that moves with time, reaching back before the seed', async () => {
    // act
    const w = (await ddb().send(new DescribeContinuousBackupsCommand({ TableName: TABLE }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription;

    // assess
    const now = realNow(); // moto's clock, not the durable runner's fake Date
    expect(w?.EarliestRestorableDateTime?.getTime()).toBeLessThan(now - 50 * 60_000);
    expect(w?.LatestRestorableDateTime?.getTime()).toBeGreaterThan(now - 60_000);
  });

  it('is refused where the sandbox hook is absent (against real AWS)', async () => {
    // prepare
    const hook = stack.slackDeps.corrupt;
    delete stack.slackDeps.corrupt;

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', `simulate corruption ${TABLE}`);
    } finally {
      if (hook) stack.slackDeps.corrupt = hook;
    }

    // assess
    expect(reply.json?.text).toContain('works only in the local sandbox');
  });
});
