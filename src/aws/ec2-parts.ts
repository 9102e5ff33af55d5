/**
 * The parts of the EC2 SDK that code loaded by every verb uses, loaded only through ec2Sdk()
 * (src/aws/ec2-sdk.ts). Named one by one so that a bundle built from the SDK's ES modules keeps
 * only these, as with a static import; a require of the whole package would keep all of it.
 */
export {
  CopyImageCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
