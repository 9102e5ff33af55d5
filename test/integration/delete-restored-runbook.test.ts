/**
 * The delete-restored-table runbook (src/runbooks/delete-restored-table/runbook.ts, `/dr delete
 * restored-table`) on its own, against moto: it deletes only a table drbot's restore made (its tags
 * say so, checked at plan and again right before the delete), turns off only the deletion
 * protection drbot turned on (and back on when the delete fails), and waits until the table is gone.
 * The flows through Slack and approval are restored-table-verbs.test.ts; these need no local stack,
 * so `npm run mutate` can run them for each mutant.
 *
 * moto deletes a table at once and never throttles: a table still DELETING and refusals are SDK
 * middleware on the runbook's client, and each test says so.
 */
import { DeleteTableCommand, DescribeTableCommand, type DescribeTableCommandOutput, ListTablesCommand, ResourceNotFoundException, type TableStatus, ThrottlingException, UntagResourceCommand } from '@aws-sdk/client-dynamodb';
import type { DeleteRestoredTableInput } from '../../src/runbooks/delete-restored-table';
import { type DeletePlan, runbook } from '../../src/runbooks/delete-restored-table/runbook';
import type { AnyRunInput } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';
import { createSourceTable, itemsOf } from '../helpers/tables';

const rig = useRunbookRig();
afterEach(undoFaults);

const SOURCE = 'spawn-queues';
const RUN = 'r-0123456789ab';
const ddb = () => rig.moto().clients.dynamodb('us-east-1');
let second = 0;

/** A name a restore of SOURCE would give, a different one each call. */
const restoredName = () => `${SOURCE}-restored-20261201-10${String(Math.floor(second / 60)).padStart(2, '0')}${String(second++ % 60).padStart(2, '0')}`;
const drbotTags = (over: Record<string, string> = {}): Record<string, string> => ({ 'drbot-run': RUN, 'drbot-restored-from': SOURCE, ...over });

/** A table named like a restore, tagged as drbot tags its own (or as told), with deletion protection and PITR as told. */
async function table(opts: { tags?: Record<string, string>; protection?: boolean; pitr?: boolean } = {}): Promise<string> {
  const name = restoredName();
  await createSourceTable(ddb(), name, { tags: opts.tags ?? drbotTags(), deletionProtection: opts.protection ?? false, pitr: opts.pitr ?? false });
  return name;
}

const exists = async (name: string) => ((await ddb().send(new ListTablesCommand({}))).TableNames ?? []).includes(name);
const protectedNow = async (name: string) => (await ddb().send(new DescribeTableCommand({ TableName: name }))).Table?.DeletionProtectionEnabled === true;

function input(restored: string, over: Partial<DeleteRestoredTableInput> = {}): DeleteRestoredTableInput & AnyRunInput {
  return { kind: 'delete-restored-table', runId: `d${second}`, requester: 'UALICE', channel: 'C1', commandText: `/dr delete restored-table ${restored}`, requestedAt: new Date().toISOString(), restored, dryRun: false, ...over } as DeleteRestoredTableInput & AnyRunInput;
}

const plan = (i: DeleteRestoredTableInput) => runbook.plan(rig.deps(), i);
const execute = (i: DeleteRestoredTableInput & AnyRunInput, p: DeletePlan) => rig.execute(runbook, i, p);

