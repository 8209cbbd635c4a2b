/** A path into the config tree, as keys and array indexes. */
export type ConfigPath = ReadonlyArray<PropertyKey>;

/**
 * Formats a path the way users read it: `integrations[2].config.port`.
 *
 * @example formatPath(['integrations', 2, 'config', 'port']) // 'integrations[2].config.port'
 */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
