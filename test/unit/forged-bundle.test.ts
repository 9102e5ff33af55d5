import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { buildOptions, configFallbackPlugin } from '../../scripts/build';

/*
 * The security suite's forged requests (issue 8): 1,000 generated forged, stale, tampered and
 * replayed requests against the bundle Lambda runs (handlers/slack.ts built as scripts/build does),
 * loaded in its own Node process with every outbound call counted. Each must get 401 and reach
 * nothing: no Slack call, no AWS call, no run. A correctly signed request is the control: it passes.
 */

const ROOT = resolve(__dirname, '../..');
const SECRET = 'forged-suite-signing-secret';
const FORGED = Number(process.env.FORGED_REQUESTS ?? 1000);

interface Req {
  kind: string;
  event: { headers: Record<string, string>; body: string; isBase64Encoded: boolean };
}

const sign = (secret: string, ts: number | string, body: string) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;

const COMMAND = 'token=x&team_id=T0SPAWN01&team_domain=spawn&channel_id=C0SPAWNOPS&channel_name=dr-ops&user_id=U0BOB&user_name=bob&command=%2Fdr&text=restore+s3+spawn-binaries-us-east-1&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2Fx&trigger_id=1.2.3';
const CLICK = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', team: { id: 'T0SPAWN01' }, user: { id: 'U0BOB' }, container: { channel_id: 'C0SPAWNOPS', message_ts: '1.2' }, trigger_id: '1.2.3', actions: [{ action_id: 'run_approve', value: 'ap-000000000000', type: 'button', action_ts: '1' }] }))}`;

/** The ways a request can be forged, stale, tampered with or replayed. */
function forgeries(now: number): fc.Arbitrary<Req> {
  const body = fc.constantFrom(COMMAND, CLICK, 'command=%2Fdr&text=help', 'payload=%7Bnot-json', '');
  const secret = fc.oneof(fc.constant('wrong-secret'), fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s !== SECRET));
  const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
  // Well past Slack's 300 s (the bundle's process starts later than these are made).
  const drift = fc.oneof(fc.integer({ min: 400, max: 10 ** 7 }), fc.integer({ min: -(10 ** 7), max: -400 }));
  const ev = (kind: string, headers: Record<string, string>, b: string, isBase64Encoded = false): Req => ({ kind, event: { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: b, isBase64Encoded } });
  return fc.oneof(
    body.map((b) => ev('no signature', { 'x-slack-request-timestamp': String(now) }, b)),
    body.map((b) => ev('no timestamp', { 'x-slack-signature': sign(SECRET, now, b) }, b)),
    fc.tuple(body, hex).map(([b, h]) => ev('random signature', { 'x-slack-signature': `v0=${h}`, 'x-slack-request-timestamp': String(now) }, b)),
    fc.tuple(body, secret).map(([b, s]) => ev('signed with another secret', { 'x-slack-signature': sign(s, now, b), 'x-slack-request-timestamp': String(now) }, b)),
    fc.tuple(body, drift).map(([b, d]) => ev('stale or future, correctly signed', { 'x-slack-signature': sign(SECRET, now + d, b), 'x-slack-request-timestamp': String(now + d) }, b)),
    fc.tuple(body, body, fc.string({ minLength: 1, maxLength: 20 })).map(([signed, _b, extra]) => ev('body tampered after signing', { 'x-slack-signature': sign(SECRET, now, signed), 'x-slack-request-timestamp': String(now) }, `${signed}&text=${encodeURIComponent(extra)}`)),
    fc.tuple(body, fc.integer({ min: 1, max: 299 })).map(([b, d]) => ev('timestamp header differs from the signed one', { 'x-slack-signature': sign(SECRET, now - d, b), 'x-slack-request-timestamp': String(now) }, b)),
    fc.tuple(body, fc.constantFrom('abc', '', '1e10', `${now}.5`, ' ', '-0', `0x${now.toString(16)}`)).map(([b, t]) => ev('malformed timestamp', { 'x-slack-signature': sign(SECRET, t, b), 'x-slack-request-timestamp': t }, b)),
    body.map((b) => ev('v1 scheme', { 'x-slack-signature': sign(SECRET, now, b).replace('v0=', 'v1='), 'x-slack-request-timestamp': String(now) }, b)),
    body.map((b) => ev('upper-case hex', { 'x-slack-signature': `v0=${sign(SECRET, now, b).slice(3).toUpperCase()}`, 'x-slack-request-timestamp': String(now) }, b)),
    fc.tuple(body, fc.integer({ min: 1, max: 60 })).map(([b, n]) => ev('truncated signature', { 'x-slack-signature': sign(SECRET, now, b).slice(0, -n), 'x-slack-request-timestamp': String(now) }, b)),
    body.filter((b) => b !== '').map((b) => ev('signed over the base64 text, sent as base64', { 'x-slack-signature': sign(SECRET, now, Buffer.from(b).toString('base64')), 'x-slack-request-timestamp': String(now) }, Buffer.from(b).toString('base64'), true)),
    fc.tuple(body, fc.integer({ min: 600, max: 86_400 })).map(([b, age]) => ev('a real request replayed later', { 'x-slack-signature': sign(SECRET, now - age, b), 'x-slack-request-timestamp': String(now - age) }, b)),
  );
}

