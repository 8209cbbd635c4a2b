export { openThingsBoardPlatform } from './open-platform.js';
export { ThingsBoardPlatform } from './thingsboard-platform.js';
export { isAuthRefusal } from './gateway-connection.js';
export { OUTBOX_FILE } from './outbox.js';
export { parseRateLimits, parseSessionLimits, type RateLimit, type SessionLimits } from './session-limits.js';
export type { ThingsBoardPlatformOptions } from './options.js';
