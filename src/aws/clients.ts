import { BackupClient } from '@aws-sdk/client-backup';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { ec2Sdk } from './ec2-sdk';

export interface AwsClientOptions {
  /** An AWS-compatible endpoint (moto in the sandbox); unset means real AWS. */
  endpoint?: string;
  /** Static credentials (the sandbox); unset means the default credential chain. */
  credentials?: AwsCredentialIdentity;
  maxAttempts?: number;
  /** Called once with each client made (the sandbox adds its simulated outage here); never set against real AWS. */
  onClient?: (client: unknown, service: string, region: string) => void;
}

/**
 * One SDK client per service and region, created on first use and kept for the life of the
 * process (a Lambda cold start). Adapters take clients from here; nothing else builds clients.
 */
export class AwsClients {
  private readonly cache = new Map<string, unknown>();

  constructor(
    readonly defaultRegion: string,
    private readonly options: AwsClientOptions = {},
  ) {}

  get endpoint(): string | undefined {
    return this.options.endpoint;
  }

  private base(region: string) {
    return {
      region,
      maxAttempts: this.options.maxAttempts ?? 5,
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
    };
  }

  private get<T>(key: string, make: () => T): T {
    let c = this.cache.get(key) as T | undefined;
    if (!c) {
      c = make();
      this.cache.set(key, c);
      const [service = '', region = ''] = key.split(':');
      this.options.onClient?.(c, service, region);
    }
    return c;
  }

  s3(region = this.defaultRegion): S3Client {
    return this.get(`s3:${region}`, () => new S3Client({ ...this.base(region), forcePathStyle: Boolean(this.options.endpoint) }));
  }

  dynamodb(region = this.defaultRegion): DynamoDBClient {
    return this.get(`ddb:${region}`, () => new DynamoDBClient(this.base(region)));
  }

  ec2(region = this.defaultRegion): EC2Client {
    return this.get(`ec2:${region}`, () => new (ec2Sdk().EC2Client)(this.base(region)));
  }

  lambda(region = this.defaultRegion): LambdaClient {
    return this.get(`lambda:${region}`, () => new LambdaClient(this.base(region)));
  }

  /** IAM is global; its client is signed for the given (default: primary) region. */
  iam(region = this.defaultRegion): IAMClient {
    return this.get(`iam:${region}`, () => new IAMClient(this.base(region)));
  }

  /** Who the credentials are (GetCallerIdentity); few attempts, as it only checks at start. */
  sts(region = this.defaultRegion): STSClient {
    return this.get(`sts:${region}`, () => new STSClient({ ...this.base(region), maxAttempts: 2 }));
  }

  backup(region = this.defaultRegion): BackupClient {
    return this.get(`backup:${region}`, () => new BackupClient(this.base(region)));
  }

  /** Route53 is global; its client is signed for the given (default: primary) region. */
  route53(region = this.defaultRegion): Route53Client {
    return this.get(`r53:${region}`, () => new Route53Client(this.base(region)));
  }

  cloudwatch(region = this.defaultRegion): CloudWatchClient {
    return this.get(`cw:${region}`, () => new CloudWatchClient(this.base(region)));
  }

  /** CloudTrail's event history (LookupEvents) is kept per region. */
  cloudtrail(region = this.defaultRegion): CloudTrailClient {
    return this.get(`ct:${region}`, () => new CloudTrailClient(this.base(region)));
  }

  secretsManager(region = this.defaultRegion): SecretsManagerClient {
    return this.get(`sm:${region}`, () => new SecretsManagerClient(this.base(region)));
  }
}
