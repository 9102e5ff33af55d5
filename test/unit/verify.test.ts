import { createHmac } from 'node:crypto';
import { MAX_SKEW_SECONDS, signSlackRequest, verifySlackSignature } from '../../src/slack/verify';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TS = 1_769_515_200;
const BODY = 'token=x&team_id=T1&user_id=UALICE&command=%2Fdr&text=status&trigger_id=1.2.3';

describe('signSlackRequest', () => {
  it("signs v0:timestamp:body with HMAC-SHA256 the way Slack does", () => {
    // prepare
    const expected = `v0=${createHmac('sha256', SECRET).update(`v0:${TS}:${BODY}`).digest('hex')}`;

    // act
    const headers = signSlackRequest(SECRET, BODY, TS);

    // assess
    expect(headers).toEqual({ 'x-slack-signature': expected, 'x-slack-request-timestamp': String(TS) });
  });
});

describe('verifySlackSignature', () => {
  it('accepts a request signed with the secret', () => {
    // prepare
    const headers = signSlackRequest(SECRET, BODY, TS);

    // act
    const verdict = verifySlackSignature(SECRET, headers, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: true });
  });

  it('accepts a body with non-ASCII text', () => {
    // prepare
    const body = 'text=restore+s3+“daily logs/”+—dry-run+🔥';
    const headers = signSlackRequest(SECRET, body, TS);

    // act
    const verdict = verifySlackSignature(SECRET, headers, body, TS);

    // assess
    expect(verdict).toEqual({ ok: true });
  });

  it('refuses a request signed with another secret', () => {
    // prepare
    const headers = signSlackRequest('not-the-secret', BODY, TS);

    // act
    const verdict = verifySlackSignature(SECRET, headers, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a body changed after signing', () => {
    // prepare
    const headers = signSlackRequest(SECRET, BODY, TS);
    const tampered = BODY.replace('text=status', 'text=restore+s3+spawn-binaries-us-east-1');

    // act
    const verdict = verifySlackSignature(SECRET, headers, tampered, TS);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a signature replayed with a newer timestamp', () => {
    // prepare
    const { 'x-slack-signature': sig } = signSlackRequest(SECRET, BODY, TS);
    const headers = { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(TS + 60) };

    // act
    const verdict = verifySlackSignature(SECRET, headers, BODY, TS + 60);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts up to five minutes of skew either way and refuses more', () => {
    // prepare
    const headers = signSlackRequest(SECRET, BODY, TS);

    // act
    const edgeOld = verifySlackSignature(SECRET, headers, BODY, TS + MAX_SKEW_SECONDS);
    const edgeNew = verifySlackSignature(SECRET, headers, BODY, TS - MAX_SKEW_SECONDS);
    const stale = verifySlackSignature(SECRET, headers, BODY, TS + MAX_SKEW_SECONDS + 1);
    const future = verifySlackSignature(SECRET, headers, BODY, TS - MAX_SKEW_SECONDS - 1);

    // assess
    expect(MAX_SKEW_SECONDS).toBe(300);
    expect(edgeOld).toEqual({ ok: true });
    expect(edgeNew).toEqual({ ok: true });
    expect(stale).toEqual({ ok: false, reason: 'stale' });
    expect(future).toEqual({ ok: false, reason: 'stale' });
  });

  it('uses the current time when none is given', () => {
    // prepare
    const fresh = signSlackRequest(SECRET, BODY);
    const old = signSlackRequest(SECRET, BODY, Math.floor(Date.now() / 1000) - 3600);

    // act
    const freshVerdict = verifySlackSignature(SECRET, fresh, BODY);
    const oldVerdict = verifySlackSignature(SECRET, old, BODY);

    // assess
    expect(freshVerdict).toEqual({ ok: true });
    expect(oldVerdict).toEqual({ ok: false, reason: 'stale' });
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['no headers', {}],
    ['no signature', { 'x-slack-request-timestamp': String(TS) }],
    ['no timestamp', { 'x-slack-signature': 'v0=abc' }],
    ['an empty signature', { 'x-slack-signature': '', 'x-slack-request-timestamp': String(TS) }],
    ['an undefined timestamp', { 'x-slack-signature': 'v0=abc', 'x-slack-request-timestamp': undefined }],
  ])('refuses a request with %s as missing', (_case, headers) => {
    // act
    const verdict = verifySlackSignature(SECRET, headers, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses everything when the signing secret is empty, even a request signed with it', () => {
    // prepare
    const headers = signSlackRequest('', BODY, TS);

    // act
    const verdict = verifySlackSignature('', headers, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'missing' });
  });

  it.each(['abc', '1.7e9', '-1769515200', `${TS}.5`, ` ${TS}`, '0x6979c2c0', '1234567890123'])('refuses the timestamp %j', (ts) => {
    // prepare
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${BODY}`).digest('hex')}`;

    // act
    const verdict = verifySlackSignature(SECRET, { 'x-slack-signature': sig, 'x-slack-request-timestamp': ts }, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'stale' });
  });

  it('reads the headers whatever their case', () => {
    // prepare
    const signed = signSlackRequest(SECRET, BODY, TS);
    const headers = { 'X-Slack-Signature': signed['x-slack-signature'], 'X-SLACK-REQUEST-TIMESTAMP': signed['x-slack-request-timestamp'] };

    // act
    const verdict = verifySlackSignature(SECRET, headers, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: true });
  });

  it.each([
    ['a short signature', 'v0=abc'],
    ['an upper-case signature', (signSlackRequest(SECRET, BODY, TS)['x-slack-signature'] ?? '').toUpperCase()],
    ['a signature of the right length in multi-byte characters', `v0=${'é'.repeat(64)}`],
    ['a v1 signature', (signSlackRequest(SECRET, BODY, TS)['x-slack-signature'] ?? '').replace('v0=', 'v1=')],
  ])('refuses %s without throwing', (_case, sig) => {
    // act
    const verdict = verifySlackSignature(SECRET, { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(TS) }, BODY, TS);

    // assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
