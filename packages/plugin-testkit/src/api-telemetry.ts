import type { HostProcess } from './host-process.js';

/**
 * Every stored value of telemetry `key` for `devices`, read through a running host's platform API
 * (one value per timestamp, however the store keeps overwrites meanwhile), sorted ascending: what
 * a replay that rewrote values should be checked against. `storedTelemetry` counts rows instead.
 *
 * @example
 * expect(await apiTelemetryValues(host, ['dev-0', 'dev-1'], 'n')).toEqual([0, 1, 20, 30]);
 */
export async function apiTelemetryValues(host: HostProcess, devices: readonly string[], key: string): Promise<number[]> {
  const values: number[] = [];
  for (const device of devices) {
    const { status, body } = await host.api(`/devices/${encodeURIComponent(device)}/telemetry/${encodeURIComponent(key)}?from=0&to=2000000000000&limit=100000`);
    if (status !== 200) throw new Error(`GET telemetry of ${device}: ${status} ${JSON.stringify(body)}`);
    values.push(...(body as Array<{ value: number }>).map((p) => p.value));
  }
  return values.sort((a, b) => a - b);
}
