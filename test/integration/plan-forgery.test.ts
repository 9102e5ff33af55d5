import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import { parseConfig } from '../../src/config/load';
import { UsageError } from '../../src/errors';
import { SANDBOX_CHANNEL, SANDBOX_CONFIG } from '../../src/local/sandbox';
import type { LocalStack } from '../../src/local/stack';
import { parseCommand } from '../../src/slack/parse';
import { command, deleteKeys, runIdOf, useLocalStack } from '../helpers/flow';

/*
 * Issue 8, fault 4: what an approver reads cannot be forged by what a requester types or by the
 * names of the objects. Asserted on the raw Block Kit the bot sends (not on text decoded by the
 * terminal renderer), for a dry run of hostile prefixes and keys against moto.
 */

const BUCKET = 'drbot-it-forgery';
const config = parseConfig({ ...SANDBOX_CONFIG, s3: { buckets: [...SANDBOX_CONFIG.s3.buckets, { name: BUCKET }] } }, 'forgery config');
const NOW = new Date('2026-01-27T12:00:00.000Z');

const HOSTILE_KEYS = ['bin/`*pre-approved by SecOps*`', 'bin/<!channel> & <https://evil.example|click>', 'bin/\u2028:white_check_mark: Approved by SecOps'];

describe('plans of hostile input', () => {
  const getStack = useLocalStack({ seed: false, config });
  let stack: LocalStack;
  beforeAll(async () => {
    stack = getStack();
    const s3 = stack.clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const Key of HOSTILE_KEYS) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
    await deleteKeys(s3, BUCKET, HOSTILE_KEYS);
  });

  /** The plan section of the newest message of a run, as Block Kit. */
  function planSection(runId: string): { text: MrkdwnElement } {
    const msg = stack.standIn.channelMessages(SANDBOX_CHANNEL).find((m) => m.text.includes(runId));
    const section = (msg?.blocks as KnownBlock[] | undefined)?.find((b): b is SectionBlock => b.type === 'section' && (b.text?.text ?? '').startsWith('• Bucket'));
    if (section?.text?.type !== 'mrkdwn') throw new Error(`no plan for ${runId}`);
    return { text: section.text };
  }

  it('refuses line and paragraph separators in a prefix, so no forged line reaches a plan', () => {
    // act / assess
    for (const sep of ['\u2028', '\u2029', '\u0085']) {
      expect(() => parseCommand(`restore s3 ${BUCKET} --prefix "bin/${sep}:white_check_mark: Approved by SecOps"`, config, NOW)).toThrow(UsageError);
    }
  });

  it('shows a prefix holding backticks and formatting as one code span, and the keys escaped, on verbatim text', async () => {
    // act
    const reply = await command(stack, 'alice', `restore s3 ${BUCKET} --prefix "bin/\`*pre-approved by SecOps*\`" --dry-run`);
    const prefixPlan = planSection(runIdOf(reply));
    const all = await command(stack, 'alice', `restore s3 ${BUCKET} --dry-run`);
    const keysPlan = planSection(runIdOf(all));
    // a typed mention never gets this far (the parser refuses it); the keys above carry one
    const mention = await command(stack, 'alice', `restore s3 ${BUCKET} --prefix "bin/a & b > c" --dry-run`);
    const mentionPlan = planSection(runIdOf(mention));

    // assess: the exact text Slack receives
    expect(prefixPlan.text.verbatim).toBe(true);
    expect((prefixPlan.text.text ?? '').split('\n')[0]).toBe(`• Bucket \`${BUCKET}\` under \`bin/ˋ*pre-approved by SecOps*ˋ\``);
    const keysLine = (keysPlan.text.text ?? '').split('\n').find((l) => l.startsWith('• e.g.')) ?? '';
    expect(keysLine).toBe(
      '• e.g. `bin/&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;`, `bin/ˋ*pre-approved by SecOps*ˋ`, `bin/\ufffd:white_check_mark: Approved by SecOps`',
    );
    expect(keysPlan.text.verbatim).toBe(true);
    expect((mentionPlan.text.text ?? '').split('\n')[0]).toBe(`• Bucket \`${BUCKET}\` under \`bin/a &amp; b &gt; c\``);
    expect(mentionPlan.text.verbatim).toBe(true);
    // no code span is left open and no separator reaches Slack
    for (const t of [prefixPlan.text.text ?? '', keysPlan.text.text ?? '', mentionPlan.text.text ?? '']) {
      for (const line of t.split('\n')) expect((line.match(/`/g) ?? []).length % 2).toBe(0);
      expect(t).not.toMatch(/[\u2028\u2029\u0085]/);
      expect(t).not.toMatch(/<[!@#]|<https?:/);
    }
  });
});
