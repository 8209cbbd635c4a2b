/** Where the control token lives: this tab only, gone when it closes. */
const TOKEN_KEY = 'tbi.console.token';

/** An answer of the control API other than 2xx, with its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

let onUnauthorized: () => void = () => undefined;

/** What to do when the API answers 401 (the token is wrong or was changed): sign out. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

function messageOf(body: unknown, status: number): string {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  const detail = (body as { detail?: unknown; title?: unknown } | null)?.detail ?? (body as { title?: unknown } | null)?.title;
  return typeof detail === 'string' ? detail : `HTTP ${status}`;
}

/**
 * Calls the host's control API with the token: `api('/api/integrations')`,
 * `api('/api/dead-letters/replay', 'POST', { integration })`. Resolves with the JSON body (or
 * null for 204); rejects with an `ApiError` carrying the API's message.
 */
export async function api<T>(path: string, method = 'GET', body?: unknown, token = storedToken()): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, messageOf(json, response.status), json);
  return json as T;
}

/** `encodeURIComponent`, for names in paths. */
export const enc = encodeURIComponent;