describe('the plan', () => {
  it('names the table, its source, run, size, protection and PITR, and what it leaves alone; a dry run says would', async () => {
    // prepare
    const plain = await table();
    const guarded = await table({ tags: drbotTags({ 'drbot-deletion-protection': 'on' }), protection: true, pitr: true });

    // act
    const p = await plan(input(plain));
    const g = await plan(input(guarded, { dryRun: true }));

    // assess
    expect(p.data).toEqual({ table: SOURCE, region: 'us-east-1', run: RUN, unprotect: false, pitr: false });
    expect(p.lines[0]).toMatch(new RegExp(`^Deletes \`${plain}\` \\(us-east-1\\): restored from \`${SOURCE}\` by run \`${RUN}\` on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC; ~0 items, 0 B \\(DynamoDB’s counts, refreshed about every six hours\\)\\.$`));
    expect(p.lines.slice(1)).toEqual([
      'Deletion protection is off.',
      'PITR is off: no backup of it is kept once it is deleted.',
      `\`${SOURCE}\` and its backups are not touched. An application pointed at \`${plain}\` (Keep both) stops working.`,
    ]);
    expect(g.data).toEqual({ table: SOURCE, region: 'us-east-1', run: RUN, unprotect: true, pitr: true });
    expect(g.lines[0]).toMatch(/^Would delete `/);
    expect(g.lines.slice(1, 3)).toEqual([
      'Deletion protection is on, turned on by drbot when it copied it from the source: turned off first.',
      'PITR is on, so DynamoDB keeps a system backup of it for 35 days after the deletion.',
    ]);
    expect(runbook.title(input(plain))).toBe(`Delete restored table ${plain}`);
    expect(runbook.resources?.(input(plain))).toEqual([`dynamodb:${plain}`, `dynamodb:${SOURCE}`]);
    expect(runbook.resources?.(input('not-a-restore'))).toEqual(['dynamodb:not-a-restore']);
    expect(runbook.destructive).toBe(true);
  });

  it('the PITR status unreadable: planned as off (no backup promised)', async () => {
    const name = await table({ pitr: true });
    fail(ddb(), 'DescribeContinuousBackupsCommand', ACCESS_DENIED);
    expect((await plan(input(name))).data.pitr).toBe(false);
  });

  it('refuses any table drbot did not restore from that source, one that is not there, one busy, and protection someone else set', async () => {
    // no tags, another source, no run
    for (const [tags, said] of [
      [{ team: 'spawn' }, ''],
      [drbotTags({ 'drbot-restored-from': 'spawn-alerts' }), ' (it says it came from `spawn-alerts`)'],
      [drbotTags({ 'drbot-run': '' }), ''],
    ] as const) {
      const name = await table({ tags });
      await expect(plan(input(name))).rejects.toMatchObject({
        code: 'not_drbot_restored',
        message: `\`${name}\` was not made by drbot from \`${SOURCE}\`: it lacks the tags \`drbot-run\` and \`drbot-restored-from=${SOURCE}\`${said}, so drbot leaves it alone.`,
        hint: 'drbot acts only on the tables its own restores made. Manage this one in the console.',
      });
      expect(await exists(name)).toBe(true);
    }
    const missing = restoredName();
    await expect(plan(input(missing))).rejects.toMatchObject({ code: 'unknown_restored_table', message: `There is no table \`${missing}\` in us-east-1: nothing to act on (it may have been deleted already).`, hint: 'Check the name the restore run reported.' });
    // a name no restore of a configured table gives
    await expect(plan(input('spawn-queues-copy'))).rejects.toMatchObject({ code: 'unknown_table' });

    const busy = await table();
    rewrite<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', (out) => ({ ...out, Table: { ...out.Table, TableStatus: 'UPDATING' } }));
    await expect(plan(input(busy))).rejects.toMatchObject({ code: 'table_busy', message: `\`${busy}\` is UPDATING; a table can be deleted once it is ACTIVE.`, hint: 'Run the command again in a few minutes.' });
    undoFaults();

    const theirs = await table({ protection: true });
    await expect(plan(input(theirs))).rejects.toMatchObject({
      code: 'protected_by_someone',
      message: `\`${theirs}\` has deletion protection that drbot did not turn on, so drbot does not turn it off.`,
      hint: 'If it is meant to go, turn deletion protection off in the console, then run this again.',
    });
    expect(await protectedNow(theirs)).toBe(true);
  });
});

