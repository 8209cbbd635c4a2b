// The web console end to end, in a real browser: Debian's chromium driven by playwright-core,
// against a real host (in process) with an HTTP and an MQTT integration (the real plugins, the
// shared Mosquitto of scripts/brokers.sh, the real sandbox and embedded platform). It signs in,
// watches a message arrive live, breaks the HTTP converter in the editor and sees the failure,
// fixes and applies it (written back to its file), replays the dead letter, charts the device's
// telemetry and sends a two-way RPC that a real MQTT device answers. Every page is screenshotted
// into docs/console/. Any request to another origin than the host fails the test.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoPorts } from '../../scripts/ports.mjs';
import { startHost, type HostHandle } from '../src/index.js';
import { memoryLogger } from './helpers/memory-logger.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'docs', 'console');
const TOKEN = 'console-e2e-token-0123456789abcdef';
const MQTT_PORT = mosquittoPorts().plain;
const PREFIX = `console-${process.pid}`;
const ROUTING_KEY = 'boiler-webhook';

const HTTP_UPLINK = `var data = decodeToJson(payload);
return {
  deviceName: data.device,
  deviceType: 'boiler',
  attributes: { firmware: data.fw },
  telemetry: { ts: data.ts, values: { temperature: data.temperature, pressure: data.pressure } }
};
`;
// The typo a user makes: the timestamp becomes a string, which the host refuses with its path.
const HTTP_UPLINK_BROKEN = HTTP_UPLINK.replace('ts: data.ts,', "ts: 'at ' + data.ts,");
const MQTT_UPLINK = `var data = decodeToJson(payload);
var record = { deviceName: metadata.topic.split('/')[1], deviceType: 'thermostat', telemetry: { setpoint: data.setpoint, humidity: data.humidity } };
if (data.reply) record.rpcReply = { requestId: data.reply, response: data.response };
return record;
`;
const MQTT_DOWNLINK = `return {
  contentType: 'JSON',
  data: JSON.stringify({ id: metadata.requestUUID, method: msg.method, params: msg.params }),
  metadata: { topic: integrationMetadata.prefix + '/' + metadata.deviceName + '/rpc' }
};
`;

function chromiumPath(): string {
  return process.env.TBI_CHROMIUM ?? execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
}

