import { randomUUID } from 'node:crypto';

/**
 * A name no other test (or earlier run) uses, for topics, groups, queues and client IDs on a shared
 * broker, so a leftover subscription or committed offset never matches.
 *
 * @example
 * const topic = uniqueName('orders'); // 'orders-1a2b3c4d'
 */
export function uniqueName(prefix: string, separator = '-'): string {
  return `${prefix}${separator}${randomUUID().slice(0, 8)}`;
}
