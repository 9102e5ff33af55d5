import { type DynamoDBClient, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../src/config/load';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import type { StoredMessage } from '../../src/local/slack-standin';
import { fail, rewrite, THROUGHPUT_EXCEEDED } from '../helpers/faults';
import { buttons, click, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';
import { canonicalItems, corruptedPair, type Item, scanItems } from '../helpers/cutover-tables';

/*
 * Faults in the middle of a cut-over, injected as SDK middleware on the runbook's own DynamoDB
 * client (moto never throttles and enforces no IAM), and Slack failing in its stand-in. Each test
 * asserts the table's end state item by item, the run's record and the final message.
 */

const T = {
  throttled: 'spawn-cut-throttled',
  denied: 'spawn-cut-denied',
  backupDenied: 'spawn-cut-backup-denied',
  crash: 'spawn-cut-crash',
  slow: 'spawn-cut-slow-backup',
  stuck: 'spawn-cut-stuck-backup',
  slack429: 'spawn-cut-slack-429',
  slack500: 'spawn-cut-slack-500',
};
const config = parseConfig(
  { ...SANDBOX_CONFIG, dynamodb: { tables: [...SANDBOX_CONFIG.dynamodb.tables, ...Object.values(T).map((name) => ({ name }))] } },
  'cutover faults config',
);
const SIZE = { count: 800, different: 60, missing: 40, extra: 20 };

type Requests = Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>;

interface WriteLog {
  /** The pk of every put and delete DynamoDB answered, in order. */
  puts: string[];
  deletes: string[];
  calls: number;
  undo: () => void;
}

/** Records the put and delete requests of every BatchWriteItem DynamoDB answered (a call a fault refused records nothing). */
function recordWrites(ddb: DynamoDBClient): WriteLog {
  const name = `record-writes-${Math.random()}`;
  const log: WriteLog = { puts: [], deletes: [], calls: 0, undo: () => void ddb.middlewareStack.remove(name) };
  // 'build' runs after the faults' 'initialize' middleware.
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const r = await next(args);
      log.calls++;
      for (const w of Object.values((args.input as { RequestItems: Requests }).RequestItems).flat()) {
        if (w.PutRequest) log.puts.push(w.PutRequest.Item.pk?.S ?? '');
        else log.deletes.push(w.DeleteRequest?.Key.pk?.S ?? '');
      }
      return r;
    },
    { step: 'build', name },
  );
  return log;
}

