import { describe, expect, it } from 'vitest';
import type { OutboundDownlink } from '@tbi/plugin-api';
import { PendingDownlinkQueue } from './pending-downlinks.js';

const downlink = (commandId: string, deviceName = 'd1'): OutboundDownlink => ({
  commandId,
  deviceName,
  encoded: { contentType: 'TEXT', data: commandId, metadata: {} },
  payload: Buffer.from(commandId),
});

describe('PendingDownlinkQueue', () => {
  it('bounds downlinks per device and devices overall, failing what it drops', () => {
    const dropped: string[] = [];
    const taken: string[] = [];
    const q = new PendingDownlinkQueue({
      perDevice: () => 2,
      maxDevices: 2,
      now: () => 0,
      onTaken: (d) => taken.push(d.commandId),
      onDropped: (d, reason) => dropped.push(`${d.commandId}: ${reason}`),
    });
    q.add(downlink('a1'));
    q.add(downlink('a2'));
    q.add(downlink('a3'));
    expect(dropped).toEqual(['a1: replaced by newer downlinks for the device']);
    q.add(downlink('b1', 'd2'));
    q.add(downlink('c1', 'd3'));
    expect(dropped.slice(1)).toEqual(['a2: too many devices with pending downlinks', 'a3: too many devices with pending downlinks']);
    expect(q.devices).toBe(2);
    expect(q.take('d2')?.commandId).toBe('b1');
    expect(taken).toEqual(['b1']);
    expect(q.devices).toBe(1);
  });
});
