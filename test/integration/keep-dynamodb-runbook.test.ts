/**
 * The keep-dynamodb runbook (src/runbooks/keep-dynamodb/runbook.ts, `/dr keep dynamodb TABLE
 * --restored RESTORED`) on its own, against moto: the plan checks the restored table is drbot's
 * restore of TABLE (its tags), reads both tables side by side (a setting AWS will not tell is shown
 * as unread with the reason, never as off) and the run changes nothing: it says how to point an
 * application at the restored table and offers Delete. The flows through Slack are
 * restored-table-verbs.test.ts; these need no local stack, so `npm run mutate` can run them for
 * each mutant.
 *
 * moto enforces no IAM, never throttles and always answers a table's status and item count:
 * refusals and those answers left out are SDK middleware on the runbook's client, and each test
 * says so.
 */
import {
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  ListTablesCommand,
  type TableDescription,
  TagResourceCommand,
} from '@aws-sdk/client-dynamodb';
import type { KeepDynamodbInput } from '../../src/runbooks/keep-dynamodb';
import { type KeepPlan, runbook } from '../../src/runbooks/keep-dynamodb/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, fail, rewrite, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';
import { createSourceTable, itemsOf, type SourceOptions } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);

const WEST = 'us-west-2';
const RUN = 'r-0123456789ab';
const ddb = (region = 'us-east-1') => rig.moto().clients.dynamodb(region);
const THROTTLED = { name: 'ThrottlingException', message: 'Rate exceeded', status: 400 };
/** An AWS message in a code span: its backticks become ˋ. */
const quoted = (text: string) => text.replace(/`/g, 'ˋ');
let n = 0;

interface Pair {
  table: string;
  restored: string;
  region: string;
}

/**
 * A configured table and a restore of it as drbot tags its own (or with the tags given), each set up
 * as told; `live: false` makes no live table (deleted since); `west`: both in us-west-2.
 */
async function pair(o: { live?: SourceOptions | false; restored?: SourceOptions; west?: boolean } = {}): Promise<Pair> {
  const table = `spawn-k${++n}`;
  const restored = `${table}-restored-20261201-101500`;
  const region = o.west ? WEST : 'us-east-1';
  rig.configure({ dynamodb: { tables: [{ name: table, ...(o.west ? { region: WEST } : {}) }] } });
  if (o.live !== false) await createSourceTable(ddb(region), table, o.live ?? {});
  await createSourceTable(ddb(region), restored, { ...o.restored, tags: o.restored?.tags ?? { 'drbot-run': RUN, 'drbot-restored-from': table } });
  return { table, restored, region };
}

const describe_ = async (name: string, region = 'us-east-1'): Promise<TableDescription> => (await ddb(region).send(new DescribeTableCommand({ TableName: name }))).Table ?? {};
const tablesIn = async (region = 'us-east-1') => (await ddb(region).send(new ListTablesCommand({}))).TableNames ?? [];

function input(p: Pair): KeepDynamodbInput & AnyRunInput {
  return {
    kind: 'keep-dynamodb',
    runId: `k${++n}`,
    requester: 'UALICE',
    channel: 'C1',
    commandText: `/dr keep dynamodb ${p.table} --restored ${p.restored}`,
    requestedAt: new Date().toISOString(),
    table: p.table,
    restored: p.restored,
  };
}

const plan = (i: KeepDynamodbInput) => runbook.plan(rig.deps(), i);
const execute = (i: KeepDynamodbInput & AnyRunInput, p: KeepPlan) => rig.executeWatched(runbook, i, p);

describe('the plan', () => {
  it('names the run that made the restored table and shows both tables side by side, each setting as AWS has it', async () => {
    // prepare: the live table with every setting on, the restored one with none
    const p = await pair({ live: { items: 3, pitr: true, ttl: 'expiresAt', stream: 'NEW_AND_OLD_IMAGES', deletionProtection: true, policy: true, tags: { team: 'spawn' } } });
    const live = await describe_(p.table);
    const restored = await describe_(p.restored);

    // act
    const r = await plan(input(p));

    // assess
    expect(r.lines).toEqual([
      `\`${p.restored}\` was made by drbot (run \`${RUN}\`) from \`${p.table}\`.`,
      `*Live* \`${p.table}\`: ACTIVE, ~3 items · ARN \`${live.TableArn}\` · PITR on · TTL on \`expiresAt\` · stream NEW_AND_OLD_IMAGES \`${live.LatestStreamArn}\` · deletion protection on · resource policy yes`,
      `*Restored* \`${p.restored}\`: ACTIVE, ~0 items · ARN \`${restored.TableArn}\` · PITR off · TTL off · stream off · deletion protection off · resource policy none`,
      '(~ counts are DynamoDB’s own, refreshed about every six hours.)',
    ]);
    expect(r.data.run).toBe(RUN);
    expect(r.data.restored).toStrictEqual({
      name: p.restored,
      arn: restored.TableArn,
      status: 'ACTIVE',
      items: 0,
      settings: { deletionProtection: false, billingMode: 'PAY_PER_REQUEST', pitr: false, tags: [{ Key: 'drbot-run', Value: RUN }, { Key: 'drbot-restored-from', Value: p.table }] },
    });
    expect(r.data.live).toMatchObject({ name: p.table, arn: live.TableArn, status: 'ACTIVE', items: 3, streamArn: live.LatestStreamArn, settings: { pitr: true, ttlAttribute: 'expiresAt', streamViewType: 'NEW_AND_OLD_IMAGES', deletionProtection: true } });
    expect(r.data.live?.settings.resourcePolicy).toContain('spawn-reader');
    expect(r.data.live?.unread).toBeUndefined();
    expect(runbook.title(input(p))).toBe(`Keep both: ${p.table} and ${p.restored}`);
    expect(runbook.destructive).toBe(false);
  });

  it('a live table deleted since the restore is said to be gone; the tables are read in the configured table’s region', async () => {
    // prepare
    const p = await pair({ live: false, west: true, restored: { pitr: true, stream: 'KEYS_ONLY' } });
    const restored = await describe_(p.restored, WEST);

    // act
    const r = await plan(input(p));

    // assess
    expect(r.lines[1]).toBe(`*Live* \`${p.table}\`: gone (deleted).`);
    expect(r.lines[2]).toBe(`*Restored* \`${p.restored}\`: ACTIVE, ~0 items · ARN \`${restored.TableArn}\` · PITR on · TTL off · stream KEYS_ONLY \`${restored.LatestStreamArn}\` · deletion protection off · resource policy none`);
    expect(r.data).not.toHaveProperty('live');
    expect(r.data.restored.streamArn).toBe(restored.LatestStreamArn);
  });

  it('refuses a table drbot did not restore, a restore of another table, one that is not there, and a table the config does not list', async () => {
    // prepare
    const foreign = await pair({ restored: { tags: { team: 'spawn' } } });
    const other = await pair({ restored: { tags: { 'drbot-run': RUN, 'drbot-restored-from': 'spawn-queues' } } });
    const missing: Pair = { table: other.table, restored: `${other.table}-restored-20261201-999999`, region: 'us-east-1' };

    // act / assess
    rig.configure({ dynamodb: { tables: [{ name: foreign.table }, { name: other.table }] } });
    await expect(plan(input(foreign))).rejects.toMatchObject({ code: 'not_drbot_restored', message: expect.stringContaining(`\`${foreign.restored}\` was not made by drbot from \`${foreign.table}\``) });
    await expect(plan(input(other))).rejects.toMatchObject({ code: 'not_drbot_restored', message: expect.stringContaining('(it says it came from `spawn-queues`)') });
    await expect(plan(input(missing))).rejects.toMatchObject({ code: 'unknown_restored_table', message: `There is no table \`${missing.restored}\` in us-east-1: nothing to act on (it may have been deleted already).` });
    await expect(plan(input({ ...other, table: 'payments-ledger' }))).rejects.toMatchObject({ code: 'unknown_table' });
    // nothing was changed
    expect(await tablesIn()).toEqual(expect.arrayContaining([foreign.table, foreign.restored, other.table, other.restored]));
  });

  it('a setting AWS will not tell is shown as unread with the reason, never as off (moto enforces no IAM: middleware refuses)', async () => {
    // prepare: each of the restored table's settings refused in turn to its own read; the live table's TTL too
    const p = await pair({ live: { ttl: 'expiresAt' } });
    const restored = await describe_(p.restored);
    fail(ddb(), 'DescribeContinuousBackupsCommand', ACCESS_DENIED, { when: (q) => q.TableName === p.restored });
    fail(ddb(), 'DescribeTimeToLiveCommand', THROTTLED, { when: (q) => q.TableName === p.restored || q.TableName === p.table });
    fail(ddb(), 'GetResourcePolicyCommand', ACCESS_DENIED, { when: (q) => q.ResourceArn === restored.TableArn });

    // act
    const r = await plan(input(p));

    // assess
    expect(r.lines[2]).toBe(
      `*Restored* \`${p.restored}\`: ACTIVE, ~0 items · ARN \`${restored.TableArn}\` · PITR unread: \`${quoted(`DescribeContinuousBackups on \`${p.restored}\` failed: User is not authorized to perform this action`)}\` · TTL unread: \`${quoted(`DescribeTimeToLive on \`${p.restored}\` failed: Rate exceeded`)}\` · stream off · deletion protection off · resource policy unread: \`${quoted(`GetResourcePolicy on \`${restored.TableArn}\` failed: User is not authorized to perform this action`)}\``,
    );
    expect(r.lines[1]).toMatch(/ · PITR off · TTL unread: `DescribeTimeToLive on ˋspawn-k\d+ˋ failed: Rate exceeded` · stream off · /);
    expect(r.data.restored.unread?.map((u) => u.setting).sort()).toEqual(['PITR', 'TTL', 'resource policy']);
    expect(r.data.restored.settings.pitr).toBeUndefined();
  });

  it('a status or item count DynamoDB leaves out is shown as UNKNOWN and not at all; a stream without its ARN as ? (moto always gives them: middleware takes them out)', async () => {
    // prepare
    const p = await pair({ live: false, restored: { stream: 'NEW_IMAGE' } });
    rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (out) => {
      const { TableStatus: _s, ItemCount: _c, LatestStreamArn: _a, ...rest } = out.Table ?? {};
      return { ...out, Table: rest };
    });

    // act
    const r = await plan(input(p));

    // assess
    expect(r.lines[2]).toMatch(new RegExp(`^\\*Restored\\* \`${p.restored}\`: UNKNOWN · ARN \`arn:[^\`]+\` · PITR off · TTL off · stream NEW_IMAGE \`\\?\` · `));
    expect(r.data.restored).not.toHaveProperty('items');
    expect(r.data.restored).not.toHaveProperty('streamArn');
  });

  it('a stream ARN without a stream setting (a stream turned off: AWS keeps the ARN a day) is not shown as the stream (middleware adds the ARN)', async () => {
    // prepare
    const p = await pair({ live: false });
    rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (out) => ({ ...out, Table: { ...out.Table, LatestStreamArn: `${out.Table?.TableArn}/stream/2026-12-01T10:15:00.000` } }));

    // act
    const r = await plan(input(p));

    // assess
    expect(r.data.restored).not.toHaveProperty('streamArn');
    expect(r.lines[2]).toContain(' · stream off · ');
  });

  it('refused or throttled reading the tables: the plan stops with the call, the table and the fix (middleware refuses)', async () => {
    // prepare
    const p = await pair();

    // act / assess: the live table's DescribeTable throttled
    fail(ddb(), 'DescribeTableCommand', THROTTLED, { when: (q) => q.TableName === p.table });
    await expect(plan(input(p))).rejects.toMatchObject({ code: 'aws_throttled', message: `DescribeTable on \`${p.table}\` failed: Rate exceeded`, hint: 'AWS is throttling; wait a minute and run it again.' });
    undoFaults();
    // the restored table's tags denied
    fail(ddb(), 'ListTagsOfResourceCommand', ACCESS_DENIED);
    await expect(plan(input(p))).rejects.toMatchObject({ code: 'aws_access_denied', message: expect.stringMatching(/^ListTagsOfResource on `arn:aws:dynamodb:us-east-1:\d+:table\/spawn-k\d+-restored-20261201-101500` failed: /) });
  });
});

