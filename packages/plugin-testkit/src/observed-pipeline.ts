import type { IntegrationChannel, Pipeline } from '@tbi/host';
import type { SubmitRecord } from './test-integration.js';

/** The pipeline with every channel's `uplink` observed, so tests see submits and outcomes. */
export function observed(pipeline: Pipeline, submits: SubmitRecord[]): Pipeline {
  return new Proxy(pipeline, {
    get(target, property) {
      if (property !== 'attach') return Reflect.get(target, property, target);
      return (attachOptions: Parameters<Pipeline['attach']>[0]): IntegrationChannel => {
        const channel = target.attach(attachOptions);
        const uplink: IntegrationChannel['uplink'] = {
          submit(messages, submitOptions) {
            const record: SubmitRecord = { messages, ...(submitOptions ? { options: submitOptions } : {}) };
            submits.push(record);
            return channel.uplink.submit(messages, submitOptions).then(
              (outcomes) => {
                record.outcomes = outcomes;
                return outcomes;
              },
              (error: unknown) => {
                record.error = error;
                throw error;
              },
            );
          },
          reject(messages, reason) {
            const record: SubmitRecord = { messages, rejectReason: reason };
            submits.push(record);
            return channel.uplink.reject(messages, reason).catch((error: unknown) => {
              record.error = error;
              throw error;
            });
          },
        };
        return new Proxy(channel, {
          get(c, p) {
            if (p === 'uplink') return uplink;
            const value = Reflect.get(c, p, c);
            return typeof value === 'function' ? value.bind(c) : value;
          },
        });
      };
    },
  });
}
