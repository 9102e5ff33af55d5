/**
 * What `/dr restore dynamodb` restores from and re-applies (src/runbooks/restore-dynamodb/plan.ts),
 * called directly against moto: which backup a name, an ARN, `--latest-backup` or `--to` picks,
 * what each refusal says, and the lines the plan shows. The runbook around them is
 * restore-dynamodb-runbook.test.ts; these need no local stack, so `npm run mutate` runs them per mutant.
 *
 * moto makes only USER backups, AVAILABLE at once, and freezes the PITR window at the moment PITR
 * was turned on. A listing with SYSTEM backups, backups still CREATING, or a PITR window that moves
 * are answered by SDK middleware on the client (`stub` from test/helpers/faults.ts), not by moto.
 */
import { type BackupStatus, type BackupType, CreateBackupCommand, type DescribeBackupCommandOutput, type DescribeContinuousBackupsCommandOutput, type ListBackupsCommandOutput, type ListTagsOfResourceCommandOutput, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { BackupInfo } from '../../src/aws/dynamodb-restore';
import { describeTableIfAny } from '../../src/aws/dynamodb-restore';
import { latestBackup, namedBackup, notReappliedLine, pointInTime, type Reapply, reapplyList, type RestoreSource, settingsToReapply, sourceLine } from '../../src/runbooks/restore-dynamodb/plan';
import { ACCESS_DENIED, fail, stub, undoFaults } from '../helpers/faults';
import { useMoto } from '../helpers/moto';
import { createSourceTable } from '../helpers/tables';

const moto = useMoto();
afterEach(undoFaults);
const ddb = () => moto().clients.dynamodb('us-east-1');
let n = 0;

const T = 'spawn-sessions';
const arnOf = (name: string, table = T) => `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/backup/0${String(name.length).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9.-]/g, '-')}`;
/** A backup summary as ListBackups gives it; `minute` orders them (2026-11-01 00:MM). */
const summary = (name: string, minute: number, o: { type?: BackupType; status?: BackupStatus; size?: number } = {}) => ({
  BackupArn: arnOf(`${name}-${minute}`),
  BackupName: name,
  BackupType: o.type ?? ('USER' as BackupType),
  BackupStatus: o.status ?? ('AVAILABLE' as BackupStatus),
  BackupCreationDateTime: new Date(Date.UTC(2026, 10, 1, 0, minute)),
  TableName: T,
  ...(o.size !== undefined ? { BackupSizeBytes: o.size } : {}),
});
type Summary = ReturnType<typeof summary>;
const listing = (...b: Summary[]) => stub<ListBackupsCommandOutput>(ddb(), 'ListBackupsCommand', () => ({ BackupSummaries: b }));
const info = (s: Summary): BackupInfo => ({
  arn: s.BackupArn,
  name: s.BackupName,
  type: s.BackupType,
  status: s.BackupStatus,
  created: s.BackupCreationDateTime.toISOString(),
  ...(s.BackupSizeBytes !== undefined ? { sizeBytes: s.BackupSizeBytes } : {}),
  table: T,
});
const slackAt = (iso: string) => `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time_secs}|${iso.slice(0, 19).replace('T', ' ')}Z>`;

describe('the backup a restore starts from', () => {
  it('a name no backup has: refused, listing the table\'s five newest backups newest first, or saying it has none', async () => {
    listing(summary('b2', 2), summary('b6', 6), summary('b1', 1), summary('b4', 4), summary('b3', 3), summary('b5', 5));
    await expect(namedBackup(ddb(), T, 'nope')).rejects.toMatchObject({
      code: 'unknown_backup',
      message: `\`${T}\` has no backup named \`nope\`. Its newest: \`b6\`, \`b5\`, \`b4\`, \`b3\`, \`b2\`.`,
      hint: 'Name one of its backups (or its ARN), or use `--latest-backup`.',
    });
    undoFaults();
    listing();
    await expect(namedBackup(ddb(), T, 'nope')).rejects.toMatchObject({ message: `\`${T}\` has no backup named \`nope\`. It has none.` });
  });

  it('several backups with one name: the newest AVAILABLE one, and how many share it; one alone: no count; none AVAILABLE: refused', async () => {
    const old = summary('nightly', 1);
    const newer = summary('nightly', 2);
    const creating = summary('nightly', 3, { status: 'CREATING' });
    listing(old, creating, newer, summary('other', 9));
    expect(await namedBackup(ddb(), T, 'nightly')).toEqual({ kind: 'backup', backup: info(newer), why: 'named', sameName: 3 });
    undoFaults();
    listing(old, summary('other', 9));
    expect(await namedBackup(ddb(), T, 'nightly')).toEqual({ kind: 'backup', backup: info(old), why: 'named' });
    undoFaults();
    listing(summary('nightly', 1, { status: 'DELETED' }), creating);
    await expect(namedBackup(ddb(), T, 'nightly')).rejects.toMatchObject({
      code: 'backup_not_available',
      message: `Backup \`nightly\` of \`${T}\` is CREATING, not AVAILABLE.`,
      hint: 'Wait until it is AVAILABLE, or pick another with `--backup NAME` or `--latest-backup`.',
    });
  });

  it('by ARN, on moto: a backup of this table is taken; another table\'s, or one that does not exist, is refused with this table\'s backups', async () => {
    const mine = `pl-${++n}`;
    const theirs = `pl-${++n}`;
    await createSourceTable(ddb(), mine, { items: 2 });
    await createSourceTable(ddb(), theirs, { items: 1 });
    const a = (await ddb().send(new CreateBackupCommand({ TableName: mine, BackupName: 'before-deploy' }))).BackupDetails!;
    const b = (await ddb().send(new CreateBackupCommand({ TableName: theirs, BackupName: 'theirs' }))).BackupDetails!;

    expect(await namedBackup(ddb(), mine, a.BackupArn!)).toEqual({
      kind: 'backup',
      why: 'named',
      backup: expect.objectContaining({ arn: a.BackupArn, name: 'before-deploy', type: 'USER', status: 'AVAILABLE', table: mine }),
    });
    await expect(namedBackup(ddb(), mine, b.BackupArn!)).rejects.toMatchObject({
      code: 'unknown_backup',
      message: `There is no backup \`${b.BackupArn}\` of \`${mine}\`. Its newest: \`before-deploy\`.`,
      hint: 'Name a backup of this table (its ARN or its name), or use `--latest-backup`.',
    });
    const unknown = a.BackupArn!.replace(/backup\/.*$/, 'backup/01234567890123-abcdefgh');
    await expect(namedBackup(ddb(), mine, unknown)).rejects.toMatchObject({ message: `There is no backup \`${unknown}\` of \`${mine}\`. Its newest: \`before-deploy\`.` });
    // the listing for the refusal refused too: the refusal still comes, without the list
    fail(ddb(), 'ListBackupsCommand', ACCESS_DENIED);
    await expect(namedBackup(ddb(), mine, unknown)).rejects.toMatchObject({ code: 'unknown_backup', message: `There is no backup \`${unknown}\` of \`${mine}\`. It has none.` });
  });

  it('--latest-backup: the newest AVAILABLE one; none AVAILABLE: refused, listing them; none at all: refused, saying how to make one', async () => {
    const avail = summary('older', 4, { type: 'AWS_BACKUP' });
    listing(summary('oldest', 1), summary('newest', 8, { status: 'CREATING' }), avail);
    expect(await latestBackup(ddb(), T)).toEqual({ kind: 'backup', backup: info(avail), why: 'latest' });
    undoFaults();
    listing(summary('newest', 8, { status: 'CREATING' }));
    await expect(latestBackup(ddb(), T)).rejects.toMatchObject({
      code: 'no_backup',
      message: `\`${T}\` has no AVAILABLE backup. Its newest: \`newest\`.`,
      hint: `Make one with \`/dr backup dynamodb ${T}\`, or restore to a time with \`--to\`.`,
    });
    undoFaults();
    listing();
    await expect(latestBackup(ddb(), T)).rejects.toMatchObject({ code: 'no_backup', message: `\`${T}\` has no AVAILABLE backup.` });
  });
});

describe('--to TIME', () => {
  const live = { TableName: T } as TableDescription;
  const window = (o: { status?: string; earliest?: string; latest?: string }) =>
    stub<DescribeContinuousBackupsCommandOutput>(ddb(), 'DescribeContinuousBackupsCommand', () => ({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: {
          PointInTimeRecoveryStatus: (o.status ?? 'ENABLED') as 'ENABLED',
          ...(o.earliest ? { EarliestRestorableDateTime: new Date(o.earliest) } : {}),
          ...(o.latest ? { LatestRestorableDateTime: new Date(o.latest) } : {}),
        },
      },
    }));
  const E = '2026-11-20T08:00:00.000Z';
  const L = '2026-11-30T23:55:00.000Z';

  it('within the PITR window, edges included: that time; outside it: refused, naming the window and the latest time', async () => {
    window({ earliest: E, latest: L });
    expect(await pointInTime(ddb(), T, E, live)).toEqual({ kind: 'pitr', at: E, earliest: E, latest: L });
    expect(await pointInTime(ddb(), T, L, live)).toEqual({ kind: 'pitr', at: L, earliest: E, latest: L });
    const refusal = (to: string) => ({
      code: 'outside_pitr_window',
      message: `${to.slice(0, 19).replace('T', ' ')} UTC is outside the PITR window of \`${T}\`: it can be restored to any time from 2026-11-20 08:00:00 UTC to 2026-11-30 23:55:00 UTC.`,
      hint: 'Pick a time in that window (`--to 2026-11-30T23:55:00Z` is the latest), or restore a backup with `--backup NAME`.',
    });
    await expect(pointInTime(ddb(), T, '2026-11-20T07:59:59.999Z', live)).rejects.toMatchObject(refusal('2026-11-20T07:59:59.999Z'));
    await expect(pointInTime(ddb(), T, '2026-11-30T23:55:00.001Z', live)).rejects.toMatchObject(refusal('2026-11-30T23:55:00.001Z'));
  });

  it('PITR off, or a window without its ends: refused, saying what to restore instead', async () => {
    const off = { code: 'no_pitr', message: `Point-in-time recovery is not enabled on \`${T}\`, so it cannot be restored to a time.`, hint: 'Restore a backup with `--latest-backup` or `--backup NAME`; `/dr setup dynamodb` turns PITR on for next time.' };
    window({ status: 'DISABLED', earliest: E, latest: L });
    await expect(pointInTime(ddb(), T, E, live)).rejects.toMatchObject(off);
    undoFaults();
    window({ earliest: E });
    await expect(pointInTime(ddb(), T, E, live)).rejects.toMatchObject(off);
    undoFaults();
    window({ latest: L });
    await expect(pointInTime(ddb(), T, L, live)).rejects.toMatchObject(off);
  });

  it('a deleted table: its newest AVAILABLE system backup, for a time at or after it; before it, or none: refused, naming what AWS keeps', async () => {
    const system = summary('spawn-sessions$DeletedTableBackup', 30, { type: 'SYSTEM' });
    listing(summary('user', 50), summary('sys-old', 10, { type: 'SYSTEM' }), summary('sys-new', 40, { type: 'SYSTEM', status: 'CREATING' }), system);
    const created = system.BackupCreationDateTime.toISOString();
    expect(await pointInTime(ddb(), T, created, undefined)).toEqual({ kind: 'backup', backup: info(system), why: 'deleted' });
    await expect(pointInTime(ddb(), T, '2026-11-01T00:29:59.000Z', undefined)).rejects.toMatchObject({
      code: 'before_deletion',
      message: `\`${T}\` was deleted at 2026-11-01 00:30:00 UTC. AWS keeps only its state just before the deletion (system backup \`spawn-sessions$DeletedTableBackup\`), not its state at 2026-11-01 00:29:59 UTC.`,
      hint: 'Restore that state with `--backup spawn-sessions$DeletedTableBackup`, or an older on-demand backup with `--backup NAME`.',
    });
    undoFaults();
    listing(summary('user', 50), summary('sys', 40, { type: 'SYSTEM', status: 'CREATING' }));
    await expect(pointInTime(ddb(), T, created, undefined)).rejects.toMatchObject({
      code: 'table_gone',
      message: `\`${T}\` does not exist, and DynamoDB keeps no system backup of it (it had no PITR when it was deleted, or that was more than 35 days ago).`,
      hint: 'Restore an on-demand backup of it with `--backup NAME` or `--latest-backup`.',
    });
  });
});

