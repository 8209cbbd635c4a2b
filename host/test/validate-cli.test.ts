import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbi } from './helpers/run-tbi.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The real connector plugins of the workspace, named as local paths under `plugins:`. */
const PLUGINS = ['http', 'mqtt', 'kafka'].map((name) => `  - ${path.join(ROOT, 'plugins', name)}`);

/** A config with the real plugins; `body` starts at line 5. */
function config(body: string[]): string {
  return ['plugins:', ...PLUGINS, ...body, ''].join('\n');
}

const up = '    uplinkConverter: { inline: "return [];" }';

describe('tbi validate and tbi start on a bad config file', () => {
  let dir: string;
  const write = async (name: string, text: string) => {
    await writeFile(path.join(dir, name), text);
    return name;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tbi-validate-'));
  });

  it('reports every problem of every stage in one run, in the order of the file, and start refuses the same', async () => {
    const file = await write(
      'many.yaml',
      config([
        'logging:', //                                                    5
        '  level: debug',
        'integrations:',
        '  - name: broker', //                                           8
        '    type: mqtt',
        '    config:',
        '      host: ${env:MQTT_HOST_UNSET}', //                        11
        '      password: ${env:MQTT_PASSWORD_UNSET}', //                12
        '      topicFilters: [{ filter: "a/+", qos: 3 }]', //           13
        up,
        '  - name: stream', //                                          15
        '    type: kafka',
        '    config: { uplink: { topics: [t] } }', //                   17
        up,
        '  - name: queue',
        '    type: rabbitmq', //                                        20
        up,
        '  - name: hook',
        '    type: http',
        '    uplinkConverter: { file: /dev/zero }', //                  24
      ]),
    );
    const expected = [
      'tbi: CONFIG_INVALID:',
      '  - many.yaml:5: logging: unknown key "logging" — did you mean "log"?',
      '  - many.yaml:11: integrations[0].config.host: expected the environment variable MQTT_HOST_UNSET to be set (referenced as ${env:MQTT_HOST_UNSET})',
      '  - many.yaml:12: integrations[0].config.password: expected the environment variable MQTT_PASSWORD_UNSET to be set (referenced as ${env:MQTT_PASSWORD_UNSET})',
      '  - many.yaml:13: integrations[0].config.topicFilters[0].qos: expected 0, 1 or 2, received 3',
      '  - many.yaml:17: integrations[1].config.bootstrapServers: required (Bootstrap brokers: "host:port,host:port" or a list)',
      '  - many.yaml:20: integrations[2].type: no installed plugin provides the integration type "rabbitmq". Install @tbi/plugin-rabbitmq in the project (`npm install @tbi/plugin-rabbitmq`) or list it under "plugins:". Installed types: http, kafka, mqtt.',
      '  - many.yaml:24: integrations[3].uplinkConverter.file: expected an uplink converter that loads and compiles (cannot read the uplink converter /dev/zero: it is not a regular file)',
      '',
    ].join('\n');
    const validated = await runTbi(['validate', '-c', file], { cwd: dir });
    expect(validated.stderr).toBe(expected);
    expect(validated.code).toBe(1);
    const started = await runTbi(['start', '-c', file], { cwd: dir });
    expect(started.stderr).toBe(expected);
    expect(started.code).toBe(1);
  });

  it("points at the offending key of a plugin's block, with a suggestion", async () => {
    const file = await write(
      'keys.yaml',
      config([
        'integrations:',
        '  - name: stream',
        '    type: kafka',
        '    config:',
        '      bootstrapServer: 127.0.0.1:9092', //  9
        '      uplink:',
        '        topics: [t]',
        '        autoOffsetReset: newest', //       12
        up,
      ]),
    );
    const result = await runTbi(['validate', '-c', file], { cwd: dir });
    expect(result.stderr).toBe(
      [
        'tbi: CONFIG_INVALID:',
        '  - keys.yaml:9: integrations[0].config.bootstrapServer: unknown key "bootstrapServer" — did you mean "bootstrapServers"?',
        '  - keys.yaml:12: integrations[0].config.uplink.autoOffsetReset: expected "earliest" or "latest", received "newest"',
        '',
      ].join('\n'),
    );
    expect(result.code).toBe(1);
  });

  it('takes YAML numbers where a plugin expects a string, and number-like strings where it expects a number', async () => {
    const file = await write(
      'numbers.yaml',
      config([
        'integrations:',
        '  - name: broker',
        '    type: mqtt',
        '    config:',
        '      host: 127.0.0.1',
        '      port: ${env:MQTT_PORT}',
        '      protocolVersion: 5',
        '      clientId: 4711',
        '      password: 1234',
        '      topicFilters: [{ filter: "a/+", qos: "${env:MQTT_QOS}" }]',
        up,
      ]),
    );
    const result = await runTbi(['validate', '-c', file, '--print'], { cwd: dir, env: { MQTT_PORT: '11893', MQTT_QOS: '2' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^numbers\.yaml is valid: 1 integration\(s\)\n {2}broker: type mqtt \(@tbi\/plugin-mqtt /);
  });

  it('refuses two http integrations with one routing key, and two mqtt integrations with one client id on one broker, naming both', async () => {
    const file = await write(
      'claims.yaml',
      config([
        'integrations:',
        '  - name: first',
        '    type: http',
        '    config: { routingKey: shared-key }', //  8
        up,
        '  - name: second',
        '    type: http',
        '    config:',
        '      routingKey: shared-key', //           13
        up,
        '  - name: m1',
        '    type: mqtt',
        '    config: { host: 127.0.0.1, clientId: c1, topicFilters: [{ filter: a }] }', // 17
        up,
        '  - name: m2',
        '    type: mqtt',
        '    config: { host: 127.0.0.1, port: 1883, clientId: c1, topicFilters: [{ filter: b }] }', // 21
        up,
        '  - name: m3',
        '    type: mqtt',
        '    config: { host: 127.0.0.1, port: 11893, clientId: c1, topicFilters: [{ filter: b }] }',
        up,
      ]),
    );
    const result = await runTbi(['validate', '-c', file], { cwd: dir });
    expect(result.stderr).toBe(
      [
        'tbi: CONFIG_INVALID:',
        '  - claims.yaml:13: integrations[1].config.routingKey: expected its own routing key "shared-key", but http integration "first" (claims.yaml:8: integrations[0].config.routingKey) already claims it',
        '  - claims.yaml:21: integrations[3].config.clientId: expected its own client id "c1" on 127.0.0.1:1883, but mqtt integration "m1" (claims.yaml:17: integrations[2].config.clientId) already claims it',
        '',
      ].join('\n'),
    );
    expect(result.code).toBe(1);
  });

  it('refuses an alias bomb, out-of-range limits and oversized converter files as user errors with file, line and path', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const name of ['b', 'c', 'd', 'e', 'f'])
      bomb.push(
        `${name}: &${name} [${Array(10)
          .fill(`*${bomb.at(-1)![0]}`)
          .join(', ')}]`,
      );
    const bombed = await runTbi(['validate', '-c', await write('bomb.yaml', `${bomb.join('\n')}\n`)], { cwd: dir });
    expect(bombed.stderr).toBe('tbi: bomb.yaml: (root): expected valid YAML or JSON with at most 100 expanded aliases (*name)\n');
    expect(bombed.code).toBe(1);

    await writeFile(path.join(dir, 'big.js'), `return [];${' '.repeat(100)}`);
    const limits = await write(
      'limits.yaml',
      config([
        'converters:',
        '  poolSize: 1000', //             6
        '  maxSourceBytes: 64',
        '  limits:',
        '    memoryMb: 1', //              9
        'integrations:',
        '  - name: hook',
        '    type: http',
        '    converterLimits: { timeoutMs: 0 }', // 13
        '    uplinkConverter: { file: big.js }', // 14
      ]),
    );
    const result = await runTbi(['start', '-c', limits], { cwd: dir });
    expect(result.stderr).toBe(
      [
        'tbi: CONFIG_INVALID:',
        '  - limits.yaml:6: converters.poolSize: expected an integer from 1 to 64, received 1000',
        '  - limits.yaml:9: converters.limits.memoryMb: expected an integer from 8 to 4096, received 1',
        '  - limits.yaml:13: integrations[0].converterLimits.timeoutMs: expected an integer from 1 to 600000, received 0',
        '',
      ].join('\n'),
    );
    expect(result.code).toBe(1);

    const sized = await runTbi(
      [
        'validate',
        '-c',
        await write(
          'sized.yaml',
          config(['converters: { maxSourceBytes: 64 }', 'integrations:', '  - name: hook', '    type: http', '    uplinkConverter: { file: big.js }']),
        ),
      ],
      { cwd: dir },
    );
    expect(sized.stderr).toBe(
      `tbi: sized.yaml:9: integrations[0].uplinkConverter.file: expected an uplink converter that loads and compiles (the uplink converter ${path.join(dir, 'big.js')} has 110 bytes, more than the limit of 64 (converters.maxSourceBytes))\n`,
    );
    expect(sized.code).toBe(1);
  });
});
