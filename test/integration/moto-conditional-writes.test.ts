import { ConditionalCheckFailedException, CreateTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { useMoto } from '../helpers/moto';

/*
 * The sandbox keeps drbot's state table in moto, and approvals rest on DynamoDB's conditional
 * writes being atomic per item (one vote decides, one claim wins). moto's server is threaded and
 * its DynamoDB backend takes no lock, so two concurrent conditional updates could both pass their
 * condition: that is how a double click once delivered one approval twice in the sandbox. The
 * launcher (src/local/moto_launcher.py) serializes DynamoDB writes, as AWS does per item.
 */

describe('moto as the launcher runs it: DynamoDB conditional writes', () => {
  const moto = useMoto();

  it('lets exactly one of 40 concurrent conditional updates of one item win, every round', async () => {
    // prepare
    const ddb = moto().clients.dynamodb('us-east-1');
    await ddb.send(new CreateTableCommand({ TableName: 'claims', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
    const winners: number[] = [];

    // act: 10 rounds of 40 racers each claiming a fresh item
    for (let round = 0; round < 10; round++) {
      const pk = { S: `item-${round}` };
      await ddb.send(new PutItemCommand({ TableName: 'claims', Item: { pk, votes: { L: [] } } }));
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          ddb.send(
            new UpdateItemCommand({
              TableName: 'claims',
              Key: { pk },
              UpdateExpression: 'SET votes = list_append(votes, :me), claimedBy = :who',
              ConditionExpression: 'attribute_not_exists(claimedBy) AND size(votes) < :one',
              ExpressionAttributeValues: { ':me': { L: [{ S: `racer-${i}` }] }, ':who': { S: `racer-${i}` }, ':one': { N: '1' } },
            }),
          ),
        ),
      );
      const lost = results.filter((r) => r.status === 'rejected');
      expect(lost.every((r) => (r as PromiseRejectedResult).reason instanceof ConditionalCheckFailedException)).toBe(true);
      winners.push(results.length - lost.length);
    }

    // assess
    expect(winners).toEqual(Array.from({ length: 10 }, () => 1));
  });
});
