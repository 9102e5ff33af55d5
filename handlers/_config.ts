import bundled from '../drbot.config.yaml';
import { loadConfigFile, parseConfig, parseConfigText } from '../src/config/load';
import type { DrConfig } from '../src/config/schema';

/**
 * The config: the file named by DRBOT_CONFIG if set, else the one bundled at build time. `npm run
 * build` bundles it already parsed and validated; `sam build` bundles its text (esbuild's text
 * loader), parsed here on the first request.
 */
export function handlerConfig(): DrConfig {
  if (process.env.DRBOT_CONFIG) return loadConfigFile(process.env.DRBOT_CONFIG);
  return typeof bundled === 'string' ? parseConfigText(bundled, 'bundled drbot.config.yaml') : parseConfig(bundled, 'bundled drbot.config.yaml');
}
