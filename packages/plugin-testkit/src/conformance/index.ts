// A subpath of its own (`@tbi/plugin-testkit/conformance`) because it registers vitest tests:
// importing the main entry must not need a test runner.
export { runConformanceSuite, conformancePayload } from './conformance-suite.js';
export type { ConformanceOptions } from './conformance-options.js';
