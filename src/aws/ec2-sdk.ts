import type * as Ec2Parts from './ec2-parts';

/**
 * The EC2 SDK, loaded on first use. At 2 MB it is the largest client by far (~0.4 s to load, in a
 * test file as on a cold start), and most runs never call EC2: AwsClients, the AMI helpers and the
 * sandbox's estate and outage code take EC2 from here; the EC2 runbooks (AMIs, drill, failover,
 * failback, compromise) import it as usual, and `npm start` loads it with the sandbox's tools.
 */
export function ec2Sdk(): typeof Ec2Parts {
  return require('./ec2-parts') as typeof Ec2Parts;
}
