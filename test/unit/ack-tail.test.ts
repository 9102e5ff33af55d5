import { App } from '@slack/bolt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RoleResolver } from '../../src/approvals/roles';
import { parseConfigText } from '../../src/config/load';
import { httpEvent, localContext, slashCommandBody } from '../../src/local/signed';
import type { RunEngine } from '../../src/runbooks/types';
import { AckTail, afterAck, tailBudget, withAckTail } from '../../src/slack/ack-tail';
import type { Log, SlackDeps } from '../../src/slack/deps';
import { createSlackEdge } from '../../src/slack/edge';
import { drCommand } from '../../src/slack/listeners/commands';
import type { SlackPoster } from '../../src/slack/poster';
import { signSlackRequest } from '../../src/slack/verify';
import type { StateStore } from '../../src/store/state';

/** A promise the test settles when it chooses. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open = () => {};
  let fail: (e: Error) => void = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

function recordingLog(): Log & { lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, ...(extra ? { extra } : {}) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

describe('afterAck', () => {
  it('awaits the work where no request tail is in scope (a listener called directly)', async () => {
    // Prepare
    let done = false;

    // Act
    await afterAck('audit', async () => {
      await new Promise((r) => setImmediate(r));
      done = true;
    });

    // Assess
    expect(done).toBe(true);
  });

  it('inside a request, returns before the work is done and leaves it to the tail', async () => {
    // Prepare
    const tail = new AckTail(recordingLog());
    const g = gate();

    // Act
    await withAckTail(tail, () => afterAck('audit', () => g.promise));

    // Assess
    expect(tail.unfinished()).toEqual(['audit']);
    g.open();
    expect(await tail.settle(10_000)).toEqual([]);
  });
});

describe('AckTail.settle', () => {
  it('returns what is still running once the budget is spent, and logs it', async () => {
    // Prepare
    const log = recordingLog();
    const tail = new AckTail(log);
    const g = gate();
    tail.defer('audit', () => g.promise);

    // Act
    const left = await tail.settle(0);

    // Assess
    expect(left).toEqual(['audit']);
    expect(log.lines).toContainEqual({ level: 'warn', message: 'post-ack work unfinished when the response was sent', extra: { work: ['audit'], budgetMs: 0 } });
    g.open();
  });

  it('logs a failed piece of work instead of throwing it into the request', async () => {
    // Prepare
    const log = recordingLog();
    const tail = new AckTail(log);
    tail.defer('audit', () => Promise.reject(new Error('ProvisionedThroughputExceededException')));

    // Act
    const left = await tail.settle(10_000);

    // Assess
    expect(left).toEqual([]);
    expect(log.lines).toContainEqual({ level: 'warn', message: 'post-ack work failed', extra: { work: 'audit', error: 'ProvisionedThroughputExceededException' } });
  });
});

describe('tailBudget', () => {
  it('waits at most the budget, and never past the deadline after the request arrived', () => {
    expect(tailBudget(100, 400, 2500)).toBe(400);
    expect(tailBudget(2300, 400, 2500)).toBe(200);
    expect(tailBudget(4000, 400, 2500)).toBe(0);
  });
});

describe('/dr on the Lambda edge', () => {
  const SECRET = 'ack-tail-test-secret-0123456789';
  const config = parseConfigText(readFileSync(join(__dirname, '..', '..', 'drbot.config.example.yaml'), 'utf8'));

  function edgeWith(audit: () => Promise<void>, budget: number) {
    const audits: string[] = [];
    const deps: SlackDeps = {
      config,
      store: {
        audit: async (e: { result: string }) => {
          await audit();
          audits.push(e.result);
        },
      } as unknown as StateStore,
      engine: {} as RunEngine,
      roles: new RoleResolver(config, async () => []),
      slack: {} as SlackPoster,
      now: () => new Date(),
      log: recordingLog(),
    };
    const handler = createSlackEdge({
      secrets: async () => ({ signingSecret: SECRET, botToken: 'xoxb-test' }),
      log: recordingLog(),
      tailBudget: () => budget,
      build: (_s, receiver) => {
        const app = new App({ receiver, token: 'xoxb-test', botId: 'BTEST', botUserId: 'UTESTBOT' });
        app.command('/dr', drCommand(deps));
      },
    });
    const request = () => {
      const body = slashCommandBody({ user: 'UANYONE', channel: 'C0SPAWNOPS', text: 'help', triggerId: `${Date.now()}.tail`, ...(config.slack.teamId ? { team: config.slack.teamId } : {}) });
      return handler(httpEvent(body, signSlackRequest(SECRET, body)), localContext());
    };
    return { request, audits };
  }

  it('answers /dr help while its audit write is still in flight, and the write completes afterwards', async () => {
    // Prepare
    const slowWrite = gate();
    const edge = edgeWith(() => slowWrite.promise, 0);

    // Act
    const res = await edge.request();

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('drbot commands');
    expect(edge.audits).toEqual([]);
    slowWrite.open();
    await new Promise((r) => setImmediate(r));
    expect(edge.audits).toEqual(['ok']);
  });

  it('waits for a quick audit write within the budget, so the instance is not frozen with it unfinished', async () => {
    // Prepare
    const edge = edgeWith(async () => {}, 10_000);

    // Act
    const res = await edge.request();

    // Assess
    expect(res.statusCode).toBe(200);
    expect(edge.audits).toEqual(['ok']);
  });
});
