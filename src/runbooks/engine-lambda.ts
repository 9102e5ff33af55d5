import {
  InvokeCommand,
  type LambdaClient,
  SendDurableExecutionCallbackFailureCommand,
  SendDurableExecutionCallbackSuccessCommand,
} from '@aws-sdk/client-lambda';
import type { ApprovalPayload, RunEngine, AnyRunInput } from './types';

/** Only this means "that execution name was already started"; a ResourceConflict is a real error. */
const DUPLICATE = /^DurableExecutionAlreadyStartedException$/;

/** Runs on Lambda durable functions: async Invoke named by the request; callbacks through the Lambda API. */
export class LambdaRunEngine implements RunEngine {
  constructor(
    private readonly lambda: LambdaClient,
    /** The runbook function's qualified ARN (alias or version): durable executions need one. */
    private readonly functionArn: string,
  ) {}

  async start(executionName: string, input: AnyRunInput): Promise<'started' | 'duplicate'> {
    try {
      await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionArn,
          InvocationType: 'Event',
          DurableExecutionName: executionName,
          Payload: Buffer.from(JSON.stringify(input)),
        }),
      );
      return 'started';
    } catch (e) {
      if (DUPLICATE.test((e as { name?: string }).name ?? '')) return 'duplicate';
      throw e;
    }
  }

  async approve(callbackId: string, payload: ApprovalPayload): Promise<void> {
    await this.lambda.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: callbackId, Result: Buffer.from(JSON.stringify(payload)) }));
  }

  async reject(callbackId: string, reason: string): Promise<void> {
    await this.lambda.send(
      new SendDurableExecutionCallbackFailureCommand({ CallbackId: callbackId, Error: { ErrorType: 'Rejected', ErrorMessage: reason } }),
    );
  }
}
