export { default as httpPlugin, createHttpIntegration, HTTP_PREFIX } from './plugin.js';
export { configJsonSchema, httpConfigSchema, type HttpConfig, type HttpConfigInput } from './config.js';
export { hmacVerifier, type HmacOptions, type HmacVerdict } from './security/hmac.js';
export { ipAllowlist } from './security/ip-allowlist.js';
export { headersFilter } from './security/headers-filter.js';
export { rateLimiter, type RateLimitOptions, type RateVerdict } from './security/rate-limit.js';
