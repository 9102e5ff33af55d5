import { GetAliasCommand } from '@aws-sdk/client-lambda';
import type { LocalStack } from '../../src/local/stack';
import { click, requestRun, snapshot, textOf, useLocalStack } from '../helpers/flow';

/*
 * The sandbox `npm start` seeds (src/local/estate.ts): spawn-dns-updater with three published
 * versions and `production` on the newest. A newcomer tries a canary, aborts it, then rolls back.
 */

const FN = 'spawn-dns-updater';

describe('/dr rollback lambda in the sandbox estate', () => {
  const getStack = useLocalStack();
  let stack: LocalStack;
  beforeAll(() => {
    stack = getStack();
  });
  const alias = () => stack.clients.lambda('us-east-1').send(new GetAliasCommand({ FunctionName: FN, Name: 'production' }));

  it('a canary to v2 and its Abort leave production on v3; then the rollback moves production back to v2', async () => {
    // prepare
    const seeded = await alias();

    // act: canary, approved; Abort pressed, approved
    const canary = await requestRun(stack, 'alice', `rollback lambda ${FN} --canary 10`);
    await click(stack, 'bob', canary.message, 'run_approve');
    const watched = snapshot(stack.standIn.message(canary.message.channel, canary.message.ts) ?? canary.message);
    const split = await alias();
    await click(stack, 'alice', watched, 'Abort');
    await click(stack, 'bob', snapshot(stack.standIn.message(canary.message.channel, canary.message.ts) ?? canary.message), 'run_approve');
    const aborted = await alias();
    // then the rollback itself
    const rollback = await requestRun(stack, 'alice', `rollback lambda ${FN}`);
    await click(stack, 'bob', rollback.message, 'run_approve');

    // assess
    expect(seeded.FunctionVersion).toBe('3');
    expect(textOf(canary.message)).toContain('Canary v2: `release 2: retries Route53 throttling`');
    expect(split).toMatchObject({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } });
    expect(textOf(watched)).toContain('No invocations were recorded in the window');
    expect(aborted.FunctionVersion).toBe('3');
    expect(aborted.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(textOf(rollback.message)).toContain('From v3: `release 3: new record format (the bad deploy)`');
    const done = await alias();
    expect(done.FunctionVersion).toBe('2');
    expect(done.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(textOf(stack.standIn.message(rollback.message.channel, rollback.message.ts))).toContain('`production` of `spawn-dns-updater` is on v2 (was v3), with no routing; verified with GetAlias.');
  });
});
