import pino from 'pino';

// pino writes a child's bindings and each call's fields as they come: a child made with
// `{ integration }` that also logs `{ integration }` (the pipeline did; any plugin may) prints the
// key twice. JSON readers keep one of them, but log shippers and `grep` see both. These hooks make
// every line carry each key once, whoever adds it, with the usual meaning that the more specific
// value wins (call over child, child over parent).

const { chindingsSym } = pino.symbols;
const boundCache = new WeakMap<object, Record<string, unknown>>();

/** The fields a logger adds to every line: its base (`pid`) and the bindings of its ancestors. */
function boundFields(logger: pino.Logger): Record<string, unknown> {
  let bound = boundCache.get(logger);
  if (bound === undefined) {
    const chindings = (logger as unknown as Record<symbol, string>)[chindingsSym] ?? '';
    bound = chindings.length > 1 ? (JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>) : {};
    boundCache.set(logger, bound);
  }
  return bound;
}

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
}

/**
 * Makes `root` and every logger derived from it print each key once per line. Children are made
 * from `root` with the merged bindings when they would rebind a key; a call's field that repeats
 * a bound key is dropped when equal and otherwise written instead of the bound one.
 */
export function withUniqueKeys<L extends pino.Logger>(root: L): L {
  const rootFields = boundFields(root);
  type ChildFn = (this: pino.Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => pino.Logger;
  const nativeChild = root.child as unknown as ChildFn;
  // Children are `Object.create(parent)`: defining `child` on the root reaches every descendant.
  Object.defineProperty(root, 'child', {
    configurable: true,
    writable: true,
    value: function child(this: pino.Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) {
      const bound = boundFields(this);
      const fresh: pino.Bindings = {};
      let rebinds = false;
      for (const [key, value] of Object.entries(bindings)) {
        if (!(key in bound)) fresh[key] = value;
        else if (!sameValue(bound[key], value)) rebinds = true;
      }
      if (!rebinds) return nativeChild.call(this, fresh, options);
      // A key changes value: start again from the root with every binding merged.
      const merged: pino.Bindings = { ...withoutKeys(bound, rootFields), ...withoutKeys(bindings, rootFields) };
      const made = nativeChild.call(root, merged, options);
      if (options?.level === undefined) made.level = this.level;
      return made;
    },
  });
  return root;
}

/** pino `hooks.logMethod`: drops (or moves) a call's fields that repeat a bound key. */
export function logMethodWithUniqueKeys(root: () => pino.Logger) {
  return function logMethod(this: pino.Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
    const fields = args[0];
    if (!isFields(fields)) {
      method.apply(this, args);
      return;
    }
    const bound = boundFields(this);
    let own: Record<string, unknown> | undefined;
    let overrides = false;
    for (const key of Object.keys(fields)) {
      if (!(key in bound)) continue;
      own ??= { ...fields };
      if (!sameValue(bound[key], fields[key]) && !(key in boundFields(root()))) overrides = true;
      else delete own[key];
    }
    if (own === undefined) {
      method.apply(this, args);
      return;
    }
    if (!overrides) {
      method.apply(this, [own, ...args.slice(1)] as Parameters<pino.LogFn>);
      return;
    }
    // The call rebinds a child's key: write the line from the root, with the child's fields merged.
    const base = root();
    const merged = { ...withoutKeys(bound, boundFields(base)), ...own };
    method.apply(base, [merged, ...args.slice(1)] as Parameters<pino.LogFn>);
  };
}

function withoutKeys(fields: Record<string, unknown>, drop: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (!(key in drop)) out[key] = value;
  return out;
}
