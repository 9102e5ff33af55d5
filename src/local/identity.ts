import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AwsClients } from '../aws/clients';
import { DrbotError, isErrorLike } from '../errors';

/** Whom `--aws` mode acts as, checked once at start. */
export interface AwsIdentity {
  account: string;
  arn: string;
  region: string;
  /** AWS_ENDPOINT_URL when set (an AWS-compatible endpoint), else real AWS. */
  endpoint?: string;
}

const CREDENTIAL_ERRORS = ['CredentialsProviderError', 'ProviderError', 'InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredToken', 'ExpiredTokenException', 'SignatureDoesNotMatch'];

/** Where the endpoint is, in words: `http://127.0.0.1:4566` or "AWS". */
export function endpointLabel(endpoint: string | undefined, region: string): string {
  return endpoint ? endpoint : `AWS (${region})`;
}

/** A network failure's own words, without a stack: `connect ECONNREFUSED 127.0.0.1:1`. */
export function reason(e: unknown): string {
  if (!isErrorLike(e)) return String(e);
  const code = (e as { code?: unknown }).code;
  const msg = e.message || (typeof code === 'string' ? code : e.name);
  return msg.split('\n')[0] ?? msg;
}

/**
 * `sts:GetCallerIdentity` once, before anything else touches AWS: with no credentials every
 * command would otherwise fail its own way ("Could not load credentials" on every status row).
 */
export async function checkAwsIdentity(clients: AwsClients): Promise<AwsIdentity> {
  const endpoint = clients.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const region = clients.defaultRegion;
  const where = endpointLabel(endpoint, region);
  try {
    const id = await clients.sts().send(new GetCallerIdentityCommand({}));
    return { account: id.Account ?? 'unknown', arn: id.Arn ?? 'unknown', region, ...(endpoint ? { endpoint } : {}) };
  } catch (e) {
    const name = isErrorLike(e) ? e.name : '';
    if (CREDENTIAL_ERRORS.includes(name) || /credential/i.test(reason(e))) {
      throw new DrbotError(
        'aws_credentials',
        `No usable AWS credentials for ${where}: ${reason(e)}`,
        'Set them the usual way (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or `aws sso login`), then start again.\nTo try drbot without AWS, run `npm start` with no --aws: it uses a local sandbox.',
      );
    }
    throw new DrbotError(
      'aws_unreachable',
      `Could not reach ${where} to check the credentials (sts:GetCallerIdentity): ${reason(e)}`,
      endpoint ? 'Check that the endpoint in AWS_ENDPOINT_URL is running and reachable, or unset it to use AWS.' : 'Check the network and the region, then start again.',
    );
  }
}
