import * as z from 'zod/mini';

/*
 * zod/mini: the same validation as zod with a functional API that bundles small, which keeps the
 * Slack function's bundle and cold start close to a bare Bolt app's.
 */

const pattern = (re: RegExp, what: string) => z.string().check(z.regex(re, what));
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
const count = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));
const positive = () => z.int().check(z.positive());

/** A Slack user (U…/W…) or user group (S…) ID. */
const slackPrincipal = pattern(/^[UWS][A-Z0-9]{2,20}$/, 'a Slack user ID (U…/W…) or user-group ID (S…)');
const awsRegion = pattern(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as us-east-1');
const bucketName = pattern(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');
const tableName = pattern(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');
const teamId = pattern(/^[TE][A-Z0-9]{2,20}$/, 'a Slack team (workspace) ID such as T0123ABCD');
const channelId = pattern(/^[CGD][A-Z0-9]{2,20}$/, 'a Slack channel ID (C…/G…)');

export const bucketSchema = z.strictObject({
  name: bucketName,
  region: z.optional(awsRegion),
  replica: z.optional(z.strictObject({ bucket: bucketName, region: awsRegion })),
  /** Prefix the runbook archives to Glacier, if any (e.g. results/). */
  archivePrefix: z.optional(text(1, 1024)),
});

export const tableSchema = z.strictObject({
  name: tableName,
  region: z.optional(awsRegion),
});

/** One DNS record a failover points at the launched instances (and a failback points back). */
export const failoverRecordSchema = z.strictObject({
  /** The record's name, e.g. `api.spawn.example.com` (a trailing dot is optional). */
  name: pattern(/^(\*\.)?([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$/, 'a DNS name such as api.example.com'),
  type: z.enum(['A', 'AAAA', 'CNAME']),
  /** The set identifier of a failover, weighted, latency or geo record set (the one to switch). */
  setIdentifier: z.optional(text(1, 128)),
  /** What the record is given: the new instances' private or public IPv4 addresses (A), IPv6 addresses (AAAA), or the first one's public DNS name (CNAME). */
  target: z._default(z.enum(['private-ip', 'public-ip', 'ipv6', 'public-dns']), 'private-ip'),
  ttl: z._default(count(0, 172_800), 60),
  /** Only the instances launched from this tagged image (its Name); all launched instances when unset. */
  image: z.optional(text(1, 128)),
});

/**
 * `/dr failover`: how the workload is launched in the failover region from the newest backup AMIs,
 * and which DNS records are switched to it. Optional: without it failover only reports readiness.
 */
export const failoverSchema = z.strictObject({
  /** The region to fail over to (default: regions.backup). */
  region: z.optional(awsRegion),
  instances: z.strictObject({
    type: pattern(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type such as t3.micro'),
    /** Instances per tagged image. */
    count: z._default(count(1, 20), 1),
    subnetId: z.optional(pattern(/^subnet-[0-9a-f]{8,17}$/, 'a subnet ID (subnet-…)')),
    securityGroupIds: z.optional(z.array(pattern(/^sg-[0-9a-f]{8,17}$/, 'a security group ID (sg-…)')).check(z.maxLength(5))),
    /** An instance profile name or ARN. */
    instanceProfile: z.optional(pattern(/^(arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]{1,128}|[\w+=,.@-]{1,128})$/, 'an instance profile name or ARN')),
    /** Tags of every launched instance (drbot adds Name, drbot-failover and source-ami). */
    tags: z._default(z.record(pattern(/^(?!aws:)[\w .:/=+@-]{1,128}$/, 'a tag key (not aws:…)'), text(0, 256)), {}),
  }),
  dns: z.optional(
    z.strictObject({
      /** The hosted zone of the records (default: route53.hostedZoneId). */
      hostedZoneId: z.optional(pattern(/^(\/hostedzone\/)?[A-Z0-9]{2,32}$/, 'a hosted zone ID such as Z123ABC')),
      records: z.array(failoverRecordSchema).check(z.minLength(1), z.maxLength(50)),
    }),
  ),
});

const SCHEDULE = { noncurrentVersionDays: 90, pitrDays: 35, onDemandBackupMaxAgeHours: 24, amiBackupDays: 7, iamExportDays: 1, route53ExportDays: 7 };

/** The runbook's retention: AMI copies 30 days, IAM exports 90, Route53 forever, DynamoDB on-demand backups 35, Lambda all versions. */
const RETENTION: { amiCopyDays: number; iamExportDays: number; route53ExportDays: number | 'forever'; dynamodbBackupDays: number; lambdaVersions: number | 'all' } = {
  amiCopyDays: 30,
  iamExportDays: 90,
  route53ExportDays: 'forever',
  dynamodbBackupDays: 35,
  lambdaVersions: 'all',
};

export const configSchema = z.strictObject({
  name: z._default(text(1, 64), 'spawn'),
  regions: z.strictObject({ primary: awsRegion, backup: awsRegion }),
  objectives: z._default(
    z.strictObject({ rpoMinutes: z._default(positive(), 5), rtoMinutes: z._default(positive(), 60) }),
    { rpoMinutes: 5, rtoMinutes: 60 },
  ),
  schedule: z._default(
    z.strictObject({
      noncurrentVersionDays: z._default(positive(), SCHEDULE.noncurrentVersionDays),
      pitrDays: z._default(positive(), SCHEDULE.pitrDays),
      onDemandBackupMaxAgeHours: z._default(positive(), SCHEDULE.onDemandBackupMaxAgeHours),
      amiBackupDays: z._default(positive(), SCHEDULE.amiBackupDays),
      iamExportDays: z._default(positive(), SCHEDULE.iamExportDays),
      route53ExportDays: z._default(positive(), SCHEDULE.route53ExportDays),
    }),
    SCHEDULE,
  ),
  /** How long drbot keeps what it created (the runbook's Backup Schedule); pruning always keeps the newest good copy. */
  retention: z._default(
    z.strictObject({
      amiCopyDays: z._default(positive(), RETENTION.amiCopyDays),
      iamExportDays: z._default(positive(), RETENTION.iamExportDays),
      route53ExportDays: z._default(z.union([positive(), z.literal('forever')]), RETENTION.route53ExportDays),
      dynamodbBackupDays: z._default(positive(), RETENTION.dynamodbBackupDays),
      /**
       * Stored Lambda versions (`lambda/<function>/<version>/` in the backup bucket): `all` keeps every
       * one (the runbook); a number of days prunes those stored longer ago, always keeping the newest
       * version and any version an alias points at.
       */
      lambdaVersions: z._default(z.union([positive(), z.literal('all')]), RETENTION.lambdaVersions),
    }),
    RETENTION,
  ),
  s3: z.strictObject({ buckets: z.array(bucketSchema).check(z.maxLength(500)) }),
  dynamodb: z.strictObject({
    tables: z.array(tableSchema).check(z.maxLength(500)),
    /**
     * How long `/dr restore dynamodb` waits for the new table to be ACTIVE before it says where the
     * restore stands and stops waiting (12 when unset). A restore's time depends on the data, not
     * only its size: a large table may need longer. At most 20: a run's steps have 24 h after the
     * approval (config/execution.ts), and its lock on the table as long; the re-apply and the
     * comparison come after the wait.
     */
    restoreWaitHours: z.optional(count(1, 20)),
  }),
  ami: z._default(z.strictObject({ tagKey: z._default(text(1, 128), 'spawn'), tagValue: z._default(text(1, 256), 'true') }), { tagKey: 'spawn', tagValue: 'true' }),
  lambda: z._default(
    z.strictObject({
      functions: z.array(pattern(/^[A-Za-z0-9_-]{1,64}$/, 'a Lambda function name')).check(z.maxLength(200)),
      alias: z._default(pattern(/^[A-Za-z0-9_-]{1,128}$/, 'a Lambda alias name'), 'production'),
    }),
    { functions: [], alias: 'production' },
  ),
  iam: z._default(z.strictObject({ rolePrefix: z._default(text(1, 64), 'spawn') }), { rolePrefix: 'spawn' }),
  route53: z.optional(z.strictObject({ hostedZoneId: pattern(/^(\/hostedzone\/)?[A-Z0-9]{2,32}$/, 'a hosted zone ID such as Z123ABC') })),
  backupBucket: z.optional(bucketName),
  /** The monthly drill (`/dr drill`), optional: the subnet its instance starts in (else the default VPC's), and the table it restores from PITR (else the first with PITR on). */
  drill: z.optional(
    z.strictObject({
      subnetId: z.optional(pattern(/^subnet-[0-9a-f]{8,17}$/, 'a subnet ID such as subnet-0abc1234')),
      table: z.optional(tableName),
    }),
  ),
  failover: z.optional(failoverSchema),
  slack: z.strictObject({
    /** The workspace drbot serves: commands and clicks from any other team are refused. */
    teamId: z.optional(teamId),
    channels: z.strictObject({
      /** Where runbook messages go when a command did not come from a channel. */
      ops: channelId,
      alerts: channelId,
      critical: z.optional(channelId),
    }),
    roles: z.strictObject({
      viewer: z._default(z.array(slackPrincipal), []),
      operator: z._default(z.array(slackPrincipal), []),
      approver: z._default(z.array(slackPrincipal), []),
    }),
  }),
  approvals: z._default(z.strictObject({ required: z._default(count(1, 5), 1), expiresMinutes: z._default(count(1, 24 * 60), 30) }), { required: 1, expiresMinutes: 30 }),
});

export type DrConfig = z.infer<typeof configSchema>;
export type BucketConfig = z.infer<typeof bucketSchema>;
export type TableConfig = z.infer<typeof tableSchema>;
export type FailoverConfig = z.infer<typeof failoverSchema>;
export type FailoverRecord = z.infer<typeof failoverRecordSchema>;
export type Role = keyof DrConfig['slack']['roles'];
