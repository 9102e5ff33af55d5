import { CloudWatchClient, CloudWatchServiceException, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, LambdaClient, PreconditionFailedException, ResourceNotFoundException, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { aliasVersionCounts } from '../../src/aws/cloudwatch';
import { getAlias, updateAlias, weightsOf } from '../../src/aws/lambda';

/*
 * The adapters /dr rollback lambda uses, with AWS's own shapes. CloudWatch through
 * aws-sdk-client-mock: moto records no Lambda metrics and does not page GetMetricData; Lambda's
 * RevisionId check through it too: moto ignores RevisionId.
 */

const cwMock = mockClient(CloudWatchClient);
const lambdaMock = mockClient(LambdaClient);
const cw = new CloudWatchClient({ region: 'us-east-1' });
const lambda = new LambdaClient({ region: 'us-east-1' });
const START = new Date('2026-12-01T10:00:00Z');
const END = new Date('2026-12-01T10:06:00Z');

beforeEach(() => {
  cwMock.reset();
  lambdaMock.reset();
});

describe('aliasVersionCounts (aws-sdk-client-mock: moto records no Lambda metrics and does not page GetMetricData)', () => {
  it('asks for Errors and Invocations per ExecutedVersion of the alias, 1-minute sums, and adds up every page', async () => {
    // prepare: two pages, as GetMetricData splits long answers
    cwMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'i0', Values: [10, 20], Timestamps: [START, START], StatusCode: 'PartialData' },
          { Id: 'e0', Values: [0, 1], StatusCode: 'PartialData' },
          { Id: 'i1', Values: [100], StatusCode: 'PartialData' },
          { Id: 'e1', Values: [], StatusCode: 'PartialData' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ MetricDataResults: [{ Id: 'i0', Values: [5] }, { Id: 'e0', Values: [2] }, { Id: 'i1', Values: [50] }, { Id: 'e1', Values: [3] }] });

    // act
    const counts = await aliasVersionCounts(cw, 'spawn-dns-updater', 'production', ['2', '3'], START, END);

    // assess
    expect(counts).toEqual([
      { version: '2', invocations: 35, errors: 3 },
      { version: '3', invocations: 150, errors: 3 },
    ]);
    const calls = cwMock.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    const dims = (v: string) => [
      { Name: 'FunctionName', Value: 'spawn-dns-updater' },
      { Name: 'Resource', Value: 'spawn-dns-updater:production' },
      { Name: 'ExecutedVersion', Value: v },
    ];
    const query = (Id: string, MetricName: string, v: string) => ({ Id, MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName, Dimensions: dims(v) }, Period: 60, Stat: 'Sum' }, ReturnData: true });
    expect(calls[0]).toEqual({
      MetricDataQueries: [query('i0', 'Invocations', '2'), query('e0', 'Errors', '2'), query('i1', 'Invocations', '3'), query('e1', 'Errors', '3')],
      StartTime: START,
      EndTime: END,
      ScanBy: 'TimestampAscending',
    });
    expect(calls[1]).toMatchObject({ NextToken: 'page-2' });
  });

  it('reports no points as zero invocations and zero errors', async () => {
    cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    expect(await aliasVersionCounts(cw, 'f', 'production', ['1'], START, END)).toEqual([{ version: '1', invocations: 0, errors: 0 }]);
  });

  it('says which call was denied, with the fix', async () => {
    cwMock.on(GetMetricDataCommand).rejects(new CloudWatchServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'User is not authorized to perform: cloudwatch:GetMetricData' }));
    await expect(aliasVersionCounts(cw, 'f', 'production', ['1'], START, END)).rejects.toMatchObject({
      code: 'aws_access_denied',
      message: 'GetMetricData on `AWS/Lambda f:production` failed: User is not authorized to perform: cloudwatch:GetMetricData',
      hint: "Grant the bot's role permission for `GetMetricData` on this resource (see template.yaml).",
    });
  });
});

describe('updateAlias and getAlias (aws-sdk-client-mock: moto ignores RevisionId)', () => {
  it('sends the version, the routing (empty clears it) and the revision the plan read', async () => {
    // prepare
    lambdaMock.on(UpdateAliasCommand).resolves({ Name: 'production', FunctionVersion: '2', RevisionId: 'rev-2' });

    // act
    await updateAlias(lambda, 'f', 'production', '2', {}, 'rev-1');
    await updateAlias(lambda, 'f', 'production', '3', { '2': 0.1 }, 'rev-2');

    // assess
    expect(lambdaMock.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'f', Name: 'production', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} }, RevisionId: 'rev-1' },
      { FunctionName: 'f', Name: 'production', FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } }, RevisionId: 'rev-2' },
    ]);
  });

  it('turns a stale revision into alias_changed, and a missing alias into unknown_alias', async () => {
    lambdaMock.on(UpdateAliasCommand).rejects(new PreconditionFailedException({ $metadata: { httpStatusCode: 412 }, message: 'The Revision Id provided does not match the latest Revision Id.' }));
    lambdaMock.on(GetAliasCommand).rejects(new ResourceNotFoundException({ $metadata: { httpStatusCode: 404 }, message: 'Alias not found: arn:aws:lambda:us-east-1:123456789012:function:f:production' }));

    await expect(updateAlias(lambda, 'f', 'production', '2', {}, 'rev-0')).rejects.toMatchObject({ code: 'alias_changed', message: 'The alias `production` of `f` changed after the plan was made.' });
    await expect(getAlias(lambda, 'f', 'production')).rejects.toMatchObject({ code: 'unknown_alias', message: '`f` has no alias `production`.' });
  });

  it('reads an alias with no routing as no weights', () => {
    expect(weightsOf({ FunctionVersion: '3' })).toEqual({});
    expect(weightsOf({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } })).toEqual({ '2': 0.25 });
  });
});
