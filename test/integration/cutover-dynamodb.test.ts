import { DescribeTableCommand, type DynamoDBClient, ListBackupsCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { StoredMessage } from '../../src/local/slack-standin';
import { buttons, click, command, ephemeralsFor, requestRun, runIdOf, runSummary, snapshot, textOf, useLocalStack } from '../helpers/flow';
import { motoClients } from '../helpers/moto';
import { canonicalItems, corruptedPair, createTable, instance, putItems, restoredName, restoredTags, scanItems, tableDigest } from '../helpers/cutover-tables';

/*
 * /dr cutover dynamodb against moto: the live table is made to hold the restored copy's data item
 * by item (its name, ARN and stream kept), after an on-demand safety backup; dry run, the approval
 * path, the next-step buttons, and the refusals (a foreign --from, a missing one, mismatched keys,
 * an unconfigured table, hostile names).
 */

const T = {
  happy: 'spawn-cut-happy',
  dry: 'spawn-cut-dry',
  again: 'spawn-cut-again',
  foreign: 'spawn-cut-foreign',
  other: 'spawn-cut-other',
  schema: 'spawn-cut-schema',
  missing: 'spawn-cut-missing',
  same: 'spawn-cut-same',
  binary: 'spawn-cut-binary',
};
const config = parseConfig(
  { ...SANDBOX_CONFIG, dynamodb: { tables: [...SANDBOX_CONFIG.dynamodb.tables, ...Object.values(T).map((name) => ({ name }))] } },
  'cutover test config',
);

describe('/dr cutover dynamodb', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0 });
  let stack: LocalStack;
  let ddb: DynamoDBClient;
  beforeAll(() => {
    stack = getStack();
    ddb = stack.clients.dynamodb('us-east-1');
  });

  const current = (m: StoredMessage) => stack.standIn.message(m.channel, m.ts);
  const backupsOf = async (table: string) => ((await ddb.send(new ListBackupsCommand({ TableName: table }))).BackupSummaries ?? []).filter((b) => b.TableName === table);
  const describe_ = async (table: string) => (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table;

  it('happy path, 2,000 items: plan with the full diff, four eyes, then the live table equals the restored one item by item, with its ARN, stream and a safety backup', async () => {
    // prepare: 150 overwritten, 100 deleted, 50 added since the restore point
    const s = await corruptedPair(ddb, T.happy, { count: 2000, different: 150, missing: 100, extra: 50 });
    const before = await describe_(T.happy);
    let biggestBatch = 0;
    let puts = 0;
    let deletes = 0;
    stack.clients.dynamodb('us-east-1').middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchWriteItemCommand') {
          const reqs = Object.values((args.input as { RequestItems: Record<string, { PutRequest?: unknown }[]> }).RequestItems).flat();
          biggestBatch = Math.max(biggestBatch, reqs.length);
          const r = await next(args);
          puts += reqs.filter((w) => w.PutRequest).length;
          deletes += reqs.filter((w) => !w.PutRequest).length;
          return r;
        }
        return next(args);
      },
      { step: 'initialize', name: 'count-batch-writes' },
    );

    try {
      // act: alice asks; she cannot approve her own run; bob approves; dave's late click on the stale copy does nothing
      const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.happy} --from ${s.restored}`);
      const plan = textOf(message);
      await click(stack, 'alice', message, 'run_approve');
      const refused = textOf(ephemeralsFor(stack.standIn, 'alice').at(-1));
      const untouched = canonicalItems(await scanItems(ddb, T.happy));
      await click(stack, 'bob', message, 'run_approve');
      await click(stack, 'dave', message, 'run_approve');
      const done = snapshot(current(message) ?? message);

      // assess: the plan
      expect(plan).toContain('Waiting for approval');
      expect(plan).toContain(`Make \`${T.happy}\` hold the data of \`${s.restored}\` (restored by run \`r-0123456789ab\`)`);
      expect(plan).toContain('*250* to write (100 missing, 150 different), *50* to delete, 1,750 unchanged');
      expect(plan).toMatch(new RegExp(`safety backup of \`${T.happy}\`, \`${T.happy}-before-cutover-\\d{8}-\\d{6}-${runId}\`, and writes only once it is AVAILABLE`));
      expect(plan).toContain('Only the differing items are written: 300 write units (copying every item would take 2,050)');
      expect(plan).toMatch(/e\.g\. missing `pk=i-\d{5}`/);
      // four eyes: nothing written before bob's approval
      expect(refused).toMatch(/four eyes/);
      expect(untouched).toHaveLength(1950);
      // AWS's end state: every item as restored, nothing else
      expect(canonicalItems(await scanItems(ddb, T.happy))).toEqual(canonicalItems(s.good));
      expect(canonicalItems(await scanItems(ddb, s.restored))).toEqual(canonicalItems(s.good));
      const after = await describe_(T.happy);
      expect(after?.TableArn).toBe(before?.TableArn);
      expect(after?.LatestStreamArn).toBe(before?.LatestStreamArn);
      expect(after?.StreamSpecification?.StreamEnabled).toBe(true);
      // only the differing items were written, in calls of at most 25
      expect(biggestBatch).toBeLessThanOrEqual(25);
      expect(puts).toBe(250);
      expect(deletes).toBe(50);
      // the safety backup, named as planned
      const backups = await backupsOf(T.happy);
      const name = new RegExp(`\`(spawn-cut-happy-before-cutover-\\d{8}-\\d{6}-${runId})\``).exec(plan)?.[1];
      expect(backups.map((b) => [b.BackupName, b.BackupStatus, b.BackupType])).toEqual([[name, 'AVAILABLE', 'USER']]);
      // the message, the run, the next step
      const final = textOf(done);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(final).toMatch(/^✅ Done/);
      expect(final).toContain(`Wrote *250* of 250 items and deleted *50* of 50 in \`${T.happy}\`; 1,750 were already the same.`);
      expect(final).toContain('Write units: *300* spent; the minimum for these changes was 300 (copying every item would have taken 2,050).');
      expect(final).toContain(`Verified by a full diff of both tables: *0* differences; \`${T.happy}\` holds the 2,000 items of \`${s.restored}\`, item by item.`);
      expect(final).toContain(`Safety backup \`${name}\` is AVAILABLE`);
      expect(buttons(done).map((b) => [b.text, b.action_id])).toEqual([['Delete restored table', 'run_next:0']]);
      expect((await stack.store.getRun(runId))?.next).toEqual([{ label: 'Delete restored table', command: `delete restored-table ${s.restored}`, style: 'danger' }]);
      const results = (await stack.store.listAudit(200)).filter((e) => e.runId === runId && e.action === 'result');
      expect(results).toMatchObject([{ result: 'succeeded' }]);
    } finally {
      stack.clients.dynamodb('us-east-1').middlewareStack.remove('count-batch-writes');
    }
  }, 300_000);

  it('a binary range key, over several chunks: the scan cursors cross the checkpoints intact', async () => {
    // prepare: 1,200 items (chunks of 500), string pk and binary sk, damage in every chunk (moto
    // cannot scan binary hash keys by segment: it fails hashing them, so the binary is the range key)
    const s = await corruptedPair(ddb, T.binary, {
      count: 1200,
      different: 90,
      missing: 60,
      extra: 30,
      spread: true,
      table: { range: true, rangeType: 'B' },
      // four partitions of 300 items: every page ends inside one, so the range key in the cursor is what counts
      rekey: (item, i) => ({ ...item, pk: { S: `instance-${i % 4}` }, sk: { B: Uint8Array.of(Math.floor(i / 4) >> 8, Math.floor(i / 4) & 0xff, 0x00) } }),
    });
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.binary} --from ${s.restored}`);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(textOf(message)).toContain('*150* to write (60 missing, 90 different), *30* to delete');
    expect(textOf(message)).toMatch(/different `pk=instance-\d+, sk=[A-Za-z0-9+/]+=*`/);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(canonicalItems(await scanItems(ddb, T.binary))).toEqual(canonicalItems(s.good));
    expect(textOf(current(message))).toContain('Wrote *150* of 150 items and deleted *30* of 30');
  }, 180_000);

  it('dry run: posts the full diff and changes nothing, no backup either', async () => {
    // prepare
    const s = await corruptedPair(ddb, T.dry, { count: 400, different: 30, missing: 20, extra: 10 });
    const [liveBefore, restoredBefore] = await Promise.all([tableDigest(ddb, T.dry), tableDigest(ddb, s.restored)]);

    // act
    const reply = await command(stack, 'alice', `cutover dynamodb ${T.dry} --from ${s.restored} --dry-run`);

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const msg = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
    expect(msg).toContain('*50* to write (20 missing, 30 different), *10* to delete, 350 unchanged');
    expect(msg).toContain('First it would take an on-demand safety backup');
    expect(await tableDigest(ddb, T.dry)).toBe(liveBefore);
    expect(await tableDigest(ddb, s.restored)).toBe(restoredBefore);
    expect(await backupsOf(T.dry)).toEqual([]);
  }, 120_000);

  it('a table that already holds the restored data: nothing to do, no approval asked, no backup', async () => {
    // prepare
    const s = await corruptedPair(ddb, T.same, { count: 120, different: 0, missing: 0, extra: 0 });

    // act
    const reply = await command(stack, 'alice', `cutover dynamodb ${T.same} --from ${s.restored}`);

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'nothing_to_do' });
    expect(textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)))).toContain('all *120* items are the same');
    expect(await backupsOf(T.same)).toEqual([]);
  });

  it('verify finds a difference (an application wrote meanwhile): the run says so and offers Cut over again, which finishes the job in the same message', async () => {
    // prepare: during the delete phase an application overwrites an item the write phase already fixed
    const s = await corruptedPair(ddb, T.again, { count: 300, different: 20, missing: 10, extra: 5 });
    const app = motoClients(stack.clients.endpoint ?? '').dynamodb('us-east-1');
    let wrote = false;
    const runbookDdb = stack.clients.dynamodb('us-east-1');
    runbookDdb.middlewareStack.add(
      (next, context) => async (args) => {
        const r = await next(args);
        const reqs = context.commandName === 'BatchWriteItemCommand' ? Object.values((args.input as { RequestItems: Record<string, { DeleteRequest?: unknown }[]> }).RequestItems).flat() : [];
        if (!wrote && reqs.some((w) => w.DeleteRequest)) {
          wrote = true;
          await app.send(new PutItemCommand({ TableName: T.again, Item: { ...instance(0), state: { S: 'written-by-the-app' } } }));
        }
        return r;
      },
      { step: 'initialize', name: 'app-writes-meanwhile' },
    );
    let first: StoredMessage;
    let firstRun: string;
    try {
      const r = await requestRun(stack, 'alice', `cutover dynamodb ${T.again} --from ${s.restored}`);
      firstRun = r.runId;
      await click(stack, 'bob', r.message, 'run_approve');
      first = snapshot(current(r.message) ?? r.message);
    } finally {
      runbookDdb.middlewareStack.remove('app-writes-meanwhile');
    }

    // act: alice presses Cut over again; the new plan takes over the message; bob approves
    await click(stack, 'alice', first, 'Cut over again');
    const replanned = snapshot(current(first) ?? first);
    await click(stack, 'bob', replanned, 'run_approve');
    const final = current(first);

    // assess
    expect(wrote).toBe(true);
    expect(runSummary(stack, firstRun)).toMatchObject({ status: 'failed' });
    expect(textOf(first)).toContain('*1* items still differ and *0* are still to delete');
    expect(buttons(first).map((b) => b.text)).toEqual(['Cut over again', 'Delete restored table']);
    expect(textOf(replanned)).toContain(`continues run \`${firstRun}\``);
    expect(textOf(replanned)).toContain('*1* to write (0 missing, 1 different), *0* to delete');
    expect(textOf(final)).toMatch(/^✅ Done/);
    expect(textOf(final)).toContain('*0* differences');
    expect(canonicalItems(await scanItems(ddb, T.again))).toEqual(canonicalItems(s.good));
    expect((await backupsOf(T.again)).filter((b) => b.BackupStatus === 'AVAILABLE')).toHaveLength(2);
  }, 180_000);

  describe('refusals: nothing is written and no backup is made', () => {
    it('a --from named like a restored copy but not tagged as one', async () => {
      // prepare: a look-alike table of other data, without drbot's tags
      const fake = restoredName(T.foreign);
      await createTable(ddb, T.foreign);
      await createTable(ddb, fake, { tags: [{ Key: 'team', Value: 'x`<!channel>' }] });
      await putItems(ddb, fake, [instance(1, 'other data')]);
      const before = await tableDigest(ddb, T.foreign);

      // act
      const reply = await command(stack, 'alice', `cutover dynamodb ${T.foreign} --from ${fake}`);

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      const msg = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
      expect(msg).toContain(`\`${fake}\` is not drbot's restored copy of \`${T.foreign}\`: it has no \`drbot-restored-from\` tag.`);
      expect(msg).not.toContain('Approve');
      expect(await tableDigest(ddb, T.foreign)).toBe(before);
      expect(await backupsOf(T.foreign)).toEqual([]);
    });

    it("a --from restored from another table (its tag names that one), even when renamed to look like this table's", async () => {
      // prepare: a copy restored from spawn-cut-other, under this table's restored name; a hostile tag value
      const fake = restoredName(T.other);
      await createTable(ddb, T.other);
      await createTable(ddb, fake, { tags: [{ Key: 'drbot-run', Value: 'r-1' }, { Key: 'drbot-restored-from', Value: 'spawn-queues`\n<!here>' }] });

      // act
      const reply = await command(stack, 'alice', `cutover dynamodb ${T.other} --from ${fake}`);

      // assess: the tag's value is shown as inert code
      const runId = runIdOf(reply);
      const message = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId));
      const raw = JSON.stringify(message?.blocks);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
      expect(textOf(message)).toContain("is not drbot's restored copy of `spawn-cut-other`: it is tagged `drbot-restored-from`=`spawn-queuesˋ�<!here>`.");
      expect(raw).toContain('`spawn-queuesˋ�&lt;!here&gt;`');
      expect(raw).not.toContain('<!here>');
      expect(await backupsOf(T.other)).toEqual([]);
    });

    it('mismatched key schemas, naming both', async () => {
      // prepare: the restored copy has a range key the live table does not
      await createTable(ddb, T.schema);
      await createTable(ddb, restoredName(T.schema), { range: true, tags: restoredTags(T.schema) });

      // act
      const reply = await command(stack, 'alice', `cutover dynamodb ${T.schema} --from ${restoredName(T.schema)}`);

      // assess
      const runId = runIdOf(reply);
      const msg = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
      expect(msg).toContain(`The key schemas differ: \`${T.schema}\` has pk (S, HASH); \`${restoredName(T.schema)}\` has pk (S, HASH), sk (N, RANGE).`);
      expect(await backupsOf(T.schema)).toEqual([]);
    });

    it('a restored copy that does not exist, saying how to make one', async () => {
      // prepare
      await createTable(ddb, T.missing);

      // act
      const reply = await command(stack, 'alice', `cutover dynamodb ${T.missing} --from ${restoredName(T.missing)}`);

      // assess
      const runId = runIdOf(reply);
      const msg = textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));
      expect(msg).toContain(`There is no table \`${restoredName(T.missing)}\` in us-east-1.`);
      expect(msg).toContain(`/dr restore dynamodb ${T.missing} --to TIME`);
    });

    it('an unconfigured table, a --from of another table, and hostile text: refused before any run starts', async () => {
      // prepare
      const runs = stack.engine.names().length;

      // act
      const replies = await Promise.all([
        command(stack, 'alice', 'cutover dynamodb spawn-nope --from spawn-nope-restored-20260127-101500'),
        command(stack, 'alice', `cutover dynamodb ${T.happy} --from ${restoredName(T.dry)}`),
        command(stack, 'alice', `cutover dynamodb ${T.happy} --from \`x\`<!channel>`),
        command(stack, 'carol', `cutover dynamodb ${T.happy} --from ${restoredName(T.happy)}`),
      ]);

      // assess
      const texts = replies.map((r) => r.json?.text ?? '');
      expect(texts[0]).toContain('Unknown table `spawn-nope`.');
      expect(texts[1]).toContain(`--from \`${restoredName(T.dry)}\` is not a restored copy of \`${T.happy}\``);
      expect(texts[2]).toContain('mentions, channels and links are not arguments');
      expect(texts[3]).toContain('*operator* role');
      expect(stack.engine.names()).toHaveLength(runs);
    });
  });
});
