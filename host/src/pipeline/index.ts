export { openPipeline, type Pipeline, type PipelineDeps } from './pipeline.js';
export type { AttachOptions, ChannelStatus, IntegrationChannel } from './channel.js';
export type { BatchOptions } from './uplink-engine.js';
export type { DownlinkOptions } from './downlink-path.js';
export type { ReplayReport } from './replay.js';
