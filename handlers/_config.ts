import bundled from '../drbot.config.yaml';
import { loadConfigFile, parseConfigText } from '../src/config/load';
import type { DrConfig } from '../src/config/schema';

/** The config: the file named by DRBOT_CONFIG if set, else the one bundled at build time. */
export function handlerConfig(): DrConfig {
  return process.env.DRBOT_CONFIG ? loadConfigFile(process.env.DRBOT_CONFIG) : parseConfigText(bundled, 'bundled drbot.config.yaml');
}
