import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaListeners, mosquittoPorts, port, portLayout } from './ports.mjs';
import { ROOT } from './test/run-script.js';

describe('scripts/ports.env and ports.mjs', () => {
  it('lists every port once, with blocks that do not overlap', () => {
    const layout = portLayout();
    expect(layout.map((e) => e.name)).toContain('MOSQUITTO_TLS_PORT');
    const used = new Set<number>();
    for (const { fallback, width } of layout) {
      for (let p = fallback; p < fallback + width; p++) {
        expect(used.has(p), `port ${p} is in two entries`).toBe(false);
        used.add(p);
      }
    }
  });

  it('takes a port from the environment when set, else the default', () => {
    expect(port('MOSQUITTO_TLS_PORT', {})).toBe(18883);
    expect(port('MOSQUITTO_TLS_PORT', { MOSQUITTO_TLS_PORT: '45002' })).toBe(45002);
    expect(() => port('MOSQUITTO_TLS_PORT', { MOSQUITTO_TLS_PORT: 'x' })).toThrow(/expected a port number/);
    expect(() => port('NO_SUCH_PORT', {})).toThrow(/not in .*ports\.env/);
  });

  it('derives the listeners of a private instance from its block', () => {
    const base = port('TBI_MQTT_RESTART_PORT_BASE');
    expect(mosquittoPorts('TBI_MQTT_RESTART_PORT_BASE')).toEqual({ plain: base, auth: base + 1, tls: base + 2 });
    const kafka = kafkaListeners('TBI_KAFKA_RESTART_PORT_BASE', 'e2e-restart');
    const k = port('TBI_KAFKA_RESTART_PORT_BASE');
    expect(kafka).toMatchObject({ plaintext: `127.0.0.1:${k}`, sasl: `127.0.0.1:${k + 2}`, ssl: `127.0.0.1:${k + 3}` });
    expect(kafka.env).toEqual({ KAFKA_INSTANCE: 'e2e-restart', KAFKA_PORT_BASE: String(k) });
  });

  it('is the only place the port numbers are written (tests, benches and scripts read it)', () => {
    const numbers = portLayout().map((e) => String(e.fallback));
    const pattern = new RegExp(`\\b(${numbers.join('|')})\\b`);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (['node_modules', 'dist', '.cache', '.tools'].includes(name)) continue;
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (/\.(ts|mjs|js)$/.test(name) && file !== import.meta.filename) {
          readFileSync(file, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (pattern.test(line)) offenders.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    for (const dir of ['scripts', 'plugins', 'packages', 'host']) walk(path.join(ROOT, dir));
    expect(offenders).toEqual([]);
  });
});