describe('cut-over when AWS or Slack fails mid-run', () => {
  const getStack = useLocalStack({ seed: false, config, progressIntervalMs: 0, slackRetry: { attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 } });
  let stack: LocalStack;
  let ddb: DynamoDBClient;
  const unhandled: unknown[] = [];
  const record = (e: unknown) => unhandled.push(e);
  beforeAll(() => {
    stack = getStack();
    ddb = stack.clients.dynamodb('us-east-1');
    process.on('unhandledRejection', record);
  });
  afterAll(() => {
    process.off('unhandledRejection', record);
  });
  afterEach(() => {
    delete stack.standIn.fault;
  });

  const final = (m: StoredMessage) => textOf(stack.standIn.message(m.channel, m.ts));
  const backupsOf = async (table: string) => ((await ddb.send(new ListBackupsCommand({ TableName: table }))).BackupSummaries ?? []).filter((b) => b.TableName === table);

  it('throttling (ProvisionedThroughputExceeded) on every third BatchWriteItem: backed off and retried, the end state is exact', async () => {
    // prepare
    const s = await corruptedPair(ddb, T.throttled, SIZE);
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.throttled} --from ${s.restored}`);
    let n = 0;
    const undo = fail(ddb, 'BatchWriteItemCommand', THROUGHPUT_EXCEEDED, { when: () => ++n % 3 === 0 });
    const writes = recordWrites(ddb);

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
      writes.undo();
    }

    // assess
    expect(unhandled).toEqual([]);
    expect(n).toBeGreaterThan(writes.calls);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(canonicalItems(await scanItems(ddb, T.throttled))).toEqual(canonicalItems(s.good));
    expect(writes.puts).toHaveLength(SIZE.different + SIZE.missing);
    expect(new Set(writes.puts).size).toBe(writes.puts.length);
    expect(writes.deletes).toHaveLength(SIZE.extra);
    expect(final(message)).toContain('*0* differences');
  }, 180_000);

  it('AccessDenied on BatchWriteItem after three calls: Failed, saying how many were written and that the safety backup exists', async () => {
    // prepare
    const s = await corruptedPair(ddb, T.denied, SIZE);
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.denied} --from ${s.restored}`);
    let n = 0;
    const undo = fail(ddb, 'BatchWriteItemCommand', { name: 'AccessDeniedException', message: 'User: arn:aws:sts::123456789012:assumed-role/drbot-runbook is not authorized to perform: dynamodb:BatchWriteItem', status: 400 }, { when: () => ++n > 3 });
    const writes = recordWrites(ddb);

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
      writes.undo();
    }

    // assess: what the message says was written is what was written
    expect(unhandled).toEqual([]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    const text = final(message);
    const written = writes.puts.length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(SIZE.different + SIZE.missing);
    expect(text).toMatch(/^❌ Failed/);
    expect(text).toContain(`Stopped part-way: wrote *${written}* of ${SIZE.different + SIZE.missing} items and deleted *0* of ${SIZE.extra} in \`${T.denied}\` before it failed.`);
    expect(text).toContain('not authorized to perform: dynamodb:BatchWriteItem');
    expect(text).toContain("Grant the bot's role permission for `BatchWriteItem`");
    const backups = await backupsOf(T.denied);
    expect(backups).toHaveLength(1);
    expect(text).toContain(`Safety backup \`${backups[0]?.BackupName}\` is AVAILABLE (\`${backups[0]?.BackupArn}\`)`);
    expect(buttons(stack.standIn.message(message.channel, message.ts)).map((b) => b.text)).toEqual(['Cut over again']);
    // the table: exactly the written items were fixed, the rest still as corrupted
    const live = new Map((await scanItems(ddb, T.denied)).map((i) => [i.pk?.S, i]));
    const fixed = s.good.filter((g) => canonicalItems([g])[0] === canonicalItems(live.has(g.pk?.S) ? [live.get(g.pk?.S) as Item] : [])[0]);
    expect(fixed).toHaveLength(SIZE.count - SIZE.different - SIZE.missing + written);
    expect(live.size).toBe(SIZE.count - SIZE.missing + SIZE.extra + writes.puts.filter((pk) => Number(pk.slice(2)) >= SIZE.different).length);
  }, 180_000);

  it('AccessDenied on CreateBackup: nothing is written, and the message says so', async () => {
    // prepare
    const s = await corruptedPair(ddb, T.backupDenied, { count: 100, different: 5, missing: 5, extra: 5 });
    const before = canonicalItems(await scanItems(ddb, T.backupDenied));
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.backupDenied} --from ${s.restored}`);
    const undo = fail(ddb, 'CreateBackupCommand', { name: 'AccessDeniedException', message: 'not authorized to perform: dynamodb:CreateBackup', status: 400 });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(final(message)).toContain(`Nothing was changed: the safety backup \`${T.backupDenied}-before-cutover-`);
    expect(final(message)).toContain('CreateBackup on');
    expect(canonicalItems(await scanItems(ddb, T.backupDenied))).toEqual(before);
    expect(await backupsOf(T.backupDenied)).toEqual([]);
  }, 120_000);

  it('crash and resume: the network drops a BatchWriteItem in the second chunk; after a durable wait a new invocation replays from the checkpoints, only that chunk is done again, no item is written twice, and the counts stay exact', async () => {
    // prepare: 1,500 items (chunks of 500), the damage spread over every chunk; once a scan of the
    // restored table has gone past its first page (the second chunk), its first BatchWriteItem fails
    // as a dropped connection would
    const s = await corruptedPair(ddb, T.crash, { count: 1500, different: 150, missing: 100, extra: 60, spread: true });
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.crash} --from ${s.restored}`);
    let armed = false;
    let crashed = 0;
    let firstPageScans = 0;
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string; ExclusiveStartKey?: unknown };
        if (context.commandName === 'ScanCommand' && input.TableName === s.restored) {
          if (input.ExclusiveStartKey) armed = true;
          else firstPageScans++;
        }
        if (context.commandName === 'BatchWriteItemCommand' && armed && !crashed) {
          crashed++;
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'crash-in-second-chunk' },
    );
    const writes = recordWrites(ddb);

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      ddb.middlewareStack.remove('crash-in-second-chunk');
      writes.undo();
    }

    // assess: a replay happened; after the approval, the first chunk and the verify each scanned the
    // restored table's 4 segments from their start once (8), and the first chunk was not done again
    // (that would be 12); every item was written once
    expect(unhandled).toEqual([]);
    expect(crashed).toBe(1);
    const name = stack.engine.names().find((x) => (stack.engine.result(x)?.getResult() as { runId?: string } | undefined)?.runId === runId) ?? '';
    expect(stack.engine.result(name)?.getInvocations().length).toBeGreaterThan(1);
    expect(firstPageScans).toBe(8);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(writes.puts.length).toBe(250);
    expect(new Set(writes.puts).size).toBe(250);
    expect(writes.deletes.length).toBe(60);
    expect(canonicalItems(await scanItems(ddb, T.crash))).toEqual(canonicalItems(s.good));
    expect(final(message)).toContain('Wrote *250* of 250 items and deleted *60* of 60 in `spawn-cut-crash`; 1,250 were already the same (1 chunk done again after a passing failure).');
    expect(final(message)).toContain('Write units: *310* spent; the minimum for these changes was 310');
    expect(final(message)).toContain('*0* differences');
    expect(await backupsOf(T.crash)).toHaveLength(1);
  }, 240_000);

  it('a safety backup that takes a while: durable waits until it is AVAILABLE, and only then are items written', async () => {
    // prepare: DescribeBackup says CREATING twice (moto's backups are AVAILABLE at once)
    const s = await corruptedPair(ddb, T.slow, { count: 100, different: 5, missing: 5, extra: 5 });
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.slow} --from ${s.restored}`);
    const events: string[] = [];
    let checks = 0;
    const undoCreate = rewrite<{ BackupDetails?: { BackupStatus?: string } }>(ddb, 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails, BackupStatus: 'CREATING' } }));
    const undoDescribe = rewrite<{ BackupDescription?: { BackupDetails?: { BackupStatus?: string } } }>(ddb, 'DescribeBackupCommand', (o) => {
      const status = ++checks <= 2 ? 'CREATING' : 'AVAILABLE';
      events.push(`backup ${status}`);
      return { ...o, BackupDescription: { ...o.BackupDescription, BackupDetails: { ...o.BackupDescription?.BackupDetails, BackupStatus: status } } };
    });
    const undoWrites = rewrite(ddb, 'BatchWriteItemCommand', (o) => {
      events.push('write');
      return o;
    });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undoCreate();
      undoDescribe();
      undoWrites();
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(events.slice(0, 4)).toEqual(['backup CREATING', 'backup CREATING', 'backup AVAILABLE', 'write']);
    expect(canonicalItems(await scanItems(ddb, T.slow))).toEqual(canonicalItems(s.good));
  }, 120_000);

  it('a safety backup still CREATING after the last poll: the run fails saying so, nothing is written, Cut over again is offered', async () => {
    // prepare: DescribeBackup never says AVAILABLE (moto's backups are AVAILABLE at once)
    const s = await corruptedPair(ddb, T.stuck, { count: 100, different: 5, missing: 5, extra: 5 });
    const before = canonicalItems(await scanItems(ddb, T.stuck));
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.stuck} --from ${s.restored}`);
    let checks = 0;
    let writes = 0;
    const undoCreate = rewrite<{ BackupDetails?: { BackupStatus?: string } }>(ddb, 'CreateBackupCommand', (o) => ({ ...o, BackupDetails: { ...o.BackupDetails, BackupStatus: 'CREATING' } }));
    const undoDescribe = rewrite<{ BackupDescription?: { BackupDetails?: { BackupStatus?: string } } }>(ddb, 'DescribeBackupCommand', (o) => {
      checks++;
      return { ...o, BackupDescription: { ...o.BackupDescription, BackupDetails: { ...o.BackupDescription?.BackupDetails, BackupStatus: 'CREATING' } } };
    });
    const undoWrites = rewrite(ddb, 'BatchWriteItemCommand', (o) => {
      writes++;
      return o;
    });

    // act
    try {
      await click(stack, 'bob', message, 'run_approve');
    } finally {
      undoCreate();
      undoDescribe();
      undoWrites();
    }

    // assess: every poll made (30 min of durable waits: 6 of 10 s, then 58 of 30 s), then the honest failure
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed' });
    expect(checks).toBe(64);
    expect(writes).toBe(0);
    expect(canonicalItems(await scanItems(ddb, T.stuck))).toEqual(before);
    const text = final(message);
    expect(text).toContain(`Nothing was changed: the safety backup \`${T.stuck}-before-cutover-`);
    expect(text).toContain('is still CREATING after 30 min, so no item was written.');
    expect(buttons(stack.standIn.message(message.channel, message.ts)).map((b) => b.text)).toContain('Cut over again');
  }, 120_000);

  it('slack-429-on-progress-and-final-update: the cut-over completes, and its message ends Done once Slack answers', async () => {
    // prepare: every progress update is rate limited once, the final one six times
    const s = await corruptedPair(ddb, T.slack429, SIZE);
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.slack429} --from ${s.restored}`);
    let limited = 0;
    const seen = new Set<string>();
    stack.standIn.fault = (method, args) => {
      if (method !== 'chat.update') return undefined;
      const text = String(args.text);
      if (text.startsWith('Done') && limited++ < 6) return { status: 429, retryAfter: 1 };
      if (!text.startsWith('Done') && !seen.has(text)) {
        seen.add(text);
        return { status: 429, retryAfter: 1 };
      }
      return undefined;
    };

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(limited).toBe(7);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    expect(final(message)).toMatch(/^✅ Done/);
    expect(canonicalItems(await scanItems(ddb, T.slack429))).toEqual(canonicalItems(s.good));
  }, 180_000);

  it('slack-500-on-every-update: the cut-over still completes, its record and audit say so', async () => {
    // prepare
    const s = await corruptedPair(ddb, T.slack500, SIZE);
    const { runId, message } = await requestRun(stack, 'alice', `cutover dynamodb ${T.slack500} --from ${s.restored}`);
    stack.standIn.fault = (method) => (method === 'chat.update' ? { status: 500 } : undefined);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(canonicalItems(await scanItems(ddb, T.slack500))).toEqual(canonicalItems(s.good));
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded', next: [{ label: 'Delete restored table', command: `delete restored-table ${s.restored}`, style: 'danger' }] });
    const audit = (await stack.store.listAudit(200)).filter((e) => e.runId === runId && e.action === 'result');
    expect(audit).toMatchObject([{ result: 'succeeded' }]);
    expect(final(message)).not.toMatch(/Done/);
  }, 180_000);
});
