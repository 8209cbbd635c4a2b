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

/** Some configured topics do not exist (yet) and `autoCreateTopics` is off. */
export class MissingTopicsError extends Error {
  readonly code = 'KAFKA_TOPICS_MISSING';
  constructor(readonly topics: readonly string[]) {
    super(`waiting for ${topics.length === 1 ? 'topic' : 'topics'} ${topics.join(', ')} to exist`);
    this.name = 'MissingTopicsError';
  }
}

/** Type guard of `MissingTopicsError`. */
export function isMissingTopicsError(error: unknown): error is MissingTopicsError {
  return error instanceof MissingTopicsError;
}

/**
 * Makes sure every topic of `topics` exists: creates the missing ones with `autoCreateTopics`,
 * else throws `MissingTopicsError`. Returns the topics it created.
 */
export async function ensureTopics(
  config: Pick<UplinkConfig, 'topics' | 'autoCreateTopics' | 'newTopicPartitions' | 'newTopicReplicationFactor'>,
  driver: Pick<KafkaDriver, 'missingTopics' | 'createTopics'>,
): Promise<string[]> {
  const missing = await driver.missingTopics(config.topics);
  if (missing.length === 0) return [];
  if (!config.autoCreateTopics) throw new MissingTopicsError(missing);
  await driver.createTopics(missing, { partitions: config.newTopicPartitions, replicationFactor: config.newTopicReplicationFactor });
  return missing;
}
