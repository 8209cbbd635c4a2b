import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { redactTree } from '../config/redact.js';
import { withLaterStages } from '../lifecycle/check-all-stages.js';
import { openSandbox, sourceLoaderFor } from '../lifecycle/open-services.js';
import { prepareHost } from '../lifecycle/prepare-host.js';
import { configFileFrom } from './config-option.js';

/**
 * `tbi validate`: everything `tbi start` checks before it starts anything (config schema, env
 * references, plugins, each integration's block against its plugin, converters compile), without
 * starting. Exit 0 when valid.
 */
export function validateCommand(out: (text: string) => void): Command {
  return new Command('validate')
    .description('check the config, the plugins it needs and its converters, without starting anything')
    .option('-c, --config <file>', 'config file (YAML or JSON); default: tbi.yaml in the current directory')
    .option('--print', 'print the validated config with defaults filled in (values from the environment masked)')
    .action(async (opts: { config?: string; print?: boolean }) => {
      const file = configFileFrom(opts.config);
      const loaded = await loadConfig(file).catch(withLaterStages);
      const sandbox = openSandbox(loaded.config);
      try {
        const prepared = await prepareHost(loaded, { loadSource: sourceLoaderFor(loaded.config), sandbox });
        const lines = [`${file} is valid: ${loaded.config.integrations.length} integration(s)`];
        for (const entry of loaded.config.integrations) {
          const plugin = prepared.plugins.get(entry.type)!.info;
          lines.push(`  ${entry.name}: type ${entry.type} (${plugin.packageName} ${plugin.version})${entry.enabled ? '' : ', disabled'}`);
        }
        out(`${lines.join('\n')}\n`);
        if (opts.print) out(`${JSON.stringify(redactTree(loaded.config, loaded.redact), null, 2)}\n`);
      } finally {
        await sandbox.dispose();
      }
    });
}
