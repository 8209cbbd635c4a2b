import semver from 'semver';
import { PLUGIN_API_VERSION } from '@tbi/plugin-api';

/** Whether a plugin's declared API range includes the host's, and what to do if not. */
export type Compatibility = { compatible: true } | { compatible: false; reason: string };

/**
 * Checks a plugin's `tbi.pluginApi` range against the host's `PLUGIN_API_VERSION`, before any of
 * its code is imported (as Fastify and Node-RED do). The refusal names both versions and says
 * what to install instead.
 *
 * @example
 * checkCompatibility('@acme/plugin-x', '2.1.0', '^2.0.0', '1.0.0').compatible // false
 */
export function checkCompatibility(packageName: string, version: string, range: string, hostApi: string = PLUGIN_API_VERSION): Compatibility {
  const valid = semver.validRange(range);
  if (valid === null) {
    return {
      compatible: false,
      reason: `${packageName} ${version} declares the plugin API range "${range}", which is not a semver range; this host provides plugin API ${hostApi}. Ask its author for a fixed release.`,
    };
  }
  if (semver.satisfies(hostApi, valid, { includePrerelease: true })) return { compatible: true };
  const hostMajor = semver.major(hostApi);
  const min = semver.minVersion(valid);
  const needsNewerHost = min !== null && semver.gt(min, hostApi);
  const advice = needsNewerHost
    ? `Install a newer @tbi/host (one whose plugin API matches ${range}), or a version of ${packageName} built for plugin API ^${hostMajor}.0.0.`
    : `Install a version of ${packageName} built for plugin API ^${hostMajor}.0.0 (for example \`npm install ${packageName}@latest\`), or an older @tbi/host whose plugin API matches ${range}.`;
  return {
    compatible: false,
    reason: `${packageName} ${version} requires plugin API ${range}, but this host provides plugin API ${hostApi}. ${advice}`,
  };
}
