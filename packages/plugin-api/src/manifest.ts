/**
 * What a plugin package says about itself in the `"tbi"` field of its `package.json`, so the host
 * can list and check plugins without importing their code.
 *
 * @example
 * ```json
 * { "name": "@tbi/plugin-mqtt",
 *   "tbi": { "kind": "integration", "type": "mqtt", "pluginApi": "^1.0.0", "entry": "./dist/plugin.js" } }
 * ```
 */
export interface PluginManifest {
  /** Only `integration` (a connector) in v1. */
  kind: 'integration';
  /** The integration type the plugin provides, used as `type:` in the host config (`mqtt`, `http`…). */
  type: string;
  /** Semver range of `PLUGIN_API_VERSION` the plugin was built for. */
  pluginApi: string;
  /** Module (relative to the package root) whose default export is the plugin definition. */
  entry: string;
  /** Human-readable name for listings. */
  displayName?: string;
}

/** Reads the `tbi` field of a parsed package.json; returns the problems instead of throwing. */
export function parseManifest(pkg: unknown): { ok: true; manifest: PluginManifest } | { ok: false; problems: string[] } {
  const field = (pkg as { tbi?: unknown } | null)?.tbi;
  if (field === undefined) return { ok: false, problems: ['package.json has no "tbi" field'] };
  if (typeof field !== 'object' || field === null) {
    return { ok: false, problems: ['"tbi" must be an object'] };
  }
  const m = field as Record<string, unknown>;
  const problems: string[] = [];
  if (m.kind !== 'integration') problems.push('"tbi.kind" must be "integration"');
  if (typeof m.type !== 'string' || !/^[a-z][a-z0-9-]*$/.test(m.type)) {
    problems.push('"tbi.type" must be a lower-case name such as "mqtt"');
  }
  if (typeof m.pluginApi !== 'string' || m.pluginApi === '') {
    problems.push('"tbi.pluginApi" must be a semver range such as "^1.0.0"');
  }
  if (typeof m.entry !== 'string' || m.entry === '') {
    problems.push('"tbi.entry" must be the path of the plugin module, e.g. "./dist/plugin.js"');
  }
  if (m.displayName !== undefined && typeof m.displayName !== 'string') {
    problems.push('"tbi.displayName" must be a string');
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, manifest: m as unknown as PluginManifest };
}
