import type { UplinkConfig } from './config.js';
import type { KafkaDriver } from './driver/types.js';

/**
 * The topics to consume: `topics`, plus every topic of the cluster matching `topicPattern`
 * (sorted, without duplicates, internal topics excluded).
 */
export async function resolveTopics(config: Pick<UplinkConfig, 'topics' | 'topicPattern'>, driver: Pick<KafkaDriver, 'listTopics'>): Promise<string[]> {
  if (config.topicPattern === undefined) return config.topics;
  const re = new RegExp(config.topicPattern);
  const all = await driver.listTopics();
  return [...new Set([...config.topics, ...all.filter((t) => re.test(t))])].sort();
}
