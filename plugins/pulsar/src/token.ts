import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
import type { PulsarConfig } from './config.js';

/**
 * The JWT to connect with, read anew on every (re)connect: from `tokenFile` (relative to the
 * config file) or `tokenEnv`, so a token rotated by an operator is used without a restart; else
 * the fixed `token`. Undefined without authentication.
 */
export function currentToken(config: PulsarConfig, configDir: string): string | undefined {
  if (config.tokenFile !== undefined) {
    const file = path.resolve(configDir, config.tokenFile);
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ConfigError({ path: 'config.tokenFile', expected: `a readable file with the JWT (${file}: ${(error as Error).message})`, cause: error });
    }
  }
  if (config.tokenEnv !== undefined) {
    const value = process.env[config.tokenEnv];
    if (!value) throw new ConfigError({ path: 'config.tokenEnv', expected: `the environment variable ${config.tokenEnv} to hold the JWT`, received: 'unset' });
    return value.trim();
  }
  return config.token;
}
