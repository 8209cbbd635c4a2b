import { definePlugin, type Integration, type IntegrationContext, type OutboundDownlink } from '@tbi/plugin-api';
import { configJsonSchema, httpExclusiveKeys, httpConfigSchema, type HttpConfig } from './config.js';
import { PendingResponses } from './pending-responses.js';
import { resolveRoutingKey } from './routing-key.js';
import { outboundRetry, outboundSender, responseQueueSender } from './sink.js';
import { mountUplinkRoutes, type SourceState } from './source.js';

/** Where the host mounts the routers of `http` integrations. */
export const HTTP_PREFIX = '/api/v1/integrations/http';

/**
 * Creates one `http` integration instance: mounts its endpoint, and sends downlinks either to
 * the configured downlink URL or in the response to the device's next uplink.
 */
export async function createHttpIntegration(ctx: IntegrationContext<HttpConfig>): Promise<Integration> {
  const { config, logger } = ctx;
  const { key, source } = await resolveRoutingKey(config.routingKey, ctx.dataDir);
  const endpoint = `${HTTP_PREFIX}/${key}`;
  let state: SourceState = 'starting';
  const pending = new PendingResponses(config.downlink.maxPendingPerDevice);
  mountUplinkRoutes(ctx, { routingKey: key, pending, state: () => state });

  const url = config.downlink.url;
  const deliver: (downlink: OutboundDownlink) => Promise<void> =
    url === undefined
      ? responseQueueSender(pending, logger)
      : outboundSender({ ...config.downlink, url }, { logger, signal: ctx.signal });
  const downlinkMode = url === undefined ? 'in the response to the next uplink' : 'to the downlink URL';

  return {
    async start() {
      state = 'running';
      logger.info({ endpoint, routingKey: key, routingKeySource: source, downlink: downlinkMode }, `HTTP integration listening on ${endpoint}`);
    },
    async stop() {
      state = 'stopped';
      const dropped = pending.clear(`integration ${ctx.name} stopped`);
      if (dropped > 0) logger.warn({ count: dropped }, 'dropped downlinks that were waiting for an uplink');
    },
    health() {
      if (state === 'running') return { status: 'up', detail: `endpoint ${endpoint}` };
      return { status: state === 'starting' ? 'starting' : 'stopped', detail: `endpoint ${endpoint}` };
    },
    send: deliver,
    ...(url === undefined ? {} : { downlinkRetry: outboundRetry(config.downlink) }),
  };
}

/**
 * The `http` connector: ThingsBoard-compatible webhook endpoint
 * `POST|PUT /api/v1/integrations/http/{routingKey}[/suffix]`. Downlinks are `push`: the plugin
 * either sends them to `downlink.url` or keeps them for the device's next uplink response.
 */
const httpPlugin = definePlugin<HttpConfig>({
  type: 'http',
  configSchema: httpConfigSchema,
  configJsonSchema,
  exclusiveKeys: httpExclusiveKeys,
  downlink: 'push',
  create: createHttpIntegration,
});

export default httpPlugin;
