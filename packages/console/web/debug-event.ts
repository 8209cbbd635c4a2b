import { api, enc } from './api.js';
import type { PayloadView } from './payload-view.js';

/**
 * A debug event as the API and the live stream send it: the wire form of the host's `DebugEvent`
 * (host/src/debug-events/debug-ring.ts), restated because the browser bundle cannot import the host.
 */
export interface DebugEvent {
  id: number;
  time: number;
  integration: string;
  type: 'uplink' | 'downlink';
  status: string;
  in: { payload?: PayloadView; metadata: Record<string, string>; msg?: unknown; msgType?: string; deviceName?: string };
  out?: unknown;
  error?: { kind?: string; message: string; path?: string };
  logs: Array<{ level: string; message: string }>;
  timings: { convertMs?: number; storeMs?: number; sendMs?: number; batchSize?: number };
}

/** The devices an event is about: the downlink's device, or the `deviceName`s the uplink converter returned. */
export function devicesOf(event: DebugEvent): string[] {
  if (event.in.deviceName) return [event.in.deviceName];
  const out = Array.isArray(event.out) ? event.out : [event.out];
  return out.flatMap((r) =>
    r && typeof r === 'object' && typeof (r as { deviceName?: unknown }).deviceName === 'string' ? [(r as { deviceName: string }).deviceName] : [],
  );
}

export function failed(event: DebugEvent): boolean {
  return event.error !== undefined || event.status === 'failed' || event.status === 'dead-lettered';
}

export async function recentEvents(integration: string, limit = 50): Promise<DebugEvent[]> {
  return (await api<{ events: DebugEvent[] }>(`/api/integrations/${enc(integration)}/events?limit=${limit}`)).events;
}
