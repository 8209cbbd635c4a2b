import { describe, expect, it } from 'vitest';
import { ConnectionKeeper } from './connection-keeper.js';
import type { AmqpDriver, ConnectionDriver, ConnectionOptions } from './driver/types.js';
import { RabbitmqConnectError } from './errors.js';

const options: ConnectionOptions = { host: 'h', port: 1, vhost: '/', username: 'u', password: 'p', heartbeatSec: 60, connectionTimeoutMs: 1000 };
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const metric = { inc() {}, set() {}, dec() {} };
const context = { host: 'h', port: 1, vhost: '/', username: 'u' };

/** A driver whose connect results are scripted; each connection can be closed "by the broker". */
function scriptedDriver(results: Array<'ok' | Error>) {
  const closers: Array<(error: Error | undefined) => void> = [];
  let calls = 0;
  const driver: AmqpDriver = {
    async connect() {
      const r = results[Math.min(calls++, results.length - 1)]!;
      if (r instanceof Error) throw r;
      const connection: ConnectionDriver = {
        channel: async () => {
          throw new Error('unused');
        },
        confirmChannel: async () => {
          throw new Error('unused');
        },
        onClose: (listener) => closers.push(listener),
        onBlocked: () => {},
        close: async () => {},
      };
      return connection;
    },
  };
  return { driver, closers, calls: () => calls };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

describe('ConnectionKeeper', () => {
  it('runs the setup steps again after the connection is lost', async () => {
    const { driver, closers } = scriptedDriver(['ok']);
    const keeper = new ConnectionKeeper(options, driver, silent, 'test', { initialDelayMs: 1, maxDelayMs: 2 }, { reconnects: metric, connected: metric });
    let setups = 0;
    keeper.onConnected(async () => void setups++);
    await keeper.start();
    expect([keeper.state, setups]).toEqual(['up', 1]);
    closers[0]!(new Error('connection_forced'));
    expect(keeper.state).toBe('waiting');
    expect(keeper.lastError?.message).toBe('connection_forced');
    await until(() => setups === 2 && keeper.state === 'up');
    await keeper.stop();
  });

  it('starts degraded and keeps trying while the broker is unreachable', async () => {
    const refused = new RabbitmqConnectError('NETWORK', 'could not be reached: ECONNREFUSED', { context });
    const { driver, calls } = scriptedDriver([refused, refused, 'ok']);
    const keeper = new ConnectionKeeper(options, driver, silent, 'test', { initialDelayMs: 1, maxDelayMs: 2 }, { reconnects: metric, connected: metric });
    await keeper.start();
    expect(keeper.state).toBe('waiting');
    await until(() => keeper.state === 'up');
    expect(calls()).toBe(3);
    await keeper.stop();
  });

  it('fails the start when the broker refuses the login or the vhost', async () => {
    const denied = new RabbitmqConnectError('AUTH', 'refused the login', { context });
    const { driver, calls } = scriptedDriver([denied]);
    const keeper = new ConnectionKeeper(options, driver, silent, 'test', { initialDelayMs: 1, maxDelayMs: 2 }, { reconnects: metric, connected: metric });
    await expect(keeper.start()).rejects.toBe(denied);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([keeper.state, calls()]).toEqual(['stopped', 1]);
  });

  it('reconnects when a setup step fails (a queue that does not exist yet)', async () => {
    const { driver } = scriptedDriver(['ok']);
    const keeper = new ConnectionKeeper(options, driver, silent, 'test', { initialDelayMs: 1, maxDelayMs: 2 }, { reconnects: metric, connected: metric });
    let attempts = 0;
    keeper.onConnected(async () => {
      if (++attempts < 3) throw new Error("NOT_FOUND - no queue 'q'");
    });
    await keeper.start();
    expect(keeper.lastError?.message).toContain('NOT_FOUND');
    await until(() => keeper.state === 'up');
    expect(attempts).toBe(3);
    await keeper.stop();
  });
});
