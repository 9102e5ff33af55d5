import { createHash } from 'node:crypto';
import {
  type AliasConfiguration,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionCommand,
  type LambdaClient,
  ListAliasesCommand,
  type ListAliasesCommandOutput,
  ListVersionsByFunctionCommand,
  type ListVersionsByFunctionCommandOutput,
  UpdateAliasCommand,
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

/** One alias with its version, routing and revision; a missing alias is said in words. */
export async function getAlias(lambda: LambdaClient, fn: string, alias: string): Promise<AliasConfiguration> {
  return lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias })).catch((e: unknown) => {
    if ((e as { name?: string }).name === 'ResourceNotFoundException' && /alias/i.test((e as Error).message ?? '')) {
      throw new DrbotError('unknown_alias', `\`${fn}\` has no alias \`${alias}\`.`, 'Create the alias in Lambda, or set `lambda.alias` in the drbot config to the alias the function is called through.');
    }
    throw wrapAws(e, 'GetAlias', `${fn}:${alias}`);
  });
}

/** A version's share of an alias's traffic besides its main version: `{ "2": 0.1 }`; empty clears the routing. */
export type VersionWeights = Record<string, number>;

/** The additional versions an alias routes to (none: an empty object). */
export function weightsOf(a: AliasConfiguration): VersionWeights {
  return { ...(a.RoutingConfig?.AdditionalVersionWeights ?? {}) };
}

/**
 * Points an alias at a version with the given routing (`{}` clears it). With the revision the plan
 * read, AWS refuses the update if the alias changed since (PreconditionFailedException), which is
 * said as `alias_changed` so the caller can check whether the change was its own.
 */
export async function updateAlias(lambda: LambdaClient, fn: string, alias: string, version: string, weights: VersionWeights, revisionId?: string): Promise<AliasConfiguration> {
  return lambda
    .send(new UpdateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights }, ...(revisionId ? { RevisionId: revisionId } : {}) }))
    .catch((e: unknown) => {
      if ((e as { name?: string }).name === 'PreconditionFailedException') {
        throw new DrbotError('alias_changed', `The alias \`${alias}\` of \`${fn}\` changed after the plan was made.`, 'Someone else moved it; run the command again to plan from its current state.');
      }
      throw wrapAws(e, 'UpdateAlias', `${fn}:${alias}`);
    });
}
