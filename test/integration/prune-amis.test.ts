import { CopyImageCommand, CreateTagsCommand, DeregisterImageCommand, DescribeImagesCommand, type DescribeImagesCommandOutput, DescribeSnapshotsCommand, type Image } from '@aws-sdk/client-ec2';
import { seedAmis } from '../../src/local/estate';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { deleteAmiCopy, snapshotsOf } from '../../src/runbooks/backup-amis/prune';
import { parseScheduleEvent, startScheduledRun } from '../../src/schedules/start';
import { ACCESS_DENIED, fail, rewrite } from '../helpers/faults';
import { click, command, ephemeralsFor, recordedSlackWaits, requestRun, restoreBeforeEach, runIdOf, runMessage, runSummary, textOf, useLocalStack } from '../helpers/flow';

/*
 * /dr backup amis --prune against moto: drbot's copies in the backup region (tagged backup=true,
 * source-ami and drbot-run, named <name>-backup-<yyyymmdd>) past 30 days are deregistered and their
 * EBS snapshots deleted; the newest copy of each source image, an image tagged backup=true by
 * someone else and an untagged image are never touched.
 *
 * The stack's clock is fixed 100 days ahead of the real time. moto stamps every image with the real
 * time in whole seconds, so copies made here within a second could not be told apart: each copy's
 * age is set on DescribeImages' answer by SDK middleware (`rewrite`), counted back from that clock.
 * Each test starts from the seeded images and no copy (moto restored before each), and makes the
 * copies it prunes in source-image groups of its own (the source-ami tag names a group).
 */

const DAY = 86_400_000;
const NOW = new Date(Math.floor((Date.now() + 100 * DAY) / 1000) * 1000);
const ymd = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');
const RUN = 'r-00000000a11e';

