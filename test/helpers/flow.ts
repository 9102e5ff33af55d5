import { createHash } from 'node:crypto';
import type { TestResult } from '@aws/durable-execution-sdk-js-testing';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, type ListObjectVersionsCommandOutput, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KnownBlock } from '@slack/types';
import { mrkdwnToText } from '../../src/local/render';
import { SANDBOX_CHANNEL, SANDBOX_USERS, type SandboxUser } from '../../src/local/sandbox';
import type { ButtonRef, EdgeReply } from '../../src/local/signed';
import type { SlackStandIn, StoredMessage } from '../../src/local/slack-standin';
import type { BulkPut } from '../../src/local/moto';
import type { SeedSummary } from '../../src/local/seed';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../src/local/stack';
import { sharedMoto } from './moto';
import type { RunSummary } from '../../src/runbooks/driver';
import type { RetryOptions } from '../../src/slack/poster';

/**
 * Drives the local stack the way people in a Slack channel would: slash commands and button
 * clicks go in as signed requests, and every helper waits until the runs have settled (done,
 * failed, or parked at an approval) before it returns, so tests read a stable channel.
 */

const NAMES = new Map<string, string>(Object.entries(SANDBOX_USERS).map(([name, id]) => [id, name]));
const userName = (id: string): string => NAMES.get(id) ?? id;

/** A message's blocks (or its fallback text) as plain text: mentions become @name, dates their UTC text, emoji unicode. */
export function textOf(message: Pick<StoredMessage, 'text' | 'blocks'> | undefined): string {
  if (!message) return '';
  const out: string[] = [];
  for (const b of message.blocks as KnownBlock[]) {
    switch (b.type) {
      case 'section':
        if (b.text) out.push(b.text.text);
        for (const f of b.fields ?? []) out.push(f.text);
        break;
      case 'header':
        out.push(b.text.text);
        break;
      case 'context':
        for (const el of b.elements) if (el.type === 'mrkdwn' || el.type === 'plain_text') out.push(el.text);
        break;
      case 'actions':
        for (const el of b.elements) if (el.type === 'button') out.push(`[${el.text.text}]`);
        break;
      default:
        break;
    }
  }
  const raw = out.length ? out.join('\n') : message.text;
  return mrkdwnToText(raw, userName);
}

/** The buttons of a message, as a click would carry them. */
export function buttons(message: Pick<StoredMessage, 'blocks'> | undefined): ButtonRef[] {
  const refs: ButtonRef[] = [];
  for (const b of (message?.blocks ?? []) as KnownBlock[]) {
    if (b.type !== 'actions') continue;
    for (const el of b.elements) {
      if (el.type !== 'button') continue;
      refs.push({ action_id: el.action_id ?? '', value: el.value ?? '', text: el.text.text, ...(b.block_id ? { block_id: b.block_id } : {}) });
    }
  }
  return refs;
}

/** The newest (by post order) channel message that has buttons: the run waiting for a decision. */
export function latestRunMessage(standIn: SlackStandIn, channel: string = SANDBOX_CHANNEL): StoredMessage | undefined {
  const all = standIn.channelMessages(channel);
  for (let i = all.length - 1; i >= 0; i--) {
    const m = all[i] as StoredMessage;
    if (m.blocks.some((b) => b.type === 'actions')) return m;
  }
  return undefined;
}

/** The channel message of a run, found by its run id. */
export function runMessage(standIn: SlackStandIn, runId: string, channel: string = SANDBOX_CHANNEL): StoredMessage | undefined {
  return standIn.channelMessages(channel).find((m) => m.text.includes(runId) || textOf(m).includes(runId));
}

/** The run id from a command's ack ("Started run `r-…`"). */
export function runIdOf(reply: EdgeReply): string {
  const id = /\br-[0-9a-f]{12}\b/.exec(reply.json?.text ?? '')?.[0];
  if (!id) throw new Error(`no run id in the ack: ${reply.raw.slice(0, 300)}`);
  return id;
}

/** Ephemeral messages shown to one user, oldest first. */
export function ephemeralsFor(standIn: SlackStandIn, user: SandboxUser, channel: string = SANDBOX_CHANNEL): StoredMessage[] {
  const id = SANDBOX_USERS[user];
  return [...standIn.messages.values()].filter((m) => m.channel === channel && m.visibleTo === id);
}

