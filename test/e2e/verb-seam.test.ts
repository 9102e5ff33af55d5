import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SANDBOX_CHANNEL, SANDBOX_USERS } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { dryRun, flag, positional } from '../../src/runbooks/args';
import { createCatalogue, VERBS } from '../../src/runbooks/catalogue';
import { type Runbook, STEP } from '../../src/runbooks/driver';
import { bucketRegion } from '../../src/runbooks/resources';
import { defineVerb, type RunOf } from '../../src/runbooks/verb';
import { renderHelp } from '../../src/slack/views/help';
import { click, command, ephemeralsFor, requestRun, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * The seam a newcomer adds a verb through: one module (a spec with its typed arguments and input,
 * and a runbook), handed to a catalogue built for this test. Nothing else in src/ is touched, yet the
 * verb parses from a signed slash command, is authorized by its role, shows in /dr help, plans,
 * waits for a second person's approval, and runs on the durable local runner against moto.
 */

// ---- the whole new verb: what a newcomer would write in src/runbooks/stamp-bucket/ ----
const stampVerb = defineVerb({
  id: 'stamp-bucket',
  words: ['stamp', 'bucket'],
  group: 'Admin',
  summary: 'write a marker object into a bucket (a test verb)',
  example: '/dr stamp bucket spawn-results-us-east-1 --label drill-1',
  role: 'operator',
  destructive: true,
  args: {
    bucket: positional('bucket', 'BUCKET', 'a configured bucket', { required: true }),
    label: flag('word', 'label', 'what the marker says', { required: true, placeholder: 'WORD' }),
    dryRun,
  },
  input: (a) => ({ bucket: a.bucket, label: a.label, dryRun: a.dryRun }),
});
type StampInput = RunOf<typeof stampVerb>;

const markerKey = (input: StampInput) => `drbot-stamps/${input.label}.txt`;

const stampRunbook: Runbook<StampInput, { key: string }> = {
  title: (input) => `Stamp ${input.bucket}`,
  destructive: true,
  async plan(_deps, input) {
    return { lines: [`Will write \`${markerKey(input)}\` into \`${input.bucket}\``], data: { key: markerKey(input) } };
  },
  async execute(ctx, deps, input, plan) {
    await ctx.step('put', async () => {
      await deps.clients.s3(bucketRegion(deps.config, input.bucket)).send(new PutObjectCommand({ Bucket: input.bucket, Key: plan.key, Body: `stamped by ${input.requester}` }));
    }, STEP);
    return { ok: true, lines: [`Wrote \`${plan.key}\`.`], failures: [] };
  },
};
// ---- end of the new verb ----

const catalogue = createCatalogue([...VERBS, stampVerb], { runbooks: { [stampVerb.id]: stampRunbook } });
const BUCKET = 'spawn-results-us-east-1';

describe('adding a verb is one module and a catalogue line', () => {
  const getStack = useLocalStack({ catalogue });
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });

  it('shows the new verb in /dr help, grouped, and in detail', async () => {
    // act
    const list = renderHelp({ sandbox: true, catalogue });
    const detail = await command(stack, 'carol', 'help stamp bucket');

    // assess
    expect(list.blocks?.map((b) => (b.type === 'section' ? b.text?.text ?? '' : '')).find((t) => t.startsWith('*Admin*'))).toContain('/dr stamp bucket BUCKET --label WORD [--dry-run]');
    expect(detail.json?.text).toContain('/dr stamp bucket BUCKET --label WORD [--dry-run] — write a marker object');
  });

  it('refuses bad arguments and the wrong role with the catalogue’s own words, starting nothing', async () => {
    // prepare
    const before = stack.engine.names().length;

    // act
    const missing = await command(stack, 'alice', `stamp bucket ${BUCKET}`);
    const unknown = await command(stack, 'alice', 'stamp bucket not-a-configured-bucket --label x');
    const viewer = await command(stack, 'carol', `stamp bucket ${BUCKET} --label x`);

    // assess
    expect(missing.json?.text).toContain('--label is missing.');
    expect(unknown.json?.text).toContain('Unknown bucket `not-a-configured-bucket`');
    expect(viewer.json?.text).toContain('needs the *operator* role');
    expect(stack.engine.names()).toHaveLength(before);
  });

  it('drives the new verb from a signed slash command through plan, approval and execution on the durable runner', async () => {
    // act: alice asks, the plan waits; alice cannot approve her own run; bob approves
    const { runId, message } = await requestRun(stack, 'alice', `stamp bucket ${BUCKET} --label seam-1`);
    const planText = textOf(message);
    const s3 = stack.clients.s3('us-east-1');
    const beforeApproval = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'drbot-stamps/seam-1.txt' })).then(() => 'exists', () => 'absent');
    await click(stack, 'alice', message, 'run_approve');
    const refusedAlice = textOf(ephemeralsFor(stack.standIn, 'alice').at(-1));
    await click(stack, 'bob', message, 'run_approve');

    // assess: the plan, the refusal, the object in moto, the message and the run's result
    expect(planText).toContain('Will write `drbot-stamps/seam-1.txt` into `spawn-results-us-east-1`');
    expect(beforeApproval).toBe('absent');
    expect(refusedAlice).toMatch(/someone else must approve it \(four eyes\)/);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'drbot-stamps/seam-1.txt' }))).Body?.transformToString();
    expect(body).toBe(`stamped by ${SANDBOX_USERS.alice}`);
    const final = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => m.ts === message.ts);
    expect(textOf(final)).toContain('Wrote `drbot-stamps/seam-1.txt`.');
    expect(runSummary(stack, runId)).toMatchObject({ runId, status: 'succeeded' });
    const audit = await stack.store.listAudit(20);
    expect(audit.filter((e) => e.runId === runId).map((e) => e.action)).toEqual(expect.arrayContaining(['command', 'plan', 'approval-requested', 'result']));
  });

  it('keeps a dry run of the new verb to its plan', async () => {
    // act
    const reply = await command(stack, 'alice', `stamp bucket ${BUCKET} --label seam-dry --dry-run`);

    // assess
    const s3 = stack.clients.s3('us-east-1');
    const exists = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'drbot-stamps/seam-dry.txt' })).then(() => true, () => false);
    expect(reply.json?.text).toContain('the result will be posted here');
    expect(exists).toBe(false);
  });
});
