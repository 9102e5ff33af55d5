import 'aws-sdk-client-mock-jest';
import { format } from 'node:util';
import { SlackStandIn } from '../src/local/slack-standin';
import * as verify from '../src/slack/verify';
import { StateStore } from '../src/store/state';
import { releaseEarlierFiles } from './helpers/file-leaks';
import { journal } from './helpers/journal';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/*
 * What a test file leaves running in the worker process after it ends, released when the next file
 * starts (test/helpers/file-leaks.ts): the durable runner's checkpoint thread and the
 * AsyncLocalStorages of the file's modules. Each held that file's whole module graph alive and
 * cost every later file CPU.
 */
releaseEarlierFiles();

/*
 * For the secrets scan at the end of the run (test/global/teardown.ts): every log line, every audit
 * item, every call a Slack stand-in was sent, and each signing secret requests were signed with.
 */
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    journal('log', format(...args));
    original(...args);
  };
}

const standIns = new Set<SlackStandIn>();
const start = SlackStandIn.prototype.start;
SlackStandIn.prototype.start = function (this: SlackStandIn) {
  standIns.add(this);
  return start.call(this);
};

const audit = StateStore.prototype.audit;
StateStore.prototype.audit = async function (this: StateStore, e) {
  const event = await audit.call(this, e);
  journal('audit', JSON.stringify(event));
  return event;
};

const sign = verify.signSlackRequest;
(verify as { signSlackRequest: typeof sign }).signSlackRequest = (secret, body, ts) => {
  journal('secret', secret);
  return sign(secret, body, ts);
};

afterAll(() => {
  for (const s of standIns) for (const c of s.calls) journal('slack', JSON.stringify({ method: c.method, args: c.args }));
  standIns.clear();
});
