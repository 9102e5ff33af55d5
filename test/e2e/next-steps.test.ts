import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import { LOCAL_STATE_TABLE, type LocalStack } from '../../src/local/stack';
import { dryRun, flag, positional } from '../../src/runbooks/args';
import { createCatalogue, VERBS } from '../../src/runbooks/catalogue';
import { type Runbook, STEP } from '../../src/runbooks/driver';
import { bucketRegion } from '../../src/runbooks/resources';
import { defineVerb, type RunOf } from '../../src/runbooks/verb';
import { buttons, click, ephemeralsFor, requestRun, runSummary, snapshot, textOf, useLocalStack } from '../helpers/flow';

/*
 * Next steps: a run that ends can offer follow-ups as buttons on its message ("Cut over", "Delete
 * restored table"). Pressing one runs that command as if the presser typed it, in the same message,
 * with its own plan and approval. These tests use two small verbs: `mark` writes an object and
 * offers "Remove mark"; `unmark` deletes it.
 */

const markVerb = defineVerb({
  id: 'mark-bucket',
  words: ['mark', 'bucket'],
  group: 'Admin',
  summary: 'write a marker object (a test verb)',
  example: '/dr mark bucket spawn-results-us-east-1 --label m1',
  role: 'operator',
  destructive: true,
  args: { bucket: positional('bucket', 'BUCKET', 'a configured bucket', { required: true }), label: flag('word', 'label', 'marker name', { required: true }), dryRun },
  input: (a) => ({ bucket: a.bucket, label: a.label, dryRun: a.dryRun }),
});
const unmarkVerb = defineVerb({
  id: 'unmark-bucket',
  words: ['unmark', 'bucket'],
  group: 'Admin',
  summary: 'delete a marker object (a test verb)',
  example: '/dr unmark bucket spawn-results-us-east-1 --label m1',
  role: 'operator',
  destructive: true,
  args: { bucket: positional('bucket', 'BUCKET', 'a configured bucket', { required: true }), label: flag('word', 'label', 'marker name', { required: true }), dryRun },
  input: (a) => ({ bucket: a.bucket, label: a.label, dryRun: a.dryRun }),
});
type MarkInput = RunOf<typeof markVerb>;
const key = (label: string) => `drbot-marks/${label}`;

const markRunbook: Runbook<MarkInput, null> = {
  title: (i) => `Mark ${i.bucket} with ${i.label}`,
  destructive: true,
  plan: async (_d, i) => ({ lines: [`Will write \`${key(i.label)}\``], data: null }),
  async execute(ctx, deps, i) {
    await ctx.step('put', () => deps.clients.s3(bucketRegion(deps.config, i.bucket)).send(new PutObjectCommand({ Bucket: i.bucket, Key: key(i.label), Body: 'x' })), STEP);
    return {
      ok: true,
      lines: [`Wrote \`${key(i.label)}\`.`],
      failures: [],
      next: [
        { label: 'Remove mark', command: `unmark bucket ${i.bucket} --label ${i.label}`, style: 'danger' },
        { label: 'Plan removal', command: `unmark bucket ${i.bucket} --label ${i.label} --dry-run` },
      ],
    };
  },
};
const unmarkRunbook: Runbook<RunOf<typeof unmarkVerb>, null> = {
  title: (i) => `Remove mark ${i.label} from ${i.bucket}`,
  destructive: true,
  plan: async (_d, i) => ({ lines: [`Will delete \`${key(i.label)}\``], data: null }),
  async execute(ctx, deps, i) {
    await ctx.step('delete', () => deps.clients.s3(bucketRegion(deps.config, i.bucket)).send(new DeleteObjectCommand({ Bucket: i.bucket, Key: key(i.label) })), STEP);
    return { ok: true, lines: [`Deleted \`${key(i.label)}\`.`], failures: [] };
  },
};

const catalogue = createCatalogue([...VERBS, markVerb, unmarkVerb], { runbooks: { [markVerb.id]: markRunbook, [unmarkVerb.id]: unmarkRunbook } });
const BUCKET = 'spawn-results-us-east-1';