describe('what is re-applied', () => {
  const tags = (keys: string[]) => stub<ListTagsOfResourceCommandOutput>(ddb(), 'ListTagsOfResourceCommand', () => ({ Tags: keys.map((Key) => ({ Key, Value: 'v' })) }));

  it('from a live source on moto: its own tags up to 47 (room for drbot\'s 3), never aws: or drbot\'s; each limit named', async () => {
    const name = `pl-${++n}`;
    await createSourceTable(ddb(), name, { items: 1, pitr: true, ttl: 'expiresAt', stream: 'NEW_IMAGE', deletionProtection: true });
    const live = await describeTableIfAny(ddb(), name);
    const own = Array.from({ length: 49 }, (_, i) => `team-${String(i).padStart(2, '0')}`);
    tags([...own, 'aws:cloudformation:stack-name', 'drbot-run', 'drbot-restored-from', 'drbot-deletion-protection']);
    const r = await settingsToReapply(ddb(), live, { kind: 'pitr', at: '', earliest: '', latest: '' });
    expect(r.from).toBe('source');
    expect(r.tags.map((t) => t.Key)).toEqual(own.slice(0, 47));
    expect(r.settings).toMatchObject({ pitr: true, ttlAttribute: 'expiresAt', streamViewType: 'NEW_IMAGE', deletionProtection: true, billingMode: 'PAY_PER_REQUEST' });
    expect(r.skipped).toEqual(["2 of the source's 49 tags: a table carries at most 50 and drbot adds 3", '1 `aws:` tag: only AWS sets those']);

    undoFaults();
    tags(['team', 'aws:a', 'aws:b']);
    const two = await settingsToReapply(ddb(), live, { kind: 'pitr', at: '', earliest: '', latest: '' });
    expect(two.tags.map((t) => t.Key)).toEqual(['team']);
    expect(two.skipped).toEqual(['2 `aws:` tags: only AWS sets those']);

    undoFaults();
    tags(own.slice(0, 47));
    expect((await settingsToReapply(ddb(), live, { kind: 'pitr', at: '', earliest: '', latest: '' })).skipped).toEqual([]);
    // a setting that cannot be read is named with why
    undoFaults();
    fail(ddb(), 'ListTagsOfResourceCommand', ACCESS_DENIED);
    expect((await settingsToReapply(ddb(), live, { kind: 'pitr', at: '', earliest: '', latest: '' })).skipped).toEqual([expect.stringMatching(/^tags: could not be read \(ListTagsOfResource on .* failed: User is not authorized/)]);
  });

  it('from a backup of a gone table: what its description keeps; a system backup brings PITR back, another does not', async () => {
    const sys = info(summary('sys', 1, { type: 'SYSTEM' }));
    const described = (features: { ttl?: string; stream?: string }, billing?: string) =>
      stub<DescribeBackupCommandOutput>(ddb(), 'DescribeBackupCommand', (x) => ({
        BackupDescription: {
          BackupDetails: { BackupArn: String(x.BackupArn), BackupName: 'b', BackupType: 'SYSTEM', BackupStatus: 'AVAILABLE', BackupCreationDateTime: new Date(sys.created) },
          SourceTableDetails: { TableName: T, TableId: 't', KeySchema: [], TableCreationDateTime: new Date(0), ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }, ...(billing ? { BillingMode: billing as 'PAY_PER_REQUEST' } : {}) },
          SourceTableFeatureDetails: {
            ...(features.ttl ? { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: features.ttl } } : {}),
            ...(features.stream ? { StreamDescription: { StreamEnabled: true, StreamViewType: features.stream as 'KEYS_ONLY' } } : {}),
          },
        },
      }));
    const gone = 'the source table is gone and a backup does not keep it';

    described({ ttl: 'expiresAt', stream: 'KEYS_ONLY' }, 'PAY_PER_REQUEST');
    expect(await settingsToReapply(ddb(), undefined, { kind: 'backup', backup: sys, why: 'deleted' })).toEqual({
      from: 'backup',
      settings: { ttlAttribute: 'expiresAt', streamViewType: 'KEYS_ONLY', pitr: true, billingMode: 'PAY_PER_REQUEST' },
      tags: [],
      skipped: [`tags, deletion protection and the resource policy: ${gone}`],
    });
    undoFaults();
    described({ stream: 'KEYS_ONLY' });
    const user = { ...sys, type: 'USER' };
    expect(await settingsToReapply(ddb(), undefined, { kind: 'backup', backup: user, why: 'named' })).toEqual({
      from: 'backup',
      settings: { streamViewType: 'KEYS_ONLY' },
      tags: [],
      skipped: [`tags, deletion protection and the resource policy: ${gone}`, `PITR: ${gone}; turn it on with \`/dr setup dynamodb\` if the restored table is to stay`],
    });
    undoFaults();
    described({ ttl: 'expiresAt' });
    expect((await settingsToReapply(ddb(), undefined, { kind: 'backup', backup: user, why: 'named' })).skipped).toHaveLength(2);
    undoFaults();
    described({});
    expect((await settingsToReapply(ddb(), undefined, { kind: 'backup', backup: sys, why: 'deleted' })).skipped).toEqual([`tags, deletion protection and the resource policy: ${gone}`, 'TTL and the stream: the backup’s description lists neither']);
  });

  it('the lines: each setting re-applied, what is not (auto scaling only for provisioned tables), and where the restore comes from', () => {
    const full: Reapply = { from: 'source', settings: { pitr: true, ttlAttribute: 'expiresAt', streamViewType: 'NEW_IMAGE', resourcePolicy: '{}', deletionProtection: true, billingMode: 'PAY_PER_REQUEST' }, tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], skipped: [] };
    expect(reapplyList(full)).toEqual(['PITR', 'TTL on `expiresAt`', 'stream (NEW_IMAGE)', '2 tags', 'resource policy (the source’s ARN replaced by the restored table’s)', 'deletion protection']);
    expect(reapplyList({ ...full, settings: {}, tags: [{ Key: 'a', Value: '1' }] })).toEqual(['1 tag']);
    expect(reapplyList({ ...full, settings: { deletionProtection: false, pitr: false }, tags: [] })).toEqual([]);

    expect(notReappliedLine(T, full)).toBe('Not re-applied: nothing (auto scaling is not used: on-demand capacity).');
    expect(notReappliedLine(T, { ...full, skipped: ['x: y', 'z'] })).toBe('Not re-applied: x: y; z.');
    expect(notReappliedLine(T, { ...full, settings: { billingMode: 'PROVISIONED' } })).toBe(
      `Not re-applied: auto scaling: drbot does not copy scaling targets and policies yet; if \`${T}\` scales, register the restored table the same way (\`aws application-autoscaling describe-scalable-targets --service-namespace dynamodb --resource-ids table/${T}\` shows them).`,
    );
    // a billing mode not read is taken as provisioned: the auto-scaling advice is given
    expect(notReappliedLine(T, { ...full, settings: {} })).toMatch(/^Not re-applied: auto scaling: /);

    const E = '2026-11-20T08:00:00.000Z';
    const L = '2026-11-30T23:55:00.000Z';
    const pitr: RestoreSource = { kind: 'pitr', at: '2026-11-25T10:00:00.000Z', earliest: E, latest: L };
    expect(sourceLine(T, 'new', pitr, true)).toBe(`Would restore \`${T}\` as it was at *${slackAt(pitr.at)}* (point-in-time recovery; its window is ${slackAt(E)} to ${slackAt(L)}) into a new table \`new\`.`);
    expect(sourceLine(T, 'new', pitr, false)).toMatch(/^Restores `spawn-sessions` as it was at /);
    const b = info(summary('nightly', 5, { size: 1536 }));
    const taken = slackAt(b.created);
    expect(sourceLine(T, 'new', { kind: 'backup', backup: b, why: 'named', sameName: 2 }, false)).toBe(
      `Restores \`${T}\` from backup \`nightly\` (USER, taken ${taken}, 1.5 KB) (2 backups have that name: the newest AVAILABLE) into a new table \`new\`.`,
    );
    expect(sourceLine(T, 'new', { kind: 'backup', backup: b, why: 'latest' }, true)).toBe(`Would restore \`${T}\` from its newest AVAILABLE backup \`nightly\` (USER, taken ${taken}, 1.5 KB) into a new table \`new\`.`);
    const { sizeBytes: _, ...unsized } = { ...b, type: 'SYSTEM' };
    expect(sourceLine(T, 'new', { kind: 'backup', backup: unsized, why: 'deleted' }, true)).toBe(
      `\`${T}\` was deleted: would restore its state just before the deletion, from its system backup \`nightly\` (SYSTEM, taken ${taken}) into a new table \`new\`.`,
    );
    expect(sourceLine(T, 'new', { kind: 'backup', backup: { ...b, sizeBytes: 0 }, why: 'named' }, false)).toBe(`Restores \`${T}\` from backup \`nightly\` (USER, taken ${taken}, 0 B) into a new table \`new\`.`);
  });
});
