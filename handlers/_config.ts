import bundled from '../drbot.config.yaml';
import { executionBudgetFromEnv } from '../src/config/execution';
import { loadConfigFile, parseConfig, parseConfigText } from '../src/config/load';
import type { DrConfig } from '../src/config/schema';
import { lambdaLog } from '../src/log';

/**
 * The config: the file named by DRBOT_CONFIG if set, else the one bundled at build time. `npm run
 * build` bundles it already parsed and validated; `sam build` bundles its text (esbuild's text
 * loader), parsed here on the first request. It is checked against the runbook execution timeout
 * (DRBOT_EXECUTION_TIMEOUT_SECONDS, set by template.yaml), and the budget is logged once.
 */
export function handlerConfig(): DrConfig {
  const config = process.env.DRBOT_CONFIG
    ? loadConfigFile(process.env.DRBOT_CONFIG)
    : typeof bundled === 'string'
      ? parseConfigText(bundled, 'bundled drbot.config.yaml')
      : parseConfig(bundled, 'bundled drbot.config.yaml');
  const budget = executionBudgetFromEnv(config);
  if (budget) lambdaLog().info(`drbot config: ${budget.summary}`, { executionTimeoutSeconds: budget.executionTimeoutSeconds, approvalWaitSeconds: budget.approvalWaitSeconds });
  return config;
}
