import { describe, expect, it } from 'vitest';
import { RestartSchedule, type RestartPolicy } from './restart-schedule.js';

const policy: RestartPolicy = { initialMs: 1000, maxMs: 8000, resetAfterMs: 60_000, downTimeoutMs: 1, checkIntervalMs: 1, random: () => 1 };

describe('RestartSchedule', () => {
  it('doubles the delay cap per failure up to maxMs, and says when and why', () => {
    let now = 0;
    const schedule = new RestartSchedule(policy, () => now);
    const delays = [1, 2, 3, 4, 5].map(() => schedule.schedule('boom', () => {}).at - now);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    now += 3500;
    expect(schedule.describe()).toBe('restarting in 5 s (attempt 5): boom');
    schedule.cancel();
    expect(schedule.describe()).toBeUndefined();
  });

  it('draws each delay between 0 and the cap (full jitter)', () => {
    const schedule = new RestartSchedule({ ...policy, random: () => 0.25 }, () => 0);
    expect(schedule.schedule('x', () => {}).at).toBe(250);
    expect(schedule.schedule('x', () => {}).at).toBe(500);
    schedule.cancel();
  });

  it('starts counting again once the integration stayed up for resetAfterMs, not before', () => {
    let now = 0;
    const schedule = new RestartSchedule(policy, () => now);
    schedule.schedule('a', () => {});
    schedule.markUp();
    now += 59_000;
    expect(schedule.schedule('b', () => {}).attempt).toBe(2);
    schedule.markUp();
    now += 60_000;
    expect(schedule.schedule('c', () => {}).attempt).toBe(1);
    schedule.cancel();
  });

  it('runs the restart when its time comes, once', async () => {
    const schedule = new RestartSchedule({ ...policy, initialMs: 20 });
    let runs = 0;
    schedule.schedule('x', () => runs++);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(runs).toBe(1);
    expect(schedule.pending()).toBeUndefined();
    expect(schedule.describeCurrent()).toBe('restart attempt 1 (after: x)');
    schedule.markUp();
    expect(schedule.describeCurrent()).toBeUndefined();
  });
});
