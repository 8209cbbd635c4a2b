import { DeliveryError, markRetryable, type OutboundDownlink } from '@tbi/plugin-api';
import type { DeviceSockets } from './source.js';

/**
 * The downlink: writes the encoded downlink as one line to the connection that last carried the
 * device. A device that is not connected cannot be helped by retrying now, so that failure is
 * marked non-retryable and the host reports it to the platform at once.
 */
export function lineSender(devices: DeviceSockets): (downlink: OutboundDownlink) => Promise<void> {
  return (downlink) =>
    new Promise<void>((resolve, reject) => {
      const socket = devices.get(downlink.deviceName);
      if (socket === undefined || !socket.writable) {
        reject(markRetryable(new DeliveryError(`device ${downlink.deviceName} is not connected`), false));
        return;
      }
      socket.write(`${Buffer.from(downlink.payload).toString('utf8')}\n`, (err) => (err ? reject(new DeliveryError(err.message, { cause: err })) : resolve()));
    });
}
