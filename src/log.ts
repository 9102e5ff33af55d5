import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from './slack/deps';

/** Structured JSON logs (Powertools) for Lambda: service name and level from the environment. */
export function lambdaLog(): Log {
  const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'drbot' });
  return {
    info: (m, extra) => logger.info(m, extra ?? {}),
    warn: (m, extra) => logger.warn(m, extra ?? {}),
    error: (m, extra) => logger.error(m, extra ?? {}),
  };
}

/** A logger that keeps quiet except for errors (the terminal chat prints its own output). */
export function quietLog(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`), verbose = false): Log {
  const emit = (level: string) => (message: string, extra?: Record<string, unknown>) => write(JSON.stringify({ level, message, ...extra }));
  const none = () => {};
  return { info: verbose ? emit('INFO') : none, warn: verbose ? emit('WARN') : none, error: emit('ERROR') };
}
