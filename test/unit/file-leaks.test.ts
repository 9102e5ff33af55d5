import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { releaseEarlierFiles } from '../helpers/file-leaks';

/*
 * The harness's release of what a test file leaves running (test/helpers/file-leaks.ts, called by
 * test/setup.ts as each file starts): without it a jest worker kept every earlier file's durable
 * checkpoint thread and AsyncLocalStorages, and their module graphs, to its end.
 */

// The real module object, as the durable SDK and esbuild read Worker from it.
const threads = require('node:worker_threads') as typeof import('node:worker_threads');

/** The threads made through `threads.Worker` from this call until stop(). */
function watchThreads(): { made: Worker[]; stop: () => void } {
  const made: Worker[] = [];
  const Patched = threads.Worker;
  threads.Worker = class Worker extends Patched {
    constructor(...args: ConstructorParameters<typeof Patched>) {
      super(...args);
      made.push(this);
    }
  };
  return { made, stop: () => void (threads.Worker = Patched) };
}

describe('releaseEarlierFiles', () => {
  it('disables the AsyncLocalStorages started since the last release', () => {
    // prepare
    const storage = new AsyncLocalStorage<{ file: string }>();
    const store = { file: 'an earlier file' };
    storage.enterWith(store);
    const before = storage.getStore();

    // act
    releaseEarlierFiles();

    // assess
    expect(before).toBe(store);
    expect(storage.getStore()).toBeUndefined();
  });

  it('a storage it disabled works again when run', async () => {
    // prepare
    const storage = new AsyncLocalStorage<string>();
    storage.enterWith('an earlier file');
    releaseEarlierFiles();

    // act
    const seen = await storage.run('this file', async () => {
      await Promise.resolve();
      return storage.getStore();
    });

    // assess
    expect(seen).toBe('this file');
  });

  it("ends the durable runner's checkpoint thread, which its own teardown leaves running", async () => {
    // prepare
    const watch = watchThreads();
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
    watch.stop();
    const [checkpoint] = watch.made;
    await LocalDurableTestRunner.teardownTestEnvironment();

    // act (the release drops the thread's exit listeners, and a thread's exit is emitted later)
    releaseEarlierFiles();
    const exited = once(checkpoint!, 'exit');

    // assess: one thread was made, and the thread the SDK only unref'd has ended (without the
    // release it runs on, and this times out)
    expect(watch.made).toHaveLength(1);
    const [code] = await exited;
    expect(Number.isInteger(code)).toBe(true);
  }, 10_000);

  it('leaves other threads running (esbuild keeps one for the process)', async () => {
    // prepare
    const other = new threads.Worker('setInterval(() => {}, 1000);', { eval: true });
    await once(other, 'online');
    other.unref();

    // act
    releaseEarlierFiles();
    const answer = await new Promise<string>((resolve) => {
      other.once('exit', () => resolve('ended'));
      setTimeout(() => resolve('running'), 300);
    });

    // assess
    expect(answer).toBe('running');
    await other.terminate();
  });
});
