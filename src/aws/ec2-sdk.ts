import type * as Ec2Sdk from '@aws-sdk/client-ec2';

/**
 * The EC2 SDK, loaded on first use. At 2 MB it is the largest client by far (~0.4 s to load, on a
 * Lambda cold start as in each test file), and most runs never call EC2: the modules a run of any
 * verb loads take EC2 from here; the EC2 runbooks (AMIs, drill, failover) import it as usual.
 */
export function ec2Sdk(): typeof Ec2Sdk {
  return require('@aws-sdk/client-ec2') as typeof Ec2Sdk;
}
