import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { wrapAws } from '../errors';

/**
 * One destructive run per resource: a lease item per bucket, table, zone, role, function or region
 * in the state table (`LEASE#<resource>` / `LEASE`). Taken by a conditional write (free, expired,
 * or already this run's: a replayed step takes it again), released by its holder only, and
 * expiring with the run's longest life, so a run that died without releasing it frees it too.
 */

export interface LeaseHolder {
  runId: string;
  /** Where the holder's message is, to link to it. */
  channel: string;
  ts: string;
  until: number;
}

const holderSchema = z.object({ runId: z.string(), channel: z.string(), ts: z.string(), until: z.number() });

export type LeaseResult = { ok: true } | { ok: false; holder: LeaseHolder };

const SK = 'LEASE';
const key = (resource: string) => ({ pk: `LEASE#${resource}`, sk: SK });

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as { name?: unknown })?.name === 'ConditionalCheckFailedException';
}

export class Leases {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The run holding a resource now, if any (an expired lease is nobody's). */
  async holder(resource: string, now: Date): Promise<LeaseHolder | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: key(resource), ConsistentRead: true })).catch((e: unknown) => {
      throw wrapAws(e, 'GetItem', `${this.table} LEASE#${resource}`);
    });
    if (!r.Item) return undefined;
    const parsed = holderSchema.safeParse(r.Item);
    if (!parsed.success) throw new Error(`state table item LEASE#${resource} is not a lease: ${parsed.error.message}`);
    return parsed.data.until > now.getTime() ? parsed.data : undefined;
  }

  async acquire(resource: string, holder: LeaseHolder, now: Date): Promise<LeaseResult> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key(resource), ...holder, ttl: Math.ceil(holder.until / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR runId = :run',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now.getTime(), ':run': holder.runId },
        }),
      );
      return { ok: true };
    } catch (e) {
      if (!isConditionFailure(e)) throw wrapAws(e, 'PutItem', `${this.table} LEASE#${resource}`);
      const current = await this.holder(resource, now);
      // Released or expired between the write and the read: try once more.
      if (!current) return this.acquire(resource, holder, now);
      return { ok: false, holder: current };
    }
  }

  /** Frees the resource if this run holds it; a lease someone else took since is left alone. */
  async release(resource: string, runId: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: key(resource), ConditionExpression: 'runId = :run', ExpressionAttributeValues: { ':run': runId } }));
    } catch (e) {
      if (!isConditionFailure(e)) throw wrapAws(e, 'DeleteItem', `${this.table} LEASE#${resource}`);
    }
  }
}
