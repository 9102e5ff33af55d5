import type { DrConfig } from '../src/config/schema';
import { MotoMissingError } from '../src/local/moto';
import { type LocalStack, startLocalStack } from '../src/local/stack';
import { LocalRunEngine } from '../src/runbooks/engine-local';
import { onCleanup } from './util';

/**
 * A bench section's stack: a fresh, unseeded moto with `config`, closed at the bench's clean-up;
 * or, when moto is not installed, why the section is skipped.
 *
 * skipTime stays off: it installs fake timers process-wide (@sinonjs/fake-timers), which breaks the
 * WebClient's fetch to the Slack stand-in ("fetch failed") and would fake the very clock a bench
 * measures with.
 */
export async function benchStack(config: DrConfig): Promise<LocalStack | { skipped: true; reason: string }> {
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ mode: 'sandbox', seed: false, skipTime: false, config });
  } catch (e) {
    if (e instanceof MotoMissingError) return { skipped: true, reason: `${e.message} ${e.hint ?? ''}`.trim() };
    throw e;
  }
  onCleanup(async () => {
    await stack.close();
    await LocalRunEngine.teardown();
  });
  return stack;
}
