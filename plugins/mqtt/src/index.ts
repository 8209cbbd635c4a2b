export { default as mqttPlugin, createMqttIntegration, clientOptions } from './plugin.js';
export { configJsonSchema, mqttConfigSchema, type MqttConfig, type MqttConfigInput } from './config.js';
export { compilePattern, type CompiledPattern, type PatternVariables } from './topic-pattern.js';
export { isValidFilter, stripShare, topicMatches } from './topic-filter.js';
