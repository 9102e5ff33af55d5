import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateFunctionCommand, type LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { SANDBOX_LAMBDA_ROLE, storedZip } from '../../src/local/estate';

/** The alias the sandbox config names (`lambda.alias`). */
export const ALIAS = 'production';
export const ROLE_ARN = `arn:aws:iam::123456789012:role/${SANDBOX_LAMBDA_ROLE}`;

/** The execution roles moto needs before it creates a function: the sandbox's and any other named. */
export async function lambdaRoles(iam: IAMClient, names: readonly string[] = [SANDBOX_LAMBDA_ROLE]): Promise<void> {
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  for (const RoleName of names) await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust }));
}

/** A function with `n` published versions (each its own code and description) and the alias on `aliasOn` (default: the newest). */
export async function makeFunction(
  lambda: LambdaClient,
  name: string,
  n: number,
  opts: { aliasOn?: string; routing?: Record<string, number>; alias?: boolean; descriptions?: string[]; roles?: string[] } = {},
): Promise<void> {
  const zip = (v: number) => storedZip('index.js', `exports.handler = async () => ({ fn: ${JSON.stringify(name)}, version: ${v} });\n`);
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: opts.roles?.[0] ?? ROLE_ARN, Code: { ZipFile: zip(1) } }));
  for (let v = 1; v <= n; v++) {
    if (v > 1) await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip(v) }));
    await lambda.send(new PublishVersionCommand({ FunctionName: name, Description: opts.descriptions?.[v - 1] ?? `release ${v} of ${name}` }));
  }
  if (opts.alias === false) return;
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: ALIAS, FunctionVersion: opts.aliasOn ?? String(n), ...(opts.routing ? { RoutingConfig: { AdditionalVersionWeights: opts.routing } } : {}) }));
}

/**
 * The AWS/Lambda Invocations and Errors points Lambda would publish for the alias, per executed
 * version (as for a weighted alias), at `at`. moto records no Lambda metrics of its own.
 */
export async function putInvocations(cw: CloudWatchClient, fn: string, points: Record<string, { invocations: number; errors: number }>, at: Date): Promise<void> {
  const dims = (v: string) => [
    { Name: 'FunctionName', Value: fn },
    { Name: 'Resource', Value: `${fn}:${ALIAS}` },
    { Name: 'ExecutedVersion', Value: v },
  ];
  await cw.send(
    new PutMetricDataCommand({
      Namespace: 'AWS/Lambda',
      MetricData: Object.entries(points).flatMap(([v, p]) => [
        { MetricName: 'Invocations', Dimensions: dims(v), Value: p.invocations, Unit: 'Count', Timestamp: at },
        { MetricName: 'Errors', Dimensions: dims(v), Value: p.errors, Unit: 'Count', Timestamp: at },
      ]),
    }),
  );
}
