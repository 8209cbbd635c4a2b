/**
 * Polls `condition` every `stepMs` until it holds; rejects naming `what` after `timeoutMs`.
 *
 * @example
 * await waitFor(() => kit.stored().length === 10, 'ten messages stored');
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/**
 * Polls `condition` every `stepMs` until it holds or `timeoutMs` passes, and says which; for tests
 * that assert on the answer (`expect(await eventually(...)).toBe(true)`) rather than throw.
 *
 * @example
 * expect(await eventually(() => h.stored.length === 1)).toBe(true);
 */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
