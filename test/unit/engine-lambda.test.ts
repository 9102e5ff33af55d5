import {
  DurableExecutionAlreadyStartedException,
  InvokeCommand,
  LambdaClient,
  ResourceConflictException,
  SendDurableExecutionCallbackFailureCommand,
  SendDurableExecutionCallbackSuccessCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { LambdaRunEngine } from '../../src/runbooks/engine-lambda';
import type { AnyRunInput } from '../../src/runbooks/types';

/*
 * The engine that runs on Lambda durable functions. aws-sdk-client-mock stands in for Lambda:
 * moto has no durable executions (no DurableExecutionName, no callbacks). The exceptions are the
 * SDK's own classes, so their shape (name, $fault, $metadata) is the one Lambda's answers produce.
 */

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:drbot-runbook:live';
const INPUT: AnyRunInput = { kind: 'restore-s3', runId: 'r-0123456789ab', requester: 'UALICE', channel: 'COPS', commandText: '/dr restore s3 spawn-binaries-us-east-1', requestedAt: '2026-12-02T01:00:00.000Z' };

describe('LambdaRunEngine', () => {
  const lambda = mockClient(LambdaClient);
  const engine = new LambdaRunEngine(new LambdaClient({ region: 'us-east-1' }), ARN);

  beforeEach(() => lambda.reset());

  it('starts a run as an async Invoke named by the request, with the input as its payload', async () => {
    // prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });

    // act
    const started = await engine.start('dr-restore-s3-abc', INPUT);

    // assess
    expect(started).toBe('started');
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const sent = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({ FunctionName: ARN, InvocationType: 'Event', DurableExecutionName: 'dr-restore-s3-abc' });
    expect(JSON.parse(Buffer.from(sent?.Payload as Uint8Array).toString('utf8'))).toEqual(INPUT);
  });

  it('reads DurableExecutionAlreadyStartedException as a duplicate start (a Slack retry of the same request)', async () => {
    // prepare
    lambda.on(InvokeCommand).rejects(
      new DurableExecutionAlreadyStartedException({ message: 'Execution dr-restore-s3-abc already started', $metadata: { httpStatusCode: 409 }, Type: 'User' }),
    );

    // act, assess
    await expect(engine.start('dr-restore-s3-abc', INPUT)).resolves.toBe('duplicate');
  });

  it.each([
    ['ResourceConflictException (a real conflict, not a duplicate)', new ResourceConflictException({ message: 'The operation cannot be performed at this time.', $metadata: { httpStatusCode: 409 } })],
    ['an error whose name only contains the duplicate name', Object.assign(new Error('x'), { name: 'NotDurableExecutionAlreadyStartedException' })],
    ['an error whose name only begins with the duplicate name', Object.assign(new Error('x'), { name: 'DurableExecutionAlreadyStartedExceptionNot' })],
    ['an error with no name', Object.assign(new Error('boom'), { name: '' })],
  ])('throws on %s', async (_case, error) => {
    // prepare
    lambda.on(InvokeCommand).rejects(error);

    // act, assess
    await expect(engine.start('dr-restore-s3-abc', INPUT)).rejects.toBe(error);
  });

  it('approves through SendDurableExecutionCallbackSuccess with the decision as JSON', async () => {
    // prepare
    lambda.on(SendDurableExecutionCallbackSuccessCommand).resolves({});
    const decision = { approvers: ['UBOB'], decidedAt: '2026-12-02T01:02:03.000Z' };

    // act
    await engine.approve('cb-1', decision);

    // assess
    const sent = lambda.commandCalls(SendDurableExecutionCallbackSuccessCommand)[0]?.args[0].input;
    expect(sent?.CallbackId).toBe('cb-1');
    expect(JSON.parse(Buffer.from(sent?.Result as Uint8Array).toString('utf8'))).toEqual(decision);
    expect(lambda).toHaveReceivedCommandTimes(SendDurableExecutionCallbackFailureCommand, 0);
  });

  it('rejects through SendDurableExecutionCallbackFailure with ErrorType Rejected and the reason', async () => {
    // prepare
    lambda.on(SendDurableExecutionCallbackFailureCommand).resolves({});

    // act
    await engine.reject('cb-2', 'withdrawn by the requester');

    // assess
    expect(lambda).toHaveReceivedCommandWith(SendDurableExecutionCallbackFailureCommand, { CallbackId: 'cb-2', Error: { ErrorType: 'Rejected', ErrorMessage: 'withdrawn by the requester' } });
    expect(lambda).toHaveReceivedCommandTimes(SendDurableExecutionCallbackSuccessCommand, 0);
  });

  it('lets a failed callback delivery reach the caller (the click handler flags it for redelivery)', async () => {
    // prepare
    const error = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    lambda.on(SendDurableExecutionCallbackSuccessCommand).rejects(error);

    // act, assess
    await expect(engine.approve('cb-3', { approvers: ['UBOB'], decidedAt: '2026-12-02T01:02:03.000Z' })).rejects.toBe(error);
  });
});
