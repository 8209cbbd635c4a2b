import { ThingsBoardPlatform } from './thingsboard-platform.js';
import type { ThingsBoardPlatformOptions } from './options.js';

/**
 * Opens the outbox in `dataDir` and connects to ThingsBoard as a gateway. Rejects when the
 * server refuses the access token (`PluginError` `THINGSBOARD_REFUSED`, naming the server and
 * the cause); an unreachable server is retried in the background while records wait in the outbox.
 *
 * @example
 * const platform = await openThingsBoardPlatform({ host: 'tb.example.com', accessToken: process.env.TB_TOKEN!, dataDir: '.data' });
 */
export async function openThingsBoardPlatform(options: ThingsBoardPlatformOptions): Promise<ThingsBoardPlatform> {
  const platform = new ThingsBoardPlatform(options);
  await platform.start();
  return platform;
}
