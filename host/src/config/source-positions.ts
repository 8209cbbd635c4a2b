import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '@tbi/plugin-api';
import { InvalidConfigError } from './config-problems.js';
import type { ConfigPath } from './format-path.js';

/**
 * Aliases a config file may expand. A config needs a few at most; a "billion laughs" file
 * needs thousands and would otherwise take the process's memory.
 */
export const MAX_ALIASES = 100;

/** A parsed config file that still knows where each value came from. */
export interface ParsedSource {
  tree: unknown;
  /** `:line` of the key at a path (or of its nearest existing parent), '' when unknown. */
  locate: (path: ConfigPath) => string;
  /** How a number at a path was written (`0123`, `1e3`), to turn it into a string as written. */
  numberText: (path: ConfigPath) => string | undefined;
}

/**
 * Parses YAML or JSON (JSON is YAML) keeping source positions, so every later error can name the
 * line. A syntax error is a `ConfigError` with the line and column.
 */
export function parseSource(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // Every syntax error (a duplicate key, a bad indent…), not only the first.
  const syntax = doc.errors.slice(0, 20).map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    const what = error.message.split('\n')[0] ?? error.message;
    return new ConfigError({ file: `${file}:${pos.line}:${pos.col}`, path: '', expected: `valid YAML or JSON (${what})` });
  });
  if (syntax.length === 1) throw syntax[0]!;
  if (syntax.length > 1) throw new InvalidConfigError(syntax);
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (cause) {
    // yaml throws a ReferenceError for too many aliases (and for an alias to nothing).
    const reason = /alias count/i.test(String(cause)) ? `at most ${MAX_ALIASES} expanded aliases (*name)` : `resolvable aliases (${(cause as Error).message})`;
    throw new ConfigError({ file, path: '', expected: `valid YAML or JSON with ${reason}`, cause });
  }
  return { tree, locate: (path) => locate(doc, lineCounter, path), numberText: (path) => numberText(doc, path) };
}

function locate(doc: Document, lineCounter: LineCounter, path: ConfigPath): string {
  let node: unknown = doc.contents;
  let found: unknown = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key);
      if (pair === undefined) break;
      node = pair.value;
      // The key's line: for a block value the value starts on the next line, or later.
      found = isNode(pair.key) ? pair.key : pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (node === undefined) break;
      found = node;
    } else break;
  }
  const range = isNode(found) ? found.range : undefined;
  return range ? `:${lineCounter.linePos(range[0]).line}` : '';
}

function numberText(doc: Document, path: ConfigPath): string | undefined {
  let node: unknown = doc.contents;
  for (const key of path) {
    if (isMap(node)) node = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key)?.value;
    else if (isSeq(node) && typeof key === 'number') node = node.items[key];
    else return undefined;
  }
  return isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string' ? node.source : undefined;
}
