import { describe, expect, it } from 'vitest';
import { describeKafkaError } from './describe-error.js';

const coded = (message: string, code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });

describe('describeKafkaError', () => {
  it('names the bootstrap servers and the socket error instead of the retry summary', () => {
    const attempt = () => coded('Connection to 127.0.0.1:1 failed.', 'PLT_KFK_NETWORK', { cause: coded('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED') });
    const error = coded('joinGroup failed 4 times. findGroupCoordinator failed 4 times.', 'PLT_KFK_MULTIPLE', {
      errors: [coded('findGroupCoordinator failed 4 times.', 'PLT_KFK_MULTIPLE', { errors: [attempt(), attempt(), attempt(), attempt()] })],
    });
    expect(describeKafkaError(error, ['127.0.0.1:1', 'kafka-2:9092'])).toBe('cannot reach Kafka at 127.0.0.1:1, kafka-2:9092 (ECONNREFUSED)');
  });

  it('tells a refused login apart', () => {
    const error = coded('Cannot connect to any broker.', 'PLT_KFK_MULTIPLE', {
      errors: [coded('Connection failed.', 'PLT_KFK_NETWORK', { cause: coded('SASL authentication failed.', 'PLT_KFK_AUTHENTICATION') })],
    });
    expect(describeKafkaError(error, ['h:9094'])).toBe('Kafka at h:9094 refused the login (SASL authentication failed)');
  });

  it('keeps other errors, each distinct message once', () => {
    const error = coded('x failed 2 times.', 'PLT_KFK_MULTIPLE', { errors: [new Error('Unknown topic t.'), new Error('Unknown topic t.')] });
    expect(describeKafkaError(error, ['h:1'])).toBe('Unknown topic t');
  });
});
