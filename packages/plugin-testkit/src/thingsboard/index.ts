export {
  GatewayTestServer,
  startGatewayTestServer,
  type AckMode,
  type GatewayTestServerOptions,
  type RecordedDevice,
  type ServerRefusal,
} from './gateway-test-server.js';
export { GatewayPayloadError, isGatewayPayloadError, parseGatewayAttributes, parseGatewayTelemetry, type TbSample, type TbValue } from './gateway-rules.js';
export { formatRateLimits, type RateLimit } from './rate-window.js';
