import { type CloudTrailClient, type Event, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { wrapAws } from '../errors';

/*
 * CloudTrail's event history (LookupEvents): 90 days of management events per region, one lookup
 * attribute a call, at most 50 events a page, and at most 2 calls a second per account and region
 * (AWS's limit; the caller paces the pages, see src/runbooks/compromise/runbook.ts).
 */

/** LookupEvents' page size limit. */
export const LOOKUP_PAGE_SIZE = 50;
/** LookupEvents' rate limit per account and region. */
export const LOOKUP_CALLS_PER_SECOND = 2;

export type LookupAttribute = { key: 'Username' | 'AccessKeyId'; value: string };

/**
 * One event as drbot keeps it: only the fields the report needs, copied one by one out of the
 * event and its CloudTrailEvent JSON (never the raw JSON: request and response elements may carry
 * anything, and this is checkpointed).
 */
export interface TrailEvent {
  id: string;
  name: string;
  /** ISO time. */
  time: string;
  source: string;
  region: string;
  readOnly: boolean;
  ip: string;
  agent: string;
  user: string;
  accessKeyId: string;
  errorCode?: string;
  /** RunInstances: the instances it launched (responseElements.instancesSet.items[].instanceId). */
  instanceIds?: string[];
  /** IAM writes: what was changed (requestParameters userName / roleName / policyArn / groupName). */
  target?: string;
}

const str = (v: unknown, max = 200): string => (typeof v === 'string' ? v.slice(0, max) : '');

function parseDetail(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** The event, reduced to TrailEvent. */
export function compactEvent(e: Event, region: string): TrailEvent {
  const d = parseDetail(e.CloudTrailEvent);
  const identity = (d.userIdentity ?? {}) as Record<string, unknown>;
  const request = (d.requestParameters ?? {}) as Record<string, unknown>;
  const response = (d.responseElements ?? {}) as Record<string, unknown>;
  const name = e.EventName ?? str(d.eventName);
  const source = e.EventSource ?? str(d.eventSource);
  const readOnly = e.ReadOnly !== undefined ? e.ReadOnly === 'true' : d.readOnly === true;
  const out: TrailEvent = {
    id: e.EventId ?? str(d.eventID),
    name: str(name, 100),
    time: (e.EventTime ?? new Date(str(d.eventTime) || 0)).toISOString(),
    source: str(source, 100),
    region: str(d.awsRegion, 30) || region,
    readOnly,
    ip: str(d.sourceIPAddress, 100),
    agent: str(d.userAgent, 200),
    user: e.Username ?? str(identity.userName, 100),
    accessKeyId: e.AccessKeyId ?? str(identity.accessKeyId, 30),
  };
  const errorCode = str(d.errorCode, 100);
  if (errorCode) out.errorCode = errorCode;
  if (name === 'RunInstances' && !errorCode) {
    const items = ((response.instancesSet as { items?: unknown } | undefined)?.items ?? []) as unknown[];
    const ids = items.map((i) => str((i as { instanceId?: unknown })?.instanceId, 30)).filter((i) => INSTANCE_ID.test(i));
    if (ids.length) out.instanceIds = ids.slice(0, 100);
  }
  if (source === 'iam.amazonaws.com' && !readOnly) {
    const target = str(request.userName) || str(request.roleName) || str(request.groupName) || str(request.policyArn) || str(request.policyName);
    if (target) out.target = target;
  }
  return out;
}

export interface LookupPage {
  events: TrailEvent[];
  next?: string;
}

/** One page of LookupEvents for one attribute in one region, between two times. */
export async function lookupPage(ct: CloudTrailClient, region: string, attr: LookupAttribute, start: Date, end: Date, token?: string): Promise<LookupPage> {
  const r = await ct
    .send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: attr.key, AttributeValue: attr.value }],
        StartTime: start,
        EndTime: end,
        MaxResults: LOOKUP_PAGE_SIZE,
        ...(token ? { NextToken: token } : {}),
      }),
    )
    .catch((e: unknown) => {
      throw wrapAws(e, 'cloudtrail:LookupEvents', `${attr.key}=${attr.value} in ${region}`);
    });
  return { events: (r.Events ?? []).map((e) => compactEvent(e, region)), ...(r.NextToken ? { next: r.NextToken } : {}) };
}
