import 'aws-sdk-client-mock-jest';
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import { SlackStandIn } from '../src/local/slack-standin';
import * as verify from '../src/slack/verify';
import { StateStore } from '../src/store/state';
import { journal } from './helpers/journal';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/*
 * Each test file loads its modules afresh, and the durable SDK and src/slack/ack-tail.ts each make
 * an AsyncLocalStorage as they load. Node 20 keeps every storage that has once run in one list for
 * the life of the process, and calls each of them on every promise made after that: by a worker's
 * thirtieth file, every promise paid for thirty dead files' storages (a tenth of the suite's CPU,
 * measured with --cpu-prof). So each file starts by disabling the storages the files before it
 * started; they belong to module graphs no test uses any more. The list is kept on the class, which
 * every file of a worker shares (core modules are not reloaded per file).
 */
const ALS_STARTED = Symbol.for('drbot.test.asyncLocalStoragesStarted');
const Storage = AsyncLocalStorage as typeof AsyncLocalStorage & { [ALS_STARTED]?: Set<AsyncLocalStorage<unknown>> };
const startedStorages = (Storage[ALS_STARTED] ??= patchStorageStarts());
for (const storage of startedStorages) storage.disable();
startedStorages.clear();

function patchStorageStarts(): Set<AsyncLocalStorage<unknown>> {
  const started = new Set<AsyncLocalStorage<unknown>>();
  const proto = AsyncLocalStorage.prototype as AsyncLocalStorage<unknown>;
  const { run, enterWith } = proto;
  proto.run = function <R>(this: AsyncLocalStorage<unknown>, store: unknown, callback: (...args: unknown[]) => R, ...args: unknown[]): R {
    started.add(this);
    return run.call(this, store, callback, ...args) as R;
  };
  proto.enterWith = function (this: AsyncLocalStorage<unknown>, store: unknown): void {
    started.add(this);
    enterWith.call(this, store);
  };
  return started;
}

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
