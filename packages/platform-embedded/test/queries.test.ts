import { afterEach, describe, expect, it } from 'vitest';
import { item, record, tempPlatform } from './helpers.js';

type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

describe('telemetry queries', () => {
  // temp at ts 0,10,...,90 with value = ts/10 (0..9); a string value at ts 95.
  async function series() {
    env = await tempPlatform();
    const telemetry = Array.from({ length: 10 }, (_, i) => ({ ts: i * 10, values: { temp: i } }));
    telemetry.push({ ts: 95, values: { temp: 'n/a' as unknown as number } });
    await env.platform.ingest([item([record('s-1', { telemetry })])]);
    return env.platform;
  }

  it('returns raw values in [from, to), newest first by default, with a limit', async () => {
    const platform = await series();
    expect(platform.telemetry('s-1', 'temp', { from: 20, to: 50 })).toEqual([
      { ts: 40, value: 4 },
      { ts: 30, value: 3 },
      { ts: 20, value: 2 },
    ]);
    expect(platform.telemetry('s-1', 'temp', { from: 0, to: 100, limit: 2, order: 'asc' })).toEqual([
      { ts: 0, value: 0 },
      { ts: 10, value: 1 },
    ]);
    expect(platform.telemetry('s-1', 'nope', { from: 0, to: 100 })).toEqual([]);
  });

  it('aggregates min/max/avg/count per interval, buckets aligned to from', async () => {
    const platform = await series();
    const q = { from: 0, to: 100, intervalMs: 30, order: 'asc' as const };
    // Buckets [0,30) [30,60) [60,90) [90,120): values 0-2, 3-5, 6-8, 9 and 'n/a'.
    expect(platform.telemetry('s-1', 'temp', { ...q, agg: 'min' })).toEqual([
      { ts: 0, value: 0, count: 3 },
      { ts: 30, value: 3, count: 3 },
      { ts: 60, value: 6, count: 3 },
      { ts: 90, value: 9, count: 2 },
    ]);
    expect(platform.telemetry('s-1', 'temp', { ...q, agg: 'max' }).map((p) => p.value)).toEqual([2, 5, 8, 9]);
    expect(platform.telemetry('s-1', 'temp', { ...q, agg: 'avg' }).map((p) => p.value)).toEqual([1, 4, 7, 9]);
    expect(platform.telemetry('s-1', 'temp', { ...q, agg: 'count' }).map((p) => p.value)).toEqual([3, 3, 3, 2]);
    // Without an interval the whole range is one bucket; newest bucket first by default.
    expect(platform.telemetry('s-1', 'temp', { from: 0, to: 100, agg: 'avg' })).toEqual([{ ts: 0, value: 4.5, count: 11 }]);
    expect(platform.telemetry('s-1', 'temp', { from: 5, to: 100, intervalMs: 50, agg: 'count' })).toEqual([
      { ts: 55, value: 5, count: 5 },
      { ts: 5, value: 5, count: 5 },
    ]);
  });

  it('rejects bad ranges, aggregations and limits', async () => {
    const platform = await series();
    expect(() => platform.telemetry('s-1', 'temp', { from: 10, to: 10 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => platform.telemetry('s-1', 'temp', { from: 0, to: 10, agg: 'sum' as 'min' })).toThrow(/agg must be/);
    expect(() => platform.telemetry('s-1', 'temp', { from: 0, to: 10, limit: 0 })).toThrow(/limit/);
    expect(() => platform.telemetry('s-1', 'temp', { from: 0, to: 10, agg: 'min', intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => platform.telemetry('ghost', 'temp', { from: 0, to: 10 })).toThrow(expect.objectContaining({ code: 'DEVICE_NOT_FOUND' }));
  });
});

describe('listDevices', () => {
  it('searches by name substring (wildcards literal), filters by type, and pages', async () => {
    env = await tempPlatform();
    await env.platform.ingest([
      item([
        record('boiler-1', { deviceType: 'boiler' }),
        record('boiler-2', { deviceType: 'boiler' }),
        record('pump_1', { deviceType: 'pump' }),
        record('pumpX1', { deviceType: 'pump' }),
        record('Boiler-3', { deviceType: 'pump' }),
      ]),
    ]);
    const { platform } = env;
    expect(platform.listDevices().total).toBe(5);
    expect(platform.listDevices({ search: 'BOILER' }).data.map((d) => d.name)).toEqual(['Boiler-3', 'boiler-1', 'boiler-2']);
    expect(platform.listDevices({ search: 'p_1' }).data.map((d) => d.name)).toEqual(['pump_1']);
    expect(platform.listDevices({ type: 'pump', search: 'boiler' }).data.map((d) => d.name)).toEqual(['Boiler-3']);
    const page = platform.listDevices({ limit: 2, offset: 2 });
    expect(page).toMatchObject({ total: 5, hasNext: true });
    expect(page.data.map((d) => d.name)).toEqual(['boiler-2', 'pumpX1']);
    expect(platform.listDevices({ limit: 2, offset: 4 })).toMatchObject({ total: 5, hasNext: false });
    expect(() => platform.listDevices({ limit: 5000 })).toThrow(/limit/);
  });
});
