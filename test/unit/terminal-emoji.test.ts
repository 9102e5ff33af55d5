import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mrkdwnToText } from '../../src/local/render';

/*
 * Issue 12, item 10: the terminal chat shows no raw Slack markup. Every emoji shortcode a message of
 * drbot's can carry (any `:name:` written in src/ between spaces, quotes or brackets) renders as an
 * emoji in the terminal, so a new one cannot slip in as `:heavy_minus_sign:`.
 */

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const SHORTCODE = /(?<=[\s'"`([])(:[a-z][a-z_]+:)(?=[\s'"`)\],.])/g;

describe('emoji shortcodes in the terminal chat', () => {
  const used = [...new Set(sources(join(__dirname, '../../src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(SHORTCODE)].map((m) => m[1] ?? '')))].sort();

  it('finds the shortcodes drbot uses (the scan itself works)', () => {
    expect(used).toEqual(expect.arrayContaining([':white_check_mark:', ':heavy_minus_sign:', ':warning:']));
  });

  it.each(used)('renders %s as an emoji, not as text', (code) => {
    const out = mrkdwnToText(`before ${code} after`, () => 'x');
    expect(out).not.toContain(code);
    expect(out).toMatch(/^before \S+ after$/);
  });

  it('leaves an ARN alone: `:alarm:` inside one is not an emoji', () => {
    const arn = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:spawn-replication-lag';
    expect(mrkdwnToText(`alarm ${arn} fired`, () => 'x')).toBe(`alarm ${arn} fired`);
  });

  it('leaves an unknown shortcode as Slack would show it in text', () => {
    expect(mrkdwnToText('a :not_an_emoji_of_ours: b', () => 'x')).toBe('a :not_an_emoji_of_ours: b');
  });
});
