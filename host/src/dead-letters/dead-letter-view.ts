import type { ConverterFailure, Metadata } from '@tbi/plugin-api';
import { viewPayload, type PayloadView } from '../debug-events/payload-view.js';
import type { DeadLetter } from './dead-letter-store.js';

/** A dead letter as the API returns it (JSON). */
export interface DeadLetterView {
  id: number;
  integration: string;
  sourceId: string | null;
  receivedAt: number | null;
  createdAt: number;
  updatedAt: number;
  attempts: number;
  error: ConverterFailure;
  metadata: Metadata;
  /** In lists only the first 256 bytes (`truncated`); whole in `GET /dead-letters/:id`. */
  payload: PayloadView;
}

/** One page of `GET /dead-letters`. */
export interface DeadLetterPage {
  total: number;
  limit: number;
  offset: number;
  items: DeadLetterView[];
}

export function viewDeadLetter(letter: DeadLetter, payloadBytes = Number.MAX_SAFE_INTEGER): DeadLetterView {
  return {
    id: letter.id,
    integration: letter.integration,
    sourceId: letter.sourceId ?? null,
    receivedAt: letter.receivedAt ?? null,
    createdAt: letter.createdAt,
    updatedAt: letter.updatedAt,
    attempts: letter.attempts,
    error: letter.error,
    metadata: letter.metadata,
    payload: viewPayload(letter.payload, payloadBytes),
  };
}
