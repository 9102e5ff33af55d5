import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import { releaseEarlierFiles } from '../helpers/file-leaks';

/*
 * The harness's release of what a test file leaves running (test/helpers/file-leaks.ts, called by
 * test/setup.ts as each file starts): without it a jest worker kept every earlier file's durable
 * checkpoint thread and AsyncLocalStorages, and their module graphs, to its end.
 */
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

  it('ends the worker threads started since the last release, as the durable runner makes them', async () => {
    // prepare: the durable testing SDK reads Worker from the module object at each `new`
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const threads = require('node:worker_threads') as typeof import('node:worker_threads');
    const thread = new threads.Worker('setInterval(() => {}, 1000);', { eval: true });
    await once(thread, 'online');
    thread.unref();
    const exited = once(thread, 'exit');

    // act
    releaseEarlierFiles();

    // assess: a thread that would otherwise run forever has ended
    await expect(exited).resolves.toEqual([1]);
  });

  it('leaves alone what starts after the release', async () => {
    // prepare
    releaseEarlierFiles();
    const storage = new AsyncLocalStorage<string>();

    // act
    const seen = await storage.run('this file', async () => {
      await Promise.resolve();
      return storage.getStore();
    });

    // assess
    expect(seen).toBe('this file');
  });
});
