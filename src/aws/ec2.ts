import type { DescribeImagesCommandInput, DescribeImagesCommandOutput, EC2Client, Image } from '@aws-sdk/client-ec2';
import { wrapAws } from '../errors';
import { ec2Sdk } from './ec2-sdk';

/** Every page of DescribeImages for the given filters (NextToken honoured). */
export async function describeAllImages(ec2: EC2Client, input: DescribeImagesCommandInput, what: string): Promise<Image[]> {
  const out: Image[] = [];
  let token: string | undefined;
  do {
    // MaxResults and ImageIds cannot go together.
    const page: DescribeImagesCommandOutput = await ec2
      .send(new (ec2Sdk().DescribeImagesCommand)({ ...input, ...(input.ImageIds ? {} : { MaxResults: 1000 }), ...(token ? { NextToken: token } : {}) }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'DescribeImages', what);
      });
    out.push(...(page.Images ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

export const tagOf = (image: Image, key: string): string | undefined => image.Tags?.find((t) => t.Key === key)?.Value;

/** The account's own images carrying a tag, in one region. */
export function taggedImages(ec2: EC2Client, key: string, value: string, region: string): Promise<Image[]> {
  return describeAllImages(ec2, { Owners: ['self'], Filters: [{ Name: `tag:${key}`, Values: [value] }] }, `images tagged ${key}=${value} in ${region}`);
}

/** The backup copies drbot made (tagged backup=true), in the backup region. */
export function backupCopies(ec2: EC2Client, region: string): Promise<Image[]> {
  return describeAllImages(ec2, { Owners: ['self'], Filters: [{ Name: 'tag:backup', Values: ['true'] }] }, `backup copies in ${region}`);
}
