import { type CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { wrapAws } from '../errors';

/** Invocations and errors of one version, summed over a window. */
export interface VersionCounts {
  version: string;
  invocations: number;
  errors: number;
}

/** GetMetricData takes at most 500 queries a call; a page holds at most 100,800 data points. */
const MAX_QUERIES = 500;

/**
 * The `Errors` and `Invocations` sums (AWS/Lambda, 1-minute periods) of each version an alias ran
 * over the window: Lambda publishes them per executed version of a weighted alias, with the
 * dimensions FunctionName, Resource (`function:alias`) and ExecutedVersion. Every page is read.
 * Lambda publishes a minute or two late, so a window that has just ended may miss its last points.
 */
export async function aliasVersionCounts(cw: CloudWatchClient, fn: string, alias: string, versions: readonly string[], start: Date, end: Date): Promise<VersionCounts[]> {
  const metric = (name: 'Errors' | 'Invocations', version: string, i: number): MetricDataQuery => ({
    Id: `${name === 'Errors' ? 'e' : 'i'}${i}`,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: name,
        Dimensions: [
          { Name: 'FunctionName', Value: fn },
          { Name: 'Resource', Value: `${fn}:${alias}` },
          { Name: 'ExecutedVersion', Value: version },
        ],
      },
      Period: 60,
      Stat: 'Sum',
    },
    ReturnData: true,
  });
  const queries = versions.flatMap((v, i) => [metric('Invocations', v, i), metric('Errors', v, i)]);
  if (queries.length > MAX_QUERIES) throw new Error(`aliasVersionCounts: ${queries.length} queries, GetMetricData takes ${MAX_QUERIES}`);
  const sums = new Map<string, number>();
  let token: string | undefined;
  do {
    const page: GetMetricDataCommandOutput = await cw
      .send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', ...(token ? { NextToken: token } : {}) }))
      .catch((e: unknown) => {
        throw wrapAws(e, 'GetMetricData', `AWS/Lambda ${fn}:${alias}`);
      });
    for (const r of page.MetricDataResults ?? []) {
      const total = (r.Values ?? []).reduce((n, x) => n + x, 0);
      sums.set(r.Id ?? '', (sums.get(r.Id ?? '') ?? 0) + total);
    }
    token = page.NextToken;
  } while (token);
  return versions.map((version, i) => ({ version, invocations: sums.get(`i${i}`) ?? 0, errors: sums.get(`e${i}`) ?? 0 }));
}
