import {
  CreateBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  GetItemCommand,
  type GetItemCommandInput,
  InvalidRestoreTimeException,
  RestoreTableFromBackupCommand,
} from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Event } from '@aws-sdk/client-cloudtrail';
import { GetUserCommand } from '@aws-sdk/client-iam';
import type { MiddlewareStack } from '@smithy/types';
import type { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';

/*
 * Where moto lacks an AWS call the sandbox needs, a middleware on the sandbox's own client answers it
 * with AWS's shapes (never against real AWS: npm start installs these only in sandbox mode).
 */

/**
 * moto has AWS Backup plans and vaults but no selections: this answers the four selection calls in
 * memory with AWS's shapes, and lets every other Backup call through to moto.
 */
export function selectionsInMemory<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): Map<string, { id: string; name: string; role: string; resources: string[] }[]> {
  const byPlan = new Map<string, { id: string; name: string; role: string; resources: string[] }[]>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { BackupPlanId?: string; SelectionId?: string; BackupSelection?: { SelectionName?: string; IamRoleArn?: string; Resources?: string[] } };
      const planId = input.BackupPlanId ?? '';
      const list = byPlan.get(planId) ?? [];
      const answer = (output: object) => ({ output: { $metadata: {}, ...output } as unknown as O, response: {} });
      switch (context.commandName) {
        case 'ListBackupSelectionsCommand':
          return answer({ BackupSelectionsList: list.map((x) => ({ SelectionId: x.id, SelectionName: x.name, BackupPlanId: planId, IamRoleArn: x.role })) });
        case 'GetBackupSelectionCommand': {
          const x = list.find((y) => y.id === input.SelectionId);
          return answer({ BackupPlanId: planId, SelectionId: x?.id, BackupSelection: { SelectionName: x?.name, IamRoleArn: x?.role, Resources: x?.resources } });
        }
        case 'CreateBackupSelectionCommand': {
          const id = `sel-${list.length + 1}`;
          byPlan.set(planId, [...list, { id, name: input.BackupSelection?.SelectionName ?? '', role: input.BackupSelection?.IamRoleArn ?? '', resources: input.BackupSelection?.Resources ?? [] }]);
          return answer({ SelectionId: id, BackupPlanId: planId });
        }
        case 'DeleteBackupSelectionCommand':
          byPlan.set(planId, list.filter((y) => y.id !== input.SelectionId));
          return answer({});
        default:
          return next(args);
      }
    },
    { step: 'initialize', name: 'moto-backup-selections' },
  );
  return byPlan;
}


/**
 * moto accepts UpdateTable's ReplicaUpdates but has no global tables: this remembers the replicas a
 * table was given and shows them, ACTIVE, in DescribeTable, as AWS does once it has copied the table.
 */
export function globalTableReplicas<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): Map<string, Set<string>> {
  const replicas = new Map<string, Set<string>>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; ReplicaUpdates?: { Create?: { RegionName?: string } }[] };
      const table = input.TableName ?? '';
      if (context.commandName === 'UpdateTableCommand' && input.ReplicaUpdates?.length) {
        const regions = replicas.get(table) ?? new Set<string>();
        for (const u of input.ReplicaUpdates) if (u.Create?.RegionName) regions.add(u.Create.RegionName);
        replicas.set(table, regions);
        // Whatever else the call changes still goes to moto, without the replicas it cannot make.
        const others = Object.keys(input).filter((k) => k !== 'TableName' && k !== 'ReplicaUpdates');
        if (others.length) return next({ ...args, input: Object.assign({}, args.input, { ReplicaUpdates: undefined }) });
        return { output: { $metadata: {}, TableDescription: { TableName: table } } as unknown as O, response: {} };
      }
      const result = await next(args);
      const regions = context.commandName === 'DescribeTableCommand' ? replicas.get(table) : undefined;
      const out = result.output as { Table?: { Replicas?: { RegionName: string; ReplicaStatus: string }[] } };
      if (regions?.size && out.Table) out.Table.Replicas = [...regions].map((RegionName) => ({ RegionName, ReplicaStatus: 'ACTIVE' }));
      return result;
    },
    { step: 'initialize', name: 'moto-global-table-replicas' },
  );
  return replicas;
}

