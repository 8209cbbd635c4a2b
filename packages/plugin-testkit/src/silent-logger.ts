import type { Logger } from '@tbi/plugin-api';

/** A logger that drops everything, for tests that assert on outcomes rather than log lines. */
export const silentLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