/** `/dr TEXT` as a sandbox user; resolves once every run has settled. */
export async function command(stack: LocalStack, user: SandboxUser, text: string): Promise<EdgeReply> {
  const reply = await stack.client.command({ user: SANDBOX_USERS[user], userName: user, channel: SANDBOX_CHANNEL, text });
  await stack.engine.idle();
  return reply;
}

/**
 * Clicks a button on a message as it is now (or as it was, when given a snapshot: a stale
 * message is what a double click sends). `button` is an action id or a label.
 */
export async function click(stack: LocalStack, user: SandboxUser, message: StoredMessage, button: string, opts: { settle?: boolean } = {}): Promise<EdgeReply> {
  const ref = buttons(message).find((b) => b.action_id === button || b.text.toLowerCase() === button.toLowerCase());
  if (!ref) throw new Error(`no button ${JSON.stringify(button)} on message ${message.ts}: ${textOf(message).slice(0, 300)}`);
  const reply = await stack.client.click({
    user: SANDBOX_USERS[user],
    channel: message.channel,
    messageTs: message.ts,
    messageText: message.text,
    blocks: message.blocks,
    button: ref,
  });
  if (opts.settle ?? true) await stack.engine.idle();
  return reply;
}

/** A copy of a message as it is now, so later updates do not change what a test clicks. */
export function snapshot(message: StoredMessage): StoredMessage {
  return JSON.parse(JSON.stringify(message)) as StoredMessage;
}

/** Posts a run for approval: the command, then the message with the Approve / Reject buttons. */
export async function requestRun(stack: LocalStack, user: SandboxUser, text: string): Promise<{ reply: EdgeReply; runId: string; message: StoredMessage; approvalId: string }> {
  const reply = await command(stack, user, text);
  const runId = runIdOf(reply);
  const message = latestRunMessage(stack.standIn);
  if (!message || !textOf(message).includes(runId)) {
    throw new Error(`run ${runId} posted no message with buttons; channel: ${stack.standIn.channelMessages(SANDBOX_CHANNEL).map(textOf).join('\n---\n').slice(-1500)}`);
  }
  const approvalId = buttons(message).find((b) => b.action_id === 'run_approve')?.value ?? '';
  return { reply, runId, message: snapshot(message), approvalId };
}

/** alice requests, bob approves; resolves with the plan's text and the finished run's message text. */
export async function approvedRun(stack: LocalStack, text: string): Promise<{ runId: string; plan: string; result: string; ts: string }> {
  const { runId, message } = await requestRun(stack, 'alice', text);
  const plan = textOf(message);
  await click(stack, 'bob', message, 'run_approve');
  return { runId, plan, result: textOf(stack.standIn.message(message.channel, message.ts)), ts: message.ts };
}

/** Execution names the engine started since `before` (a names() snapshot). */
export function newRuns(stack: LocalStack, before: readonly string[]): string[] {
  const seen = new Set(before);
  return stack.engine.names().filter((n) => !seen.has(n));
}

/** The finished execution of a run, found by its run id (its checkpointed operations, for tests): undefined while it is running or parked. */
export function executionOf(stack: LocalStack, runId: string): TestResult<unknown> | undefined {
  for (const name of stack.engine.names()) {
    const r = stack.engine.result(name);
    if (!r) continue;
    let value: unknown;
    try {
      value = r.getResult();
    } catch {
      // a failed execution: not a run's summary
      continue;
    }
    if ((value as RunSummary | undefined)?.runId === runId) return r;
  }
  return undefined;
}

/** The summary a finished run returned, found by its run id; undefined while it is running or parked. */
export function runSummary(stack: LocalStack, runId: string): RunSummary | undefined {
  return executionOf(stack, runId)?.getResult() as RunSummary | undefined;
}

