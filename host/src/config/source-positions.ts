import { isMap, isNode, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '@tbi/plugin-api';
import type { ConfigPath } from './format-path.js';

/** A parsed config file that still knows where each value came from. */
export interface ParsedSource {
  tree: unknown;
  /** `:line` of the value at a path (or of its nearest existing parent), '' when unknown. */
  locate: (path: ConfigPath) => string;
}

/**
 * Parses YAML or JSON (JSON is YAML) keeping source positions, so every later error can name the
 * line. A syntax error is a `ConfigError` with the line and column.
 */
export function parseSource(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const pos = lineCounter.linePos(syntax.pos[0]);
    const what = syntax.message.split('\n')[0] ?? syntax.message;
    throw new ConfigError({ file: `${file}:${pos.line}:${pos.col}`, path: '', expected: `valid YAML or JSON (${what})` });
  }
  return { tree: doc.toJS() ?? {}, locate: (path) => locate(doc, lineCounter, path) };
}

function locate(doc: Document, lineCounter: LineCounter, path: ConfigPath): string {
  let node: unknown = doc.contents;
  let found: unknown = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key);
      if (pair === undefined) break;
      node = pair.value;
      found = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (node === undefined) break;
      found = node;
    } else break;
  }
  const range = isNode(found) ? found.range : undefined;
  return range ? `:${lineCounter.linePos(range[0]).line}` : '';
}
