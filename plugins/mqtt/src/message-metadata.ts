import type { Metadata } from '@tbi/plugin-api';
import type { IPublishPacket } from 'mqtt';
import type { MqttConfig } from './config.js';
import { stripShare, topicMatches } from './topic-filter.js';
import { compilePattern, type CompiledPattern } from './topic-pattern.js';

interface Route {
  filter: string;
  deviceName: CompiledPattern | undefined;
  deviceType: CompiledPattern | undefined;
}

/** Turns a received PUBLISH into the string metadata the uplink converter sees. */
export type MetadataBuilder = (packet: IPublishPacket) => Metadata;

/**
 * Compiles the device name/type patterns of every topic filter once. For each message the first
 * filter (in config order) that matches its topic decides which patterns apply.
 *
 * Keys: `topic`, `qos`, `retain`; with MQTT 5 also `contentType`, `responseTopic` and one
 * `userProperty:<name>` per user property (repeated names joined with ","); `deviceName` and
 * `deviceType` when a pattern resolves.
 */
export function metadataBuilder(config: Pick<MqttConfig, 'topicFilters' | 'deviceNamePattern' | 'deviceTypePattern'>): MetadataBuilder {
  const routes: Route[] = config.topicFilters.map((f, i) => {
    const name = f.deviceNamePattern ?? config.deviceNamePattern;
    const type = f.deviceTypePattern ?? config.deviceTypePattern;
    const at = `config.topicFilters[${i}]`;
    return {
      filter: stripShare(f.filter) ?? f.filter,
      deviceName: name === undefined ? undefined : compilePattern(name, f.deviceNamePattern ? `${at}.deviceNamePattern` : 'config.deviceNamePattern', 'uplink'),
      deviceType: type === undefined ? undefined : compilePattern(type, f.deviceTypePattern ? `${at}.deviceTypePattern` : 'config.deviceTypePattern', 'uplink'),
    };
  });
  const anyPattern = routes.some((r) => r.deviceName || r.deviceType);

  return (packet) => {
    const topic = packet.topic;
    const metadata: Metadata = { topic, qos: String(packet.qos), retain: packet.retain ? 'true' : 'false' };
    const props = packet.properties;
    if (props) {
      if (props.contentType !== undefined) metadata.contentType = props.contentType;
      if (props.responseTopic !== undefined) metadata.responseTopic = props.responseTopic;
      if (props.userProperties) {
        for (const [key, value] of Object.entries(props.userProperties)) {
          metadata[`userProperty:${key}`] = Array.isArray(value) ? value.join(',') : String(value);
        }
      }
    }
    if (anyPattern) {
      const route = routes.length === 1 ? routes[0] : routes.find((r) => topicMatches(r.filter, topic));
      if (route) {
        const vars = { topic };
        const name = route.deviceName?.(vars);
        const type = route.deviceType?.(vars);
        if (name !== undefined) metadata.deviceName = name;
        if (type !== undefined) metadata.deviceType = type;
      }
    }
    return metadata;
  };
}