/** Loads the bundle in a fresh Node process, sends every request, and counts the outbound calls it tried. */
function send(bundle: string, reqs: Req[]): { statuses: number[]; outbound: string[] } {
  const file = join(tmpdir(), `drbot-forged-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(reqs.map((r) => r.event)));
  const script = `
    const http = require('node:http'), https = require('node:https'), net = require('node:net');
    const outbound = [];
    for (const m of [http, https]) for (const f of ['request', 'get']) { const orig = m[f]; m[f] = function (...a) { outbound.push(f + ' ' + String((a[0] && (a[0].hostname || a[0].host || a[0].href)) || a[0]).slice(0, 80)); return orig.apply(this, a); }; }
    const origConnect = net.Socket.prototype.connect; net.Socket.prototype.connect = function (...a) { outbound.push('connect'); return origConnect.apply(this, a); };
    globalThis.fetch = async (u) => { outbound.push('fetch ' + String(u).slice(0, 80)); throw new Error('no network in this test'); };
    const { handler } = require(${JSON.stringify(bundle)});
    (async () => {
      const statuses = [];
      for (const e of JSON.parse(require('node:fs').readFileSync(${JSON.stringify(file)}, 'utf8'))) statuses.push((await handler(e, {})).statusCode);
      await new Promise((r) => setTimeout(r, 200));
      process.stdout.write(JSON.stringify({ statuses, outbound }));
    })().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e) })); });`;
  try {
    const env = { ...process.env, SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-forged-suite', SLACK_BOT_ID: 'BDRBOT', SLACK_BOT_USER_ID: 'UDRBOT', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', STATE_TABLE: 'drbot-state', RUNBOOK_FUNCTION: 'arn:aws:lambda:us-east-1:123456789012:function:runbook:live', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env, maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', process.env.FORGED_DEBUG ? 'inherit' : 'ignore'] });
    const parsed = JSON.parse(out) as { statuses: number[]; outbound: string[]; error?: string };
    if (parsed.error) throw new Error(parsed.error);
    return parsed;
  } finally {
    rmSync(file, { force: true });
  }
}

describe('forged requests against the built Slack bundle', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drbot-forged-'));
    bundle = join(dir, 'slack.js');
    await esbuild.build({ ...buildOptions(join(ROOT, 'handlers/slack.ts'), bundle), plugins: [configFallbackPlugin(() => {})], logLevel: 'silent' });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`answers ${FORGED.toLocaleString('en-US')} forged, stale, tampered and replayed requests with 401 and reaches nothing`, () => {
    // prepare
    const now = Math.floor(Date.now() / 1000);
    const reqs = fc.sample(forgeries(now), { numRuns: FORGED, seed: 20261201 });

    // act
    const { statuses, outbound } = send(bundle, reqs);

    // assess
    const accepted = reqs.flatMap((r, i) => (statuses[i] === 401 ? [] : [`${r.kind}: ${statuses[i]} ${JSON.stringify(r.event).slice(0, 200)}`]));
    console.log(`forged suite: ${reqs.length} requests (${new Set(reqs.map((r) => r.kind)).size} kinds) sent, ${accepted.length} accepted, ${outbound.length} outbound calls`);
    expect(statuses).toHaveLength(FORGED);
    expect(accepted).toEqual([]);
    expect(outbound).toEqual([]);
  }, 120_000);

  it('lets a correctly signed request through (the control: the check above can fail)', () => {
    // prepare
    const now = Math.floor(Date.now() / 1000);
    const body = 'token=x&team_id=T0SPAWN01&channel_id=C0SPAWNOPS&user_id=U0BOB&command=%2Fdr&text=help&trigger_id=9.9.9';

    // act
    const { statuses, outbound } = send(bundle, [{ kind: 'genuine', event: { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': sign(SECRET, now, body), 'x-slack-request-timestamp': String(now) }, body, isBase64Encoded: false } }]);

    // assess: it is answered, and its audit write is an outbound call the counter sees
    expect(statuses).toEqual([200]);
    expect(outbound.length).toBeGreaterThan(0);
  }, 120_000);
});
