import { ConfigError, isTbiError, type TbiError } from '@tbi/plugin-api';
import { InvalidConfigError } from '../config/config-problems.js';
import { openSandbox, sourceLoaderFor } from './open-services.js';
import { prepareHost } from './prepare-host.js';

/**
 * Rethrows a config error with the problems of the later stages added: when the file itself has
 * problems, the plugins and converters of the parts that are fine are still checked, so one run
 * of `tbi validate` names every problem (`InvalidConfigError.partial` is what is left to check).
 *
 * @example const loaded = await loadConfig(file).catch(withLaterStages);
 */
export async function withLaterStages(error: unknown): Promise<never> {
  if (!(error instanceof InvalidConfigError) || error.partial === undefined) throw error;
  const partial = error.partial;
  const later: TbiError[] = [];
  let sandbox;
  try {
    sandbox = openSandbox(partial.config);
    await prepareHost(partial, { loadSource: sourceLoaderFor(partial.config), sandbox });
  } catch (stageError) {
    if (!isTbiError(stageError)) throw stageError;
    later.push(stageError);
  } finally {
    await sandbox?.dispose();
  }
  // One problem per place: a value whose variable is unset is reported as that, not again by its plugin.
  const reported = new Set(error.problems.map((p) => (p instanceof ConfigError ? p.path : undefined)));
  const fresh = later.flatMap((p) => (p instanceof InvalidConfigError ? p.problems : [p])).filter((p) => !(p instanceof ConfigError) || !reported.has(p.path));
  throw new InvalidConfigError([...error.problems, ...fresh]);
}
