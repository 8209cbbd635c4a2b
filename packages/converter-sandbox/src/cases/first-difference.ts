import { describeValue, indexPath, isPlainObject, keyPath } from '../output-path.js';

/**
 * The first place where `actual` differs from `expected` (JSON values), as
 * `"[0].telemetry[0].values.t: expected number 21.5, got number 21"`, or undefined when equal.
 * Object key order does not matter; array order does.
 */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | undefined {
  const where = path === '' ? '' : `${path}: `;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) {
      return `${where}expected ${describeValue(expected)}, got ${describeValue(actual)}`;
    }
    const shared = Math.min(expected.length, actual.length);
    for (let i = 0; i < shared; i++) {
      const d = firstDifference(expected[i], actual[i], indexPath(path, i));
      if (d !== undefined) return d;
    }
    if (expected.length !== actual.length) {
      return `${where}expected ${expected.length} items, got ${actual.length}`;
    }
    return undefined;
  }
  if (isPlainObject(expected) && isPlainObject(actual)) {
    for (const key of Object.keys(expected)) {
      if (!(key in actual)) return `${keyPath(path, key)}: missing (expected ${describeValue(expected[key])})`;
      const d = firstDifference(expected[key], actual[key], keyPath(path, key));
      if (d !== undefined) return d;
    }
    for (const key of Object.keys(actual)) {
      if (!(key in expected)) return `${keyPath(path, key)}: not expected, got ${describeValue(actual[key])}`;
    }
    return undefined;
  }
  if (Object.is(expected, actual)) return undefined;
  return `${where}expected ${describeValue(expected)}, got ${describeValue(actual)}`;
}
