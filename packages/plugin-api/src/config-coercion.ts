// Values written as `${env:NAME}` reach a plugin's schema as strings. These preprocessors turn
// such strings into the number or boolean the setting needs and leave everything else as it is,
// so the schema itself still checks the value (and reports "expected number, received string"
// for `"abc"` instead of silently making it NaN or 0, as `z.coerce.number()` would for `""`).

/**
 * A numeric string (`"8883"`, `" 1.5 "`, `"-3"`, `"1e3"`) becomes its number; anything else is
 * returned unchanged for the schema to judge.
 *
 * @example
 * port: z.preprocess(coerceNumber, z.number().int().min(1).max(65535)).optional()
 */
export function coerceNumber(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '' || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return value;
  return Number(text);
}

/**
 * `"true"`/`"false"` (any case, trimmed) become booleans; anything else is returned unchanged.
 * `"1"`, `"yes"` and `"on"` are not accepted, so a typo is reported rather than guessed.
 *
 * @example
 * verify: z.preprocess(coerceBoolean, z.boolean()).default(true)
 */
export function coerceBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  return value;
}