describe('the execution', () => {
  it('changes nothing, says how to point an application at the restored table (its name, ARN, IAM, both streams, alarms, backups, no PITR) and offers Delete', async () => {
    // prepare
    const p = await pair({ live: { items: 3, stream: 'NEW_IMAGE', tags: { team: 'spawn' } }, restored: { items: 2, stream: 'NEW_IMAGE' } });
    const i = input(p);
    const planned = (await plan(i)).data;
    const live = await describe_(p.table);
    const restored = await describe_(p.restored);
    const before = [await itemsOf(ddb(), p.table), await itemsOf(ddb(), p.restored)];

    // act
    const r = await execute(i, planned);

    // assess: the outcome
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.lines).toEqual([
      `Both tables stay; nothing was changed. \`${p.restored}\` is billed until it is deleted.`,
      '*To point an application at the restored table:*',
      `• Its table name is \`${p.restored}\`: change the setting the application reads (for example \`TABLE_NAME=${p.restored}\` in a Lambda function’s environment, or the app’s config) and redeploy; where an ARN is used, it is \`${restored.TableArn}\`.`,
      `• IAM: policies that grant access to \`${live.TableArn}\` (and \`/index/*\`) must also grant it to \`${restored.TableArn}\`.`,
      `• Streams: consumers of the live table’s stream \`${live.LatestStreamArn}\` (Lambda event source mappings, Kinesis adapters) do not see the restored table; its own stream is \`${restored.LatestStreamArn}\`: add a mapping for it.`,
      `• Alarms and dashboards on \`TableName=${p.table}\` do not cover \`${p.restored}\`: copy the ones you need.`,
      `• Backups: drbot’s config lists \`${p.table}\`; if \`${p.restored}\` is to stay, add it under \`dynamodb.tables\` so \`/dr status\`, \`/dr backup\` and \`/dr setup\` cover it.`,
      `• \`${p.restored}\` has no PITR: turn it on before it holds data you cannot lose.`,
    ]);
    expect(r.next).toEqual([{ label: 'Delete restored table', command: `delete restored-table ${p.restored}`, style: 'danger' }]);
    expect(r.checkpoints).toEqual([]);
    expect(r.reports).toEqual([]);
    // AWS: both tables as they were
    expect([await itemsOf(ddb(), p.table), await itemsOf(ddb(), p.restored)]).toEqual(before);
    expect(await describe_(p.table)).toMatchObject({ TableStatus: 'ACTIVE', LatestStreamArn: live.LatestStreamArn });
    expect(await describe_(p.restored)).toMatchObject({ TableStatus: 'ACTIVE', LatestStreamArn: restored.LatestStreamArn });
  });

  it('the live table gone: IAM names its ARN by the table’s name; a restored stream with no live stream to name', async () => {
    // prepare
    const p = await pair({ live: false, restored: { stream: 'NEW_IMAGE', pitr: true } });
    const i = input(p);
    const planned = (await plan(i)).data;
    const restored = await describe_(p.restored);

    // act
    const r = await execute(i, planned);

    // assess: no PITR line (it has PITR)
    expect(r.lines.slice(3)).toEqual([
      `• IAM: policies that grant access to \`…:table/${p.table}\` (and \`/index/*\`) must also grant it to \`${restored.TableArn}\`.`,
      `• Streams: consumers of the live table’s stream (Lambda event source mappings, Kinesis adapters) do not see the restored table; its own stream is \`${restored.LatestStreamArn}\`: add a mapping for it.`,
      `• Alarms and dashboards on \`TableName=${p.table}\` do not cover \`${p.restored}\`: copy the ones you need.`,
      `• Backups: drbot’s config lists \`${p.table}\`; if \`${p.restored}\` is to stay, add it under \`dynamodb.tables\` so \`/dr status\`, \`/dr backup\` and \`/dr setup\` cover it.`,
    ]);
    expect(await tablesIn()).toContain(p.restored);
  });

  it('a restored table without a stream says consumers get nothing; its PITR unread is not said to be off', async () => {
    // prepare: live with a stream, restored without; its PITR and its resource policy unread (middleware refuses)
    const p = await pair({ live: { stream: 'NEW_IMAGE' } });
    const restoredArn = (await describe_(p.restored)).TableArn;
    fail(ddb(), 'DescribeContinuousBackupsCommand', ACCESS_DENIED, { when: (q) => q.TableName === p.restored });
    fail(ddb(), 'GetResourcePolicyCommand', ACCESS_DENIED, { when: (q) => q.ResourceArn === restoredArn });
    const i = input(p);
    const planned = (await plan(i)).data;
    undoFaults();

    // act
    const r = await execute(i, planned);

    // assess
    expect(r.lines[4]).toBe('• Streams: the restored table has no stream; anything that consumed the live table’s stream gets nothing from it.');
    expect(r.lines).toHaveLength(7);
    expect(planned.restored.unread?.map((u) => u.setting).sort()).toEqual(['PITR', 'resource policy']);
    expect(r.lines.join('\n')).not.toContain('has no PITR');
  });

  it('the PITR line follows the restored table’s setting, not the live table’s, and only PITR unread silences it', async () => {
    // prepare: live with PITR, restored without; another setting unread on the restored table
    const p = await pair({ live: { pitr: true } });
    const restoredArn = (await describe_(p.restored)).TableArn;
    fail(ddb(), 'GetResourcePolicyCommand', ACCESS_DENIED, { when: (q) => q.ResourceArn === restoredArn });
    const i = input(p);
    const planned = (await plan(i)).data;
    undoFaults();

    // act
    const r = await execute(i, planned);

    // assess
    expect(planned.restored.unread).toEqual([{ setting: 'resource policy', reason: expect.stringContaining('GetResourcePolicy on') }]);
    expect(r.lines.at(-1)).toBe(`• \`${p.restored}\` has no PITR: turn it on before it holds data you cannot lose.`);
  });

  it('a tag added after the plan changes nothing the run says: it works from the plan alone', async () => {
    // prepare
    const p = await pair();
    const i = input(p);
    const planned = (await plan(i)).data;
    const arn = (await describe_(p.restored)).TableArn ?? '';
    await ddb().send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'drbot-restored-from', Value: 'spawn-queues' }] }));

    // act
    const r = await execute(i, planned);

    // assess
    expect(r.ok).toBe(true);
    expect(r.lines[2]).toContain(arn);
  });
});
