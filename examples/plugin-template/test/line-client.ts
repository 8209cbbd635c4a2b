import net from 'node:net';
import type { TestIntegration } from '@tbi/plugin-testkit';

/** A device on a TCP connection: sends lines, keeps every line it receives. */
export interface LineClient {
  received: string[];
  send(lines: string[]): void;
  close(): Promise<void>;
}

/** The port the integration listens on, from its own route (it was configured with port 0). */
export async function portOf(kit: TestIntegration): Promise<number> {
  const res = await kit.request(`/${kit.name}`);
  return ((await res.json()) as { port: number }).port;
}

export async function connect(port: number): Promise<LineClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const received: string[] = [];
  let buffered = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    received.push(...lines);
  });
  socket.on('error', () => {});
  return {
    received,
    send: (lines) => void socket.write(lines.map((l) => `${l}\n`).join('')),
    close: () => new Promise<void>((resolve) => socket.end(() => resolve())),
  };
}
