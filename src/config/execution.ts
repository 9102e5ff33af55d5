import { ConfigError } from '../errors';
import type { DrConfig } from './schema';

/**
 * A run is one durable execution: it waits for its approval (up to `approvals.expiresMinutes`),
 * then runs its steps (restores and backups poll until AVAILABLE, copies take hours on big
 * buckets). Both must fit in the runbook function's `DurableConfig.ExecutionTimeout`, or a run
 * approved late is stopped before its steps and report.
 */
export const STEP_ALLOWANCE_SECONDS = 24 * 60 * 60;

/** The environment variable template.yaml sets from the RunbookExecutionTimeout parameter. */
export const EXECUTION_TIMEOUT_ENV = 'DRBOT_EXECUTION_TIMEOUT_SECONDS';

export interface ExecutionBudget {
  executionTimeoutSeconds: number;
  approvalWaitSeconds: number;
  /** What is left for the steps after the longest approval wait. */
  stepSeconds: number;
  /** One line for the start-up log. */
  summary: string;
}

function hours(seconds: number): string {
  const h = seconds / 3600;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}

/**
 * Checks the config against the execution timeout; throws ConfigError saying which value to change
 * when the approval window plus a day of steps does not fit.
 */
export function checkExecutionBudget(config: Pick<DrConfig, 'approvals'>, executionTimeoutSeconds: number): ExecutionBudget {
  if (!Number.isFinite(executionTimeoutSeconds) || executionTimeoutSeconds <= 0) {
    throw new ConfigError(`${EXECUTION_TIMEOUT_ENV} must be a positive number of seconds (got ${String(executionTimeoutSeconds)})`);
  }
  const approvalWaitSeconds = config.approvals.expiresMinutes * 60;
  const stepSeconds = executionTimeoutSeconds - approvalWaitSeconds;
  if (stepSeconds < STEP_ALLOWANCE_SECONDS) {
    const maxMinutes = Math.floor((executionTimeoutSeconds - STEP_ALLOWANCE_SECONDS) / 60);
    const needed = approvalWaitSeconds + STEP_ALLOWANCE_SECONDS;
    throw new ConfigError(
      `approvals.expiresMinutes (${config.approvals.expiresMinutes}) does not fit the runbook execution timeout (${executionTimeoutSeconds} s): ` +
        `a run waits up to ${hours(approvalWaitSeconds)} for approval and needs ${hours(STEP_ALLOWANCE_SECONDS)} for its steps. ` +
        (maxMinutes > 0 ? `Lower approvals.expiresMinutes to ${maxMinutes} or less, or ` : '') +
        `deploy with RunbookExecutionTimeout=${needed} or more.`,
    );
  }
  return {
    executionTimeoutSeconds,
    approvalWaitSeconds,
    stepSeconds,
    summary: `runs may last ${hours(executionTimeoutSeconds)}: up to ${hours(approvalWaitSeconds)} waiting for approval, then at least ${hours(stepSeconds)} for the steps`,
  };
}

/** The budget from the environment, or undefined where no timeout is set (local runtime, tests). */
export function executionBudgetFromEnv(config: Pick<DrConfig, 'approvals'>, env: NodeJS.ProcessEnv = process.env): ExecutionBudget | undefined {
  const raw = env[EXECUTION_TIMEOUT_ENV];
  if (raw === undefined || raw === '') return undefined;
  return checkExecutionBudget(config, Number(raw));
}
