import { checkExecutionBudget, executionBudgetFromEnv, STEP_ALLOWANCE_SECONDS } from '../../src/config/execution';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, parseConfigText } from '../../src/config/load';
import { ConfigError } from '../../src/errors';

const withExpiry = (expiresMinutes: number) => ({ approvals: { required: 1, expiresMinutes } });

describe('checkExecutionBudget', () => {
  it('refuses the longest approval window (1,440 min) on a one-day execution timeout, naming both fixes', () => {
    // Act
    const act = () => checkExecutionBudget(withExpiry(1440), 86_400);

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/approvals\.expiresMinutes \(1440\)/);
    expect(act).toThrow(/RunbookExecutionTimeout=172800 or more/);
  });

  it('names the largest approval window that fits', () => {
    expect(() => checkExecutionBudget(withExpiry(120), 86_400 + 3_600)).toThrow(/Lower approvals\.expiresMinutes to 60 or less/);
  });

  it('accepts every window the config allows on the template default (2 days) and says how the time splits', () => {
    // Act
    const budget = checkExecutionBudget(withExpiry(1440), 172_800);

    // Assess
    expect(budget.stepSeconds).toBe(STEP_ALLOWANCE_SECONDS);
    expect(budget.summary).toBe('runs may last 48 h: up to 24 h waiting for approval, then at least 24 h for the steps');
  });

  it('rejects a timeout that is not a number', () => {
    expect(() => checkExecutionBudget(withExpiry(30), Number('two days'))).toThrow(/DRBOT_EXECUTION_TIMEOUT_SECONDS must be a positive number/);
  });
});

describe('executionBudgetFromEnv', () => {
  it('checks nothing where no timeout is set (local runtime)', () => {
    expect(executionBudgetFromEnv(withExpiry(1440), {})).toBeUndefined();
  });

  it('reads the timeout template.yaml sets', () => {
    expect(() => executionBudgetFromEnv(withExpiry(1440), { DRBOT_EXECUTION_TIMEOUT_SECONDS: '86400' })).toThrow(ConfigError);
    expect(executionBudgetFromEnv(withExpiry(30), { DRBOT_EXECUTION_TIMEOUT_SECONDS: '172800' })?.approvalWaitSeconds).toBe(1800);
  });
});

describe('template.yaml RunbookExecutionTimeout', () => {
  it('defaults to a timeout that fits the longest approval window the config schema allows', () => {
    // Prepare
    const template = readFileSync(join(__dirname, '..', '..', 'template.yaml'), 'utf8');
    const def = Number(/\n {2}RunbookExecutionTimeout:\n(?: {4}.*\n)*? {4}Default: (\d+)\n/.exec(template)?.[1]);
    const example = parseConfigText(readFileSync(join(__dirname, '..', '..', 'drbot.config.example.yaml'), 'utf8'));
    const withWindow = (expiresMinutes: number) => () => parseConfig({ ...example, approvals: { ...example.approvals, expiresMinutes } });
    expect(withWindow(1441)).toThrow(ConfigError);
    const longest = withWindow(1440)();

    // Act / Assess
    expect(() => checkExecutionBudget(longest, def)).not.toThrow();
  });
});
