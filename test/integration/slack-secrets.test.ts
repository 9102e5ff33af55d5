import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../src/errors';
import { loadSlackSecrets, once } from '../../src/runtime/secrets';
import { useMoto } from '../helpers/moto';

/*
 * Where the Lambdas get the Slack signing secret and bot token: the environment, or a Secrets
 * Manager secret (template.yaml's SLACK_SECRET_ARN), read here from moto.
 */

describe('loadSlackSecrets', () => {
  const moto = useMoto();
  const sm = (): SecretsManagerClient => moto().clients.secretsManager('us-east-1');
  const secret = async (name: string, SecretString: string): Promise<string> => (await sm().send(new CreateSecretCommand({ Name: name, SecretString }))).ARN ?? '';

  it('reads signingSecret and botToken from the secret named by SLACK_SECRET_ARN', async () => {
    // prepare
    const arn = await secret('drbot/slack-ok', JSON.stringify({ signingSecret: 'sig-from-sm', botToken: 'xoxb-from-sm' }));

    // act
    const got = await loadSlackSecrets({ SLACK_SECRET_ARN: arn }, sm());

    // assess
    expect(got).toEqual({ signingSecret: 'sig-from-sm', botToken: 'xoxb-from-sm' });
  });

  it('prefers the environment when both variables are set, and asks nothing of Secrets Manager', async () => {
    // prepare
    const send = jest.spyOn(sm(), 'send');

    // act
    const got = await loadSlackSecrets({ SLACK_SIGNING_SECRET: 'sig-env', SLACK_BOT_TOKEN: 'xoxb-env', SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unused' }, sm());

    // assess
    expect(got).toEqual({ signingSecret: 'sig-env', botToken: 'xoxb-env' });
    expect(send).not.toHaveBeenCalled();
    send.mockRestore();
  });

  it('uses the secret when only one of the two variables is set', async () => {
    // prepare
    const arn = await secret('drbot/slack-half-env', JSON.stringify({ signingSecret: 'sig-sm', botToken: 'xoxb-sm' }));

    // act
    const got = await loadSlackSecrets({ SLACK_BOT_TOKEN: 'xoxb-env', SLACK_SECRET_ARN: arn }, sm());

    // assess
    expect(got).toEqual({ signingSecret: 'sig-sm', botToken: 'xoxb-sm' });
  });

  it.each([
    ['not JSON', 'xoxb-plain-token', 'the Slack secret is not JSON'],
    ['a JSON string', JSON.stringify('xoxb-string-token'), 'needs string fields signingSecret and botToken'],
    ['JSON without botToken', JSON.stringify({ signingSecret: 's' }), 'needs string fields signingSecret and botToken'],
    ['an empty signingSecret', JSON.stringify({ signingSecret: '', botToken: 'xoxb-1' }), 'needs string fields signingSecret and botToken'],
    ['a number for botToken', JSON.stringify({ signingSecret: 's', botToken: 42 }), 'needs string fields signingSecret and botToken'],
    ['JSON null', 'null', 'needs string fields signingSecret and botToken'],
  ])('refuses a secret that is %s with a ConfigError that says what to store, and never echoes it', async (name, value, message) => {
    // prepare
    const arn = await secret(`drbot/slack-bad-${name.replace(/[^a-z]/gi, '-')}`, value);

    // act
    const e = await loadSlackSecrets({ SLACK_SECRET_ARN: arn }, sm()).catch((err: unknown) => err);

    // assess
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain(message);
    for (const part of value.match(/xoxb-[a-z0-9-]+/g) ?? []) expect((e as Error).message).not.toContain(part);
  });

  it('names the variables to set when there is neither an environment pair nor a secret ARN', async () => {
    // act / assess
    await expect(loadSlackSecrets({}, sm())).rejects.toThrow(new ConfigError('no Slack credentials: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or SLACK_SECRET_ARN'));
  });

  it('lets a missing secret surface as the AWS error', async () => {
    // act / assess
    await expect(loadSlackSecrets({ SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:drbot/nope-AbCdEf' }, sm())).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('once', () => {
  it('loads once for the life of the process, and again after a failure', async () => {
    // prepare: fails the first time, then answers
    let calls = 0;
    const load = once(async () => {
      calls++;
      if (calls === 1) throw new Error('Secrets Manager unreachable');
      return `value-${calls}`;
    });

    // act / assess
    await expect(load()).rejects.toThrow('Secrets Manager unreachable');
    const [a, b] = await Promise.all([load(), load()]);
    expect([a, b, await load()]).toEqual(['value-2', 'value-2', 'value-2']);
    expect(calls).toBe(2);
  });
});
