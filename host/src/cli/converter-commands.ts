import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { findConverterCases, loadConverterSource, runConverterCases, testConverter } from '@tbi/converter-sandbox';
import { TbiError } from '@tbi/plugin-api';
import { EXIT_USER_ERROR } from './report-error.js';

async function readInput(file: string): Promise<Uint8Array> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (cause) {
    throw new TbiError('INPUT_NOT_FOUND', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new TbiError('USAGE', `--metadata expects key=value, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/**
 * `tbi convert`: runs one converter once on a payload in the real sandbox and prints the result
 * (records or encoded downlink, console output, time). Exit 1 when the converter fails.
 */
export function convertCommand(out: (text: string) => void, setExitCode: (code: number) => void): Command {
  return new Command('convert')
    .description('run a converter on one payload in the sandbox and print what it returns')
    .requiredOption('--converter <file>', 'the converter: a .js file, or a ThingsBoard converter export (.json)')
    .requiredOption('--payload <file>', 'the payload file, or - for stdin (with --downlink: a JSON {msg, metadata, msgType, integrationMetadata})')
    .option('--metadata <key=value>', 'metadata for the converter (repeatable)', keyValue)
    .option('--downlink', 'the converter is a downlink converter')
    .action(async (opts: { converter: string; payload: string; metadata?: Record<string, string>; downlink?: boolean }) => {
      const metadata = opts.metadata ?? {};
      const { source } = await loadConverterSource({ file: opts.converter }, opts.downlink ? 'downlink' : 'uplink', process.cwd());
      const payload = await readInput(opts.payload);
      let result;
      if (opts.downlink) {
        let request: Record<string, unknown>;
        try {
          request = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
        } catch (cause) {
          throw new TbiError('USAGE', `--payload of a downlink must be JSON {msg, metadata, msgType, integrationMetadata}: ${(cause as Error).message}`);
        }
        result = await testConverter({
          kind: 'downlink',
          source,
          request: {
            msg: request.msg ?? {},
            metadata: { ...(request.metadata as Record<string, string> | undefined), ...metadata },
            msgType: (request.msgType as string | undefined) ?? 'RPC_CALL_FROM_SERVER_TO_DEVICE',
            integrationMetadata: (request.integrationMetadata as Record<string, string> | undefined) ?? {},
          },
        });
      } else {
        result = await testConverter({ kind: 'uplink', source, payload, metadata });
      }
      out(`${JSON.stringify(result, null, 2)}\n`);
      setExitCode(result.ok ? 0 : EXIT_USER_ERROR);
    });
}

/**
 * `tbi test-converters [dir]`: runs every `*.cases.json` under a directory against the converter
 * beside it and prints one line per case; exit 1 when any case (or case file) fails.
 */
export function testConvertersCommand(out: (text: string) => void, setExitCode: (code: number) => void): Command {
  return new Command('test-converters')
    .description('run the converter test cases (<converter>.cases.json beside <converter>.js) under a directory')
    .argument('[dir]', 'directory to search', '.')
    .action(async (dir: string) => {
      const files = await findConverterCases(path.resolve(dir));
      if (files.length === 0) throw new TbiError('NO_CASES', `no converter test cases (*.cases.json) found under ${dir}`);
      let failed = 0;
      let passed = 0;
      for (const file of files) {
        const report = await runConverterCases(file);
        const shown = path.relative(process.cwd(), file);
        if (report.error !== undefined) {
          failed++;
          out(`FAIL ${shown}: ${report.error}\n`);
        }
        for (const c of report.cases) {
          if (c.ok) passed++;
          else failed++;
          out(`${c.ok ? 'ok  ' : 'FAIL'} ${shown} > ${c.name}${c.ok ? '' : `\n     ${c.message ?? ''}`}\n`);
        }
      }
      out(`${passed} passed, ${failed} failed\n`);
      setExitCode(failed > 0 ? EXIT_USER_ERROR : 0);
    });
}
