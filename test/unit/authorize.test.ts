import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cachedAuthorize } from '../../src/slack/app';

/*
 * Issue 8, fault 11: the ack never waits on Slack. Authorize answers with the token at once; the
 * bot's IDs come from auth.test in the background, and an unreachable Web API is said in words.
 */

/** A Slack Web API stand-in whose auth.test hangs until released, or answers at once. */
async function slackApi(mode: 'hang' | 'answer'): Promise<{ url: string; calls: () => number; release: () => void; close: () => Promise<void> }> {
  let calls = 0;
  const held: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    calls++;
    const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, bot_id: 'BBOT', user_id: 'UBOT' }));
    if (mode === 'hang') held.push(reply);
    else reply();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls: () => calls,
    release: () => held.splice(0).forEach((f) => f()),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const args = {} as Parameters<ReturnType<typeof cachedAuthorize>>[0];

describe('cachedAuthorize', () => {
  it('answers with the token at once while auth.test hangs, then adds the bot IDs once Slack answers, asking once', async () => {
    // prepare
    const api = await slackApi('hang');
    const authorize = cachedAuthorize('xoxb-test', api.url, () => {});

    // act
    const first = await authorize(args);
    const second = await authorize(args);
    while (api.calls() === 0) await new Promise((r) => setTimeout(r, 10));
    api.release();
    let later = await authorize(args);
    for (let i = 0; i < 100 && !('botId' in later); i++) {
      await new Promise((r) => setTimeout(r, 10));
      later = await authorize(args);
    }
    await api.close();

    // assess
    expect(first).toEqual({ botToken: 'xoxb-test' });
    expect(second).toEqual({ botToken: 'xoxb-test' });
    expect(later).toEqual({ botToken: 'xoxb-test', botId: 'BBOT', botUserId: 'UBOT' });
    expect(api.calls()).toBe(1);
  });

  it('says in words that the Web API is unreachable, still answers, and asks again next time', async () => {
    // prepare: a port nothing listens on
    const api = await slackApi('answer');
    const dead = api.url;
    await api.close();
    const warnings: string[] = [];
    const authorize = cachedAuthorize('xoxb-test', dead, (m) => warnings.push(m));

    // act
    const answer = await authorize(args);
    await new Promise((r) => setTimeout(r, 200));
    await authorize(args);
    await new Promise((r) => setTimeout(r, 200));

    // assess
    expect(answer).toEqual({ botToken: 'xoxb-test' });
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toMatch(/cannot reach Slack's Web API \(auth\.test: .*\); commands are still answered/);
    expect(warnings[0]).toContain('SLACK_BOT_ID and SLACK_BOT_USER_ID');
  });
});
