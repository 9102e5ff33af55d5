import { createRunbookHandler } from '../src/runbooks/handler';
import { awsRuntime, runbookDepsForLambda } from '../src/runtime/aws';
import { loadSlackSecrets } from '../src/runtime/secrets';
import { handlerConfig } from './_config';

/** The runbook Lambda durable function: dependencies built once per cold start. */
export const handler = createRunbookHandler(async () => {
  const { botToken } = await loadSlackSecrets();
  return runbookDepsForLambda(awsRuntime(handlerConfig(), botToken));
});
