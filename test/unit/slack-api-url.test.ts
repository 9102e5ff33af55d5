import fc from 'fast-check';
import { ConfigError } from '../../src/errors';
import { slackApiUrlOf } from '../../src/runtime/aws';

/** SLACK_API_URL: the Web API base for GovSlack or a stand-in; slack.com when unset. */
describe('slackApiUrlOf', () => {
  it.each([
    [{}, {}],
    [{ SLACK_API_URL: '' }, {}],
    [{ SLACK_API_URL: 'https://slack-gov.com/api/' }, { slackApiUrl: 'https://slack-gov.com/api/' }],
    [{ SLACK_API_URL: 'https://slack-gov.com/api' }, { slackApiUrl: 'https://slack-gov.com/api/' }],
    [{ SLACK_API_URL: 'http://127.0.0.1:4567/api/' }, { slackApiUrl: 'http://127.0.0.1:4567/api/' }],
  ])('reads %j as %j', (env, want) => {
    // act / assess
    expect(slackApiUrlOf(env)).toEqual(want);
  });

  it.each([
    ['slack-gov.com/api', 'is not a URL'],
    ['not a url', 'is not a URL'],
    ['file:///etc/passwd', 'must be an http(s) URL, not file:'],
    ['javascript:alert(1)', 'must be an http(s) URL, not javascript:'],
    ['https://slack-gov.com/api?token=xoxb-1', 'no query, fragment or credentials'],
    ['https://user:pw@slack-gov.com/api/', 'no query, fragment or credentials'],
    ['https://slack-gov.com/api/#x', 'no query, fragment or credentials'],
  ])('refuses %s with a ConfigError', (raw, message) => {
    // act / assess
    expect(() => slackApiUrlOf({ SLACK_API_URL: raw })).toThrow(ConfigError);
    expect(() => slackApiUrlOf({ SLACK_API_URL: raw })).toThrow(message);
  });

  it('either refuses with a ConfigError or returns an http(s) URL ending in a slash, for any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (raw) => {
        let got: { slackApiUrl?: string };
        try {
          got = slackApiUrlOf({ SLACK_API_URL: raw });
        } catch (e) {
          return e instanceof ConfigError;
        }
        return raw === '' ? got.slackApiUrl === undefined : /^https?:\/\/.*\/$/.test(got.slackApiUrl ?? '');
      }),
      { seed: 8, numRuns: 2000 },
    );
  });
});
