import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaConfigSchema } from '../config.js';
import { clientConnectionOptions } from './client-options.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('clientConnectionOptions', () => {
  it('adds TLS for SSL and SASL for SASL_*, then the extra properties; a relative PEM path is read from the config directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kafka-opts-'));
    writeFileSync(path.join(dir, 'ca.pem'), PEM);
    const options = await clientConnectionOptions(
      kafkaConfigSchema.parse({
        bootstrapServers: 'h:9093',
        securityProtocol: 'SASL_SSL',
        sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' },
        ssl: { ca: 'ca.pem', cert: PEM },
        properties: { retries: 7 },
      }),
      dir,
    );
    expect(options.tls).toEqual({ rejectUnauthorized: true, ca: PEM, cert: PEM });
    expect(options.sasl).toEqual({ mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' });
    expect(options.retries).toBe(7);
    expect(options.bootstrapBrokers).toEqual(['h:9093']);
  });

  it('uses no TLS for PLAINTEXT even when ssl is given', async () => {
    const options = await clientConnectionOptions(kafkaConfigSchema.parse({ bootstrapServers: 'h:1', ssl: { ca: PEM } }), tmpdir());
    expect(options.tls).toBeUndefined();
    expect(options.sasl).toBeUndefined();
  });

  it('names the field of an unreadable PEM file', async () => {
    const config = kafkaConfigSchema.parse({ bootstrapServers: 'h:1', securityProtocol: 'SSL', ssl: { ca: 'missing/ca.pem' } });
    await expect(clientConnectionOptions(config, '/nonexistent')).rejects.toThrow(
      /ssl\.ca: expected PEM text or the path of a readable PEM file.*\/nonexistent\/missing\/ca\.pem/,
    );
  });
});
