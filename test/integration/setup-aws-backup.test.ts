/**
 * `/dr setup`'s AWS Backup part (src/runbooks/setup/aws-backup.ts) and the roles it makes
 * (src/runbooks/setup/role.ts), called directly against moto: what the plan finds right in each
 * region that holds configured tables, what it would change, and what the execution writes, step
 * by step. The runbook as a whole is setup-runbook.test.ts; these need no local stack, so
 * `npm run mutate` can run them for each mutant.
 *
 * Where moto falls short, as in the sandbox: AWS Backup selections are answered by the sandbox's
 * stand-in (src/local/moto-gaps.ts); moto has no UpdateBackupPlan (it answers 404 HTML), so a stub
 * takes that call and what it is sent is asserted; a plan's rules as AWS Backup gives them back are
 * set by SDK middleware on GetBackupPlan where a test needs a rule moto would not keep. moto
 * enforces no IAM policy: refusals are SDK middleware on the clients (test/helpers/faults.ts).
 */
import { CreateBackupPlanCommand, CreateBackupSelectionCommand, CreateBackupVaultCommand, type GetBackupPlanCommandOutput, type BackupRuleInput, GetBackupPlanCommand, type UpdateBackupPlanCommandInput } from '@aws-sdk/client-backup';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { findPlan } from '../../src/aws/backup';
import { selectionsInMemory } from '../../src/local/moto-gaps';
import { applyAwsBackup, assessAwsBackup, BACKUP_RULE, dailyRule } from '../../src/runbooks/setup/aws-backup';
import { BACKUP_ROLE, backupRolePolicy, ensureBackupRole, ensureReplicationRole, findRole, replicationPolicy, replicationRoleName } from '../../src/runbooks/setup/role';
import type { Change } from '../../src/runbooks/setup/runbook';
import { ACCESS_DENIED, countTries, fail, rewrite, stub, undoFaults } from '../helpers/faults';
import { deleteRole, roleExists, roleState } from '../helpers/iam-roles';
import { useRunbookRig, watchSteps } from '../helpers/runbook-rig';

const rig = useRunbookRig();
afterEach(undoFaults);

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const backup = (region: string) => rig.moto().clients.backup(region);
const iam = () => rig.moto().clients.iam(EAST);
let n = 0;
const selections = new Map<string, ReturnType<typeof selectionsInMemory>>();

beforeAll(() => {
  for (const region of [EAST, WEST]) selections.set(region, selectionsInMemory(backup(region)));
});

/** A config of its own (so its vault and plan names are its own); the table ARNs given. */
function fresh(): { vault: string; plan: string } {
  const name = `awsb-${++n}`;
  rig.configure({ name, s3: { buckets: [] }, dynamodb: { tables: [] }, backupBucket: undefined });
  return { vault: `drbot-${name}`, plan: `drbot-${name}-dynamodb` };
}
const arn = (region: string, table: string) => `arn:aws:dynamodb:${region}:123456789012:table/${table}`;
const A = arn(EAST, 'spawn-a');
const B = arn(WEST, 'spawn-b');
const C = arn(EAST, 'spawn-c');
const TABLES = [
  { region: EAST, arn: A },
  { region: WEST, arn: B },
  { region: EAST, arn: C },
];

type AwsBackupChange = Extract<Change, { op: 'aws-backup' }>;
const changeOf = (t: { changes: Change[] }) => t.changes[0] as AwsBackupChange;

/** applyAwsBackup on the local runner: its result and the steps it checkpointed, in order. */
async function apply(c: AwsBackupChange) {
  let checkpoints: string[] = [];
  const result = await rig.durable((ctx, d) => {
    const watched = watchSteps(ctx);
    checkpoints = watched.checkpoints;
    return applyAwsBackup(watched.ctx, d, c);
  });
  return { result, checkpoints };
}

/** The plan's id (moto's), with a vault in each region as a finished setup leaves it. */
async function planThere(vault: string, plan: string, rules: BackupRuleInput[]): Promise<string> {
  for (const region of [EAST, WEST]) await backup(region).send(new CreateBackupVaultCommand({ BackupVaultName: vault }));
  const r = await backup(EAST).send(new CreateBackupPlanCommand({ BackupPlan: { BackupPlanName: plan, Rules: rules } }));
  return r.BackupPlanId ?? '';
}
const westVaultArn = (vault: string) => `arn:aws:backup:${WEST}:123456789012:backup-vault:${vault}`;

