import { ConditionalCheckFailedException, CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { readItem } from './item';
import type { NextStep } from '../runbooks/verb';

/**
 * The state table: one DynamoDB table, single-table design, keys `pk`/`sk`, numeric `ttl`.
 *   AUDIT                / <iso time>#<id>   audit events, newest last
 *   IDEM#<key>           / IDEM              idempotency claims (Slack retries, double submits)
 *   APPROVAL#<id>        / APPROVAL          approval records (four eyes), decided by conditional writes
 *   RUN#<id>             / RUN               runs: what, who, where the Slack message is, status
 *   RUNS                 / <iso time>#<id>   the runs by start time, newest last (`/dr runs`, recovery)
 * Alarm threads and notifications live in the same table (src/alarms/store.ts).
 */

export interface AuditEvent {
  id: string;
  at: string;
  /** Slack user ID, or `system` / `schedule`. */
  actor: string;
  /** What happened: `command`, `plan`, `approve`, `reject`, `step`, `result`, `alarm`, … */
  action: string;
  /** The command text or target. */
  target: string;
  result: 'ok' | 'refused' | 'error' | 'pending' | 'approved' | 'rejected' | 'expired' | 'failed' | 'succeeded';
  detail?: string;
  runId?: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalRecord {
  id: string;
  runId: string;
  /** Opaque callback id of the durable execution waiting on this decision. */
  callbackId: string;
  requester: string;
  summary: string;
  required: number;
  approvers: string[];
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
  /** Set when an approved decision could not be delivered to the run; cleared by whoever redelivers it. */
  deliveryFailed?: boolean;
  channel: string;
  ts: string;
}

export interface RunRecord {
  id: string;
  kind: string;
  requester: string;
  commandText: string;
  channel: string;
  ts?: string;
  status: 'started' | 'planned' | 'awaiting_approval' | 'running' | 'succeeded' | 'failed' | 'rejected' | 'expired' | 'dry_run' | 'nothing_to_do' | 'interrupted';
  createdAt: string;
  updatedAt: string;
  summary?: string;
  /** Follow-ups offered on the run's message when it ended (buttons). */
  next?: NextStep[];
  /** Where the run executes: `lambda`, or `local:<host>:<pid>` for a local bot (whose death leaves it unfinished). */
  runner?: string;
  /** The run's final message (JSON) when Slack did not take it; `/dr runs` delivers it later. */
  unsent?: string;
}

/** A run whose execution has not ended. */
export const UNFINISHED: readonly RunRecord['status'][] = ['started', 'planned', 'awaiting_approval', 'running'];

export type VoteOutcome =
  | { kind: 'recorded'; approval: ApprovalRecord; quorum: boolean }
  | { kind: 'refused'; reason: 'not_found' | 'not_pending' | 'expired' | 'already_voted'; approval?: ApprovalRecord };

const AUDIT_RESULTS = ['ok', 'refused', 'error', 'pending', 'approved', 'rejected', 'expired', 'failed', 'succeeded'] as const satisfies readonly AuditEvent['result'][];
const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const satisfies readonly ApprovalStatus[];
const RUN_STATUSES = ['started', 'planned', 'awaiting_approval', 'running', 'succeeded', 'failed', 'rejected', 'expired', 'dry_run', 'nothing_to_do', 'interrupted'] as const satisfies readonly RunRecord['status'][];

/*
 * What an item reads as. z.object drops the keys (pk, sk) and ttl, as stripKeys did; a missing or
 * mistyped field throws StateItemError with the item's key instead of passing a cast.
 */
const auditItem = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  result: z.enum(AUDIT_RESULTS),
  detail: z.optional(z.string()),
  runId: z.optional(z.string()),
});
const approvalItem = z.object({
  id: z.string(),
  runId: z.string(),
  callbackId: z.string(),
  requester: z.string(),
  summary: z.string(),
  required: z.number(),
  approvers: z.array(z.string()),
  status: z.enum(APPROVAL_STATUSES),
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedBy: z.optional(z.string()),
  decidedAt: z.optional(z.string()),
  reason: z.optional(z.string()),
  // Added after approvals were first stored; an older item without it was never flagged, which is what absent means.
  deliveryFailed: z.optional(z.boolean()),
  channel: z.string(),
  ts: z.string(),
});
const runItem = z.object({
  id: z.string(),
  kind: z.string(),
  requester: z.string(),
  commandText: z.string(),
  channel: z.string(),
  ts: z.optional(z.string()),
  status: z.enum(RUN_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  summary: z.optional(z.string()),
  next: z.optional(z.array(z.object({ label: z.string(), command: z.string(), style: z.optional(z.enum(['primary', 'danger'])) }))),
  runner: z.optional(z.string()),
  unsent: z.optional(z.string()),
});
// A field added to a record type must be added to its schema too, or reads would drop it.
const schemasAreComplete: [
  Exclude<keyof AuditEvent, keyof typeof auditItem.shape>,
  Exclude<keyof ApprovalRecord, keyof typeof approvalItem.shape>,
  Exclude<keyof RunRecord, keyof typeof runItem.shape>,
] extends [never, never, never]
  ? true
  : false = true;
void schemasAreComplete;

/** Reads an item with `schema`; an absent optional field stays absent (not a key holding undefined). */
function fromItem<S extends z.ZodMiniType<object>>(schema: S, item: Record<string, unknown>): z.output<S> {
  const parsed = readItem(schema, item, `${String(item['pk'])} / ${String(item['sk'])}`);
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as z.output<S>;
}

const DAY = 24 * 3600;
/** How long a run record (and its index entry) is kept; a claim that must hold for a run's whole life uses it too. */
export const RUN_TTL_SECONDS = 400 * DAY;

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class StateStore {
  readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private ttl(seconds: number): number {
    return Math.floor(this.clock().getTime() / 1000) + seconds;
  }

  /** Creates the table (sandbox and tests only; in AWS the template owns it). */
  static async createTable(client: DynamoDBClient, tableName: string): Promise<void> {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
    } catch (e) {
      if ((e as { name?: string }).name !== 'ResourceInUseException') throw e;
    }
    // A new table is CREATING for a while (seconds in AWS, a timer tick in dynalite): wait for it.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
      if (Date.now() > deadline) throw new Error(`state table ${tableName} is still ${d.Table?.TableStatus} after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Claims an idempotency key: true the first time, false for every repeat within the TTL.
   * A Slack retry or a double submit therefore runs once.
   */
  /** Gives a claim back (the work it guarded never started), so the next try may claim it. */
  async unclaim(key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `IDEM#${key}`, sk: 'IDEM' } }));
  }

  async claim(key: string, ttlSeconds = DAY): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `IDEM#${key}`, sk: 'IDEM', at: this.clock().toISOString(), ttl: this.ttl(ttlSeconds) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async audit(e: Omit<AuditEvent, 'id' | 'at'> & { at?: string }): Promise<AuditEvent> {
    const event: AuditEvent = { ...e, id: newId('a'), at: e.at ?? this.clock().toISOString() };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: 'AUDIT', sk: `${event.at}#${event.id}`, ...event, ttl: this.ttl(400 * DAY) },
      }),
    );
    return event;
  }

  /** The newest `limit` audit events, newest first. */
  async listAudit(limit: number): Promise<AuditEvent[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'AUDIT' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (res.Items ?? []).map((i): AuditEvent => fromItem(auditItem, i));
  }

  async putApproval(a: ApprovalRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `APPROVAL#${a.id}`, sk: 'APPROVAL', ...a, ttl: this.ttl(90 * DAY) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getApproval(id: string): Promise<ApprovalRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `APPROVAL#${id}`, sk: 'APPROVAL' }, ConsistentRead: true }),
    );
    return res.Item ? fromItem(approvalItem, res.Item) : undefined;
  }

  /**
   * Adds one approver's vote with a conditional write: only while pending, unexpired, and not
   * already voted by this user. Concurrent clicks therefore count once each and exactly one of
   * them sees `quorum: true` (the write that moves the status to approved).
   */
  async voteApprove(id: string, user: string): Promise<VoteOutcome> {
    const now = this.clock().toISOString();
    let updated: ApprovalRecord;
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `APPROVAL#${id}`, sk: 'APPROVAL' },
          UpdateExpression: 'SET approvers = list_append(approvers, :me)',
          // The size bound stops a late concurrent click from adding a vote past the quorum.
          ConditionExpression: 'attribute_exists(pk) AND #s = :pending AND expiresAt > :now AND NOT contains(approvers, :user) AND size(approvers) < required',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':me': [user], ':pending': 'pending', ':now': now, ':user': user },
          ReturnValues: 'ALL_NEW',
        }),
      );
      updated = fromItem(approvalItem, res.Attributes ?? {});
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return this.refusal(id, user, now);
    }
    if (updated.approvers.length < updated.required) return { kind: 'recorded', approval: updated, quorum: false };
    const decided = await this.decide(id, 'approved', user);
    if (!decided) return this.refusal(id, user, now);
    return { kind: 'recorded', approval: decided, quorum: true };
  }

  private async refusal(id: string, user: string, now: string): Promise<VoteOutcome> {
    const current = await this.getApproval(id);
    if (!current) return { kind: 'refused', reason: 'not_found' };
    if (current.status !== 'pending') return { kind: 'refused', reason: 'not_pending', approval: current };
    if (current.expiresAt <= now) return { kind: 'refused', reason: 'expired', approval: current };
    if (current.approvers.includes(user) && current.approvers.length < current.required) return { kind: 'refused', reason: 'already_voted', approval: current };
    // The quorum is full and its decision is being written by the click that completed it.
    return { kind: 'refused', reason: 'not_pending', approval: current };
  }

  /**
   * Moves a pending approval to a final status. Returns the record if this call made the
   * decision, undefined if another call already had (exactly one caller wins).
   */
  async decide(id: string, status: Exclude<ApprovalStatus, 'pending'>, user: string, reason?: string): Promise<ApprovalRecord | undefined> {
    const now = this.clock().toISOString();
    const notExpired = status === 'expired' ? '' : ' AND expiresAt > :now';
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `APPROVAL#${id}`, sk: 'APPROVAL' },
          UpdateExpression: 'SET #s = :status, decidedBy = :user, decidedAt = :now' + (reason ? ', reason = :reason' : ''),
          ConditionExpression: `attribute_exists(pk) AND #s = :pending${notExpired}`,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':user': user,
            ':now': now,
            ':pending': 'pending',
            ...(reason ? { ':reason': reason } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(approvalItem, res.Attributes ?? {});
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  /** Records that an approved decision did not reach its run, so a later click may deliver it. */
  async markDeliveryFailed(id: string, failed = true): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `APPROVAL#${id}`, sk: 'APPROVAL' },
        UpdateExpression: 'SET deliveryFailed = :f',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':f': failed },
      }),
    );
  }

  /** Takes the job of redelivering a failed decision: true for exactly one caller. */
  async claimRedelivery(id: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `APPROVAL#${id}`, sk: 'APPROVAL' },
          UpdateExpression: 'SET deliveryFailed = :f',
          ConditionExpression: 'deliveryFailed = :t AND #s = :approved',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':f': false, ':t': true, ':approved': 'approved' },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async putRun(r: RunRecord): Promise<void> {
    // The index entry first: one without its run is skipped when listed; a run without its entry would be lost to /dr runs.
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: 'RUNS', sk: `${r.createdAt}#${r.id}`, id: r.id, ttl: this.ttl(RUN_TTL_SECONDS) } }));
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: `RUN#${r.id}`, sk: 'RUN', ...r, ttl: this.ttl(RUN_TTL_SECONDS) } }),
    );
  }

  /** The newest `limit` runs (≤ 100), newest first; with `since`, only runs started at or after it. */
  async listRuns(limit: number, since?: string): Promise<RunRecord[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: since ? 'pk = :pk AND sk >= :since' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'RUNS', ...(since ? { ':since': since } : {}) },
        ScanIndexForward: false,
        Limit: Math.min(100, Math.max(1, limit)),
      }),
    );
    const ids = (res.Items ?? []).map((i) => String(i['id']));
    const runs = await Promise.all(ids.map((id) => this.getRun(id)));
    return runs.filter((r): r is RunRecord => r !== undefined);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `RUN#${id}`, sk: 'RUN' }, ConsistentRead: true }));
    return res.Item ? fromItem(runItem, res.Item) : undefined;
  }

  /**
   * Sets the given fields (`unsent: null` removes it). With `onlyIf`, only while the run's status is
   * one of those (false when it was not): recovery never overwrites a run that ended meanwhile.
   */
  async updateRun(
    id: string,
    patch: Partial<Pick<RunRecord, 'status' | 'ts' | 'summary' | 'channel' | 'next'>> & { unsent?: string | null },
    onlyIf?: readonly RunRecord['status'][],
  ): Promise<boolean> {
    const all = Object.entries({ ...patch, updatedAt: this.clock().toISOString() });
    const entries = all.filter(([, v]) => v !== undefined && v !== null);
    const removed = all.filter(([, v]) => v === null).map(([k]) => k);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RUN#${id}`, sk: 'RUN' },
          UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(', ')}${removed.length ? ` REMOVE ${removed.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
          ExpressionAttributeNames: {
            ...Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
            ...Object.fromEntries(removed.map((k, i) => [`#r${i}`, k])),
            ...(onlyIf ? { '#status': 'status' } : {}),
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
            ...(onlyIf ? Object.fromEntries(onlyIf.map((st, i) => [`:s${i}`, st])) : {}),
          },
          ...(onlyIf ? { ConditionExpression: `#status IN (${onlyIf.map((_, i) => `:s${i}`).join(', ')})` } : {}),
        }),
      );
      return true;
    } catch (e) {
      if (onlyIf && isConditionFailure(e)) return false;
      throw e;
    }
  }
}
