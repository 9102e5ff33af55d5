import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DurableContext, withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { AwsClients } from '../../src/aws/clients';
import { AwsCallError } from '../../src/errors';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import { drive, type Runbook, STEP } from '../../src/runbooks/driver';
import type { RunbookDeps, RunInput } from '../../src/runbooks/types';
import type { SlackMessage, SlackPoster } from '../../src/slack/poster';
import { StateStore } from '../../src/store/state';

/** A SlackPoster that keeps the latest text of every message. */
class RecordingPoster implements SlackPoster {
  readonly latest = new Map<string, SlackMessage>();
  private n = 0;
  async post(channel: string, msg: SlackMessage) {
    const ts = `1.${++this.n}`;
    this.latest.set(ts, msg);
    return { channel, ts };
  }
  async update(_channel: string, ts: string, msg: SlackMessage) {
    this.latest.set(ts, msg);
  }
  async ephemeral() {}
  text(ts = '1.1'): string {
    return JSON.stringify(this.latest.get(ts)?.blocks ?? []) + (this.latest.get(ts)?.text ?? '');
  }
}

const input: RunInput = {
  kind: 'status',
  runId: 'r-000000000001',
  requester: 'UALICE',
  channel: 'CSANDBOXOPS',
  commandText: '/dr status',
  requestedAt: new Date().toISOString(),
};

describe('drive: a run that fails still says so in its message', () => {
  let server: ReturnType<typeof dynalite>;
  let deps: RunbookDeps;
  let slack: RecordingPoster;

  beforeAll(async () => {
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await StateStore.createTable(ddb, 'driver-test');
    deps = { config: SANDBOX_CONFIG, clients: new AwsClients('us-east-1'), store: new StateStore(ddb, 'driver-test'), slack: new RecordingPoster(), now: () => new Date() };
  });
  beforeEach(() => {
    slack = new RecordingPoster();
    deps = { ...deps, slack };
  });
  afterAll(async () => {
    await LocalDurableTestRunner.teardownTestEnvironment();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function run(rb: Runbook<RunInput, null>) {
    const handler = withDurableExecution(async (i: RunInput, ctx: DurableContext) => drive(ctx, deps, i, rb));
    const execution = await new LocalDurableTestRunner({ handlerFunction: handler }).run({ payload: input });
    return execution.getResult() as Awaited<ReturnType<typeof drive>>;
  }

  it('reports a permanent AWS error (access denied) at once, naming it, without retrying it', async () => {
    // Prepare
    let attempts = 0;
    const rb: Runbook<RunInput, null> = {
      title: () => 'Denied work',
      destructive: false,
      plan: async () => ({ lines: ['one step'], data: null }),
      execute: async (ctx) => {
        await ctx.step(
          'work',
          async () => {
            attempts++;
            throw new AwsCallError('DeleteObjects', 'spawn-binaries-us-east-1', 'AccessDenied', 'Access Denied');
          },
          STEP,
        );
        return { ok: true, lines: [], failures: [] };
      },
    };
    // Act
    const summary = await run(rb);
    // Assess
    expect(summary.status).toBe('failed');
    expect(attempts).toBe(1);
    expect(slack.text()).toContain('Failed');
    expect(slack.text()).toContain('Access Denied');
    expect(slack.text()).not.toContain('Running');
  });

  it('retries a transient failure three times, then shows the reason instead of staying at Running', async () => {
    // Prepare
    let attempts = 0;
    const rb: Runbook<RunInput, null> = {
      title: () => 'Flaky work',
      destructive: false,
      plan: async () => ({ lines: ['one step'], data: null }),
      execute: async (ctx) => {
        await ctx.step(
          'work',
          async () => {
            attempts++;
            throw new Error('socket hang up');
          },
          STEP,
        );
        return { ok: true, lines: [], failures: [] };
      },
    };
    // Act
    const summary = await run(rb);
    // Assess
    expect(summary.status).toBe('failed');
    expect(attempts).toBe(3);
    expect(slack.text()).toContain('The run stopped');
    expect(slack.text()).toContain('socket hang up');
    expect(slack.text()).toContain(input.runId);
  });

  it('says Failed when planning itself breaks unexpectedly', async () => {
    // Prepare
    const rb: Runbook<RunInput, null> = {
      title: () => 'Broken plan',
      destructive: false,
      plan: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
      execute: async () => ({ ok: true, lines: [], failures: [] }),
    };
    // Act
    const summary = await run(rb);
    // Assess
    expect(summary.status).toBe('failed');
    expect(slack.text()).toContain('Failed');
    expect(slack.text()).not.toContain('Planning');
    const audit = await deps.store.listAudit(5);
    expect(audit.some((e) => e.action === 'result' && e.result === 'failed' && e.runId === input.runId)).toBe(true);
  });
});
