import { AsyncLocalStorage } from 'node:async_hooks';
import type { Worker as WorkerThread } from 'node:worker_threads';

/*
 * Jest runs a worker's test files one after another in one process, each with its modules loaded
 * afresh. Two things a file's modules start outlive the file, and with them its whole module graph:
 *
 * - The durable runner's checkpoint server, a worker thread. `teardownTestEnvironment()` of
 *   @aws/durable-execution-sdk-js-testing only unrefs it (it terminates it only if unref throws),
 *   so every file that ran a runbook left a live thread whose 'exit' listener held the file's
 *   modules. The heap a process kept after each file (forced GC, in band) grew by ~12 MB a file,
 *   76 -> 176 MB over eight moto-backed files; with the release, ~70 -> 140 MB over ten.
 * - AsyncLocalStorages (the durable SDK's and src/slack/ack-tail.ts's). Node 20 keeps every storage
 *   that has once run in one list for the life of the process and calls each of them on every
 *   promise made after that: by a worker's thirtieth file, every promise paid for thirty dead files'
 *   storages (a tenth of the suite's CPU under --cpu-prof).
 *
 * So the setup file of each test file (test/setup.ts) stops what the files before it started. The
 * record is kept on the core modules' own objects, which every file of a jest worker shares (core
 * modules are not reloaded per file), under a Symbol.for key. The patches are made by the worker's
 * first file, so that one file's modules stay loaded to the worker's end: one file, not every file.
 */

const RECORD = Symbol.for('drbot.test.startedByEarlierFiles');

interface Started {
  storages: Set<AsyncLocalStorage<unknown>>;
  threads: Set<WorkerThread>;
}

type WorkerThreads = typeof import('node:worker_threads');

/** The durable testing SDK's checkpoint server, the one thread a file leaves behind. */
const CHECKPOINT_SERVER = /[\\/]@aws[\\/]durable-execution-sdk-js-testing[\\/].*checkpoint-server/;

/** Disables the storages and terminates the threads that earlier files started; records this file's. */
export function releaseEarlierFiles(): void {
  const started = record();
  for (const storage of started.storages) storage.disable();
  started.storages.clear();
  // terminate() ends the thread at its next instruction; nothing waits on it. The SDK's exit
  // listener would log through the earlier file's console, which jest has closed.
  for (const thread of started.threads) {
    thread.removeAllListeners('exit');
    void thread.terminate().catch(() => undefined);
  }
  started.threads.clear();
}

function record(): Started {
  const holder = AsyncLocalStorage as typeof AsyncLocalStorage & { [RECORD]?: Started };
  return (holder[RECORD] ??= patchStarts());
}

function patchStarts(): Started {
  const started: Started = { storages: new Set(), threads: new Set() };
  const proto = AsyncLocalStorage.prototype as AsyncLocalStorage<unknown>;
  const { run, enterWith } = proto;
  proto.run = function <R>(this: AsyncLocalStorage<unknown>, store: unknown, callback: (...args: unknown[]) => R, ...args: unknown[]): R {
    started.storages.add(this);
    return run.call(this, store, callback, ...args) as R;
  };
  proto.enterWith = function (this: AsyncLocalStorage<unknown>, store: unknown): void {
    started.storages.add(this);
    enterWith.call(this, store);
  };
  // The real module object (jest hands core modules out unwrapped), which the SDK reads `Worker`
  // from at each `new`; an ES import would give a copy. Only the SDK's checkpoint server is
  // recorded: other threads live on purpose (esbuild's transformSync keeps one for the process,
  // and a later transform waits on it forever if it is ended).
  const threads = require('node:worker_threads') as WorkerThreads;
  const Thread = threads.Worker;
  threads.Worker = class Worker extends Thread {
    constructor(...args: ConstructorParameters<typeof Thread>) {
      super(...args);
      if (!CHECKPOINT_SERVER.test(String(args[0]))) return;
      started.threads.add(this);
      this.once('exit', () => started.threads.delete(this));
    }
  };
  return started;
}
