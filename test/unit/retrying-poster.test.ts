import { ErrorCode, WebClient } from '@slack/web-api';
import { SlackStandIn } from '../../src/local/slack-standin';
import { isUncertain, RetryingPoster, retryDelay, type SlackMessage, type SlackPoster, WebApiPoster } from '../../src/slack/poster';

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

/*
 * A Slack that takes a request and never answers: @slack/web-api 7+ aborts the fetch at its
 * `timeout` (AbortSignal.timeout) and throws a WebAPIRequestError (code slack_webapi_request_error)
 * wrapping the TimeoutError. These run the real WebClient against the stand-in's stall.
 */
describe('RetryingPoster against a stalled Slack', () => {
  const standIn = new SlackStandIn();
  let web: WebClient;
  // What a test arranges (a message that must survive, a thread's parent) is posted without the
  // 250 ms timeout the client under test has: on a loaded CI machine an arrange post once took longer.
  let arrange: WebClient;
  beforeAll(async () => {
    const slackApiUrl = await standIn.start();
    web = new WebClient('xoxb-test', { slackApiUrl, timeout: 250, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    arrange = new WebClient('xoxb-test', { slackApiUrl, retryConfig: { retries: 0 } });
  });
  afterAll(() => standIn.stop());
  afterEach(() => {
    delete standIn.fault;
    jest.restoreAllMocks();
  });
  /** The stand-in's chat.delete calls in one channel (the tests share the stand-in, each its own channel). */
  const deletesIn = (channel: string) => standIn.callsOf('chat.delete').filter((c) => c.args.channel === channel);

  it('a timed-out call is a request error that retryDelay retries', async () => {
    // prepare
    standIn.fault = () => ({ stall: 'before' });

    // act
    const e = await web.chat.update({ channel: 'C1', ts: '1.0', text: 'x' }).catch((x: unknown) => x);

    // assess
    expect(e).toMatchObject({ code: ErrorCode.RequestError, });
    expect(String((e as { original?: { message?: string } }).original?.message)).toMatch(/TimeoutError|aborted due to timeout/);
    expect(isUncertain(e)).toBe(true);
    expect(retryDelay(e, 2, { baseDelayMs: 10, maxWaitMs: 1000 })).toBe(40);
  });

  it('stall-before then an answer: one message, and the copy search (which runs: the outcome was unknown) deletes nothing', async () => {
    // prepare
    let stalls = 0;
    standIn.fault = (method) => (method === 'chat.postMessage' && stalls++ < 2 ? { stall: 'before' } : undefined);
    const poster = new RetryingPoster(new WebApiPoster(web), { baseDelayMs: 1 });
    expect(standIn.channelMessages('CSTALL1')).toHaveLength(0);

    // act
    const posted = await poster.post('CSTALL1', { text: 'run r-000000000001' });

    // assess
    expect(stalls).toBe(3);
    expect(standIn.channelMessages('CSTALL1').map((m) => m.ts)).toEqual([posted.ts]);
    expect(standIn.callsOf('conversations.history').filter((c) => c.args.channel === 'CSTALL1')).toHaveLength(1);
    expect(deletesIn('CSTALL1')).toHaveLength(0);
  });

  it('stall-after (posted, answer lost) then an answer: the copy is deleted, the message whose ts is returned kept', async () => {
    // prepare: an unrelated message of the bot with other text, which must survive
    const other = await arrange.chat.postMessage({ channel: 'CSTALL2', text: 'another message' });
    let stalls = 0;
    standIn.fault = (method) => (method === 'chat.postMessage' && stalls++ < 1 ? { stall: 'after' } : undefined);
    const poster = new RetryingPoster(new WebApiPoster(web), { baseDelayMs: 1 });

    // act
    const posted = await poster.post('CSTALL2', { text: 'run r-000000000002' });

    // assess
    expect(standIn.callsOf('chat.postMessage').filter((c) => c.args.channel === 'CSTALL2')).toHaveLength(3);
    expect(deletesIn('CSTALL2')).toHaveLength(1);
    expect(standIn.channelMessages('CSTALL2').map((m) => [m.ts, m.text])).toEqual([
      [other.ts, 'another message'],
      [posted.ts, 'run r-000000000002'],
    ]);
  });

  it('stall-after on a thread reply: the copy in the thread is deleted, the parent kept', async () => {
    // prepare
    const parent = await arrange.chat.postMessage({ channel: 'CSTALL3', text: 'run r-000000000003' });
    let stalls = 0;
    standIn.fault = (method) => (method === 'chat.postMessage' && stalls++ < 1 ? { stall: 'after' } : undefined);
    const poster = new RetryingPoster(new WebApiPoster(web), { baseDelayMs: 1 });

    // act
    const posted = await poster.post('CSTALL3', { text: 'diff part 1' }, { threadTs: parent.ts as string });

    // assess
    expect(standIn.channelMessages('CSTALL3').map((m) => [m.ts, m.text])).toEqual([
      [parent.ts, 'run r-000000000003'],
      [posted.ts, 'diff part 1'],
    ]);
  });

  it('without the history scope the copy stays, and the post still succeeds', async () => {
    // prepare: Slack refuses the history read as an app without channels:history would be refused
    let stalls = 0;
    standIn.fault = (method) => (method === 'chat.postMessage' && stalls++ < 1 ? { stall: 'after' } : undefined);
    const web2 = new WebClient('xoxb-test', { slackApiUrl: standIn.url, timeout: 250, retryConfig: { retries: 0 } });
    jest.spyOn(web2.conversations, 'history').mockRejectedValue(Object.assign(new Error('missing_scope'), { code: ErrorCode.PlatformError, data: { ok: false, error: 'missing_scope' } }));
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const poster = new RetryingPoster(new WebApiPoster(web2), { baseDelayMs: 1 });

    // act
    const posted = await poster.post('CSTALL4', { text: 'run r-000000000004' });

    // assess
    expect(posted.ts).not.toBe('');
    expect(standIn.channelMessages('CSTALL4')).toHaveLength(2);
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/may have left a copy.*missing_scope/);
    warn.mockRestore();
  });
});
