/**
 * The version of the plugin contract this package describes. A plugin declares the range it was
 * built for (`"tbi": { "pluginApi": "^1.0.0" }`); the host refuses plugins whose range does not
 * include the host's version. Minor versions only add.
 */
export const PLUGIN_API_VERSION = '1.3.0';