/** Every page of ListObjectVersions. */
export async function listAllVersions(s3: S3Client, bucket: string, prefix?: string): Promise<{ markers: NonNullable<ListObjectVersionsCommandOutput['DeleteMarkers']>; versions: NonNullable<ListObjectVersionsCommandOutput['Versions']> }> {
  const markers: NonNullable<ListObjectVersionsCommandOutput['DeleteMarkers']> = [];
  const versions: NonNullable<ListObjectVersionsCommandOutput['Versions']> = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const r = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        ...(prefix ? { Prefix: prefix } : {}),
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    );
    markers.push(...(r.DeleteMarkers ?? []));
    versions.push(...(r.Versions ?? []));
    if (!r.IsTruncated) break;
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
  return { markers, versions };
}

/** Keys whose newest version is a delete marker (what an undelete restores), sorted. */
export async function latestMarkerKeys(s3: S3Client, bucket: string, prefix?: string): Promise<string[]> {
  const { markers } = await listAllVersions(s3, bucket, prefix);
  return markers
    .filter((m) => m.IsLatest)
    .map((m) => m.Key ?? '')
    .sort();
}

/** Deletes keys (no version id: each gets a delete marker), 1,000 a call. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    if (r.Errors?.length) throw new Error(`DeleteObjects failed for ${r.Errors.length} keys: ${r.Errors[0]?.Code}`);
  }
}

/**
 * A new versioned bucket holding `n` objects `bin/00000`… (each its key as body), all deleted: `n`
 * delete markers. Returns the keys. With `putMany` (the stack's moto) the objects are written in one
 * bulk request through moto's own S3 backend, as PutObject would write them; otherwise one PutObject each.
 */
export async function deletedObjects(s3: S3Client, bucket: string, n: number, opts: { putMany?: BulkPut } = {}): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => `bin/${String(i).padStart(5, '0')}`);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  if (opts.putMany) await opts.putMany(bucket, keys.map((key) => ({ key, body: key })));
  else
    await eachLimit(keys, 32, async (Key) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));
    });
  await deleteKeys(s3, bucket, keys);
  return keys;
}

/** Runs fn over items with at most `limit` in flight. */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The real clock and timer, taken when this module loads: with skipTime the durable runner fakes
 * the process's clock, which then falls behind the real one (moto's).
 */
const REAL_DATE = globalThis.Date;
const REAL_SET_TIMEOUT = globalThis.setTimeout;

/** The real wall clock's time (the app's and moto's), whatever the durable runner has done to `Date`. */
export function realNow(): number {
  return REAL_DATE.now();
}

/**
 * Waits until the real wall clock (moto's, not the runner's fake one) is into its next whole second (at most a second): S3 and moto stamp
 * LastModified and backup times to the second, so what is written after this sorts after what was
 * written before it.
 */
export async function nextSecond(): Promise<void> {
  const second = Math.floor(REAL_DATE.now() / 1000);
  while (Math.floor(REAL_DATE.now() / 1000) === second) await new Promise((r) => REAL_SET_TIMEOUT(r, Math.max(1, 1000 - (REAL_DATE.now() % 1000))));
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. Waiting only: asserts nothing about time. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, opts: { timeoutMs: number; everyMs?: number; what: string }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${opts.what} after ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
  }
}

/**
 * Slack retry options for a test stack (`slackRetry`) that record each wait the runs' posters ask
 * for (Retry-After, backoff) instead of sleeping it: a test asserts the waits its faults caused,
 * and a Slack that rate-limits six times costs no six real seconds.
 */
export function recordedSlackWaits(opts: Omit<RetryOptions, 'sleep'>): RetryOptions & { waits: number[] } {
  const waits: number[] = [];
  return {
    ...opts,
    waits,
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
}

/** One local stack for a test file: started before its tests, closed after. Returns a getter. */
export function useLocalStack(opts: Partial<LocalStackOptions> = {}): () => LocalStack {
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    stack = await startSandboxStack(opts);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });
  return () => {
    if (!stack) throw new Error('the local stack is not started yet');
    return stack;
  };
}

/** Whether a block's moto state is kept by restoreBeforeEach now (one at a time: the worker's moto keeps one copy). */
let restoring = false;

/**
 * Each test of the calling block starts from moto as the block's beforeAll hooks left it: that
 * state (AWS and drbot's state table, both in moto) is kept once they are done and put back before
 * every test but the first, so no test sees what another one made, whatever their order (jest
 * --randomize). Call it after the block's own beforeAll hooks, in one block at a time (not in a
 * block nested in another that calls it). What lives in this process (the Slack stand-in's
 * messages, the engine's runs, SDK middleware) is not reset. A restore costs ~0.2 s on an unseeded
 * moto and about a second on the seeded sandbox: prefer distinct names per test there.
 */