/**
 * With those replicas shown, a GetItem in a replica's region (the drill reads its canary there) is
 * answered from the table in its own region, as a global table's replica would hold the same item.
 */
export function replicaReads(clients: AwsClients, region: string, homes: ReadonlyMap<string, ReadonlyMap<string, Set<string>>>): void {
  clients.dynamodb(region).middlewareStack.add(
    (next, context) => async (args) => {
      const table = String((args.input as { TableName?: unknown }).TableName ?? '');
      const home = context.commandName === 'GetItemCommand' ? [...homes].find(([r, m]) => r !== region && m.get(table)?.has(region))?.[0] : undefined;
      if (!home) return next(args);
      const output = await clients.dynamodb(home).send(new GetItemCommand(args.input as GetItemCommandInput));
      return { output: output as never, response: {} };
    },
    { step: 'initialize', name: 'moto-global-table-replica-reads' },
  );
}

/**
 * moto has no AWS Backup jobs (its server answers DescribeBackupJob with a page, not JSON): the
 * sandbox answers as AWS does for a job it does not know, so `/dr backup retry` says so plainly.
 */
export function noBackupJobs<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DescribeBackupJobCommand') return next(args);
      const id = String((args.input as { BackupJobId?: unknown }).BackupJobId ?? '');
      throw Object.assign(new Error(`Cannot find backup job ${id} (the sandbox has no AWS Backup jobs)`), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    },
    { step: 'initialize', name: 'moto-no-backup-jobs' },
  );
}

/** Names of the sandbox's hidden PITR snapshots (moto backups): `drbot-sandbox-pitr.<table>.<epoch ms>`. */
export const PITR_SNAPSHOT_PREFIX = 'drbot-sandbox-pitr.';
/** Writes to a table closer together than this are one burst: one snapshot before the first. */
const PITR_QUIET_MS = 5_000;

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

/** The tables a write call touches. */
function writtenTables(command: string, input: Record<string, unknown>): string[] {
  if (command === 'BatchWriteItemCommand') return Object.keys((input.RequestItems as Record<string, unknown>) ?? {});
  if (command === 'TransactWriteItemsCommand') {
    const items = (input.TransactItems as Record<string, { TableName?: string } | undefined>[]) ?? [];
    return [...new Set(items.flatMap((t) => Object.values(t).map((op) => op?.TableName ?? '')).filter(Boolean))];
  }
  return typeof input.TableName === 'string' ? [input.TableName] : [];
}

export interface PitrOptions {
  /** The configured tables in this client's region: only their history is kept. */
  tables: readonly string[];
  now: () => Date;
  /**
   * Tables whose PITR history reaches back to this time though moto turned PITR on later: the
   * sandbox's seeded tables, whose seeded items count as their state for a while before the seed.
   */
  historyFrom?: { tables: readonly string[]; at: Date };
}

/**
 * moto's point-in-time recovery is a stand-in: its window is frozen at the moment PITR was turned
 * on, and RestoreTableToPointInTime copies the table as it is now, whatever time is asked. That
 * would make the sandbox's corrupted-table story a lie (a restore to before the corruption would
 * bring the corruption back), so in the sandbox only, on the sandbox's own DynamoDB client:
 * - before the first write of a burst to a configured table (any PutItem, UpdateItem, DeleteItem,
 *   BatchWriteItem, TransactWriteItems; `/dr simulate corruption` is one), a snapshot of the table
 *   is kept as a moto backup (hidden from ListBackups);
 * - RestoreTableToPointInTime to a time before a snapshot restores the earliest snapshot taken at
 *   or after that time (the table's state then, as nothing wrote to it in between), answered in
 *   RestoreTableToPointInTime's shape; a time after the last snapshot is moto's own copy of the
 *   table as it is now, which is the state at that time; a time outside the window is refused
 *   with AWS's InvalidRestoreTimeException;
 * - DescribeContinuousBackups shows a window that moves: latest = now (AWS: about five minutes
 *   ago), earliest = when PITR was turned on (for the seeded tables, `historyFrom`).
 * Writes made by something other than this client (another process on the same moto) are not
 * seen: in the sandbox there is none.
 */
