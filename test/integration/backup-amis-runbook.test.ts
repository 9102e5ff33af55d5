/**
 * The backup-amis runbook (src/runbooks/backup-amis/runbook.ts, `/dr backup amis`) on its own,
 * against moto: every available image carrying the config's tag copied to the backup region once a
 * day (named `<name>-backup-<date>`, tagged so the next run and the prune know it), each copy
 * polled until it settles, and with --prune drbot's copies past retention deregistered with their
 * snapshots. The flows through Slack are backup-amis.test.ts; these need no local stack, so
 * `npm run mutate` can run them per mutant.
 *
 * Each test tags its own images with a tag value of its own, so one test's images are not
 * another's. moto makes a copy `available` at once and enforces no IAM policy: a copy still
 * pending, a failed one and a source not yet available are DescribeImages answers rewritten, and
 * refusals are SDK middleware on the runbook's clients (faults.ts). moto stamps every image now,
 * so copies past retention are planned with a clock 30 days on.
 */
import { CreateImageCommand, CreateTagsCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, type Image, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { DrConfig } from '../../src/config/schema';
import type { BackupAmisInput } from '../../src/runbooks/backup-amis';
import { type AmiPlan, copyName, runbook, sourceNameOf } from '../../src/runbooks/backup-amis/runbook';
import type { AnyRunInput, RunbookDeps } from '../../src/runbooks/types';
import { ACCESS_DENIED, countTries, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { useRunbookRig } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const DAY = 86_400_000;
const DATE = '2026-12-04';
let runs = 0;
let tags = 0;

const east = () => rig.moto().clients.ec2('us-east-1');
const west = () => rig.moto().clients.ec2('us-west-2');
const tagOf = (im: Image | undefined, k: string) => im?.Tags?.find((t) => t.Key === k)?.Value;

/** Images made from one instance, each named as given and carrying `rig=<value>` (a value of the test's own). */
async function images(...names: string[]): Promise<{ value: string; ids: string[] }> {
  const value = `t${++tags}`;
  const run = await east().send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
  const instance = run.Instances?.[0]?.InstanceId ?? '';
  const ids: string[] = [];
  for (const name of names) {
    const r = await east().send(new CreateImageCommand({ InstanceId: instance, Name: name, TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'rig', Value: value }] }] }));
    ids.push(r.ImageId ?? '');
  }
  return { value, ids };
}

function input(over: Partial<BackupAmisInput> = {}): BackupAmisInput & AnyRunInput {
  const runId = `r-${(0xb000 + ++runs).toString(16).padStart(12, '0')}`;
  return { kind: 'backup-amis', runId, requester: 'UALICE', channel: 'C1', commandText: '/dr backup amis', requestedAt: `${DATE}T10:00:00.000Z`, dryRun: false, prune: false, ...over } as BackupAmisInput & AnyRunInput;
}

/** Deps whose config selects images tagged `rig=<value>` (and a clock `days` on). */
function tagged(value: string, days = 0, retention?: Partial<DrConfig['retention']>): RunbookDeps {
  const d = rig.deps();
  return { ...d, config: { ...d.config, ami: { tagKey: 'rig', tagValue: value }, retention: { ...d.config.retention, ...retention } }, now: () => new Date(Date.now() + days * DAY) };
}

const plan = (i: BackupAmisInput, deps: RunbookDeps) => runbook(i).plan(deps, i, { step: (_n, fn) => fn(), progress: { report: () => Promise.resolve() } });
const run = (i: BackupAmisInput & AnyRunInput, p: AmiPlan) => rig.executeWatched(runbook(i), i, p);

