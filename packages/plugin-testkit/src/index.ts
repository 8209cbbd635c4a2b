export { startHostProcess, tbiBin, tbiNodeFlags, withHostLogs, type HostProcess, type HostProcessOptions } from './host-process.js';
export {
  startTestIntegration,
  ECHO_DOWNLINK,
  ECHO_UPLINK,
  type SubmitRecord,
  type TestIntegration,
  type TestIntegrationOptions,
} from './test-integration.js';
export { TestPlatform, type CommandResult, type PlatformMode } from './test-platform.js';
export { memoryLogger, type LogEntry, type MemoryLogger } from './memory-logger.js';
export { eventually, waitFor } from './wait-for.js';
export { memoryMetrics, type MemoryMetrics } from './memory-metrics.js';
export { silentLogger } from './silent-logger.js';
export { uniqueName } from './unique-name.js';
export { storedTelemetry, type DeviceFilter } from './stored-telemetry.js';
export { apiTelemetryValues } from './api-telemetry.js';
export { outOfDeviceOrder } from './export-order.js';
export { bareContext, type BareContextOptions } from './bare-context.js';
export { drainMemory, residentMb, residentMemory, type DrainMemory, type ResidentMemory, type ResidentMemorySampler } from './resident-memory.js';
