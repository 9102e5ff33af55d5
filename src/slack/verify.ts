import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack rejects requests older than five minutes; so do we (replay protection). */
export const MAX_SKEW_SECONDS = 300;

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'bad_signature' };

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/**
 * Verifies Slack's request signature (v0 HMAC-SHA256 of `v0:timestamp:body`) before anything
 * else runs. Constant-time compare; stale timestamps refused.
 */
export function verifySlackSignature(
  signingSecret: string,
  headers: Record<string, string | undefined>,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): VerifyResult {
  const sig = header(headers, 'x-slack-signature');
  const ts = header(headers, 'x-slack-request-timestamp');
  if (!sig || !ts || !signingSecret) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(ts) || Math.abs(nowSeconds - Number(ts)) > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' };
  const expected = `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${rawBody}`).digest('hex')}`;
  const a = Buffer.from(sig);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}

/** Signs a body the way Slack does (the terminal chat, tests and the bench use it). */
export function signSlackRequest(signingSecret: string, rawBody: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
  return { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(timestamp) };
}
