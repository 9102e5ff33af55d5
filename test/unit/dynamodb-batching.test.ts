import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { BATCH_GET_MAX, BATCH_WRITE_MAX, backoffMs, batchGet, batchWrite, type RetryOptions } from '../../src/aws/dynamodb-items';
import { AwsCallError } from '../../src/errors';

/*
 * BatchWriteItem and BatchGetItem the way AWS answers them (aws-sdk-client-mock: moto accepts 26
 * items in a BatchWriteItem and never returns UnprocessedItems, UnprocessedKeys or throttling).
 */

const ddbMock = mockClient(DynamoDBClient);
const ddb = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'spawn-instances';

function puts(n: number): WriteRequest[] {
  return Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { pk: { S: `i-${String(i).padStart(4, '0')}` }, n: { N: String(i) } } } }));
}

/** Fresh copies, the way the SDK deserializes UnprocessedItems (never the objects that were sent). */
const copies = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function writeInputs(): BatchWriteItemCommandInput[] {
  return ddbMock.commandCalls(BatchWriteItemCommand).map((c) => c.args[0].input);
}

function sentPks(): string[] {
  return writeInputs().flatMap((i) => (i.RequestItems?.[TABLE] ?? []).map((w) => w.PutRequest?.Item?.pk?.S ?? w.DeleteRequest?.Key?.pk?.S ?? ''));
}

function retryRecorder(): { retry: RetryOptions; waits: number[] } {
  const waits: number[] = [];
  return { waits, retry: { attempts: 10, baseMs: 50, capMs: 5000, random: () => 0.5, sleep: async (ms) => void waits.push(ms) } };
}

beforeEach(() => {
  ddbMock.reset();
});

