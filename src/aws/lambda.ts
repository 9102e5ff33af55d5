import { createHash } from 'node:crypto';
import {
  type AliasConfiguration,
  type FunctionConfiguration,
  GetFunctionCommand,
  type LambdaClient,
  ListAliasesCommand,
  type ListAliasesCommandOutput,
  ListVersionsByFunctionCommand,
  type ListVersionsByFunctionCommandOutput,
} from '@aws-sdk/client-lambda';
import { DrbotError, wrapAws } from '../errors';

/**
 * Downloads a Lambda code package from the presigned URL GetFunction returns (`Code.Location`).
 * A port: real AWS uses HTTPS; moto's location is not downloadable, so the sandbox and tests hand
 * in their own.
 */
export type CodeFetcher = (location: string, codeSha256: string) => Promise<Uint8Array>;

/** The code package over HTTPS (a presigned S3 URL, valid for 10 minutes). */
export const httpCodeFetcher: CodeFetcher = async (location) => {
  const res = await fetch(location, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new DrbotError('code_download_failed', `Downloading the code package failed: HTTP ${res.status}.`, 'Check that the bot may call lambda:GetFunction and that the URL is reachable from the runbook function.');
  return new Uint8Array(await res.arrayBuffer());
};

/** Lambda's CodeSha256: base64 of the package's SHA-256. */
export const lambdaSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64');

/** Every version of a function ($LATEST first, as Lambda lists it), page by page. */
export async function listVersions(lambda: LambdaClient, fn: string): Promise<FunctionConfiguration[]> {
  const out: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page: ListVersionsByFunctionCommandOutput = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: fn, MaxItems: 50, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListVersionsByFunction', fn);
    });
    out.push(...(page.Versions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return out;
}

/** Every alias of a function with its routing, page by page. */
export async function listAliases(lambda: LambdaClient, fn: string): Promise<AliasConfiguration[]> {
  const out: AliasConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page: ListAliasesCommandOutput = await lambda.send(new ListAliasesCommand({ FunctionName: fn, MaxItems: 50, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw wrapAws(e, 'ListAliases', fn);
    });
    out.push(...(page.Aliases ?? []));
    marker = page.NextMarker;
  } while (marker);
  return out;
}

/** Where one published version's code package can be downloaded from (GetFunction's Code.Location). */
export async function codeLocation(lambda: LambdaClient, fn: string, version: string): Promise<string> {
  const r = await lambda.send(new GetFunctionCommand({ FunctionName: fn, Qualifier: version })).catch((e: unknown) => {
    throw wrapAws(e, 'GetFunction', `${fn}:${version}`);
  });
  const location = r.Code?.Location;
  if (!location) throw new DrbotError('no_code_location', `GetFunction on \`${fn}:${version}\` returned no code location (an image-based function?).`, 'Container-image functions are backed up by their ECR repository, not by drbot.');
  return location;
}
