import { createRunbookHandler } from '../src/runbooks/handler';
import { runbookDepsForLambda } from '../src/runtime/runbook';
import { loadSlackSecrets } from '../src/runtime/secrets';
import { handlerConfig } from './_config';

/** The runbook Lambda durable function: dependencies built once per cold start. */
export const handler = createRunbookHandler(async () => {
  const { botToken } = await loadSlackSecrets();
  return runbookDepsForLambda(handlerConfig(), botToken);
});