export function pointInTimeHistory<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O>; send: (command: never) => Promise<unknown> }, opts: PitrOptions): { snapshots: Map<string, { at: number; arn: string }[]> } {
  const tracked = new Set(opts.tables);
  const snapshots = new Map<string, { at: number; arn: string }[]>();
  const lastWrite = new Map<string, number>();
  const taking = new Map<string, Promise<void>>();
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;

  const snapshot = async (table: string, at: number): Promise<void> => {
    const r = (await send(new CreateBackupCommand({ TableName: table, BackupName: `${PITR_SNAPSHOT_PREFIX}${table}.${at}` }))) as { BackupDetails?: { BackupArn?: string } };
    const arn = r.BackupDetails?.BackupArn;
    if (arn) snapshots.set(table, [...(snapshots.get(table) ?? []), { at, arn }]);
  };
  const beforeWrite = async (table: string): Promise<void> => {
    const now = opts.now().getTime();
    const last = lastWrite.get(table);
    lastWrite.set(table, now);
    if (last === undefined || now - last >= PITR_QUIET_MS) taking.set(table, snapshot(table, now).catch(() => undefined));
    await taking.get(table);
  };
  const window = async (table: string, out: { ContinuousBackupsDescription?: { PointInTimeRecoveryDescription?: { PointInTimeRecoveryStatus?: string; EarliestRestorableDateTime?: Date; LatestRestorableDateTime?: Date } } }) => {
    const d = out.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
    if (d?.PointInTimeRecoveryStatus !== 'ENABLED') return undefined;
    const h = opts.historyFrom;
    if (h && h.tables.includes(table) && d.EarliestRestorableDateTime && h.at < d.EarliestRestorableDateTime) d.EarliestRestorableDateTime = h.at;
    d.LatestRestorableDateTime = opts.now();
    return d;
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? '';
      if (WRITES.has(command)) {
        for (const t of writtenTables(command, input)) if (tracked.has(t)) await beforeWrite(t);
        return next(args);
      }
      if (command === 'ListBackupsCommand') {
        const result = await next(args);
        const out = result.output as { BackupSummaries?: { BackupName?: string }[] };
        if (out.BackupSummaries) out.BackupSummaries = out.BackupSummaries.filter((b) => !(b.BackupName ?? '').startsWith(PITR_SNAPSHOT_PREFIX));
        return result;
      }
      if (command === 'DescribeContinuousBackupsCommand') {
        const result = await next(args);
        await window(String(input.TableName ?? ''), result.output as Parameters<typeof window>[1]);
        return result;
      }
      if (command === 'RestoreTableToPointInTimeCommand' && input.RestoreDateTime instanceof Date && tracked.has(String(input.SourceTableName ?? ''))) {
        const table = String(input.SourceTableName);
        const at = input.RestoreDateTime;
        const w = await window(table, (await send(new DescribeContinuousBackupsCommand({ TableName: table }))) as Parameters<typeof window>[1]);
        if (!w?.EarliestRestorableDateTime || !w.LatestRestorableDateTime || at < w.EarliestRestorableDateTime || at > w.LatestRestorableDateTime) {
          throw new InvalidRestoreTimeException({ message: 'Restore time must be between EarliestRestorableDateTime and LatestRestorableDateTime', $metadata: {} });
        }
        const snap = (snapshots.get(table) ?? []).filter((x) => x.at >= at.getTime()).sort((a, b) => a.at - b.at)[0];
        if (!snap) return next(args);
        const r = (await send(new RestoreTableFromBackupCommand({ TargetTableName: String(input.TargetTableName ?? ''), BackupArn: snap.arn }))) as { TableDescription?: Record<string, unknown> };
        const source = (await send(new DescribeTableCommand({ TableName: table }))) as { Table?: { TableArn?: string } };
        const TableDescription = { ...r.TableDescription, RestoreSummary: { SourceTableArn: source.Table?.TableArn, RestoreDateTime: at, RestoreInProgress: false } };
        return { output: { $metadata: {}, TableDescription } as unknown as O, response: {} };
      }
      return next(args);
    },
    { step: 'initialize', name: 'moto-point-in-time-history' },
  );
  return { snapshots };
}

