export { createConverterSandbox, type ConverterSandboxHandle, type ConverterSandboxOptions } from './create-sandbox.js';
export { DEFAULT_LIMITS } from './limits.js';
export { loadConverterSource, type ConverterSourceSpec } from './load-source.js';
export { testConverter, type TestConverterOptions, type TestConverterReport } from './test-converter.js';
export { normaliseUplinkOutput } from './normalise-uplink.js';
export { validateDownlinkOutput } from './validate-downlink.js';
export { HELPER_NAMES } from './runtime/helpers-source.js';
export { LOG_LINE_CHARS, LOG_LINES_PER_MESSAGE, MAX_OUTPUT_CHARS } from './runtime/runtime-source.js';
