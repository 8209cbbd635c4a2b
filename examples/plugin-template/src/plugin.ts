import { definePlugin, type Integration, type IntegrationContext } from '@tbi/plugin-api';
import { configJsonSchema, tcpLineConfigSchema, type TcpLineConfig } from './config.js';
import { lineSender } from './sink.js';
import { LineSource, type DeviceSockets } from './source.js';

/**
 * Creates one `tcp-line` integration: a TCP server for the uplink, a route that tells where it
 * listens, and downlinks back over the device's connection.
 */
export function createTcpLineIntegration(ctx: IntegrationContext<TcpLineConfig>): Integration {
  const devices: DeviceSockets = new Map();
  const source = new LineSource(ctx, devices);
  let state: 'starting' | 'up' | 'stopped' = 'starting';
  let port: number | undefined;
  let stopping: Promise<void> | undefined;

  // Routes live under /api/v1/integrations/tcp-line/; the instance name keeps instances apart.
  ctx.http.get(`/${ctx.name}`, () => Response.json({ host: ctx.config.host, port, connectedDevices: devices.size }));

  return {
    async start() {
      port = await source.listen();
      state = 'up';
      ctx.logger.info({ host: ctx.config.host, port }, `listening for lines on ${ctx.config.host}:${port}`);
    },
    stop() {
      // Idempotent: the host may stop an instance that is already stopping.
      stopping ??= (async () => {
        state = 'stopped';
        await source.close();
      })();
      return stopping;
    },
    health: () => (state === 'up' ? { status: 'up', detail: `listening on ${ctx.config.host}:${port}` } : { status: state }),
    pause: () => source.pause(),
    resume: () => source.resume(),
    send: lineSender(devices),
  };
}

/** The `tcp-line` integration type: `type: tcp-line` in the host config. */
export default definePlugin<TcpLineConfig>({
  type: 'tcp-line',
  configSchema: tcpLineConfigSchema,
  configJsonSchema,
  downlink: 'push',
  create: createTcpLineIntegration,
});