/**
 * moto keeps replication configurations but copies nothing. The drill measures how long its canary
 * takes to reach the replica, so the sandbox copies the drill's canaries (keys under
 * `.drbot-drill/`, nothing else: the seeded replicas stay as the seed made them) to the configured
 * replica once moto has taken the PutObject, as S3 replication would a moment later.
 */
export function replicateDrillCanaries(clients: AwsClients, config: DrConfig): void {
  const replicas = new Map(config.s3.buckets.flatMap((b) => (b.replica ? [[b.name, b.replica] as const] : [])));
  for (const region of new Set(config.s3.buckets.filter((b) => b.replica).map((b) => b.region ?? config.regions.primary))) {
    const client: S3Client = clients.s3(region);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { Bucket?: string; Key?: string; Body?: unknown; ContentType?: string; Metadata?: Record<string, string> };
        const replica = replicas.get(input.Bucket ?? '');
        if (context.commandName === 'PutObjectCommand' && replica && input.Key?.startsWith('.drbot-drill/') && typeof input.Body === 'string') {
          await clients.s3(replica.region).send(new PutObjectCommand({ Bucket: replica.bucket, Key: input.Key, Body: input.Body, ...(input.ContentType ? { ContentType: input.ContentType } : {}), ...(input.Metadata ? { Metadata: input.Metadata } : {}) }));
        }
        return result;
      },
      { step: 'initialize', name: 'moto-drill-canary-replication' },
    );
  }
}

/**
 * moto has no CloudTrail event history (LookupEvents). The sandbox keeps one per region: events
 * recorded in AWS's Event shape (by `/dr simulate compromise`, src/local/compromise.ts), answered
 * as AWS does: newest first, one lookup attribute, StartTime/EndTime, at most 50 a page (MaxResults
 * up to 50), NextToken.
 */
export class SandboxTrail {
  private readonly byRegion = new Map<string, Event[]>();

  record(region: string, events: readonly Event[]): void {
    this.byRegion.set(region, [...(this.byRegion.get(region) ?? []), ...events]);
  }

  events(region: string): readonly Event[] {
    return this.byRegion.get(region) ?? [];
  }

