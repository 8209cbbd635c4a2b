export { DebugRing, DEBUG_MODES, type DebugEvent, type DebugEventInput, type DebugMode } from './debug-ring.js';
export { viewPayload, type PayloadView } from './payload-view.js';
export { debugEventRoutes } from './routes.js';