export function restoreBeforeEach(getStack: () => LocalStack): void {
  // One name for every block, so the worker's moto holds one such copy, not one per test file.
  const key = 'restore-before-each';
  let untouched = false;
  const moto = () => {
    const m = getStack().moto;
    if (!m?.snapshot || !m.restore) throw new Error('restoreBeforeEach needs the sandbox moto (snapshot and restore)');
    return { snapshot: m.snapshot, restore: m.restore };
  };
  beforeAll(async () => {
    if (restoring) throw new Error('restoreBeforeEach: called in a block nested in another that calls it');
    restoring = true;
    await moto().snapshot(key);
    untouched = true;
  });
  afterAll(() => {
    restoring = false;
  });
  beforeEach(async () => {
    // The first test finds the state as it was kept.
    if (untouched) {
      untouched = false;
      return;
    }
    if (!(await moto().restore(key))) throw new Error(`restoreBeforeEach: no moto snapshot ${key}`);
  });
}

/**
 * Every wait this test file's runs asked for before trying AWS again (throttling, 5xx), in order:
 * recorded by the sandbox stacks instead of slept (src/aws/retry-wait.ts), so a throttling fault costs
 * no real seconds and a test can assert the waits it caused.
 */
export const awsRetryWaits: number[] = [];

/** A sandbox stack (skipping time) on the worker's shared moto when there is one: see sharedSandbox. */
export async function startSandboxStack(opts: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  const retryWait = async (ms: number): Promise<void> => {
    awsRetryWaits.push(ms);
  };
  return startLocalStack({ mode: 'sandbox', skipTime: true, retryWait, ...(await sharedSandbox(opts)), ...opts });
}

/**
 * The worker's shared moto for a sandbox stack (test/helpers/moto.ts), holding nothing an earlier
 * file left: restored to the seeded sandbox when an earlier file of this worker seeded the same
 * one (same config, same deleted objects), else to moto's start, seeded by this stack and then
 * kept for the next file. Seeding took seconds a file; a restore takes a fraction of one.
 */
async function sharedSandbox(opts: Partial<LocalStackOptions>): Promise<Partial<LocalStackOptions>> {
  const moto = opts.mode === 'aws' || opts.moto || opts.seeded ? undefined : sharedMoto();
  // A clock of its own would date the seed differently from the kept one: a moto of its own.
  if (!moto?.restore || !moto.snapshot || (opts.seed !== false && opts.now)) return {};
  // undefined: no such snapshot; null: the shared moto died or does not answer (a moto of its own then).
  const restore = (name: string) => (moto.restore as NonNullable<typeof moto.restore>)(name).catch(() => null);
  const base = { moto: Promise.resolve(moto) };
  if (opts.seed === false) return (await restore('empty')) ? base : {};
  const key = `seeded-${createHash('sha256').update(JSON.stringify({ config: opts.config ?? null, deletedObjects: opts.deletedObjects ?? null })).digest('hex')}`;
  const hit = await restore(key);
  if (hit) return { ...base, seeded: Promise.resolve(reviveSeed(hit.meta as SeedJson)) };
  if (hit === null || !(await restore('empty'))) return {};
  const snapshot = moto.snapshot;
  return { ...base, onSeeded: (seed) => snapshot(key, seedJson(seed)) };
}

type Seed = { summary: SeedSummary; at: Date };
type SeedJson = { at: string; summary: Omit<SeedSummary, 'estate'> & { estate: Omit<SeedSummary['estate'], 'packages'> & { packages: [string, string][] } } };

function seedJson(seed: Seed): SeedJson {
  const { estate } = seed.summary;
  return { at: seed.at.toISOString(), summary: { ...seed.summary, estate: { ...estate, packages: [...estate.packages].map(([k, v]) => [k, Buffer.from(v).toString('base64')]) } } };
}

function reviveSeed(j: SeedJson): Seed {
  const { estate } = j.summary;
  return { at: new Date(j.at), summary: { ...j.summary, estate: { ...estate, packages: new Map(estate.packages.map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])) } } };
}
