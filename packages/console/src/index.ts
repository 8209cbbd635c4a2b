export { CONSOLE_CSP, consoleRoutes } from './console-routes.js';
export { loadConsoleAssets, type ConsoleAsset } from './console-assets.js';
