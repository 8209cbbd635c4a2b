/**
 * A value as stored in one of the typed columns, like ThingsBoard's `ts_kv` rows: exactly one
 * of them is set.
 */
export interface TypedColumns {
  bool_v: number | null;
  long_v: number | null;
  dbl_v: number | null;
  str_v: string | null;
  json_v: string | null;
}

/**
 * Splits a value into ThingsBoard's typed columns: boolean, long (a safe integer), double,
 * string, or JSON for anything else (objects, arrays, null). A non-finite number becomes JSON
 * `null`, as `JSON.stringify` would send it.
 */
export function encodeValue(value: unknown): TypedColumns {
  const c: TypedColumns = { bool_v: null, long_v: null, dbl_v: null, str_v: null, json_v: null };
  if (typeof value === 'boolean') c.bool_v = value ? 1 : 0;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) c.long_v = value;
  else if (typeof value === 'number' && Number.isFinite(value)) c.dbl_v = value;
  else if (typeof value === 'string') c.str_v = value;
  else if (typeof value === 'bigint') c.str_v = value.toString();
  else c.json_v = JSON.stringify(value === undefined || typeof value === 'number' ? null : value) ?? 'null';
  return c;
}

/** The value of a row read back from the typed columns. */
export function decodeValue(row: TypedColumns): unknown {
  if (row.bool_v !== null) return row.bool_v !== 0;
  if (row.long_v !== null) return row.long_v;
  if (row.dbl_v !== null) return row.dbl_v;
  if (row.str_v !== null) return row.str_v;
  if (row.json_v !== null) return JSON.parse(row.json_v) as unknown;
  return null;
}

/** The ThingsBoard name of the column type a value is stored as. */
export function valueType(row: TypedColumns): 'BOOLEAN' | 'LONG' | 'DOUBLE' | 'STRING' | 'JSON' {
  if (row.bool_v !== null) return 'BOOLEAN';
  if (row.long_v !== null) return 'LONG';
  if (row.dbl_v !== null) return 'DOUBLE';
  if (row.str_v !== null) return 'STRING';
  return 'JSON';
}
