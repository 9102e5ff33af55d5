import { ErrorCode } from '@slack/web-api';
import { RetryingPoster, type SlackMessage, type SlackPoster } from '../../src/slack/poster';

const MSG: SlackMessage = { text: 'hello' };
const rateLimited = (retryAfter: number) => Object.assign(new Error('rate limited'), { code: ErrorCode.RateLimitedError, retryAfter });
const http = (statusCode: number) => Object.assign(new Error(`HTTP ${statusCode}`), { code: ErrorCode.HTTPError, statusCode });
const platform = (error: string) => Object.assign(new Error(error), { code: ErrorCode.PlatformError, data: { ok: false, error } });

/** A SlackPoster whose calls fail with the given errors, in order, then succeed. */
function flaky(errors: Error[]) {
  const calls: string[] = [];
  const next = async () => {
    const e = errors.shift();
    if (e) throw e;
  };
  const inner: SlackPoster = {
    async post(channel) {
      calls.push('post');
      await next();
      return { channel, ts: '1.0' };
    },
    async update() {
      calls.push('update');
      await next();
    },
    async ephemeral() {
      calls.push('ephemeral');
      await next();
    },
  };
  return { inner, calls };
}

describe('RetryingPoster', () => {
  it('honours Retry-After on 429 and backs off on 5xx, then succeeds', async () => {
    // prepare
    const waits: number[] = [];
    const { inner, calls } = flaky([rateLimited(3), http(500), http(503)]);
    const poster = new RetryingPoster(inner, { sleep: async (ms) => void waits.push(ms), baseDelayMs: 100 });

    // act
    await poster.update('C1', '1.0', MSG);

    // assess
    expect(calls).toEqual(['update', 'update', 'update', 'update']);
    expect(waits).toEqual([3000, 200, 400]);
  });

  it('caps a long Retry-After and gives up after its attempts, with Slack’s error', async () => {
    // prepare
    const waits: number[] = [];
    const { inner, calls } = flaky([rateLimited(600), rateLimited(600), rateLimited(600)]);
    const poster = new RetryingPoster(inner, { attempts: 3, maxWaitMs: 10_000, sleep: async (ms) => void waits.push(ms) });

    // act
    const r = poster.post('C1', MSG);

    // assess
    await expect(r).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });
    expect(calls).toHaveLength(3);
    expect(waits).toEqual([10_000, 10_000]);
  });

  it('does not retry Slack’s own refusals', async () => {
    // prepare
    const { inner, calls } = flaky([platform('not_in_channel')]);
    const poster = new RetryingPoster(inner, { sleep: async () => {} });

    // act / assess
    await expect(poster.post('C1', MSG)).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
    expect(calls).toEqual(['post']);
  });
});
