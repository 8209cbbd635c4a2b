/** Checks the MQTT rules for wildcards; a `$share/<group>/` prefix is allowed. */
export function isValidFilter(filter: string): boolean {
  const plain = stripShare(filter);
  if (plain === undefined || plain.length === 0) return false;
  const levels = plain.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/** `$share/group/a/b` → `a/b`; a filter without the prefix is returned as is; a bad prefix → undefined. */
export function stripShare(filter: string): string | undefined {
  if (!filter.startsWith('$share/')) return filter;
  const match = /^\$share\/([^/+#]+)\/(.+)$/.exec(filter);
  return match?.[2];
}

/**
 * Whether `topic` matches `filter` (without any `$share/` prefix), as a broker decides it:
 * `+` is one level, `#` the rest (including none), and wildcards at the start never match
 * topics beginning with `$` (MQTT §4.7.2).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
