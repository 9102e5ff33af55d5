import type { GetBucketReplicationCommandOutput, ReplicationRule } from '@aws-sdk/client-s3';
import type { MiddlewareStack } from '@smithy/types';

/**
 * moto answers GetBucketReplication with `DeleteMarkerReplication: Disabled` whatever was put
 * (moto/s3/responses.py, get_bucket_replication); AWS returns what was put. This puts back, from
 * the last PutBucketReplication of the same rule ID, that one field and nothing else, so the
 * read-back checks everything moto does keep (role, destination, RTC, metrics).
 */
export function motoKeepsDeleteMarkerReplication<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): void {
  const written = new Map<string, ReplicationRule[]>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; ReplicationConfiguration?: { Rules?: ReplicationRule[] } };
      if (context.commandName === 'PutBucketReplicationCommand') written.set(input.Bucket ?? '', input.ReplicationConfiguration?.Rules ?? []);
      const out = await next(args);
      if (context.commandName === 'GetBucketReplicationCommand') {
        for (const rule of (out.output as GetBucketReplicationCommandOutput).ReplicationConfiguration?.Rules ?? []) {
          const put = written.get(input.Bucket ?? '')?.find((r) => r.ID === rule.ID);
          if (put?.DeleteMarkerReplication) rule.DeleteMarkerReplication = put.DeleteMarkerReplication;
        }
      }
      return out;
    },
    { step: 'initialize', name: 'moto-delete-marker-replication' },
  );
}

/**
 * One S3 replication rule to `destination` as PutBucketReplication takes it: enabled, with RTC,
 * metrics and delete-marker replication unless told otherwise (the set-up the runbook asks for).
 */
export function replicationRule(destination: string, over: { id?: string; enabled?: boolean; rtc?: boolean; metrics?: boolean; deleteMarkers?: boolean } = {}): ReplicationRule {
  const { id = 'replication', enabled = true, rtc = true, metrics = true, deleteMarkers = true } = over;
  return {
    ID: id,
    Priority: 1,
    Status: enabled ? 'Enabled' : 'Disabled',
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: deleteMarkers ? 'Enabled' : 'Disabled' },
    Destination: {
      Bucket: `arn:aws:s3:::${destination}`,
      ...(rtc ? { ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } } } : {}),
      ...(metrics ? { Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } } } : {}),
    },
  };
}
