import { constantTimeEqual } from '@tbi/plugin-api';

/**
 * ThingsBoard's "headers filter": every configured header must be present with exactly the
 * configured value. Values are compared in constant time because they are often shared secrets
 * (an API key header). Names are expected lower-case.
 *
 * @example
 * const check = headersFilter({ 'x-api-key': 's3cret' });
 * check((name) => req.header(name)); // true or false
 */
export function headersFilter(required: Readonly<Record<string, string>>): (header: (name: string) => string | undefined) => boolean {
  const entries = Object.entries(required);
  return (header) => {
    // Check every entry even after a miss, so the time taken does not tell which header failed.
    let ok = true;
    for (const [name, expected] of entries) {
      const actual = header(name);
      if (!constantTimeEqual(actual ?? '', expected) || actual === undefined) ok = false;
    }
    return ok;
  };
}
