import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/create-logger.js';

/** A host logger whose JSON lines are kept in memory (with the same redaction as the real one). */
export function memoryLogger(redact?: (text: string) => string) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug', pretty: false, destination, ...(redact ? { redact } : {}) });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
