import { z } from 'zod';

/** A Slack user (U…/W…) or user group (S…) ID. */
const slackPrincipal = z
  .string()
  .regex(/^[UWS][A-Z0-9]{2,20}$/, 'a Slack user ID (U…/W…) or user-group ID (S…)');

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as us-east-1');
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');
const tableName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,20}$/, 'a Slack channel ID (C…/G…)');

export const bucketSchema = z.strictObject({
  name: bucketName,
  region: awsRegion.optional(),
  replica: z
    .strictObject({
      bucket: bucketName,
      region: awsRegion,
    })
    .optional(),
  /** Prefix the runbook archives to Glacier, if any (e.g. results/). */
  archivePrefix: z.string().max(1024).optional(),
});

export const tableSchema = z.strictObject({
  name: tableName,
  region: awsRegion.optional(),
});

export const configSchema = z.strictObject({
  name: z.string().min(1).max(64).default('spawn'),
  regions: z.strictObject({
    primary: awsRegion,
    backup: awsRegion,
  }),
  objectives: z
    .strictObject({
      rpoMinutes: z.number().int().positive().default(5),
      rtoMinutes: z.number().int().positive().default(60),
    })
    .default({ rpoMinutes: 5, rtoMinutes: 60 }),
  schedule: z
    .strictObject({
      noncurrentVersionDays: z.number().int().positive().default(90),
      pitrDays: z.number().int().positive().default(35),
      onDemandBackupMaxAgeHours: z.number().int().positive().default(24),
      amiBackupDays: z.number().int().positive().default(7),
      iamExportDays: z.number().int().positive().default(1),
      route53ExportDays: z.number().int().positive().default(7),
    })
    .default({
      noncurrentVersionDays: 90,
      pitrDays: 35,
      onDemandBackupMaxAgeHours: 24,
      amiBackupDays: 7,
      iamExportDays: 1,
      route53ExportDays: 7,
    }),
  s3: z.strictObject({
    buckets: z.array(bucketSchema).max(500),
  }),
  dynamodb: z.strictObject({
    tables: z.array(tableSchema).max(500),
  }),
  ami: z
    .strictObject({
      tagKey: z.string().min(1).max(128).default('spawn'),
      tagValue: z.string().min(1).max(256).default('true'),
    })
    .default({ tagKey: 'spawn', tagValue: 'true' }),
  lambda: z
    .strictObject({
      functions: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a Lambda function name')).max(200),
      alias: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).default('production'),
    })
    .default({ functions: [], alias: 'production' }),
  iam: z
    .strictObject({ rolePrefix: z.string().min(1).max(64).default('spawn') })
    .default({ rolePrefix: 'spawn' }),
  route53: z
    .strictObject({ hostedZoneId: z.string().regex(/^(\/hostedzone\/)?Z[A-Z0-9]{1,32}$/, 'a hosted zone ID such as Z123ABC') })
    .optional(),
  backupBucket: bucketName.optional(),
  slack: z.strictObject({
    channels: z.strictObject({
      /** Where runbook messages go when a command did not come from a channel. */
      ops: channelId,
      alerts: channelId,
      critical: channelId.optional(),
    }),
    roles: z.strictObject({
      viewer: z.array(slackPrincipal).default([]),
      operator: z.array(slackPrincipal).default([]),
      approver: z.array(slackPrincipal).default([]),
    }),
  }),
  approvals: z
    .strictObject({
      required: z.number().int().min(1).max(5).default(1),
      expiresMinutes: z.number().int().min(1).max(24 * 60).default(30),
    })
    .default({ required: 1, expiresMinutes: 30 }),
});

export type DrConfig = z.infer<typeof configSchema>;
export type BucketConfig = z.infer<typeof bucketSchema>;
export type TableConfig = z.infer<typeof tableSchema>;
export type Role = keyof DrConfig['slack']['roles'];
