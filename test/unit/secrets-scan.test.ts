import { scanForSecrets } from '../helpers/journal';

describe('the secrets scan of the whole test run', () => {
  it('finds a signing secret the tests used, and secret-shaped text, in Slack calls, logs and audit items', () => {
    // prepare
    const entries = [
      { kind: 'secret', text: 'a1b2c3d4e5f60718' },
      { kind: 'slack', text: '{"method":"chat.postMessage","args":{"text":"plan"}}' },
      { kind: 'log', text: 'signing with a1b2c3d4e5f60718 now' },
      { kind: 'audit', text: '{"detail":"token xoxb-1234-5678-abcdef"}' },
      { kind: 'slack', text: `{"text":"x-slack-signature: v0=${'ab'.repeat(32)}"}` },
      { kind: 'log', text: 'SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"' },
    ];

    // act
    const r = scanForSecrets(entries);

    // assess
    expect(r.counts).toEqual({ slack: 2, log: 2, audit: 1 });
    expect(r.found.map((f) => f.split(':')[0])).toEqual(['log', 'audit', 'slack', 'log']);
  });

  it('finds nothing in ordinary output', () => {
    expect(scanForSecrets([{ kind: 'secret', text: 'a1b2c3d4e5f60718' }, { kind: 'log', text: 'run r-0123 succeeded: 300 objects restored' }]).found).toEqual([]);
  });
});
