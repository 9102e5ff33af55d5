import { DeregisterImageCommand, DescribeImagesCommand, type DescribeImagesCommandOutput, type Image } from '@aws-sdk/client-ec2';
import { seedAmis } from '../../src/local/estate';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { ACCESS_DENIED, fail, rewrite } from '../helpers/faults';
import { command, restoreBeforeEach, runIdOf, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr backup amis against moto: copies in the backup region named and tagged, idempotent within a
 * day, the untagged image left alone. moto's copies are available at once, so the pending → failed
 * and pending → available paths rewrite DescribeImages' answer with SDK middleware (named below).
 */

const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');

describe('/dr backup amis', () => {
  const getStack = useLocalStack({ seed: false });
  let stack: LocalStack;
  let tagged: string[];
  let untagged: string;

  const west = () => stack.clients.ec2('us-west-2');
  const copies = async (): Promise<Image[]> => (await west().send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
  const tag = (im: Image, k: string) => im.Tags?.find((t) => t.Key === k)?.Value;
  const message = (runId: string) => textOf(stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => textOf(m).includes(runId)));

  beforeAll(async () => {
    stack = getStack();
    ({ tagged, untagged } = await seedAmis(stack.clients, stack.config));
  }, 60_000);
  // Each test starts from the seeded images and no copy.
  restoreBeforeEach(getStack);

  it('plans a dry run naming each tagged image and its copy, and copies nothing', async () => {
    // act
    const reply = await command(stack, 'alice', 'backup amis --dry-run');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
    const msg = message(runId);
    expect(msg).toContain('*2* images tagged `spawn=true` in us-east-1; would copy *2* to us-west-2');
    expect(msg).toContain(`spawn-worker → \`spawn-worker-backup-${today()}\``);
    expect(msg).not.toContain(untagged);
    expect(await copies()).toEqual([]);
  });

  it('reports a copy that AWS refuses mid-run and copies the other; a second run copies the rest, tagged backup, source-ami and drbot-run, and skips what was copied today', async () => {
    // One scenario: the second run picks up where the first could not go.
    // prepare: CopyImage denied for the first tagged image only
    const undo = fail(west(), 'CopyImageCommand', ACCESS_DENIED, { when: (i) => i.SourceImageId === tagged[1] });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup amis');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    const msg = message(runId);
    expect(msg).toContain('1 of 2 copies available in us-west-2');
    expect(msg).toContain(`${tagged[1]} (spawn-controller): CopyImage on \`${tagged[1]}\` failed`);
    const made = await copies();
    expect(made.map((c) => tag(c, 'source-ami'))).toEqual([tagged[0]]);

    // act: again, with CopyImage allowed
    const again = await command(stack, 'alice', 'backup amis');

    // assess
    const againId = runIdOf(again);
    expect(runSummary(stack, againId)).toMatchObject({ status: 'succeeded' });
    expect(message(againId)).toContain('1 of 1 copies available in us-west-2; 1 already copied today');
    const all = await copies();
    expect(all).toHaveLength(2);
    const controller = all.find((c) => tag(c, 'source-ami') === tagged[1]);
    expect(controller).toMatchObject({ Name: `spawn-controller-backup-${today()}`, State: 'available' });
    expect(tag(controller ?? {}, 'backup')).toBe('true');
    expect(tag(controller ?? {}, 'drbot-run')).toBe(againId);
    expect(all.some((c) => tag(c, 'source-ami') === untagged)).toBe(false);
  });

  it('copies nothing on a second run the same day', async () => {
    // prepare: today's run, done
    expect(runSummary(stack, runIdOf(await command(stack, 'alice', 'backup amis')))).toMatchObject({ status: 'succeeded' });

    // act
    const reply = await command(stack, 'alice', 'backup amis');

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'nothing_to_do' });
    expect(message(runId)).toContain('copies *0* to us-west-2 (2 already copied today)');
    expect(await copies()).toHaveLength(2);
  });

  it('polls again after a durable wait while copies are pending, and reports a copy that fails with its reason while the other completes (DescribeImages rewritten by SDK middleware: moto copies at once)', async () => {
    // prepare: no copy today (any there gone), so the run copies both; the first poll says pending, the second fails one
    for (const c of await copies()) await west().send(new DeregisterImageCommand({ ImageId: c.ImageId ?? '' }));
    let polls = 0;
    const undo = rewrite<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', (out, input) => {
      if (!input.ImageIds) return out;
      polls++;
      return {
        ...out,
        Images: (out.Images ?? []).map((i) =>
          polls === 1 ? { ...i, State: 'pending' } : tag(i, 'source-ami') === tagged[0] ? { ...i, State: 'failed', StateReason: { Code: 'Client.InternalError', Message: 'Snapshot copy failed: KMS key disabled' } } : i,
        ),
      };
    });

    // act
    let reply;
    try {
      reply = await command(stack, 'alice', 'backup amis');
    } finally {
      undo();
    }

    // assess
    const runId = runIdOf(reply);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    expect(polls).toBe(2);
    const msg = message(runId);
    expect(msg).toContain('1 of 2 copies available in us-west-2');
    const worker = msg.split('\n').find((l) => l.includes(`\`${tagged[0]}\` → `)) ?? '';
    expect(worker).toContain(`spawn-worker-backup-${today()}: failed (Snapshot copy failed: KMS key disabled)`);
    const controller = msg.split('\n').find((l) => l.includes(`\`${tagged[1]}\` → `)) ?? '';
    expect(controller).toContain(`spawn-controller-backup-${today()}: available`);
  });
});
