/** What replaces a secret in logs and dumps. */
export const REDACTED = '[redacted]';

/**
 * Values too short or too plain to mask without blanking unrelated text (a port such as 8080
 * would otherwise disappear from every URL in the logs). Everything else taken from the
 * environment is treated as a secret.
 */
function isMaskable(value: string): boolean {
  return value.length >= 4 && !/^\d{1,5}$/.test(value) && !/^(true|false)$/i.test(value);
}

/**
 * Builds a function that masks every given secret in a string, in its raw and its JSON-escaped
 * form (a log line is JSON). Longest first, so a secret that contains another is masked whole.
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets.filter(isMaskable)) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  if (forms.size === 0) return (text) => text;
  const escaped = [...forms].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(escaped.join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

/** A deep copy of a config tree with every secret masked, for `tbi validate --print` and the API. */
export function redactTree(tree: unknown, redact: (text: string) => string): unknown {
  if (typeof tree === 'string') return redact(tree);
  if (Array.isArray(tree)) return tree.map((v) => redactTree(v, redact));
  if (tree !== null && typeof tree === 'object') {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, redactTree(v, redact)]));
  }
  return tree;
}
