import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { FailoverRecord } from '../../config/schema';
import type { StateStore } from '../../store/state';

/**
 * The current failover, kept in drbot's state table (`FAILOVER` / `CURRENT`): which run switched
 * which records from what to what, and which instances it launched. It is written before the DNS
 * switch (so a switch that fails halfway can still be reversed) and read by `/dr failback`.
 */
export interface FailoverState {
  runId: string;
  target: string;
  primary: string;
  zoneId?: string;
  /** When the records were switched (or the switch began). */
  at: string;
  /** Each configured record as it was before the switch (`set` absent: it was not in the zone). */
  before: { record: FailoverRecord; set?: ResourceRecordSet }[];
  /** The record sets the failover wrote. */
  after: ResourceRecordSet[];
  /** The instances the failover launched (also tagged `drbot-failover=<runId>`). */
  instances: string[];
  /** launched: instances up, DNS untouched; switching: records kept, switch begun; failed-over: switched and verified. */
  status: 'launched' | 'switching' | 'failed-over' | 'failed-back';
  failback?: { runId: string; at: string };
}

/** The one item the failover state is kept in. */
export const FAILOVER_STATE_KEY = { pk: 'FAILOVER', sk: 'CURRENT' };

export async function getFailoverState(store: StateStore): Promise<FailoverState | undefined> {
  const r = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: FAILOVER_STATE_KEY, ConsistentRead: true }));
  const data = r.Item?.['data'];
  return typeof data === 'string' ? (JSON.parse(data) as FailoverState) : undefined;
}

/** Stored as one JSON string: record sets keep their exact shape (no marshalling of optional fields). */
export async function putFailoverState(store: StateStore, s: FailoverState): Promise<void> {
  await store.doc.send(new PutCommand({ TableName: store.tableName, Item: { ...FAILOVER_STATE_KEY, data: JSON.stringify(s), runId: s.runId, status: s.status } }));
}