describe('the execution', () => {
  it('deletes the table and waits until it is gone; the source is untouched', async () => {
    await createSourceTable(ddb(), SOURCE, { items: 3 });
    const name = await table({ pitr: true });
    const i = input(name);
    const p = (await plan(i)).data;

    const r = await execute(i, p);

    expect(await exists(name)).toBe(false);
    expect(await exists(SOURCE)).toBe(true);
    expect((await itemsOf(ddb(), SOURCE)).size).toBe(3);
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      lines: [`:wastebasket: Deleted \`${name}\` (restored from \`${SOURCE}\` by run \`${RUN}\`).`, 'DynamoDB keeps a system backup of it for 35 days (`/dr restore dynamodb` cannot name it: it is not a configured table).', `\`${SOURCE}\` was not touched.`],
    });
  });

  it('turns off the protection drbot set, then deletes; says so', async () => {
    const name = await table({ tags: drbotTags({ 'drbot-deletion-protection': 'on' }), protection: true });
    const i = input(name);
    const p = (await plan(i)).data;

    const r = await execute(i, p);

    expect(await exists(name)).toBe(false);
    expect(r.lines).toEqual([`:wastebasket: Deleted \`${name}\` (restored from \`${SOURCE}\` by run \`${RUN}\`), after turning off the deletion protection drbot had set.`, 'No backup of it is kept.', `\`${SOURCE}\` was not touched.`]);
  });

  it('a table already gone when the step runs (a replay, or someone else): done', async () => {
    const name = await table();
    const i = input(name);
    const p = (await plan(i)).data;
    await ddb().send(new DeleteTableCommand({ TableName: name }));
    const deletes = countTries(ddb(), 'DeleteTableCommand');

    const r = await execute(i, p);

    expect(r.ok).toBe(true);
    expect(deletes.tries()).toBe(0);
    deletes.undo();
  });

  it('its tags changed after the plan: not deleted, said why', async () => {
    const name = await table();
    const i = input(name);
    const p = (await plan(i)).data;
    const arn = (await ddb().send(new DescribeTableCommand({ TableName: name }))).Table?.TableArn ?? '';
    await ddb().send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['drbot-run'] }));

    const r = await execute(i, p);

    expect(await exists(name)).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.lines[0]).toMatch(new RegExp(`^:x: \`${name}\` was not deleted: \`${name}\` was not made by drbot .* drbot acts only on the tables its own restores made\\. Manage this one in the console\\.$`));
    expect(r.failures).toEqual([expect.stringMatching(new RegExp(`^${name}: \`${name}\` was not made by drbot`))]);
  });

  it('a table drbot protected whose tags changed after the plan: the run stops before turning the protection off', async () => {
    // prepare
    const name = await table({ tags: drbotTags({ 'drbot-deletion-protection': 'on' }), protection: true });
    const i = input(name);
    const p = (await plan(i)).data;
    const arn = (await ddb().send(new DescribeTableCommand({ TableName: name }))).Table?.TableArn ?? '';
    await ddb().send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['drbot-restored-from'] }));

    // act: the unprotect step throws, and the run fails with its words
    const r = await rig.run((ctx, d, x) => runbook.execute(ctx, d, x as DeleteRestoredTableInput, p, { report: async () => {} }), i);

    // assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toContain('was not made by drbot from `spawn-queues`');
    expect(await exists(name)).toBe(true);
    expect(await protectedNow(name)).toBe(true);
  });

  it('DeleteTable refused: the protection drbot took off goes back on; if that fails too, the message says to do it by hand', async () => {
    // prepare
    const name = await table({ tags: drbotTags({ 'drbot-deletion-protection': 'on' }), protection: true });
    const i = input(name);
    const p = (await plan(i)).data;
    fail(ddb(), 'DeleteTableCommand', ACCESS_DENIED);

    // act
    const r = await execute(i, p);

    // assess
    expect(await exists(name)).toBe(true);
    expect(await protectedNow(name)).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.lines[0]).toMatch(/^:x: `.+` was not deleted: DeleteTable on `.+` failed: User is not authorized to perform this action\. Grant the bot's role permission for `DeleteTable` on this resource \(see template\.yaml\)\. Its deletion protection is back on\.$/);

    // the protection cannot be put back either
    fail(ddb(), 'UpdateTableCommand', ACCESS_DENIED, { when: (input) => input.DeletionProtectionEnabled === true });
    const again = await execute(input(name), p);
    expect(await protectedNow(name)).toBe(false);
    expect(again.lines[0]).toMatch(/ Its deletion protection could not be turned back on \(UpdateTable on `.+` failed: User is not authorized to perform this action\): turn it on in the console\.$/);

    // without protection to put back, nothing is said of it
    const plain = await table();
    const q = (await plan(input(plain))).data;
    const bare = await execute(input(plain), q);
    expect(bare.lines[0]).toMatch(/failed: User is not authorized to perform this action\. Grant the bot's role permission for `DeleteTable` on this resource \(see template\.yaml\)\.$/);
    expect(bare.lines[0]).not.toContain('protection');
  });

  describe('waiting until it is gone (moto deletes at once: SDK middleware answers DescribeTable after the delete)', () => {
    /** After DeleteTable is sent, DescribeTable answers `after` (a status, '' for none, or an error to throw). */
    async function deleting(after: (n: number) => string | Error): Promise<{ name: string; polls: () => number }> {
      const name = await table();
      let sent = false;
      let polls = 0;
      rewrite(ddb(), 'DeleteTableCommand', (out) => {
        sent = true;
        return out;
      });
      stub<DescribeTableCommandOutput>(ddb(), 'DescribeTableCommand', () => {
        if (!sent) return undefined;
        const a = after(++polls);
        if (a instanceof Error) throw a;
        // '' stands for an answer without a TableStatus
        return { Table: { TableName: name, ...(a ? { TableStatus: a as TableStatus } : {}) } };
      });
      return { name, polls: () => polls };
    }

    it('DELETING for a while, then gone', async () => {
      const { name, polls } = await deleting((n) => (n < 4 ? 'DELETING' : new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} })));
      const i = input(name);
      const r = await execute(i, (await plan(i)).data);
      expect(r.ok).toBe(true);
      expect(polls()).toBe(4);
    });

    it('checked every 5 s for the first six checks, then every 30 s (the durable waits, from the run\'s history)', async () => {
      const { name, polls } = await deleting((n) => (n < 9 ? 'DELETING' : new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} })));
      const i = input(name);
      const r = await rig.executeWatched(runbook, i, (await plan(i)).data);
      expect(r.ok).toBe(true);
      expect(polls()).toBe(9);
      const delays = r.history.flatMap((e) => (e.Name === 'wait-gone' && e.StepSucceededDetails?.RetryDetails?.NextAttemptDelaySeconds !== undefined ? [e.StepSucceededDetails.RetryDetails.NextAttemptDelaySeconds] : []));
      expect(delays).toEqual([5, 5, 5, 5, 5, 5, 30, 30]);
    });

    it('still DELETING after 60 checks: the run ends saying so', async () => {
      const { name, polls } = await deleting(() => 'DELETING');
      const i = input(name);
      const r = await execute(i, (await plan(i)).data);
      expect(r).toMatchObject({ ok: false, lines: [`:hourglass: \`${name}\` was asked to be deleted, but it is still DELETING. Check it in the console.`], failures: [`${name}: not deleted yet (DELETING)`] });
      expect(polls()).toBe(60);
    });

    it('throttled checks are counted and the wait gives up after 20 of them; any other error ends it at once, named', async () => {
      const throttled = await deleting(() => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
      const i = input(throttled.name);
      const r = await execute(i, (await plan(i)).data);
      expect(r.lines).toEqual([`:hourglass: \`${throttled.name}\` was asked to be deleted, but it is still DELETING. Check it in the console.`]);
      expect(throttled.polls()).toBe(20);
      undoFaults();

      const denied = await deleting(() => Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
      const j = input(denied.name);
      const d = await execute(j, (await plan(j)).data);
      expect(d.lines).toEqual([`:hourglass: \`${denied.name}\` was asked to be deleted, but DescribeTable on \`${denied.name}\` failed: not allowed. Check it in the console.`]);
      expect(denied.polls()).toBe(1);
      undoFaults();

      // a status DescribeTable leaves out counts as DELETING
      // a 5xx is counted like throttling: the wait goes on
      const flaky = await deleting((n) => (n < 3 ? Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } }) : new ResourceNotFoundException({ message: 'gone', $metadata: {} })));
      const f = input(flaky.name);
      expect((await execute(f, (await plan(f)).data)).ok).toBe(true);
      expect(flaky.polls()).toBe(3);
      undoFaults();

      const blank = await deleting(() => '');
      const k = input(blank.name);
      expect((await execute(k, (await plan(k)).data)).failures).toEqual([`${blank.name}: not deleted yet (DELETING)`]);
    });
  });
});