/** The copies in the backup region of these sources. */
async function copiesOf(ids: readonly string[]): Promise<Image[]> {
  const all = (await west().send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
  return all.filter((im) => ids.includes(tagOf(im, 'source-ami') ?? '') && im.State !== 'deregistered');
}

/** The backup region's listing (not a poll of a copy by its ID) answers this copy in this state: the undo. */
function listedAs(copy: string | undefined, state: string): () => void {
  return rewrite<{ Images?: Image[] }>(west(), 'DescribeImagesCommand', (o, inp) =>
    inp.ImageIds ? o : { ...o, Images: (o.Images ?? []).map((im) => (im.ImageId === copy ? { ...im, State: state as Image['State'] } : im)) },
  );
}

/** DescribeImages in the backup region answers these copies with this state (and reason). */
function copiesAnswer(state: string, reason?: string, only?: (im: Image) => boolean): void {
  rewrite<{ Images?: Image[] }>(west(), 'DescribeImagesCommand', (o, i) =>
    i.ImageIds ? { ...o, Images: (o.Images ?? []).map((im) => (only && !only(im) ? im : { ...im, State: state as Image['State'], ...(reason ? { StateReason: { Code: 'x', Message: reason } } : {}) })) } : o,
  );
}

describe('copyName', () => {
  it('is `<name>-backup-<date>`; a name too long for that is cut and keeps the source image ID, the whole within AMI names\' 128 characters', () => {
    const id = 'ami-0123456789abcdef0';
    expect(copyName('spawn-worker', '20261204', id)).toBe('spawn-worker-backup-20261204');
    // the longest name that fits as it is
    expect(copyName('n'.repeat(112), '20261204', id)).toBe(`${'n'.repeat(112)}-backup-20261204`);
    const long = copyName('n'.repeat(113), '20261204', id);
    expect(long).toHaveLength(128);
    expect(long).toBe(`${'n'.repeat(128 - 16 - 22)}-${id}-backup-20261204`);
    expect(copyName('n'.repeat(200), '20261204', id)).toBe(long);
    // two sources whose long names share every character that fits: two names
    expect(copyName(`${'n'.repeat(115)}-a`, '20261204', 'ami-0aaaaaaaaaaaaaaaa')).not.toBe(copyName(`${'n'.repeat(115)}-b`, '20261204', 'ami-0bbbbbbbbbbbbbbbb'));
  });
});

describe('sourceNameOf', () => {
  it('takes off only the copy\'s own `-backup-<date>` at the end, and the source ID a cut name keeps', () => {
    const id = 'ami-0123456789abcdef0';
    expect(sourceNameOf('spawn-worker-backup-20261204', id)).toBe('spawn-worker');
    // a source whose own name holds `-backup-<date>` keeps it
    expect(sourceNameOf(copyName('db-backup-20250101-web', '20261204', id), id)).toBe('db-backup-20250101-web');
    expect(sourceNameOf(copyName('n'.repeat(200), '20261204', id), id)).toBe('n'.repeat(128 - 16 - 22));
    // another image's ID in the name is part of the name
    expect(sourceNameOf('web-ami-0aaaaaaaaaaaaaaaa-backup-20261204', id)).toBe('web-ami-0aaaaaaaaaaaaaaaa');
  });
});

describe('the plan', () => {
  it('names each tagged image and its copy, sorted by name, and what it leaves alone', async () => {
    const { value, ids } = await images('spawn-worker', 'spawn-controller');
    const i = input();
    const p = await plan(i, tagged(value));

    expect(p.empty).toBe(false);
    expect(p.data.targets).toEqual([
      { sourceId: ids[1], sourceName: 'spawn-controller', copyName: 'spawn-controller-backup-20261204' },
      { sourceId: ids[0], sourceName: 'spawn-worker', copyName: 'spawn-worker-backup-20261204' },
    ]);
    expect(p.lines).toEqual([
      `*2* images tagged \`rig=${value}\` in us-east-1; copies *2* to us-west-2`,
      `• \`${ids[1]}\` spawn-controller → \`spawn-controller-backup-20261204\``,
      `• \`${ids[0]}\` spawn-worker → \`spawn-worker-backup-20261204\``,
      'Copies only: no source image is changed.',
    ]);
    expect(runbook(i).title(i)).toBe('Copy of the tagged AMIs to the backup region');
  });

  it('a dry run says "would copy"; an image not yet available is listed as not copied', async () => {
    const { value, ids } = await images('spawn-a', 'spawn-b');
    rewrite<{ Images?: Image[] }>(east(), 'DescribeImagesCommand', (o) => ({ ...o, Images: (o.Images ?? []).map((im) => (im.ImageId === ids[1] ? { ...im, State: 'pending' } : im)) }));
    const p = await plan(input({ dryRun: true }), tagged(value));
    expect(p.lines[0]).toBe(`*2* images tagged \`rig=${value}\` in us-east-1; would copy *1* to us-west-2`);
    expect(p.lines).toContain(`• \`${ids[1]}\` spawn-b is pending, not copied`);
    expect(p.data.targets.map((t) => t.sourceId)).toEqual([ids[0]]);
  });

  it('says when no image carries the tag, and is empty', async () => {
    const p = await plan(input(), tagged('nothing-carries-this'));
    expect(p.empty).toBe(true);
    expect(p.data.targets).toEqual([]);
    expect(p.lines).toEqual([
      'No image in us-east-1 carries the tag `rig=nothing-carries-this`: nothing to copy. Check `ami.tagKey` / `ami.tagValue` in the drbot config.',
      'Copies only: no source image is changed.',
    ]);
  });

  it('lists the first 20 images and counts the rest', async () => {
    const names = Array.from({ length: 22 }, (_, n) => `img-${String(n).padStart(2, '0')}`);
    const { value } = await images(...names);
    const p = await plan(input({ dryRun: true }), tagged(value));
    expect(p.lines).toHaveLength(1 + 20 + 1 + 1);
    expect(p.lines[20]).toContain('img-19 → ');
    expect(p.lines[21]).toBe('…and 2 more');
    expect(p.data.targets).toHaveLength(22);
  });
});

describe('the copies', () => {
  it('copies each image to the backup region, named and tagged for the next run and the prune, and waits until each is available', async () => {
    const { value, ids } = await images('spawn-worker', 'spawn-controller');
    const i = input();
    const p = await plan(i, tagged(value));
    const calls: Array<Record<string, unknown>> = [];
    rewrite<object>(west(), 'CopyImageCommand', (o, inp) => (calls.push(inp), o));

    const r = await run(i, p.data);

    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    const made = await copiesOf(ids);
    expect(made).toHaveLength(2);
    for (const [n, id] of ids.entries()) {
      const copy = made.find((c) => tagOf(c, 'source-ami') === id);
      expect(copy?.Name).toBe(copyName(['spawn-worker', 'spawn-controller'][n] ?? '', '20261204', id));
      expect([tagOf(copy, 'backup'), tagOf(copy, 'drbot-run')]).toEqual(['true', i.runId]);
    }
    expect(calls.map((c) => [c.SourceRegion, c.SourceImageId, c.ClientToken, c.Description])).toEqual([
      ['us-east-1', ids[1], `drbot-${i.runId}-${ids[1]}`, `drbot backup of ${ids[1]} (spawn-controller) from us-east-1`],
      ['us-east-1', ids[0], `drbot-${i.runId}-${ids[0]}`, `drbot backup of ${ids[0]} (spawn-worker) from us-east-1`],
    ]);
    expect(r.checkpoints).toEqual([`copy-${ids[1]}`, `copy-${ids[0]}`, 'check-0']);
    expect(r.reports).toEqual([
      [1, 2, 'copies started'],
      [2, 2, 'copies started'],
      [2, 2, 'copies available'],
    ]);
    const copyOf = (id: string | undefined) => made.find((c) => tagOf(c, 'source-ami') === id)?.ImageId;
    expect(r.lines).toEqual([
      '2 of 2 copies available in us-west-2:',
      `• \`${ids[1]}\` → \`${copyOf(ids[1])}\` spawn-controller-backup-20261204: available`,
      `• \`${ids[0]}\` → \`${copyOf(ids[0])}\` spawn-worker-backup-20261204: available`,
    ]);
  });

  it('a second run the same day plans no copy of what exists; a replayed copy step finds the copy and makes none', async () => {
    const { value, ids } = await images('spawn-once');
    const first = input();
    await run(first, (await plan(first, tagged(value))).data);
    const copy = (await copiesOf(ids))[0]?.ImageId;

    const i = input();
    const p = await plan(i, tagged(value));
    expect(p.empty).toBe(true);
    expect(p.data.targets).toEqual([{ sourceId: ids[0], sourceName: 'spawn-once', copyName: 'spawn-once-backup-20261204', existing: copy }]);
    expect(p.lines[0]).toBe(`*1* image tagged \`rig=${value}\` in us-east-1; copies *0* to us-west-2 (1 already copied today)`);
    expect(p.lines[1]).toBe(`• \`${ids[0]}\` spawn-once → \`spawn-once-backup-20261204\` (exists: \`${copy}\`)`);
    const r = await run(i, p.data);
    expect(r).toMatchObject({ ok: true, lines: ['No new copy to make in us-west-2: 1 already copied today.'] });

    // a plan made before the first copy (a replay, a retry): the copy is found, none made
    const again = input();
    const tries = countTries(west(), 'CopyImageCommand');
    const r2 = await run(again, { targets: [{ sourceId: ids[0] ?? '', sourceName: 'spawn-once', copyName: 'spawn-once-backup-20261204' }] });
    expect(tries.tries()).toBe(0);
    expect(r2.lines[1]).toBe(`• \`${ids[0]}\` → \`${copy}\` spawn-once-backup-20261204: available`);
    expect(await copiesOf(ids)).toHaveLength(1);
  });

  it('a copy AWS refuses is a failure naming the image; the others are copied', async () => {
    const { value, ids } = await images('spawn-denied', 'spawn-fine');
    const i = input();
    const p = await plan(i, tagged(value));
    fail(west(), 'CopyImageCommand', ACCESS_DENIED, { when: (x) => x.SourceImageId === ids[0] });

    const r = await run(i, p.data);

    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(new RegExp(`^${ids[0]} \\(spawn-denied\\): CopyImage on \`${ids[0]}\` failed`));
    expect(r.lines[0]).toBe('1 of 2 copies available in us-west-2:');
    expect(r.lines).toContain(`:x: ${r.failures[0]}`);
    expect((await copiesOf(ids)).map((c) => tagOf(c, 'source-ami'))).toEqual([ids[1]]);
  });

  it('a copy that fails is a failure with AWS\'s reason; a copy still pending is polled again after a wait', async () => {
    const { value, ids } = await images('spawn-broken', 'spawn-slow');
    const i = input();
    const p = await plan(i, tagged(value));
    const sourceOf = (im: Image) => tagOf(im, 'source-ami');
    let polls = 0;
    const asked: unknown[] = [];
    rewrite<{ Images?: Image[] }>(west(), 'DescribeImagesCommand', (o, inp) => {
      if (!inp.ImageIds) return o;
      polls++;
      asked.push(inp.ImageIds);
      return {
        ...o,
        Images: (o.Images ?? []).map((im): Image => {
          if (sourceOf(im) === ids[0]) return { ...im, State: 'failed', StateReason: { Code: 'x', Message: 'snapshot copy failed' } };
          // the other copy is pending on the first poll, available on the second
          return polls === 1 ? { ...im, State: 'pending' } : im;
        }),
      };
    });

    const r = await run(i, p.data);

    expect(r.ok).toBe(false);
    expect(r.checkpoints).toEqual([`copy-${ids[0]}`, `copy-${ids[1]}`, 'check-0', 'wait-0 (wait 30 s)', 'check-1']);
    const broken = (await copiesOf([ids[0] ?? '']))[0]?.ImageId;
    const slow = (await copiesOf([ids[1] ?? '']))[0]?.ImageId;
    // each poll asks for the copies still pending, and only those
    expect(asked).toEqual([[broken, slow], [slow]]);
    expect(r.failures).toEqual([`${ids[0]}: copy \`${broken}\` failed: snapshot copy failed`]);
    expect(r.lines[0]).toBe('1 of 2 copies available in us-west-2:');
    expect(r.lines).toContain(`• \`${ids[0]}\` → \`${broken}\` spawn-broken-backup-20261204: failed (snapshot copy failed)`);
    // the failure is on its copy's line, not repeated as a :x: line
    expect(r.lines.filter((l) => l.startsWith(':x:'))).toEqual([]);
    expect(r.reports.filter((x) => x[2] === 'copies available')).toEqual([
      [0, 2, 'copies available'],
      [1, 2, 'copies available'],
    ]);
  });

  it('stops waiting after 2 h of polls, saying how many are still pending, and does not pass', async () => {
    const { value, ids } = await images('spawn-stuck');
    const i = input();
    const p = await plan(i, tagged(value));
    // the copy made and every poll answered pending, without AWS: 241 checks through moto take half a minute
    const pending = [{ sourceId: ids[0], copyId: 'ami-0stuck', name: 'spawn-stuck-backup-20261204', state: 'pending' }];
    const answer = (step: string) => (step.startsWith('copy-') ? { ok: true, value: 'ami-0stuck' } : step.startsWith('check-') ? pending : undefined);

    const r = await rig.executeWatched(runbook(i), i, p.data, answer);

    expect(r.ok).toBe(false);
    expect(r.failures).toEqual([]);
    expect(r.checkpoints.filter((c) => c.startsWith('check-'))).toHaveLength(241);
    // 240 waits of 30 s (the 2 h said), a check before each and one after the last
    expect(r.checkpoints.filter((c) => c.startsWith('wait-'))).toHaveLength(240);
    expect(r.checkpoints.at(-1)).toBe('check-240');
    expect(r.lines).toEqual([
      '0 of 1 copies available in us-west-2:',
      `• \`${ids[0]}\` → \`ami-0stuck\` spawn-stuck-backup-20261204: pending`,
      ':hourglass: 1 still pending after 2 h; check `/dr status` later.',
    ]);
  });
});

describe('--prune', () => {
  /** An image of its own copied by a run yesterday and one today: its two copies' IDs. */
  async function copiedTwice(name: string): Promise<{ value: string; ids: string[]; both: string[] }> {
    const { value, ids } = await images(name);
    for (const i of [input({ requestedAt: '2026-12-03T10:00:00.000Z' }), input()]) await run(i, (await plan(i, tagged(value))).data);
    const both = (await copiesOf(ids)).map((c) => c.ImageId ?? '');
    expect(both).toHaveLength(2);
    return { value, ids, both };
  }

  it('only --prune makes a person\'s run destructive (a scheduled prune is reviewed policy)', () => {
    expect(runbook(input()).destructive).toBe(false);
    expect(runbook(input({ prune: true })).destructive).toBe(true);
    expect(runbook(input({ prune: true, schedule: { name: 'nightly', at: `${DATE}T03:00:00.000Z` } })).destructive).toBe(false);
  });

  it('deregisters drbot\'s copies past retention with their snapshots, keeping the newest copy of each image', async () => {
    const { value, ids, both } = await copiedTwice('spawn-pruned');
    onlyCopiesOf(ids);

    const i = input({ prune: true, requestedAt: '2027-01-04T10:00:00.000Z' });
    const p = await plan(i, tagged(value, 31, { amiCopyDays: 7 }));
    // moto stamps both copies in the same second: the one kept as newest is the larger id (retention.ts)
    const mine = (p.data.prune ?? []).filter((c) => both.includes(c.id));
    expect(mine).toHaveLength(1);
    const older = { ImageId: mine[0]?.id };
    const newer = { ImageId: both.find((b) => b !== older.ImageId) };
    const snaps = p.data.snapshots?.[older?.ImageId ?? ''] ?? [];
    expect(snaps.length).toBeGreaterThan(0);
    expect(p.lines.some((l) => l.startsWith('Prune: deletes ') && l.includes(`deletes 1 AMI copy in us-west-2 older than 7 days`))).toBe(true);
    expect(p.lines.at(-1)).toMatch(/^Deleting a copy deregisters the image, then deletes its EBS snapshots \(\d+ in all\)\.$/);
    expect(p.empty).toBe(false);

    const r = await run(i, { ...p.data, prune: mine, snapshots: { [older?.ImageId ?? '']: snaps } });

    expect(r.ok).toBe(true);
    expect(r.lines.at(-1)).toBe(':wastebasket: Pruned 1 old AMI copy (deregistered, its snapshots deleted).');
    // left: the copy kept, and the run's own copy of the day (a pruning run copies too)
    const left = await copiesOf(ids);
    expect(left.map((c) => c.ImageId)).not.toContain(older.ImageId);
    expect(left.map((c) => c.ImageId)).toContain(newer.ImageId);
    expect(left).toHaveLength(2);
    expect(left.map((c) => c.Name)).toContain('spawn-pruned-backup-20270104');
    const snapshotsLeft = ((await west().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId);
    for (const s of snaps) expect(snapshotsLeft).not.toContain(s);
  });

  it('a deregistration refused is a failure; the run does not pass', async () => {
    const { value, ids, both } = await copiedTwice('spawn-prune-denied');
    onlyCopiesOf(ids);
    const i = input({ prune: true, requestedAt: '2027-01-04T10:00:00.000Z' });
    const p = await plan(i, tagged(value, 31, { amiCopyDays: 7 }));
    fail(west(), 'DeregisterImageCommand', ACCESS_DENIED);
    const mine = (p.data.prune ?? []).filter((c) => both.includes(c.id));
    const older = { ImageId: mine[0]?.id };

    const r = await run(i, { ...p.data, prune: mine });

    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toContain(older?.ImageId);
    expect(r.lines.at(-1)).toBe(':wastebasket: Pruned 0 old AMI copies (deregistered, their snapshots deleted); 1 could not be deleted.');
    expect((await copiesOf(ids)).map((c) => c.ImageId)).toContain(older?.ImageId);
    undoFaults();
    await forget(ids);
  });
});

/** The backup region as a test's plan sees it: only its own images' copies (other tests' copies would be pruned too). */
function onlyCopiesOf(ids: readonly string[]): () => void {
  return rewrite<{ Images?: Image[] }>(west(), 'DescribeImagesCommand', (o, i) => (i.ImageIds ? o : { ...o, Images: (o.Images ?? []).filter((im) => ids.includes(tagOf(im, 'source-ami') ?? '')) }));
}

/** Deregisters every copy of these sources, so no later prune plan of the file sees them. */
async function forget(ids: readonly string[]): Promise<void> {
  for (const c of await copiesOf(ids)) await west().send(new DeregisterImageCommand({ ImageId: c.ImageId }));
}

describe('which copy is today\'s', () => {
  it('two images whose names share every character a copy name can hold: each copy named with its source ID, both copied, each taken as its own', async () => {
    // AMI names are unique in a region (moto lets them repeat: middleware refuses a name already made, as AWS does)
    const long = 'n'.repeat(115);
    const { value, ids } = await images(`${long}-a`, `${long}-b`);
    const made = new Set<unknown>();
    rewrite<object>(west(), 'CopyImageCommand', (o, inp) => (made.add(inp.Name), o));
    fail(west(), 'CopyImageCommand', { name: 'InvalidAMIName.Duplicate', message: 'AMI name is already in use', status: 400 }, { when: (x) => made.has(x.Name) });
    const i = input();
    const p = await plan(i, tagged(value));
    const names = ids.map((id) => `${'n'.repeat(90)}-${id}-backup-20261204`);
    expect(p.data.targets.map((t) => [t.copyName, t.existing])).toEqual([
      [names[0], undefined],
      [names[1], undefined],
    ]);

    const r = await run(i, p.data);

    // both copied, each under its own name
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    const copies = await copiesOf(ids);
    expect(ids.map((id) => copies.find((c) => tagOf(c, 'source-ami') === id)?.Name)).toEqual(names);

    // each found again as its own; the first's copy then failed: it replaces it for the first image only
    const again = await plan(input(), tagged(value));
    expect(again.data.targets.map((t) => t.existing)).toEqual(ids.map((id) => copies.find((c) => tagOf(c, 'source-ami') === id)?.ImageId));
    const first = copies.find((c) => tagOf(c, 'source-ami') === ids[0])?.ImageId;
    listedAs(first, 'failed');
    const third = await plan(input(), tagged(value));
    expect(third.data.targets.map((t) => t.replaces)).toEqual([first, undefined]);
  });

  it('a failed copy of an earlier day is not today\'s: not replaced, not deregistered (the prune\'s to judge)', async () => {
    const { value, ids } = await images('spawn-failed-yesterday');
    const yesterday = input({ requestedAt: '2026-12-03T10:00:00.000Z' });
    await run(yesterday, (await plan(yesterday, tagged(value))).data);
    const old = (await copiesOf(ids))[0]?.ImageId;
    listedAs(old, 'failed');
    const deregisters = countTries(west(), 'DeregisterImageCommand');

    const i = input();
    const p = await plan(i, tagged(value));
    expect(p.data.targets).toEqual([{ sourceId: ids[0], sourceName: 'spawn-failed-yesterday', copyName: 'spawn-failed-yesterday-backup-20261204' }]);
    const r = await run(i, p.data);

    expect(r.ok).toBe(true);
    expect(deregisters.tries()).toBe(0);
    expect(await copiesOf(ids)).toHaveLength(2);
  });

  /** An image copied once today, the backup region's listing (not a poll) then answering its copy `state`: ids, the copy, the undo. */
  async function copiedThen(state: string): Promise<{ value: string; ids: string[]; copy: string; undo: () => void }> {
    const { value, ids } = await images(`spawn-${state}`);
    const first = input();
    await run(first, (await plan(first, tagged(value))).data);
    const copy = (await copiesOf(ids))[0]?.ImageId ?? '';
    return { value, ids, copy, undo: listedAs(copy, state) };
  }

  /** CopyImage refused, as AWS refuses it, while an image not deregistered holds the name (moto lets names repeat). */
  function namesUnique(held: string, by: string): void {
    const gone = new Set<string>();
    rewrite<object>(west(), 'DeregisterImageCommand', (o, inp) => (gone.add(String(inp.ImageId)), o));
    fail(west(), 'CopyImageCommand', { name: 'InvalidAMIName.Duplicate', message: `AMI name ${held} is already in use by AMI ${by}`, status: 400 }, { when: (x) => x.Name === held && !gone.has(by) });
  }

  it.each(['failed', 'invalid', 'error'])('today\'s copy %s: the plan says it is replaced; the run deregisters it, then copies again under its name', async (state) => {
    const { value, ids, copy, undo } = await copiedThen(state);
    namesUnique(`spawn-${state}-backup-20261204`, copy);

    const i = input();
    const p = await plan(i, tagged(value));
    expect(p.data.targets).toEqual([{ sourceId: ids[0], sourceName: `spawn-${state}`, copyName: `spawn-${state}-backup-20261204`, replaces: copy }]);
    expect(p.lines.slice(0, 2)).toEqual([
      `*1* image tagged \`rig=${value}\` in us-east-1; copies *1* to us-west-2`,
      `• \`${ids[0]}\` spawn-${state} → \`spawn-${state}-backup-20261204\` (replaces today's failed copy \`${copy}\`, deregistered first)`,
    ]);
    expect(p.empty).toBe(false);
    // the failed copy's own snapshots, as EC2 lists them: the only ones its deregistering may delete
    const held = ((await copiesOf(ids))[0]?.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
    expect(held.length).toBeGreaterThan(0);
    const deleted: string[] = [];
    // recorded as sent (an answer of undefined sends it to moto), a refused one too
    stub(west(), 'DeleteSnapshotCommand', (inp) => (deleted.push(String(inp.SnapshotId)), undefined));
    const r = await run(i, p.data);
    undo();

    expect(r.ok).toBe(true);
    expect(deleted.sort()).toEqual(held.sort());
    const now = await copiesOf(ids);
    expect(now).toHaveLength(1);
    expect(now[0]?.ImageId).not.toBe(copy);
    expect(now[0]?.Name).toBe(`spawn-${state}-backup-20261204`);
  });

  it('today\'s copy deregistered: copied again (its name is free); disabled: not today\'s, not touched, AWS\'s refusal of the name said', async () => {
    const gone = await copiedThen('deregistered');
    const i = input();
    const p = await plan(i, tagged(gone.value));
    expect(p.data.targets).toEqual([{ sourceId: gone.ids[0], sourceName: 'spawn-deregistered', copyName: 'spawn-deregistered-backup-20261204' }]);
    const r = await run(i, p.data);
    gone.undo();
    expect(r.ok).toBe(true);
    expect(await copiesOf(gone.ids)).toHaveLength(2);
    await forget(gone.ids);

    // a disabled image is someone's decision: left as it is, and the copy refused for its name
    const off = await copiedThen('disabled');
    namesUnique('spawn-disabled-backup-20261204', off.copy);
    const j = input();
    const q = await plan(j, tagged(off.value));
    expect(q.data.targets).toEqual([{ sourceId: off.ids[0], sourceName: 'spawn-disabled', copyName: 'spawn-disabled-backup-20261204' }]);
    const deregisters = countTries(west(), 'DeregisterImageCommand');
    const refused = await run(j, q.data);
    off.undo();
    expect(deregisters.tries()).toBe(0);
    expect(refused.ok).toBe(false);
    expect(refused.failures).toEqual([expect.stringContaining(`CopyImage on \`${off.ids[0]}\` failed: AMI name spawn-disabled-backup-20261204 is already in use by AMI ${off.copy}`)]);
    expect((await copiesOf(off.ids)).map((c) => c.ImageId)).toEqual([off.copy]);

    // failed, but no longer carrying drbot's run tag: not drbot's to deregister; the name refused, said
    undoFaults();
    const theirs = await copiedThen('failed');
    await west().send(new CreateTagsCommand({ Resources: [theirs.copy], Tags: [{ Key: 'drbot-run', Value: 'by-hand' }] }));
    namesUnique('spawn-failed-backup-20261204', theirs.copy);
    const k = input();
    const t = await plan(k, tagged(theirs.value));
    expect(t.data.targets[0]?.replaces).toBeUndefined();
    const kept = await run(k, t.data);
    theirs.undo();
    expect(kept.ok).toBe(false);
    expect(kept.failures).toEqual([expect.stringContaining('is already in use by AMI')]);
    expect((await copiesOf(theirs.ids)).map((c) => c.ImageId)).toEqual([theirs.copy]);
  });

  it("today's failed copy of drbot's whose source tag names another image: not this image's to replace", async () => {
    const { value, ids, copy, undo } = await copiedThen('error');
    await west().send(new CreateTagsCommand({ Resources: [copy], Tags: [{ Key: 'source-ami', Value: 'ami-0ffffffffffffffff' }] }));

    const p = await plan(input(), tagged(value));

    expect(p.data.targets).toEqual([{ sourceId: ids[0], sourceName: 'spawn-error', copyName: 'spawn-error-backup-20261204' }]);
    undo();
    await west().send(new DeregisterImageCommand({ ImageId: copy }));
  });
});

describe('what CopyImage is sent', () => {
  it('the three tags, and a client token cut to AWS\'s 64 characters', async () => {
    const { value, ids } = await images('spawn-token');
    const i = input({ runId: `r-${'f'.repeat(60)}` });
    const p = await plan(i, tagged(value));
    const calls: Array<Record<string, unknown>> = [];
    rewrite<object>(west(), 'CopyImageCommand', (o, inp) => (calls.push(inp), o));

    const r = await run(i, p.data);

    expect(r.ok).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ClientToken).toBe(`drbot-${i.runId}-${ids[0]}`.slice(0, 64));
    expect(String(calls[0]?.ClientToken)).toHaveLength(64);
    expect(calls[0]?.TagSpecifications).toEqual([
      {
        ResourceType: 'image',
        Tags: [
          { Key: 'backup', Value: 'true' },
          { Key: 'source-ami', Value: ids[0] },
          { Key: 'drbot-run', Value: i.runId },
        ],
      },
    ]);
    await forget(ids);
  });

  it('the copy\'s tags refused (CreateTags): a failure naming the copy; the run does not pass', async () => {
    const { value, ids } = await images('spawn-untagged');
    const i = input();
    const p = await plan(i, tagged(value));
    fail(west(), 'CreateTagsCommand', ACCESS_DENIED);
    const made: unknown[] = [];
    rewrite<{ ImageId?: string }>(west(), 'CopyImageCommand', (o) => (made.push(o.ImageId), o));

    const r = await run(i, p.data);

    expect(r.ok).toBe(false);
    expect(made).toHaveLength(1);
    expect(r.failures).toEqual([`${ids[0]} (spawn-untagged): CreateTags on \`${String(made[0])}\` failed: User is not authorized to perform this action`]);
    expect(r.lines).toEqual(['0 of 1 copies available in us-west-2:', `:x: ${r.failures[0]}`]);
  });
});

describe('what the lines count', () => {
  it('the plan and the result count what was copied today beside what is new', async () => {
    const { value, ids } = await images('spawn-earlier', 'spawn-later');
    const first = input();
    const p1 = await plan(first, tagged(value));
    await run(first, { targets: p1.data.targets.filter((t) => t.sourceId === ids[0]) });

    const i = input();
    const p = await plan(i, tagged(value));
    expect(p.lines[0]).toBe(`*2* images tagged \`rig=${value}\` in us-east-1; copies *1* to us-west-2 (1 already copied today)`);
    const r = await run(i, p.data);
    expect(r.lines[0]).toBe('1 of 1 copies available in us-west-2; 1 already copied today:');
    expect(r.lines).toHaveLength(2);
  });

  it('a run with nothing to copy says so, and nothing else', async () => {
    const i = input();
    const r = await rig.executeWatched(runbook(i), i, { targets: [] });
    expect(r).toMatchObject({ ok: true, lines: ['No new copy to make in us-west-2.'], failures: [], checkpoints: [] });
  });

  it('exactly 20 images are all listed, with no "more" line', async () => {
    const names = Array.from({ length: 20 }, (_, n) => `twenty-${String(n).padStart(2, '0')}`);
    const { value } = await images(...names);
    const p = await plan(input({ dryRun: true }), tagged(value));
    expect(p.lines).toHaveLength(1 + 20 + 1);
    expect(p.lines[20]).toContain('twenty-19 → ');
    expect(p.lines.at(-1)).toBe('Copies only: no source image is changed.');
  });

  it('the result lists 30 copies and counts the rest; a failed copy past the list still has its line', async () => {
    // 32 copies answered without AWS (the copy steps and the check): what the lines say of them
    const targets = Array.from({ length: 32 }, (_, n) => ({ sourceId: `ami-src${String(n).padStart(3, '0')}`, sourceName: `n${n}`, copyName: `n${n}-backup-20261204` }));
    const states = targets.map((t, n) => ({ sourceId: t.sourceId, copyId: t.sourceId.replace('src', 'cp'), name: t.copyName, state: n === 31 ? 'failed' : 'available' }));
    const answer = (step: string) => (step.startsWith('copy-') ? { ok: true, value: step.slice(5).replace('src', 'cp') } : step === 'check-0' ? states : undefined);
    const i = input();

    const r = await rig.executeWatched(runbook(i), i, { targets }, answer);

    expect(r.ok).toBe(false);
    expect(r.lines[0]).toBe('31 of 32 copies available in us-west-2:');
    expect(r.lines.slice(1, 31)).toEqual(states.slice(0, 30).map((s) => `• \`${s.sourceId}\` → \`${s.copyId}\` ${s.name}: available`));
    expect(r.lines.slice(31)).toEqual(['…and 2 more', ':x: ami-src031: copy `ami-cp031` failed']);
    expect(r.failures).toEqual(['ami-src031: copy `ami-cp031` failed']);

    // exactly 30: every one listed, no "more" line
    const j = input();
    const thirty = await rig.executeWatched(runbook(j), j, { targets: targets.slice(0, 30) }, (step) => (step === 'check-0' ? states.slice(0, 30) : answer(step)));
    expect(thirty.ok).toBe(true);
    expect(thirty.lines).toHaveLength(31);
    expect(thirty.lines.at(-1)).toBe(`• \`ami-src029\` → \`ami-cp029\` n29-backup-20261204: available`);
  });
});

describe('the polls', () => {
  it('a copy answered with no state is still pending: polled again', async () => {
    const { value, ids } = await images('spawn-stateless');
    const i = input();
    const p = await plan(i, tagged(value));
    let polls = 0;
    rewrite<{ Images?: Image[] }>(west(), 'DescribeImagesCommand', (o, inp) => {
      if (!inp.ImageIds || ++polls > 1) return o;
      return { ...o, Images: (o.Images ?? []).map(({ State: _, ...im }) => im) };
    });

    const r = await run(i, p.data);

    expect(r.ok).toBe(true);
    expect(r.checkpoints).toEqual([`copy-${ids[0]}`, 'check-0', 'wait-0 (wait 30 s)', 'check-1']);
    expect(r.reports.filter((x) => x[2] === 'copies available')).toEqual([
      [0, 1, 'copies available'],
      [1, 1, 'copies available'],
    ]);
  });

  it('a copy that fails without a reason is a failure saying only that', async () => {
    const { value, ids } = await images('spawn-mute');
    const i = input();
    const p = await plan(i, tagged(value));
    copiesAnswer('failed');

    const r = await run(i, p.data);

    const copy = (await copiesOf(ids))[0]?.ImageId;
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual([`${ids[0]}: copy \`${copy}\` failed`]);
    expect(r.lines[1]).toBe(`• \`${ids[0]}\` → \`${copy}\` spawn-mute-backup-20261204: failed`);
  });

  it('a poll AWS refuses stops the run with an error naming the backup region\'s copies', async () => {
    const { value } = await images('spawn-unwatched');
    const i = input();
    const p = await plan(i, tagged(value));
    fail(west(), 'DescribeImagesCommand', ACCESS_DENIED, { when: (x) => Array.isArray(x.ImageIds) });

    const r = await rig.run((ctx, d, x) => runbook(i).execute(ctx, d, x as typeof i, p.data, { report: () => Promise.resolve() }), i);

    expect(r.status).toBe('FAILED');
    expect(r.error).toContain('DescribeImages on `copies in us-west-2` failed: User is not authorized to perform this action');
  });
});

describe('--prune, at its edges', () => {
  it('copied today and nothing past retention: no delete line, and the plan is empty', async () => {
    const { value, ids } = await images('spawn-fresh');
    const first = input();
    await run(first, (await plan(first, tagged(value))).data);
    onlyCopiesOf(ids);

    const p = await plan(input({ prune: true }), tagged(value, 0, { amiCopyDays: 7 }));

    expect(p.data.prune).toEqual([]);
    expect(p.lines).toContain('Prune: no AMI copies in us-west-2 older than 7 days beyond the newest of each.');
    expect(p.lines.some((l) => l.startsWith('Deleting a copy'))).toBe(false);
    expect(p.lines.at(-1)).toBe('Prune keeps the newest good copy of each (1), whatever its age.');
    expect(p.empty).toBe(true);
  });

  it('something to copy and nothing to prune is not empty', async () => {
    const { value, ids } = await images('spawn-unpruned');
    onlyCopiesOf(ids);
    const p = await plan(input({ prune: true }), tagged(value, 0, { amiCopyDays: 7 }));
    expect(p.data.prune).toEqual([]);
    expect(p.empty).toBe(false);
  });

  it('nothing to copy and copies to prune: not empty; each copy\'s own snapshots are planned', async () => {
    const { value, ids } = await images('spawn-prune-a', 'spawn-prune-b');
    for (const day of [input({ requestedAt: '2026-12-03T10:00:00.000Z' }), input()]) await run(day, (await plan(day, tagged(value))).data);
    onlyCopiesOf(ids);

    // today's copies exist: nothing to copy; one old copy of each image past retention
    const i = input({ prune: true });
    const p = await plan(i, tagged(value, 31, { amiCopyDays: 7 }));
    expect(p.data.targets.every((t) => t.existing)).toBe(true);
    const planned = p.data.prune ?? [];
    expect(planned.map((c) => c.group).sort()).toEqual([...ids].sort());
    expect(p.empty).toBe(false);
    expect(p.lines.find((l) => l.startsWith('Prune: '))).toMatch(/^Prune: deletes 2 AMI copies in us-west-2 older than 7 days: /);
    const described = (await west().send(new DescribeImagesCommand({ ImageIds: planned.map((c) => c.id) }))).Images ?? [];
    for (const c of planned) {
      const own = described.find((im) => im.ImageId === c.id)?.BlockDeviceMappings?.map((m) => m.Ebs?.SnapshotId) ?? [];
      expect(own.length).toBeGreaterThan(0);
      expect(p.data.snapshots?.[c.id]).toEqual(own);
    }
    expect(new Set(planned.flatMap((c) => p.data.snapshots?.[c.id] ?? [])).size).toBe(planned.flatMap((c) => p.data.snapshots?.[c.id] ?? []).length);

    // a plan made before snapshots were planned (no `snapshots`): each copy still goes, the snapshots
    // found on the image; an ID that names no snapshot would be refused (moto says NotFound, AWS Malformed)
    fail(west(), 'DeleteSnapshotCommand', { name: 'InvalidSnapshotID.Malformed', message: 'Invalid id', status: 400 }, { when: (x) => !/^snap-[0-9a-f]+$/.test(String(x.SnapshotId)) });
    const r = await run(i, { targets: p.data.targets, prune: planned });

    expect(r.ok).toBe(true);
    expect(r.checkpoints.slice(-2)).toEqual(['prune-ami-0', 'prune-ami-1']);
    expect(r.lines.at(-1)).toBe(':wastebasket: Pruned 2 old AMI copies (deregistered, their snapshots deleted).');
    const snapshotsLeft = ((await west().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId);
    for (const c of planned) for (const s of p.data.snapshots?.[c.id] ?? []) expect(snapshotsLeft).not.toContain(s);
    await forget(ids);
  });
});
