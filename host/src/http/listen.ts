import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { ConfigError, TbiError } from '@tbi/plugin-api';

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string } | undefined;
}

/** A listening server. */
export interface Listening {
  /** Base URL, e.g. `http://127.0.0.1:8080`; a wildcard host is shown as `localhost`. */
  url: string;
  port: number;
  /** Stops accepting connections; resolves when every open connection has ended. */
  close(): Promise<void>;
  /** Ends every connection now (after the grace period). */
  destroyConnections(): void;
  server: Server;
}

/** Serves the app with `@hono/node-server`, over TLS when certificate and key are configured. */
// biome-ignore lint/suspicious/noExplicitAny: serves an app of any Hono env.
export async function listen(app: Hono<any>, options: ListenOptions): Promise<Listening> {
  let tlsOptions: { cert: Buffer; key: Buffer } | undefined;
  if (options.tls) {
    const read = async (file: string, field: string) => {
      try {
        return await readFile(file);
      } catch (cause) {
        throw new ConfigError({ path: `http.tls.${field}`, expected: `a readable PEM file (${file}: ${(cause as Error).message})`, cause });
      }
    };
    tlsOptions = { cert: await read(options.tls.cert, 'cert'), key: await read(options.tls.key, 'key') };
  }
  const server = (
    tlsOptions
      ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: tlsOptions })
      : createAdaptorServer({ fetch: app.fetch })
  ) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EADDRINUSE' ? 'another process already listens there; choose another http.port' : err.message;
      reject(new TbiError('LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}: ${hint}`, { cause: err, context: { code: err.code } }));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = ['0.0.0.0', '::', ''].includes(options.host) ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tlsOptions ? 'https' : 'http'}://${shownHost}:${address.port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    server,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closed;
    },
    destroyConnections: () => server.closeAllConnections(),
  };
}