describe('assessAwsBackup', () => {
  it('nothing there: a target per region holding tables, each with its own tables; copies only from a region other than the backup one', async () => {
    const { vault, plan } = fresh();

    const targets = await assessAwsBackup(rig.deps(), TABLES);

    const roleTables = [A, B, C];
    expect(targets).toEqual([
      {
        kind: 'aws-backup',
        name: `${plan} (${EAST})`,
        ok: [],
        notes: [],
        changes: [
          {
            op: 'aws-backup',
            region: EAST,
            backupRegion: WEST,
            tables: [A, C],
            roleTables,
            text: `creates vault \`${vault}\` in ${EAST}; creates vault \`${vault}\` in ${WEST}; creates plan \`${plan}\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days, each copied to \`${vault}\` in ${WEST} (kept 35 days); selects 2 tables (selection \`drbot-tables\`, role \`drbot-aws-backup\`)`,
          },
        ],
      },
      {
        kind: 'aws-backup',
        name: `${plan} (${WEST})`,
        ok: [],
        notes: [],
        changes: [
          {
            op: 'aws-backup',
            region: WEST,
            backupRegion: WEST,
            tables: [B],
            roleTables,
            text: `creates vault \`${vault}\` in ${WEST}; creates plan \`${plan}\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days; selects 1 table (selection \`drbot-tables\`, role \`drbot-aws-backup\`)`,
          },
        ],
      },
    ]);
  });

  it('applied, then assessed again: every part named as right, nothing to change; applied again, the selection is not rewritten', async () => {
    const { vault, plan } = fresh();
    const [east, west] = await assessAwsBackup(rig.deps(), TABLES);

    const e = await apply(changeOf(east ?? { changes: [] }));
    const w = await apply(changeOf(west ?? { changes: [] }));

    expect(e).toEqual({
      result: { ok: true, line: `AWS Backup plan \`${plan}\` in ${EAST}: daily, 35 days, copied to ${WEST}; 2 tables selected` },
      checkpoints: [`backup-vault:${EAST}`, `backup-vault:${WEST}`, 'backup-role', `backup-plan:${EAST}`, `backup-selection:${EAST}`],
    });
    expect(w).toEqual({
      result: { ok: true, line: `AWS Backup plan \`${plan}\` in ${WEST}: daily, 35 days; 1 table selected` },
      checkpoints: [`backup-vault:${WEST}`, 'backup-role', `backup-plan:${WEST}`, `backup-selection:${WEST}`],
    });
    // each region's selection holds its own tables, nothing else
    const planIds: Record<string, string> = { [EAST]: (await findPlan(backup(EAST), plan))?.id ?? '', [WEST]: (await findPlan(backup(WEST), plan))?.id ?? '' };
    // this plan's selections only (other tests' plans select the same table ARNs)
    const selected = (region: string) => (selections.get(region)?.get(planIds[region] ?? '') ?? []).filter((s) => s.name === 'drbot-tables');
    expect(selected(EAST).map((s) => s.resources)).toEqual([[A, C]]);
    expect(selected(WEST).map((s) => s.resources)).toEqual([[B]]);

    const again = await assessAwsBackup(rig.deps(), TABLES);
    expect(again.map((t) => ({ ok: t.ok, changes: t.changes }))).toEqual([
      { ok: [`vault \`${vault}\` in ${EAST}`, `vault \`${vault}\` in ${WEST}`, `plan \`${plan}\` backs up daily, keeps 35 days, copies to ${WEST}`, `selects every configured table in ${EAST}`], changes: [] },
      { ok: [`vault \`${vault}\` in ${WEST}`, `plan \`${plan}\` backs up daily, keeps 35 days`, `selects every configured table in ${WEST}`], changes: [] },
    ]);

    // the change applied once more (a replayed run): the selection is not written again (a rewrite deletes it and makes a new one)
    // (the stand-in reuses a deleted selection's id: the record itself tells them apart)
    const [before] = selected(EAST);
    stub(backup(EAST), 'UpdateBackupPlanCommand', (x) => ({ BackupPlanId: String(x.BackupPlanId) }));
    expect((await apply(changeOf(east ?? { changes: [] }))).result).toEqual(e.result);
    expect(selected(EAST)).toHaveLength(1);
    expect(selected(EAST)[0]).toBe(before);
  });

  describe('a rule named drbot-daily that is not what setup writes is planned as an update', () => {
    const right = (vault: string): BackupRuleInput => dailyRule(vault, 35, westVaultArn(vault));
    const cases: [string, (vault: string) => BackupRuleInput][] = [
      ['into another vault', (v) => ({ ...right(v), TargetBackupVaultName: 'someone-elses' })],
      ['kept another number of days', (v) => ({ ...right(v), Lifecycle: { DeleteAfterDays: 7 } })],
      ['with no schedule', (v) => ({ ...right(v), ScheduleExpression: undefined })],
      ['copying nowhere', (v) => ({ ...right(v), CopyActions: [] })],
      ['copying to another vault', (v) => ({ ...right(v), CopyActions: [{ DestinationBackupVaultArn: westVaultArn('other'), Lifecycle: { DeleteAfterDays: 35 } }] })],
      ['copying, kept another number of days', (v) => ({ ...right(v), CopyActions: [{ DestinationBackupVaultArn: westVaultArn(v), Lifecycle: { DeleteAfterDays: 7 } }] })],
    ];
    it.each(cases)('%s', async (_, rule) => {
      const { vault, plan } = fresh();
      await planThere(vault, plan, [right(vault)]);
      // the rule as AWS Backup gives it back (moto keeps a plan's rules as sent, but not every field)
      rewrite<GetBackupPlanCommandOutput>(backup(EAST), 'GetBackupPlanCommand', (o) => ({ ...o, BackupPlan: { BackupPlanName: plan, Rules: [{ ...rule(vault), RuleId: 'r1' }] } as GetBackupPlanCommandOutput['BackupPlan'] }));

      const [east] = await assessAwsBackup(rig.deps(), [{ region: EAST, arn: A }]);

      expect(east?.ok).toEqual([`vault \`${vault}\` in ${EAST}`, `vault \`${vault}\` in ${WEST}`]);
      expect(changeOf(east ?? { changes: [] }).text).toBe(
        `updates plan \`${plan}\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days, each copied to \`${vault}\` in ${WEST} (kept 35 days); selects 1 table (selection \`drbot-tables\`, role \`drbot-aws-backup\`)`,
      );
    });

    it('the right rule after another team\'s is right; another copy action beside the right one is kept as right', async () => {
      const { vault, plan } = fresh();
      await planThere(vault, plan, [right(vault)]);
      const theirs: BackupRuleInput = { RuleName: 'team-weekly', TargetBackupVaultName: 'team', ScheduleExpression: 'cron(0 1 ? * SUN *)', Lifecycle: { DeleteAfterDays: 90 } };
      const twoCopies: BackupRuleInput = { ...right(vault), CopyActions: [{ DestinationBackupVaultArn: westVaultArn('team'), Lifecycle: { DeleteAfterDays: 1 } }, ...(right(vault).CopyActions ?? [])] };
      rewrite<GetBackupPlanCommandOutput>(backup(EAST), 'GetBackupPlanCommand', (o) => ({ ...o, BackupPlan: { BackupPlanName: plan, Rules: [{ ...theirs, RuleId: 'r0' }, { ...twoCopies, RuleId: 'r1' }] } as GetBackupPlanCommandOutput['BackupPlan'] }));

      const [east] = await assessAwsBackup(rig.deps(), [{ region: EAST, arn: A }]);

      expect(east?.ok).toEqual([`vault \`${vault}\` in ${EAST}`, `vault \`${vault}\` in ${WEST}`, `plan \`${plan}\` backs up daily, keeps 35 days, copies to ${WEST}`]);
      expect(changeOf(east ?? { changes: [] }).text).toBe(`selects 1 table (selection \`drbot-tables\`, role \`drbot-aws-backup\`)`);
    });

    it('the backup region\'s vault gone: its copies cannot land, so the plan is updated too (and the vault made), even with no copy action to check', async () => {
      const { vault, plan } = fresh();
      await planThere(vault, plan, [dailyRule(vault, 35, undefined)]);
      rewrite(backup(WEST), 'DescribeBackupVaultCommand', () => {
        throw Object.assign(new Error(`Backup vault ${vault} not found`), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
      });

      const [east] = await assessAwsBackup(rig.deps(), [{ region: EAST, arn: A }]);

      expect(east?.ok).toEqual([`vault \`${vault}\` in ${EAST}`]);
      expect(changeOf(east ?? { changes: [] }).text).toBe(
        `creates vault \`${vault}\` in ${WEST}; updates plan \`${plan}\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days, each copied to \`${vault}\` in ${WEST} (kept 35 days); selects 1 table (selection \`drbot-tables\`, role \`drbot-aws-backup\`)`,
      );
    });
  });
});

describe('applyAwsBackup', () => {
  it('a plan with only another team\'s rule: drbot\'s rule is added after it; a selection holding one of the two tables gets both', async () => {
    const { vault, plan } = fresh();
    const theirs: BackupRuleInput = { RuleName: 'team-weekly', TargetBackupVaultName: vault, ScheduleExpression: 'cron(0 1 ? * SUN *)', Lifecycle: { DeleteAfterDays: 90 } };
    const planId = await planThere(vault, plan, [theirs]);
    const role = await ensureBackupRole(iam(), [A], vault);
    await backup(EAST).send(new CreateBackupSelectionCommand({ BackupPlanId: planId, BackupSelection: { SelectionName: 'drbot-tables', IamRoleArn: role, Resources: [A] } }));
    const [east] = await assessAwsBackup(rig.deps(), [
      { region: EAST, arn: A },
      { region: EAST, arn: C },
    ]);
    expect(changeOf(east ?? { changes: [] }).text).toBe(
      `updates plan \`${plan}\`: rule \`drbot-daily\` daily at 05:00 UTC, backups kept 35 days, each copied to \`${vault}\` in ${WEST} (kept 35 days); keeps its other rule \`team-weekly\`; selects 1 table (selection \`drbot-tables\`, role \`drbot-aws-backup\`)`,
    );
    const updates: UpdateBackupPlanCommandInput[] = [];
    stub(backup(EAST), 'UpdateBackupPlanCommand', (x) => (updates.push(x as unknown as UpdateBackupPlanCommandInput), { BackupPlanId: planId }));

    const { result } = await apply(changeOf(east ?? { changes: [] }));

    expect(result).toEqual({ ok: true, line: `AWS Backup plan \`${plan}\` in ${EAST}: daily, 35 days, copied to ${WEST}; 2 tables selected` });
    expect(updates.map((u) => u.BackupPlan?.Rules?.map((r) => r.RuleName))).toEqual([['team-weekly', BACKUP_RULE]]);
    expect(updates[0]?.BackupPlan?.Rules?.[0]).toMatchObject(theirs);
    const ours = [...(selections.get(EAST)?.get(planId) ?? [])].filter((s) => s.name === 'drbot-tables');
    expect(ours.map((s) => s.resources)).toEqual([[A, C]]);
  });

  it('a step refused: the failure with AWS\'s message and its hint after a dash (what to grant; for another error, where to look)', async () => {
    fresh();
    const [east] = await assessAwsBackup(rig.deps(), [{ region: EAST, arn: A }]);
    const c = changeOf(east ?? { changes: [] });

    fail(backup(EAST), 'CreateBackupVaultCommand', ACCESS_DENIED);
    const denied = await apply(c);
    undoFaults();
    fail(backup(EAST), 'CreateBackupVaultCommand', { name: 'InvalidParameterValueException', message: 'Invalid vault name', status: 400 });
    const invalid = await apply(c);

    expect(denied.result).toEqual({ ok: false, failure: expect.stringMatching(/^CreateBackupVault on `[^`]+` failed: User is not authorized to perform this action — Grant .+/) });
    expect(denied.checkpoints).toEqual([`backup-vault:${EAST}`]);
    expect(invalid.result).toEqual({ ok: false, failure: expect.stringMatching(/^CreateBackupVault on `[^`]+` failed: Invalid vault name — Check the AWS console or the bot logs with the correlation id\.$/) });
  });
});

describe('the roles setup makes', () => {
  /** The account's one AWS Backup role gone, whichever test made it (or none has yet). */
  const noBackupRole = async () => {
    if (await roleExists(iam(), BACKUP_ROLE)) await deleteRole(iam(), BACKUP_ROLE);
  };

  it('the AWS Backup role: made with its trust, description, tag and policy; made again, adopted with the policy for the new tables', async () => {
    await noBackupRole();

    const made = await ensureBackupRole(iam(), [A], 'drbot-x');
    const adopted = await ensureBackupRole(iam(), [A, C], 'drbot-x');

    expect(adopted).toBe(made);
    expect(made).toMatch(new RegExp(`^arn:aws:iam::\\d{12}:role/${BACKUP_ROLE}$`));
    expect(await roleState(iam(), BACKUP_ROLE)).toMatchObject({
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      description: 'drbot: AWS Backup of the configured DynamoDB tables',
      tags: { 'drbot:created-by': 'drbot' },
      inlines: { 'drbot-aws-backup': JSON.parse(backupRolePolicy([A, C], 'drbot-x')) as unknown },
    });
  });

  it('the replication role: made once, adopted after (no second CreateRole); its name from the pair', async () => {
    const source = `src-${++n}`;
    const name = replicationRoleName(source, 'replica');
    const creates = countTries(iam(), 'CreateRoleCommand');

    const first = await ensureReplicationRole(iam(), source, 'replica');
    const second = await ensureReplicationRole(iam(), source, 'replica');

    expect(second).toBe(first);
    expect(creates.tries()).toBe(1);
    expect(await findRole(iam(), name)).toBe(first);
    expect((await roleState(iam(), name)).inlines).toEqual({ 'drbot-replication': JSON.parse(replicationPolicy(source, 'replica')) as unknown });
  });

  it('GetRole refused is not "no such role": the error names GetRole, and no role is made', async () => {
    const creates = countTries(iam(), 'CreateRoleCommand');
    fail(iam(), 'GetRoleCommand', ACCESS_DENIED);

    await expect(findRole(iam(), 'drbot-anything')).rejects.toThrow(/^GetRole on `drbot-anything` failed: User is not authorized/);
    await expect(ensureBackupRole(iam(), [A], 'v')).rejects.toThrow(/^GetRole on `drbot-aws-backup` failed: User is not authorized/);
    await expect(ensureReplicationRole(iam(), 'b1', 'b2')).rejects.toThrow(new RegExp(`^GetRole on \`${replicationRoleName('b1', 'b2')}\` failed: User is not authorized`));
    expect(creates.tries()).toBe(0);
    undoFaults();
    expect(await findRole(iam(), 'drbot-no-such-role')).toBeUndefined();
  });

  it('CreateRole or PutRolePolicy refused: the error names the call and the role', async () => {
    await noBackupRole();
    const source = `src-${++n}`;
    const name = replicationRoleName(source, 'replica');
    fail(iam(), 'CreateRoleCommand', ACCESS_DENIED);
    await expect(ensureBackupRole(iam(), [A], 'v')).rejects.toThrow(/^CreateRole on `drbot-aws-backup` failed: User is not authorized/);
    await expect(ensureReplicationRole(iam(), source, 'replica')).rejects.toThrow(new RegExp(`^CreateRole on \`${name}\` failed: User is not authorized`));
    undoFaults();
    fail(iam(), 'PutRolePolicyCommand', ACCESS_DENIED);
    await expect(ensureBackupRole(iam(), [A], 'v')).rejects.toThrow(/^PutRolePolicy on `drbot-aws-backup` failed: User is not authorized/);
    await expect(ensureReplicationRole(iam(), source, 'replica')).rejects.toThrow(new RegExp(`^PutRolePolicy on \`${name}\` failed: User is not authorized`));
    expect((await iam().send(new GetRoleCommand({ RoleName: name }))).Role?.RoleName).toBe(name);
  });
});
