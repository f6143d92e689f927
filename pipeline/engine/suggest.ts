// "Did you mean": the closest known names to a mistyped one (edit distance, then substrings).

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = prev[j]!;
      prev[j] = next;
    }
  }
  return prev[b.length]!;
}

/** Up to `max` known names close to `wanted`: small edit distance first, then those containing it. */
export function closest(wanted: string, known: readonly string[], max = 5): string[] {
  const limit = Math.max(2, Math.ceil(wanted.length / 2));
  const scored = known
    // A prefix counts too: 'trian' is close to 'train-a1' and 'train-a2'.
    .map((k) => ({ k, d: Math.min(distance(wanted.toLowerCase(), k.toLowerCase()), distance(wanted.toLowerCase(), k.toLowerCase().slice(0, wanted.length)) + 1) }))
    .filter(({ k, d }) => d <= limit || k.includes(wanted) || (wanted.length >= 3 && wanted.includes(k)))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k));
  return scored.slice(0, max).map(({ k }) => k);
}

/** `; did you mean: a, b` or '' when nothing is close. */
export function didYouMean(wanted: string, known: readonly string[]): string {
  const c = closest(wanted, known);
  return c.length ? `; did you mean: ${c.join(', ')}?` : '';
}
