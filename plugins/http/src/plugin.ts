import { definePlugin, type Integration, type IntegrationContext } from '@tbi/plugin-api';
import { configJsonSchema, httpExclusiveKeys, httpConfigSchema, type HttpConfig } from './config.js';
import { resolveRoutingKey } from './routing-key.js';
import { outboundRetry, outboundSender } from './sink.js';
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
  mountUplinkRoutes(ctx, { routingKey: key, state: () => state });

  // Without a downlink URL the host keeps downlinks in its queue (`pull`) and the device's next
  // uplink takes them in its response; with one the host hands each to `send` (`push`).
  const url = config.downlink.url;
  const downlink: Pick<Integration, 'send' | 'downlinkMode' | 'downlinkRetry' | 'downlinkPendingPerDevice'> =
    url === undefined
      ? { downlinkMode: 'pull', downlinkPendingPerDevice: config.downlink.maxPendingPerDevice }
      : {
          downlinkMode: 'push',
          send: outboundSender({ ...config.downlink, url }, { logger, signal: ctx.signal }),
          downlinkRetry: outboundRetry(config.downlink),
        };
  const downlinkMode = url === undefined ? 'in the response to the next uplink' : 'to the downlink URL';

  return {
    async start() {
      state = 'running';
      logger.info({ endpoint, routingKey: key, routingKeySource: source, downlink: downlinkMode }, `HTTP integration listening on ${endpoint}`);
    },
    async stop() {
      state = 'stopped'; // downlinks still waiting in the host's queue fail when it detaches
    },
    health() {
      if (state === 'running') return { status: 'up', detail: `endpoint ${endpoint}` };
      return { status: state === 'starting' ? 'starting' : 'stopped', detail: `endpoint ${endpoint}` };
    },
    ...downlink,
  };
}

/**
 * The `http` connector: ThingsBoard-compatible webhook endpoint
 * `POST|PUT /api/v1/integrations/http/{routingKey}[/suffix]`. Downlinks are chosen per instance:
 * `push` to `downlink.url` when it is set, else `pull` (the device's next uplink response).
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
