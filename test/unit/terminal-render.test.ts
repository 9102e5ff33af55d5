import type { KnownBlock } from '@slack/types';
import { formatMrkdwn, localTime, renderBlocks, type TerminalStyle } from '../../src/local/render';

const names: Record<string, string> = { UBOB: 'bob' };
const plain: TerminalStyle = { userName: (id) => names[id] ?? id, channelName: (id) => (id === 'C0OPS' ? 'dr-ops' : id), colour: false };
const colour: TerminalStyle = { ...plain, colour: true };

describe('formatMrkdwn', () => {
  it('shows bold, italics, strike and code as bare text when not a terminal', () => {
    // act
    const t = formatMrkdwn('*Done*: _ref: abc_ ~old~ `a*b*c` *`/dr status`* (viewer)', plain);

    // assess
    expect(t).toBe('Done: ref: abc old a*b*c /dr status (viewer)');
  });

  it('uses ANSI bold, italics and colour on a terminal', () => {
    // act
    const t = formatMrkdwn('*Done* _ref_ `x`', colour);

    // assess
    expect(t).toBe('\x1b[1mDone\x1b[22m \x1b[3mref\x1b[23m \x1b[36mx\x1b[39m');
  });

  it('resolves user and channel mentions to names, links to text (url), dates to local time', () => {
    // prepare
    const epoch = Date.UTC(2026, 11, 1, 13, 36, 50) / 1000;

    // act
    const t = formatMrkdwn(`<@UBOB> in <#C0OPS> and <#C0X|named>; <https://example.com/a|the console>; <!date^${epoch}^{date_short_pretty} {time_secs}|2026-12-01 13:36:50Z>`, plain);

    // assess
    expect(t).toBe(`@bob in #dr-ops and #named; the console (https://example.com/a); ${localTime(epoch, true)}`);
  });

  it('leaves identifiers with underscores and arithmetic stars alone, and does not turn escaped text into mentions', () => {
    // act
    const t = formatMrkdwn('snake_case_name 2*3*4 &lt;@UBOB&gt; spawn*', plain);

    // assess
    expect(t).toBe('snake_case_name 2*3*4 <@UBOB> spawn*');
  });

  it('escapes control characters, so a message cannot drive the terminal', () => {
    // act
    const t = formatMrkdwn('a\u001b[31mred `b\u001b[2Jc`', colour);

    // assess
    expect(t).not.toContain('\u001b[31m');
    expect(t).not.toContain('\u001b[2J');
    expect(t).toContain('\\u001b[31m');
  });
});

describe('renderBlocks', () => {
  it('renders section fields as label: value lines, not run together', () => {
    // prepare
    const blocks: KnownBlock[] = [
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Reason*\nThreshold Crossed (900.0).' },
          { type: 'mrkdwn', text: '*Metric*\nAWS/S3 ReplicationLatency > 900' },
          { type: 'mrkdwn', text: '*Bucket*\n`spawn-binaries`' },
        ],
      },
    ];

    // act
    const r = renderBlocks(blocks, '', plain, () => 1);

    // assess
    expect(r.text).toBe('Reason: Threshold Crossed (900.0).\nMetric: AWS/S3 ReplicationLatency > 900\nBucket: spawn-binaries');
  });
});