  /** Answers LookupEvents on a sandbox CloudTrail client of this region. */
  cover<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }, region: string): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'LookupEventsCommand') return next(args);
        const input = args.input as { LookupAttributes?: { AttributeKey?: string; AttributeValue?: string }[]; StartTime?: Date; EndTime?: Date; MaxResults?: number; NextToken?: string };
        const attrs = input.LookupAttributes ?? [];
        if (attrs.length > 1) throw Object.assign(new Error('You cannot specify more than one lookup attribute.'), { name: 'InvalidLookupAttributesException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        const max = input.MaxResults ?? 50;
        if (max < 1 || max > 50) throw Object.assign(new Error('MaxResults must be between 1 and 50.'), { name: 'InvalidMaxResultsException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        const field: Record<string, (e: Event) => string | undefined> = {
          Username: (e) => e.Username,
          AccessKeyId: (e) => e.AccessKeyId,
          EventName: (e) => e.EventName,
          EventId: (e) => e.EventId,
          EventSource: (e) => e.EventSource,
          ReadOnly: (e) => e.ReadOnly,
        };
        const a = attrs[0];
        const get = a ? field[a.AttributeKey ?? ''] : undefined;
        const matching = this.events(region)
          .filter((e) => !a || get?.(e) === a.AttributeValue)
          .filter((e) => (!input.StartTime || (e.EventTime ?? new Date(0)) >= input.StartTime) && (!input.EndTime || (e.EventTime ?? new Date(0)) <= input.EndTime))
          .sort((x, y) => (y.EventTime?.getTime() ?? 0) - (x.EventTime?.getTime() ?? 0));
        const from = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8').replace(/^page:/, '')) : 0;
        if (!Number.isInteger(from) || from < 0) throw Object.assign(new Error('Invalid NextToken.'), { name: 'InvalidNextTokenException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        const page = matching.slice(from, from + max);
        const more = from + max < matching.length;
        const output = { $metadata: {}, Events: page, ...(more ? { NextToken: Buffer.from(`page:${from + max}`).toString('base64') } : {}) };
        return { output: output as unknown as O, response: {} };
      },
      // low: middleware added to the client later (a test's fault or rewrite) runs before the answer
      { step: 'initialize', priority: 'low', name: 'moto-cloudtrail-lookup-events' },
    );
  }
}

/** AWS's managed deny-all policy, in any partition. */
const AWS_DENY_ALL = /^arn:aws[a-z-]*:iam::aws:policy\/AWSDenyAll$/;

/**
 * moto knows AWS's managed policies only when told to load all of them (about 1,000, which slows
 * its start-up: MOTO_IAM_LOAD_MANAGED_POLICIES), so it refuses AttachUserPolicy of AWSDenyAll (the
 * policy `/dr compromise --lock` attaches) with NoSuchEntity. The sandbox keeps that one policy's
 * user attachments itself, on the IAM clients given (IAM is global: one map for all of them):
 * AttachUserPolicy of AWSDenyAll to a user moto knows (GetUser first: moto's own NoSuchEntity for
 * an unknown user), ListAttachedUserPolicies with it added on the last page, DetachUserPolicy of
 * it. Every other policy and call goes to moto.
 */
export function awsDenyAllAttachments<I extends object, O extends object>(clients: readonly { middlewareStack: MiddlewareStack<I, O>; send: (command: never) => Promise<unknown> }[]): Map<string, string> {
  const attached = new Map<string, string>();
  for (const client of clients) {
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { UserName?: string; PolicyArn?: string };
        const user = input.UserName ?? '';
        const answer = (output: object) => ({ output: { $metadata: {}, ...output } as unknown as O, response: {} });
        switch (context.commandName) {
          case 'AttachUserPolicyCommand':
            if (!AWS_DENY_ALL.test(input.PolicyArn ?? '')) return next(args);
            await send(new GetUserCommand({ UserName: user }));
            attached.set(user, input.PolicyArn ?? '');
            return answer({});
          case 'DetachUserPolicyCommand':
            if (!AWS_DENY_ALL.test(input.PolicyArn ?? '')) return next(args);
            if (attached.get(user) !== input.PolicyArn) throw Object.assign(new Error(`Policy ${input.PolicyArn} was not found.`), { name: 'NoSuchEntityException', $fault: 'client', $metadata: { httpStatusCode: 404 } });
            attached.delete(user);
            return answer({});
          case 'ListAttachedUserPoliciesCommand': {
            const result = await next(args);
            const out = result.output as { AttachedPolicies?: { PolicyName?: string; PolicyArn?: string }[]; IsTruncated?: boolean };
            const arn = attached.get(user);
            if (arn && !out.IsTruncated) out.AttachedPolicies = [...(out.AttachedPolicies ?? []), { PolicyName: 'AWSDenyAll', PolicyArn: arn }];
            return result;
          }
          default:
            return next(args);
        }
      },
      { step: 'initialize', name: 'moto-aws-deny-all' },
    );
  }
  return attached;
}

/** The sandbox's stand-ins for moto's gaps, on the clients of both configured regions. */
export function coverMotoGaps(clients: AwsClients, config: DrConfig, opts: { now?: () => Date; historyFrom?: PitrOptions['historyFrom'] } = {}): { trail: SandboxTrail } {
  const trail = new SandboxTrail();
  const replicas = new Map<string, Map<string, Set<string>>>();
  for (const region of new Set([config.regions.primary, config.regions.backup])) {
    trail.cover(clients.cloudtrail(region), region);
    selectionsInMemory(clients.backup(region));
    noBackupJobs(clients.backup(region));
    replicas.set(region, globalTableReplicas(clients.dynamodb(region)));
    const tables = config.dynamodb.tables.filter((t) => (t.region ?? config.regions.primary) === region).map((t) => t.name);
    pointInTimeHistory(clients.dynamodb(region), { tables, now: opts.now ?? (() => new Date()), ...(opts.historyFrom ? { historyFrom: opts.historyFrom } : {}) });
  }
  for (const region of replicas.keys()) replicaReads(clients, region, replicas);
  awsDenyAllAttachments([...replicas.keys()].map((region) => clients.iam(region)));
  replicateDrillCanaries(clients, config);
  return { trail };
}