describe('next-step buttons on a finished run', () => {
  const getStack = useLocalStack({ catalogue });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  const exists = (label: string) =>
    stack.clients
      .s3('us-east-1')
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: key(label) }))
      .then(() => true, () => false);
  const current = (ts: string) => stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => m.ts === ts);

  /** alice marks, bob approves: the finished message with its next-step buttons. */
  async function markedBy(label: string) {
    const { runId, message } = await requestRun(stack, 'alice', `mark bucket ${BUCKET} --label ${label}`);
    await click(stack, 'bob', message, 'run_approve');
    const done = current(message.ts);
    if (!done) throw new Error('the run message is gone');
    return { runId, message: snapshot(done) };
  }

  it('offers the steps as buttons naming only the run and an index; the record keeps the commands', async () => {
    // act
    const { runId, message } = await markedBy('n1');

    // assess
    expect(buttons(message).map((b) => [b.action_id, b.text, b.value])).toEqual([
      ['run_next:0', 'Remove mark', `${runId}:0`],
      ['run_next:1', 'Plan removal', `${runId}:1`],
    ]);
    expect((await stack.store.getRun(runId))?.next?.[0]?.command).toBe(`unmark bucket ${BUCKET} --label n1`);
  });

  it('runs the step in the same message, with its own approval, when an operator presses it', async () => {
    // prepare
    const { runId, message } = await markedBy('n2');
    const postedBefore = stack.standIn.channelMessages(SANDBOX_CHANNEL).length;

    // act: alice presses Remove mark; the plan replaces the result in the same message; bob approves
    await click(stack, 'alice', message, 'Remove mark');
    const planned = snapshot(current(message.ts) ?? message);
    const stillThere = await exists('n2');
    await click(stack, 'bob', planned, 'run_approve');

    // assess: no new message, the plan and then the result in place, the object gone
    expect(stack.standIn.channelMessages(SANDBOX_CHANNEL)).toHaveLength(postedBefore);
    expect(textOf(planned)).toContain('Will delete `drbot-marks/n2`');
    expect(textOf(planned)).toContain(`continues run \`${runId}\``);
    expect(buttons(planned).map((b) => b.action_id)).toEqual(['run_approve', 'run_reject']);
    expect(stillThere).toBe(true);
    expect(await exists('n2')).toBe(false);
    expect(textOf(current(message.ts))).toContain('Deleted `drbot-marks/n2`.');
    const audit = await stack.store.listAudit(30);
    expect(audit.some((e) => e.action === 'next-step' && e.actor === SANDBOX_USERS.alice && e.detail === `continues ${runId}`)).toBe(true);
  });

  it('refuses a viewer, a second press, and a value naming another run, starting nothing', async () => {
    // prepare
    const a = await markedBy('n3');
    const b = await markedBy('n4');
    const before = stack.engine.names().length;

    // act: carol is a viewer; a forged value names b's run on a's message
    await click(stack, 'carol', a.message, 'Remove mark');
    const carolSaw = textOf(ephemeralsFor(stack.standIn, 'carol').at(-1));
    await stack.client.click({
      user: SANDBOX_USERS.alice,
      channel: a.message.channel,
      messageTs: a.message.ts,
      messageText: a.message.text,
      blocks: a.message.blocks,
      button: { action_id: 'run_next:0', value: `${b.runId}:0`, text: 'Remove mark' },
    });
    await stack.engine.idle();
    const forgedSaw = textOf(ephemeralsFor(stack.standIn, 'alice').at(-1));
    const afterRefusals = stack.engine.names().length;
    // then alice presses for real, and again on the stale copy of the message
    await click(stack, 'alice', a.message, 'Plan removal');
    await click(stack, 'alice', a.message, 'Remove mark');
    const secondSaw = textOf(ephemeralsFor(stack.standIn, 'alice').at(-1));

    // assess
    expect(carolSaw).toContain('*operator* role');
    expect(forgedSaw).toContain('does not belong to this message');
    expect(afterRefusals).toBe(before);
    expect(stack.engine.names()).toHaveLength(before + 1);
    expect(secondSaw).toContain('already started');
    expect(await exists('n3')).toBe(true);
    expect(await exists('n4')).toBe(true);
    const refused = (await stack.store.listAudit(40)).filter((e) => e.action === 'click' && e.result === 'refused').map((e) => e.detail);
    expect(refused).toEqual(expect.arrayContaining(['wrong_message', 'already_started']));
    // the press is held as long as the run record (400 days), not a day after which a stale copy could press again
    const claim = await stack.clients.dynamodb().send(new GetItemCommand({ TableName: LOCAL_STATE_TABLE, Key: { pk: { S: `IDEM#next:${a.runId}` }, sk: { S: 'IDEM' } } }));
    expect(Number(claim.Item?.ttl?.N)).toBeGreaterThan(stack.now().getTime() / 1000 + 399 * 86_400);
  });

  it('offers the earlier steps again when the step it started changes nothing (a dry run, a rejection)', async () => {
    // prepare
    const { message } = await markedBy('n5');

    // act: a dry run of the removal, then a real one that bob rejects
    await click(stack, 'alice', message, 'Plan removal');
    const afterDry = snapshot(current(message.ts) ?? message);
    await click(stack, 'alice', afterDry, 'Remove mark');
    const planned = snapshot(current(message.ts) ?? message);
    await click(stack, 'bob', planned, 'run_reject');
    const afterReject = current(message.ts);

    // assess
    expect(textOf(afterDry)).toContain('Dry run');
    expect(buttons(afterDry).map((b) => b.text)).toEqual(['Remove mark', 'Plan removal']);
    expect(textOf(afterReject)).toContain('Rejected');
    expect(buttons(afterReject).map((b) => b.text)).toEqual(['Remove mark', 'Plan removal']);
    expect(await exists('n5')).toBe(true);
    const runIds = [...textOf(afterReject).matchAll(/run `(r-[0-9a-f]{12})`/g)].map((m) => m[1]);
    expect(runSummary(stack, runIds[0] ?? '')?.status).toBe('rejected');
  });
});
