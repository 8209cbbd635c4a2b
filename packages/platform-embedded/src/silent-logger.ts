import type { Logger } from '@tbi/plugin-api';

/** The logger used when none is given: drops everything. */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