describe('batchWrite (aws-sdk-client-mock: moto accepts 26 items and never leaves any unprocessed)', () => {
  it('sends 1,010 puts in calls of at most 25 requests, each exactly once', async () => {
    // prepare
    ddbMock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
    const written: WriteRequest[] = [];

    // act
    await batchWrite(ddb, TABLE, puts(1010), { concurrency: 4, onWritten: (d) => written.push(...d) });

    // assess
    expect(BATCH_WRITE_MAX).toBe(25);
    const sizes = writeInputs().map((i) => i.RequestItems?.[TABLE]?.length ?? 0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(25);
    expect(sizes).toHaveLength(41);
    expect(sentPks().sort()).toEqual(puts(1010).map((w) => w.PutRequest?.Item?.pk?.S).sort());
    expect(written).toHaveLength(1010);
  });

  it('sends UnprocessedItems again, with growing backoff, until none are left', async () => {
    // prepare: the first call leaves 20 of 25 unprocessed, the next 10, the next 3, then all done
    const all = puts(25);
    const left = [all.slice(5), all.slice(15), all.slice(22)];
    let n = 0;
    ddbMock.on(BatchWriteItemCommand).callsFake(() => {
      const rest = left[n++];
      return { UnprocessedItems: rest ? { [TABLE]: copies(rest) } : {} };
    });
    const { retry, waits } = retryRecorder();
    const written: string[] = [];

    // act
    await batchWrite(ddb, TABLE, all, { retry, onWritten: (d) => written.push(...d.map((w) => w.PutRequest?.Item?.pk?.S ?? '')) });

    // assess: four calls, each sending exactly what was left, with waits of 50, 100, 200 ms (random 0.5 → ¾ of the ceiling)
    const calls = writeInputs().map((i) => (i.RequestItems?.[TABLE] ?? []).length);
    expect(calls).toEqual([25, 20, 10, 3]);
    expect(writeInputs()[1]?.RequestItems?.[TABLE]).toEqual(copies(all.slice(5)));
    expect(waits).toEqual([38, 75, 150]);
    expect(written.sort()).toEqual(all.map((w) => w.PutRequest?.Item?.pk?.S ?? '').sort());
  });

  it('retries ProvisionedThroughputExceededException with backoff and then writes every item', async () => {
    // prepare
    ddbMock
      .on(BatchWriteItemCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ $metadata: { httpStatusCode: 400 }, message: 'The level of configured provisioned throughput for the table was exceeded.' }))
      .rejectsOnce(new ProvisionedThroughputExceededException({ $metadata: { httpStatusCode: 400 }, message: 'The level of configured provisioned throughput for the table was exceeded.' }))
      .resolves({ UnprocessedItems: {} });
    const { retry, waits } = retryRecorder();
    let written = 0;

    // act
    await batchWrite(ddb, TABLE, puts(30), { concurrency: 1, retry, onWritten: (d) => (written += d.length) });

    // assess: the first batch was sent three times, the second once
    expect(writeInputs().map((i) => (i.RequestItems?.[TABLE] ?? []).length)).toEqual([25, 25, 25, 5]);
    expect(waits).toEqual([38, 75]);
    expect(written).toBe(30);
  });

  it('gives up when items stay unprocessed through every attempt, as a throttling error naming BatchWriteItem', async () => {
    // prepare
    const all = puts(3);
    ddbMock.on(BatchWriteItemCommand).callsFake(() => ({ UnprocessedItems: { [TABLE]: copies(all) } }));
    const { retry, waits } = retryRecorder();

    // act
    const err = await batchWrite(ddb, TABLE, all, { retry: { ...retry, attempts: 4 } }).catch((e: unknown) => e);

    // assess
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).code).toBe('aws_throttled');
    expect((err as AwsCallError).message).toContain('BatchWriteItem on `spawn-instances` failed: 3 items still unprocessed after 4 attempts');
    expect(writeInputs()).toHaveLength(4);
    expect(waits).toHaveLength(3);
  });

  it('stops starting calls on AccessDenied, lets the calls in flight finish, and reports exactly what they wrote', async () => {
    // prepare: the third call is denied; with two at a time the fourth is already in flight
    let n = 0;
    ddbMock.on(BatchWriteItemCommand).callsFake(async () => {
      const mine = ++n;
      await new Promise((r) => setTimeout(r, 5));
      if (mine === 3) throw new DynamoDBServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'not authorized to perform: dynamodb:BatchWriteItem' });
      return { UnprocessedItems: {} };
    });
    let written = 0;

    // act
    const err = await batchWrite(ddb, TABLE, puts(250), { concurrency: 2, onWritten: (d) => (written += d.length) }).catch((e: unknown) => e);

    // assess
    expect((err as AwsCallError).code).toBe('aws_access_denied');
    expect(writeInputs()).toHaveLength(4);
    expect(written).toBe(75);
  });

  it('backs off exponentially up to the cap, with jitter in the upper half', () => {
    const opts: RetryOptions = { attempts: 10, baseMs: 50, capMs: 5000 };
    expect(backoffMs(0, { ...opts, random: () => 0 })).toBe(25);
    expect(backoffMs(3, { ...opts, random: () => 1 })).toBe(400);
    expect(backoffMs(12, { ...opts, random: () => 1 })).toBe(5000);
  });
});

describe('batchGet (aws-sdk-client-mock: moto never returns UnprocessedKeys)', () => {
  it('asks for at most 100 keys a call, strongly consistent, and asks again for UnprocessedKeys', async () => {
    // prepare
    const keys: Record<string, AttributeValue>[] = Array.from({ length: 150 }, (_, i) => ({ pk: { S: `i-${i}` } }));
    let first = true;
    ddbMock.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Record<string, AttributeValue>[] }> }) => {
      const asked = input.RequestItems[TABLE]?.Keys ?? [];
      if (first && asked.length === 100) {
        first = false;
        return { Responses: { [TABLE]: asked.slice(0, 60) }, UnprocessedKeys: { [TABLE]: { Keys: copies(asked.slice(60)) } } };
      }
      return { Responses: { [TABLE]: asked }, UnprocessedKeys: {} };
    });
    const { retry, waits } = retryRecorder();

    // act
    const found = await batchGet(ddb, TABLE, keys, { concurrency: 1, retry, attributes: ['pk'] });

    // assess
    expect(BATCH_GET_MAX).toBe(100);
    const inputs = ddbMock.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems?.[TABLE]);
    expect(inputs.map((i) => i?.Keys?.length)).toEqual([100, 40, 50]);
    expect(inputs.every((i) => i?.ConsistentRead === true && i.ProjectionExpression === '#k0' && i.ExpressionAttributeNames?.['#k0'] === 'pk')).toBe(true);
    expect(waits).toEqual([38]);
    expect(found.map((i) => i.pk?.S).sort()).toEqual(keys.map((k) => k.pk?.S).sort());
  });
});
