import { isShutdownError, type RawMessage } from '@tbi/plugin-api';
import type { DeadLetter, DeadLetterFilter, DeadLetterStore } from '../dead-letters/dead-letter-store.js';
import type { Channel } from './channel.js';

/** What a replay did. */
export interface ReplayReport {
  /** Dead letters that matched the filter. */
  selected: number;
  /** Converted and stored: removed from the dead letters. */
  stored: number;
  /** Failed again: kept, with `attempts` + 1 and the new error. */
  failed: number;
  /** Not tried because their integration is not running. */
  skipped: number;
  /** The integrations that were not running. */
  notRunning: string[];
}

const PAGE = 200;

function toMessage(letter: DeadLetter): RawMessage {
  const message: RawMessage = { payload: letter.payload, metadata: letter.metadata };
  if (letter.sourceId !== undefined) message.sourceId = letter.sourceId;
  if (letter.receivedAt !== undefined) message.receivedAt = letter.receivedAt;
  return message;
}

/**
 * Runs dead letters through their integration's *current* uplink converter (for example after
 * `converter.replace` fixed it) and stores what converts, page by page, in id order.
 */
export async function replayDeadLetters(
  store: DeadLetterStore,
  channelOf: (integration: string) => Channel | undefined,
  filter: DeadLetterFilter,
): Promise<ReplayReport> {
  const report: ReplayReport = { selected: 0, stored: 0, failed: 0, skipped: 0, notRunning: [] };
  const notRunning = new Set<string>();
  for (let afterId = 0; ; ) {
    const page = store.page(filter, afterId, PAGE);
    if (page.length === 0) break;
    afterId = page[page.length - 1]!.id;
    report.selected += page.length;
    const groups = new Map<string, DeadLetter[]>();
    for (const letter of page) {
      const group = groups.get(letter.integration);
      if (group) group.push(letter);
      else groups.set(letter.integration, [letter]);
    }
    for (const [integration, letters] of groups) {
      const channel = channelOf(integration);
      if (!channel) {
        notRunning.add(integration);
        report.skipped += letters.length;
        continue;
      }
      let outcomes;
      try {
        outcomes = await channel.replay(letters.map(toMessage));
      } catch (error) {
        if (!isShutdownError(error)) throw error;
        notRunning.add(integration);
        report.skipped += letters.length;
        continue;
      }
      const storedIds: number[] = [];
      outcomes.forEach((outcome, i) => {
        const letter = letters[i]!;
        if (outcome.status === 'stored') storedIds.push(letter.id);
        else store.markFailed(letter.id, outcome.error);
      });
      if (storedIds.length > 0) store.remove({ ids: storedIds });
      report.stored += storedIds.length;
      report.failed += letters.length - storedIds.length;
    }
  }
  report.notRunning = [...notRunning];
  return report;
}
