/**
 * A converter process: holds the isolates of the converters the host gives it and runs their
 * batches. It is made to be killed: the host restarts it when it aborts, hangs or reports a
 * catastrophic isolate error, and retries the batches it held elsewhere. It ends itself when the
 * host goes away (the IPC channel closes).
 */
import type { ConverterFailure } from '@tbi/plugin-api';
import { isTbiError } from '@tbi/plugin-api';
import { createInProcessSandbox } from '../in-process-sandbox.js';
import { overdueCall } from '../isolate-slot.js';
import { testConverterInProcess } from '../test-converter.js';
import type { ChildMessage, ChildSettings, CrashCause, HostRequest } from './protocol.js';
import { fitPieces } from './fit-pieces.js';
import { decodeUplinkBatch } from '../batch-codec.js';
import type { SandboxConverter } from '../sandbox-converter.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;

function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

let ending = false;
/** Tells the host why, then goes: the host kills at once on `fatal`; this is the fallback. */
function die(cause: CrashCause, message: string): void {
  if (ending) return;
  ending = true;
  send({ op: 'fatal', cause, message });
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1000);
}

const sandbox = createInProcessSandbox({
  poolSize: settings.poolSize,
  // isolated-vm: "the process should be restarted". It is.
  onCatastrophicError: (message) => die('catastrophic', `isolated-vm reported a catastrophic error: ${message}`),
});
const converters = new Map<number, { kind: 'uplink' | 'downlink'; converter: SandboxConverter<unknown, unknown> }>();

function failure(error: unknown): ConverterFailure {
  if (isTbiError(error) && 'kind' in error) return { kind: (error as { kind: ConverterFailure['kind'] }).kind, message: error.message };
  return { kind: 'THREW', message: error instanceof Error ? error.message : String(error) };
}

async function handle(request: HostRequest): Promise<void> {
  try {
    switch (request.op) {
      case 'create': {
        const converter =
          request.kind === 'uplink'
            ? await sandbox.uplink(request.name, request.source, request.limits)
            : await sandbox.downlink(request.name, request.source, request.limits);
        converters
          .get(request.id)
          ?.converter.dispose()
          .catch(() => {});
        converters.set(request.id, { kind: request.kind, converter: converter as unknown as SandboxConverter<unknown, unknown> });
        send({ op: 'reply', re: request.re, ok: true });
        return;
      }
      case 'replace':
        await converters.get(request.id)?.converter.replace(request.source);
        send({ op: 'reply', re: request.re, ok: true });
        return;
      case 'dispose':
        await converters.get(request.id)?.converter.dispose();
        converters.delete(request.id);
        send({ op: 'reply', re: request.re, ok: true });
        return;
      case 'run': {
        const loaded = converters.get(request.id);
        if (loaded === undefined) throw new Error(`converter ${request.id} is not loaded in this process`);
        const { bytes: received, itemsJson, count } = request;
        // The received bytes may be a view into the IPC channel's read buffer, which must not be
        // handed over (the isolate takes the payload buffer it is given): it gets a copy, and the
        // messages are decoded from what was received if some must run again.
        const decode = () => (loaded.kind === 'uplink' ? decodeUplinkBatch(received ?? new Uint8Array(0), itemsJson) : (JSON.parse(itemsJson) as unknown[]));
        const pieces = await loaded.converter.runEncoded({ bytes: received?.slice(), itemsJson }, { count, decode });
        send({ op: 'reply', re: request.re, ok: true, pieces: fitPieces(pieces, settings.maxReplyChars) });
        return;
      }
      case 'test':
        send({ op: 'reply', re: request.re, ok: true, report: await testConverterInProcess(request.options) });
        return;
    }
  } catch (error) {
    send({ op: 'reply', re: request.re, ok: false, error: failure(error) });
  }
}

process.on('message', (request: HostRequest) => void handle(request));
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

// The watchdog: a call far past its time limit is stuck in a built-in that V8 cannot interrupt.
setInterval(() => {
  send({ op: 'beat' });
  const call = overdueCall(settings.hangFactor, settings.hangMarginMs);
  if (call) {
    die(
      'hang',
      `converter "${call.name}" ran ${Math.round(call.runningMs)} ms, far past its time limit of ${call.limitMs} ms, in a built-in that ignores the limit`,
    );
  }
}, 250);

send({ op: 'beat' });
