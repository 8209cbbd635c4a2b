export { default, createPulsarIntegration, driverFor } from './plugin.js';
export { pulsarConfigSchema, configJsonSchema, type PulsarConfig, type PulsarConfigInput } from './config.js';
export { websocketDriver } from './driver/websocket.js';
export { nativeDriver } from './driver/native.js';
export { PulsarConnectError, isPulsarConnectError, type PulsarDriver } from './driver/types.js';
export { parseTopic } from './topic.js';