async function connect(): Promise<MqttClient> {
  const client = mqtt.connect({ host: '127.0.0.1', port: MQTT_PORT, protocolVersion: 5, reconnectPeriod: 300 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

let dir = '';
let host: HostHandle;
let browser: Browser;
let page: Page;
let device: MqttClient;
let ticker: NodeJS.Timeout | undefined;
const foreign: string[] = [];
const pageErrors: string[] = [];
const converterFile = () => path.join(dir, 'converters', 'boiler-uplink.js');

function webhook(body: unknown): Promise<Response> {
  return fetch(`${host.url}/api/v1/integrations/http/${ROUTING_KEY}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function go(hash: string): Promise<void> {
  // A string, not a function: this file is type-checked without the DOM library.
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-console-'));
  await mkdir(path.join(dir, 'converters'));
  await writeFile(converterFile(), HTTP_UPLINK);
  await mkdir(SHOTS, { recursive: true });
  host = await startHost({
    baseDir: dir,
    port: 0,
    host: '127.0.0.1',
    logger: memoryLogger().logger,
    config: {
      auth: { token: TOKEN },
      dataDir: path.join(dir, 'data'),
      plugins: [path.join(ROOT, 'plugins', 'http'), path.join(ROOT, 'plugins', 'mqtt')],
      integrations: [
        {
          name: 'boilers-http',
          type: 'http',
          config: { routingKey: ROUTING_KEY },
          uplinkConverter: { file: 'converters/boiler-uplink.js' },
          debug: { mode: 'all' },
        },
        {
          name: 'thermostats-mqtt',
          type: 'mqtt',
          config: {
            host: '127.0.0.1',
            port: MQTT_PORT,
            protocolVersion: '5',
            username: 'console',
            password: 'not-shown-in-the-console',
            topicFilters: [{ filter: `${PREFIX}/+/data`, qos: 1 }],
          },
          metadata: { prefix: PREFIX },
          uplinkConverter: { inline: MQTT_UPLINK },
          downlinkConverter: { inline: MQTT_DOWNLINK },
          debug: { mode: 'all' },
        },
      ],
    },
  });
  // The thermostat: reports now and then, and answers RPCs on its rpc topic.
  device = await connect();
  await device.subscribeAsync(`${PREFIX}/+/rpc`, { qos: 1 });
  device.on('message', (topic, payload) => {
    const request = JSON.parse(payload.toString()) as { id: string; method: string; params: unknown };
    const name = topic.split('/')[1]!;
    void device.publishAsync(
      `${PREFIX}/${name}/data`,
      JSON.stringify({ setpoint: 21, reply: request.id, response: { ok: true, method: request.method, applied: request.params } }),
      { qos: 1 },
    );
  });
  let n = 0;
  ticker = setInterval(() => {
    n++;
    void device
      .publishAsync(`${PREFIX}/thermostat-7/data`, JSON.stringify({ setpoint: 20 + (n % 5) * 0.5, humidity: 40 + (n % 7) }), { qos: 1 })
      .catch(() => undefined);
  }, 400);
  // A day of the boiler's history, for the chart.
  const now = Date.now();
  for (let i = 30; i >= 1; i--) {
    const res = await webhook({
      device: 'boiler-12',
      fw: '2.4.1',
      ts: now - i * 60_000,
      temperature: Math.round((60 + 8 * Math.sin(i / 4)) * 10) / 10,
      pressure: 1.2 + (i % 4) / 20,
    });
    expect(res.status).toBeLessThan(300);
  }

  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  const origin = new URL(host.url).origin;
  // Anything not served by the host is refused and recorded: the console must need nothing else.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => void dialog.accept());
}, 120_000);

afterAll(async () => {
  clearInterval(ticker);
  await browser?.close();
  await device?.endAsync();
  await host?.stop();
});

describe('the web console in a real browser', () => {
  it('refuses a wrong token and signs in with the right one', async () => {
    await page.goto(`${host.url}/console/`);
    await page.fill('#token', 'wrong-token');
    await page.click('button[type=submit]');
    await page
      .locator('.sign-in [role=alert]', { hasText: '401' })
      .or(page.locator('.sign-in [role=alert]', { hasText: 'token' }))
      .waitFor();
    await shot('sign-in');
    await page.fill('#token', TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('[data-integration="thermostats-mqtt"] .badge', { hasText: 'running' }).waitFor();
    await page.locator('[data-integration="boilers-http"]').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('tbi.console.token')")).toBe(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
  });

  it('shows each integration with its plugin, health, counts, a live rate chart and its config with secrets masked', async () => {
    const card = page.locator('[data-integration="thermostats-mqtt"]');
    await expect.poll(async () => Number(await card.locator('dt:text-is("received") + dd').textContent()), { timeout: 20_000 }).toBeGreaterThan(3);
    expect(await card.textContent()).toContain('@tbi/plugin-mqtt');
    // Let the chart collect a few samples of the live rates.
    await expect.poll(async () => (await card.locator('dt:text-is("rate in") + dd').textContent()) ?? '', { timeout: 20_000 }).not.toBe('0.0/s');
    await card.locator('summary', { hasText: 'Config' }).click();
    const config = card.locator('pre.code');
    await config.waitFor();
    const text = (await config.textContent()) ?? '';
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('not-shown-in-the-console');
    await card.locator('summary', { hasText: 'Config' }).click();
    // A chart worth a screenshot: some seconds of live rates.
    await expect.poll(async () => Number(await card.locator('.chart').getAttribute('data-samples')), { timeout: 20_000 }).toBeGreaterThanOrEqual(12);
    await shot('integrations');
  });

  it('stops and starts an integration', async () => {
    const card = page.locator('[data-integration="boilers-http"]');
    await card.getByRole('button', { name: 'Stop', exact: true }).click();
    await card.locator('.badge', { hasText: /^stopped$/ }).waitFor();
    await card.getByRole('button', { name: 'Start', exact: true }).click();
    await card.locator('.badge', { hasText: /^running$/ }).waitFor();
  });

  it('streams debug events live, filters them and shows a payload as JSON, text and hex', async () => {
    await go('#/events/thermostats-mqtt');
    await page.locator('#f-device').waitFor();
    await page.locator('[role=status]', { hasText: 'live: thermostats-mqtt' }).waitFor();
    await device.publishAsync(`${PREFIX}/thermostat-live/data`, JSON.stringify({ setpoint: 19.5, humidity: 51 }), { qos: 1 });
    const row = page.locator('table.events tbody tr:not(.detail-row)', { hasText: 'thermostat-live' }).first();
    await row.waitFor({ timeout: 20_000 });
    await page.fill('#f-device', 'thermostat-live');
    await expect.poll(() => page.locator('table.events tbody tr:not(.detail-row)').count(), { timeout: 15_000 }).toBe(1);
    await row.locator('button.link').click();
    const detail = page.locator('tr.detail-row:not([hidden])').first();
    await detail.locator('pre.payload').waitFor();
    expect(await detail.locator('pre.payload').textContent()).toContain('"setpoint": 19.5');
    await detail.getByRole('button', { name: 'HEX' }).click();
    expect(await detail.locator('pre.payload').textContent()).toMatch(/^000000 {2}7b 22/);
    await detail.getByRole('button', { name: 'JSON' }).click();
    await page.fill('#f-device', '');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('span', { hasText: 'paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('tr.detail-row:not([hidden])').first().waitFor();
    await shot('events');
  });

  it('breaks the converter in the editor, sees the failure with its path, applies it and gets a dead letter', async () => {
    await go('#/editor/boilers-http/uplink');
    const editor = page.locator('.cm-content');
    await editor.waitFor();
    expect(await editor.textContent()).toContain('deviceType');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.insertText(HTTP_UPLINK_BROKEN);
    await page.fill('#payload', JSON.stringify({ device: 'boiler-12', fw: '2.4.1', ts: Date.now(), temperature: 64.2, pressure: 1.31 }, null, 2));
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.locator('.result[data-ok="false"]');
    await result.waitFor();
    expect(await result.locator('.error').textContent()).toMatch(/telemetry.*ts|ts.*telemetry/);
    await shot('editor-failure');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('[role=status]', { hasText: 'applied to boilers-http' }).waitFor();
    expect(await readFile(converterFile(), 'utf8')).toContain("'at ' + data.ts");
    const res = await webhook({ device: 'boiler-12', fw: '2.4.1', ts: Date.now(), temperature: 66.6, pressure: 1.4 });
    // The HTTP connector tells the sender that the payload did not convert; the host keeps it.
    expect(res.status).toBe(400);
    expect(((await res.json()) as { path?: string }).path).toMatch(/ts/);
    await go('#/dead-letters/boilers-http');
    const letter = page.locator('tr[data-letter-id]').first();
    await letter.waitFor();
    await letter.getByRole('button', { name: 'Show' }).click();
    await page.locator('.letter-detail pre.payload', { hasText: '66.6' }).waitFor();
    await shot('dead-letters');
  });

  it('uses the failed event, fixes the converter, applies it to the file and replays the dead letter', async () => {
    await go('#/editor/boilers-http/uplink');
    const editor = page.locator('.cm-content');
    await editor.waitFor();
    await expect.poll(() => page.locator('#event option').count(), { timeout: 15_000 }).toBeGreaterThan(1);
    const failedEvent = await page.locator('#event option', { hasText: 'dead-lettered' }).first().getAttribute('value');
    await page.selectOption('#event', failedEvent!);
    await expect.poll(() => page.inputValue('#payload'), { timeout: 15_000 }).toContain('66.6');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.locator('.result[data-ok="false"]').waitFor();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.insertText(HTTP_UPLINK);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.locator('.result[data-ok="true"]', { hasText: 'boiler-12' }).waitFor();
    await shot('editor');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('[role=status]', { hasText: 'written to' }).waitFor();
    expect(await readFile(converterFile(), 'utf8')).toBe(HTTP_UPLINK);
    await page.getByRole('button', { name: 'Replay dead letters' }).click();
    await page.locator('[role=status]', { hasText: '1 stored' }).waitFor({ timeout: 20_000 });
    const left = await host.app.request('/api/dead-letters?integration=boilers-http', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await left.json()) as { total: number }).total).toBe(0);
  });

  it("shows the device's latest telemetry, attributes and a chart of a key", async () => {
    await go('#/devices');
    await page.fill('#device-search', 'boiler');
    await page.locator('a', { hasText: 'boiler-12' }).click();
    await page.locator('th', { hasText: 'temperature' }).waitFor();
    expect(await page.locator('td', { hasText: '66.6' }).count()).toBeGreaterThan(0); // the replayed letter
    await page.locator('.attributes pre', { hasText: '2.4.1' }).waitFor();
    await page.selectOption('#chart-key', 'temperature');
    await expect
      .poll(async () => Number(await page.locator('.device-grid .chart').getAttribute('data-points')), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(31);
    await shot('devices');
  });

  it('sends a two-way RPC to the MQTT device and shows its response', async () => {
    await go('#/devices/thermostat-7');
    await page.locator('#rpc-method').waitFor();
    await page.fill('#rpc-method', 'setSetpoint');
    await page.fill('#rpc-params', '{"celsius": 22.5}');
    await page.getByRole('button', { name: 'Send RPC' }).click();
    const response = page.locator('.rpc-result pre');
    await response.waitFor({ timeout: 20_000 });
    expect(JSON.parse((await response.textContent()) ?? '')).toEqual({ ok: true, method: 'setSetpoint', applied: { celsius: 22.5 } });
    await page.locator('.device-grid .chart[data-points]').waitFor();
    await shot('rpc');
  });

  it('is readable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await go('#/integrations');
    await page.locator('[data-integration="thermostats-mqtt"] .badge', { hasText: 'running' }).waitFor();
    await expect
      .poll(async () => Number(await page.locator('[data-integration="boilers-http"] .chart').getAttribute('data-samples')), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(4);
    // Nothing wider than the screen: the page does not scroll sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot('phone');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('made no request to another origin and threw no script error', () => {
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
