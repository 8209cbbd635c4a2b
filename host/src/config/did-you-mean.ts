/**
 * The allowed key a mistyped one most likely meant: a small edit distance, or one is the start
 * of the other ("logging" for "log"). Undefined when nothing is close.
 *
 * @example didYouMean('logging', ['log', 'http']) // 'log'
 */
export function didYouMean(key: string, allowed: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { key: string; score: number } | undefined;
  for (const candidate of allowed) {
    const other = candidate.toLowerCase();
    const distance = editDistance(lower, other);
    const shorter = Math.min(lower.length, other.length);
    const prefix = shorter >= 3 && (lower.startsWith(other) || other.startsWith(lower));
    const close = distance <= (Math.max(lower.length, other.length) <= 4 ? 1 : 2);
    if (!close && !prefix) continue;
    const score = prefix && !close ? 10 + distance : distance;
    if (best === undefined || score < best.score) best = { key: candidate, score };
  }
  return best?.key;
}

/** Damerau-Levenshtein distance (optimal string alignment): a swap of two letters counts once. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
