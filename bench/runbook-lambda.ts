/**
 * The runbook Lambda of the scale bench: the runbook handler (src/runbooks/handler.ts, the code
 * handlers/runbook.ts deploys) in a process of its own, as AWS Lambda runs it, so that its peak
 * resident set is the runbook's and nothing else's. bench/scale.ts bundles this file with `npm run
 * build`'s options, and bench/runbook-lambda-host.ts starts it under the V8 heap limits of a 256 MB
 * function and the template's NODE_OPTIONS; the bench's local stack (its Bolt app, Slack stand-in and
 * the durable SDK's local runner) stays in the process that starts it.
 *
 * As on Lambda, the local runner's invocations come in one at a time: the execution's ARN, its
 * checkpoint token and its operations so far, and every checkpoint and page of history goes back to
 * the durable service, here the local runner's checkpoint server, over the IPC channel (Lambda's
 * handler calls the Lambda API instead). The process stays up between invocations, as a warm
 * Lambda does, so its peak spans the plan, the approval's replay and the work.
 *
 * What differs from the deployed handler: AWS is the bench's endpoint (moto or the S3 model) with
 * the sandbox's credentials, Slack is the stand-in, and the bot token is given rather than read
 * from Secrets Manager. Environment: RUNBOOK_LAMBDA = JSON { endpoint, slackApiUrl, table, config }.
 */
import { type DurableExecutionClient, DurableExecutionInvocationInputWithClient } from '@aws/durable-execution-sdk-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { AwsClients } from '../src/aws/clients';
import type { DrConfig } from '../src/config/schema';
import { createRunbookHandler } from '../src/runbooks/handler';
import { slackClient } from '../src/runtime/aws';
import { RetryingPoster, WebApiPoster } from '../src/slack/poster';
import { StateStore } from '../src/store/state';
import { statusMiB } from './proc-memory';
import { type FromHost, fromWire, type ToHost, toWire } from './runbook-lambda-protocol';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const { endpoint, slackApiUrl, table, config } = JSON.parse(process.env.RUNBOOK_LAMBDA ?? '{}') as { endpoint: string; slackApiUrl: string; table: string; config: DrConfig };

const handler = createRunbookHandler({
  config,
  clients: new AwsClients(config.regions.primary, { endpoint, credentials: CREDENTIALS }),
  store: new StateStore(new DynamoDBClient({ region: config.regions.primary, endpoint, credentials: CREDENTIALS }), table),
  slack: new RetryingPoster(new WebApiPoster(slackClient('xoxb-local-sandbox', { SLACK_API_URL: slackApiUrl }, 0))),
  now: () => new Date(),
  runner: 'lambda',
});

function send(m: ToHost): void {
  process.send?.(m);
}

/** This process's resident set now and at its peak (VmRSS, VmHWM), in MiB. */
function memory(): { rssMiB: number; peakMiB: number } {
  const rss = process.memoryUsage().rss;
  return { rssMiB: statusMiB('VmRSS', rss), peakMiB: statusMiB('VmHWM', rss) };
}

/** The durable service's two calls for invocation `inv`, answered by the host's local runner. */
let nextCall = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
function serviceFor(inv: number): DurableExecutionClient {
  const call = <T>(api: 'getExecutionState' | 'checkpoint', params: unknown): Promise<T> => {
    const id = nextCall++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      send({ t: 'call', id, inv, api, params });
    });
  };
  return { getExecutionState: (params) => call('getExecutionState', params), checkpoint: (params) => call('checkpoint', params) };
}

process.on('message', (m: FromHost) => {
  if (m.t === 'answer') {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!p) return;
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWire(m.error));
  } else if (m.t === 'invoke') {
    const event = new DurableExecutionInvocationInputWithClient(m.event, serviceFor(m.id));
    // The context's plain fields, and the one function the SDK calls (the local runner's is a constant too).
    const context = { ...m.context, getRemainingTimeInMillis: () => m.remainingMs } as unknown as Context;
    handler(event, context).then(
      (value) => send({ t: 'done', id: m.id, ok: true, value }),
      (e: unknown) => send({ t: 'done', id: m.id, ok: false, error: toWire(e) }),
    );
  } else if (m.t === 'memory') {
    send({ t: 'memory', id: m.id, ...memory() });
  }
});
// The host is gone (killed, or its run timed out): so is this Lambda, with whatever it had in flight.
process.on('disconnect', () => process.exit(1));
send({ t: 'ready', ...memory() });
