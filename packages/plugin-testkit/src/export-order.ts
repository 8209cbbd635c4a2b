/**
 * Where an at-least-once stream of numbered values per device breaks per-device order: for the
 * values `n` of device `dev-<i>` that go `i, i + step, i + 2·step …`, every value greater than the
 * device's highest so far must be the next one (a repeat may go back: a round sent again after a
 * restart). Returns one line per break, `dev-3: 153 after 53`; empty when in order.
 *
 * @example
 * expect(outOfDeviceOrder(received, 50)).toEqual([]);
 */
export function outOfDeviceOrder(values: ReadonlyArray<{ device: string; n: number }>, step: number): string[] {
  const breaks: string[] = [];
  const highest = new Map<string, number>();
  for (const { device, n } of values) {
    const top = highest.get(device) ?? -1;
    const next = top === -1 ? Number(device.slice(device.lastIndexOf('-') + 1)) : top + step;
    if (n > top && n !== next) breaks.push(`${device}: ${n} after ${top}`);
    highest.set(device, Math.max(top, n));
  }
  return breaks;
}