describe('/dr backup amis --prune', () => {
  const slackRetry = recordedSlackWaits({ attempts: 8, baseDelayMs: 20, maxWaitMs: 1000 });
  const getStack = useLocalStack({ seed: false, now: () => NOW, slackRetry });
  let stack: LocalStack;
  let source: string;
  const ages = new Map<string, number>();
  const west = () => stack.clients.ec2('us-west-2');
  const exists = async (id: string) => ((await west().send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? []).some((i) => i.ImageId === id);
  const allSnapshots = async () => new Set(((await west().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId));
  const image = async (id: string): Promise<Image> => ((await west().send(new DescribeImagesCommand({ ImageIds: [id] }))).Images ?? [])[0] ?? {};

  /** A copy of the seeded image in the backup region, `ageDays` old at the stack's clock, tagged as drbot tags its own (or as `tags` says). */
  async function copy(group: string, ageDays: number, tags?: Record<string, string>, name?: string): Promise<string> {
    const made = new Date(NOW.getTime() - ageDays * DAY);
    const r = await west().send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: source, Name: name ?? `spawn-worker-backup-${ymd(made)}` }));
    const id = r.ImageId ?? '';
    const t = tags ?? { backup: 'true', 'source-ami': group, 'drbot-run': RUN };
    if (Object.keys(t).length) await west().send(new CreateTagsCommand({ Resources: [id], Tags: Object.entries(t).map(([Key, Value]) => ({ Key, Value })) }));
    ages.set(id, ageDays);
    return id;
  }

  beforeAll(async () => {
    stack = getStack();
    source = (await seedAmis(stack.clients, stack.config)).tagged[0] ?? '';
    rewrite<DescribeImagesCommandOutput>(west(), 'DescribeImagesCommand', (out) => ({
      ...out,
      Images: (out.Images ?? []).map((i) => (ages.has(i.ImageId ?? '') ? { ...i, CreationDate: new Date(NOW.getTime() - (ages.get(i.ImageId ?? '') ?? 0) * DAY).toISOString() } : i)),
    }));
  }, 60_000);
  restoreBeforeEach(getStack);
  afterEach(() => {
    delete stack.standIn.fault;
  });

  describe('plans, asks for approval, and deletes only drbot\'s old copies with their snapshots', () => {
    /** Two groups of drbot's copies (three and two of them, oldest first), a copy tagged by someone else and an untagged one. */
    async function copies(): Promise<{ g1: string[]; g2: string[]; foreign: string; untagged: string }> {
      const g1 = [await copy('ami-00000000000000a1', 90), await copy('ami-00000000000000a1', 60), await copy('ami-00000000000000a1', 20)];
      const g2 = [await copy('ami-00000000000000b2', 50), await copy('ami-00000000000000b2', 40)];
      const foreign = await copy('ami-00000000000000a1', 400, { backup: 'true', 'source-ami': 'ami-00000000000000a1' });
      const untagged = await copy('', 400, {}, 'scratch-copy');
      return { g1, g2, foreign, untagged };
    }

    it('a dry run lists what would go, oldest first, what stays and why, and deletes nothing', async () => {
      // prepare
      const { g1, g2, foreign, untagged } = await copies();
      const snapsBefore = await allSnapshots();

      // act
      const reply = await command(stack, 'alice', 'backup amis --prune --dry-run');

      // assess
      const runId = runIdOf(reply);
      expect(runSummary(stack, runId)).toMatchObject({ status: 'dry_run' });
      const text = textOf(runMessage(stack.standIn, runId));
      const day = (age: number) => new Date(NOW.getTime() - age * DAY).toISOString().slice(0, 10);
      expect(text).toContain(
        `Prune: would delete 3 AMI copies in us-west-2 older than 30 days: \`${g1[0]} spawn-worker-backup-${ymd(new Date(NOW.getTime() - 90 * DAY))}\` (${day(90)}), \`${g1[1]} spawn-worker-backup-${ymd(new Date(NOW.getTime() - 60 * DAY))}\` (${day(60)}), \`${g2[0]} spawn-worker-backup-${ymd(new Date(NOW.getTime() - 50 * DAY))}\` (${day(50)})`,
      );
      expect(text).toContain('Prune keeps the newest good copy of each (2), whatever its age; 1 not made by drbot, never touched.');
      expect(text).toContain('Deleting a copy deregisters the image, then deletes its EBS snapshots (3 in all).');
      for (const id of [...g1, ...g2, foreign, untagged]) expect(await exists(id)).toBe(true);
      expect(await allSnapshots()).toEqual(snapsBefore);
    });

    it('the requester cannot approve; an approver can, and then the old copies and their snapshots are gone, the rest untouched', async () => {
      // prepare
      const { g1, g2, foreign, untagged } = await copies();
      const snaps = new Map<string, string[]>();
      for (const id of [...g1, ...g2, foreign, untagged]) snaps.set(id, snapshotsOf(await image(id)));

      // act
      const { runId, message } = await requestRun(stack, 'alice', 'backup amis --prune');
      await click(stack, 'alice', message, 'run_approve');
      const afterOwnClick = await Promise.all([...g1, ...g2].map(exists));
      await click(stack, 'bob', message, 'run_approve');

      // assess: the plan said it deletes, the requester was refused and nothing went before the approval
      expect(textOf(message)).toContain('Prune: deletes 3 AMI copies in us-west-2 older than 30 days');
      expect(ephemeralsFor(stack.standIn, 'alice').map(textOf).join('\n')).toContain('someone else must approve it');
      expect(afterOwnClick).toEqual([true, true, true, true, true]);
      // the run
      expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
      expect(textOf(runMessage(stack.standIn, runId))).toContain('Pruned 3 old AMI copies (deregistered, their snapshots deleted).');
      // AWS, image by image and snapshot by snapshot
      const left = await allSnapshots();
      for (const id of [g1[0], g1[1], g2[0]] as string[]) {
        expect(await exists(id)).toBe(false);
        expect(snaps.get(id)?.length).toBe(1);
        for (const s of snaps.get(id) ?? []) expect(left.has(s)).toBe(false);
      }
      for (const id of [g1[2], g2[1], foreign, untagged] as string[]) {
        expect(await exists(id)).toBe(true);
        for (const s of snaps.get(id) ?? []) expect(left.has(s)).toBe(true);
      }
      // and today's copy of each tagged source was made as usual
      const today = ((await west().send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? []).filter((i) => i.Name === `spawn-worker-backup-${ymd(NOW)}`);
      expect(today).toHaveLength(1);
    });
  });

  it('AccessDenied on DeregisterImage of one copy: the others are still pruned, the message names the failure, the run fails', async () => {
    // prepare
    const g3 = [await copy('ami-00000000000000c3', 80), await copy('ami-00000000000000c3', 70), await copy('ami-00000000000000c3', 60), await copy('ami-00000000000000c3', 5)];
    const denied = g3[0] ?? '';
    const snap = snapshotsOf(await image(denied));
    const undo = fail(west(), 'DeregisterImageCommand', ACCESS_DENIED, { when: (i) => i.ImageId === denied });

    // act
    let runId = '';
    try {
      const req = await requestRun(stack, 'alice', 'backup amis --prune');
      runId = req.runId;
      await click(stack, 'bob', req.message, 'run_approve');
    } finally {
      undo();
    }

    // assess
    expect(runSummary(stack, runId)).toMatchObject({ status: 'failed', failures: 1 });
    const text = textOf(runMessage(stack.standIn, runId));
    expect(text).toContain('Pruned 2 old AMI copies (deregistered, their snapshots deleted); 1 could not be deleted.');
    expect(text).toContain(`DeregisterImage on \`${denied}\` failed: User is not authorized to perform this action`);
    expect(await exists(denied)).toBe(true);
    expect((await allSnapshots()).has(snap[0])).toBe(true);
    expect(await exists(g3[1] ?? '')).toBe(false);
    expect(await exists(g3[2] ?? '')).toBe(false);
    expect(await exists(g3[3] ?? '')).toBe(true);
  });

  it('slack-429-on-final-update: the copies are pruned, and the message still ends Done once Slack answers', async () => {
    // prepare
    const [old, newest] = [await copy('ami-00000000000000d4', 70), await copy('ami-00000000000000d4', 45)];
    const { runId, message } = await requestRun(stack, 'alice', 'backup amis --prune');
    const waited = slackRetry.waits.length;
    let limited = 0;
    stack.standIn.fault = (method, args) => (method === 'chat.update' && String(args.text).startsWith('Done') && limited++ < 3 ? { status: 429, retryAfter: 1 } : undefined);

    // act
    await click(stack, 'bob', message, 'run_approve');

    // assess
    expect(limited).toBe(4);
    expect(slackRetry.waits.slice(waited)).toEqual([1000, 1000, 1000]);
    expect(runSummary(stack, runId)).toMatchObject({ status: 'succeeded' });
    expect(textOf(stack.standIn.message(SANDBOX_CHANNEL, message.ts))).toMatch(/^✅ Done/);
    expect(await stack.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    expect(await exists(old ?? '')).toBe(false);
    expect(await exists(newest ?? '')).toBe(true);
  });

  it('a scheduled run prunes by the retention without waiting for anyone', async () => {
    // prepare
    const [old, newest] = [await copy('ami-00000000000000e5', 60), await copy('ami-00000000000000e5', 50)];

    // act
    const r = await startScheduledRun({ config: stack.config, catalogue: stack.catalogue, engine: stack.engine, now: stack.now }, parseScheduleEvent({ schedule: 'backup-amis-weekly', verb: 'backup-amis', scheduledTime: NOW.toISOString() }));
    await stack.engine.idle();

    // assess
    expect(runSummary(stack, r.runId)).toMatchObject({ status: 'succeeded' });
    expect(textOf(runMessage(stack.standIn, r.runId))).toContain('Pruned 1 old AMI copy');
    expect(await exists(old ?? '')).toBe(false);
    expect(await exists(newest ?? '')).toBe(true);
  });

  it('a delete replayed after DeregisterImage still deletes the snapshots it read first; again, it is a no-op', async () => {
    // prepare: the image is deregistered (the step ran that far before it was replayed)
    const id = await copy('ami-00000000000000f6', 90);
    const snaps = snapshotsOf(await image(id));
    await west().send(new DeregisterImageCommand({ ImageId: id }));
    expect((await allSnapshots()).has(snaps[0])).toBe(true);

    // act
    const first = await deleteAmiCopy(west(), id, snaps);
    const again = await deleteAmiCopy(west(), id, snaps);

    // assess
    expect(first.snapshots).toEqual(snaps);
    expect(again.snapshots).toEqual(snaps);
    expect((await allSnapshots()).has(snaps[0])).toBe(false);
  });
});
