import { PutCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { wrapAws } from '../errors';
import { readItem } from './item';

/**
 * The drills' reports in the state table, kept for `/dr drill history`:
 *   DRILLS / <iso time of the request>#<run id>   one report a drill, newest last
 * A report holds each component's measured time against its objective, whether the run got
 * through its steps, and what its clean-up removed (or kept, with --keep).
 */

export interface DrillMeasure {
  /** `compute`, `s3:<bucket>`, `dynamodb:<table>`, `restore:<table>`. */
  component: string;
  /** RTO: time to a usable copy; RPO: the replication lag measured. */
  kind: 'rto' | 'rpo';
  /** Measured seconds; absent when not measured (no replica, a failed step). */
  seconds?: number;
  objectiveMinutes: number;
  /** pass / fail against the objective; `none` when not measured. */
  result: 'pass' | 'fail' | 'none';
  note?: string;
}

export interface DrillReport {
  runId: string;
  at: string;
  /** Every step and the clean-up went through. */
  ok: boolean;
  scheduled: boolean;
  measures: DrillMeasure[];
  failures: number;
  /** What the clean-up removed, in words; `kept` with --keep. */
  cleanup: 'removed' | 'kept' | 'incomplete';
}

const measureSchema = z.object({
  component: z.string(),
  kind: z.enum(['rto', 'rpo']),
  seconds: z.optional(z.number()),
  objectiveMinutes: z.number(),
  result: z.enum(['pass', 'fail', 'none']),
  note: z.optional(z.string()),
});
const reportSchema = z.object({
  runId: z.string(),
  at: z.string(),
  ok: z.boolean(),
  scheduled: z.boolean(),
  measures: z.array(measureSchema),
  failures: z.number(),
  cleanup: z.enum(['removed', 'kept', 'incomplete']),
});

const PK = 'DRILLS';
const DAY = 86_400;

export class DrillStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Keeps a report (a replayed step writes the same item again). Two years, like the drills' trend. */
  async put(r: DrillReport, now: Date): Promise<void> {
    await this.doc
      .send(new PutCommand({ TableName: this.table, Item: { pk: PK, sk: `${r.at}#${r.runId}`, ...r, ttl: Math.floor(now.getTime() / 1000) + 730 * DAY } }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'PutItem', this.table);
      });
  }

  /** The newest `limit` reports, newest first. */
  async list(limit: number): Promise<DrillReport[]> {
    const r = await this.doc
      .send(new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': PK }, ScanIndexForward: false, Limit: limit }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'Query', this.table);
      });
    return (r.Items ?? []).map((i) => {
      const parsed = readItem(reportSchema, i, `${PK} / ${String(i['sk'])}`);
      return { ...parsed, measures: parsed.measures.map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as unknown as DrillMeasure) };
    });
  }
}
